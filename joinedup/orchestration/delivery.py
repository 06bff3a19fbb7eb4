"""Waiting for a channel's day folder without holding a worker: a deferrable sensor and its trigger.

Each ingest DAG run starts by waiting for its day's folder in the landing zone, for up to the channel's
delivery_timeout_hours. Eight channels each waiting a day, caught up over several days, as a reschedule-mode
sensor cost one task process per channel per poke (a fork, a DAG parse, the execution API round trips), all
competing for the same cores as the link step and dbt. Deferred, the wait is a coroutine in the triggerer:
`DeliveryTrigger` looks at the folder every poke interval (the same `delivery_status` the in-process runs and
the CLI use) and the task only comes back to a worker once the folder is there.

A folder already delivered is found by the first look in `execute`, so a catch-up or `dag.test()` never
defers. When the channel's timeout passes, Airflow fails the task with AirflowSensorTimeout (no retry), and
the DAG's failure callback records the missing delivery in the load audit and the alert log
(joinedup.orchestration.ingest_dags).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.triggers.base import BaseTrigger, TriggerEvent


def delivery_statuses(channel: str, days: list[str]) -> list[str]:
    """present | empty_day | missing | unreadable for each day: what both the sensor and its trigger look at."""
    from joinedup.ingest.pipeline import delivery_status

    return [delivery_status(channel, date.fromisoformat(d)) for d in days]


def delivered(statuses: list[str]) -> bool:
    """Every day's folder is there (an empty folder is an empty day; an unreadable one is quarantined later)."""
    return "missing" not in statuses


class DeliveryTrigger(BaseTrigger):
    """Fires once every one of `days` has a folder for `channel`; runs in the triggerer's event loop."""

    def __init__(self, channel: str, days: list[str], poke_interval: float) -> None:
        super().__init__()
        self.channel, self.days, self.poke_interval = channel, list(days), float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{__name__}.{type(self).__name__}",
                {"channel": self.channel, "days": self.days, "poke_interval": self.poke_interval})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            # the landing zone may be a network or object store (fsspec): look in a thread, not the loop
            statuses = await asyncio.to_thread(delivery_statuses, self.channel, self.days)
            if delivered(statuses):
                yield TriggerEvent({"statuses": statuses})
                return
            await asyncio.sleep(self.poke_interval)


class DeliverySensor(BaseSensorOperator):
    """Done when the run's day folders exist; `days` is a callable of the task context (the run's business
    days, joinedup.orchestration.ingest_dags.business_days). Deferrable by default; `deferrable=False` pokes
    in reschedule mode instead (for a deployment without a triggerer)."""

    def __init__(self, *, channel: str, days: Any, deferrable: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("mode", "reschedule")
        super().__init__(**kwargs)
        self.channel, self.days, self.deferrable = channel, days, deferrable

    def _days(self, context: Any) -> list[str]:
        return [d.isoformat() for d in self.days(context)]

    def poke(self, context: Any) -> PokeReturnValue:
        statuses = delivery_statuses(self.channel, self._days(context))
        return PokeReturnValue(is_done=delivered(statuses), xcom_value=statuses)

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        days = self._days(context)
        statuses = delivery_statuses(self.channel, days)
        if delivered(statuses):
            return statuses
        self.log.info("No delivery yet for %s on %s: waiting in the triggerer, every %.0f s",
                      self.channel, ", ".join(days), self.poke_interval)
        self.defer(trigger=DeliveryTrigger(self.channel, days, self.poke_interval),
                   method_name="execute_complete", timeout=timedelta(seconds=self.timeout))
        return None  # not reached: defer() raises

    def execute_complete(self, context: Any, event: dict[str, Any]) -> list[str]:
        return list(event["statuses"])
