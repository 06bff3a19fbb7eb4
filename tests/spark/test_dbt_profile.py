"""dbt's `spark_ci` target starts Spark itself when no session runs in the process (a `dbt build --target spark_ci`
from a shell), from the server_side_parameters in profiles.yml. Those must be the settings every other Spark entry
point gets from joinedup.engine.spark.spark_conf, or a build from the shell would compute in another time zone or
with other SQL semantics than the tests that share the session."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2
import yaml

from joinedup import paths
from joinedup.engine.spark import spark_conf


def _rendered_profile(env: dict[str, str]) -> dict[str, Any]:
    """profiles.yml with its env_var() calls rendered as dbt renders them (only env_var and as_number are used)."""
    def env_var(name: str, default: str | None = None) -> str:
        value = env.get(name, os.environ.get(name, default))
        assert value is not None, f"profiles.yml needs {name}"
        return value

    text = (paths.dbt_project_dir() / "profiles.yml").read_text(encoding="utf-8")
    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
    jinja.filters["as_number"] = lambda v: v
    return yaml.safe_load(jinja.from_string(text).render(env_var=env_var))


def test_spark_ci_starts_spark_as_spark_conf_does(tmp_path: Path) -> None:
    outputs = _rendered_profile({"JOINEDUP_SPARK_WORK": str(tmp_path)})["joinedup"]["outputs"]
    ci = outputs["spark_ci"]
    assert (ci["type"], ci["method"]) == ("spark", "session")
    assert ci["server_side_parameters"] == spark_conf(tmp_path)


def test_duckdb_stays_the_default_and_spark_is_a_thrift_server() -> None:
    profile = _rendered_profile({})["joinedup"]
    assert profile["target"] == "local" and profile["outputs"]["local"]["type"] == "duckdb"
    spark = profile["outputs"]["spark"]
    assert (spark["type"], spark["method"]) == ("spark", "thrift")
    assert _rendered_profile({"JOINEDUP_SPARK_HOST": "thrift.example"})["joinedup"]["outputs"]["spark"]["host"] \
        == "thrift.example"
