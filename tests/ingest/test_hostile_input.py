"""Acceptance for issue 18, item 4: ingest never crashes, never silently ignores and never silently changes.

The hostile fixture (tests/ingest/hostile_input.py) holds one delivery per channel with the fault classes that
used to lose the day, vanish unnamed or land changed. Everything runs through `ingest` (what `joinedup ingest`
runs) or the DAG's step functions, on real files and a real lake.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import joinedup.ingest.validate  # noqa: F401 - imported before a test drops privileges
from joinedup.channels import DEFAULT_CONFIG
from joinedup.ingest import audit
from joinedup.ingest.pipeline import ingest, publish_day, stage_day, validate_staged
from tests.ingest.bad_input import PHONE_HEADER
from tests.ingest.hostile_input import (
    CSV_QUARANTINED,
    DAY,
    EMAIL_QUARANTINED,
    FORM_HEADER,
    LANDING_UNEXPECTED,
    PHONE_QUARANTINED,
    SMILE,
    SMS_HEADER,
    UNEXPECTED,
    WEBCHAT_QUARANTINED,
    write_hostile_exports,
)

THE_DAY = date.fromisoformat(DAY)
CHANNELS = ["phone", "email", "webchat", "social", "sms", "letter", "web_form", "face_to_face"]


def _litter(lake: Path, zone: str, day: str, name: str, age_seconds: float) -> Path:
    """A temp file as a write killed mid-way leaves it (lake._prepare's name), `age_seconds` old."""
    folder = lake / zone / "phone" / f"date={day}"
    for p in (lake, lake / zone, lake / zone / "phone", folder):
        p.mkdir(exist_ok=True, mode=0o700)
        p.chmod(0o700)
    path = folder / name
    path.write_bytes(b"PAR1 half a parquet file")
    path.chmod(0o600)
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    exports = write_hostile_exports(root)
    lake = root / "lake"
    litter = {
        "this_day": _litter(lake, "raw", DAY, ".part-0.parquet.999991.tmp", 60),  # killed before this run
        "stale": _litter(lake, "quarantine", "2025-06-01", ".part-0.parquet.999992.tmp", 7200),  # day not re-run
        "live": _litter(lake, "raw", "2025-05-31", ".part-0.parquet.999993.tmp", 0),  # another run writing now
    }
    results = ingest(CHANNELS, [THE_DAY], str(exports), lake, run="hostile-1")
    return {"root": root, "exports": exports, "lake": lake, "results": results, "litter": litter}


def _audit(lake: Path) -> list[dict[str, Any]]:
    return [r for p in sorted((lake / "_audit").rglob("loads.jsonl")) for r in map(json.loads, p.open())]


def _parquet(lake: Path, zone: str, channel: str) -> list[dict[str, Any]]:
    path = lake / zone / channel / f"date={DAY}" / "part-0.parquet"
    return pq.read_table(path).to_pylist() if path.exists() else []


def _quarantined(lake: Path, channel: str, file: str) -> dict[int, dict[str, Any]]:
    return {r["source_row"]: r for r in _parquet(lake, "quarantine", channel) if r["source_file"] == file}


def test_the_day_survives_every_channel_and_every_file_reconciles(landed: dict[str, Any]) -> None:
    lake, exports = landed["lake"], landed["exports"]
    assert [(r["channel"], r["status"]) for r in landed["results"]] == [(c, "published") for c in CHANNELS]
    files = [r for r in _audit(lake) if r.get("file")]
    delivered = {str(p.relative_to(exports)) for p in exports.rglob("*") if p.is_file() and not p.is_symlink()}
    for r in files:
        assert r["rows_read"] == r["rows_loaded"] + r["rows_quarantined"], r
    # the lake agrees with the audit, file by file
    for ch in CHANNELS:
        loaded = [r["source_file"] for r in _parquet(lake, "raw", ch)]
        quarantined = [r["source_file"] for r in _parquet(lake, "quarantine", ch)]
        for r in files:
            if r["channel"] == ch and r["status"] != "unexpected":
                assert (loaded.count(r["file"]), quarantined.count(r["file"])) == \
                    (r["rows_loaded"], r["rows_quarantined"]), r
    # every entry of the landing zone is named in the audit, itself or through the folder holding it
    named = {r["file"] for r in files}
    leaves = []
    for folder, dirs, names in os.walk(os.fsencode(exports)):
        leaves += [os.path.join(folder, n) for n in names]
        leaves += [os.path.join(folder, d) for d in dirs if os.path.islink(os.path.join(folder, d))]
    assert len(leaves) > len(delivered) - 2  # the walk saw the links and the non-UTF-8 name too
    for leaf in leaves:
        rel = os.path.relpath(leaf, os.fsencode(exports)).decode("utf-8", "backslashreplace")
        parts = rel.split("/")
        assert any("/".join(parts[:k]) in named for k in range(1, len(parts) + 1)), f"{rel} is named nowhere"


def test_out_of_range_dates_and_numbers_are_quarantined_naming_field_and_rule(landed: dict[str, Any]) -> None:
    lake = landed["lake"]
    phone = _quarantined(lake, "phone", f"phone/{DAY}/cdr_20250602.csv")
    assert sorted(phone) == sorted(PHONE_QUARANTINED)
    for row, (fld, words) in PHONE_QUARANTINED.items():
        assert (phone[row]["check"], phone[row]["field"]) == ("field", fld), phone[row]
        assert f"field {fld}: " in phone[row]["reason"] and words in phone[row]["reason"], phone[row]["reason"]
    assert sorted(r["contact_id"] for r in _parquet(lake, "raw", "phone")) == \
        ["telephony-cdr:4000001", "telephony-cdr:4000008"]
    for file, expected in CSV_QUARANTINED.items():
        channel = file.split("/")[0]
        got = _quarantined(lake, channel, file)
        assert sorted(got) == sorted(expected), (file, {k: v["reason"] for k, v in got.items()})
        for row, (fld, words) in expected.items():
            assert got[row]["field"] == fld and words in got[row]["reason"], got[row]


def test_malformed_json_is_quarantined_by_record_or_whole_file(landed: dict[str, Any]) -> None:
    lake = landed["lake"]
    email = _quarantined(lake, "email", f"email/{DAY}/mailbox_2025-06-02.jsonl")
    assert sorted(email) == sorted(EMAIL_QUARANTINED)
    for row, (fld, words) in EMAIL_QUARANTINED.items():
        assert email[row]["field"] == fld and words in email[row]["reason"], email[row]
    assert b"\\ud83d" in email[2]["raw_bytes"]  # kept exactly as delivered
    landed_email = {r["contact_id"]: r for r in _parquet(lake, "raw", "email")}
    assert sorted(landed_email) == ["mailbox:<h1@a.example>", "mailbox:<h9@a.example>"]
    assert landed_email["mailbox:<h9@a.example>"]["full_name"] == f"Ann {SMILE}"  # a valid pair is a character

    chats = _quarantined(lake, "webchat", f"webchat/{DAY}/transcripts_2025-06-02.json")
    assert sorted(chats) == sorted(WEBCHAT_QUARANTINED)
    for row, (fld, words) in WEBCHAT_QUARANTINED.items():
        assert chats[row]["field"] == fld and words in chats[row]["reason"], chats[row]
    assert b"\\udc00" in chats[2]["raw_bytes"]
    assert sorted(r["contact_id"] for r in _parquet(lake, "raw", "webchat")) == ["webchat:CH-1", "webchat:CH-6"]
    deep = _quarantined(lake, "webchat", f"webchat/{DAY}/transcripts_2025-06-02_deep.json")
    assert list(deep) == [1] and deep[1]["check"] == "file" and "nested deeper" in deep[1]["reason"]
    assert deep[1]["raw_bytes"] == (landed["exports"] / f"webchat/{DAY}/transcripts_2025-06-02_deep.json").read_bytes()
    audit_deep = next(r for r in _audit(lake) if (r.get("file") or "").endswith("_deep.json"))
    assert audit_deep["status"] == "failed" and "nested deeper" in audit_deep["errors"][0]


def test_values_are_never_changed_silently(landed: dict[str, Any]) -> None:
    lake = landed["lake"]
    letters = {r["contact_id"]: r["full_name"] for r in _parquet(lake, "raw", "letter")}
    assert letters == {"mailroom:ML-100001": "Mrs Zoë Brontë", "mailroom:ML-100002": "Mr Noël Coward",
                       "mailroom:ML-200001": "Mr Noël Coward", "mailroom:ML-200002": "Ms Zoë Wanamaker"}
    (social,) = _parquet(lake, "raw", "social")
    assert social["display_name"] == f"Zoë {SMILE}"
    by_file = {r["file"]: r for r in _audit(lake) if r.get("file")}
    assert "file is valid UTF-8 (4 non-ASCII character(s)) although the channel is cp1252: read as UTF-8" in \
        by_file[f"letter/{DAY}/mailroom_20250602.csv"]["warnings"][0]
    assert by_file[f"letter/{DAY}/mailroom_20250602_mixed.csv"]["warnings"] == [
        "row 2: field Sender Name: valid UTF-8 although the channel is cp1252: read as UTF-8"]
    assert "file is UTF-16 LE (byte-order mark)" in by_file[f"social/{DAY}/social_inbox_2025-06-02.csv"]["warnings"][0]
    # no structured JSON value landed as a Python repr (or at all) in any text column
    for ch in CHANNELS:
        for row in _parquet(lake, "raw", ch):
            reprs = [k for k, v in row.items() if isinstance(v, str) and v[:2] in ("['", "{'", '["', '{"')]
            assert not reprs, (ch, row["contact_id"], reprs)


def test_no_delivered_value_reaches_a_reason_the_audit_or_a_summary(landed: dict[str, Any]) -> None:
    """The new reasons and warnings name field and rule, never the value (PII rule)."""
    lake = landed["lake"]
    outside = json.dumps(_audit(lake), ensure_ascii=False) + json.dumps(landed["results"], ensure_ascii=False)
    reasons = "\n".join(r["reason"] for ch in CHANNELS for r in _parquet(lake, "quarantine", ch))
    values = ["99999999999999999999", "9223372036854775808", "9999999999999", "31/12/9999", "01/01/0001",
              "9999-12-31", "0001-01-01", "02/06/9999", "Ann", "Smith", "Zoë", "Noël", "Wanamaker", "7777777777"]
    for where, text in (("audit and summaries", outside), ("quarantine reasons", reasons)):
        assert not [v for v in values if v in text], where
    raws = "\n".join(r["raw"] for ch in CHANNELS for r in _parquet(lake, "quarantine", ch))
    assert "31/12/9999" in raws and "Ann" in raws  # the values are kept where they belong: the raw rows


def test_every_entry_the_patterns_do_not_read_is_named_unexpected(landed: dict[str, Any]) -> None:
    lake = landed["lake"]
    phone = {r["file"]: r for r in audit.read(lake, "phone", THE_DAY) if r.get("status") == "unexpected"}
    assert sorted(phone) == sorted(UNEXPECTED)
    for file, words in UNEXPECTED.items():
        assert words in phone[file]["warnings"][0], phone[file]
        assert phone[file]["rows_read"] == 0 and phone[file]["run"] == "hostile-1"
    landing = audit.read(lake, audit.LANDING, THE_DAY)
    assert sorted(r["file"] for r in landing) == sorted(LANDING_UNEXPECTED)  # once, though 8 channels saw them
    for r in landing:
        assert LANDING_UNEXPECTED[r["file"]] in r["warnings"][0], r
    summary = next(r for r in landed["results"] if r["channel"] == "phone")
    assert set(summary["unexpected"]) == set(UNEXPECTED) | set(LANDING_UNEXPECTED)


def test_temp_files_of_killed_runs_are_swept_and_named(landed: dict[str, Any]) -> None:
    litter, lake = landed["litter"], landed["lake"]
    assert not litter["this_day"].exists() and not litter["stale"].exists()
    assert litter["live"].exists()  # may be a live write of another day: left alone
    swept = [r for r in _audit(lake) if r.get("status") == "temp_files_removed"]
    assert sorted((r["day"], r["warnings"][0].rsplit(": ", 1)[1]) for r in swept) == [
        ("2025-06-01", "quarantine/phone/date=2025-06-01/.part-0.parquet.999992.tmp"),
        (DAY, f"raw/phone/date={DAY}/.part-0.parquet.999991.tmp")]
    assert not [p for p in lake.rglob("*.tmp") if p != litter["live"]]


def _digests(lake: Path) -> dict[str, str]:
    return {str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
            for zone in ("raw", "quarantine") for p in sorted((lake / zone).rglob("*.parquet"))}


def test_rerunning_the_day_gives_the_same_lake(landed: dict[str, Any], tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(landed["lake"], lake)
    again = ingest(CHANNELS, [THE_DAY], str(landed["exports"]), lake, run="hostile-2")
    assert {r["status"] for r in again} == {"unchanged"}
    rerun = [r for r in audit.read(lake, "phone", THE_DAY) if r["run"] == "hostile-2"]
    assert sorted(r["file"] for r in rerun if r["status"] == "unexpected") == sorted(UNEXPECTED)  # named again
    ingest(CHANNELS, [THE_DAY], str(landed["exports"]), lake, run="hostile-3", force=True)
    assert _digests(lake) == _digests(landed["lake"])


@contextmanager
def unprivileged(*owned: Path) -> Iterator[None]:
    """Run the block as an ordinary user. Root reads a mode-000 file anyway, so under root (as in this repo's
    containers) the block runs as `nobody`, owning `owned`; otherwise it runs as is."""
    if os.geteuid() != 0:
        yield
        return
    nobody = pwd.getpwnam("nobody")
    for top in owned:
        for p in [top, *top.rglob("*")]:
            os.chown(p, nobody.pw_uid, nobody.pw_gid, follow_symlinks=False)
    os.setegid(nobody.pw_gid)
    os.seteuid(nobody.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def world_readable_tmp() -> Iterator[Path]:
    """A temp folder an unprivileged user can reach (pytest's own are root-only under root)."""
    path = Path(tempfile.mkdtemp(prefix="joinedup-unreadable-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_an_unreadable_file_or_folder_is_quarantined_and_named_and_the_rest_of_the_day_kept(
        world_readable_tmp: Path) -> None:
    root = world_readable_tmp
    exports, lake = root / "exports", root / "lake"
    phone = exports / "phone" / DAY
    phone.mkdir(parents=True)
    rows = [f"{n},02/06/2025 09:00:00,07700900{n % 1000:03d},0113,Council Tax,5,60,ANSWERED,A1,Ann,LS6 2AB,"
            for n in (5000001, 5000002)]
    (phone / "cdr_20250602.csv").write_text("\n".join([PHONE_HEADER, rows[0], ""]))
    locked = phone / "cdr_20250602_b.csv"
    locked.write_text("\n".join([PHONE_HEADER, rows[1], ""]))
    locked.chmod(0)
    sms = exports / "sms" / DAY
    sms.mkdir(parents=True)
    (sms / "inbound_20250602.csv").write_text(SMS_HEADER + "\n")
    sms.chmod(0)
    lake.mkdir()
    for p in [exports, *exports.rglob("*")]:
        if p not in (locked, sms):
            p.chmod(0o755 if p.is_dir() else 0o644)

    with unprivileged(lake):  # the DAG's stage task, as its worker would run it
        staged = [stage_day(c, THE_DAY, str(exports), lake, run="locked-1") for c in ("phone", "sms")]
    summaries = [publish_day(m) for m in validate_staged(json.loads(json.dumps(staged)))]

    phone_sum, sms_sum = summaries
    assert (phone_sum["status"], phone_sum["rows_read"], phone_sum["rows_loaded"], phone_sum["rows_quarantined"]) \
        == ("published", 2, 1, 1)
    assert phone_sum["failed_files"] == [f"phone/{DAY}/cdr_20250602_b.csv"]
    rec = {r["file"]: r for r in audit.read(lake, "phone", THE_DAY)}[f"phone/{DAY}/cdr_20250602_b.csv"]
    assert rec["status"] == "failed" and rec["sha256"] is None
    assert "cannot be read (PermissionError: Permission denied): quarantined whole" in rec["errors"][0]
    (q,) = _parquet(lake, "quarantine", "phone")
    assert (q["source_file"], q["check"], q["raw_bytes"]) == (f"phone/{DAY}/cdr_20250602_b.csv", "file", b"")
    assert [r["contact_id"] for r in _parquet(lake, "raw", "phone")] == ["telephony-cdr:5000001"]

    assert (sms_sum["status"], sms_sum["failed_files"]) == ("unreadable_delivery", [f"sms/{DAY}"])
    (folder,) = audit.read(lake, "sms", THE_DAY)
    assert folder["status"] == "failed" and "cannot be listed (PermissionError: Permission denied)" in \
        folder["errors"][0]
    assert not (lake / "raw" / "sms").exists()  # nothing known of the day: nothing replaced

    locked.chmod(0o644)  # fixed: the next run loads it, not "unchanged"
    (again,) = ingest(["phone"], [THE_DAY], str(exports), lake, run="locked-2")
    assert (again["status"], again["rows_loaded"], again["rows_quarantined"]) == ("published", 2, 0)


def test_nets_under_the_rules_quarantine_what_no_rule_foresaw(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapping the field rules do not guard (a text column into an int64 field, seconds between a text and a
    time) costs the rows or the file it hits, never the day."""
    config = DEFAULT_CONFIG.read_text(encoding="utf-8")
    config = config.replace("      reference_id: {from: reference, match: \"^CTA\"}\n",
                            "      reference_id: {from: reference, match: \"^CTA\"}\n      wait_seconds: error\n")
    config = config.replace("      phone: from\n      message_text: message\n",
                            "      phone: from\n      message_text: message\n"
                            "      handle_seconds: {as: seconds_between, between: [direction, occurred_at]}\n")
    assert config.count("wait_seconds: error") == 1 and config.count("between: [direction, occurred_at]") == 1
    (tmp_path / "channels.yml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("JOINEDUP_CHANNELS", str(tmp_path / "channels.yml"))
    exports = tmp_path / "exports"
    forms = exports / "web_form" / DAY
    forms.mkdir(parents=True)
    rows = [f"S-{n},Report a missed bin,2025-06-02T09:00:00Z,2025-06-02T09:05:00Z,submitted,{err},Ann,Smith,"
            f"a{n}@b.example,07700900001,LS6 2AB,1 Road,01/02/1980,CTA{n}" for n, err in ((1, ""), (2, "timeout"))]
    (forms / "submissions_2025-06-02.csv").write_text("\n".join([FORM_HEADER, *rows, ""]))
    sms = exports / "sms" / DAY
    sms.mkdir(parents=True)
    (sms / "inbound_20250602.csv").write_text(
        SMS_HEADER + "\nM1,2025-06-02T09:00:00Z,07700900001,60060,BINS,missed bin,,unreplied\n")
    lake = tmp_path / "lake"

    forms_sum, sms_sum = ingest(["web_form", "sms"], [THE_DAY], str(exports), lake)

    assert (forms_sum["rows_read"], forms_sum["rows_loaded"], forms_sum["rows_quarantined"]) == (2, 1, 1)
    (q,) = _parquet(lake, "quarantine", "web_form")
    assert (q["source_row"], q["field"]) == (2, "wait_seconds") and "cannot be stored as int64" in q["reason"]
    assert (sms_sum["rows_read"], sms_sum["rows_quarantined"], sms_sum["failed_files"]) == \
        (1, 1, [f"sms/{DAY}/inbound_20250602.csv"])
    (whole,) = _parquet(lake, "quarantine", "sms")
    assert whole["check"] == "file" and "could not be processed (TypeError at fields.py:" in whole["reason"]
    assert whole["raw_bytes"].startswith(SMS_HEADER.encode())
