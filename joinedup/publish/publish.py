"""Publish: copy the gated marts into a fresh analytics file and swap it in atomically.

BI users open the analytics file read-only while the pipeline writes the warehouse, because it is a different
file (DuckDB allows one process per file). The new file is built beside the old one and renamed over it, so a
reader sees either the old tables or the new ones, and a failed run leaves the old file as it was.

Incremental (issue 20's daily run): when the published file is the one the last publish wrote, from the same dbt
definitions, the new file starts as a copy of it; the person-keyed facts then get only the changed persons' rows
replaced (joinedup.publish.changes), and every other table is copied whole as before. Before the rename the copy
is audited against the warehouse, table by table (row count and an order-independent hash of every row); a
difference rebuilds the file in full instead. Anything else (a first publish, a replaced or missing file, other
definitions) publishes in full.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from joinedup.publish.changes import (
    PERSON_KEYED,
    STATE_TABLE,
    changed_persons,
    forget,
    has_state,
    read_record,
    record_snapshot,
)
from joinedup.publish.warehouse import before_open

PUBLISHED_SCHEMA = "marts"
# The grain key of each row-level mart (dbt tests it unique and not null): sorting by it alone orders the rows
# totally, a little cheaper than `order by all` (11.1 s -> 10.3 s for the council year's four row-level marts,
# measured apart from the pipeline). The small aggregates sort by all.
GRAIN_KEYS = {"fct_contacts": "contact_key", "fct_journeys": "journey_id",
              "fct_channel_switches": "switch_id", "dim_persons": "person_key",
              "dim_date": "date_day", "dim_opening_hours": "channel, date_day"}


PUBLISHED_STATE = "publish-state.json"  # beside the warehouse (restricted): what the last publish wrote
PUBLISHED_CONTACTS = "publish-contacts.parquet"  # and the contacts' state it published (keyed hashes only)


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: dict[str, int]
    incremental: bool = False  # whether the person-keyed facts were updated in a copy of the last file
    persons_replaced: int = 0  # the changed persons whose rows were replaced, when incremental


def _quote(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def publish_analytics(warehouse: Path, analytics: Path, incremental: bool = True) -> PublishResult:
    """Publish the DuckDB warehouse's marts (and dbt's persisted descriptions) into `analytics` atomically:
    incrementally when the last publish allows it (the module's docstring), else in full. `incremental=False`
    always rebuilds the file in full."""
    tmp = _fresh_tmp(analytics)
    record_path, snapshot = warehouse.parent / PUBLISHED_STATE, warehouse.parent / PUBLISHED_CONTACTS
    definitions = _definitions()
    before_open()
    result = None
    if incremental and _may_update(read_record(record_path), analytics, definitions) and snapshot.is_file():
        shutil.copyfile(analytics, tmp)
        result = _written(tmp, lambda: _update(warehouse, tmp, snapshot))
        if result is None:  # the audit found a difference: never publish it, build the file in full
            tmp.unlink(missing_ok=True)
    if result is None:
        result = PublishResult(tmp, _written(tmp, lambda: _fill(tmp, lambda con: _copy_all(con, warehouse))))
    forget(record_path)  # from here until the new record, the next publish is a full one
    os.replace(tmp, analytics)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if has_state(con):
            stat = analytics.stat()
            record_snapshot(con, snapshot, record_path, {
                "definitions": definitions, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    return PublishResult(analytics, result.tables, result.incremental, result.persons_replaced)


def publish_spark_marts(warehouse: Path, analytics: Path, manifest: Path | None = None) -> PublishResult:
    """Publish the marts a Spark build left in `warehouse` (its spark.sql.warehouse.dir, as this machine sees it)
    as the same analytics file, in full: DuckDB reads each mart's Parquet folder itself (no Spark, no collect to a
    driver), sorted by the same grain keys, and the same atomic rename publishes it. Descriptions come from dbt's
    `manifest` (what persist_docs writes on DuckDB), since the Parquet files carry none.

    Types as on DuckDB: Spark writes a TIMESTAMP (an instant) as INT96 by default, which DuckDB reads as a naive
    time: those columns are published as TIMESTAMPTZ again (INT96 is always UTC; TIMESTAMP_NTZ is never INT96).
    Partition folders (`occurred_month=2025-03-01/`) come back as typed columns, last, as Spark's table has them.
    """
    from joinedup.engine.spark import warehouse_tables

    folders = warehouse_tables(warehouse, PUBLISHED_SCHEMA)
    described = _manifest_descriptions(manifest, {q.split(".", 1)[1] for q in folders}) if manifest else ([], [])

    def fill(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        tables = {}
        for qualified, folder in folders.items():
            name = qualified.split(".", 1)[1]
            files = _quote(f"{folder}/**/*.parquet")
            instants = sorted({r[0] for r in con.execute(
                f"select name from parquet_schema({files}) where type = 'INT96'").fetchall()})
            replace = ", ".join(f'timezone(\'UTC\', "{c}") as "{c}"' for c in instants)
            partitioned = any(p.is_dir() and "=" in p.name for p in folder.iterdir())
            source = (f"(select * {f'replace ({replace})' if replace else ''} from read_parquet({files}, "
                      f"hive_partitioning = {str(partitioned).lower()}))")
            tables[name] = _copy_table(con, name, source)
        _comment(con, *described)
        return tables

    tmp = _fresh_tmp(analytics)
    tables = _written(tmp, lambda: _fill(tmp, fill))
    os.replace(tmp, analytics)
    return PublishResult(analytics, tables)


def _fresh_tmp(analytics: Path) -> Path:
    """The temporary file the new analytics file is written to, beside it (the rename is then atomic). One publish
    at a time (the DAG's 1-slot pool): a temporary file already here is a killed publish's litter, never published
    (only the rename publishes), and removed so that it cannot pile up."""
    analytics.parent.mkdir(parents=True, exist_ok=True)
    for litter in analytics.parent.glob(f".{analytics.name}.*.tmp*"):  # and its .wal
        litter.unlink(missing_ok=True)
    return analytics.with_name(f".{analytics.name}.{os.getpid()}.tmp")


def _written(tmp: Path, write: Callable[[], Any]) -> Any:
    """`write()`'s result; if it fails, its half-written `tmp` (and WAL) removed before the error goes on."""
    try:
        return write()
    except BaseException:
        for left in (tmp, tmp.with_name(tmp.name + ".wal")):
            left.unlink(missing_ok=True)
        raise


def _fill(target: Path, fill: Callable[[duckdb.DuckDBPyConnection], dict[str, int]]) -> dict[str, int]:
    with duckdb.connect(str(target)) as con:
        tables = fill(con)
        con.execute("checkpoint")
    return tables


def _definitions() -> str:
    from joinedup import paths
    from joinedup.dbt_definitions import definitions_fingerprint

    return definitions_fingerprint(paths.dbt_project_dir().resolve())


def _may_update(record: dict | None, analytics: Path, definitions: str) -> bool:
    """Whether `analytics` is still the file the last publish wrote, from the same definitions: its size and
    modification time (to the nanosecond) as recorded then. A copy that keeps both (a backup restored with its
    times, the whole data folder moved) is that file; anything written since is not."""
    if record is None or record.get("definitions") != definitions or not analytics.is_file():
        return False
    stat = analytics.stat()
    return (record.get("size"), record.get("mtime_ns")) == (stat.st_size, stat.st_mtime_ns)


def _published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = 'wh' and schema_name = ? order by 1",
        [PUBLISHED_SCHEMA]).fetchall()]


