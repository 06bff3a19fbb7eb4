"""The definitions fingerprint decides when the journeys DAG builds with --full-refresh: any change to what the
marts' rows are computed from (a seed, a model, a macro, dbt_project.yml, the vars from channels.yml) must change
it, and nothing else may (a data test or a doc page would otherwise force a full rebuild every time it changes).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from joinedup.channels import dbt_vars
from joinedup.dbt_definitions import (
    definitions_fingerprint,
    fingerprint_path,
    needs_full_refresh,
    record_fingerprint,
    stored_fingerprint,
)
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
