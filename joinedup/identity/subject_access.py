"""`joinedup subject-access`: everything joinedup holds about one citizen, as a folder a person can read.

The bundle is a README.md (what each file is, and counts), summary.json (the same counts, for a machine) and a
CSV per source: the register record, every landed contact from every channel (the raw lake rows), quarantined
rows that carry one of their identifiers, the links with their explanations, review decisions, aliases,
rejected edges that name them, the relink audit, and the pseudonymous keys their data appears under in the
warehouse and the analytics file. It is PII: by default it is written inside the restricted identity store
(`<identity>/subject_access/`), made readable by its owner only, and it is the caseworker's job to send it to
the citizen securely and delete it. It is written in a hidden folder and renamed when complete.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from joinedup.identity.erase import STATE_FILTERS, STORE_FILTERS, _id_tables
from joinedup.identity.link_step import raw_glob
from joinedup.identity.store import IDENTITY_DB
from joinedup.identity.subject import STATE, footprint, has_raw, register_rows, sql_str, store_tables
from joinedup.ingest.suppress import identifiers_in_text

BUNDLE_DIR = "subject_access"
FILES = {
    "register.csv": "the citizen's record in the register (the council's CRM export) as delivered",
    "contacts.csv": "every contact landed in the lake that is linked to them, all channels (the restricted raw lake)",
    "quarantine.csv": "rows held in quarantine (rejected at ingest) whose delivered text carries their e-mail, phone "
                      "or handle",
    "links.csv": "how each contact was linked to them: person, decision, match probability and weight, and the "
                 "explanation (per-comparison weights, or the identifier that joined it)",
    "decisions.csv": "clerical review decisions about their contacts (who decided, when, and when it was applied)",
    "review_changes.csv": "what each review decision about them changed: contacts moved, persons renamed",
    "aliases.csv": "earlier pseudonymous person ids that became theirs when they proved their identity",
    "rejected_edges.csv": "links refused by merge protection that name them or their contacts",
    "relink_audit.csv": "changes to their links made when the links were re-decided (joinedup relink)",
    "pseudonymous_keys.csv": "the keyed hashes (contact_key, person_key) their data appears under in the warehouse "
                             "and the analytics file",
}


def default_out(identity: Path) -> Path:
    return identity / BUNDLE_DIR / f"sar-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def _copy(con: duckdb.DuckDBPyConnection, sql: str, out: Path, citizen_id: str | None = None) -> int:
    """COPY a query to a CSV with a header; returns the rows written. `$1` in the query is the citizen id."""
    params = [citizen_id] if "$1" in sql else []
    return con.execute(f"copy ({sql}) to '{sql_str(out)}' (format csv, header true)", params).fetchall()[0][0]


def _store_part(con: duckdb.DuckDBPyConnection, tables: set[str], name: str, fallback: Path | None,
                where: str, out: Path, citizen_id: str) -> int:
    if name in tables:
        return _copy(con, f"select * from store.{name} where {where} order by all", out, citizen_id)
    if fallback is not None and fallback.exists():
        return _copy(con, f"select * from read_parquet('{sql_str(fallback)}') where {where} order by all", out,
                     citizen_id)
    out.write_text("", encoding="utf-8")
    return 0


def subject_access(lake: Path, identity: Path, register: Path, citizen_id: str, out: Path | None = None) -> Path:
    """Write the bundle for `citizen_id` to `out` (default: inside the identity store); return its folder."""
    fp = footprint(lake, identity, register, citizen_id)
    out = out or default_out(identity)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty: give a new folder for the bundle")
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(mode=0o700)
    counts: dict[str, int] = {}
    state = identity / STATE
    try:
        with duckdb.connect() as con:
            _id_tables(con, fp)
            reg = register_rows(con, register, fp.citizen_id)
            con.register("reg", pa.Table.from_pylist(reg) if reg else pa.table({"citizen_id": pa.array([], pa.string())}))
            counts["register.csv"] = _copy(con, "select * from reg", tmp / "register.csv")
            raw_sql = (f"""select * from read_parquet('{raw_glob(lake)}', union_by_name = true)
                           where contact_id in (select id from c) order by occurred_at, contact_id"""
                       if has_raw(lake) else "select null::varchar as contact_id where false")
            counts["contacts.csv"] = _copy(con, raw_sql, tmp / "contacts.csv")
            counts["quarantine.csv"] = _quarantine(con, lake, fp.identifiers, tmp / "quarantine.csv")
            store = identity / IDENTITY_DB
            tables: set[str] = set()
            if store.exists():
                con.execute(f"attach '{sql_str(store)}' as store (read_only)")
                tables = store_tables(con, "store")
            parts = [("links.csv", "contact_links", None, STORE_FILTERS["contact_links"]),
                     ("decisions.csv", "review_decisions" if "review_decisions" in tables else "linkage_decisions",
                      state / "decisions.parquet", STATE_FILTERS["decisions"]),
                     ("review_changes.csv", "review_changes", None, STORE_FILTERS["review_changes"]),
                     ("aliases.csv", "linkage_aliases", state / "aliases.parquet", STATE_FILTERS["aliases"]),
                     ("rejected_edges.csv", "linkage_rejected_edges", state / "rejected_edges.parquet",
                      STATE_FILTERS["rejected_edges"]),
                     ("relink_audit.csv", "relink_audit", None, STORE_FILTERS["relink_audit"])]
            for file, table, fallback, where in parts:
                counts[file] = _store_part(con, tables, table, fallback, where, tmp / file, fp.citizen_id)
            if {"contact_keys", "person_keys", "contact_links"} <= tables:
                counts["pseudonymous_keys.csv"] = _copy(con, """
                    select l.contact_id, k.contact_key, l.person_id, p.person_key
                    from store.contact_links l left join store.contact_keys k using (contact_id)
                    left join store.person_keys p using (person_id)
                    where l.contact_id in (select id from c) order by all""", tmp / "pseudonymous_keys.csv")
            else:
                (tmp / "pseudonymous_keys.csv").write_text("", encoding="utf-8")
                counts["pseudonymous_keys.csv"] = 0
        _readme(tmp, counts)
        for f in tmp.iterdir():
            f.chmod(0o600)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _quarantine(con: duckdb.DuckDBPyConnection, lake: Path, identifiers: set[tuple[str, str]], out: Path) -> int:
    parts = sorted((lake / "quarantine").glob("*/*/*.parquet"))
    if not parts or not identifiers:
        out.write_text("", encoding="utf-8")
        return 0
    table = con.execute(f"""select channel, source_file, source_row, line, field, "check", reason, raw
                            from read_parquet({[str(p) for p in parts]}, union_by_name = true)""").to_arrow_table()
    hit = [any(i in identifiers for i in identifiers_in_text(t)) for t in table.column("raw").to_pylist()]
    con.register("quarantined", table.filter(pa.array(hit, pa.bool_())))
    n = _copy(con, "select * from quarantined order by source_file, source_row", out)
    con.unregister("quarantined")
    return n


def _readme(folder: Path, counts: dict[str, int]) -> None:
    lines = ["# Subject access bundle", "",
             f"Made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `joinedup subject-access`.", "",
             "**This folder holds personal data.** Keep it in the restricted zone, send it to the citizen by a "
             "secure route, and delete it when the request is closed.", "",
             "| file | rows | what it is |", "|---|---|---|"]
    lines += [f"| `{name}` | {counts.get(name, 0)} | {what} |" for name, what in FILES.items()]
    lines += ["", "The analytics file and the warehouse hold no names or identifiers: only the keys in "
              "`pseudonymous_keys.csv`, with channel, service, times and outcomes."]
    (folder / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({"files": counts}, indent=1, sort_keys=True), encoding="utf-8")
