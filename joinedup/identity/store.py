"""The restricted identity store: one DuckDB file holding who each contact is.

It is the only place a pseudonymous key can be turned back into a person, so it lives in the restricted zone.
"""

from __future__ import annotations

import functools
import inspect
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import duckdb
import pyarrow as pa
from filelock import FileLock

from linkage.io import make_private, private_dir

LINKS_COLUMNS = ("contact_id", "person_id", "citizen_id", "match_probability", "match_weight", "decision",
                 "explanation")
LINKS_SCHEMA = pa.schema([("contact_id", pa.string()), ("person_id", pa.string()), ("citizen_id", pa.string()),
                          ("match_probability", pa.float64()), ("match_weight", pa.float64()),
                          ("decision", pa.string()), ("explanation", pa.string())])
IDENTITY_DB = "identity.duckdb"
# Tables of the identity store copied whole from the linkage state on every run (small; persons and
# identifiers are not: contact_links already says which person each contact is, and identifiers are hashes
# only the linker reads).
STORE_STATE_TABLES = ("aliases", "decisions", "rejected_edges")
STORE_LOCK = ".writer.lock"

P = ParamSpec("P")
R = TypeVar("R")


def store_lock(identity: Path) -> FileLock:
    """The one-writer lock of the identity store and linkage state, across processes.

    The link step, relink, erasure, retention and review decisions each rewrite them on a copy and swap it in;
    two at once (an erasure from the CLI while the scheduler's link step runs) would each swap in a copy without
    the other's change, and an erased citizen could come back. The lock is re-entrant in a thread (an erasure
    runs the link step), and its file is owner-only like everything else in the store."""
    private_dir(identity)
    return FileLock(identity / STORE_LOCK, mode=0o600, is_singleton=True)


def holds_store_lock(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` holding the store lock of its `identity` argument."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        with store_lock(Path(sig.bind(*args, **kwargs).arguments["identity"])):
            return fn(*args, **kwargs)

    return locked


def links_ddl(table: str) -> str:
    cols = ", ".join(f"{f.name} {'double' if pa.types.is_floating(f.type) else 'varchar'}" for f in LINKS_SCHEMA)
    return f"create table if not exists {table} ({cols})"


def update_identity_db(con: duckdb.DuckDBPyConnection, identity: Path, fresh_links: Path,
                       also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
                       changed: str | None = None) -> Path:
    """The restricted identity store, one DuckDB file, brought up to date on a copy that is then swapped in.

    It holds what only a caseworker with access to PII may see: the contact -> person -> citizen links with
    their explanations (`contact_links`), the person_id <-> person_key map that turns a pseudonymous key in
    the analytics file back into a person (`person_keys`), and the linkage state's aliases, review decisions
    and rejected edges. The day's links are added and the persons the linker renamed are updated, in one
    transaction on a copy of the file: the history is not rewritten, and a caseworker who has the store open
    keeps reading the old file while the new one replaces it.

    Links in `fresh_links` replace the store's rows of the same contacts (a contact a review decision re-linked).
    `also` runs inside the same transaction (the review tables: joinedup.review.store).

    `con` must hold `raw` (every landed contact), `contact_keys` and `person_keys`; the store is attached to it as `store`.

    changed: a relation (contact_id) holding every contact whose link may differ from the linkage state's, from a
    caller that knows no landed contact went away and every stored contact key is still in `contact_keys`
    (joinedup.identity.derive): only those links are compared, and only the new contact keys are added, instead
    of comparing and rewriting the history.
    """
    target = identity / IDENTITY_DB
    tmp = target.with_name(f".{IDENTITY_DB}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    if target.exists():
        shutil.copyfile(target, tmp)
        make_private(tmp)  # copyfile creates it with the umask
    state_dir = identity / "linkage"
    persons_file = state_dir / "persons.parquet"
    con.execute(f"attach '{tmp}' as store")
    committed = done = False
    try:
        con.execute("begin transaction")
        con.execute(links_ddl("store.contact_links"))
        con.execute(f"""delete from store.contact_links
                        where contact_id in (select contact_id from read_parquet('{fresh_links}'))""")
        con.execute(f"insert into store.contact_links by name select * from read_parquet('{fresh_links}')")
        if persons_file.exists():  # a pseudonymous person who proved a citizen, or merged into another person
            only = "" if changed is None else f"where contact_id in (select contact_id from {changed})"
            con.execute(f"""update store.contact_links l set person_id = s.person_id, citizen_id = s.citizen_id
                            from (select * from read_parquet('{persons_file}') {only}) s
                            where l.contact_id = s.contact_id and (l.person_id is distinct from s.person_id
                                  or l.citizen_id is distinct from s.citizen_id)""")
        con.execute("create or replace table store.person_keys as select * from person_keys order by person_id")
        if changed is None:
            con.execute("delete from store.contact_links where contact_id not in (select contact_id from raw)")
            con.execute("create or replace table store.contact_keys as select * from contact_keys order by contact_id")
        else:
            con.execute("""insert into store.contact_keys select * from contact_keys
                           where contact_id not in (select contact_id from store.contact_keys) order by contact_id""")
        for name in ("persons", "identifiers"):  # were copied here before; contact_links says the same
            con.execute(f"drop table if exists store.linkage_{name}")
        for name in STORE_STATE_TABLES:
            part = state_dir / f"{name}.parquet"
            if part.exists():
                con.execute(f"create or replace table store.linkage_{name} as select * from read_parquet(?)",
                            [str(part)])
        if also is not None:
            also(con)
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
    make_private(tmp)  # DuckDB created it with the umask; owner-only before it is swapped in
    os.replace(tmp, target)
    return target


def attach_stored_links(con: duckdb.DuckDBPyConnection, identity: Path) -> None:
    """`stored_links`: the links the identity store holds (none before the first run), attached read-only."""
    store = identity / IDENTITY_DB
    if store.exists():
        con.execute(f"attach '{store}' as old_store (read_only)")
        if con.execute("select count(*) from duckdb_tables() where database_name = 'old_store' "
                       "and table_name = 'contact_links'").fetchone()[0]:
            con.execute("create view stored_links as select * from old_store.contact_links")
            return
    con.execute(links_ddl("stored_links"))
