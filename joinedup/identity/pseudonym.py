"""Keyed hashes that stand in for people and contacts wherever BI users can see.

HMAC-SHA256 with a key from configuration: without the key nobody can recompute a person's key from an id
guessed or leaked elsewhere, and changing the key re-keys every published table.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from joinedup.identity.store import IDENTITY_DB
from joinedup.zones import check_key_file

KEY_ENV = "JOINEDUP_PSEUDONYM_KEY"
KEY_FILE_ENV = "JOINEDUP_PSEUDONYM_KEY_FILE"
MIN_KEY_BYTES = 16


class PseudonymKeyError(RuntimeError):
    pass


def load_key() -> bytes:
    """The key from JOINEDUP_PSEUDONYM_KEY, or the file JOINEDUP_PSEUDONYM_KEY_FILE names (refused when group or
    others may read it: joinedup.zones.RestrictedZoneError)."""
    value = os.environ.get(KEY_ENV)
    if not value and os.environ.get(KEY_FILE_ENV):
        key_file = Path(os.environ[KEY_FILE_ENV])
        check_key_file(key_file)  # a key others can read makes every keyed hash reversible by them
        value = key_file.read_text().strip()
    if not value:
        raise PseudonymKeyError(
            f"No pseudonymisation key: set {KEY_ENV} (or {KEY_FILE_ENV} to a file holding it), "
            "e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`. It must not live in the repository."
        )
    key = value.encode()
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(f"{KEY_ENV} is too short: use at least {MIN_KEY_BYTES} characters")
    return key


def keyed_hashes(values: Iterable[str | None], key: bytes, kind: str) -> list[str | None]:
    """32 hex characters per value; `kind` separates namespaces so a contact key never equals a person key.

    Each distinct value is hashed once (one-shot `hmac.digest`, several times faster than hmac objects):
    a council year asks for millions of keys, most of them repeats of a person's."""
    prefix = f"{kind}:".encode()
    cache: dict[str, str] = {}

    def one(v: str) -> str:
        h = cache.get(v)
        if h is None:
            h = cache[v] = hmac.digest(key, prefix + v.encode(), hashlib.sha256).hex()[:32]
        return h

    return [None if v is None else one(str(v)) for v in values]


KEY_CHECK_FILE = "pseudonym_key.check"


def key_check(key: bytes) -> str:
    """A keyed hash of a constant: tells whether the keys published last time were made with this key."""
    return keyed_hashes(["joinedup key check"], key, "check")[0] or ""


def reused_keys(identity: Path, key: bytes) -> bool:
    """Whether the keys the store holds were made with `key` (else a run re-keys everything)."""
    check, store = identity / KEY_CHECK_FILE, identity / IDENTITY_DB
    return check.exists() and check.read_text() == key_check(key) and store.exists()


def known_keys(con: duckdb.DuckDBPyConnection, identity: Path, key: bytes) -> None:
    """`old_contact_keys` and `old_person_keys`: the keyed hashes published last time, if made with this key.

    A daily run then hashes only the day's new contacts and persons, not the history again. A different key
    (rotation) finds nothing here and re-keys everything.
    """
    store = identity / IDENTITY_DB
    reuse = reused_keys(identity, key)
    if reuse:
        con.execute(f"attach '{store}' as store (read_only)")
        tables = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'store'").fetchall()}
        reuse = {"contact_keys", "person_keys"} <= tables  # a store from before contact_keys re-keys once
        if reuse:
            con.execute("create table old_contact_keys as select contact_id, contact_key from store.contact_keys")
            con.execute("create table old_person_keys as select person_id, person_key from store.person_keys")
        con.execute("detach store")
    if reuse:
        return
    con.execute("create table old_contact_keys (contact_id varchar, contact_key varchar)")
    con.execute("create table old_person_keys (person_id varchar, person_key varchar)")


def add_keys(con: duckdb.DuckDBPyConnection, table: str, ids_sql: str, id_col: str, key_col: str,
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
