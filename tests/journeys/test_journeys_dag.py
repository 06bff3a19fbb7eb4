"""The journeys DAG as the scheduler sees it (DagBag, no metadata DB): scheduled on any channel's Asset or a daily
time, single-writer pool on every task that opens the warehouse, an Asset out when published. (tests/stack runs
it under a real scheduler: a late channel, a re-delivered day.)"""

from __future__ import annotations

import pytest

from joinedup.channels import load_channels
from joinedup.orchestration.journeys_dag import ANALYTICS_ASSET_URI, DUCKDB_POOL
from tests.conftest import REPO


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["journeys"]


def test_scheduled_on_any_channel_asset_or_a_daily_time(dag) -> None:
    """Not the AND of all channels: one late channel must not hold the others' publish back, and a re-run of one
    channel's day must start a run."""
    def leaves(cond) -> set[str]:
        return {cond.uri} if hasattr(cond, "uri") else set().union(*(leaves(c) for c in cond.objects))

    assert type(dag.timetable).__name__ == "AssetOrTimeSchedule"
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"  # any one channel's new data
    assert leaves(condition) == {f"joinedup://lake/raw/{c}" for c in load_channels()}
    assert type(dag.timetable.timetable).__name__ == "CronTriggerTimetable"
    assert dag.timetable.timetable.expression == "0 7 * * *"
    assert str(dag.timetable.timetable.timezone) in ("Europe/London", "Timezone('Europe/London')")
    assert dag.catchup is False and dag.max_active_runs == 1


def test_dbt_gets_the_channel_list_from_channels_yml(dag) -> None:
    """cosmos passes `--vars` with joinedup.channels.dbt_vars() to every dbt task (dbt_project.yml has none)."""
    from joinedup.channels import dbt_vars

    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt_build.") and hasattr(t, "vars")]
    assert dbt_tasks
    for t in dbt_tasks:
        assert t.vars == dbt_vars(), t.task_id


def test_order_pool_and_outlet(dag) -> None:
    order = [t.task_id for t in dag.topological_sort()]
    dbt_tasks = [t for t in order if t.startswith("dbt_build.")]
    assert order[:3] == ["wait_for_landings", "check_inputs", "link_contacts"] and order[-1] == "report"
    assert order.index("quality_gate") < order.index("publish") < order.index("report")
    assert set(dag.get_task("publish").upstream_task_ids) == {"quality_gate", "check_inputs"}
    assert dag.get_task("wait_for_landings").mode == "poke"  # a short wait; see the DAG's comment
    assert len(dbt_tasks) >= 20  # one per model and seed, plus detached relationship tests
    # every task that may open the warehouse (cosmos's empty `_done` gate opens nothing)
    for task_id in [*(t for t in dbt_tasks if not t.endswith("_watcher_done")), "quality_gate", "publish",
                    "dbt_docs"]:
        assert dag.get_task(task_id).pool == DUCKDB_POOL, task_id
    (outlet,) = dag.get_task("publish").outlets
    assert outlet.uri == ANALYTICS_ASSET_URI


def test_watcher_sensors_wait_for_the_one_dbt_build(dag) -> None:
    """Every per-model task sits downstream of the producer's `dbt build`: a serial runner (dag.test) and the
    1-slot pool never leave a sensor waiting for a build that cannot start."""
    producer = dag.get_task("dbt_build.dbt_producer_watcher")
    assert producer.pool == DUCKDB_POOL
    sensors = [t for t in dag.tasks if t.task_id.startswith("dbt_build.")
               and t.task_id not in (producer.task_id, "dbt_build.dbt_producer_watcher_done")]
    assert sensors
    assert {t.task_id for t in sensors} <= producer.get_flat_relative_ids(upstream=False)


