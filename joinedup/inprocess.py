"""Runs the real DAGs in one process with `dag.test()`: every channel's ingest DAG over a range of days, then
`journeys`. `make demo`, the end-to-end test and bench/pipeline.py go through here; production runs the same
DAGs under the scheduler (docker-compose.yml).

Airflow reads its configuration when first imported, so `prepare_airflow` must run before anything imports it.

Running dbt in this process needs one workaround, kept here and nowhere else: dbt-duckdb keeps its read-write
handle on the warehouse open after a build, and DuckDB then refuses the gate's and publish's read-only one.
Importing this module registers `release_dbt_connection` with joinedup.publish.warehouse.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from joinedup import paths
from joinedup.channels import load_channels
from joinedup.publish import warehouse

QUIET_ENV = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "AIRFLOW__COSMOS__ENABLE_CACHE_DBT_LS": "False",
    "GX_ANALYTICS_ENABLED": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "SCARF_ANALYTICS": "false",
    "DO_NOT_TRACK": "1",
}


def release_dbt_connection() -> None:
    """Close the warehouse handle dbt-duckdb keeps in this process after an in-process build (no-op otherwise)."""
    mod = sys.modules.get("dbt.adapters.duckdb.connections")
    if mod is None:
        return
    manager = mod.DuckDBConnectionManager
    with manager._LOCK:  # dbt-duckdb has no public hook for this; close_all_connections() only drops the ref
        if manager._ENV is not None:
            manager._ENV.close()
            manager._ENV = None


warehouse.on_open(release_dbt_connection)


class PipelineFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class PipelinePaths:
    """Every location the DAGs read or write, as the JOINEDUP_* variables that configure them."""

    exports: Path
    register: Path
    lake: Path
    identity: Path
    warehouse: Path
    analytics: Path
    reports: Path

    @classmethod
    def under(cls, work: Path, exports: Path, register: Path) -> PipelinePaths:
        work = work.resolve()
        return cls(exports=exports.resolve(), register=register.resolve(), lake=work / "lake",
                   identity=work / "identity", warehouse=work / "warehouse" / "joinedup.duckdb",
                   analytics=work / "analytics" / "joinedup_analytics.duckdb", reports=work / "reports")

    def env(self) -> dict[str, str]:
        """The variables joinedup.paths reads, one per location it lists."""
        return {var: str(getattr(self, name)) for name, (var, _, _) in paths.LOCATIONS.items()}


@dataclass
class StageTiming:
    stage: str
    seconds: float


@dataclass
class PipelineRun:
    paths: PipelinePaths
    timings: list[StageTiming] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)


def prepare_airflow(home: Path) -> None:
    """Point Airflow at a local SQLite metadata DB and the repo's dags/ before it is imported."""
    if "airflow" in sys.modules:
        return  # already configured by whoever imported it first (e.g. the test suite's conftest)
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("AIRFLOW_HOME", str(home.resolve()))
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(paths.PROJECT_ROOT / "dags"))
    for k, v in QUIET_ENV.items():
        os.environ.setdefault(k, v)


