"""Speed and memory beside Splink: joinedup and Splink 5 (DuckDB backend) on the same data, in one run.

    uv run --group bench python bench/linkage_speed.py                 # 100,000 citizens x 60,000 contacts
    uv run --group bench python bench/linkage_speed.py --large         # 1,000,000 citizens x 600,000 contacts
    uv run --group bench python bench/linkage_speed.py --engines joinedup   # one engine only

The data is synthetic UK person data (linkage.eval.synthetic), written to Parquet first. Each engine then
runs in its own subprocess, one after the other (never both at once: timings on two cores are noisy enough),
reading the Parquet files and writing its links: joinedup through its documented contract (`joinedup link
--register --contacts --out`), Splink through linkage.eval.splink_runner (our standardised columns, configured
as its tutorials advise). Each engine's wall time is its whole subprocess, imports included, and its peak
memory is the summed RSS of that subprocess's tree (bench.memory.TreeMemory rooted at it), so forked workers
count. Printed: wall time, peak RSS, F1 against the generator's truth, and joinedup / Splink ratios.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.memory import TreeMemory  # noqa: E402


@dataclass(frozen=True)
class EngineRun:
    engine: str
    wall: float  # seconds, the whole subprocess
    peak_rss: int  # bytes, summed over the subprocess's tree
    peak_pss: int  # bytes, shared pages split
    p: float
    r: float
    f1: float


def _engine_command(engine: str, reg: Path, con: Path, out: Path) -> list[str]:
    if engine == "joinedup":
        return [sys.executable, "-m", "joinedup.cli", "link", "--register", str(reg), "--contacts", str(con),
                "--out", str(out)]
    return [sys.executable, __file__, "--run-splink", str(reg), str(con), str(out)]


def run_engine(engine: str, reg: Path, con: Path, out: Path, truth) -> EngineRun:
    """One engine in its own subprocess, sampled from outside; scored against truth afterwards."""
    from linkage.eval.evaluate import score_links
    from linkage.io import read_table

    t0 = time.perf_counter()
    proc = subprocess.Popen(_engine_command(engine, reg, con, out))
    with TreeMemory(pid=proc.pid) as mem:
        rc = proc.wait()
        wall = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"{engine} failed with exit code {rc}")
    s = score_links(read_table(out), truth)
    return EngineRun(engine, wall, mem.peak("rss"), mem.peak("pss"), s.precision, s.recall, s.f1)


def _splink_main(reg: Path, con: Path, out: Path) -> None:
    from linkage.eval.splink_runner import splink_link
    from linkage.io import read_table, write_table

    write_table(splink_link(read_table(reg), read_table(con)), out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--citizens", type=int, default=100_000)
    ap.add_argument("--contacts", type=int, default=60_000)
    ap.add_argument("--large", action="store_true", help="1,000,000 citizens x 600,000 contacts")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--engines", default="joinedup,splink")
    ap.add_argument("--run-splink", nargs=3, type=Path, metavar=("REG", "CON", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_splink:
        _splink_main(*args.run_splink)
        return
    if args.large:
        args.citizens, args.contacts = 1_000_000, 600_000

    from linkage.eval.synthetic import make_contacts, make_register
    from linkage.io import write_table

    with tempfile.TemporaryDirectory(prefix="linkspeed-") as tmp:
        t = time.perf_counter()
        reg = make_register(args.citizens, seed=args.seed)
        con, truth = make_contacts(reg, args.contacts, seed=args.seed + 1)
        reg_path, con_path = Path(tmp, "register.parquet"), Path(tmp, "contacts.parquet")
        write_table(reg.drop(columns=["_handle"]), reg_path)
        write_table(con, con_path)
        del reg, con
        print(f"generated {args.citizens:,} citizens x {args.contacts:,} contacts in {time.perf_counter() - t:.1f}s",
              flush=True)
        runs = []
        for engine in args.engines.split(","):
            run = run_engine(engine, reg_path, con_path, Path(tmp, f"{engine}.parquet"), truth)
            runs.append(run)
            print(f"{engine:<9} wall {run.wall:7.1f} s   peak RSS {run.peak_rss / 2**30:6.2f} GiB "
                  f"(PSS {run.peak_pss / 2**30:5.2f})   P {run.p:.4f} R {run.r:.4f} F1 {run.f1:.4f}", flush=True)
        by = {r.engine: r for r in runs}
        if "joinedup" in by and "splink" in by:
            j, s = by["joinedup"], by["splink"]
            print(f"joinedup / splink: time {j.wall / s.wall:.2f}x, peak RSS {j.peak_rss / s.peak_rss:.2f}x, "
                  f"F1 {j.f1:.4f} vs {s.f1:.4f}")


if __name__ == "__main__":
    main()
