"""The link step: give every landed contact a person, keep PII in the identity store, publish only keyed hashes.

Incremental: contacts already in the identity store keep their person; only new contact ids are linked, against
the register and the persons remembered from earlier runs. The identity store gains the day's links and the
renames the linker made (not a rewrite of the history); the pseudonymous lake outputs are derived whole from it,
sorted, so re-running gives the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from joinedup.ingest.lake import write_parquet_atomic
from joinedup.journeys.pseudonym import keyed_hashes
from linkage.dates import normalise_dob
from linkage.pipeline import LinkStats, link
from linkage.postcodes import parse_postcode
from linkage.register_cache import load_prepared_register

# What linkage reads from a contact: the identity fields of the canonical contact, plus when and where.
LINK_COLUMNS = (
    "contact_id", "channel", "occurred_at", "given_name", "family_name", "full_name", "date_of_birth",
    "postcode", "address_line", "email", "phone", "handle", "platform", "display_name", "location", "message_text",
    "reference_id", "case_ref",
)
LINKS_COLUMNS = ("contact_id", "person_id", "citizen_id", "match_probability", "match_weight", "decision",
                 "explanation")
LINKS_SCHEMA = pa.schema([("contact_id", pa.string()), ("person_id", pa.string()), ("citizen_id", pa.string()),
                          ("match_probability", pa.float64()), ("match_weight", pa.float64()),
                          ("decision", pa.string()), ("explanation", pa.string())])
ATTRIBUTE_COLUMNS = ("contact_id", "occurred_at", "date_of_birth", "postcode")
LINK_CHUNK = 1_000_000  # contacts per linkage call: 5.3 GB peak PSS (bench/linkage_scale.py), a year in 3 calls
AGE_BANDS = ((16, "16-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65-74"),
             (75, "75+"))


@dataclass(frozen=True)
class LinkStepResult:
    contacts: int
    new_contacts: int
    persons: int
    registered_contacts: int
    review_contacts: int
    pairs: int


def raw_glob(lake: Path) -> str:
    return str(lake / "raw" / "*" / "*" / "*.parquet")


def _select(columns: tuple[str, ...]) -> str:
    return ", ".join(
        "strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') as occurred_at" if c == "occurred_at"
        else f"cast({c} as varchar) as {c}" for c in columns
    )


def _raw_view(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """`raw`: every landed contact, all channels and days (an empty table before the first landing)."""
    if list((lake / "raw").glob("*/*/*.parquet")):
        con.execute(f"create view raw as select * from read_parquet('{raw_glob(lake)}', union_by_name = true)")
    else:
        cols = ", ".join(f"{c} {'timestamp' if c == 'occurred_at' else 'varchar'}" for c in LINK_COLUMNS)
        con.execute(f"create table raw ({cols})")


def _band(dob: str | None, as_of: date) -> str | None:
    digits = normalise_dob(dob)
    if not digits:
        return None
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    label = None
    for lower, name in AGE_BANDS:
        if age >= lower:
            label = name
    return label


def _district(postcode: str | None) -> str | None:
    parsed = parse_postcode(postcode)
    return parsed[1] if parsed else None


def _register_view(con: duckdb.DuckDBPyConnection, register_path: Path) -> None:
    """`register`: citizen_id, date_of_birth, postcode as text, one row per citizen (columns it lacks are null)."""
    p = str(register_path).replace("'", "''")
    source = f"read_parquet('{p}')" if register_path.suffix.lower() == ".parquet" \
        else f"read_csv('{p}', all_varchar = true, header = true)"
    have = {r[0] for r in con.execute(f"describe select * from {source}").fetchall()}
    cols = ", ".join(f"cast({c} as varchar) as {c}" if c in have else f"cast(null as varchar) as {c}"
                     for c in ("citizen_id", "date_of_birth", "postcode"))
    con.execute(f"""create view register as select * from (select {cols} from {source})
                    qualify row_number() over (partition by citizen_id order by date_of_birth, postcode) = 1""")


def _mode_sql(column: str) -> str:
    """Per person, the value their contacts gave most often (ties: the smallest)."""
    return f"""select person_id, {column} from (
                   select person_id, {column}, count(*) as n from joined
                   where {column} is not null and {column} <> '' group by all)
               qualify row_number() over (partition by person_id order by n desc, {column}) = 1"""


PERSON_VALUES_SQL = f"""
    with joined as (
        select l.contact_id, l.person_id, l.citizen_id, c.date_of_birth, c.postcode
        from links l left join contacts c using (contact_id)
    ),
    persons as (
        select person_id, arg_min(citizen_id, contact_id) filter (where citizen_id is not null) as citizen_id
        from joined group by person_id
    ),
    dob_mode as ({_mode_sql("date_of_birth")}),
    postcode_mode as ({_mode_sql("postcode")})
    select p.person_id,
           p.citizen_id is not null as is_registered,
           case when r.citizen_id is not null then r.date_of_birth else d.date_of_birth end as date_of_birth,
           case when r.citizen_id is not null then r.postcode else m.postcode end as postcode
    from persons p
    left join register r on p.citizen_id = r.citizen_id
    left join dob_mode d using (person_id)
    left join postcode_mode m using (person_id)
    order by p.person_id
