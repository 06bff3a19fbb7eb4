"""The in-process run the stack is compared with, as a process of its own so that it runs while the stack
starts and takes its first deliveries (the stack's time is mostly scheduler latency, not CPU).

    python -m tests.stack.reference SIM CONFIG FIRST_DAY WORK BATCHES_JSON OUT_JSON

runs `run_pipeline` (dag.test, one process) over the simulation's days, one call per batch of day indexes
[first, last], on one lake and identity store, with the stack tests' key, and writes the analytics path and
stage seconds to OUT_JSON.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path

from tests.conftest import PIPELINE_KEY


def run_reference(sim: Path, config: Path, first_day: date, work: Path, batches: list[tuple[int, int]]) -> dict:
    from joinedup.inprocess import PipelinePaths, run_pipeline

    paths = PipelinePaths.under(work, sim / "exports", sim / "register" / "citizens.csv")
    os.environ.update({"JOINEDUP_PSEUDONYM_KEY": PIPELINE_KEY, "JOINEDUP_CHANNELS": str(config)})
    seconds: dict[str, float] = {}
    for n, (first, last) in enumerate(batches):
        run = run_pipeline(paths, first_day + timedelta(days=first), first_day + timedelta(days=last),
                           init_db=n == 0)
        for t in run.timings:
            seconds[t.stage] = seconds.get(t.stage, 0.0) + t.seconds
    return {"analytics": str(paths.analytics), "seconds": seconds}


def main(argv: list[str]) -> int:
    sim, config, first_day, work, batches, out = argv
    result = run_reference(Path(sim), Path(config), date.fromisoformat(first_day), Path(work),
                           [tuple(b) for b in json.loads(batches)])
    Path(out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
