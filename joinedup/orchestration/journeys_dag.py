"""Builds the `journeys` DAG: link -> dbt build (cosmos) -> quality gate (GX) -> publish (write, audit, publish)
-> report, with dbt's docs generated beside publish for the report folder.

Scheduled on the ingest Assets: it runs once every channel has landed new data since its last run (or when
triggered by hand). Every task that opens the warehouse DuckDB file runs in the 1-slot `duckdb` pool, because
DuckDB allows one process per file and Airflow runs each task in its own process.

dbt runs in cosmos's watcher mode by default: one `dbt build` (the producer task) and a light task per model
and per model's tests that reports its result, so the graph stays visible per model without paying dbt's
start-up thirty times (a council year: 94 s of cosmos tasks against a 48 s `dbt build`).
JOINEDUP_DBT_EXECUTION_MODE=local gives one dbt invocation per model instead.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, dag, task

from joinedup import paths
from joinedup.channels import dbt_vars, load_channels
from joinedup.orchestration.assets import channel_asset

DUCKDB_POOL = "duckdb"
ANALYTICS_ASSET_URI = "joinedup://published/analytics"


def analytics_asset() -> Asset:
    return Asset(name="joinedup_analytics", uri=ANALYTICS_ASSET_URI, group="joinedup_published")


def dbt_env() -> dict[str, str]:
    """Absolute paths: cosmos runs dbt from a temporary copy of the project."""
    return {
        "JOINEDUP_LAKE": str(paths.lake_root().resolve()),
        "JOINEDUP_WAREHOUSE": str(paths.warehouse_path().resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def _dbt_task_group() -> Any:
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
            profile_name="joinedup", target_name="local", profiles_yml_filepath=project / "profiles.yml"
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER if watcher else ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            # the manifest (from `dbt parse`) when present: parsing then takes half a second, not a dbt ls
            load_method=LoadMode.DBT_MANIFEST if manifest.exists() else LoadMode.DBT_LS,
            # watcher: the producer's `dbt build` runs every test; a task per model reports its tests' result
            test_behavior=TestBehavior.AFTER_EACH if watcher else TestBehavior.BUILD,
            # local: relationships tests run in their own task once both models exist, not inside the first
            # parent. watcher: dbt build already runs them after both parents; their result is reported with
            # their models' tests (a detached sensor would find no result of its own to read)
            should_detach_multiple_parents_tests=not watcher,
            emit_datasets=False,
        ),
        operator_args={"pool": DUCKDB_POOL, "install_deps": False},
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


def build_journeys_dag() -> DAG:
    schedule = None
    for name in load_channels():
        schedule = channel_asset(name) if schedule is None else schedule & channel_asset(name)

    @dag(
        dag_id="journeys",
        description="Link contacts to persons, build the journey marts, gate them and publish the analytics file",
        schedule=schedule,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
        tags=["joinedup", "journeys"],
        doc_md=__doc__,
    )
    def journeys() -> None:
        @task
        def link_contacts() -> dict[str, int]:
            """Incremental identity resolution; PII stays in the identity store."""
            from dataclasses import asdict

            from joinedup.identity.link_step import run_link_step
            from joinedup.identity.pseudonym import load_key

            paths.warehouse_path().parent.mkdir(parents=True, exist_ok=True)
            return asdict(run_link_step(paths.lake_root(), paths.identity_root(), paths.register_path(),
                                        load_key()))

        @task(pool=DUCKDB_POOL)
        def quality_gate() -> dict[str, int]:
            """great-expectations on every mart; a failure stops the run before publish."""
            from joinedup.quality.gate import gate_marts

            return gate_marts(paths.warehouse_path()).tables

        @task(pool=DUCKDB_POOL, outlets=[analytics_asset()])
        def publish() -> dict[str, Any]:
            """Atomic swap of the analytics file, only after the gate passed."""
            from joinedup.publish.publish import publish_analytics

            result = publish_analytics(paths.warehouse_path(), paths.analytics_path())
            return {"path": str(result.path), "tables": result.tables}

        @task(pool=DUCKDB_POOL)
        def dbt_docs() -> str:
            """The data dictionary (dbt docs, static) for the report folder; reads the warehouse catalog."""
            from joinedup.dbt_cli import generate_docs

            return str(generate_docs(paths.dbt_project_dir().resolve(), docs_target()))

        @task
        def report(published: dict[str, Any], docs: str) -> str:
            """The service designers' report, from the file just published (never from the warehouse)."""
            from joinedup.report.build import build_report

            return str(build_report(Path(published["path"]), paths.reports_root(), Path(docs)))

        linked = link_contacts()
        built = _dbt_task_group()
        gate = quality_gate()
        docs = dbt_docs()
        published = publish()
        linked >> built >> gate >> [published, docs]
        report(published, docs)

    return journeys()
