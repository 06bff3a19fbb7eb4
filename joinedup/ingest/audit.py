"""The load audit: one JSON line per file per load under lake/_audit/<channel>/date=<day>/loads.jsonl.

JSONL rather than a shared DuckDB file, so parallel DAG runs never contend for a lock; DuckDB reads it with
`read_json('lake/_audit/*/*/loads.jsonl')`. Records are only ever appended, so a replaced file shows both
loads.
"""

from __future__ import annotations

import fcntl
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

PROCESSED = frozenset({"loaded", "empty", "failed", "replaced"})
LANDING = "_landing"  # the landing audit: what lies in the landing zone outside any channel's day folder


def audit_file(lake: Path, channel: str, day: date) -> Path:
    return lake / "_audit" / channel / f"date={day:%Y-%m-%d}" / "loads.jsonl"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def append(lake: Path, channel: str, day: date, records: list[dict[str, Any]]) -> None:
    path = audit_file(lake, channel, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)


def append_new(lake: Path, channel: str, day: date, records: list[dict[str, Any]],
               key: tuple[str, ...] = ("file", "status", "kind")) -> list[dict[str, Any]]:
    """Append the records the day's audit does not hold yet (compared on `key`), under an exclusive lock:
    several channels' tasks report the same landing zone at once, and each stray is named once a day."""
    path = audit_file(lake, channel, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
        f.seek(0)
        have = {tuple(r.get(k) for k in key) for r in (json.loads(line) for line in f if line.strip())}
        new = [r for r in records if tuple(r.get(k) for k in key) not in have]
        f.writelines(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in new)
    return new


def read(lake: Path, channel: str, day: date) -> list[dict[str, Any]]:
    path = audit_file(lake, channel, day)
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def last_loaded(records: list[dict[str, Any]], config_sha256: str | None = None) -> dict[str, str]:
    """file -> sha256 as of the day's latest load; empty if that load ran with another config."""
    loads = [r for r in records if r.get("file") and r.get("status") in PROCESSED | {"unchanged", "duplicate_file"}]
    if not loads:
        return {}
    last_run = loads[-1]["run"]
    latest = [r for r in loads if r["run"] == last_run]
    if config_sha256 is not None and any(r.get("config_sha256") != config_sha256 for r in latest):
        return {}
    return {r["file"]: r["sha256"] for r in latest}


def ever_loaded(records: list[dict[str, Any]]) -> dict[str, str]:
    """file -> sha256 of the version loaded before, to show what a changed file replaces."""
    out: dict[str, str] = {}
    for r in records:
        if r.get("file") and r.get("status") in PROCESSED:
            out[r["file"]] = r["sha256"]
    return out
