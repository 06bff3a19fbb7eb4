"""One local[2] Spark session for the whole Spark lane (`make test-spark`), as issue 20 asks: a JVM start costs
5-9 s here, so tests share it. Its warehouse is a fresh temporary directory (an in-memory catalog over a reused
warehouse fails with LOCATION_ALREADY_EXISTS)."""

from __future__ import annotations

import shutil

import pytest



def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/spark/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    if shutil.which("java") is None:
        pytest.fail("the Spark lane needs java on PATH (.ci/run installs a JRE when it is missing)")
    from joinedup.engine.spark import spark_session

    session = spark_session(tmp_path_factory.mktemp("spark"))
    yield session
    session.stop()
