"""docker-compose.yml and the Dockerfile, checked statically (no Docker engine exists on these machines)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import PurePosixPath

import pytest
import yaml

from tests.conftest import REPO

AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer")
VAR = re.compile(r"(?<!\$)\$\{([A-Za-z0-9_]+)(:?[-?][^}]*)?\}")  # $${X} is an escaped literal


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def test_every_service_has_an_image_a_command_and_a_health_check(compose) -> None:
    services = compose["services"]
    assert set(AIRFLOW_SERVICES) | {"postgres", "report"} <= set(services)
    for name, svc in services.items():
        assert svc.get("image") or svc.get("build"), name
        assert svc.get("command"), name
        assert svc.get("healthcheck", {}).get("test"), name


def test_every_variable_has_a_default_or_an_env_example_entry(compose, env_example) -> None:
    text = "\n".join(line for line in (REPO / "docker-compose.yml").read_text().splitlines()
                     if not line.lstrip().startswith("#"))
    used = VAR.findall(text)
    assert used
    for name, rest in used:
        has_default = rest.startswith((":-", "-"))
        assert has_default or name in env_example, f"${{{name}}} has no default and is not in .env.example"
    secrets = [k for k, v in env_example.items() if v == "CHANGE-ME"]
    assert {"JOINEDUP_PSEUDONYM_KEY", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "POSTGRES_PASSWORD"} <= set(secrets)
    assert not (REPO / ".env").exists() or ".env" in (REPO / ".gitignore").read_text().split()


def _container_env(svc: dict) -> dict[str, str]:
    return {k: str(v) for k, v in svc["environment"].items()}


def _mounts(svc: dict) -> list[tuple[PurePosixPath, bool]]:
    out = []
    for v in svc["volumes"]:
        parts = v.split(":")
        # "${DIR:-./data}/x:/container/path[:ro]" -> strip the host side, which may itself hold a colon
        target = next(p for p in parts[1:] if p.startswith("/"))
        out.append((PurePosixPath(target), parts[-1] == "ro"))
    return out


def _mounted(mounts: list[tuple[PurePosixPath, bool]], path: str, writable: bool) -> bool:
    p = PurePosixPath(path)
    return any(p == m or m in p.parents for m, ro in mounts if not (writable and ro))


def test_volumes_cover_every_path_the_dags_read_and_write(compose, monkeypatch: pytest.MonkeyPatch) -> None:
    from joinedup.ingest.config import exports_root, load_channels
    from joinedup.journeys import config

    for name in AIRFLOW_SERVICES[1:]:
        svc = compose["services"][name]
        env = _container_env(svc)
        for k, v in env.items():
            if k.startswith("JOINEDUP_"):
                monkeypatch.setenv(k, v)
        mounts = _mounts(svc)

        written = [config.lake_root(), config.identity_root(), config.warehouse_path().parent,
                   config.analytics_path().parent, config.reports_root()]
        read = [exports_root(), config.register_path()]
        read += [ch.day_url(date(2025, 1, 1)) for ch in load_channels().values()]
        for p in written:
            assert _mounted(mounts, str(p), writable=True), f"{name}: {p} is written but not on a writable volume"
        for p in read:
            assert _mounted(mounts, str(p), writable=False), f"{name}: {p} is read but not mounted"


def test_airflow_settings_match_what_the_dags_need(compose) -> None:
    from joinedup.journeys.airflow_dag import DUCKDB_POOL

    services = compose["services"]
    envs = [_container_env(services[n]) for n in AIRFLOW_SERVICES]
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "JOINEDUP_PSEUDONYM_KEY"):
        assert len({e[key] for e in envs}) == 1, f"{key} differs between Airflow services"
    assert all(e["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor" for e in envs)
    assert all(e["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/joinedup/dags" for e in envs)
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "COPY --chown=airflow:0 dags ./dags" in dockerfile and "WORKDIR /opt/joinedup" in dockerfile
    init = (REPO / services["airflow-init"]["command"][0].replace("/opt/joinedup/", "")).read_text()
    assert re.search(rf"airflow pools set {DUCKDB_POOL} 1\b", init)  # the pool the journeys DAG's tasks use
    assert "airflow db migrate" in init and "AIRFLOW_ADMIN_PASSWORD" in init
    # the DAGs use no Airflow connections: every location is a JOINEDUP_* path on a volume
    assert not re.search(r"conn_id|BaseHook\.get_connection", "".join(
        p.read_text() for p in [*REPO.glob("dags/*.py"), *REPO.glob("joinedup/**/airflow_*.py")]))


def test_dockerfile_installs_from_the_lock_make_test_uses(compose) -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM apache/airflow:3.3.2" in dockerfile
    assert "COPY --chown=airflow:0 pyproject.toml uv.lock" in dockerfile
    installs = re.findall(r"uv sync ([^\n\\&]*)", dockerfile)
    assert installs and all("--frozen" in i for i in installs)
    assert "pip install -r" not in dockerfile and "uv pip install" not in dockerfile
    make = (REPO / "Makefile").read_text()
    assert "sync --frozen" in make  # make test installs from the same uv.lock
    assert re.search(r"dbt parse .*dbt_project", dockerfile)  # cosmos LoadMode.DBT_MANIFEST
    build = compose["x-airflow-common"]["build"]
    assert build == "." and (REPO / ".dockerignore").exists()
