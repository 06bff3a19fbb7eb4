"""Publish: copy the gated marts into a fresh analytics file and swap it in atomically.

BI users open the analytics file read-only while the pipeline writes the warehouse, because it is a different
file (DuckDB allows one process per file). The new file is built beside the old one and renamed over it, so a
reader sees either the old tables or the new ones, and a failed run leaves the old file as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from joinedup.publish.warehouse import before_open

PUBLISHED_SCHEMA = "marts"
# The grain key of each row-level mart (dbt tests it unique and not null): sorting by it alone orders the rows
# totally, a little cheaper than `order by all` (11.1 s -> 10.3 s for the council year's four row-level marts,
# measured apart from the pipeline). The small aggregates sort by all.
GRAIN_KEYS = {"fct_contacts": "contact_key", "fct_journeys": "journey_id",
              "fct_channel_switches": "switch_id", "dim_persons": "person_key",
              "dim_date": "date_day", "dim_opening_hours": "channel, date_day"}


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: dict[str, int]


def _quote(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def publish_analytics(warehouse: Path, analytics: Path) -> PublishResult:
    """Publish the DuckDB warehouse's marts (and dbt's persisted descriptions) as the analytics file."""
    def fill(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        con.execute(f"attach {_quote(str(warehouse))} as wh (read_only)")
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'wh' and schema_name = ? order by 1",
            [PUBLISHED_SCHEMA]).fetchall()]
        tables = {name: _copy(con, name, f"wh.{PUBLISHED_SCHEMA}.{name}") for name in names}
        # carry dbt's persisted descriptions over, so BI tools show them
        _comment(con, con.execute(
            "select table_name, comment from duckdb_tables() where database_name = 'wh' and schema_name = ?",
            [PUBLISHED_SCHEMA]).fetchall(), con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where database_name = 'wh' and schema_name = ? and comment is not null",
            [PUBLISHED_SCHEMA]).fetchall())
        con.execute("detach wh")
        return tables

    return _write_audit_publish(analytics, fill)


def publish_spark_marts(warehouse: Path, analytics: Path, manifest: Path | None = None) -> PublishResult:
    """Publish the marts a Spark build left in `warehouse` (its spark.sql.warehouse.dir, as this machine sees it)
    as the same analytics file: DuckDB reads each mart's Parquet folder itself (no Spark, no collect to a driver),
    sorted by the same grain keys, and the same atomic rename publishes it. Descriptions come from dbt's
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
            tables[name] = _copy(con, name, source)
        _comment(con, *described)
        return tables

    return _write_audit_publish(analytics, fill)


def _copy(con: duckdb.DuckDBPyConnection, name: str, source: str) -> int:
    """One mart into the new file; returns its row count. Sorted rows: the same marts give the same tables,
    whatever order the engine wrote them in."""
    order = GRAIN_KEYS.get(name, "all")
    con.execute(f"create table main.{name} as select * from {source} order by {order}")
    return con.execute(f"select count(*) from main.{name}").fetchone()[0]


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


def _write_audit_publish(analytics: Path, fill: Callable[[duckdb.DuckDBPyConnection], dict[str, int]]
                         ) -> PublishResult:
    """`fill` writes the tables into a fresh file beside `analytics`, which is renamed over it only once complete:
    a reader sees the old tables or the new ones, and a failure leaves the old file as it was."""
    analytics.parent.mkdir(parents=True, exist_ok=True)
    # One publish at a time (the DAG's 1-slot pool): a temporary file already here is a killed publish's litter,
    # never published (only the rename publishes), and removed so that it cannot pile up.
    for litter in analytics.parent.glob(f".{analytics.name}.*.tmp*"):  # and its .wal
        litter.unlink(missing_ok=True)
    tmp = analytics.with_name(f".{analytics.name}.{os.getpid()}.tmp")
    before_open()
    try:
        with duckdb.connect(str(tmp)) as con:
            tables = fill(con)
            con.execute("checkpoint")
    except BaseException:
        for left in (tmp, tmp.with_name(tmp.name + ".wal")):
            left.unlink(missing_ok=True)
        raise
    os.replace(tmp, analytics)
    return PublishResult(analytics, tables)
