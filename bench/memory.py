"""Peak memory of a benchmark's process tree, sampled from a separate process.

A sampler thread inside the benchmark would be a second Python thread, and the linker (rightly) refuses to fork
its workers while another thread is alive, so a thread would have measured a slower, single-process run. The
sampler runs as `python bench/memory.py PID OUT EVERY PSS_EVERY` instead, and appends one line per sample:
time, summed RSS, summed PSS (or -1 on ticks that skip the costly /proc/*/smaps read) and the largest RSS.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import psutil


@dataclass(frozen=True)
class Sample:
    t: float
    rss: int  # summed over the tree: shared copy-on-write pages counted once per process
    pss: int | None  # summed proportional set size: shared pages split, the machine's real footprint
    largest_rss: int


class TreeMemory:
    """`with TreeMemory() as mem: ...`, then `mem.peak("pss")` or `mem.peak("rss", t0, t1)` (bytes).

    pid: the root of the tree to sample (default this process); a benchmark that runs each engine in its own
    subprocess passes the child's pid, so that engine's peak is its own and not the parent's too."""

    def __init__(self, every: float = 0.1, pss_every: float = 1.0, pid: int | None = None) -> None:
        self.every, self.pss_every = every, pss_every
        self.pid = pid if pid is not None else psutil.Process().pid
        self.samples: list[Sample] = []

    def __enter__(self) -> Self:
        self._out = Path(tempfile.mkstemp(prefix="joinedup-memory-", suffix=".tsv")[1])
        self._proc = subprocess.Popen([sys.executable, __file__, str(self.pid), str(self._out),
                                       str(self.every), str(self.pss_every)])
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(self.pss_every)  # one more full sample of the end state
        self._proc.terminate()
        self._proc.wait()
        for line in self._out.read_text().splitlines():
            t, rss, pss, largest = line.split("\t")
            self.samples.append(Sample(float(t), int(rss), None if pss == "-1" else int(pss), int(largest)))
        self._out.unlink()

    def peak(self, kind: str = "pss", t0: float | None = None, t1: float | None = None) -> int:
        t0, t1 = t0 or 0.0, (t1 or float("inf")) + self.pss_every
        values = [getattr(s, kind) for s in self.samples if t0 <= s.t <= t1 and getattr(s, kind) is not None]
        return max(values, default=0)


def _alive(p: psutil.Process) -> bool:
    """Running and not a zombie: a child that has exited stays a zombie until its parent reaps it."""
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _sample(pid: int, out: Path, every: float, pss_every: float) -> None:
    root, me = psutil.Process(pid), psutil.Process().pid
    last_pss = 0.0
    with out.open("a") as f:
        while _alive(root):
            full = time.time() - last_pss >= pss_every
            rss = pss = largest = 0
            for p in [root, *root.children(recursive=True)]:
                if p.pid == me:
                    continue
                try:
                    if full:
                        info = p.memory_full_info()
                        pss += getattr(info, "pss", info.rss)
                    else:
                        info = p.memory_info()
                    rss += info.rss
                    largest = max(largest, info.rss)
                except psutil.Error:
                    pass
            if full:
                last_pss = time.time()
            f.write(f"{time.time()}\t{rss}\t{pss if full else -1}\t{largest}\n")
            f.flush()
            time.sleep(every)


if __name__ == "__main__":
    _sample(int(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
