"""What has landed, per channel and day: the facts `journeys` schedules on and the freshness the UI shows.

- `last_landed`: the newest day each channel has in lake/raw (freshness, in the publish Asset event's extra).
- `in_flight`: delivered days (their folder exists in the landing zone) that the lake does not hold yet, i.e. an
  ingest run that is still working on them. `journeys` waits for these (bounded) before it links, so that a day
  whose channels land a few minutes apart is published once, not once per channel.
- `inputs_fingerprint`: a digest of every landed partition and of the register. A scheduled or Asset-triggered
  `journeys` run whose inputs equal those of the last publish has nothing to do and stops early.

Reads names, sizes and times of files, never their contents.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from joinedup import paths
from joinedup.channels import BUSINESS_TZ, load_channels

LOOKBACK_DAYS = 7  # in_flight looks at the last week of day folders: older re-deliveries are operator re-runs


def landed_days(lake: Path, channel: str) -> list[date]:
    out = []
    for part in (lake / "raw" / channel).glob("date=*"):
        try:
            out.append(date.fromisoformat(part.name.removeprefix("date=")))
        except ValueError:
            continue
    return sorted(out)


def last_landed(lake: Path | None = None) -> dict[str, str | None]:
    """channel -> the newest landed day (ISO), or None before its first landing; in channels.yml order."""
    lake = lake or paths.lake_root()
    out: dict[str, str | None] = {}
    for name in load_channels():
        days = landed_days(lake, name)
        out[name] = days[-1].isoformat() if days else None
    return out


def _handled(lake: Path, channel: str, day: date) -> bool:
    """Landed, or the ingest run has recorded an outcome for it (failed or unreadable files are audited too)."""
    from joinedup.ingest import audit

    return (lake / "raw" / channel / f"date={day}").exists() or bool(audit.read(lake, channel, day))


def in_flight(today: date | None = None, lookback: int = LOOKBACK_DAYS) -> list[str]:
    """`channel/day` for every delivered day of the last `lookback` days (before today, London) not yet landed."""
    from joinedup.ingest.pipeline import delivery_status

    lake = paths.lake_root()
    today = today or datetime.now(ZoneInfo(BUSINESS_TZ)).date()
    out = []
    for name, ch in load_channels().items():
        first = max(date.fromisoformat(ch.start_date[:10]), today - timedelta(days=lookback))
        day = first
        while day < today:
            if delivery_status(name, day) != "missing" and not _handled(lake, name, day):
                out.append(f"{name}/{day}")
            day += timedelta(days=1)
    return out


def inputs_fingerprint() -> dict[str, Any]:
    """Digest of what the link step reads: every landed partition file (path, size, mtime) and the register."""
    lake = paths.lake_root()
    h = hashlib.sha256()
    files = sorted(p for p in (lake / "raw").glob("*/date=*/*.parquet"))
    for p in files:
        st = p.stat()
        h.update(f"{p.relative_to(lake)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    reg = paths.register_path()
    if reg.exists():
        st = reg.stat()
        h.update(f"register\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return {"sha256": h.hexdigest(), "partitions": len(files)}


def published_inputs_file() -> Path:
    """Beside the warehouse (restricted): the fingerprint of the inputs of the last publish."""
    return paths.warehouse_path().parent / "published_inputs.json"


def read_published_inputs() -> dict[str, Any] | None:
    f = published_inputs_file()
    if not f.exists() or not paths.analytics_path().exists():
        return None
    return json.loads(f.read_text(encoding="utf-8"))


def record_published_inputs(fingerprint: dict[str, Any]) -> None:
    f = published_inputs_file()
    f.parent.mkdir(parents=True, exist_ok=True)
    tmp = f.with_name(f".{f.name}.tmp")
    tmp.write_text(json.dumps(fingerprint, sort_keys=True), encoding="utf-8")
    tmp.replace(f)
