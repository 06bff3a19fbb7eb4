"""Fixtures shared by the ingestion tests: simulator output (the lead's `joinedup simulate`) and the bad-input
exports, each made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from tests.ingest.bad_input import write_bad_exports
from tests.ingest.simulated import SIM_CITIZENS, SIM_DAYS, SIM_SEED, SIM_START


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    result = CliRunner().invoke(app, ["simulate", "--citizens", str(SIM_CITIZENS), "--days", str(SIM_DAYS),
                                      "--start", SIM_START, "--seed", str(SIM_SEED), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def bad_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bad_exports(tmp_path_factory.mktemp("bad_fixture"))
