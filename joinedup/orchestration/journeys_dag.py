"""Builds the `journeys` DAG: wait for landings in flight -> anything new? -> link -> dbt build (cosmos) -> quality
gate (GX) -> publish (write, audit, publish) -> report, with dbt's docs generated beside publish for the report
folder.

Scheduled on any channel's Asset, or on a daily time (AssetOrTimeSchedule): a channel that publishes a day,
a day that lands late, a re-delivered day each start a run, and the daily time publishes what has arrived even
if a channel is silent. Publishing on what has arrived is safe because the link step is incremental and
idempotent over the lake (joinedup.identity.link_step), so the late day is folded in by the run its own landing
starts. (Until issue 18 it ran on the AND of all eight channels: one late channel held every other back, and a
re-run of one channel's day never started it.)

Two small steps keep a busy morning from building once per channel: `wait_for_landings` waits (bounded by
JOINEDUP_SETTLE_MAX_SECONDS) while a delivered day is still being ingested, and `check_inputs` stops a scheduled
or Asset-triggered run whose inputs equal those of the last publish (a manual run always builds).

Every task that opens the warehouse DuckDB file runs in the 1-slot `duckdb` pool, because DuckDB allows one
process per file and Airflow runs each task in its own process. A failed task (the quality gate above all)
raises an alert in the alert log (joinedup.orchestration.alerts); the publish Asset event's extra holds each
channel's newest landed day, the freshness the UI shows on the `joinedup_analytics` Asset.

dbt runs in cosmos's watcher mode by default: one `dbt build` of the models and seeds (the producer task), a
light task per model that reports its result, so the graph stays visible per model without paying dbt's
start-up thirty times (a council year: 94 s of cosmos tasks against a 48 s `dbt build`), and one `dbt test`
task after the last model. Every one of them is in the `duckdb` pool: a light task becomes a dbt run of its
model when the producer was retried (cosmos's fallback), and that run writes the warehouse.
JOINEDUP_DBT_EXECUTION_MODE=local gives one dbt invocation per model instead.

The person-keyed models are incremental (only the persons whose contacts changed are rebuilt: int_touched_persons).
`dbt_definitions` decides before the build whether it must be a full one instead (a seed, var or model changed
since the last successful build: joinedup/dbt_definitions.py) and cosmos's templated `full_refresh` takes its
answer; `record_dbt_definitions` stores the fingerprint once the build and its tests passed.

One setting, JOINEDUP_ENGINE (joinedup.paths.engine), picks the engine when the DAG file is parsed (issue 20):
`duckdb` (default) as above; `spark` builds with dbt's `spark` target (a Thrift Server; JOINEDUP_DBT_TARGET=spark_ci
runs Spark inside the dbt process, for tests), gates the marts' Parquet in the Spark warehouse with the same suites
on Spark DataFrames, and publishes that Parquet into the same analytics DuckDB file, with the same atomic rename.
On Spark the build, the gate and the docs run in the 1-slot `spark` pool instead (one Spark driver at a time on
the Airflow machine: a local JVM takes the cores, an embedded metastore admits one); publish stays in `duckdb`
(it writes a DuckDB file). Nothing imports pyspark at parse time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import (
    DAG,
    Asset,
    AssetAny,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    PokeReturnValue,
    dag,
    task,
)

from joinedup import paths
from joinedup.channels import BUSINESS_TZ, dbt_vars, load_channels
from joinedup.orchestration.alerts import task_failed
from joinedup.orchestration.assets import channel_asset
from joinedup.orchestration.ingest_dags import retry_delay

DUCKDB_POOL = "duckdb"
SPARK_POOL = "spark"
# the pool of the tasks that drive the engine (dbt, the gate, dbt docs), per JOINEDUP_ENGINE
ENGINE_POOLS = {"duckdb": DUCKDB_POOL, "spark": SPARK_POOL}
# the link step: Airflow's default pool on DuckDB (it opens no warehouse), `spark` on Spark (its linker is a driver)
LINK_POOLS = {"duckdb": "default_pool", "spark": SPARK_POOL}
DEFINITIONS_TASK = "dbt_definitions"
FULL_REFRESH_TEMPLATE = (
    "{{ (ti.xcom_pull(task_ids='" + DEFINITIONS_TASK + "') or {}).get('full_refresh', True) }}")
ANALYTICS_ASSET_URI = "joinedup://published/analytics"


def analytics_asset() -> Asset:
    return Asset(name="joinedup_analytics", uri=ANALYTICS_ASSET_URI, group="joinedup_published")


def dbt_env() -> dict[str, str]:
    """Absolute paths: cosmos runs dbt from a temporary copy of the project. (The Thrift Server's host and port
    reach dbt from the task's own environment, like everything not given here.)"""
    env = {
        "JOINEDUP_LAKE": str(paths.lake_root().resolve()),
        "JOINEDUP_WAREHOUSE": str(paths.warehouse_path().resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if paths.engine() == "spark":
        env["JOINEDUP_SPARK_WORK"] = str(paths.spark_work().resolve())  # spark_ci's warehouse and metastore
    return env


def build_store() -> Path:
    """What the build writes, for the definitions fingerprint kept beside it: the DuckDB warehouse file, or the
    Spark warehouse folder."""
    return paths.spark_warehouse() if paths.engine() == "spark" else paths.warehouse_path()


def _dbt_task_group(engine: str) -> Any:
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    project = paths.dbt_project_dir().resolve()
    manifest = project / "target" / "manifest.json"
    watcher = paths.dbt_execution_mode() == "watcher"
    group = DbtTaskGroup(
        group_id="dbt_build",
        project_config=ProjectConfig(
            dbt_project_path=project,
            manifest_path=manifest if manifest.exists() else None,
            env_vars=dbt_env(),
            dbt_vars=dbt_vars(),  # the channel list: dbt_project.yml has none (joinedup/dbt_cli.py)
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            # the engine's target: `local` (DuckDB), `spark` (Thrift Server) or `spark_ci` (paths.dbt_target)
            profile_name="joinedup", target_name=paths.dbt_target(), profiles_yml_filepath=project / "profiles.yml"
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER if watcher else ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            # the manifest (from `dbt parse`) when present: parsing then takes half a second, not a dbt ls
            load_method=LoadMode.DBT_MANIFEST if manifest.exists() else LoadMode.DBT_LS,
            # watcher: the producer builds every model and seed, a light task per node reports its result, and
            # one `dbt test` task runs every test once the last model is built. That task also runs after the
            # per-model fallback builds of a retried producer, so no path publishes untested marts. (A report
            # task per model's tests as well doubled the tasks, each a scheduler loop in the 1-slot pool.)
            test_behavior=TestBehavior.AFTER_ALL if watcher else TestBehavior.BUILD,
            # local: relationships tests run in their own task once both models exist, not inside the first
            # parent
            should_detach_multiple_parents_tests=not watcher,
            emit_datasets=False,
        ),
        # --full-refresh when the definitions changed since the last successful build (dbt_definitions task;
        # joinedup/dbt_definitions.py). Templated on every cosmos operator (DbtBuildMixin and the run/seed mixins
        # list it in template_fields and read a rendered "True"/"False" with to_boolean), so the producer and a
        # fallback per-model run agree.
        operator_args={"pool": ENGINE_POOLS[engine], "install_deps": False, "full_refresh": FULL_REFRESH_TEMPLATE},
    )
    if watcher:
        _sense_after_producer(group)
    return group


def _sense_after_producer(group: Any) -> None:
    """Watcher mode: one `dbt build` (the producer) does the work; each model's task only reads its result.

    Cosmos lets a task group's sensors start beside the producer and poll; a serial runner (`dag.test()`)
    would then wait on a sensor whose producer never starts. Here every root sensor waits for the producer
    to finish instead (none_failed, so cosmos's retry path, a skipped producer and per-model fallback runs,
    still works); the sensors then find their result at once.
    """
    from airflow.task.trigger_rule import TriggerRule
    from cosmos.constants import PRODUCER_WATCHER_DONE_TASK_ID, PRODUCER_WATCHER_TASK_ID

    tasks = {t.task_id: t for t in group.iter_tasks()}
    producer = tasks.pop(f"{group.group_id}.{PRODUCER_WATCHER_TASK_ID}")
    tasks.pop(f"{group.group_id}.{PRODUCER_WATCHER_DONE_TASK_ID}", None)
    for sensor in tasks.values():
        if not sensor.upstream_task_ids & set(tasks):
            producer >> sensor
        sensor.trigger_rule = TriggerRule.NONE_FAILED


def docs_target() -> Path:
    """dbt's docs target, beside the warehouse (restricted), from which the report copies the static page."""
    return paths.warehouse_path().parent / "dbt-docs"


def daily_cron() -> str:
    """The time fallback (local time): publish what has arrived by then, whatever channel is late."""
    return os.environ.get("JOINEDUP_JOURNEYS_CRON", "0 7 * * *")


def settle_seconds() -> tuple[float, float]:
    """(poke interval, longest wait) of `wait_for_landings`: 60 s and 30 minutes unless set (tests)."""
    return (float(os.environ.get("JOINEDUP_SETTLE_POKE_SECONDS", 60)),
            float(os.environ.get("JOINEDUP_SETTLE_MAX_SECONDS", 30 * 60)))


def journeys_schedule() -> AssetOrTimeSchedule:
    """Any channel's new data, or the daily time: never the AND of all channels."""
    return AssetOrTimeSchedule(timetable=CronTriggerTimetable(daily_cron(), timezone=BUSINESS_TZ),
                               assets=AssetAny(*(channel_asset(name) for name in load_channels())))


def build_journeys_dag() -> DAG:
    """The DAG for the engine JOINEDUP_ENGINE names; a bad value (or a JOINEDUP_DBT_TARGET of the other engine)
    fails the import with one message naming the variable."""
    poke, settle_max = settle_seconds()
    engine = paths.engine()
    paths.dbt_target()  # checked here, at import, not first by the build task
    spark = engine == "spark"

    @dag(
        dag_id="journeys",
        description="Link contacts to persons, build the journey marts, gate them and publish the analytics file",
        schedule=journeys_schedule(),
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 1, "retry_delay": retry_delay(), "on_failure_callback": task_failed},
        tags=["joinedup", "journeys"],
        doc_md=__doc__,
    )
    def journeys() -> None:
        # poke mode: the wait is short and bounded (other channels' ingest finishing), so one process looks every
        # `poke` seconds. In reschedule mode a poke a few seconds after the last one raced Airflow's own
        # bookkeeping: the previous try's process was still reporting its exit (~5 s) when the next was queued,
        # and the scheduler failed the sensor as "killed externally" (seen under the stack test).
        @task.sensor(poke_interval=poke, timeout=settle_max + 3600, mode="poke")
        def wait_for_landings() -> PokeReturnValue:
            """Done when no delivered day is still being ingested, or after JOINEDUP_SETTLE_MAX_SECONDS from the
            run's start (then it goes on with what has landed: a stuck ingest run must not hold the publish).
            A manual run does not wait: whoever triggers it asks for a build of what has landed now."""
            from airflow.sdk import get_current_context

            from joinedup.orchestration.landings import in_flight

            ctx = get_current_context()
            if str(ctx["dag_run"].run_type).lower().endswith("manual"):
                return PokeReturnValue(is_done=True, xcom_value={"waiting_for": [], "gave_up": False})
            waiting = in_flight()
            started = ctx["dag_run"].start_date
            waited = time.time() - started.timestamp() if started else 0.0
            gave_up = bool(waiting) and waited >= settle_max
            return PokeReturnValue(is_done=not waiting or gave_up,
                                   xcom_value={"waiting_for": waiting, "gave_up": gave_up})

        @task.short_circuit
        def check_inputs(settled: dict[str, Any]) -> dict[str, Any] | bool:
            """Go on (returning the inputs' fingerprint) unless this run was started by the schedule or an Asset
            and the lake and register are as they were at the last publish: then every later task is skipped."""
            from airflow.sdk import get_current_context

            from joinedup.orchestration.landings import inputs_fingerprint, last_landed, read_published_inputs

            ctx = get_current_context()
            now = inputs_fingerprint()
            manual = str(ctx["dag_run"].run_type).lower().endswith("manual")
            if not manual and (now["partitions"] == 0 or read_published_inputs() == now):
                return False  # nothing landed yet (a first time slot), or nothing new since the last publish
            # each channel's newest day as the link step is about to read it: the freshness publish announces
            return {"inputs": now, "last_landed_day": last_landed(),
                    "waited_for": settled.get("waiting_for", []) if settled else []}

        @task(pool=LINK_POOLS[engine])
        def link_contacts() -> dict[str, int]:
            """Incremental identity resolution; PII stays in the identity store."""
            from dataclasses import asdict

            from joinedup.identity.link_step import run_link_step
            from joinedup.identity.pseudonym import load_key

            paths.warehouse_path().parent.mkdir(parents=True, exist_ok=True)
            return asdict(run_link_step(paths.lake_root(), paths.identity_root(), paths.register_path(),
                                        load_key()))

        @task(task_id=DEFINITIONS_TASK)
        def dbt_definitions() -> dict[str, Any]:
            """Whether this build must be a full one: the marts are incremental by person, which cannot see a
            changed seed, var or model; a fingerprint of those that differs from the last successful build's
            (or is missing) means --full-refresh (joinedup/dbt_definitions.py)."""
            from joinedup.dbt_definitions import needs_full_refresh

            return needs_full_refresh(paths.dbt_project_dir().resolve(), build_store())

        @task
        def record_dbt_definitions(definitions: dict[str, Any]) -> str:
            """After the build and its tests passed: the warehouse now holds what these definitions compute, so
            the next run may be incremental. (Not reached after a failure: the next run refreshes again.)"""
            from joinedup.dbt_definitions import record_fingerprint

            return str(record_fingerprint(build_store(), definitions["fingerprint"]))

        @task(task_id="quality_gate", pool=DUCKDB_POOL)
        def quality_gate() -> dict[str, int]:
            """great-expectations on every mart; a failure stops the run before publish."""
            from joinedup.quality.gate import gate_marts

            return gate_marts(paths.warehouse_path()).tables

        @task(task_id="quality_gate", pool=SPARK_POOL)
        def quality_gate_spark() -> dict[str, int]:
            """The same suites on the Spark marts, as Spark DataFrames over their Parquet in the Spark warehouse
            (the files publish copies next), in a local session under the restricted JOINEDUP_SPARK_WORK; a
            failure stops the run before publish."""
            from joinedup.engine.spark import spark_session
            from joinedup.quality.gate import gate_spark_warehouse

            session = spark_session(paths.spark_work())
            try:
                return gate_spark_warehouse(session, paths.spark_warehouse()).tables
            finally:
                session.stop()

        @task(pool=DUCKDB_POOL, outlets=[analytics_asset()])
        def publish(checked: dict[str, Any]) -> dict[str, Any]:
            """Atomic swap of the analytics file, only after the gate passed. The Asset event carries each
            channel's newest landed day (freshness), and the inputs' fingerprint is kept for `check_inputs`."""
            from airflow.sdk import get_current_context

            from joinedup.orchestration.landings import record_published_inputs
            from joinedup.publish.publish import publish_analytics

            if spark:  # the Spark marts' Parquet, read by DuckDB into the same file (no Spark needed)
                from joinedup.publish.publish import publish_spark_marts

                manifest = paths.dbt_project_dir().resolve() / "target" / "manifest.json"
                result = publish_spark_marts(paths.spark_warehouse(), paths.analytics_path(),
                                             manifest if manifest.exists() else None)
            else:
                result = publish_analytics(paths.warehouse_path(), paths.analytics_path())
            record_published_inputs(checked["inputs"])
            freshness = checked["last_landed_day"]
            get_current_context()["outlet_events"][analytics_asset()].extra = {
                "last_landed_day": freshness, "tables": result.tables}
            return {"path": str(result.path), "tables": result.tables, "last_landed_day": freshness}

        @task(pool=ENGINE_POOLS[engine])
        def dbt_docs() -> str:
            """The data dictionary (dbt docs, static) for the report folder; reads the build's catalog (the
            engine's target)."""
            from joinedup.dbt_cli import generate_docs

            return str(generate_docs(paths.dbt_project_dir().resolve(), docs_target(), paths.dbt_target()))

        @task
        def report(published: dict[str, Any], docs: str) -> str:
            """The service designers' report, from the file just published (never from the warehouse)."""
            from joinedup.report.build import build_report

            return str(build_report(Path(published["path"]), paths.reports_root(), Path(docs)))

        checked = check_inputs(wait_for_landings())
        linked = link_contacts()
        definitions = dbt_definitions()
        built = _dbt_task_group(engine)
        gate = quality_gate_spark() if spark else quality_gate()
        docs = dbt_docs()
        published = publish(checked)
        checked >> linked >> definitions >> built >> gate >> [published, docs]
        built >> record_dbt_definitions(definitions)
        report(published, docs)

    return journeys()
