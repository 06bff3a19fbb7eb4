"""The definitions fingerprint decides when the journeys DAG builds with --full-refresh: any change to what the
marts' rows are computed from (a seed, a model, a macro, dbt_project.yml, the vars from channels.yml) must change
it, and nothing else may (a data test or a doc page would otherwise force a full rebuild every time it changes).

The project stamp decides when `dbt parse` and `dbt docs generate` can be skipped: an unchanged project is not
parsed or documented again, and any change to what they read (a data test, a description, the environment)
is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from joinedup.channels import dbt_vars
from joinedup.dbt_cli import generate_docs
from joinedup.dbt_definitions import (
    definitions_fingerprint,
    fingerprint_path,
    needs_full_refresh,
    project_stamp,
    record_fingerprint,
    stored_fingerprint,
)
from joinedup.inprocess import ensure_dbt_manifest, pipeline_env
from tests.conftest import REPO


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return copy


@pytest.mark.parametrize("changed", ["seeds/channel_costs.csv", "macros/switch_trigger.sql",
                                     "models/marts/fct_journeys.sql", "dbt_project.yml",
                                     "models/intermediate/_intermediate__models.yml"])
def test_a_changed_definition_changes_the_fingerprint(project: Path, changed: str) -> None:
    before = definitions_fingerprint(project)
    with (project / changed).open("a", encoding="utf-8") as f:
        f.write("\n")
    assert definitions_fingerprint(project) != before


def test_changed_vars_change_it_and_data_tests_and_docs_do_not(project: Path) -> None:
    before = definitions_fingerprint(project)
    assert definitions_fingerprint(project) == before  # stable
    vars_ = dbt_vars()
    assert definitions_fingerprint(project, {**vars_, "channels": vars_["channels"][:-1]}) != before
    (project / "tests" / "another_check.sql").write_text("select 1 where false\n")
    with (project / "models" / "_glossary__docs.md").open("a", encoding="utf-8") as f:
        f.write("\nmore words\n")
    assert definitions_fingerprint(project) == before


def test_full_refresh_until_a_build_is_recorded_with_the_same_definitions(project: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse" / "joinedup.duckdb"
    assert needs_full_refresh(project, warehouse)["full_refresh"]  # no warehouse yet
    warehouse.parent.mkdir()
    warehouse.write_bytes(b"")
    first = needs_full_refresh(project, warehouse)
    assert first["full_refresh"] and stored_fingerprint(warehouse) is None  # never recorded
    record_fingerprint(warehouse, first["fingerprint"])
    assert not needs_full_refresh(project, warehouse)["full_refresh"]
    (project / "seeds" / "channel_costs.csv").write_text("channel,cost_per_contact_gbp\nphone,1.0\n")
    assert needs_full_refresh(project, warehouse)["full_refresh"]
    fingerprint_path(warehouse).write_text("{not json")
    assert stored_fingerprint(warehouse) is None  # unreadable: a full build, not a crash
    assert not list(warehouse.parent.glob(".*.tmp"))


def test_the_project_stamp_sees_data_tests_descriptions_the_environment_and_the_target(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = project_stamp(project)
    assert project_stamp(project) == before
    assert project_stamp(project, "spark") != before
    monkeypatch.setenv("JOINEDUP_LAKE", "/somewhere/else")  # read by the sources' external_location
    assert project_stamp(project) != before
    monkeypatch.undo()
    with (project / "models" / "_glossary__docs.md").open("a", encoding="utf-8") as f:
        f.write("\nmore words\n")
    described = project_stamp(project)
    assert described != before
    (project / "tests" / "another_check.sql").write_text("select 1 where false\n")
    assert project_stamp(project) not in (before, described)


def test_an_unchanged_project_is_not_parsed_again_and_a_changed_one_is(project: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOINEDUP_DBT_PROJECT", str(project))
    manifest = ensure_dbt_manifest()
    parsed = manifest.stat().st_mtime_ns
    assert ensure_dbt_manifest().stat().st_mtime_ns == parsed  # skipped: the same manifest
    (project / "tests" / "another_check.sql").write_text("select 1 as n where false\n")
    assert ensure_dbt_manifest().stat().st_mtime_ns != parsed
    assert "test.joinedup.another_check" in manifest.read_text(encoding="utf-8")


def test_docs_are_generated_again_only_when_what_they_show_changed(pipeline, project: Path, tmp_path: Path) -> None:
    """On the session pipeline's warehouse (read only: docs read its catalog)."""
    paths, _, _ = pipeline
    docs = tmp_path / "docs"
    with pipeline_env(paths):
        page = generate_docs(project, docs) / "static_index.html"
        generated = page.stat().st_mtime_ns
        assert generate_docs(project, docs) == docs and page.stat().st_mtime_ns == generated  # skipped
        yml = project / "models" / "marts" / "_marts__models.yml"
        yml.write_text(yml.read_text(encoding="utf-8").replace(
            "Pseudonymous contact key (", "Reworded for the test (", 1), encoding="utf-8")
        generate_docs(project, docs)
    assert page.stat().st_mtime_ns != generated and "Reworded for the test (" in page.read_text(encoding="utf-8")
