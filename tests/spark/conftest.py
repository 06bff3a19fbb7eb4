"""One local[2] Spark session for the whole Spark lane (`make test-spark`), as issue 20 asks: a JVM start costs
5-9 s here, so tests share it. Its warehouse is a fresh temporary directory (an in-memory catalog over a reused
warehouse fails with LOCATION_ALREADY_EXISTS)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from joinedup import paths
from joinedup.dbt_cli import run_dbt
from tests.pipeline_sim import PIPELINE_CITIZENS, PIPELINE_DAYS, PIPELINE_KEY, PIPELINE_SEED, PIPELINE_START


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/spark/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The lane's one session (local[2], UTC, in-memory catalog, a fresh warehouse)."""
    if shutil.which("java") is None:
        pytest.fail("the Spark lane needs java on PATH (.ci/run installs a JRE when it is missing)")
    from joinedup.engine.spark import spark_session

    session = spark_session(tmp_path_factory.mktemp("spark"))
    yield session
    session.stop()


@pytest.fixture(scope="session")
def landed_lake(tmp_path_factory) -> Path:
    """The end-to-end runs' simulation (tests/pipeline_sim.py: about 1,200 contacts, every mart with rows, both
    sides of the clock change), simulated and ingested as the ingest DAGs do, without Airflow. Returns the folder
    holding `sim/` (its register: sim/register/citizens.csv) and `lake/` (the landed raw partitions). Shared:
    linked_lake links this lake; other tests copy its partitions into lakes of their own."""
    from joinedup.ingest.pipeline import ingest
    from joinedup.simulate.run import simulate

    work = tmp_path_factory.mktemp("lake")
    sim, lake = work / "sim", work / "lake"
    simulate(sim, PIPELINE_CITIZENS, PIPELINE_DAYS, PIPELINE_START, PIPELINE_SEED)
    days = [PIPELINE_START + timedelta(days=d) for d in range(PIPELINE_DAYS)]
    ingest(None, days, str(sim / "exports"), lake)
    return work


@pytest.fixture(scope="session")
def linked_lake(landed_lake: Path) -> Path:
    """The pseudonymous lake dbt reads (linked/contacts.parquet, linked/persons.parquet) from landed_lake, linked as
    the DAGs' link task does, without Airflow (its start and dag.test() would cost the lane more than the engines
    being compared). Returns the lake folder."""
    from joinedup.identity.link_step import run_link_step

    lake = landed_lake / "lake"
    run_link_step(lake, landed_lake / "identity", landed_lake / "sim" / "register" / "citizens.csv",
                  PIPELINE_KEY.encode())
    return lake


@dataclass(frozen=True)
class BuiltMarts:
    """The whole project built from `linked_lake` on both engines: the DuckDB warehouse file (target `local`), and
    the Spark warehouse folder the `spark_ci` build left on the lane's session (its tables also in the catalog),
    with each build's dbt target folder (manifest.json)."""
    warehouse: Path
    spark_warehouse: Path
    duckdb_target: Path
    spark_target: Path


def dbt_build(target: str, target_path: Path) -> None:
    """`dbt build --target <target>` of the repository's project, in this process; fails naming what failed."""
    res = run_dbt(["build", "--target", target, "--target-path", str(target_path), "--quiet"],
                  paths.dbt_project_dir())
    failed = [f"{r.node.unique_id}: {r.status}: {r.message}"
              for r in (getattr(res.result, "results", None) or []) if r.status not in ("pass", "success", "no-op")]
    assert res.success, f"dbt build --target {target} failed: {res.exception or ''}\n" + "\n".join(failed)


@pytest.fixture(scope="session")
def built_marts(spark, linked_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltMarts:
    """One `dbt build` per engine for the lane (the marts comparison, the Spark gate and publish read them)."""
    from joinedup.inprocess import release_dbt_connection

    work = tmp_path_factory.mktemp("marts_equal")
    built = BuiltMarts(warehouse=work / "warehouse.duckdb",
                       # the session reports it as a URI, file:/...
                       spark_warehouse=Path(spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")),
                       duckdb_target=work / "target_duckdb", spark_target=work / "target_spark")
    env = {"JOINEDUP_LAKE": str(linked_lake), "JOINEDUP_WAREHOUSE": str(built.warehouse),
           # the profile's spark_ci settings name the shared session's own folder (they apply only to a new session)
           "JOINEDUP_SPARK_WORK": str(built.spark_warehouse.parent)}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        try:
            dbt_build("local", built.duckdb_target)
        finally:
            release_dbt_connection()
        dbt_build("spark_ci", built.spark_target)
    return built
