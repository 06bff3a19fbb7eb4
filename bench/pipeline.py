"""End-to-end benchmark: a council year through the real DAGs (dag.test(), in one process), then one more day
as the incremental daily run. Prints wall time and peak memory (PSS of the process tree, sampled every 0.5 s)
per stage and per Airflow task.

    uv run python bench/pipeline.py                       # 500,000 citizens, 365 days (about 2.7M contacts)
    uv run python bench/pipeline.py --citizens 20000 --days 60 --work /tmp/jb-small
    uv run python bench/pipeline.py --day-only            # only the incremental day, on a copy of the saved year

The simulation is reused when --work already holds one with the same settings (it is not part of the pipeline).
After the year, its state is kept in --work as year-state/ so that --day-only can measure the daily run again.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.memory import TreeMemory  # noqa: E402


def add_year_arguments(ap: argparse.ArgumentParser) -> None:
    """The simulated year's settings and the work folder, shared with bench/scale_out.py (which reuses the year)."""
    ap.add_argument("--citizens", type=int, default=500_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--start", default="2025-01-01")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--work", type=Path, default=Path("/tmp/joinedup-bench"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_year_arguments(ap)
    ap.add_argument("--day-only", action="store_true", help="skip the year: start from the saved year-state/")
    args = ap.parse_args()

    work = args.work.resolve()
    sim, run_dir = work / "sim", work / "run"
    settings = {"citizens": args.citizens, "days": args.days, "start": args.start, "seed": args.seed}
    os.environ.setdefault("JOINEDUP_PSEUDONYM_KEY", "benchmark-key-not-a-secret-0123456789")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

    from joinedup.inprocess import TASK_SPANS, PipelinePaths, prepare_airflow, run_pipeline

    prepare_airflow(run_dir / "airflow")
    windows: list[tuple[str, float, float]] = []  # (name, start, end): peaks are read once sampling stopped

    first = date.fromisoformat(args.start)
    last = first + timedelta(days=args.days - 1)
    marker = sim / "bench-settings.json"
    totals = {}
    with TreeMemory(every=0.5, pss_every=0.5) as mem:
        if not marker.exists() or json.loads(marker.read_text()) != settings:
            from joinedup.simulate.run import simulate

            t0 = time.time()
            simulate(sim, args.citizens, args.days, first, args.seed)
            marker.write_text(json.dumps(settings))
            windows.append(("simulate (not part of the pipeline)", t0, time.time()))

        shutil.rmtree(run_dir, ignore_errors=True)
        saved = work / "year-state"
        stages = [("year", first, last - timedelta(days=1)), ("incremental day", last, last)]
        if args.day_only:
            if not saved.exists():
                sys.exit(f"--day-only needs {saved}: run the year first")
            shutil.copytree(saved, run_dir, symlinks=True)
            stages = stages[1:]
        paths = PipelinePaths.under(run_dir, sim / "exports", sim / "register" / "citizens.csv")
        for label, d0, d1 in stages:
            n_spans = len(TASK_SPANS)
            t0 = time.time()
            result = run_pipeline(paths, d0, d1, init_db=(label == "year"))
            totals[label] = time.time() - t0
            if label == "year":
                shutil.rmtree(saved, ignore_errors=True)
                shutil.copytree(run_dir, saved, symlinks=True)
            clock = t0
            for stage in result.timings:
                windows.append((f"{label}: {stage.stage}", clock, clock + stage.seconds))
                clock += stage.seconds
            spans = [s for s in TASK_SPANS[n_spans:] if s.dag_id == "journeys" and s.start and s.end]
            windows += [(f"{label}:   journeys.{s.task_id}", s.start.timestamp(), s.end.timestamp())
                        for s in spans if not s.task_id.startswith("dbt_build.")]
            dbt = [s for s in spans if s.task_id.startswith("dbt_build.")]
            if dbt:
                windows.append((f"{label}:   journeys.dbt_build ({len(dbt)} cosmos tasks)",
                                min(s.start for s in dbt).timestamp(), max(s.end for s in dbt).timestamp()))
                for kind, test in (("producer (dbt build)", lambda t: t.endswith("_watcher")),
                                   ("model sensors", lambda t: not t.endswith(("_watcher", ".test"))),
                                   ("test sensors", lambda t: t.endswith(".test"))):
                    part = [s for s in dbt if test(s.task_id)]
                    busy = sum((s.end - s.start).total_seconds() for s in part)
                    if part:  # serial under dag.test: their summed time, shown as one window
                        first = min(s.start for s in part).timestamp()
                        windows.append((f"{label}:     {kind}, {len(part)} task(s)", first, first + busy))
    rows = [(name, t1 - t0, mem.peak("pss", t0, t1) / 2**20) for name, t0, t1 in windows]

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
    print(f"peak PSS overall: {mem.peak('pss') / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
