"""Faults under the real stack, each during a `journeys` run: PostgreSQL restarted while the link step runs,
then the publish task killed while it writes the new analytics file. Their own CI lane (`make test-faults`);
the scheduler's kill has another (tests/stack/test_fault_scheduler.py).

After each, the run completes (retrying what was killed), the analytics file was never half-written, and the
marts equal the no-fault in-process run's (the three days delivered at once, as here).
"""

from __future__ import annotations

import os
import signal

import pytest

from tests.stack.conftest import PendingReference, World, assert_same_marts
from tests.stack.faults import (
    deliver_all,
    first_asset_run,
    litter,
    tries,
    trigger_journeys,
    wait_run,
)

pytestmark = pytest.mark.stack


def test_postgres_restarted_mid_run(reference_batch: PendingReference, world: World) -> None:
    deliver_all(world)
    run_id = first_asset_run(world)
    world.stack.wait_for(lambda: world.task_state("journeys", run_id, "link_contacts") == "running", 240,
                         "link_contacts to be running")
    world.stack.postgres.restart()
    # compose restarts a service that exits (restart: always); so does revive(), on every look
    run = world.stack.wait_for(lambda: (world.stack.revive() or True) and wait_run(world, run_id, 5), 420,
                               "the journeys run to end after PostgreSQL restarted")
    assert run["state"] == "success", run
    assert_same_marts(world.analytics, reference_batch.wait().analytics)


def test_task_killed_mid_publish(reference_batch: PendingReference, world: World) -> None:
    reference = reference_batch.wait()
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
    assert_same_marts(world.analytics, reference.analytics)  # readers still see the whole old file
    run = wait_run(world, run_id)
    assert run["state"] == "success", run
    assert tries(world, run_id, "publish") >= 2
    assert world.analytics.stat().st_ino != before.st_ino  # the retry published a new file
    assert litter(folder) == []  # the killed write's litter was swept
    assert_same_marts(world.analytics, reference.analytics)
