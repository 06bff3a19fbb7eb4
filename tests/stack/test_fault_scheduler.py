"""Fault: the scheduler killed with SIGKILL (with its LocalExecutor's workers and their task processes) while the
first `journeys` run builds the marts, then started again. Its own CI lane (`make test-faults-scheduler`).

The run must complete: the killed `dbt build` is noticed (its heartbeat stops), retried, and cosmos's retry
path builds each model from its own task. Nothing is published before that, and the marts equal the no-fault
in-process run's.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.stack.conftest import PendingReference, World, assert_same_marts
from tests.stack.faults import deliver_all, first_asset_run, litter, tries, wait_run

pytestmark = pytest.mark.stack

PRODUCER = "dbt_build.dbt_producer_watcher"


def test_scheduler_killed_during_journeys(reference_batch: PendingReference, world: World) -> None:
    deliver_all(world)
    run_id = first_asset_run(world)
    world.stack.wait_for(lambda: world.task_state("journeys", run_id, PRODUCER) == "running", 240,
                         "dbt build to be running")
    time.sleep(3)  # well inside the build
    world.stack.kill("scheduler", signal.SIGKILL)
    time.sleep(5)
    assert not world.analytics.exists()  # nothing published, nothing half-written in its place
    world.stack.start_service("scheduler")
    run = wait_run(world, run_id, timeout=480)
    assert run["state"] == "success", run
    assert tries(world, run_id, PRODUCER) >= 2  # the killed build was noticed and retried
    assert litter(world.analytics.parent) == []
    assert_same_marts(world.analytics, reference_batch.wait().analytics)
