"""The link step's pseudonymous outputs, derived for what changed since the last run instead of the whole history.

A daily run links a day's contacts (~8k) against a history of millions; deriving `linked/contacts.parquet` and
`linked/persons.parquet` whole from the identity store and every landed file cost most of the step. The published
row of a contact depends only on its link, its person as the linkage state names it now, its context join and its
landed row; a person's attributes only on their contacts, the register and the day ages are taken at. So a run
re-derives the rows of the contacts whose inputs changed and the persons those contacts belonged to before or
belong to now, and keeps every other row of the previous outputs.

What changed is found against what the previous run published from, not against this run's start, so a change
made between runs (a review decision applied, a relink) is found too:

- contacts linked this run (new, or re-linked by a review decision): the fresh links;
- contacts whose person or citizen in the linkage state differs from the identity store's `contact_links`
  (the previous run left them equal);
- contacts whose context join differs from the store's `context_links`, or whose anchor's person changed;
- contacts of landed files written since the previous run started (a re-landed day).

It is used only when the previous run left its mark (`DERIVED_MARK` in the identity store: the files it wrote,
their sizes and times, and when it started) and the mark still fits those files, the keys are reused and no
landed contact went away; otherwise the step derives everything as before. `audit` derives both ways and refuses
to write when they differ.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from joinedup.identity.attributes import attributes_of, person_values
from joinedup.identity.pseudonym import add_keys
from joinedup.zones import write_private_text

DERIVED_MARK = "derived.json"
PERSON_VALUES = "person_values.parquet"  # person_id, is_registered, date_of_birth, postcode (PII: restricted)
VALUE_COLUMNS = ["person_id", "is_registered", "date_of_birth", "postcode"]
RELAND_MARGIN_NS = 3600 * 10**9  # landed files this much older than the previous run's start are read again


@dataclass
class Derived:
    """The outputs of one derivation and what the step reports of them."""

    contacts: pa.Table
    persons: pa.Table
    values: pd.DataFrame  # person_values of every published person, for the next run
    counts: tuple[int, int, int]  # contacts, registered contacts, contacts under review
    latest: datetime | None  # the latest contact landed (ages are taken on its day)


def _stamp(path: Path) -> list[int] | None:
    """Size and modification time: a file rewritten by anyone since the mark was written no longer fits it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def marked_files(lake: Path, identity: Path, register_path: Path) -> dict[str, Path]:
    """What the previous run's outputs were made of and written to."""
    from joinedup.identity.store import IDENTITY_DB

    return {"contacts": lake / "linked" / "contacts.parquet", "persons": lake / "linked" / "persons.parquet",
            "store": identity / IDENTITY_DB, "values": identity / PERSON_VALUES, "register": register_path}


def drop_mark(identity: Path) -> None:
    """Before a run writes anything: a run killed half-way leaves no mark, so the next one derives everything."""
    (identity / DERIVED_MARK).unlink(missing_ok=True)


def recipe(*parts: object) -> str:
    """A fingerprint of how the outputs are derived (their columns and queries): outputs made another way, by
    an older or newer version, are not reused."""
    return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()


def write_mark(lake: Path, identity: Path, register_path: Path, started_ns: int, latest: datetime | None,
               how: str) -> None:
    """After the outputs, the store and the person values are in place: what they are, how they were made
    (`how`: recipe), and when the run that made them started (landed files written after that are re-read by the
    next run)."""
    mark = {"started_ns": started_ns, "latest": latest.isoformat() if latest is not None else None, "recipe": how,
            "files": {k: _stamp(p) for k, p in marked_files(lake, identity, register_path).items()}}
    write_private_text(identity / DERIVED_MARK, json.dumps(mark, sort_keys=True))


def read_mark(lake: Path, identity: Path, register_path: Path, how: str) -> dict | None:
    """The previous run's mark, when its outputs were made the same way (`how`) and every file it names is
    still as that run left it."""
    path = identity / DERIVED_MARK
    if not path.exists():
        return None
    mark = json.loads(path.read_text())
    if mark.get("recipe") != how:
        return None
    now = {k: _stamp(p) for k, p in marked_files(lake, identity, register_path).items()}
    if any(v is None for v in now.values()) or now != mark.get("files"):
        return None
    return mark


def write_values(identity: Path, values: pd.DataFrame) -> None:
    """The person values (dates of birth, postcodes: restricted) for the next run, written then renamed."""
    from linkage.io import private_file

    tmp = identity / f".{PERSON_VALUES}.{os.getpid()}.tmp"
    values[VALUE_COLUMNS].sort_values("person_id", ignore_index=True).to_parquet(private_file(tmp), index=False)
    tmp.replace(identity / PERSON_VALUES)


