"""Clean simulator output lands whole; re-running is idempotent; a changed file replaces its day."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.ingest import audit
from joinedup.ingest.lake import write_parquet_atomic
from joinedup.ingest.pipeline import ingest
from tests.ingest.simulated import SIM_DAYS, SIM_START

DAYS = [date.fromisoformat(SIM_START) + timedelta(days=i) for i in range(SIM_DAYS)]


def _hashes(lake: Path) -> dict[str, str]:
    return {str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(lake.glob("raw/*/date=*/*.parquet"))}


@pytest.fixture(scope="module")
def landed(simulated: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    exports = tmp_path_factory.mktemp("exports_copy") / "exports"
    shutil.copytree(simulated / "exports", exports)  # this module edits a file; keep the shared fixture clean
    lake = tmp_path_factory.mktemp("lake")
    result = CliRunner().invoke(app, ["ingest", "--exports", str(exports), "--lake", str(lake), "--json"])
    assert result.exit_code == 0, result.output
    summaries = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    return {"exports": exports, "lake": lake, "summaries": summaries, "truth": simulated / "truth"}


def test_clean_output_loads_every_contact_and_quarantines_none(landed: dict) -> None:
    s = landed["summaries"]
    assert len(s) == 8 * SIM_DAYS and all(r["status"] == "published" for r in s)
    assert sum(r["rows_read"] for r in s) > 100
    assert [r for r in s if r["rows_quarantined"] or r["rows_read"] != r["rows_loaded"]] == []
    with open(landed["truth"] / "contacts.csv", newline="") as f:
        truth = {r["contact_id"]: r for r in csv.DictReader(f)}
    lake = duckdb.sql(f"select contact_id, channel, service, outcome, strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') "
                      f"from read_parquet('{landed['lake']}/raw/*/*/*.parquet')").fetchall()
    assert len(lake) == len(truth) == len({r[0] for r in lake})
    for cid, channel, service, _outcome, occurred in lake:  # ids, channels, services and UTC times match truth
        t = truth[cid]
        if channel == "social":  # the social tool exports minutes; the service comes from keyword routing
            assert (occurred[:16], service) == (t["occurred_at"][:16], t["service"]), cid
        else:
            assert (channel, service, occurred) == (t["channel"], t["service"], t["occurred_at"]), cid


def test_same_interval_twice_gives_identical_partitions(landed: dict) -> None:
    lake, exports = landed["lake"], str(landed["exports"])
    before = _hashes(lake)
    again = ingest(["phone", "email"], DAYS, exports, lake)
    assert {r["status"] for r in again} == {"unchanged"}  # byte-identical re-delivery: recognised, not loaded
    forced = ingest(["phone", "email"], DAYS, exports, lake, force=True)
    assert {r["status"] for r in forced} == {"published"}
    assert _hashes(lake) == before
    dupes = duckdb.sql(f"select count(*) - count(distinct contact_id) from "
                       f"read_parquet('{lake}/raw/*/*/*.parquet')").fetchall()
    assert dupes == [(0,)]
    statuses = [r["status"] for r in audit.read(lake, "phone", DAYS[0])]
    assert statuses == ["loaded", "unchanged", "loaded"]


def test_changed_file_replaces_the_day_and_audit_keeps_both(landed: dict) -> None:
    lake, exports = landed["lake"], landed["exports"]
    day = DAYS[1]
    (path,) = (exports / "phone" / f"{day}").glob("*.csv")
    old_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) > 2
    path.write_bytes(b"".join(lines[:-1]))  # the supplier re-sends the day without its last call
    (summary,) = ingest(["phone"], [day], str(exports), lake)
    assert summary["status"] == "published" and summary["rows_loaded"] == len(lines) - 2
    part = pq.read_table(lake / "raw/phone" / f"date={day}" / "part-0.parquet")
    assert part.num_rows == len(lines) - 2
    loads = [r for r in audit.read(lake, "phone", day) if r["status"] == "loaded"]
    assert loads[0]["sha256"] == old_sha and loads[-1]["sha256"] != old_sha
    assert loads[-1]["replaces_sha256"] == old_sha


def test_crash_mid_write_leaves_the_previous_partition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "date=2025-01-01" / "part-0.parquet"
    write_parquet_atomic(pa.table({"x": [1, 2]}), target)
    good = target.read_bytes()

    def crash(table: pa.Table, where: object, **_: object) -> None:
        Path(str(where)).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash)
    with pytest.raises(OSError, match="disk full"):
        write_parquet_atomic(pa.table({"x": [3]}), target)
    assert target.read_bytes() == good and [p.name for p in target.parent.iterdir()] == ["part-0.parquet"]


def test_exports_from_any_fsspec_url(simulated: Path, tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    day = DAYS[2]
    for src in (simulated / "exports" / "sms" / f"{day}").iterdir():
        fs.pipe(f"/council/exports/sms/{day}/{src.name}", src.read_bytes())
    (summary,) = ingest(["sms"], [day], "memory://council/exports", tmp_path)
    (src,) = (simulated / "exports" / "sms" / f"{day}").iterdir()
    assert summary["status"] == "published" and summary["rows_loaded"] == len(src.read_bytes().splitlines()) - 1
    (rec,) = audit.read(tmp_path, "sms", day)
    assert rec["file"] == f"sms/{day}/{src.name}"


def test_parallel_workers_write_the_same_bytes(landed: dict, tmp_path: Path) -> None:
    exports = str(landed["exports"])
    serial = ingest(["sms", "web_form"], DAYS, exports, tmp_path / "serial")
    parallel = ingest(["sms", "web_form"], DAYS, exports, tmp_path / "parallel", workers=2)
    assert [(r["channel"], r["day"], r["rows_loaded"]) for r in serial] == \
        [(r["channel"], r["day"], r["rows_loaded"]) for r in parallel]
    assert _hashes(tmp_path / "serial") == _hashes(tmp_path / "parallel") != {}


def test_a_config_change_reloads_unchanged_files(landed: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same bytes but a new mapping must not be skipped as 'unchanged'."""
    from joinedup.channels import DEFAULT_CONFIG

    lake, exports, day = landed["lake"], str(landed["exports"]), DAYS[3]
    (first,) = ingest(["sms"], [day], exports, lake)
    assert first["status"] == "unchanged"
    changed = tmp_path / "channels.yml"
    changed.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8").replace("BINS: waste", "BINS: general"),
                       encoding="utf-8")
    monkeypatch.setenv("JOINEDUP_CHANNELS", str(changed))
    (second,) = ingest(["sms"], [day], exports, lake)
    assert second["status"] == "published"
    services = set(pq.read_table(lake / "raw/sms" / f"date={day}" / "part-0.parquet").column("service").to_pylist())
    assert "waste" not in services
    monkeypatch.delenv("JOINEDUP_CHANNELS")
    (third,) = ingest(["sms"], [day], exports, lake)  # back to the original config: reloaded again
    assert third["status"] == "published"
