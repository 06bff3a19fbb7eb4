"""Remove what is older than each zone's retention, and audit what went (counts and days, never a value).

The lake is partitioned by day, so expiry removes whole `date=<day>` folders; the landing zone's day folders go
the same way. When raw partitions go, the identity store's links and keys of contacts no longer landed, and the
linkage state's rows about them (persons, identifiers of persons with no contact left, review decisions,
aliases, rejected edges), go in the same run rather than waiting for the next link step. Every removal is a
whole folder or a file written and renamed; a second run on the same day finds nothing and records nothing.
One line per run in `lake/_audit/retention.jsonl`.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pyarrow.parquet as pq

from joinedup.channels import load_channels
from joinedup.identity.link_step import raw_glob
from joinedup.identity.store import IDENTITY_DB, holds_store_lock
from joinedup.identity.subject import STATE, has_raw, sql_str, store_tables
from joinedup.ingest.lake import write_parquet_atomic
from joinedup.retention.policy import load_policy

RETENTION_AUDIT = "retention.jsonl"
LAKE_ZONES = {"raw": "raw", "quarantine": "quarantine", "audit": "_audit"}


def _partition_day(name: str) -> date | None:
    try:
        return date.fromisoformat(name.removeprefix("date="))
    except ValueError:
        return None


def _expire_lake(lake: Path, zone_dir: str, cutoff: date) -> dict[str, Any]:
    """Remove lake/<zone_dir>/<channel>/date=<day>/ folders whose day is before `cutoff`."""
    removed: dict[str, list[str]] = {}
    rows = 0
    for folder in sorted((lake / zone_dir).glob("*/date=*")):
        day = _partition_day(folder.name)
        if day is None or day >= cutoff or not folder.is_dir():
            continue
        for part in folder.glob("*.parquet"):
            rows += pq.ParquetFile(part).metadata.num_rows
        shutil.rmtree(folder)
        removed.setdefault(folder.parent.name, []).append(day.isoformat())
    return {"partitions": sum(map(len, removed.values())), "rows": rows, "days": removed}


def _expire_exports(exports: str, cutoff: date) -> dict[str, Any]:
    """Remove the landing zone's day folders before `cutoff`, channel by channel (any fsspec location)."""
    removed: dict[str, list[str]] = {}
    files = 0
    for name, ch in load_channels().items():
        base = ch.location.format(exports=exports.rstrip("/")).rstrip("/")
        fs, path = fsspec.core.url_to_fs(base)
        if not fs.isdir(path):
            continue
        for child in sorted(fs.ls(path, detail=False)):
            leaf = child.rstrip("/").rsplit("/", 1)[-1]
            day = _partition_day(leaf[:10])
            if day is None or day >= cutoff or ch.day_folder.format(day=day) != leaf or not fs.isdir(child):
                continue
            files += len([p for p in fs.find(child)])
            fs.rm(child, recursive=True)
            removed.setdefault(name, []).append(day.isoformat())
    return {"partitions": sum(map(len, removed.values())), "files": files, "days": removed}


def _expire_bundles(identity: Path, cutoff: date) -> dict[str, Any]:
    folder = identity / "subject_access"
    gone = 0
    for bundle in sorted(folder.glob("*")) if folder.exists() else []:
        made = datetime.fromtimestamp(bundle.stat().st_mtime, UTC).date()
        if made < cutoff:
            shutil.rmtree(bundle) if bundle.is_dir() else bundle.unlink()
            gone += 1
    return {"bundles": gone}


# what goes from the identity store and the linkage state once a contact is no longer landed
_STATE_PRUNE = {
    "persons": "contact_id not in (select contact_id from landed)",
    "decisions": "contact_id not in (select contact_id from landed)",
    "rejected_edges": "contact_id is not null and contact_id not in (select contact_id from landed)",
}
_STATE_AFTER_PERSONS = {  # persons with no landed contact left: what is remembered about them
    "identifiers": "person_id not in (select person_id from kept_persons)",
    "aliases": "person_id not in (select person_id from kept_persons)",
}
_STORE_PRUNE = {
    "contact_links": "contact_id not in (select contact_id from landed)",
    "contact_keys": "contact_id not in (select contact_id from landed)",
    "linkage_decisions": "contact_id not in (select contact_id from landed)",
    "linkage_rejected_edges": _STATE_PRUNE["rejected_edges"],
}


