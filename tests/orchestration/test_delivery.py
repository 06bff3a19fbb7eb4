"""The deferrable delivery sensor's trigger, on a real landing zone and a real event loop: it keeps looking
while the day's folder is missing, fires once it is there (empty or not), survives serialisation to the
triggerer, and the sensor does not defer at all when the folder is already there (catch-up, dag.test)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from joinedup.orchestration.delivery import DeliverySensor, DeliveryTrigger


@pytest.fixture
def exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JOINEDUP_EXPORTS", str(tmp_path / "exports"))
    (tmp_path / "exports" / "phone").mkdir(parents=True)
    return tmp_path / "exports"


async def _first_event(trigger: DeliveryTrigger, deliver_after: float, folder: Path) -> tuple[dict, float]:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    loop.call_later(deliver_after, folder.mkdir)
    events = trigger.run()
    event = await asyncio.wait_for(anext(events), timeout=10)
    return event.payload, loop.time() - t0


def test_the_trigger_waits_for_the_folder_then_fires(exports: Path) -> None:
    trigger = DeliveryTrigger("phone", ["2025-03-10"], poke_interval=0.05)
    classpath, kwargs = trigger.serialize()
    assert classpath == "joinedup.orchestration.delivery.DeliveryTrigger"
    revived = DeliveryTrigger(**kwargs)  # what the triggerer builds from the database row
    payload, waited = asyncio.run(_first_event(revived, 0.3, exports / "phone" / "2025-03-10"))
    assert payload == {"statuses": ["empty_day"]}  # an empty folder is a delivered empty day
    assert waited >= 0.3


def test_every_day_of_a_range_must_be_there(exports: Path) -> None:
    (exports / "phone" / "2025-03-10").mkdir()
    trigger = DeliveryTrigger("phone", ["2025-03-10", "2025-03-11"], poke_interval=0.05)
    payload, waited = asyncio.run(_first_event(trigger, 0.2, exports / "phone" / "2025-03-11"))
    assert payload == {"statuses": ["empty_day", "empty_day"]} and waited >= 0.2


def test_a_delivered_day_needs_no_deferral(exports: Path) -> None:
    from datetime import date

    from airflow.sdk.exceptions import TaskDeferred

    (exports / "phone" / "2025-03-10").mkdir()
    sensor = DeliverySensor(task_id="wait_for_delivery", channel="phone", days=lambda ctx: [date(2025, 3, 10)],
                            poke_interval=60, timeout=3600)
    assert sensor.execute({}) == ["empty_day"]  # returned at once: defer() would have raised TaskDeferred
    sensor_missing = DeliverySensor(task_id="w", channel="phone", days=lambda ctx: [date(2025, 3, 11)],
                                    poke_interval=60, timeout=3600)
    with pytest.raises(TaskDeferred) as deferred:
        sensor_missing.execute({})
    assert isinstance(deferred.value.trigger, DeliveryTrigger) and deferred.value.trigger.days == ["2025-03-11"]
