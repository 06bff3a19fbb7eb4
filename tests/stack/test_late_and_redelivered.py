"""Under the real stack (tests/stack/conftest.py): one channel's day arrives after the others have published,
then a day is re-delivered. Its own CI lane (`make test-stack-late`), on a stack of its own.

- The first day lands for every channel but one: `journeys` publishes the seven that arrived (any channel's
  Asset starts it; it never waits on the AND of all eight), and the late channel's ingest run waits in the
  triggerer. When the late folder lands, that run ingests it and its Asset event starts `journeys` again,
  which folds the day in.
- A corrected file is re-delivered for a day already published and its ingest DAG re-run for that day (as
  the runbook says): the channel's Asset event starts `journeys`, and the analytics file has the correction.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from joinedup.channels import load_channels
from tests.stack.conftest import World, contacts_by_channel, last_analytics_event, raw_by_channel

pytestmark = pytest.mark.stack

LATE = "web_form"  # the channel whose day arrives after the others have published
REDELIVERED = "phone"


def test_a_late_channel_does_not_hold_the_others_back(world: World) -> None:
    channels = list(load_channels(Path(world.env["JOINEDUP_CHANNELS"])))
    day = world.day(0)
    others = [c for c in channels if c != LATE]
    before = len(world.runs("journeys"))
    world.drop(day, others)
    world.wait_ingested(day, others)
    runs = world.wait_journeys_idle(before)
    assert world.full_runs(runs), runs
    # published on time: the other channels' day is in the analytics file while the late one is still awaited
    assert (world.ingest_run(LATE, day) or {}).get("state") == "running"
    assert world.task_state(f"ingest_{LATE}", world.ingest_run(LATE, day)["run_id"], "wait_for_delivery") \
        == "deferred"  # waiting in the triggerer, holding no worker
    assert not (world.lake / "raw" / LATE / f"date={day}").exists()
    on_time = contacts_by_channel(world.analytics)
    assert LATE not in on_time and on_time == raw_by_channel(world.lake)
    fresh = last_analytics_event(world)["last_landed_day"]
    assert fresh.get(LATE) is None and all(fresh[c] == day.isoformat() for c in others), fresh

    before = len(world.runs("journeys"))
    world.drop(day, [LATE])
    world.wait_ingested(day, [LATE])
    runs = world.wait_journeys_idle(before)
    full = world.full_runs(runs)
    assert full and all(r["run_type"] == "asset_triggered" for r in full), runs
    folded = contacts_by_channel(world.analytics)
    assert folded[LATE] > 0 and folded == raw_by_channel(world.lake)
    assert last_analytics_event(world)["last_landed_day"][LATE] == day.isoformat()


def test_a_redelivered_day_triggers_journeys(world: World) -> None:
    day = world.day(0)
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
