"""The link step: give every landed contact a person, keep PII in the identity store, publish only keyed hashes.

It is the border between the zones. It reads the restricted lake (landed contacts with names, addresses,
identifiers and message text) and writes the pseudonymous lake dbt reads, `linked/contacts.parquet` and
`linked/persons.parquet`: keys, coarse attributes, times and outcomes, and nothing else (PSEUDONYMOUS_COLUMNS).
No file outside the restricted zone maps a source contact id, or any PII, to a key: that mapping lives in the
identity store (`contact_keys`, `person_keys`).

Incremental: contacts already in the identity store keep their person; only new contact ids are linked, against
the register and the persons remembered from earlier runs. The identity store gains the day's links and the
renames the linker made (not a rewrite of the history); the pseudonymous lake outputs are sorted, so re-running
gives the same bytes. They are derived for what changed since the previous run, reusing its rows for the rest
(joinedup.identity.derive), and whole from the store when that run left no mark to start from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd

from joinedup import paths
from joinedup.identity.attributes import attributes_of, person_values, person_values_sql, register_view
from joinedup.identity.context_step import (
    PUBLISHED_PERSON_SQL,
    context_view,
    decide_context,
    forbidden_of,
    register_forenames,
    store_context,
)
from joinedup.identity.derive import (
    VALUE_COLUMNS,
    Derived,
    derive_incremental,
    drop_mark,
    read_mark,
    recipe,
    started_ns,
    write_mark,
    write_values,
)
from joinedup.identity.pseudonym import KEY_CHECK_FILE, add_keys, key_check, known_keys, reused_keys
from joinedup.identity.store import attach_stored_links, holds_store_lock, update_identity_db
from joinedup.identity.worker import link_in_fresh_process, link_on_spark
from joinedup.ingest.lake import write_parquet_atomic
from joinedup.review.store import prepare_decisions, store_review_tables
from joinedup.zones import make_private, restricted_identity, write_private_text
from linkage.settings import LinkSettings, load_settings
from linkage.state import load_state, verify_identifier_key

# What linkage reads from a contact: the identity fields of the canonical contact, plus when and where.
LINK_COLUMNS = (
    "contact_id", "channel", "occurred_at", "given_name", "family_name", "full_name", "date_of_birth",
    "postcode", "address_line", "email", "phone", "handle", "platform", "display_name", "location", "message_text",
    "reference_id", "case_ref",
)
# What leaves the restricted zone about a contact, besides its keys and link decision: when, where, about what,
# and how it went. No identifier, no name, no address, no free text, no source id.
PSEUDONYMOUS_COLUMNS = ("channel", "platform", "source_system", "direction", "service", "outcome", "occurred_at",
                        "first_response_at", "resolved_at", "wait_seconds", "handle_seconds")
AUDIT_ENV = "JOINEDUP_LINK_AUDIT"  # set: every incremental derivation is checked against a full one
# how the outputs are derived: outputs made by a version that derived them otherwise are not reused
RECIPE = recipe(PSEUDONYMOUS_COLUMNS, PUBLISHED_PERSON_SQL, person_values_sql())
SPARK_WORK = "spark"  # Spark's work folder in the identity store, for the Spark engine
LINK_CHUNK = 1_000_000  # contacts per linkage call: 5.3 GB peak PSS (bench/linkage_scale.py), a year in 3 calls


@dataclass(frozen=True)
class LinkStepResult:
    contacts: int
    new_contacts: int
    persons: int
    registered_contacts: int
    review_contacts: int
    pairs: int
    incremental: bool = False  # the outputs were derived for what changed (joinedup.identity.derive), not whole


def _spark_work(default: Path) -> Path:
    """Spark's work folder for the link step: it shuffles and spills contacts (PII), so inside the restricted store
    (`default`) unless JOINEDUP_SPARK_WORK names another restricted folder."""
    from joinedup.engine.spark import work_folder

    return work_folder(default)


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


@holds_store_lock
def run_link_step(lake: Path, identity: Path, register_path: Path, key: bytes,
                  chunk_size: int = LINK_CHUNK, settings: LinkSettings | None = None,
                  decisions: bool = True, engine: str | None = None,
                  spark_work: Path | None = None, audit: bool | None = None) -> LinkStepResult:
    """Link new contacts, bring the restricted identity store up to date and rewrite the pseudonymous lake
    outputs.

    New contacts go to the linker in time order, `chunk_size` at a time, each chunk linked incrementally
    against the register and the persons the store already holds: memory stays bounded by the chunk, not
    the year (a council year at once needed 15 GB), and a first load behaves like a run of daily loads.
    The outputs are derived in DuckDB; only new contacts and persons are hashed.

    First, the caseworkers' decisions it has not applied yet are applied (joinedup.review.apply), so they show in
    the same run's outputs; `decisions=False` (a relink, which re-decides everything under the decisions in
    force) only carries the record of them over.

    engine: who links the new contacts (None: joinedup.paths.engine(), JOINEDUP_ENGINE). `duckdb`, the linker in a
    fresh process (joinedup.identity.worker.link_in_fresh_process); `spark`, blocking and scoring on Spark with
    the same state (link_on_spark). Both leave the same store and outputs; everything else in the step is the same
    code. spark_work: Spark's work folder when JOINEDUP_SPARK_WORK does not name one (None: SPARK_WORK in
    `identity`; a relink, which links into a folder it swaps in afterwards, names the store's own, so the process's
    session never works in a folder that is moved away).

    The outputs are derived for what changed since the last run when it left its mark (joinedup.identity.derive),
    else whole. audit: also derive them whole and refuse to write when the two differ (None: JOINEDUP_LINK_AUDIT).
    """
    started = started_ns()
    audit = os.environ.get(AUDIT_ENV, "") not in ("", "0") if audit is None else audit
    engine = engine or paths.engine()
    if engine not in paths.ENGINES:
        raise ValueError(f"engine {engine!r}: expected one of {', '.join(paths.ENGINES)}")
    # A failed or killed run's scratch files (transient, never reused) would otherwise fail the zone check below
    # and every later run until someone removed them: a retry must be able to start over.
    if (identity / "_work").is_dir():
        for litter in (identity / "_work").iterdir():
            litter.unlink()
    restricted_identity(identity, "linkage", "_work")  # refuses a store open to others; creates it 0700
    # the previous run's mark, read before this run changes anything it names; a run killed from here on leaves
    # none, so the next one derives everything
    mark = read_mark(lake, identity, register_path, RECIPE) if reused_keys(identity, key) else None
    drop_mark(identity)
    state_dir = identity / "linkage"
    verify_identifier_key(state_dir, key)  # before anything: a rotated key must not half-match old hashes
    work = identity / "_work"  # inside the restricted store: these files hold PII
    work.mkdir(parents=True, exist_ok=True)
    (identity / "contact_links.parquet").unlink(missing_ok=True)  # an older layout's copy of contact_links
    new_path, fresh_path = work / "new_contacts.parquet", work / "fresh_links.parquet"
    decided = prepare_decisions(lake, identity, work) if decisions else None
    with duckdb.connect() as con:
        _raw_view(con, lake)
        attach_stored_links(con, identity)
        con.execute(f"""copy (select {_select(LINK_COLUMNS)} from raw
                              where contact_id not in (select contact_id from stored_links)
                              order by occurred_at, contact_id)
                        to '{new_path}' (format parquet, row_group_size {min(chunk_size, 122_880)})""")
    runner = link_in_fresh_process if engine == "duckdb" else \
        partial(link_on_spark, work=_spark_work(spark_work or identity / SPARK_WORK))
    stats = runner(register_path, new_path, state_dir, fresh_path, chunk_size, settings or load_settings(), key,
                   decided)
    if decided is not None:
        with duckdb.connect() as con:  # the decided contacts' links as they now are, then the new contacts'
            con.execute(f"""copy (select * from read_parquet('{work / "links.out.parquet"}')
                                  where contact_id not in (select contact_id from read_parquet('{fresh_path}'))
                                  union all by name select * from read_parquet('{fresh_path}'))
                            to '{work / "all_links.parquet"}' (format parquet)""")
        make_private(work / "all_links.parquet").replace(fresh_path)
    try:
        with duckdb.connect() as con:  # context: which journey each contact nobody can identify belongs to
            _raw_view(con, lake)
            decide_context(con, state_dir, fresh_path, settings or load_settings(),
                           forbidden_of(load_state(state_dir, key)), register_forenames(con, register_path))
        with duckdb.connect() as con:
            _derive_setup(con, lake, identity, register_path, key)
            derived = None if mark is None else derive_incremental(
                con, lake, identity, fresh_path, key, mark, PUBLISHED_PERSON_SQL, PSEUDONYMOUS_COLUMNS)
            incremental = derived is not None
            if derived is None:
                derived = _derive_full(con, fresh_path, key)
            elif audit:
                _audit(derived, lake, identity, register_path, key, fresh_path)
            if derived.contacts.num_rows != derived.counts[0] or \
                    derived.persons.num_rows != len(derived.values):
                raise RuntimeError("link step: a contact or person lost its keyed hash; nothing was written")
            con.execute("detach database if exists old_store")
            update_identity_db(con, identity, fresh_path,
                               lambda c: (store_review_tables(c, identity, work if decided is not None else None,
                                                                  register_path), store_context(c, state_dir)),
                               changed="store_changed" if incremental else None)
    finally:
        for f in work.iterdir():
            f.unlink()
    write_parquet_atomic(derived.contacts, lake / "linked" / "contacts.parquet")
    (lake / "linked" / "contact_persons.parquet").unlink(missing_ok=True)  # the old layout's id -> key map
    write_parquet_atomic(derived.persons, lake / "linked" / "persons.parquet")
    write_private_text(identity / KEY_CHECK_FILE, key_check(key))
    write_values(identity, derived.values)
    write_mark(lake, identity, register_path, started, derived.latest, RECIPE)
    return LinkStepResult(
        contacts=derived.counts[0],
        new_contacts=stats.contacts,
        persons=derived.persons.num_rows,
        registered_contacts=derived.counts[1],
        review_contacts=derived.counts[2],
        pairs=stats.pairs,
        incremental=incremental,
    )


def _derive_setup(con: duckdb.DuckDBPyConnection, lake: Path, identity: Path, register_path: Path,
                  key: bytes) -> None:
    """What both derivations read: raw, stored_links (the store attached as old_store), context_now, persons_now,
    register, and the keys published last time (old_contact_keys, old_person_keys)."""
    state_dir = identity / "linkage"
    _raw_view(con, lake)
    attach_stored_links(con, identity)
    context_view(con, state_dir)
    persons_file = state_dir / "persons.parquet"
    # person ids as the store knows them now (a pseudonymous person may since have proved a citizen)
    con.execute(f"create view persons_now as select contact_id, person_id, citizen_id "
                f"from read_parquet('{persons_file}')" if persons_file.exists() else
                "create table persons_now (contact_id varchar, person_id varchar, citizen_id varchar)")
    register_view(con, register_path)
    known_keys(con, identity, key)


def _derive_full(con: duckdb.DuckDBPyConnection, fresh_path: Path, key: bytes) -> Derived:
    """The pseudonymous outputs derived whole from the store, the linkage state and every landed contact."""
    con.execute(f"""create table links as
        with every_link as (
            select contact_id, decision, match_probability from stored_links
            where contact_id not in (select contact_id from read_parquet('{fresh_path}'))
            union all by name
            select contact_id, decision, match_probability from read_parquet('{fresh_path}'))
        select * from ({PUBLISHED_PERSON_SQL}) l
        where l.contact_id in (select contact_id from raw)""")
    con.execute("create table contacts as select cast(contact_id as varchar) as contact_id, "
                "cast(date_of_birth as varchar) as date_of_birth, cast(postcode as varchar) as postcode "
                "from raw")
    latest = con.execute("select max(occurred_at) from raw").fetchone()[0]
    values = person_values(con)
    con.register("attrs_df", attributes_of(values, latest.date() if latest is not None else date(2000, 1, 1)))
    add_keys(con, "contact_keys", "select contact_id from links", "contact_id", "contact_key", key,
              "contact")
    # a contact joined to a journey by context is published under the journey's person but keeps its own
    # in the store (linkage.context): every person the store names gets its key
    add_keys(con, "person_keys", "select person_id from attrs_df union select person_id from persons_now "
             "where contact_id in (select contact_id from raw) and person_id is not null",
             "person_id", "person_key", key, "person")
    contact_table = con.sql(f"""
        select c.contact_key, p.person_key, l.decision as link_decision, l.match_probability,
               {', '.join(f'r.{col}' for col in PSEUDONYMOUS_COLUMNS)}
        from links l join contact_keys c using (contact_id) join person_keys p using (person_id)
        join raw r using (contact_id)
        order by c.contact_key""").to_arrow_table()
    person_table = con.sql("""
        select p.person_key, a.is_registered, a.age_band, a.postcode_district
        from attrs_df a join person_keys p using (person_id)
        order by p.person_key""").to_arrow_table()
    counts = con.execute("""select count(*), count(citizen_id), count(*) filter (where decision = 'review')
                            from links""").fetchone()
    return Derived(contact_table, person_table, values, counts, latest)


def _plain(values: pd.DataFrame) -> pd.DataFrame:
    """Person values as plain objects (None for null), however they were read, to compare them."""
    v = values[list(VALUE_COLUMNS)].astype(object)
    return v.where(v.notna(), None).reset_index(drop=True)


def _audit(derived: Derived, lake: Path, identity: Path, register_path: Path, key: bytes, fresh_path: Path) -> None:
    """Derive everything again, apart, and refuse to write when the incremental outputs differ from it."""
    with duckdb.connect() as con:
        _derive_setup(con, lake, identity, register_path, key)
        full = _derive_full(con, fresh_path, key)
    same = (derived.contacts.equals(full.contacts) and derived.persons.equals(full.persons)
            and tuple(derived.counts) == tuple(full.counts) and derived.latest == full.latest
            and _plain(derived.values).equals(_plain(full.values)))
    if not same:
        raise RuntimeError("link step: the incremental outputs differ from a full derivation; nothing was written")