@contextmanager
def pipeline_env(paths: PipelinePaths) -> Iterator[None]:
    """The JOINEDUP_* variables for the duration of a run; the DAGs read them when built and when run."""
    saved = {k: os.environ.get(k) for k in paths.env()}
    os.environ.update(paths.env())
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def _timed(run: PipelineRun, stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    run.timings.append(StageTiming(stage, time.perf_counter() - t0))


def _no_retries(dag: Any) -> Any:
    """dag.test() would sleep through each retry delay; in one process a failure is final and reported."""
    for t in dag.tasks:
        t.retries = 0
    return dag


@dataclass(frozen=True)
class TaskSpan:
    dag_id: str
    task_id: str
    start: Any  # datetime (UTC) or None for a task that never ran
    end: Any
    state: str


TASK_SPANS: list[TaskSpan] = []  # every task this process ran through dag.test(), for benchmarks


def _check(dr: Any, dag_id: str) -> None:
    from airflow.utils.state import DagRunState, TaskInstanceState

    TASK_SPANS.extend(TaskSpan(ti.dag_id, ti.task_id, ti.start_date, ti.end_date, str(ti.state))
                      for ti in dr.get_task_instances())
    if dr.state == DagRunState.SUCCESS:
        return
    failed = sorted(ti.task_id for ti in dr.get_task_instances()
                    if ti.state in (TaskInstanceState.FAILED, TaskInstanceState.UPSTREAM_FAILED))
    raise PipelineFailed(f"DAG {dag_id} ended {dr.state}; failed tasks: {', '.join(failed) or 'none recorded'} "
                         f"(task logs under $AIRFLOW_HOME/logs)")


def init_airflow_db() -> None:
    from airflow.utils import db

    db.initdb()


def run_ingest_dags(first: date, last: date, channels: list[str] | None = None) -> dict[str, str]:
    """One manual run per channel covering [first, last] (params day/through), as an operator catching up would."""
    from joinedup.orchestration.ingest_dags import build_dag

    states = {}
    for name, ch in load_channels().items():
        if channels and name not in channels:
            continue
        dag = _no_retries(build_dag(ch))
        dr = dag.test(run_conf={"day": first.isoformat(), "through": last.isoformat()})
        _check(dr, dag.dag_id)
        states[dag.dag_id] = str(dr.state)
    return states


PARTIAL_PARSE = "partial_parse.msgpack"
PARSE_STAMP = ".joinedup-parse-stamp"  # in target/: the project_stamp the manifest was parsed from


def ensure_dbt_manifest() -> Path:
    """`dbt parse`, so cosmos renders the DAG from the manifest instead of running `dbt ls` at every parse.

    dbt writes its manifest in place, so a scheduler's task process parsing the journeys DAG at that moment
    read half a file and failed to import it (seen under the stack test while an in-process run parsed the
    same checkout). The parse goes to a scratch target inside target/ and the manifest is swapped in whole;
    the partial-parse cache travels with it, so a parse of an unchanged project stays quick. An unchanged project
    (dbt_definitions.project_stamp: files, vars, versions and the environment they read) is not parsed again:
    even a partial parse costs 5-7 s of a daily run.
    """
    import shutil
    import tempfile

    from joinedup.dbt_cli import run_dbt
    from joinedup.dbt_definitions import project_stamp, record_stamp, stamp_is_current

    project = paths.dbt_project_dir().resolve()
    target = project / "target"
    target.mkdir(exist_ok=True)
    stamp, stamp_file = project_stamp(project), target / PARSE_STAMP
    if (target / "manifest.json").exists() and stamp_is_current(stamp_file, stamp):
        return target / "manifest.json"  # parsed from this very project and environment: the same manifest
    scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target))
    try:
        cache = target / PARTIAL_PARSE
        if cache.exists():
            shutil.copy2(cache, scratch / PARTIAL_PARSE)
        res = run_dbt(["parse", "--quiet", "--target-path", str(scratch)], project)
        if not res.success:
            raise PipelineFailed(f"dbt parse failed: {res.exception}")
        if (scratch / PARTIAL_PARSE).exists():
            os.replace(scratch / PARTIAL_PARSE, cache)
        os.replace(scratch / "manifest.json", target / "manifest.json")
        record_stamp(stamp_file, stamp)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target / "manifest.json"


def run_journeys_dag() -> str:
    from joinedup.orchestration.journeys_dag import build_journeys_dag

    dag = _no_retries(build_journeys_dag())
    dr = dag.test()
    _check(dr, dag.dag_id)
    return str(dr.state)


def run_pipeline(paths: PipelinePaths, first: date, last: date, channels: list[str] | None = None,
                 airflow_home: Path | None = None, init_db: bool = True) -> PipelineRun:
    """Ingest every channel for [first, last], then link, build, gate and publish: the real DAGs, in order."""
    prepare_airflow(airflow_home or paths.lake.parent / "airflow")
    run = PipelineRun(paths)
    with pipeline_env(paths):
        if init_db:
            with _timed(run, "airflow metadata DB"):
                init_airflow_db()
        with _timed(run, "ingest DAGs"):
            run.results["ingest"] = run_ingest_dags(first, last, channels)
        with _timed(run, "dbt parse"):
            ensure_dbt_manifest()
        with _timed(run, "journeys DAG"):
            run.results["journeys"] = run_journeys_dag()
    return run
