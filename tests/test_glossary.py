"""The glossary seed (dbt_project/seeds/glossary.csv) is the one definition of every channel, outcome, switch
trigger and response target. Everything else that lists or defines them is checked against it here: the dbt
doc blocks rendered from it, the accepted_values tests, the marts' quality suites, the configured channels,
and the response targets in the sla_targets seed. (dbt tests check the data against it: defined_in_glossary.)
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from joinedup import glossary
from joinedup.channels import channel_names

REPO = Path(__file__).resolve().parents[1]
DBT = REPO / "dbt_project"


@pytest.fixture(autouse=True)
def packaged_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOINEDUP_CHANNELS", raising=False)


def _columns(yml: Path) -> dict[tuple[str, str], dict]:
    doc = yaml.safe_load(yml.read_text(encoding="utf-8"))
    return {(m["name"], c["name"]): c for m in doc.get("models", []) + doc.get("seeds", []) for c in m.get("columns", [])}


COLUMNS = {**_columns(DBT / "models/marts/_marts__models.yml"),
           **_columns(DBT / "models/intermediate/_intermediate__models.yml"),
           **_columns(DBT / "seeds/_seeds.yml")}


def _accepted_values(column: dict) -> list[str] | None:
    for test in column.get("data_tests", []):
        if isinstance(test, dict) and "accepted_values" in test:
            return list(test["accepted_values"]["arguments"]["values"])
    return None


def test_the_doc_blocks_are_rendered_from_the_current_seed() -> None:
    assert glossary.DOCS.read_text(encoding="utf-8") == glossary.doc_blocks(), \
        "dbt_project/models/_glossary__docs.md is stale: run `uv run python -m joinedup.glossary`"


def test_every_code_has_a_label_and_a_definition_and_is_unique_within_its_term() -> None:
    rows = glossary.read()
    assert {r["term"] for r in rows} == set(glossary.TERMS)
    keys = [(r["term"], r["code"]) for r in rows]
    assert len(keys) == len(set(keys))
    for r in rows:
        assert r["label"].strip() and len(r["definition"]) > 20, r
    for term in glossary.TERMS:
        orders = [int(r["display_order"]) for r in rows if r["term"] == term]
        assert sorted(orders) == list(range(1, len(orders) + 1)), term


@pytest.mark.parametrize(("model", "column", "term"), [
    ("fct_channel_switches", "switch_trigger", "switch_trigger"),
    ("int_contact_transitions", "switch_trigger", "switch_trigger"),
    ("fct_contacts", "outcome", "outcome"),
])
def test_accepted_values_are_the_glossary_codes_and_the_column_doc_is_the_glossary(model: str, column: str,
                                                                                   term: str) -> None:
    spec = COLUMNS[(model, column)]
    assert _accepted_values(spec) == glossary.codes(term), f"{model}.{column} accepted_values differ from the glossary"
    assert f"doc('glossary_{term}')" in spec["description"], f"{model}.{column} is not described by the glossary"


@pytest.mark.parametrize(("model", "column", "term"), [
    ("fct_contacts", "channel", "channel"), ("fct_contacts", "sla_name", "sla_target"),
    ("mart_response_sla", "sla_name", "sla_target"), ("sla_targets", "sla_name", "sla_target"),
])
def test_other_coded_columns_are_described_by_the_glossary(model: str, column: str, term: str) -> None:
    assert f"doc('glossary_{term}')" in COLUMNS[(model, column)]["description"], f"{model}.{column}"


def test_the_quality_suite_value_sets_are_the_glossary_codes() -> None:
    suite = json.loads((REPO / "expectations/marts/fct_channel_switches.json").read_text(encoding="utf-8"))
    sets = [e["kwargs"]["value_set"] for e in suite["expectations"]
            if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "switch_trigger"]
    assert sets == [glossary.codes("switch_trigger")]
    for e in suite["expectations"]:  # every code a suite names exists
        if e["kwargs"].get("column") == "switch_trigger":
            assert set(e["kwargs"]["value_set"]) <= set(glossary.codes("switch_trigger")), e


def test_every_configured_channel_and_response_target_is_defined_and_nothing_else() -> None:
    assert glossary.codes("channel") == channel_names(), "glossary channels differ from channels.yml (or its order)"
    with (DBT / "seeds/sla_targets.csv").open(encoding="utf-8", newline="") as f:
        targets = {r["sla_name"] for r in csv.DictReader(f) if r["sla_name"]}
    assert set(glossary.codes("sla_target")) == targets


def test_every_trigger_the_sql_can_produce_is_defined() -> None:
    """The trigger CASE (the macro switch_trigger, which int_contact_transitions and mart_definitions call)
    names exactly the glossary's codes."""
    import re

    model = (DBT / "models/intermediate/int_contact_transitions.sql").read_text(encoding="utf-8")
    assert "{{ switch_trigger('from_', 'to_occurred_at_utc') }} as switch_trigger" in model
    sql = (DBT / "macros/switch_trigger.sql").read_text(encoding="utf-8")
    case = sql[sql.index("case"):sql.index("{%- endmacro")]
    assert set(re.findall(r"\b(?:then|else)\s+'(\w+)'", case)) == set(glossary.codes("switch_trigger"))
