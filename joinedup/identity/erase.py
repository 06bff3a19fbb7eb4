"""`joinedup erase`: remove a citizen from every zone, keep them out of later deliveries, and say so without PII.

The order is chosen so that a crash at any point leaves nothing worse than before, and re-running finishes it:
1. the suppression list gains keyed hashes of their contacts' source ids and of their identifiers, so a delivery
   landing while the erasure runs (or after) is already kept out;
2. the raw lake partitions holding their contacts are rewritten without them (write, then rename);
3. quarantined rows carrying one of their identifiers are dropped (same);
4. the linkage state's tables (persons, identifiers, decisions, aliases, rejected edges) are rewritten without
   them;
5. the identity store is rewritten on a copy that is then swapped in (links, keys, review decisions, aliases,
   rejected edges, the relink audit);
6. one line in `lake/_audit/erasures.jsonl`: when, the `requested_by` reference, a keyed hash of the citizen id
   and the counts per zone. No value that names the person.
Then the link step rebuilds the pseudonymous lake (`lake/linked`) from what is left, unless told not to; the
warehouse and the analytics file drop them at the next journeys run.

The register is the council's system of record (its CRM export), not joinedup's: erase them there too. The
prepared-register cache in the linkage state is keyed by the register file's bytes, so the first link step after
the register changes prepares it again without them.

An identifier another person also carries (a household landline, a shared e-mail, a value another register
citizen holds) is not suppressed, and quarantined rows are not dropped for it: suppressing it would erase the
other person's contacts too. The audit counts how many were kept for that reason.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from joinedup.identity.link_step import raw_glob
from joinedup.identity.pseudonym import key_check, keyed_hashes
from joinedup.identity.store import IDENTITY_DB, holds_store_lock
from joinedup.identity.subject import STATE, Footprint, footprint, has_raw, sql_str, store_tables, value_table
from joinedup.ingest.lake import write_parquet_atomic
from joinedup.ingest.suppress import (
    IDENTIFIER_KINDS,
    SUPPRESSION_FILE,
    SUPPRESSION_SCHEMA,
    hash_kind,
    identifiers_in_text,
    normalise,
)
from joinedup.review.decisions import remove_rows

ERASURES_AUDIT = "erasures.jsonl"
CITIZEN_HASH_KIND = "erased-citizen"  # never a published key's namespace: the audit cannot be joined to a mart

# table -> where clause naming the citizen: :c = their contact ids, :p = their person ids, ? = the citizen id
STATE_FILTERS = {
    "persons": "contact_id in (select id from c) or citizen_id = $1 or person_id in (select id from p)",
    "identifiers": "person_id in (select id from p) or citizen_id = $1",
    "decisions": "contact_id in (select id from c) or citizen_id = $1",
    "aliases": "old_person_id in (select id from p) or person_id in (select id from p)",
    "rejected_edges": "contact_id in (select id from c) or citizen_id = $1 or other_id in (select id from c) "
                      "or other_id in (select id from p)",
    # a context join (linkage.context) of their contact, or of someone's contact to their journey
    "context_links": "contact_id in (select id from c) or anchor_contact_id in (select id from c)",
}
STORE_FILTERS = {
    "contact_links": "contact_id in (select id from c) or citizen_id = $1 or person_id in (select id from p)",
    "contact_keys": "contact_id in (select id from c)",
    "person_keys": "person_id in (select id from p)",
    "linkage_decisions": STATE_FILTERS["decisions"],
    "linkage_aliases": STATE_FILTERS["aliases"],
    "linkage_rejected_edges": STATE_FILTERS["rejected_edges"],
    "relink_audit": "contact_id in (select id from c) or citizen_id_before = $1 or citizen_id_after = $1 "
                    "or person_id_before in (select id from p) or person_id_after in (select id from p)",
    "review_applied": "decision_id in (select decision_id from store.review_decisions where contact_id in "
                      "(select id from c) or citizen_id = $1)",
    "review_decisions": "contact_id in (select id from c) or citizen_id = $1",
    "review_changes": "row_key in (select id from c) or row_key in (select id from p) or citizen_id_before = $1 "
                      "or citizen_id_after = $1 or person_id_before in (select id from p) "
                      "or person_id_after in (select id from p)",
    "review_queue": "contact_id in (select id from c) or citizen_id = $1 or person_id in (select id from p)",
    "review_contacts": "contact_id in (select id from c) or citizen_id = $1 or person_id in (select id from p)",
    "review_citizens": "citizen_id = $1",
    "context_links": "contact_id in (select id from c) or anchor_contact_id in (select id from c) "
                     "or person_id in (select id from p)",
}


@dataclass
class ErasureResult:
    erasure_id: str
    citizen_hash: str
    counts: dict[str, int] = field(default_factory=dict)
    already_erased: bool = False

    @property
    def removed(self) -> int:
        return sum(v for k, v in self.counts.items() if not k.startswith(("suppression", "identifiers_kept")))


def citizen_hash(citizen_id: str, key: bytes) -> str:
    return keyed_hashes([citizen_id.strip()], key, CITIZEN_HASH_KIND)[0] or ""


def bind(sql: str, citizen_id: str) -> list[str]:
    """The parameters of a filter: `$1` is the citizen id, when the filter names it."""
    return [citizen_id] if "$1" in sql else []


def _id_tables(con: duckdb.DuckDBPyConnection, fp: Footprint) -> None:
    for name, ids in (("c", fp.contact_ids), ("p", fp.person_ids)):
        value_table(con, name, "id", ids)


def shared_identifiers(lake: Path, register: Path, fp: Footprint) -> set[tuple[str, str]]:
    """Their identifiers that someone else carries too: a contact not theirs, or another register citizen."""
    if not fp.identifiers:
        return set()
    digits = {v[-10:] for k, v in fp.identifiers if k == "phone"}
    emails = {v.replace(".", "") for k, v in fp.identifiers if k == "email"}
    handles = {v for k, v in fp.identifiers if k == "handle"}
    # a cheap superset in SQL (last ten digits, e-mail without dots, bare handle), confirmed in Python
    pre = """(right(regexp_replace(coalesce(cast(phone as varchar), ''), '\\D', '', 'g'), 10) in (select v from d)
              or replace(lower(trim(cast(email as varchar))), '.', '') in (select v from e)
              or {handle} in (select v from h))"""
    sources = []
    with duckdb.connect() as con:
        for name, values in (("d", digits), ("e", emails), ("h", handles)):
            value_table(con, name, "v", values)
        _id_tables(con, fp)
        if has_raw(lake):
            sources.append(f"""select email, phone, handle from read_parquet('{raw_glob(lake)}', union_by_name = true)
                               where contact_id not in (select id from c) and {pre.format(
                                   handle="lower(ltrim(cast(handle as varchar), '@'))")}""")
        if register.exists():
            p = sql_str(register)
            src = f"read_parquet('{p}')" if register.suffix.lower() == ".parquet" \
                else f"read_csv('{p}', all_varchar = true, header = true)"
            have = {r[0] for r in con.execute(f"describe select * from {src}").fetchall()}
            cols = ", ".join(c if c in have else f"null as {c}" for c in IDENTIFIER_KINDS)
            sources.append(f"""select * from (select {cols} from {src} where cast(citizen_id as varchar) <> $1)
                               where {pre.format(handle="lower(ltrim(cast(handle as varchar), '@'))")}""")
        out: set[tuple[str, str]] = set()
        for sql in sources:
            params = [fp.citizen_id] if "$1" in sql else []
            for row in con.execute(sql, params).fetchall():
                for kind, value in zip(IDENTIFIER_KINDS, row, strict=True):
                    n = normalise(kind, value)
                    if n is not None and (kind, n) in fp.identifiers:
                        out.add((kind, n))
    return out


def _write_suppression(identity: Path, entries: Iterable[tuple[str, str]], erasure_id: str, key: bytes) -> int:
    """Add (kind, keyed hash) entries to the suppression list; returns how many were new."""
    path = identity / SUPPRESSION_FILE
    old = pq.read_table(path) if path.exists() else SUPPRESSION_SCHEMA.empty_table()
    have = set(zip(old.column("kind").to_pylist(), old.column("key_hash").to_pylist(), strict=True))
    check = key_check(key)
    new = sorted({(k, h) for k, h in entries} - have)
    if not new:
        return 0
    add = pa.table({"kind": [k for k, _ in new], "key_hash": [h for _, h in new],
                    "erasure_id": [erasure_id] * len(new), "key_check": [check] * len(new)},
                   schema=SUPPRESSION_SCHEMA)
    write_parquet_atomic(pa.concat_tables([old.select(SUPPRESSION_SCHEMA.names).cast(SUPPRESSION_SCHEMA), add]),
                         path, restricted_root=path.parent)
    return len(new)


def _erase_raw(lake: Path, fp: Footprint) -> tuple[int, int]:
    """Rewrite each raw partition holding their contacts without them; returns (contacts, partitions)."""
    if not fp.contact_ids or not has_raw(lake):
        return 0, 0
    with duckdb.connect() as con:
        _id_tables(con, fp)
        files = con.execute(f"""select filename, count(*) from read_parquet('{raw_glob(lake)}', filename = true,
                                union_by_name = true) where contact_id in (select id from c)
                                group by filename order by filename""").fetchall()
    ids = pa.array(sorted(fp.contact_ids), pa.string())
    removed = 0
    for name, _ in files:
        table = pq.read_table(name)
        keep = pc.invert(pc.is_in(table.column("contact_id"), value_set=ids))
        kept = table.filter(keep)
        removed += table.num_rows - kept.num_rows
        # an emptied day stays an (empty) landed day, as ingest leaves it; 0600 like every raw partition
        write_parquet_atomic(kept, Path(name), restricted_root=Path(name).parent)
    return removed, len(files)


def _erase_quarantine(lake: Path, suppressed: set[tuple[str, str]]) -> tuple[int, int]:
    """Drop quarantined rows whose delivered text carries one of their (unshared) identifiers."""
    if not suppressed:
        return 0, 0
    rows = parts = 0
    for part in sorted((lake / "quarantine").glob("*/*/*.parquet")):
        table = pq.read_table(part)
        hit = [any(i in suppressed for i in identifiers_in_text(t)) for t in table.column("raw").to_pylist()]
        if not any(hit):
            continue
        kept = table.filter(pc.invert(pa.array(hit)))
        rows += table.num_rows - kept.num_rows
        parts += 1
        if kept.num_rows:
            write_parquet_atomic(kept, part, restricted_root=part.parent)
        else:
            part.unlink()  # ingest keeps no empty quarantine partition either
    return rows, parts


def _erase_state(identity: Path, fp: Footprint) -> dict[str, int]:
    state = identity / STATE
    counts: dict[str, int] = {}
    with duckdb.connect() as con:
        _id_tables(con, fp)
        for name, where in STATE_FILTERS.items():
            path = state / f"{name}.parquet"
            if not path.exists():
                continue
            src = f"read_parquet('{sql_str(path)}')"
            n = con.execute(f"select count(*) from {src} where {where}", bind(where, fp.citizen_id)).fetchall()[0][0]
            if n:
                kept = con.sql(f"select * from {src} where not coalesce({where}, false)",
                               params=bind(where, fp.citizen_id)).to_arrow_table()
                write_parquet_atomic(kept, path, restricted_root=path.parent)
            counts[f"state_{name}"] = n
    return counts


def _erase_store(identity: Path, fp: Footprint) -> dict[str, int]:
    """Delete their rows from the identity store, on a copy swapped in at the end (readers keep the old file)."""
    target = identity / IDENTITY_DB
    if not target.exists():
        return {}
    tmp = target.with_name(f".{IDENTITY_DB}.erase.{os.getpid()}.tmp")
    shutil.copyfile(target, tmp)
    counts: dict[str, int] = {}
    try:
        with duckdb.connect() as con:
            _id_tables(con, fp)
            con.execute(f"attach '{sql_str(tmp)}' as store")
            tables = store_tables(con, "store")
            con.execute("begin transaction")
            for table, where in STORE_FILTERS.items():
                if table in tables:
                    n = con.execute(f"select count(*) from store.{table} where {where}", bind(where, fp.citizen_id)).fetchall()[0][0]
                    if n:
                        con.execute(f"delete from store.{table} where {where}", bind(where, fp.citizen_id))
                    counts[f"store_{table}"] = n
            con.execute("commit")
            con.execute("checkpoint store")
            con.execute("detach store")
        os.replace(tmp, target)
        target.chmod(0o600)
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def previous_erasures(lake: Path, chash: str) -> list[dict[str, object]]:
    path = lake / "_audit" / ERASURES_AUDIT
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [r for r in map(json.loads, filter(str.strip, f)) if r.get("citizen_hash") == chash]


def _append_audit(lake: Path, record: dict[str, object]) -> None:
    path = lake / "_audit" / ERASURES_AUDIT
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


@holds_store_lock
def erase(lake: Path, identity: Path, register: Path, citizen_id: str, requested_by: str, key: bytes,
          rebuild: bool = True) -> ErasureResult:
    """Erase `citizen_id` from every zone (see the module docstring); a second run finds nothing and records
    nothing. UnknownCitizen when nothing names them and they were never erased."""
    from joinedup.identity.subject import UnknownCitizen

    chash = citizen_hash(citizen_id, key)
    try:
        fp = footprint(lake, identity, register, citizen_id)
    except UnknownCitizen:
        if previous_erasures(lake, chash):
            return ErasureResult("", chash, already_erased=True)
        raise
    result = ErasureResult(f"erasure-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}", chash)
    shared = shared_identifiers(lake, register, fp)
    suppressed = fp.identifiers - shared
    entries = [(k, h) for k, h in zip(["contact_id"] * len(fp.contact_ids),
                                      keyed_hashes(sorted(fp.contact_ids), key, hash_kind("contact_id")),
                                      strict=True)]
    for kind in IDENTIFIER_KINDS:
        values = sorted(v for k, v in suppressed if k == kind)
        entries += [(kind, h) for h in keyed_hashes(values, key, hash_kind(kind)) if h]
    c = result.counts
    c["suppression_entries_added"] = _write_suppression(identity, entries, result.erasure_id, key)
    c["identifiers_kept_shared"] = len(shared)
    c["raw_contacts"], c["raw_partitions"] = _erase_raw(lake, fp)
    c["quarantine_rows"], c["quarantine_partitions"] = _erase_quarantine(lake, suppressed)
    c.update(_erase_state(identity, fp))
    c.update(_erase_store(identity, fp))
    c["review_inbox"] = remove_rows(identity, set(fp.contact_ids), fp.citizen_id)
    if result.removed == 0 and previous_erasures(lake, chash):
        result.already_erased = True
        return result
    _append_audit(lake, {"erasure_id": result.erasure_id, "erased_at": datetime.now(UTC).isoformat(timespec="seconds"),
                         "requested_by": requested_by, "citizen_hash": chash, "counts": c,
                         "pseudonymous_lake_rebuilt": rebuild})
    if rebuild:
        from joinedup.identity.link_step import run_link_step

        run_link_step(lake, identity, register, key)
    return result


def result_dict(result: ErasureResult) -> dict[str, object]:
    return asdict(result)
