"""The pipeline under a real Airflow 3.3 stack (api-server, scheduler with the LocalExecutor, dag-processor,
triggerer, PostgreSQL), fed one day at a time as the channels would deliver: three days on schedule, compared
with the in-process run fed the same way. A CI lane of its own (`make test-stack`); the late channel, the
re-delivered day and the faults each have theirs (tests/stack/test_late_and_redelivered.py, test_fault_*.py).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from joinedup.channels import load_channels
from tests.stack.conftest import (
    MAIN_DAYS,
    PendingReference,
    World,
    assert_same_marts,
    contacts_by_channel,
    raw_by_channel,
)

pytestmark = pytest.mark.stack



class PoolWatch:
    """Samples the `duckdb` pool's occupancy (running task instances) every half second, in a thread."""

    def __init__(self, world: World) -> None:
        self.world, self.peak, self.samples = world, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                (n,), = self.world.stack.sql(
                    "select count(*) from task_instance where pool = 'duckdb' and state = 'running'")
            except Exception:  # noqa: BLE001 - PostgreSQL may be restarting in a fault test
                continue
            self.peak, self.samples = max(self.peak, n), self.samples + 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def overlapping_pool_tasks(world: World) -> list[tuple[Any, ...]]:
    """Pairs of `duckdb`-pool task instances whose [start, end] overlap: a second writer on the file. (None of
    them defers: the per-model tasks start after the build they report on, and find its result at once.)"""
    return world.stack.sql("""
        select a.dag_id, a.task_id, a.run_id, b.dag_id, b.task_id, b.run_id
        from task_instance a join task_instance b
          on a.pool = 'duckdb' and b.pool = 'duckdb' and a.id < b.id
         and a.start_date < b.end_date and b.start_date < a.end_date""")


def journeys_task_seconds(world: World) -> dict[str, float]:
    """Wall seconds per journeys task, summed over its runs (the per-model cosmos tasks summed as one)."""
    rows = world.stack.sql("select task_id, sum(extract(epoch from end_date - start_date)) "
                           "from task_instance where dag_id = 'journeys' and end_date is not null group by 1")
    out: dict[str, float] = {}
    for task_id, seconds in rows:
        per_model = task_id.startswith("dbt_build.") and task_id.endswith(("_run", "_seed"))
        key = "dbt_build.(per-model tasks)" if per_model else task_id
        out[key] = round(out.get(key, 0.0) + float(seconds or 0), 1)
    return out


def test_three_days_on_schedule_equal_the_in_process_run(reference_daily: PendingReference, world: World) -> None:
    channels = list(load_channels(Path(world.env["JOINEDUP_CHANNELS"])))
    watch = PoolWatch(world)
    per_day: dict[str, float] = {}
    try:
        for i in range(MAIN_DAYS):
            day = world.day(i)
            before = len(world.runs("journeys"))
            t0 = time.perf_counter()
            world.drop(day)
            world.wait_ingested(day, channels)
            runs = world.wait_journeys_idle(before)
            per_day[day.isoformat()] = time.perf_counter() - t0
            assert all(r["state"] == "success" for r in runs), runs
            full = world.full_runs(runs)
            # started by the channels' Asset events, and built once for the day, not once per channel
            assert full and all(r["run_type"] == "asset_triggered" for r in full), runs
            assert len(full) <= 2, f"{len(full)} full journeys runs for one day: {runs}"
            assert contacts_by_channel(world.analytics) == raw_by_channel(world.lake)  # everything landed so far
    finally:
        watch.stop()

    for name in channels:
        for i in range(MAIN_DAYS):
            run = world.ingest_run(name, world.day(i))
            assert run is not None and run["state"] == "success", (name, world.day(i), run)
            assert run["run_type"] == "scheduled"  # catch-up of the schedule, not a manual trigger
    assert watch.samples > 50 and watch.peak == 1, (watch.samples, watch.peak)
    assert overlapping_pool_tasks(world) == []

    reference = reference_daily.wait()  # ran in its own process while the stack started and ingested
    assert_same_marts(world.analytics, reference.analytics)

    timings = {"stack_seconds_per_day": per_day, "in_process_seconds": reference.seconds,
               "journeys_task_seconds": journeys_task_seconds(world)}
    (world.root / "timings.json").write_text(json.dumps(timings, indent=2))
    print("\nscheduler overhead:", json.dumps(timings))
