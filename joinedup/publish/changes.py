"""Which persons changed since a step last ran: shared by the incremental gate and the incremental publish.

The dbt build rebuilds the facts by person (incremental_strategy='replace_keys' on person_key), so a row of a
person-keyed mart changes only when its person's contacts changed. intermediate.int_contacts__state holds each
person's state as the marts were built from it (how many contacts, and a sum of a hash of each contact's row). A
step that keeps a copy of that table when it succeeds can later compare the warehouse's state with it: the
persons whose state differs (a new, late, corrected, moved or erased contact; both persons of a rename) are the only ones
whose rows may differ from what the step last saw. The snapshot holds keyed pseudonyms and hashes only, and is
kept beside the restricted warehouse.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb

# The marts the dbt build rebuilds by person, and the state table whose diff says which persons changed.
PERSON_KEYED = ("marts.fct_contacts", "marts.fct_journeys", "marts.fct_channel_switches")
STATE_TABLE = "intermediate.int_contacts__state"


def has_state(con: duckdb.DuckDBPyConnection, database: str | None = None) -> bool:
    """Whether the warehouse (the connection's own, or the attached `database`) holds the persons' state in this
    layout (a warehouse not yet built by this version has none: the step then does everything)."""
    schema, name = STATE_TABLE.split(".")
    where = "schema_name = ? and table_name = ? and column_name = 'state_hash'" + \
        (" and database_name = ?" if database else "")
    args = [schema, name] + ([database] if database else [])
    return bool(con.execute(f"select count(*) from duckdb_columns() where {where}", args).fetchall()[0][0])


def read_record(path: Path) -> dict[str, Any] | None:
    """The JSON a step recorded after it last succeeded, or None (never, or unreadable: do everything)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def changed_persons(con: duckdb.DuckDBPyConnection, snapshot: Path, into: str, state: str = STATE_TABLE) -> int:
    """Create temp table `into` (person_key): the persons whose contacts differ between `state` and the
    `snapshot` file (a person on one side only included). Returns how many."""
    con.execute(f"""create or replace temp table {into} as
        select coalesce(now_state.person_key, before.person_key) as person_key
        from (select person_key, contacts, state_hash from {state}) as now_state
        full join read_parquet('{snapshot}') as before on now_state.person_key = before.person_key
        where now_state.state_hash is distinct from before.state_hash
           or now_state.contacts is distinct from before.contacts""")
    return con.execute(f"select count(*) from {into}").fetchall()[0][0]


def record_snapshot(con: duckdb.DuckDBPyConnection, snapshot: Path, record_path: Path, record: dict[str, Any],
                    state: str = STATE_TABLE) -> None:
    """After the step succeeded: the state it saw, then the record that vouches for it, each written atomically
    and owner-only. The record is removed first, so a killed write leaves no record (the next run does
    everything) or an older snapshot under no record, never a record beside a snapshot it was not made with."""
    record_path.unlink(missing_ok=True)
    tmp = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.tmp")
    con.execute(f"copy (select person_key, contacts, state_hash from {state}) to '{tmp}' (format parquet)")
    os.chmod(tmp, 0o600)
    os.replace(tmp, snapshot)
    tmp_record = record_path.with_name(f".{record_path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp_record, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
    os.replace(tmp_record, record_path)


def forget(record_path: Path) -> None:
    """The step ran without a state to snapshot: the next run does everything."""
    record_path.unlink(missing_ok=True)