def _copy_all(con: duckdb.DuckDBPyConnection, warehouse: Path) -> dict[str, int]:
    """Every mart of the warehouse into the (fresh) file of `con`, sorted, with dbt's descriptions."""
    con.execute(f"attach {_quote(str(warehouse))} as wh (read_only)")
    tables = {name: _copy_table(con, name, f"wh.{PUBLISHED_SCHEMA}.{name}") for name in _published_tables(con)}
    _copy_comments(con)
    con.execute("detach wh")
    return tables


def _copy_table(con: duckdb.DuckDBPyConnection, name: str, source: str) -> int:
    """One mart into the new file (replacing it there); returns its row count. Sorted rows: the same marts give
    the same tables, whatever order the engine wrote them in."""
    order = GRAIN_KEYS.get(name, "all")
    con.execute(f"create or replace table main.{name} as select * from {source} order by {order}")
    return con.execute(f"select count(*) from main.{name}").fetchall()[0][0]


def _copy_comments(con: duckdb.DuckDBPyConnection) -> None:
    """dbt's persisted descriptions from the attached warehouse `wh`."""
    _comment(con, con.execute(
        "select table_name, comment from duckdb_tables() where database_name = 'wh' and schema_name = ?",
        [PUBLISHED_SCHEMA]).fetchall(), con.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where database_name = 'wh' and schema_name = ? and comment is not null",
        [PUBLISHED_SCHEMA]).fetchall())


