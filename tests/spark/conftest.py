"""One local[2] Spark session for the whole Spark lane (`make test-spark`), as issue 20 asks: a JVM start costs
5-9 s here, so tests share it. Its warehouse is a fresh temporary directory (an in-memory catalog over a reused
warehouse fails with LOCATION_ALREADY_EXISTS)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

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
