"""Data-subject rights across every channel, on the real pipeline's output (the session `pipeline` fixture),
copied to a temporary folder before anything is changed: subject access, erasure (raw lake, identity store,
linkage state, the pseudonymous lake the link step rebuilds), a re-delivered export after erasure (suppressed
and counted), and a user's mistake."""

from __future__ import annotations

import json
import os
import shutil
import stat
from datetime import date
from pathlib import Path
from typing import Any
from unittest.mock import patch

import duckdb
import pyarrow.parquet as pq
import pytest

from joinedup.cli import main
from joinedup.identity.erase import citizen_hash, shared_identifiers
from joinedup.identity.subject import footprint
from joinedup.ingest.pipeline import ingest
from linkage.phones import to_e164
from tests.conftest import PIPELINE_KEY


def _raw(lake: Path) -> list[dict[str, Any]]:
    return duckdb.sql(f"select contact_id, channel, email, phone from read_parquet('{lake}/raw/*/*/*.parquet', "
                      "union_by_name = true)").to_arrow_table().to_pylist()


def _store(identity: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(identity / "identity.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def world(pipeline: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the pipeline's restricted zones, and a citizen with contacts in several channels and a phone
    number nobody else carries (so a quarantined row can be told apart)."""
    paths, sim, _ = pipeline
    root = tmp_path_factory.mktemp("rights")
    lake, identity = root / "lake", root / "identity"
    shutil.copytree(paths.lake, lake)
    shutil.copytree(paths.identity, identity)
    register = sim / "register" / "citizens.csv"
    ranked = _store(identity, f"""
        select l.citizen_id from contact_links l
        join read_parquet('{lake}/raw/*/*/*.parquet', union_by_name = true) r using (contact_id)
        where l.citizen_id is not null group by 1 having count(distinct r.channel) >= 3
        order by count(distinct r.channel) desc, count(*) desc, 1""")
    for (cid,) in ranked:
        fp = footprint(lake, identity, register, cid)
        phones = {v for k, v in fp.identifiers - shared_identifiers(lake, register, fp) if k == "phone"}
        if phones:
            break
    else:
        pytest.fail("no citizen with contacts in 3 channels and an unshared phone in the simulation")
    other = next(c for (c,) in ranked if c != cid)
    env = {"JOINEDUP_LAKE": str(lake), "JOINEDUP_IDENTITY": str(identity), "JOINEDUP_REGISTER": str(register),
           "JOINEDUP_EXPORTS": str(sim / "exports"), "JOINEDUP_PSEUDONYM_KEY": PIPELINE_KEY}
    return {"lake": lake, "session_lake": paths.lake, "identity": identity, "register": register, "sim": sim, "env": env, "citizen": cid,
            "other": other, "footprint": fp, "phone": sorted(phones)[0], "root": root}


def _their_contacts(w: dict[str, Any], citizen: str) -> set[str]:
    return {r[0] for r in _store(w["identity"], f"select contact_id from contact_links where citizen_id = '{citizen}'")}


@pytest.fixture(scope="module")
def bundle(world: dict[str, Any]) -> Path:
    with patch.dict(os.environ, world["env"]):
        assert main(["subject-access", "--citizen", world["citizen"]]) == 0
    made = list((world["identity"] / "subject_access").iterdir())
    assert len(made) == 1
    return made[0]


def test_subject_access_holds_their_contacts_across_channels_and_nobody_elses(world: dict[str, Any],
                                                                           bundle: Path) -> None:
    w = world
    theirs, others = _their_contacts(w, w["citizen"]), _their_contacts(w, w["other"])
    contacts = list(duckdb.read_csv(str(bundle / "contacts.csv"), all_varchar=True).fetchall())
    cols = duckdb.read_csv(str(bundle / "contacts.csv"), all_varchar=True).columns
    got = {dict(zip(cols, r, strict=True))["contact_id"] for r in contacts}
    assert got == theirs and len(theirs) >= 3
    assert len({dict(zip(cols, r, strict=True))["channel"] for r in contacts}) >= 3
    links = duckdb.read_csv(str(bundle / "links.csv"), all_varchar=True).fetchall()
    assert {r[0] for r in links} == theirs and {r[2] for r in links} == {w["citizen"]}
    assert all(r[6] for r in links)  # every link carries its explanation
    keys = duckdb.read_csv(str(bundle / "pseudonymous_keys.csv"), all_varchar=True).fetchall()
    published = set(pq.read_table(w["lake"] / "linked" / "contacts.parquet").column("contact_key").to_pylist())
    assert {r[0] for r in keys} == theirs and {r[1] for r in keys} <= published
    register = duckdb.read_csv(str(bundle / "register.csv"), all_varchar=True).fetchall()
    assert [r[0] for r in register] == [w["citizen"]]
    text = "".join(p.read_text(encoding="utf-8") for p in bundle.iterdir())
    assert w["other"] not in text and others and not others & got
    # PII: inside the restricted identity store, owner-only
    assert bundle.parent.parent == w["identity"]
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in bundle.iterdir()} == {0o600}
    assert "personal data" in (bundle / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def erased(world: dict[str, Any], bundle: Path) -> dict[str, Any]:
    w = world
    before = {"raw": _raw(w["lake"]), "theirs": _their_contacts(w, w["citizen"]),
              "links": _store(w["identity"], "select count(*) from contact_links")[0][0],
              "their_keys": {r[0] for r in _store(w["identity"], f"""
                  select k.contact_key from contact_keys k join contact_links l using (contact_id)
                  where l.citizen_id = '{w["citizen"]}'""")},
              "their_person_keys": {r[0] for r in _store(w["identity"], f"""
                  select p.person_key from person_keys p join contact_links l using (person_id)
                  where l.citizen_id = '{w["citizen"]}'""")}}
    with patch.dict(os.environ, w["env"]):
        assert main(["erase", "--citizen", w["citizen"], "--requested-by", "DSR-2025-0042"]) == 0
    return before


def test_erase_removes_them_from_raw_identity_state_and_the_pseudonymous_lake(world: dict[str, Any],
                                                                              erased: dict[str, Any]) -> None:
    w, theirs = world, erased["theirs"]
    raw = _raw(w["lake"])
    assert not theirs & {r["contact_id"] for r in raw}
    assert len(raw) == len(erased["raw"]) - len(theirs)  # nobody else's contact went
    assert _store(w["identity"], f"select count(*) from contact_links where citizen_id = '{w['citizen']}'") == [(0,)]
    assert _store(w["identity"], "select count(*) from contact_links")[0][0] == erased["links"] - len(theirs)
    ids = "', '".join(sorted(theirs))
    assert _store(w["identity"], f"select count(*) from contact_keys where contact_id in ('{ids}')") == [(0,)]
    pids = "', '".join(sorted(w["footprint"].person_ids))
    assert _store(w["identity"], f"select count(*) from person_keys where person_id in ('{pids}')") == [(0,)]
    state = w["identity"] / "linkage"
    persons = pq.read_table(state / "persons.parquet").to_pylist()
    assert not [p for p in persons if p["contact_id"] in theirs or p["citizen_id"] == w["citizen"]]
    identifiers = pq.read_table(state / "identifiers.parquet").to_pylist()
    assert not [i for i in identifiers if i["person_id"] in w["footprint"].person_ids
                or i["citizen_id"] == w["citizen"]]
    for name in ("decisions", "rejected_edges"):
        if (state / f"{name}.parquet").exists():
            rows = pq.read_table(state / f"{name}.parquet").to_pylist()
            assert not [r for r in rows if r.get("contact_id") in theirs or r.get("citizen_id") == w["citizen"]]
    # the link step ran: the pseudonymous lake dbt reads has neither their contacts' keys nor their person key
    linked = pq.read_table(w["lake"] / "linked" / "contacts.parquet")
    assert erased["their_keys"] and not erased["their_keys"] & set(linked.column("contact_key").to_pylist())
    assert not erased["their_person_keys"] & set(linked.column("person_key").to_pylist())
    people = pq.read_table(w["lake"] / "linked" / "persons.parquet").column("person_key").to_pylist()
    assert not erased["their_person_keys"] & set(people)
    assert linked.num_rows == len(raw)


def test_erasure_audit_names_no_one_and_a_second_erasure_is_a_no_op(world: dict[str, Any],
                                                                    erased: dict[str, Any]) -> None:
    w = world
    audit = w["lake"] / "_audit" / "erasures.jsonl"
    lines = audit.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert rec["requested_by"] == "DSR-2025-0042"
    assert rec["citizen_hash"] == citizen_hash(w["citizen"], PIPELINE_KEY.encode())
    assert rec["counts"]["raw_contacts"] == len(erased["theirs"]) and rec["counts"]["store_contact_links"] > 0
    text = audit.read_text(encoding="utf-8")
    assert w["citizen"] not in text and not any(v in text for _, v in w["footprint"].identifiers)
    assert not any(c in text for c in erased["theirs"])
    raw_before = _raw(w["lake"])
    with patch.dict(os.environ, w["env"]):
        assert main(["erase", "--citizen", w["citizen"], "--requested-by", "DSR-2025-0042"]) == 0
    assert audit.read_text(encoding="utf-8").splitlines() == lines
    assert _raw(w["lake"]) == raw_before


def test_a_redelivered_export_after_erasure_is_suppressed_and_counted(world: dict[str, Any],
                                                                      erased: dict[str, Any]) -> None:
    w = world
    theirs = erased["theirs"]
    exports = w["root"] / "redelivered"
    landed = _landed_days(w["session_lake"], theirs)
    for channel, day in landed | {("phone", "2025-03-03")}:
        shutil.copytree(w["sim"] / "exports" / channel / day, exports / channel / day)
    # and a row that fails validation, carrying their phone: it would land in quarantine with it
    cdr = next((exports / "phone" / "2025-03-03").glob("*.csv"))
    national = "0" + w["phone"].removeprefix("+44")
    with open(cdr, "a", encoding="utf-8") as f:
        f.write(f"9999999,31/02/2025 10:00:00,{national},01132224000,Benefits,0,0,CLOSED,,,,\n")
    assert to_e164(national) == w["phone"] and landed
    with patch.dict(os.environ, w["env"]):
        results = ingest(sorted({c for c, _ in landed} | {"phone"}),
                         sorted({date.fromisoformat(d) for _, d in landed} | {date(2025, 3, 3)}),
                         str(exports), w["lake"], force=True, run="redelivery")
    assert not theirs & {r["contact_id"] for r in _raw(w["lake"])}
    records = [json.loads(line) for p in sorted((w["lake"] / "_audit").glob("*/*/loads.jsonl"))
               for line in p.read_text(encoding="utf-8").splitlines()]
    records = [r for r in records if r.get("file") and r.get("run") == "redelivery"]
    assert records
    for r in records:
        assert r["rows_read"] == r["rows_loaded"] + r["rows_quarantined"] + r["rows_suppressed"], r
    assert sum(r["rows_suppressed"] for r in records) == len(theirs) + 1
    assert sum(s["rows_suppressed"] for s in results) == len(theirs) + 1
    quarantined = w["lake"] / "quarantine" / "phone" / "date=2025-03-03" / "part-0.parquet"
    if quarantined.exists():
        assert not [t for t in pq.read_table(quarantined).column("raw").to_pylist() if national in t]
    # the lake agrees with the audit: what was loaded is what is there
    for channel, day in landed:
        part = w["lake"] / "raw" / channel / f"date={day}" / "part-0.parquet"
        loaded = sum(r["rows_loaded"] for r in records if r["channel"] == channel and r["day"] == day)
        assert pq.ParquetFile(part).metadata.num_rows == loaded


def _landed_days(lake: Path, theirs: set[str]) -> set[tuple[str, str]]:
    """(channel, day folder) of the exports each of their contacts came from, read from the session's lake."""
    ids = "', '".join(sorted(theirs))
    rows = duckdb.sql(f"""select distinct channel, split_part(source_file, '/', 2)
                          from read_parquet('{lake}/raw/*/*/*.parquet', union_by_name = true)
                          where contact_id in ('{ids}')""").fetchall()
    return {(c, d) for c, d in rows}


@pytest.mark.parametrize("command", [["subject-access", "--citizen", "C9999999"],
                                     ["erase", "--citizen", "C9999999", "--requested-by", "DSR-1"]])
def test_an_unknown_citizen_is_one_line_and_exit_2(world: dict[str, Any], command: list[str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with patch.dict(os.environ, world["env"]):
        assert main(command) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no citizen with that id" in err and "C9999999" not in err
