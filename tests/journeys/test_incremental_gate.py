"""The incremental quality gate (issue 20's daily run): after a pass, the next gate validates the facts' row-level
expectations on the persons changed since that pass only, and everything else whole; a failure is checked again
next time; changed suites validate everything. On a copy of the session pipeline's warehouse, through gate_marts
(what the journeys DAG's quality_gate task calls).

A person is "changed" as the dbt build marks it: its state in intermediate.int_contacts__state (its contacts' count and summed row hashes) differs
from the state the last pass recorded. The test changes that table directly, beside a bad row in the facts, as a
build that rebuilt the person with a defect would leave them.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import duckdb
import pytest

from joinedup.quality.gate import GATED_CONTACTS, GATED_STATE, PERSON_KEYED, GateFailed, gate_marts

pytestmark = pytest.mark.slow


def _copy(pipeline, tmp_path: Path) -> Path:
    paths, _, _ = pipeline
    folder = tmp_path / "warehouse"
    folder.mkdir(mode=0o700)
    warehouse = folder / paths.warehouse.name
    shutil.copy(paths.warehouse, warehouse)
    return warehouse


def _person_with_contacts(warehouse: Path, offset: int = 0) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select person_key from marts.fct_contacts group by person_key "
                           "order by person_key limit 1 offset ?", [offset]).fetchone()[0]


def _rebuild_badly(warehouse: Path, person_key: str, cost: float) -> None:
    """What a build that rebuilt `person_key` with a defect leaves: the person's contact state moved on (one
    contact's row hash changed) and a row of theirs in fct_contacts out of range."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update intermediate.int_contacts__state set state_hash = state_hash + 1 where person_key = ?",
                    [person_key])
        con.execute("update marts.fct_contacts set cost_gbp = ? where contact_key = (select min(contact_key) "
                    "from marts.fct_contacts where person_key = ?)", [cost, person_key])


def test_after_a_pass_only_changed_persons_rows_are_validated(pipeline, tmp_path: Path) -> None:
    warehouse = _copy(pipeline, tmp_path)
    first = gate_marts(warehouse)
    assert not first.incremental  # nothing recorded yet: everything validated
    for name in (GATED_STATE, GATED_CONTACTS):  # beside the restricted warehouse, owner-only
        assert stat.S_IMODE((warehouse.parent / name).stat().st_mode) == 0o600

    again = gate_marts(warehouse)
    assert again.incremental
    assert again.rows_validated == {table: 0 for table in PERSON_KEYED}  # nothing changed since the pass
    assert again.tables == first.tables  # the table-level expectations still see every row

    person = _person_with_contacts(warehouse)
    _rebuild_badly(warehouse, person, 500.0)
    with pytest.raises(GateFailed, match=r"marts/fct_contacts: expect_column_values_to_be_between\(column='cost_gbp'"):
        gate_marts(warehouse)

    # the failed gate recorded nothing: the next one checks that person again, and passes once it is mended
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.fct_contacts set cost_gbp = 1.0 where cost_gbp = 500.0")
        contacts = con.execute("select count(*) from marts.fct_contacts where person_key = ?", [person]).fetchone()[0]
    mended = gate_marts(warehouse)
    assert mended.incremental and mended.rows_validated["marts.fct_contacts"] == contacts
    assert gate_marts(warehouse).rows_validated["marts.fct_contacts"] == 0  # and that pass was recorded


def test_changed_suites_validate_everything(pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad row the last pass never saw under the new suites must be found: other suites (or other dbt
    definitions) mean the whole of every mart is validated again."""
    warehouse = _copy(pipeline, tmp_path)
    gate_marts(warehouse)
    with duckdb.connect(str(warehouse)) as con:  # an old row, of a person no build touched since
        con.execute("update marts.fct_contacts set cost_gbp = 90 where contact_key = "
                    "(select min(contact_key) from marts.fct_contacts)")
    assert gate_marts(warehouse).incremental  # within the suites' range: passes, as it should

    suites = tmp_path / "expectations"
    shutil.copytree(Path(__file__).resolve().parents[2] / "expectations", suites)
    suite_file = suites / "marts" / "fct_contacts.json"
    suite = json.loads(suite_file.read_text())
    for expectation in suite["expectations"]:
        if expectation["kwargs"].get("column") == "cost_gbp":
            expectation["kwargs"]["max_value"] = 50  # a stricter suite
    suite_file.write_text(json.dumps(suite))
    monkeypatch.setenv("JOINEDUP_EXPECTATIONS", str(suites))
    with pytest.raises(GateFailed, match="cost_gbp"):
        gate_marts(warehouse)
