"""What joinedup holds about one citizen, across every channel and zone: the footprint subject access reports
and erasure removes.

A citizen is a register `citizen_id`. Their contacts are those the identity store or the linkage state links to
them; their persons are the person ids those contacts belong to (a citizen's contacts can sit under a person id
the linker gave before they proved the citizen: the aliases say so). Their identifiers are the e-mails, phones
and handles their contacts and their register record carry, normalised as suppression hashes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from joinedup.identity.link_step import raw_glob
from joinedup.identity.store import IDENTITY_DB
from joinedup.ingest.suppress import IDENTIFIER_KINDS, normalise

STATE = "linkage"


class UnknownCitizen(LookupError):
    """Nobody by that citizen id: not in the register, the identity store or the linkage state."""


@dataclass
class Footprint:
    citizen_id: str
    in_register: bool
    contact_ids: set[str] = field(default_factory=set)
    person_ids: set[str] = field(default_factory=set)
    identifiers: set[tuple[str, str]] = field(default_factory=set)  # (kind, normalised value)


def value_table(con: duckdb.DuckDBPyConnection, name: str, column: str, values: Iterable[str]) -> None:
    """A temp table `name`(`column`) holding `values` (possibly none)."""
    con.register(f"{name}_values", pa.table({column: pa.array(sorted(set(values)), pa.string())}))
    con.execute(f"create or replace temp table {name} as select * from {name}_values")
    con.unregister(f"{name}_values")


def sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def store_tables(con: duckdb.DuckDBPyConnection, alias: str) -> set[str]:
    return {r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = ?", [alias]).fetchall()}


def register_rows(con: duckdb.DuckDBPyConnection, register: Path, citizen_id: str) -> list[dict[str, object]]:
    """The citizen's register record(s), every column as delivered."""
    if not register.exists():
        return []
    p = sql_str(register)
    source = f"read_parquet('{p}')" if register.suffix.lower() == ".parquet" \
        else f"read_csv('{p}', all_varchar = true, header = true)"
    rel = con.execute(f"select * from {source} where cast(citizen_id as varchar) = ?", [citizen_id])
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]


def has_raw(lake: Path) -> bool:
    return any((lake / "raw").glob("*/*/*.parquet"))


def footprint(lake: Path, identity: Path, register: Path, citizen_id: str) -> Footprint:
    """Everything that names `citizen_id`; UnknownCitizen when nothing does (a mistyped id)."""
    citizen_id = citizen_id.strip()
    fp = Footprint(citizen_id, in_register=False)
    state = identity / STATE
    with duckdb.connect() as con:
        reg = register_rows(con, register, citizen_id)
        fp.in_register = bool(reg)
        store = identity / IDENTITY_DB
        if store.exists():
            con.execute(f"attach '{sql_str(store)}' as store (read_only)")
            if "contact_links" in store_tables(con, "store"):
                for cid, pid in con.execute("select contact_id, person_id from store.contact_links "
                                            "where citizen_id = ?", [citizen_id]).fetchall():
                    fp.contact_ids.add(cid)
                    if pid:
                        fp.person_ids.add(pid)
        persons = state / "persons.parquet"
        if persons.exists():
            rows = con.execute(f"select contact_id, person_id from read_parquet('{sql_str(persons)}') "
                               "where citizen_id = ?", [citizen_id]).fetchall()
            fp.contact_ids.update(r[0] for r in rows)
            fp.person_ids.update(r[1] for r in rows if r[1])
        aliases = state / "aliases.parquet"
        if aliases.exists() and fp.person_ids:
            value_table(con, "ours", "person_id", fp.person_ids)
            fp.person_ids.update(r[0] for r in con.execute(
                f"select old_person_id from read_parquet('{sql_str(aliases)}') "
                "where person_id in (select person_id from ours)").fetchall())
        if persons.exists() and fp.person_ids:  # contacts still filed under a person they proved later
            value_table(con, "ours", "person_id", fp.person_ids)
            fp.contact_ids.update(r[0] for r in con.execute(
                f"select contact_id from read_parquet('{sql_str(persons)}') "
                "where person_id in (select person_id from ours)").fetchall())
        if fp.contact_ids and has_raw(lake):
            value_table(con, "theirs", "contact_id", fp.contact_ids)
            cols = ", ".join(IDENTIFIER_KINDS)
            for row in con.execute(f"select {cols} from read_parquet('{raw_glob(lake)}', union_by_name = true) "
                                   "where contact_id in (select contact_id from theirs)").fetchall():
                fp.identifiers.update(_identifiers(dict(zip(IDENTIFIER_KINDS, row, strict=True))))
        for rec in reg:
            fp.identifiers.update(_identifiers(rec))
            for handle in str(rec.get("known_handles") or "").replace(";", ",").split(","):
                if (value := normalise("handle", handle)) is not None:
                    fp.identifiers.add(("handle", value))
    if not (fp.in_register or fp.contact_ids or fp.person_ids):
        raise UnknownCitizen(f"no citizen with that id in the register ({register}), the identity store or "
                             f"the linkage state ({identity}): check the id")
    return fp


def _identifiers(rec: dict[str, object]) -> set[tuple[str, str]]:
    out = set()
    for kind in IDENTIFIER_KINDS:
        value = normalise(kind, rec.get(kind))
        if value is not None:
            out.add((kind, value))
    return out