def landed_since(lake: Path, started_ns: int) -> list[str]:
    """Landed files written after `started_ns`, less RELAND_MARGIN: a file written just before the previous run
    started but renamed into place after it listed the lake is read again (its contacts re-derived, at no harm)."""
    since = started_ns - RELAND_MARGIN_NS
    return [str(f) for f in sorted((lake / "raw").glob("*/*/*.parquet")) if f.stat().st_mtime_ns >= since]


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def derive_incremental(con: duckdb.DuckDBPyConnection, lake: Path, identity: Path, fresh_path: Path,
                       key: bytes, mark: dict, published_sql: str, pseudonymous: tuple[str, ...]) -> Derived | None:
    """The outputs from the previous ones and what changed (see the module's docstring), or None when this run
    cannot tell what changed (the caller then derives everything).

    `con` holds what the full derivation reads: raw, stored_links, old_store, persons_now, context_now, register,
    old_contact_keys and old_person_keys (the keys reused: the key did not change)."""
    if not con.execute("select count(*) from duckdb_tables() where database_name = 'old_store' "
                       "and table_name = 'context_links'").fetchall()[0][0]:
        return None
    con.execute(f"create temp table fresh as select * from read_parquet('{fresh_path}')")
    con.execute("create temp table stored_ids as select contact_id from stored_links")
    con.execute("""create temp table raw_ids as select contact_id from stored_ids
                   union select contact_id from fresh""")
    stored = con.execute("select count(*) from stored_ids").fetchall()[0][0]
    if not con.execute("select count(*) from old_contact_keys").fetchall()[0][0] == stored == \
            pq.read_metadata(lake / "linked" / "contacts.parquet").num_rows:
        return None  # the store's keys or the published rows are not those of every stored contact
    total, distinct = con.execute("select count(*), count(distinct contact_id) from raw").fetchall()[0]
    if not total == distinct == con.execute("select count(*) from raw_ids").fetchall()[0][0]:
        return None  # a landed contact went away (erasure, retention) or is there twice: derive everything
    files = landed_since(lake, mark["started_ns"])
    con.execute("create temp table landed (contact_id varchar)")
    if files:
        cols = ", ".join(f"r.{c}" for c in pseudonymous)
        con.execute(f"""create or replace temp table landed as
                        select cast(r.contact_id as varchar) as contact_id, {cols}
                        from read_parquet({_sql_list(files)}, union_by_name = true) r""")
    if con.execute("select count(*) from fresh where contact_id not in (select contact_id from stored_ids) "
                   "and contact_id not in (select contact_id from landed)").fetchall()[0][0]:
        return None  # a new contact in a file the previous run should have read: do not guess
    con.execute("""create temp table moved as
                   select contact_id from old_store.contact_links s full join persons_now p using (contact_id)
                   where s.person_id is distinct from p.person_id or s.citizen_id is distinct from p.citizen_id""")
    # the contacts whose link in the store may differ from the state's: the moved, and the fresh (a contact a
    # review decision re-linked may since have been renamed) (joinedup.identity.store.update_identity_db)
    con.execute("create temp table store_changed as select contact_id from moved union select contact_id from fresh")
    con.execute("""create temp table changed as
                   select contact_id from fresh
                   union select contact_id from moved
                   union select contact_id from landed
                   union select contact_id from old_store.context_links o full join context_now n using (contact_id)
                         where o.anchor_contact_id is distinct from n.anchor_contact_id
                   union select contact_id from context_now
                         where anchor_contact_id in (select contact_id from moved)""")
    con.execute(f"""create temp table links as
        with every_link as (
            select contact_id, decision, match_probability from stored_links
            where contact_id in (select contact_id from changed) and contact_id not in (select contact_id from fresh)
            union all by name
            select contact_id, decision, match_probability from fresh)
        select * from ({published_sql}) l where l.contact_id in (select contact_id from raw_ids)""")
    add_keys(con, "contact_keys", "select contact_id from raw_ids", "contact_id", "contact_key", key, "contact")
    # the previous rows of the changed contacts, and the persons they were published under
    con.execute(f"""create temp table before as
                    select o.*, k.contact_id, pk.person_id from read_parquet('{lake / "linked" / "contacts.parquet"}') o
                    join old_contact_keys k on k.contact_key = o.contact_key
                    left join old_person_keys pk on pk.person_key = o.person_key
                    where k.contact_id in (select contact_id from changed)""")
    touched = "(select person_id from before union select person_id from links)"
    values = _touched_values(con, lake, identity, touched)
    as_of = _latest(con, mark, bool(files))
    attrs = attributes_of(values, as_of.date() if as_of is not None else datetime(2000, 1, 1).date())
    con.register("attrs_df", attrs)
    # every person the store names gets its key (as in the full derivation), read once: add_keys reads it twice
    con.execute("""create temp table person_ids as select person_id from attrs_df
                   union select person_id from persons_now
                   where contact_id in (select contact_id from raw_ids) and person_id is not null""")
    add_keys(con, "person_keys", "select person_id from person_ids", "person_id", "person_key", key, "person")
    cols = ", ".join(f"case when n.contact_id is not null then n.{c} else b.{c} end as {c}" for c in pseudonymous)
    new_rows = f"""select c.contact_key, p.person_key, l.decision as link_decision, l.match_probability, {cols}
                   from links l join contact_keys c using (contact_id) join person_keys p using (person_id)
                   left join landed n using (contact_id) left join before b using (contact_id)"""
    contacts = con.sql(f"""
        select * from read_parquet('{lake / "linked" / "contacts.parquet"}')
        where contact_key not in (select contact_key from before)
        union all ({new_rows})
        order by contact_key""").to_arrow_table()
    persons = con.sql("""select p.person_key, a.is_registered, a.age_band, a.postcode_district
                         from attrs_df a join person_keys p using (person_id)
                         order by p.person_key""").to_arrow_table()
    counts = con.execute("""select (select count(*) from raw_ids),
                                   (select count(citizen_id) from persons_now
                                    where contact_id in (select contact_id from raw_ids)),
                                   0""").fetchall()[0]
    review = pa.compute.sum(pa.compute.equal(contacts.column("link_decision"), "review")).as_py() or 0
    return Derived(contacts, persons, values, (counts[0], counts[1], review), as_of)


