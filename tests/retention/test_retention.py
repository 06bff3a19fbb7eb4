"""Retention on the real pipeline's output (copied first): expired days leave the landing zone, the raw lake,
quarantine and the load audit; the identity store and linkage state drop the contacts no longer landed; the
audit says what went; a second run is a no-op; and the scheduled DAG calls it."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from joinedup.retention.apply import apply_retention
from joinedup.retention.policy import RetentionConfigError, load_policy

AS_OF = date(2025, 3, 30)  # the simulation runs 2025-03-03 .. 2025-03-30
KEEP = 14
CUTOFF = AS_OF - timedelta(days=KEEP)


def _days(root: Path) -> set[str]:
    return {p.name.removeprefix("date=") for p in root.glob("*/date=*")}


@pytest.fixture(scope="module")
def expired(pipeline: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    paths, sim, _ = pipeline
    root = tmp_path_factory.mktemp("retention")
    lake, identity, exports = root / "lake", root / "identity", root / "exports"
    shutil.copytree(paths.lake, lake)
    shutil.copytree(paths.identity, identity)
    shutil.copytree(sim / "exports", exports)
    before = {"raw": _days(lake / "raw"), "audit": _days(lake / "_audit"),
              "exports": {p.name for p in exports.glob("*/*")},
              "rows": duckdb.sql(f"select count(*) from read_parquet('{lake}/raw/*/*/*.parquet')").fetchall()[0][0]}
    policy = {"exports": KEEP, "raw": KEEP, "quarantine": KEEP, "audit": KEEP, "subject_access": None}
    record = apply_retention(lake, identity, str(exports), AS_OF, policy)
    return {"lake": lake, "identity": identity, "exports": exports, "before": before, "record": record,
            "policy": policy}


def test_expired_days_leave_every_zone_and_the_rest_stays(expired: dict[str, Any]) -> None:
    e, before = expired, expired["before"]
    old = {d for d in before["raw"] if d < CUTOFF.isoformat()}
    assert old and before["raw"] - old  # the test data straddles the cut-off
    assert _days(e["lake"] / "raw") == before["raw"] - old
    assert {d for d in _days(e["lake"] / "_audit")} == {d for d in before["audit"] if d >= CUTOFF.isoformat()}
    assert {p.name for p in e["exports"].glob("*/*")} == {d for d in before["exports"] if d >= CUTOFF.isoformat()}
    # the identity store and the linkage state keep only contacts still landed
    lake, identity = e["lake"], e["identity"]
    landed = {r[0] for r in duckdb.sql(f"select contact_id from read_parquet('{lake}/raw/*/*/*.parquet')").fetchall()}
    with duckdb.connect(str(identity / "identity.duckdb"), read_only=True) as con:
        links = {r[0] for r in con.execute("select contact_id from contact_links").fetchall()}
        keys = {r[0] for r in con.execute("select contact_id from contact_keys").fetchall()}
        persons_linked = {r[0] for r in con.execute("select distinct person_id from contact_links").fetchall()}
        person_keys = {r[0] for r in con.execute("select person_id from person_keys").fetchall()}
    assert links == landed == keys and person_keys == persons_linked
    state = pq.read_table(identity / "linkage" / "persons.parquet").to_pylist()
    assert {p["contact_id"] for p in state} == landed
    kept_persons = {p["person_id"] for p in state}
    assert set(pq.read_table(identity / "linkage" / "identifiers.parquet").column("person_id").to_pylist()) \
        <= kept_persons


def test_the_audit_counts_what_went_without_values(expired: dict[str, Any]) -> None:
    e = expired
    lines = (e["lake"] / "_audit" / "retention.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    raw = rec["zones"]["raw"]
    old = {d for d in e["before"]["raw"] if d < CUTOFF.isoformat()}
    assert raw["retention_days"] == KEEP and raw["removed_before"] == CUTOFF.isoformat()
    assert {d for days in raw["days"].values() for d in days} == old
    now = duckdb.sql(f"select count(*) from read_parquet('{e['lake']}/raw/*/*/*.parquet')").fetchall()[0][0]
    assert raw["rows"] == e["before"]["rows"] - now > 0
    assert rec["zones"]["identity"]["store_contact_links"] == raw["rows"]
    text = lines[0]
    assert "@" not in text and "contact_id" not in text.replace("contact_ids", "")


def test_a_second_run_removes_nothing_and_records_nothing(expired: dict[str, Any]) -> None:
    e = expired
    again = apply_retention(e["lake"], e["identity"], str(e["exports"]), AS_OF, e["policy"])
    assert again["removed_anything"] is False
    assert len((e["lake"] / "_audit" / "retention.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_policy_defaults_files_and_mistakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_policy()["raw"] == 730
    own = tmp_path / "mine.yml"
    own.write_text("raw: 30\nquarantine: null\n", encoding="utf-8")
    monkeypatch.setenv("JOINEDUP_RETENTION__AUDIT", "400")
    policy = load_policy(own)
    assert (policy["raw"], policy["quarantine"], policy["audit"], policy["exports"]) == (30, None, 400, 90)
    own.write_text("raws: 30\n", encoding="utf-8")
    with pytest.raises(RetentionConfigError, match="mine.yml: unknown zone 'raws'"):
        load_policy(own)
    monkeypatch.setenv("JOINEDUP_RETENTION__RAW", "soon")
    with pytest.raises(RetentionConfigError, match="JOINEDUP_RETENTION__RAW"):
        load_policy()


def test_the_retention_dag_is_scheduled_and_calls_the_function() -> None:
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO

    bag = DagBag(dag_folder=str(REPO / "dags" / "retention.py"))
    assert bag.import_errors == {}
    dag = bag.dags["retention"]
    assert [t.task_id for t in dag.tasks] == ["remove_expired"]
    assert dag.tasks[0].pool == "duckdb"
    assert dag.timetable.expression == "0 0 * * *" and dag.catchup is False
