"""Shared test set-up. Airflow reads its configuration at import, so the environment is set here, before any
test module imports airflow: a throw-away AIRFLOW_HOME (SQLite metadata DB), no example DAGs, DAGS_FOLDER
pointing at dags/, and no telemetry from Airflow, cosmos, dbt or great-expectations.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from tests.pipeline_sim import PIPELINE_CITIZENS, PIPELINE_DAYS, PIPELINE_KEY, PIPELINE_SEED, PIPELINE_START

REPO = Path(__file__).resolve().parents[1]
_HOME = tempfile.mkdtemp(prefix="joinedup-airflow-")

os.environ.setdefault("AIRFLOW_HOME", _HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_CACHE_DBT_LS", "False")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("SCARF_ANALYTICS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """A migrated Airflow metadata DB, once per session (in-process initdb is ~4x faster than the CLI)."""
    from airflow.utils import db

    db.initdb()
    return os.environ["AIRFLOW_HOME"]




@pytest.fixture(scope="session")
def pipeline(airflow_db: str, tmp_path_factory: pytest.TempPathFactory):
    """The whole pipeline once per session through dag.test(): a small simulation, every ingest DAG, then
    journeys (link, dbt build, gate, publish, dbt docs, report). Yields (paths, simulation folder, run)."""
    from joinedup.inprocess import PipelinePaths, run_pipeline
    from joinedup.simulate.run import simulate

    start, days = PIPELINE_START, PIPELINE_DAYS
    work = tmp_path_factory.mktemp("pipeline")
    sim = work / "sim"
    simulate(sim, PIPELINE_CITIZENS, days, start, PIPELINE_SEED)
    paths = PipelinePaths.under(work, sim / "exports", sim / "register" / "citizens.csv")
    saved = os.environ.get("JOINEDUP_PSEUDONYM_KEY")
    os.environ["JOINEDUP_PSEUDONYM_KEY"] = PIPELINE_KEY
    try:
        yield paths, sim, run_pipeline(paths, start, start + timedelta(days=days - 1))
    finally:
        if saved is None:
            os.environ.pop("JOINEDUP_PSEUDONYM_KEY", None)
        else:
            os.environ["JOINEDUP_PSEUDONYM_KEY"] = saved


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium (`.ci/run` installs it), for the tests that drive a page (joinedup/report/chromium.py): the report's
    render tests and the review UI's. Missing: a failure under CI, a skip with the reason locally."""
    from joinedup.report.chromium import find_chromium

    found = find_chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium (apt-get install chromium) "
                        "before `make test`; install it or check the apt output in the CI log")
        pytest.skip("no Chromium on PATH: `apt-get install chromium` to run the browser tests (CI installs it)")
    return found