def _latest(con: duckdb.DuckDBPyConnection, mark: dict, landed: bool) -> datetime | None:
    """The latest contact landed: the previous run's, or a newer one landed since. A re-landed day may have
    taken the latest away, so then it is read from every landed file."""
    replaced = con.execute("select count(*) from landed where contact_id in (select contact_id from stored_ids)"
                           ).fetchall()[0][0]
    if replaced or mark.get("latest") is None:
        return con.execute("select max(occurred_at) from raw").fetchall()[0][0]
    before = datetime.fromisoformat(mark["latest"])
    if not landed:
        return before
    new = con.execute("select max(occurred_at) from landed").fetchall()[0][0]
    return before if new is None else max(before, new)


def _touched_values(con: duckdb.DuckDBPyConnection, lake: Path, identity: Path, touched: str) -> pd.DataFrame:
    """person_values of every published person: the previous run's, with the touched persons' recomputed from
    all their contacts as published now."""
    con.execute(f"create temp table touched as select distinct person_id from {touched} where person_id is not null")
    # every contact of a touched person as published now: a changed contact's new row, an unchanged one's old row
    con.execute(f"""create temp table touched_links as
        select contact_id, person_id, citizen_id from links where person_id in (select person_id from touched)
        union all
        select k.contact_id, pk.person_id, s.citizen_id
        from read_parquet('{lake / "linked" / "contacts.parquet"}') o
        join old_person_keys pk on pk.person_key = o.person_key
        join old_contact_keys k on k.contact_key = o.contact_key
        left join persons_now s on s.contact_id = k.contact_id
        where pk.person_id in (select person_id from touched)
          and k.contact_id not in (select contact_id from changed)""")
    con.execute("""create temp view touched_contacts as
                   select cast(contact_id as varchar) as contact_id, cast(date_of_birth as varchar) as date_of_birth,
                          cast(postcode as varchar) as postcode
                   from raw where contact_id in (select contact_id from touched_links)""")
    con.register("touched_values", person_values(con, "touched_links", "touched_contacts"))
    return con.execute(f"""select {', '.join(VALUE_COLUMNS)} from read_parquet('{identity / PERSON_VALUES}')
                           where person_id not in (select person_id from touched)
                           union all select {', '.join(VALUE_COLUMNS)} from touched_values
                           order by person_id""").df()


def started_ns() -> int:
    """When a run starts, for its mark (landed files changed after it are re-read next time)."""
    return time.time_ns()
