"""The Dockerfile, checked statically: the official Airflow image of the version the lock pins, the project
installed from the same uv.lock that `make test` syncs, and the dbt manifest parsed at build time with the
locations the containers run with (cosmos then renders the journeys DAG with LoadMode.DBT_MANIFEST)."""

from __future__ import annotations

import re
import tomllib
from pathlib import PurePosixPath

import yaml

from tests.conftest import REPO
from tests.deploy.conftest import AIRFLOW_SERVICES, Dockerfile


def _locked_version(name: str) -> str:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    (version,) = {p["version"] for p in lock["package"] if p["name"] == name}
    return version


def test_built_from_the_official_image_of_the_locked_airflow(dockerfile: Dockerfile) -> None:
    (base,) = dockerfile.args("FROM")
    m = re.fullmatch(r"apache/airflow:(?P<airflow>[\d.]+)-python(?P<python>3\.\d+)", base)
    assert m, base
    assert m["airflow"] == _locked_version("apache-airflow") == "3.3.2"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f"=={m['python']}.*"
    assert (REPO / ".python-version").read_text().strip() == m["python"]


def test_installs_from_the_lock_that_make_test_uses(dockerfile: Dockerfile) -> None:
    runs = dockerfile.args("RUN")
    syncs = [s for r in runs for s in re.findall(r"\buv sync\b[^&;|]*", r)]
    assert len(syncs) >= 1
    for s in syncs:
        assert "--frozen" in s.split(), f"{s}: not from uv.lock as locked"
        assert "--no-editable" not in s  # editable: joinedup finds dbt_project/ and expectations/ beside it
        for group in re.findall(r"--group[ =](\S+)", s):
            assert group in tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"], group
    # the lock is copied in before the first sync, and nothing is installed around it
    copies = dockerfile.copies()
    assert copies[dockerfile.workdir / "uv.lock"] == REPO / "uv.lock"
    assert copies[dockerfile.workdir / "pyproject.toml"] == REPO / "pyproject.toml"
    text = " ".join(runs)
    assert not re.search(r"uv pip|requirements|pip install (?!--no-cache-dir \"uv==[\d.]+\")", text), text
    assert dockerfile.env["UV_PROJECT_ENVIRONMENT"] == dockerfile.env["VIRTUAL_ENV"]
    assert dockerfile.env["PATH"].startswith(dockerfile.env["UV_PROJECT_ENVIRONMENT"] + "/bin:")
    assert dockerfile.env["UV_PYTHON_DOWNLOADS"] == "never"  # the image's Python 3.11, no other
    # make test: `make bootstrap` syncs the same lock, frozen, then runs pytest
    make = (REPO / "Makefile").read_text()
    assert re.search(r"^test: bootstrap$", make, re.M) and re.search(r"\$\(UV\) sync --frozen\b", make)


def test_dbt_manifest_is_parsed_at_build_time_with_the_containers_locations(dockerfile: Dockerfile,
                                                                            container_env) -> None:
    runs = dockerfile.args("RUN")
    (parse,) = [r for r in runs if "dbt parse" in r]
    project = re.search(r"--project-dir (\S+)", parse)[1]
    assert re.search(r"--profiles-dir (\S+)", parse)[1] == project
    assert f"test -s {project}/target/manifest.json" in parse
    env = container_env("airflow-scheduler")
    assert dockerfile.workdir / project == PurePosixPath(env["JOINEDUP_DBT_PROJECT"])
    assert dockerfile.image_to_repo(env["JOINEDUP_DBT_PROJECT"]) == REPO / "dbt_project"
    # after the project and its dependencies are in, and with every location the sources and profile render
    order = [i for i, _ in dockerfile.instructions]
    at = dockerfile.instructions.index(("RUN", parse))
    assert ("COPY", "--chown=airflow:0 dbt_project ./dbt_project") in dockerfile.instructions[:at]
    assert any("uv sync" in a for i, a in dockerfile.instructions[:at] if i == "RUN") and "FROM" in order[:at]
    # profiles.yml: only the target the image parses with (its default, DuckDB); the Spark targets' variables
    # belong to a Spark deployment (docs/scale-out.md) and are not rendered into this manifest
    profile = yaml.safe_load((REPO / "dbt_project" / "profiles.yml").read_text())["joinedup"]
    parsed_with = yaml.safe_dump(profile["outputs"][profile["target"]])
    rendered = set(re.findall(r"env_var\('([A-Z_]+)'", parsed_with + "".join(
        p.read_text() for p in [*(REPO / "dbt_project").rglob("*.yml"), *(REPO / "dbt_project").rglob("*.sql")]
        if "target" not in p.parts and p.name != "profiles.yml")))
    assert rendered and rendered <= set(dockerfile.env), f"dbt parse needs {rendered - set(dockerfile.env)}"
    # the manifest holds the rendered lake paths: parsed with exactly what every Airflow service runs with
    for name in AIRFLOW_SERVICES:
        run = container_env(name)
        for k, v in dockerfile.env.items():
            if k.startswith("JOINEDUP_"):
                assert run[k] == v, f"{name}: {k}={run[k]} but the manifest was parsed with {v}"
    assert "chmod -R g+rwX" in parse  # dbt writes logs under the project; AIRFLOW_UID need not own it


def test_build_context_has_what_the_dockerfile_copies_and_no_more() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    for must in (".env", "data", ".venv", "dbt_project/target", ".git"):
        assert must in ignored, f".dockerignore: add {must}"
    for src in Dockerfile.read(REPO / "Dockerfile").copies().values():
        assert src.exists(), f"COPY of a missing {src.relative_to(REPO)}"
        assert src.relative_to(REPO).parts[0] not in ignored, f"{src} is copied but .dockerignore drops it"
