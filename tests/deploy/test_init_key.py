"""docker/airflow-init.sh's checks of the pseudonymisation key secret, run for real up to the step after them:
a key file that is missing, short, open to others, owned by another user, or a key in the environment stops the
stack before any Airflow service starts. (A good key passes on to the Fernet check, which this test fails on
purpose so that nothing is migrated.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

INIT = REPO / "docker" / "airflow-init.sh"
GOOD_KEY = "a-pseudonymisation-key-0123456789"
PAST_THE_KEY = "not a Fernet key"  # the next check: reaching it means the key checks passed


def _init(key_file: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HOME": os.environ.get("HOME", "/tmp"),
           "AIRFLOW_HOME": str(key_file.parent), "AIRFLOW_UID": str(os.getuid()),
           "POSTGRES_PASSWORD": "pg-pass-0123456789", "AIRFLOW_ADMIN_PASSWORD": "admin-pass-0123456789",
           "AIRFLOW__CORE__FERNET_KEY": "deliberately-not-a-fernet-key", "AIRFLOW__API_AUTH__JWT_SECRET": "jwt-0123456789",
           "AIRFLOW__API__SECRET_KEY": "api-0123456789", "JOINEDUP_PSEUDONYM_KEY_FILE": str(key_file), **extra}
    return subprocess.run(["bash", str(INIT)], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "pseudonym_key"
    path.write_text(GOOD_KEY + "\n")
    path.chmod(0o600)
    return path


def test_a_good_key_file_passes(key_file: Path) -> None:
    result = _init(key_file)
    assert result.returncode != 0 and PAST_THE_KEY in result.stderr, result.stderr


@pytest.mark.parametrize(("change", "message"), [
    ("missing", "no pseudonymisation key"),
    ("short", "at least 16 characters"),
    ("placeholder", "CHANGE-ME"),
    ("group-readable", "chmod 600"),
    ("other owner", "owned by uid"),
    ("in the environment", "JOINEDUP_PSEUDONYM_KEY is set in the environment"),
])
def test_a_bad_key_stops_the_stack(key_file: Path, change: str, message: str) -> None:
    extra: dict[str, str] = {}
    if change == "missing":
        key_file.unlink()
    elif change == "short":
        key_file.write_text("too-short\n")
    elif change == "placeholder":
        key_file.write_text("CHANGE-ME-CHANGE-ME-CHANGE-ME\n")
    elif change == "group-readable":
        key_file.chmod(0o640)
    elif change == "other owner":
        extra["AIRFLOW_UID"] = str(os.getuid() + 1)
    else:
        extra["JOINEDUP_PSEUDONYM_KEY"] = GOOD_KEY
    result = _init(key_file, **extra)
    assert result.returncode == 1 and message in result.stderr and PAST_THE_KEY not in result.stderr, result.stderr
