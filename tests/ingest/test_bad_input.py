"""Acceptance: the bad-input fixture. Every kind of bad delivery is read, nothing is lost, and each problem is
named by file, row and field."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from joinedup.ingest import audit
from joinedup.ingest.pipeline import ingest
from tests.ingest.bad_input import (
    DAY,
    EMPTY_DAY,
    HYPERLINK,
    LONG_TEXT,
    MISSING_DAY,
    SPRING,
    write_bad_exports,
)

CHANNELS = ["phone", "email", "webchat", "social", "letter"]
DAYS = [date.fromisoformat(d) for d in (SPRING, DAY, EMPTY_DAY, MISSING_DAY)]


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("bad")
    exports = write_bad_exports(root)
    lake = root / "lake"
    results = ingest(CHANNELS, DAYS, str(exports), lake)
    return {"exports": exports, "lake": lake, "results": results}


def _raw(lake: Path, ch: str, day: str) -> list[dict[str, Any]]:
    return pq.read_table(lake / "raw" / ch / f"date={day}" / "part-0.parquet").to_pylist()


def _quarantine(lake: Path, ch: str, day: str) -> list[dict[str, Any]]:
    return pq.read_table(lake / "quarantine" / ch / f"date={day}" / "part-0.parquet").to_pylist()


def _files(lake: Path, ch: str, day: str) -> dict[str, dict[str, Any]]:
    return {r["file"].rsplit("/", 1)[-1]: r for r in audit.read(lake, ch, date.fromisoformat(day)) if r.get("file")}


def test_every_file_rows_read_equals_loaded_plus_quarantined(landed: dict[str, Any]) -> None:
    lake = landed["lake"]
    records = [r for p in sorted((lake / "_audit").rglob("loads.jsonl")) for r in map(json.loads, p.open())
               if r.get("file")]
    delivered = sorted(str(p.relative_to(landed["exports"])) for p in landed["exports"].rglob("*") if p.is_file())
    assert sorted(r["file"] for r in records) == delivered  # every delivered file has its audit row
    for r in records:
        assert r["rows_read"] == r["rows_loaded"] + r["rows_quarantined"], r
        assert len(r["sha256"]) == 64 and r["started_at"] <= r["finished_at"]
    # and the lake agrees with the audit, file by file
    for ch in CHANNELS:
        for part in (lake / "raw" / ch).glob("date=*/part-0.parquet"):
            day = part.parent.name.removeprefix("date=")
            files = _files(lake, ch, day)
            loaded = [r["source_file"].rsplit("/", 1)[-1] for r in _raw(lake, ch, day)]
            qpath = lake / "quarantine" / ch / f"date={day}" / "part-0.parquet"
            quarantined = [r["source_file"].rsplit("/", 1)[-1] for r in _quarantine(lake, ch, day)] \
                if qpath.exists() else []
            for name, rec in files.items():
                assert loaded.count(name) == rec["rows_loaded"], (ch, name)
                assert quarantined.count(name) == rec["rows_quarantined"], (ch, name)


def test_phone_day_outcome_row_by_row(landed: dict[str, Any]) -> None:
    lake = landed["lake"]
    main = _files(lake, "phone", DAY)["cdr_20251026.csv"]
    assert (main["rows_read"], main["rows_loaded"], main["rows_quarantined"]) == (17, 8, 9)
    q = {r["source_row"]: r for r in _quarantine(lake, "phone", DAY) if r["source_file"].endswith("cdr_20251026.csv")}
    expected = {
        6: ("field", "StartTime", "not a real date"),
        8: ("duplicate", None, "identical to phone/2025-10-26/cdr_20251026.csv row 1"),
        9: ("parse", "<field 13>", "13 fields where the header has 12"),
        10: ("parse", None, "unbalanced quote"),
        12: ("gx", "wait_seconds", "expect_column_values_to_be_between"),
        13: ("gx", "occurred_at", "-365 day(s) away from the delivery day"),
        15: ("parse", "CallerName", "byte 0x81"),
        16: ("field", "Disposition", "not one of the values the field's map lists (3 known: ABANDONED, ANSWERED, CLOSED"),
        17: ("parse", None, "truncated last line"),
    }
    assert sorted(q) == sorted(expected)
    for n, (check, fld, words) in expected.items():
        assert (q[n]["check"], q[n]["field"]) == (check, fld), q[n]
        assert q[n]["reason"].startswith(f"phone/2025-10-26/cdr_20251026.csv row {n} (line {n + 1})")
        assert words in q[n]["reason"], q[n]["reason"]
    # the raw row is kept byte for byte, undecodable bytes included
    assert q[15]["raw_bytes"].startswith(b"1000015,") and b"\x81\x8d" in q[15]["raw_bytes"]
    assert q[17]["raw_bytes"] == b"1000017,26/10/2025 10:5"


def test_clock_change_formula_text_and_cp1252_fallback(landed: dict[str, Any]) -> None:
    lake = landed["lake"]
    rows = {r["contact_id"]: r for r in _raw(lake, "phone", DAY)}
    utc = {k.split(":")[1]: v["occurred_at"] for k, v in rows.items()}
    assert utc["1000002"] == datetime(2025, 10, 26, 0, 15)  # 01:15 BST
    assert utc["1000003"] == datetime(2025, 10, 26, 0, 45)  # 01:45 BST
    assert utc["1000004"] == datetime(2025, 10, 26, 1, 5)  # 01:05 GMT, after the clock stepped back
    assert utc["1000005"] == datetime(2025, 10, 26, 1, 30)
    assert rows["telephony-cdr:1000007"]["full_name"] == HYPERLINK  # inert text, unchanged
    assert rows["telephony-cdr:1000014"]["full_name"] == "Fay Renée £3"  # stray cp1252 bytes, read as cp1252
    warnings = " ".join(_files(lake, "phone", DAY)["cdr_20251026.csv"]["warnings"])
    assert "read as GMT (second pass" in warnings and "row 14: field CallerName: byte 0xe9" in warnings
    spring = {r["contact_id"]: r["occurred_at"] for r in _raw(lake, "phone", SPRING)}
    assert spring["telephony-cdr:2000002"] == datetime(2025, 3, 30, 1, 30)  # 01:30 never happened: read as GMT
    assert "skipped hour" in " ".join(_files(lake, "phone", SPRING)["cdr_20250330.csv"]["warnings"])


def test_file_level_cases(landed: dict[str, Any]) -> None:
    files = _files(landed["lake"], "phone", DAY)
    assert files["cdr_20251026_b.csv"]["warnings"] == ["extra column(s) ignored: Notes"]
    assert files["cdr_20251026_b.csv"]["rows_loaded"] == 1
    copy = files["cdr_20251026_b_copy.csv"]
    assert copy["status"] == "duplicate_file" and copy["sha256"] == files["cdr_20251026_b.csv"]["sha256"]
    failed = files["cdr_20251026_c.csv"]
    assert failed["status"] == "failed" and failed["rows_quarantined"] == 2
    assert "missing required column(s) Disposition" in failed["errors"][0]
    assert files["cdr_20251026_d.csv"]["status"] == "empty"
    header_only = files["cdr_20251026_e.csv"]
    assert header_only["status"] == "loaded" and header_only["rows_read"] == 0


def test_empty_day_is_not_a_missing_delivery(landed: dict[str, Any]) -> None:
    lake = landed["lake"]
    empty = audit.read(lake, "phone", date.fromisoformat(EMPTY_DAY))
    assert [r["status"] for r in empty] == ["empty_day"]
    assert pq.read_table(lake / "raw/phone" / f"date={EMPTY_DAY}" / "part-0.parquet").num_rows == 0
    missing = audit.read(lake, "phone", date.fromisoformat(MISSING_DAY))
    assert [r["status"] for r in missing] == ["missing_delivery"]
    assert "does not exist" in missing[0]["errors"][0]
    assert not (lake / "raw/phone" / f"date={MISSING_DAY}").exists()
    by_day = {r["day"]: r["status"] for r in landed["results"] if r["channel"] == "phone"}
    assert by_day[EMPTY_DAY] == "empty_day" and by_day[MISSING_DAY] == "missing_delivery"


def test_other_channels(landed: dict[str, Any]) -> None:
    lake = landed["lake"]
    letters = _raw(lake, "letter", DAY)
    assert [r["full_name"] for r in letters] == ["Mrs Zoë Brontë", "Mr Noël Coward"]  # cp1252 decoded
    assert letters[0]["message_text"] == "Refund of £120 please"
    assert letters[0]["occurred_at"] == datetime(2025, 10, 26, 9, 0)  # no scan time: 09:00 local
    social = _raw(lake, "social", DAY)
    assert social[0]["contact_id"] == "social-inbox:X-1" and social[0]["message_text"] == LONG_TEXT  # kept whole, even the trailing space
    assert social[1]["message_text"] == HYPERLINK and social[2]["message_text"] == "line one\nline two, with a comma"
    assert social[0]["occurred_at"] == datetime(2025, 10, 26, 0, 30)  # lone repeated-hour time: BST, warned
    assert "no step back" in " ".join(_files(lake, "social", DAY)["social_inbox_2025-10-26.csv"]["warnings"])
    email = {r["source_row"]: r for r in _quarantine(lake, "email", DAY)}
    assert sorted(email) == [2, 3, 4, 5]
    assert email[3]["field"] == "message_id" and email[4]["field"] == "received_utc"
    assert "truncated" in email[5]["reason"]
    assert _raw(lake, "email", DAY)[0]["email"] == "a@b.example"
    chats = _files(lake, "webchat", DAY)["transcripts_2025-10-26.json"]
    assert chats["status"] == "failed" and chats["rows_quarantined"] == 1
    (whole,) = _quarantine(lake, "webchat", DAY)
    assert whole["raw_bytes"].startswith(b'{"export_date"')


def test_cli_exit_code_flags_a_missing_delivery(bad_exports: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from joinedup.cli import app

    args = ["ingest", "--exports", str(bad_exports), "--lake", str(tmp_path), "--channel", "phone", "--json"]
    missing = CliRunner().invoke(app, [*args, "--date", MISSING_DAY])
    assert missing.exit_code == 1 and '"status": "missing_delivery"' in missing.output
    empty = CliRunner().invoke(app, [*args, "--date", EMPTY_DAY])
    assert empty.exit_code == 0 and '"status": "empty_day"' in empty.output
