"""Faults under the real stack, each during a full `journeys` run (a manual trigger always rebuilds): the
scheduler killed with SIGKILL and restarted, the publish task killed while it writes the new analytics file,
PostgreSQL restarted. After each, the run completes (retrying what was killed), the analytics file was never
half-written, and the marts equal the no-fault in-process run's.

The three simulated days are delivered at once, so the stack links them in one batch as the in-process run
does; the first test checks that baseline before any fault.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from joinedup.channels import load_channels
from tests.stack.conftest import MAIN_DAYS, Reference, World, assert_same_marts

pytestmark = pytest.mark.stack


def trigger_journeys(world: World) -> str:
    before = {r["run_id"] for r in world.runs("journeys")}
    world.stack.airflow("dags", "trigger", "journeys")
    return world.stack.wait_for(
        lambda: next((r["run_id"] for r in world.runs("journeys") if r["run_id"] not in before), None), 60,
        "the triggered journeys run to appear")


def task_state(world: World, run_id: str, task_id: str) -> str | None:
    rows = world.stack.sql("select state from task_instance where dag_id = 'journeys' and run_id = %s "
                           "and task_id = %s", (run_id, task_id))
    return rows[0][0] if rows else None


def wait_run(world: World, run_id: str, timeout: float = 420) -> dict:
    def ended() -> dict | None:
        run = next(r for r in world.runs("journeys") if r["run_id"] == run_id)
        return run if run["state"] in ("success", "failed") else None
    return world.stack.wait_for(ended, timeout, f"journeys run {run_id} to end")


def tries(world: World, run_id: str, task_id: str) -> int:
    (n,), = world.stack.sql("select try_number from task_instance where dag_id = 'journeys' and run_id = %s "
                            "and task_id = %s", (run_id, task_id))
    return int(n)


def test_baseline_equals_the_in_process_run(reference_batch: Reference, world: World) -> None:
    channels = list(load_channels(Path(world.env["JOINEDUP_CHANNELS"])))
    for i in range(MAIN_DAYS):
        world.drop(world.day(i))
    for i in range(MAIN_DAYS):
        world.wait_ingested(world.day(i), channels)
    runs = world.wait_journeys_idle(0, timeout=420)
    assert all(r["state"] == "success" for r in runs) and world.full_runs(runs), runs
    assert_same_marts(world.analytics, reference_batch.analytics)


def test_scheduler_killed_during_journeys(reference_batch: Reference, world: World) -> None:
    published = world.analytics.stat()
    run_id = trigger_journeys(world)
    world.stack.wait_for(lambda: task_state(world, run_id, "dbt_build.dbt_producer_watcher") == "running", 240,
                         "dbt build to be running")
    world.stack.kill("scheduler", signal.SIGKILL)  # with its executor's workers and their task processes
    time.sleep(5)
    assert world.analytics.stat().st_mtime_ns == published.st_mtime_ns  # the old file, untouched
    assert_same_marts(world.analytics, reference_batch.analytics)
    world.stack.start_service("scheduler")
    run = wait_run(world, run_id)
    assert run["state"] == "success", run
    assert tries(world, run_id, "dbt_build.dbt_producer_watcher") >= 2  # the killed build was retried
    assert_same_marts(world.analytics, reference_batch.analytics)


def test_task_killed_mid_publish(reference_batch: Reference, world: World) -> None:
    before = world.analytics.stat()
    run_id = trigger_journeys(world)
    folder, prefix = world.analytics.parent, f".{world.analytics.name}."

    def writing() -> int | None:  # the publish task's temporary file names its pid
        for entry in os.scandir(folder):
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                return int(entry.name.removeprefix(prefix).removesuffix(".tmp"))
        return None
    pid = world.stack.wait_for(writing, 300, "publish to start writing", every=0.01)
    os.kill(pid, signal.SIGKILL)
    after_kill = world.analytics.stat()
    assert (after_kill.st_ino, after_kill.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert_same_marts(world.analytics, reference_batch.analytics)  # readers still see the whole old file
    run = wait_run(world, run_id)
    assert run["state"] == "success", run
    assert tries(world, run_id, "publish") >= 2
    assert world.analytics.stat().st_ino != before.st_ino  # the retry published a new file
    assert [p.name for p in folder.glob(f"{prefix}*")] == []  # the killed write's litter was swept
    assert_same_marts(world.analytics, reference_batch.analytics)


def test_postgres_restarted_mid_run(reference_batch: Reference, world: World) -> None:
    run_id = trigger_journeys(world)
    world.stack.wait_for(lambda: task_state(world, run_id, "link_contacts") == "running", 240,
                         "link_contacts to be running")
    world.stack.postgres.restart()
    time.sleep(3)
    world.stack.revive()  # compose restarts a service that exits (restart: always); so does this
    run = world.stack.wait_for(lambda: (world.stack.revive() or True) and wait_run(world, run_id, 5), 420,
                               "the journeys run to end after PostgreSQL restarted")
    assert run["state"] == "success", run
    assert_same_marts(world.analytics, reference_batch.analytics)
