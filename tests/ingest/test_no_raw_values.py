"""No raw value leaves the restricted zones: exports whose bad values look like PII (names, emails, phone numbers)
fail field mapping, format, whole-number and GX checks, and none of those values appears in the audit, the
quarantine's reasons, the warnings, the step functions' returns (the ingest DAG's XComs), the CLI's output or the
log. They do appear where they belong: in the quarantined raw rows (or, for a row GX only monitors, the landed
row), both restricted."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.ingest.pipeline import publish_day, stage_day, validate_staged
from tests.ingest.bad_input import DAY, PHONE_HEADER

# Each bad value is distinctive, so finding it anywhere means it leaked.
IN_MAP = "Penelope Quayle-Harbottle"  # Disposition: not in the field's own map
IN_NAMED_MAP = "Bartholomew Snodgrass"  # Queue: not in map queue_service
IN_DATE = "zebedee.quint@example.org"  # StartTime: does not match %d/%m/%Y %H:%M:%S
IN_INT = "+44 7911 654321"  # TalkSecs: not a whole number
IN_SECONDS = "07911 246810"  # WaitSecs: not a whole number of seconds, nor a whole number
IN_KEY = "MAUDE-GRIMSHAW"  # CallID: delivered twice (duplicate) and failing the contact_id regex (GX)
MONITORED = "wolfgang.pettigrew@example.net"  # CLI: fails a `mostly` regex, a GX warning; the row is loaded
HEADERLESS = "Ottoline Fennimore"  # a file without a header: its first row is read as the header, not kept
IN_ISO = "Cressida Wolstenholme"  # email received_utc: not an ISO 8601 timestamp
QUARANTINED = [IN_MAP, IN_NAMED_MAP, IN_DATE, IN_INT, IN_SECONDS, IN_KEY, IN_ISO]
EVERY_VALUE = [*QUARANTINED, MONITORED, HEADERLESS]


def _row(call_id: str, when: str = "26/10/2025 10:00:00", cli: str = "07700900123", queue: str = "Council Tax",
         wait: str = "30", talk: str = "120", disposition: str = "ANSWERED") -> str:
    return f"{call_id},{when},{cli},01132224000,{queue},{wait},{talk},{disposition},A1001,Ann Other,LS6 2AB,"


def write_pii_exports(root: Path) -> Path:
    ex = root / "exports"
    phone = ex / "phone" / DAY
    phone.mkdir(parents=True)
    rows = [_row("3000001"), _row("3000002", disposition=IN_MAP), _row("3000003", queue=IN_NAMED_MAP),
            _row("3000004", when=IN_DATE), _row("3000005", talk=IN_INT), _row("3000006", wait=IN_SECONDS),
            _row(IN_KEY), _row(IN_KEY), _row("3000009", cli=MONITORED), _row("3000010")]
    (phone / "cdr_20251026.csv").write_text("\n".join([PHONE_HEADER, *rows, ""]))
    (phone / "cdr_20251026_noheader.csv").write_text(
        "\n".join([_row("3100001").replace("Ann Other", HEADERLESS), _row("3100002"), ""]))
    email = ex / "email" / DAY
    email.mkdir(parents=True)
    (email / "mailbox_2025-10-26.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"message_id": "<1@a.example>", "received_utc": "2025-10-26T08:00:00Z",
         "mailbox": "waste@ridings.example.gov.uk", "from_address": "a@b.example", "from_name": "A B"},
        {"message_id": "<2@a.example>", "received_utc": IN_ISO, "mailbox": "waste@ridings.example.gov.uk",
         "from_address": "c@d.example", "from_name": "C D"}]) + "\n")
    return ex


def _quarantine(lake: Path) -> list[dict[str, Any]]:
    return [r for p in sorted((lake / "quarantine").rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]


def _outside_restricted(lake: Path) -> str:
    """Every file of the lake outside raw/, quarantine/ and _staging/ (the audit, above all), as text."""
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(lake.rglob("*"))
                     if p.is_file() and p.relative_to(lake).parts[0] not in ("raw", "quarantine", "_staging"))


def _assert_no_value(where: str, text: str) -> None:
    leaked = [v for v in EVERY_VALUE if v in text]
    assert not leaked, f"{where} carries raw value(s) {leaked}"


def test_no_raw_value_outside_the_restricted_zones(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    exports = write_pii_exports(tmp_path)
    caplog.set_level(logging.DEBUG)
    day = date.fromisoformat(DAY)

    # the ingest DAG's tasks, step by step: what each returns is its XCom (and Airflow logs it)
    lake = tmp_path / "lake"
    xcoms: list[Any] = []
    for channel in ("phone", "email"):
        staged = stage_day(channel, day, str(exports), lake, run="pii-test")
        validated = validate_staged([json.loads(json.dumps(staged))])
        xcoms += [staged, validated, [publish_day(m) for m in validated]]
    _assert_no_value("the step functions' returns (XComs)", json.dumps(xcoms))

    # the CLI, as an operator runs it
    cli_lake = tmp_path / "cli_lake"
    result = CliRunner().invoke(app, ["ingest", "--exports", str(exports), "--lake", str(cli_lake), "--date", DAY,
                                      "--channel", "phone", "--channel", "email", "--json"])
    assert result.exit_code == 1, result.output  # the header-less file failed
    _assert_no_value("the CLI's output", result.output)
    _assert_no_value("the log", caplog.text)

    for lk in (lake, cli_lake):
        _assert_no_value(f"{lk}: the audit and the rest outside the restricted zones", _outside_restricted(lk))
        audit = [json.loads(line) for p in (lk / "_audit").rglob("loads.jsonl") for line in p.open()]
        warnings = [w for r in audit for w in r.get("warnings", [])]
        assert any("regex" in w and "phone" in w for w in warnings), warnings  # the monitored row was noticed
        quarantine = _quarantine(lk)
        reasons = [r["reason"] for r in quarantine]
        _assert_no_value(f"{lk}: quarantine reasons", "\n".join(reasons))
        _assert_no_value(f"{lk}: quarantine fields", json.dumps([r["field"] for r in quarantine]))
        raws = "\n".join(r["raw"] for r in quarantine)
        assert [v for v in QUARANTINED if v not in raws] == []  # each bad row is kept as delivered
        landed = "\n".join(str(r) for p in (lk / "raw").rglob("*.parquet") for r in pq.read_table(p).to_pylist())
        assert MONITORED in landed

        # the reasons still say which file, row, field and rule
        by_row = {(r["source_file"].rsplit("/", 1)[-1], r["source_row"], r["check"]): r["reason"] for r in quarantine}
        main = "cdr_20251026.csv"
        assert "field Disposition: not one of the values the field's map lists (3 known" in by_row[(main, 2, "field")]
        assert "field Queue: not one of the values map queue_service lists" in by_row[(main, 3, "field")]
        assert "field StartTime: does not match %d/%m/%Y %H:%M:%S (got 25 characters: letters, other characters)" \
            in by_row[(main, 4, "field")]
        assert "field TalkSecs: not a whole number (got 15 characters: digits, spaces, other characters)" \
            in by_row[(main, 5, "field")]
        assert "field WaitSecs: not a whole number of seconds" in by_row[(main, 6, "field")]
        assert "duplicate natural key (contact_id), identical to phone/2025-10-26/cdr_20251026.csv row 7" \
            in by_row[(main, 8, "duplicate")]
        assert "field contact_id: failed phone: expect_column_values_to_match_regex(column='contact_id'" \
            in by_row[(main, 7, "gx")]
        assert "missing required column(s) CallID, StartTime, Queue, Disposition (the header has 12 column(s), " \
            "0 of them known)" in by_row[("cdr_20251026_noheader.csv", 1, "file")]
        assert "field received_utc: not an ISO 8601 timestamp (got 21 characters: letters, spaces)" \
            in by_row[("mailbox_2025-10-26.jsonl", 2, "field")]