def _comment(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str | None]],
             columns: list[tuple[str, str, str | None]]) -> None:
    """Table and column descriptions onto the published tables, so BI tools show them."""
    for name, comment in tables:
        if comment:
            con.execute(f"comment on table main.{name} is {_quote(comment)}")
    for name, column, comment in columns:
        if comment:
            con.execute(f"comment on column main.{name}.{column} is {_quote(comment)}")


def _manifest_descriptions(manifest: Path, names: set[str]) -> tuple[list[tuple[str, str]],
                                                                      list[tuple[str, str, str]]]:
    """(table descriptions, column descriptions) of the published models, from dbt's manifest.json."""
    nodes = json.loads(Path(manifest).read_text(encoding="utf-8"))["nodes"].values()
    models = [n for n in nodes if n.get("resource_type") == "model" and n["name"] in names]
    return ([(n["name"], n.get("description") or "") for n in models],
            [(n["name"], c, col.get("description") or "") for n in models
             for c, col in (n.get("columns") or {}).items()])


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str, name: str) -> list[tuple[str, str]]:
    return con.execute("select column_name, data_type from duckdb_columns() where database_name = ? and "
                       "schema_name = ? and table_name = ? order by column_index", [database, schema, name]
                       ).fetchall()


def _fingerprint(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, int]:
    """Row count and an order-independent hash of every row: equal tables give equal fingerprints."""
    return con.execute(f"select count(*), coalesce(sum(hash(t)), 0) from {relation} t").fetchone()


def _update(warehouse: Path, target: Path, snapshot: Path) -> PublishResult | None:
    """In `target` (a copy of the last published file): replace the changed persons' rows of the person-keyed
    facts, copy every other table whole, then audit every table against the warehouse. None when the file
    cannot be updated (another set of tables or columns) or the audit failed."""
    tables: dict[str, int] = {}
    with duckdb.connect(str(target)) as con:
        con.execute(f"attach {_quote(str(warehouse))} as wh (read_only)")
        names = _published_tables(con)
        mine = [r[0] for r in con.execute("select table_name from duckdb_tables() where database_name = "
                                           "current_database() and schema_name = 'main' order by 1").fetchall()]
        if names != mine or not has_state(con, "wh"):
            return None
        keyed = {t.split(".")[1] for t in PERSON_KEYED}
        here = con.execute("select current_database()").fetchone()[0]
        if any(_columns(con, "wh", PUBLISHED_SCHEMA, n) != _columns(con, here, "main", n)
               for n in names if n in keyed):
            return None
        persons = changed_persons(con, snapshot, "changed", state=f"wh.{STATE_TABLE}")
        for name in names:
            if name in keyed:
                con.execute(f"delete from main.{name} where person_key in (select person_key from changed)")
                con.execute(f"insert into main.{name} select * from wh.{PUBLISHED_SCHEMA}.{name} "
                            f"where person_key in (select person_key from changed) order by {GRAIN_KEYS[name]}")
            else:
                _copy_table(con, name, f"wh.{PUBLISHED_SCHEMA}.{name}")
        _copy_comments(con)
        for name in names:
            published = _fingerprint(con, f"main.{name}")
            if published != _fingerprint(con, f"wh.{PUBLISHED_SCHEMA}.{name}"):
                return None
            tables[name] = published[0]
        con.execute("detach wh")
        con.execute("checkpoint")
    return PublishResult(target, tables, incremental=True, persons_replaced=persons)