def prune_identity(lake: Path, identity: Path) -> dict[str, int]:
    """Delete identity rows of contacts no longer in the raw lake. Skipped when the raw lake holds nothing at
    all: a wrongly configured lake path must not empty the identity store."""
    if not has_raw(lake):
        return {}
    counts: dict[str, int] = {}
    state = identity / STATE
    with duckdb.connect() as con:
        con.execute(f"create table landed as select distinct contact_id from read_parquet('{raw_glob(lake)}', "
                    "union_by_name = true)")
        for name, where in (*_STATE_PRUNE.items(), *_STATE_AFTER_PERSONS.items()):
            if name == "identifiers":
                persons = state / "persons.parquet"
                src = f"read_parquet('{sql_str(persons)}')" if persons.exists() else \
                    "(select null::varchar as person_id where false)"
                con.execute(f"create or replace table kept_persons as select distinct person_id from {src}")
            path = state / f"{name}.parquet"
            if not path.exists():
                continue
            src = f"read_parquet('{sql_str(path)}')"
            n = con.execute(f"select count(*) from {src} where {where}").fetchall()[0][0]
            if n:
                write_parquet_atomic(con.sql(f"select * from {src} where not coalesce({where}, false)")
                                     .to_arrow_table(), path, restricted_root=path.parent)
            counts[f"state_{name}"] = n
        store = identity / IDENTITY_DB
        if store.exists():
            tmp = store.with_name(f".{IDENTITY_DB}.retention.{os.getpid()}.tmp")
            shutil.copyfile(store, tmp)
            try:
                con.execute(f"attach '{sql_str(tmp)}' as store")
                tables = store_tables(con, "store")
                con.execute("begin transaction")
                for table, where in _STORE_PRUNE.items():
                    if table in tables:
                        n = con.execute(f"select count(*) from store.{table} where {where}").fetchall()[0][0]
                        if n:
                            con.execute(f"delete from store.{table} where {where}")
                        counts[f"store_{table}"] = n
                if "person_keys" in tables and "contact_links" in tables:
                    where = "person_id not in (select person_id from store.contact_links)"
                    counts["store_person_keys"] = con.execute(
                        f"select count(*) from store.person_keys where {where}").fetchall()[0][0]
                    con.execute(f"delete from store.person_keys where {where}")
                con.execute("commit")
                con.execute("checkpoint store")
                con.execute("detach store")
                if any(v for k, v in counts.items() if k.startswith("store_")):
                    os.replace(tmp, store)
                    store.chmod(0o600)
            finally:
                tmp.unlink(missing_ok=True)
    return counts


@holds_store_lock
def apply_retention(lake: Path, identity: Path, exports: str, today: date | None = None,
                    policy: dict[str, int | None] | None = None) -> dict[str, Any]:
    """Remove expired data from every zone; return (and append to the audit) what went, without any value."""
    today = today or datetime.now(UTC).date()
    policy = policy if policy is not None else load_policy()
    zones: dict[str, Any] = {}
    for zone, days in policy.items():
        if days is None:
            continue
        cutoff = today - timedelta(days=days)
        if zone in LAKE_ZONES:
            done = _expire_lake(lake, LAKE_ZONES[zone], cutoff)
        elif zone == "exports":
            done = _expire_exports(exports, cutoff)
        else:
            done = _expire_bundles(identity, cutoff)
        zones[zone] = {"retention_days": days, "removed_before": cutoff.isoformat(), **done}
    if zones.get("raw", {}).get("partitions"):
        zones["identity"] = prune_identity(lake, identity)
    record = {"ran_at": datetime.now(UTC).isoformat(timespec="seconds"), "as_of": today.isoformat(),
              "policy": policy, "zones": zones}
    removed = any(z.get("partitions") or z.get("bundles") for z in zones.values() if isinstance(z, dict)) \
        or any(zones.get("identity", {}).values())
    record["removed_anything"] = bool(removed)
    if removed:
        path = lake / "_audit" / RETENTION_AUDIT
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
    return record