def test_local_mode_is_one_dbt_invocation_per_model(monkeypatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("JOINEDUP_DBT_EXECUTION_MODE", "local")
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    ids = [t.task_id for t in bag.dags["journeys"].tasks]
    assert "dbt_build.dbt_producer_watcher" not in ids
    assert "dbt_build.fct_journeys_model_build" in ids
    assert any("relationships_" in t for t in ids)  # multi-parent tests detached, once both parents exist


def test_the_build_is_full_only_when_the_definitions_changed(dag) -> None:
    """dbt_definitions runs after linking and before the build, and every cosmos task takes its answer as the
    templated full_refresh (a rendered "True"/"False", which cosmos reads with to_boolean); the fingerprint is
    recorded only once the whole dbt group (build and tests) succeeded."""
    from joinedup.orchestration.journeys_dag import DEFINITIONS_TASK, FULL_REFRESH_TEMPLATE

    definitions = dag.get_task(DEFINITIONS_TASK)
    producer = dag.get_task("dbt_build.dbt_producer_watcher")
    assert definitions.upstream_task_ids == {"link_contacts"}
    assert producer.task_id in definitions.get_flat_relative_ids(upstream=False)
    assert producer.full_refresh == FULL_REFRESH_TEMPLATE and "full_refresh" in producer.template_fields
    record = dag.get_task("record_dbt_definitions")
    dbt_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt_build.")}
    assert dbt_tasks <= record.get_flat_relative_ids(upstream=True)
    assert DEFINITIONS_TASK in record.upstream_task_ids


def _parse(monkeypatch: pytest.MonkeyPatch, **env: str):
    """The DAG folder parsed as the scheduler would under `env`: (journeys DAG or None, import errors)."""
    from airflow.dag_processing.dagbag import DagBag

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    bag = DagBag(dag_folder=str(REPO / "dags"))
    return bag.dags.get("journeys"), bag.import_errors


def _dbt_tasks(dag) -> list:
    return [t for t in dag.tasks if t.task_id.startswith("dbt_build.") and hasattr(t, "profile_config")]


def test_the_default_engine_is_duckdb_with_dbt_target_local(dag) -> None:
    from joinedup.orchestration.journeys_dag import SPARK_POOL

    assert {t.profile_config.target_name for t in _dbt_tasks(dag)} == {"local"}
    gate = dag.get_task("quality_gate")
    assert "gate_marts" in gate.python_callable.__code__.co_names
    assert "gate_spark_warehouse" not in gate.python_callable.__code__.co_names
    assert SPARK_POOL not in {t.pool for t in dag.tasks}


@pytest.fixture(scope="module")
def parsed_project(tmp_path_factory: pytest.TempPathFactory):
    """A copy of the dbt project with its manifest (`dbt parse`, as the image has it): cosmos then renders the
    DAG without running dbt, which on a Spark target would need dbt-spark (not in `make test`'s environment)."""
    import shutil

    from joinedup.inprocess import ensure_dbt_manifest

    project = tmp_path_factory.mktemp("parsed") / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JOINEDUP_DBT_PROJECT", str(project))
        ensure_dbt_manifest()
    return project


@pytest.mark.parametrize(("dbt_target", "expected"), [(None, "spark"), ("spark_ci", "spark_ci")])
def test_joinedup_engine_spark_switches_the_build_the_gate_and_the_pools(
        monkeypatch: pytest.MonkeyPatch, parsed_project, dbt_target: str | None, expected: str) -> None:
    """One setting: JOINEDUP_ENGINE=spark gives dbt's `spark` target (the Thrift Server), or the one
    JOINEDUP_DBT_TARGET names; the gate runs the suites on Spark; the Spark tasks share the 1-slot `spark` pool
    and publish stays in `duckdb` (it writes the analytics DuckDB file). Parsing imports no pyspark."""
    import sys

    from joinedup.orchestration.journeys_dag import SPARK_POOL

    had_pyspark = "pyspark" in sys.modules
    env = {"JOINEDUP_ENGINE": "spark", "JOINEDUP_SPARK_WORK": "/srv/spark-work",
           "JOINEDUP_DBT_PROJECT": str(parsed_project)}
    if dbt_target:
        env["JOINEDUP_DBT_TARGET"] = dbt_target
    dag, errors = _parse(monkeypatch, **env)
    assert errors == {}
    assert had_pyspark or "pyspark" not in sys.modules
    dbt_tasks = _dbt_tasks(dag)
    assert dbt_tasks and {t.profile_config.target_name for t in dbt_tasks} == {expected}
    assert {t.pool for t in dbt_tasks} == {SPARK_POOL}
    producer = dag.get_task("dbt_build.dbt_producer_watcher")
    assert producer.env["JOINEDUP_SPARK_WORK"] == "/srv/spark-work"  # the spark_ci warehouse, absolute
    gate = dag.get_task("quality_gate")
    assert gate.pool == SPARK_POOL and gate.python_callable.__name__ == "quality_gate_spark"
    assert "gate_spark_warehouse" in gate.python_callable.__code__.co_names
    assert {dag.get_task(t).pool for t in ("link_contacts", "dbt_docs")} == {SPARK_POOL}
    assert dag.get_task("publish").pool == DUCKDB_POOL
    assert set(dag.get_task("publish").upstream_task_ids) == {"quality_gate", "check_inputs"}


@pytest.mark.parametrize(("env", "message"), [
    ({"JOINEDUP_ENGINE": "flink"}, "ValueError: JOINEDUP_ENGINE='flink': expected one of duckdb, spark"),
    ({"JOINEDUP_DBT_TARGET": "spark_ci"},
     "ValueError: JOINEDUP_DBT_TARGET='spark_ci': with JOINEDUP_ENGINE='duckdb' expected one of local"),
    ({"JOINEDUP_ENGINE": "spark", "JOINEDUP_DBT_TARGET": "local"},
     "ValueError: JOINEDUP_DBT_TARGET='local': with JOINEDUP_ENGINE='spark' expected one of spark, spark_ci"),
])
def test_a_bad_engine_setting_fails_the_import_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str) -> None:
    dag, errors = _parse(monkeypatch, **env)
    assert dag is None
    journeys = [e for path, e in errors.items() if path.endswith("journeys.py")]
    assert len(journeys) == 1 and journeys[0].strip().splitlines()[-1] == message, errors
