"""End-to-end benchmark: a council year through the real DAGs (dag.test(), in one process), then one more day
as the incremental daily run. Prints wall time and peak memory (PSS of the process tree, sampled every 0.5 s)
per stage and per Airflow task.

    uv run python bench/pipeline.py                       # 500,000 citizens, 365 days (about 2.7M contacts)
    uv run python bench/pipeline.py --citizens 20000 --days 60 --work /tmp/jb-small

The simulation is reused when --work already holds one with the same settings (it is not part of the pipeline).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class MemorySampler(threading.Thread):
    """Peak memory of this process and its children between two instants, as PSS (proportional set size):
    pages the linker's forked workers share copy-on-write are counted once, not once per process as a sum of
    RSS would (which overstated a council year by several GB)."""

    def __init__(self, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self.every, self.stop = every, threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self.stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_full_info().pss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            self.samples.append((time.time(), total / 2**20))
            time.sleep(self.every)

    def peak(self, t0: float, t1: float) -> float:
        return max((m for t, m in self.samples if t0 <= t <= t1 + self.every), default=float("nan"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--citizens", type=int, default=500_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--start", default="2025-01-01")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--work", type=Path, default=Path("/tmp/joinedup-bench"))
    args = ap.parse_args()

    work = args.work.resolve()
    sim, run_dir = work / "sim", work / "run"
    settings = {"citizens": args.citizens, "days": args.days, "start": args.start, "seed": args.seed}
    os.environ.setdefault("JOINEDUP_PSEUDONYM_KEY", "benchmark-key-not-a-secret-0123456789")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

    from joinedup.inprocess import TASK_SPANS, PipelinePaths, prepare_airflow, run_pipeline

    prepare_airflow(run_dir / "airflow")
    sampler = MemorySampler()
    sampler.start()
    rows: list[tuple[str, float, float]] = []

    first = date.fromisoformat(args.start)
    last = first + timedelta(days=args.days - 1)
    marker = sim / "bench-settings.json"
    if not marker.exists() or json.loads(marker.read_text()) != settings:
        from joinedup.simulate.run import simulate

        t0 = time.time()
        simulate(sim, args.citizens, args.days, first, args.seed)
        marker.write_text(json.dumps(settings))
        rows.append(("simulate (not part of the pipeline)", time.time() - t0, sampler.peak(t0, time.time())))

    import shutil

    shutil.rmtree(run_dir, ignore_errors=True)
    paths = PipelinePaths.under(run_dir, sim / "exports", sim / "register" / "citizens.csv")
    phases = [("year", first, last - timedelta(days=1)), ("incremental day", last, last)]
    totals = {}
    for label, d0, d1 in phases:
        n_spans = len(TASK_SPANS)
        t0 = time.time()
        result = run_pipeline(paths, d0, d1, init_db=(label == "year"))
        totals[label] = time.time() - t0
        clock = t0
        for stage in result.timings:
            rows.append((f"{label}: {stage.stage}", stage.seconds, sampler.peak(clock, clock + stage.seconds)))
            clock += stage.seconds
        for span in TASK_SPANS[n_spans:]:
            if span.dag_id == "journeys" and span.start and span.end and not span.task_id.startswith("dbt_build."):
                s0, s1 = span.start.timestamp(), span.end.timestamp()
                rows.append((f"{label}:   journeys.{span.task_id}", s1 - s0, sampler.peak(s0, s1)))
        dbt = [s for s in TASK_SPANS[n_spans:] if s.task_id.startswith("dbt_build.") and s.start and s.end]
        if dbt:
            s0, s1 = min(s.start for s in dbt).timestamp(), max(s.end for s in dbt).timestamp()
            rows.append((f"{label}:   journeys.dbt_build ({len(dbt)} cosmos tasks)", s1 - s0, sampler.peak(s0, s1)))
    sampler.stop.set()

    import duckdb

    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        contacts, = con.execute("select count(*) from fct_contacts").fetchone()
        persons, = con.execute("select count(*) from dim_persons").fetchone()
    print(f"\n{args.citizens:,} citizens, {args.days} days: {contacts:,} contacts, {persons:,} persons, "
          f"{os.cpu_count()} CPUs")
    print(f"{'stage':60} {'seconds':>9} {'peak PSS MB':>12}")
    for name, secs, peak in rows:
        print(f"{name:60} {secs:9.1f} {peak:12.0f}")
    for label, secs in totals.items():
        print(f"total {label}: {secs:.0f} s")
    print(f"peak PSS overall: {max(m for _, m in sampler.samples):.0f} MB")


if __name__ == "__main__":
    main()
