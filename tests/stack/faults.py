"""What the fault tests (tests/stack/test_fault_*.py) share: deliver the three days at once, find and wait for a
`journeys` run, and read a task instance's state and tries from the metadata DB."""

from __future__ import annotations

import os
from pathlib import Path

from joinedup.channels import load_channels
from tests.stack.conftest import MAIN_DAYS, World


def deliver_all(world: World) -> None:
    """The three days at once: the stack links them in one batch, as the in-process reference does."""
    channels = list(load_channels(Path(world.env["JOINEDUP_CHANNELS"])))
    for i in range(MAIN_DAYS):
        world.drop(world.day(i))
    for i in range(MAIN_DAYS):
        world.wait_ingested(world.day(i), channels)


def first_asset_run(world: World, after: int = 0) -> str:
    """The first Asset-triggered journeys run after run #`after` (the deliveries start it)."""
    return world.stack.wait_for(
        lambda: next((r["run_id"] for r in world.runs("journeys")[after:] if r["run_type"] == "asset_triggered"),
                     None), 240, "an Asset-triggered journeys run")


def trigger_journeys(world: World) -> str:
    """A manual run (always builds, whatever check_inputs would say); its run id."""
    before = {r["run_id"] for r in world.runs("journeys")}
    world.stack.airflow("dags", "trigger", "journeys")
    return world.stack.wait_for(
        lambda: next((r["run_id"] for r in world.runs("journeys") if r["run_id"] not in before), None), 60,
        "the triggered journeys run to appear")


def wait_run(world: World, run_id: str, timeout: float = 420) -> dict:
    def ended() -> dict | None:
        run = next(r for r in world.runs("journeys") if r["run_id"] == run_id)
        return run if run["state"] in ("success", "failed") else None
    return world.stack.wait_for(ended, timeout, f"journeys run {run_id} to end")


def tries(world: World, run_id: str, task_id: str) -> int:
    (n,), = world.stack.sql("select try_number from task_instance where dag_id = 'journeys' and run_id = %s "
                            "and task_id = %s", (run_id, task_id))
    return int(n)


def litter(folder: Path) -> list[str]:
    """Temporary files a killed write could leave beside the analytics file."""
    return sorted(e.name for e in os.scandir(folder) if e.name.endswith(".tmp"))
