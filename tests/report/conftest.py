"""Report tests share the session's pipeline run (tests/conftest.py) and one way to find a browser."""

from __future__ import annotations

import os

import pytest

from tests.report.browser import find_chromium


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium (`.ci/run` installs it). Missing: a failure under CI, a skip with the reason locally."""
    found = find_chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium (apt-get install chromium) "
                        "before `make test`; install it or check the apt output in the CI log")
        pytest.skip("no Chromium on PATH: `apt-get install chromium` to run the report's render tests "
                    "(CI installs it)")
    return found
