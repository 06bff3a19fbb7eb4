"""Builds one daily ingest DAG per channel in channels.yml. No business logic: every task calls
joinedup.ingest.pipeline, which is what `joinedup ingest` runs too.

    wait_for_delivery (deferrable sensor) -> stage -> validate (GX) -> publish (emits the channel's Asset)

Each run covers one local business day: the data interval [00:00, 24:00) Europe/London, or the `day` param
of a manual run; a manual run with `day` and `through` covers that range of days in one run (catching up a
landing folder, as `make demo` does), each day still staged, validated and swapped in as its own partition. catchup=True, so unpaused DAGs backfill from the channel's start_date; `airflow backfill
create --dag-id ingest_<channel> --from-date ... --to-date ...` re-runs a range.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, dag, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

from joinedup.channels import BUSINESS_TZ as LOCAL_TZ
from joinedup.channels import Channel, load_channels
from joinedup.orchestration.assets import channel_asset
from joinedup.orchestration.delivery import DeliverySensor


def business_day(context: dict[str, Any]) -> date:
    """The local day a run covers: the `day` param if given, else the data interval's start in London."""
    param = (context.get("params") or {}).get("day")
    if param:
        return date.fromisoformat(str(param))
    start = context.get("data_interval_start") or context.get("logical_date")
    if start is None:
        raise ValueError("a manual run without a data interval needs the `day` param (YYYY-MM-DD)")
    return pendulum.instance(start).in_timezone(LOCAL_TZ).date()


def business_days(context: dict[str, Any]) -> list[date]:
    """The run's day, or every day from `day` to `through` (inclusive) when a manual run names a range."""
    first = business_day(context)
    through = (context.get("params") or {}).get("through")
    if not through:
        return [first]
    last = date.fromisoformat(str(through))
    if last < first:
        raise ValueError(f"param through={last} is before day={first}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def poke_seconds() -> float:
    """How often the triggerer looks for the day's folder: 5 minutes (a look is a directory listing in the
    triggerer, not a task process), or JOINEDUP_DELIVERY_POKE_SECONDS."""
    return float(os.environ.get("JOINEDUP_DELIVERY_POKE_SECONDS", 5 * 60))


def retry_delay() -> timedelta:
    """5 minutes, or JOINEDUP_RETRY_DELAY_SECONDS: the stack's fault tests retry within their time budget."""
    return timedelta(seconds=float(os.environ.get("JOINEDUP_RETRY_DELAY_SECONDS", 300)))


def _record_missing(context: dict[str, Any]) -> None:
    """Sensor gave up: write the missing delivery into the load audit, so it is visible outside Airflow too,
    and raise an alert (joinedup.orchestration.alerts) a monitor can watch."""
    from joinedup.ingest import pipeline
    from joinedup.orchestration.alerts import missing_delivery

    channel = (context.get("dag") or context["ti"]).dag_id.removeprefix("ingest_")
    missing = []
    for day in business_days(context):
        if pipeline.delivery_status(channel, day) == "missing":  # not some other failure of the sensor
            pipeline.record_missing_delivery(channel, day, run=context.get("run_id"))
            missing.append(day.isoformat())
    if missing:
        missing_delivery(context, channel, missing)


def build_dag(ch: Channel) -> DAG:
    asset = channel_asset(ch.name)

    @dag(
        dag_id=f"ingest_{ch.name}",
        description=f"Land {ch.name} exports ({ch.source_system}) in lake/raw/{ch.name}",
        schedule=CronDataIntervalTimetable("0 0 * * *", timezone=LOCAL_TZ),
        start_date=pendulum.parse(ch.start_date, tz=LOCAL_TZ),
        catchup=True,
        max_active_runs=int(os.environ.get("JOINEDUP_INGEST_MAX_ACTIVE_RUNS", 4)),  # days caught up at once
        params={"day": Param(None, type=["null", "string"], description="Local day YYYY-MM-DD (manual runs)"),
                "through": Param(None, type=["null", "string"],
                                 description="Last local day YYYY-MM-DD of a range starting at `day`"),
                "force": Param(False, type="boolean", description="Reload even if the files are unchanged")},
        default_args={"retries": 1, "retry_delay": retry_delay()},
        tags=["joinedup", "ingest", ch.name],
        doc_md=__doc__,
    )
    def ingest() -> None:
        wait_for_delivery = DeliverySensor(
            task_id="wait_for_delivery", channel=ch.name, days=business_days, poke_interval=poke_seconds(),
            timeout=ch.delivery_timeout_hours * 3600, on_failure_callback=_record_missing,
            doc_md="Done when the day folder exists (an empty folder is a valid empty day). Waits in the "
                   "triggerer (joinedup.orchestration.delivery); fails after the channel's "
                   "delivery_timeout_hours, which marks the run failed and writes `missing_delivery`.")

        @task
        def stage(status: list[str]) -> list[dict[str, Any]]:
            from joinedup.ingest.pipeline import stage_day

            ctx = get_current_context()
            force = bool(ctx["params"].get("force"))
            return [stage_day(ch.name, d, run=ctx["run_id"], force=force) for d in business_days(ctx)]

        @task
        def validate(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
            from joinedup.ingest.pipeline import validate_staged

            return validate_staged(manifests)

        @task(outlets=[asset])
        def publish(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
            """Swap the days in; the Asset event's extra says which days landed and the channel's newest day,
            so each channel's freshness shows on its Asset in the UI."""
            from joinedup.ingest.pipeline import publish_day
            from joinedup.orchestration.landings import landed_days
            from joinedup.paths import lake_root

            out = [publish_day(m) for m in manifests]
            landed = landed_days(lake_root(), ch.name)
            get_current_context()["outlet_events"][asset].extra = {
                "channel": ch.name, "days": [o["day"] for o in out], "statuses": [o["status"] for o in out],
                "rows_loaded": sum(o["rows_loaded"] for o in out),
                "last_landed_day": landed[-1].isoformat() if landed else None}
            return out

        publish(validate(stage(wait_for_delivery.output)))

    return ingest()


def build_ingest_dags() -> dict[str, DAG]:
    return {f"ingest_{name}": build_dag(ch) for name, ch in load_channels().items()}
