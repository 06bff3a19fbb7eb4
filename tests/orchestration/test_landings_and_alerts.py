"""What `journeys` decides from the landing zone and the lake (no scheduler): a delivered day not yet landed is
in flight, a landed or audited one is not; the inputs' fingerprint changes when a partition is rewritten; and the
alert log gets one JSON line per callback, naming where, never the data."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from joinedup.orchestration import alerts, landings


@pytest.fixture
def zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    exports, lake = tmp_path / "exports", tmp_path / "lake"
    monkeypatch.setenv("JOINEDUP_EXPORTS", str(exports))
    monkeypatch.setenv("JOINEDUP_LAKE", str(lake))
    monkeypatch.setenv("JOINEDUP_REGISTER", str(tmp_path / "register.csv"))
    monkeypatch.setenv("JOINEDUP_ALERT_LOG", str(tmp_path / "alerts.jsonl"))
    return exports, lake


def test_a_delivered_day_is_in_flight_until_it_lands(zone: tuple[Path, Path]) -> None:
    exports, lake = zone
    today = date(2025, 3, 10)
    day = today - timedelta(days=1)
    assert landings.in_flight(today) == []
    (exports / "phone" / day.isoformat()).mkdir(parents=True)  # an empty day is a delivery too
    (exports / "email" / today.isoformat()).mkdir(parents=True)  # today's run has not started: not awaited
    assert landings.in_flight(today) == [f"phone/{day}"]
    part = lake / "raw" / "phone" / f"date={day}"
    part.mkdir(parents=True)
    (part / "part-0.parquet").write_bytes(b"x")
    assert landings.in_flight(today) == []
    assert landings.last_landed(lake)["phone"] == day.isoformat() and landings.last_landed(lake)["email"] is None


def test_the_fingerprint_changes_when_a_partition_is_rewritten(zone: tuple[Path, Path]) -> None:
    _, lake = zone
    part = lake / "raw" / "sms" / "date=2025-03-03"
    part.mkdir(parents=True)
    (part / "part-0.parquet").write_bytes(b"one")
    first = landings.inputs_fingerprint()
    assert landings.inputs_fingerprint() == first and first["partitions"] == 1
    (part / "part-0.parquet").write_bytes(b"three")
    assert landings.inputs_fingerprint() != first


def test_callbacks_write_alert_lines(zone: tuple[Path, Path]) -> None:
    class TI:
        dag_id, task_id, run_id, try_number = "journeys", "quality_gate", "asset_triggered__x", 2

    from joinedup.quality.gate import GateFailed

    alerts.task_failed({"ti": TI(), "exception": GateFailed("suite fct_contacts: 3 expectations failed\nmore")})
    alerts.missing_delivery({"ti": TI()}, "letter", ["2025-03-04"])
    TI.task_id = "link_contacts"  # a library's error may quote a raw value: only its type reaches the alert log
    alerts.task_failed({"ti": TI(), "exception": ValueError("invalid literal for int() with base 10: 'Zoë Birch'")})
    gate, missing, link = alerts.read_alerts()
    assert (gate["kind"], gate["dag_id"], gate["run_id"]) == ("quality_gate_failed", "journeys", "asset_triggered__x")
    assert gate["message"] == "GateFailed: suite fct_contacts: 3 expectations failed"
    assert (link["kind"], link["message"]) == ("task_failed", "ValueError (message in the task's log)")
    assert "Zoë" not in alert_text(alerts.alert_log())
    assert (missing["kind"], missing["channel"], missing["days"]) == ("missing_delivery", "letter", ["2025-03-04"])


def alert_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")
