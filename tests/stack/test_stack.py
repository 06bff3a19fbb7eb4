"""The pipeline under a real Airflow 3.3 stack (api-server, scheduler with the LocalExecutor, dag-processor,
triggerer, PostgreSQL), fed one day at a time as the channels would deliver. The tests run in file order on one
stack: three days on schedule (compared with the in-process run), a fourth day with one channel late, then a
re-delivered day.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from joinedup.channels import load_channels
from tests.stack.conftest import MAIN_DAYS, Reference, World, assert_same_marts

pytestmark = pytest.mark.stack

LATE = "web_form"  # the channel whose fourth day arrives after the others have published
REDELIVERED = "phone"


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
    """Pairs of non-deferring duckdb-pool tasks whose [start, end] overlap: a second writer on the file."""
    return world.stack.sql("""
        select a.dag_id, a.task_id, a.run_id, b.dag_id, b.task_id, b.run_id
        from task_instance a join task_instance b
          on a.pool = 'duckdb' and b.pool = 'duckdb' and a.id < b.id
         and a.start_date < b.end_date and b.start_date < a.end_date
        where a.task_id like any (array['quality_gate', 'publish',
              'dbt_docs', 'dbt_build.dbt_producer_watcher', 'remove_expired'])
          and b.task_id like any (array['quality_gate', 'publish', 'dbt_docs', 'dbt_build.dbt_producer_watcher',
              'remove_expired'])""")


def contacts_by_channel(analytics: Path) -> dict[str, int]:
    with duckdb.connect(str(analytics), read_only=True) as con:
        return dict(con.execute("select channel, count(*) from fct_contacts group by 1").fetchall())


def raw_by_channel(lake: Path) -> dict[str, int]:
    """Contacts landed per channel (channels with none yet left out, as fct_contacts leaves them out)."""
    with duckdb.connect() as con:
        got = dict(con.execute(f"select channel, count(*) from read_parquet('{lake}/raw/*/*/*.parquet', "
                               "union_by_name = true) group by 1").fetchall())
    return {k: v for k, v in got.items() if v}


def last_analytics_event(world: World) -> dict[str, Any]:
    (extra,), = world.stack.sql("""
        select e.extra from asset_event e join asset a on a.id = e.asset_id
        where a.uri = 'joinedup://published/analytics' order by e.id desc limit 1""")
    return extra if isinstance(extra, dict) else json.loads(extra)


def test_three_days_on_schedule_equal_the_in_process_run(reference_daily: Reference, world: World) -> None:
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

    assert_same_marts(world.analytics, reference_daily.analytics)

    timings = {"stack_seconds_per_day": per_day, "in_process_seconds": reference_daily.seconds}
    (world.root / "timings.json").write_text(json.dumps(timings, indent=2))
    print("\nscheduler overhead:", json.dumps(timings))


def test_a_late_channel_does_not_hold_the_others_back(world: World) -> None:
    channels = list(load_channels(Path(world.env["JOINEDUP_CHANNELS"])))
    day = world.day(MAIN_DAYS)
    others = [c for c in channels if c != LATE]
    before = len(world.runs("journeys"))
    world.drop(day, others)
    world.wait_ingested(day, others)
    runs = world.wait_journeys_idle(before)
    assert world.full_runs(runs), runs
    # published on time: the other channels' day is in the analytics file while the late one is still awaited
    assert (world.ingest_run(LATE, day) or {}).get("state") == "running"
    assert not (world.lake / "raw" / LATE / f"date={day}").exists()
    on_time = contacts_by_channel(world.analytics)
    assert on_time == raw_by_channel(world.lake)
    fresh = last_analytics_event(world)["last_landed_day"]
    assert fresh[LATE] == world.day(MAIN_DAYS - 1).isoformat()
    assert all(fresh[c] == day.isoformat() for c in others), fresh

    before = len(world.runs("journeys"))
    world.drop(day, [LATE])
    world.wait_ingested(day, [LATE])
    runs = world.wait_journeys_idle(before)
    assert world.full_runs(runs) and all(r["run_type"] == "asset_triggered" for r in world.full_runs(runs))
    folded = contacts_by_channel(world.analytics)
    assert folded[LATE] > on_time.get(LATE, 0) and folded == raw_by_channel(world.lake)
    assert last_analytics_event(world)["last_landed_day"][LATE] == day.isoformat()


def test_a_redelivered_day_triggers_journeys(world: World) -> None:
    day = world.day(1)
    folder = world.exports / REDELIVERED / day.isoformat()
    (export,) = sorted(folder.glob("*.csv"))
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) > 2
    export.write_text("".join(lines[:-1]), encoding="utf-8")  # the corrected delivery has one contact fewer
    had = contacts_by_channel(world.analytics)[REDELIVERED]

    before = len(world.runs("journeys"))
    world.stack.airflow("dags", "trigger", f"ingest_{REDELIVERED}", "-c", json.dumps({"day": day.isoformat()}))
    world.stack.wait_for(lambda: world.runs(f"ingest_{REDELIVERED}")[-1]["state"] == "success", 180,
                         "the re-delivery's ingest run")
    runs = world.wait_journeys_idle(before)
    full = world.full_runs(runs)
    assert full and all(r["run_type"] == "asset_triggered" for r in full), runs
    assert contacts_by_channel(world.analytics)[REDELIVERED] == had - 1