"""


def person_attributes(con: duckdb.DuckDBPyConnection, as_of: date) -> pd.DataFrame:
    """Coarse attributes per person: the register's for citizens, else what their contacts said most often.

    Reads the `links`, `contacts` and `register` relations of `con`. Ages are taken at `as_of` (the latest
    contact in the data, not today), so a re-run gives the same bands. Banding and districts are computed
    once per distinct value, in Python, with the same parsers linkage uses.
    """
    values = con.execute(PERSON_VALUES_SQL).df()
    dob_band = {v: _band(v, as_of) for v in values["date_of_birth"].dropna().unique()}
    district = {v: _district(v) for v in values["postcode"].dropna().unique()}
    return pd.DataFrame({
        "person_id": values["person_id"].astype(object),
        "is_registered": values["is_registered"].astype(bool),
        "age_band": values["date_of_birth"].map(dob_band).astype(object),
        "postcode_district": values["postcode"].map(district).astype(object),
    }).pipe(lambda d: d.where(d.notna(), None))


IDENTITY_DB = "identity.duckdb"
# Tables of the identity store copied whole from the linkage state on every run (small; persons and
# identifiers are not: contact_links already says which person each contact is, and identifiers are hashes
# only the linker reads).
STORE_STATE_TABLES = ("aliases", "decisions", "rejected_edges")


def _links_ddl(table: str) -> str:
    cols = ", ".join(f"{f.name} {'double' if pa.types.is_floating(f.type) else 'varchar'}" for f in LINKS_SCHEMA)
    return f"create table if not exists {table} ({cols})"


def update_identity_db(con: duckdb.DuckDBPyConnection, identity: Path, fresh_links: Path) -> Path:
    """The restricted identity store, one DuckDB file, brought up to date on a copy that is then swapped in.

    It holds what only a caseworker with access to PII may see: the contact -> person -> citizen links with
    their explanations (`contact_links`), the person_id <-> person_key map that turns a pseudonymous key in
    the analytics file back into a person (`person_keys`), and the linkage state's aliases, review decisions
    and rejected edges. The day's links are added and the persons the linker renamed are updated, in one
    transaction on a copy of the file: the history is not rewritten, and a caseworker who has the store open
    keeps reading the old file while the new one replaces it.

    `con` must hold `raw` (every landed contact) and `person_keys`; the store is attached to it as `store`.
    """
    target = identity / IDENTITY_DB
    tmp = target.with_name(f".{IDENTITY_DB}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    if target.exists():
        shutil.copyfile(target, tmp)
    state_dir = identity / "linkage"
    persons_file = state_dir / "persons.parquet"
    con.execute(f"attach '{tmp}' as store")
    committed = done = False
    try:
        con.execute("begin transaction")
        con.execute(_links_ddl("store.contact_links"))
        con.execute(f"""insert into store.contact_links by name select * from read_parquet('{fresh_links}')
                        where contact_id not in (select contact_id from store.contact_links)""")
        if persons_file.exists():  # a pseudonymous person who proved a citizen, or merged into another person
            con.execute(f"""update store.contact_links l set person_id = s.person_id, citizen_id = s.citizen_id
                            from read_parquet('{persons_file}') s
                            where l.contact_id = s.contact_id and (l.person_id is distinct from s.person_id
                                  or l.citizen_id is distinct from s.citizen_id)""")
        con.execute("delete from store.contact_links where contact_id not in (select contact_id from raw)")
        con.execute("create or replace table store.person_keys as select * from person_keys order by person_id")
        for name in ("persons", "identifiers"):  # were copied here before; contact_links says the same
            con.execute(f"drop table if exists store.linkage_{name}")
        for name in STORE_STATE_TABLES:
            part = state_dir / f"{name}.parquet"
            if part.exists():
                con.execute(f"create or replace table store.linkage_{name} as select * from read_parquet(?)",
                            [str(part)])
        con.execute("commit")
        committed = True
        con.execute("checkpoint store")
        done = True
    except BaseException:
        if not committed:
            con.execute("rollback")
        raise
    finally:
        con.execute("detach store")
        if not done:
            tmp.unlink(missing_ok=True)  # a failed copy is never swapped in
    os.replace(tmp, target)
    target.chmod(0o600)
    return target


def link_new_contacts(register_path: Path, new_path: Path, state_dir: Path, out_path: Path,
                      chunk_size: int) -> LinkStats:
    """In the linking process: link `new_path` chunk by chunk (each incrementally, against what the store holds
    after the previous chunk) and write the fresh links to `out_path`."""
    pa.set_cpu_count(1)  # no Arrow threads alive when the linker forks its workers
    pa.set_io_thread_count(1)
    register = load_prepared_register(register_path, state_dir)
    stats = LinkStats()
    parts = [LINKS_SCHEMA.empty_table()]
    source = pq.ParquetFile(new_path)
    for batch in source.iter_batches(batch_size=chunk_size, use_threads=False):
        chunk = batch.to_pandas(use_threads=False)
        linked = link(register, chunk.astype(object).where(chunk.notna(), None), state_dir=state_dir, stats=stats)
        frame = linked[list(LINKS_COLUMNS)].astype({"match_probability": float, "match_weight": float})
        parts.append(pa.Table.from_pandas(frame, schema=LINKS_SCHEMA, preserve_index=False))
    stats.contacts = source.metadata.num_rows
    pq.write_table(pa.concat_tables(parts), out_path)
    return stats


def _link_in_fresh_process(register_path: Path, new_path: Path, state_dir: Path, out_path: Path,
                           chunk_size: int) -> LinkStats:
    """See joinedup.journeys.link_worker for why linking gets a process of its own."""
    job = out_path.with_suffix(".job.json")
    job.write_text(json.dumps({"register": str(register_path), "contacts": str(new_path),
                               "state_dir": str(state_dir), "out": str(out_path), "chunk_size": chunk_size}))
    done = subprocess.run([sys.executable, "-m", "joinedup.journeys.link_worker", str(job)], check=False)
    if done.returncode != 0:
        raise RuntimeError(f"linking failed (exit code {done.returncode}); its traceback is above in this log")
    return LinkStats(**json.loads(Path(str(out_path) + ".stats.json").read_text()))


KEY_CHECK_FILE = "pseudonym_key.check"


def _key_check(key: bytes) -> str:
    """A keyed hash of a constant: tells whether the keys published last time were made with this key."""
    return keyed_hashes(["joinedup key check"], key, "check")[0] or ""


def _known_keys(con: duckdb.DuckDBPyConnection, lake: Path, identity: Path, key: bytes) -> None:
    """`old_contact_keys` and `old_person_keys`: the keyed hashes published last time, if made with this key.

    A daily run then hashes only the day's new contacts and persons, not the history again. A different key
    (rotation) finds nothing here and re-keys everything.
    """
    check = identity / KEY_CHECK_FILE
    contact_file, store = lake / "linked" / "contact_persons.parquet", identity / IDENTITY_DB
    reuse = check.exists() and check.read_text() == _key_check(key) and contact_file.exists() and store.exists()
    if reuse:
        con.execute(f"create table old_contact_keys as select contact_id, contact_key "
                    f"from read_parquet('{contact_file}')")
        con.execute(f"attach '{store}' as store (read_only)")
        con.execute("create table old_person_keys as select person_id, person_key from store.person_keys")
        con.execute("detach store")
    else:
        con.execute("create table old_contact_keys (contact_id varchar, contact_key varchar)")
        con.execute("create table old_person_keys (person_id varchar, person_key varchar)")


def _add_keys(con: duckdb.DuckDBPyConnection, table: str, ids_sql: str, id_col: str, key_col: str,
              key: bytes, kind: str) -> None:
    """`table` = the old keys still in use plus a keyed hash for each id the old keys lack."""
    new_ids = [r[0] for r in con.execute(
        f"select {id_col} from ({ids_sql}) where {id_col} not in (select {id_col} from old_{table})").fetchall()]
    con.register("new_keys_df", pa.table({id_col: pa.array(new_ids, pa.string()),
                                          key_col: pa.array(keyed_hashes(new_ids, key, kind), pa.string())}))
    con.execute(f"""create table {table} as
                    select * from old_{table} where {id_col} in (select {id_col} from ({ids_sql}))
                    union all select * from new_keys_df""")
    con.unregister("new_keys_df")


def _stored_links(con: duckdb.DuckDBPyConnection, identity: Path) -> None:
    """`stored_links`: the links the identity store holds (none before the first run), attached read-only."""
    store = identity / IDENTITY_DB
    if store.exists():
        con.execute(f"attach '{store}' as old_store (read_only)")
        if con.execute("select count(*) from duckdb_tables() where database_name = 'old_store' "
                       "and table_name = 'contact_links'").fetchone()[0]:
            con.execute("create view stored_links as select * from old_store.contact_links")
            return
    con.execute(_links_ddl("stored_links"))


def run_link_step(lake: Path, identity: Path, register_path: Path, key: bytes,
                  chunk_size: int = LINK_CHUNK) -> LinkStepResult:
    """Link new contacts, bring the restricted identity store up to date and rewrite the pseudonymous lake
    outputs.

    New contacts go to the linker in time order, `chunk_size` at a time, each chunk linked incrementally
    against the register and the persons the store already holds: memory stays bounded by the chunk, not
    the year (a council year at once needed 15 GB), and a first load behaves like a run of daily loads.
    The outputs are derived in DuckDB; only new contacts and persons are hashed.
    """
    state_dir = identity / "linkage"
    work = identity / "_work"  # inside the restricted store: these files hold PII
    work.mkdir(parents=True, exist_ok=True)
    (identity / "contact_links.parquet").unlink(missing_ok=True)  # an older layout's copy of contact_links
    new_path, fresh_path = work / "new_contacts.parquet", work / "fresh_links.parquet"
    with duckdb.connect() as con:
        _raw_view(con, lake)
        _stored_links(con, identity)
        con.execute(f"""copy (select {_select(LINK_COLUMNS)} from raw
                              where contact_id not in (select contact_id from stored_links)
                              order by occurred_at, contact_id)
                        to '{new_path}' (format parquet, row_group_size {min(chunk_size, 122_880)})""")
    stats = _link_in_fresh_process(register_path, new_path, state_dir, fresh_path, chunk_size)
    try:
        with duckdb.connect() as con:
            _raw_view(con, lake)
            _stored_links(con, identity)
            persons_file = state_dir / "persons.parquet"
            # person ids as the store knows them now (a pseudonymous person may since have proved a citizen)
            con.execute(f"create view persons_now as select contact_id, person_id, citizen_id "
                        f"from read_parquet('{persons_file}')" if persons_file.exists() else
                        "create table persons_now (contact_id varchar, person_id varchar, citizen_id varchar)")
            con.execute(f"""create table links as
                with every_link as (
                    select contact_id, decision, match_probability from stored_links
                    union all by name
                    select contact_id, decision, match_probability from read_parquet('{fresh_path}'))
                select l.contact_id, s.person_id, s.citizen_id, l.decision, l.match_probability
                from every_link l
                left join persons_now s using (contact_id)
                where l.contact_id in (select contact_id from raw)""")
            con.execute("create table contacts as select cast(contact_id as varchar) as contact_id, "
                        "cast(date_of_birth as varchar) as date_of_birth, cast(postcode as varchar) as postcode "
                        "from raw")
            latest = con.execute("select max(occurred_at) from raw").fetchone()[0]
            _register_view(con, register_path)
            con.register("attrs_df", person_attributes(con, latest.date() if latest is not None
                                                       else date(2000, 1, 1)))
            _known_keys(con, lake, identity, key)
            _add_keys(con, "contact_keys", "select contact_id from links", "contact_id", "contact_key", key,
                      "contact")
            _add_keys(con, "person_keys", "select person_id from attrs_df", "person_id", "person_key", key,
                      "person")
            contact_persons = con.sql("""
                select l.contact_id, c.contact_key, p.person_key, l.decision, l.match_probability
                from links l join contact_keys c using (contact_id) join person_keys p using (person_id)
                order by l.contact_id""").to_arrow_table()
            person_table = con.sql("""
                select p.person_key, a.is_registered, a.age_band, a.postcode_district
                from attrs_df a join person_keys p using (person_id)
                order by p.person_key""").to_arrow_table()
            counts = con.execute("""select count(*), count(citizen_id), count(*) filter (where decision = 'review')
                                    from links""").fetchone()
            if contact_persons.num_rows != counts[0] or person_table.num_rows != \
                    con.execute("select count(*) from attrs_df").fetchone()[0]:
                raise RuntimeError("link step: a contact or person lost its keyed hash; nothing was written")
            con.execute("detach database if exists old_store")
            update_identity_db(con, identity, fresh_path)
    finally:
        for f in work.iterdir():
            f.unlink()
    write_parquet_atomic(contact_persons, lake / "linked" / "contact_persons.parquet")
    write_parquet_atomic(person_table, lake / "linked" / "persons.parquet")
    (identity / KEY_CHECK_FILE).write_text(_key_check(key))
    return LinkStepResult(
        contacts=counts[0],
        new_contacts=stats.contacts,
        persons=person_table.num_rows,
        registered_contacts=counts[1],
        review_contacts=counts[2],
        pairs=stats.pairs,
    )
