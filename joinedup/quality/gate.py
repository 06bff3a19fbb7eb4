"""The quality gate on the marts: great-expectations suites in expectations/marts/, one per published table.

On DuckDB, GX runs on DataFrames pulled from the warehouse (its DuckDB SQL datasource is broken in GX 1.24), in
bounded chunks so a council year's fct_contacts never has to fit in pandas at once. On Spark, the same suites run
on the Spark DataFrames themselves (`validate_marts_spark`): the data stays on the cluster. Nothing is published
unless every expectation holds on every chunk.

Incremental on DuckDB (issue 20's daily run): the facts are rebuilt by person, so a row of fct_contacts,
fct_journeys or fct_channel_switches changes only when its person's contacts changed. After a pass the gate keeps
a copy of each person's state (int_contacts__state: the person's contacts counted and their rows hashed) beside
the warehouse, with a fingerprint of the suites and of the dbt definitions. The next gate compares the
warehouse's state with that snapshot: the expectations that judge each row alone run only on the rows of the persons changed since the last
pass (both sides of a rename), and the table-level ones (row counts, uniqueness) and every other mart run whole.
Anything else (no snapshot, other suites or definitions, a warehouse without the state table) validates
everything, and a failed gate keeps the old snapshot, so the rows it failed on are checked again next time.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from joinedup.publish.changes import (
    PERSON_KEYED,
    changed_persons,
    forget,
    has_state,
    read_record,
    record_snapshot,
)
from joinedup.publish.warehouse import connect_readonly
from joinedup.quality.suites import (
    expectation_suite,
    expectation_suite_part,
    gx_context,
    gx_spark_batch_definition,
    suite_doc,
    suites_dir,
)

if TYPE_CHECKING:  # pyspark is the optional `spark` group
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession

CHUNK_ROWS = 500_000

# Expectations whose verdict on a row depends on that row alone (unless `mostly` makes them a share of the table):
# validating only the changed rows then gives the whole table's verdict.
ROW_LOCAL = frozenset({
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null", "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set", "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex", "expect_column_pair_values_a_to_be_greater_than_b",
})
GATED_STATE = "gate-state.json"  # beside the warehouse (restricted): the fingerprint of the last pass
GATED_CONTACTS = "gate-contacts.parquet"  # and the contacts' state it passed on (keyed hashes only)


class GateFailed(RuntimeError):
    """The marts did not pass; the message lists every failed expectation."""


@dataclass
class GateReport:
    tables: dict[str, int] = field(default_factory=dict)  # rows per table
    failures: list[str] = field(default_factory=list)
    incremental: bool = False  # whether the facts' row-level expectations ran on the changed persons only
    rows_validated: dict[str, int] = field(default_factory=dict)  # those rows, per fact, when incremental

    @property
    def passed(self) -> bool:
        return not self.failures


def mart_suites() -> list[str]:
    return sorted(f"marts/{p.stem}" for p in (suites_dir() / "marts").glob("*.json"))


def _describe(suite: str, result) -> str:
    cfg = result.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id", "result_format")}
    res = result.result or {}
    detail = ""
    if "unexpected_count" in res:
        sample = res.get("partial_unexpected_list") or []
        detail = f": {res['unexpected_count']} unexpected, e.g. {sample[:3]!r}"
    elif "observed_value" in res:
        detail = f": observed {res['observed_value']!r}"
    return f"{suite}: {cfg.type}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}){detail}"


def referenced_columns(doc: dict, table_columns: list[str]) -> list[str]:
    """The columns a suite's expectations read (row conditions included): only those leave the database."""
    text = json.dumps([e["kwargs"] for e in doc["expectations"]])
    return [c for c in table_columns if re.search(rf'"{re.escape(c)}"|\b{re.escape(c)}\b', text)]


def _chunks(con: duckdb.DuckDBPyConnection, table: str, columns: list[str],
            chunk_rows: int, own_cursor: bool = True) -> Iterator[pd.DataFrame]:
    """Bounded chunks, streamed on a cursor of its own (a council year's fct_contacts is millions of rows), or on
    `con` itself when `table` reads its temp tables (a cursor is another connection and cannot see them). An
    empty mart still yields one empty frame, so row-count expectations can fail it."""
    select = ", ".join(f'"{c}"' for c in columns) or "1::tinyint as _row"
    cur = con.cursor() if own_cursor else con
    try:
        reader = cur.sql(f"select {select} from {table}").to_arrow_reader(chunk_rows)
        seen = False
        for batch in reader:
            if batch.num_rows:
                seen = True
                yield batch.to_pandas(strings_to_categorical=True)  # GX hashes each frame: far cheaper
        if not seen:
            yield reader.schema.empty_table().to_pandas()
    finally:
        if own_cursor:
            cur.close()


def is_row_local(expectation: dict) -> bool:
    """Whether an expectation's verdict on each row depends on that row alone."""
    mostly = expectation["kwargs"].get("mostly", 1)
    return expectation["type"] in ROW_LOCAL and (mostly is None or mostly >= 1)


def gate_fingerprint() -> str:
    """sha256 over the suites as run (placeholders filled) and the dbt definitions' fingerprint: when either
    changes, rows the gate passed before may no longer pass, so the next gate validates everything."""
    from joinedup import paths
    from joinedup.dbt_definitions import definitions_fingerprint

    h = hashlib.sha256()
    for name in mart_suites():
        h.update(name.encode() + b"\0" + json.dumps(suite_doc(name), sort_keys=True).encode() + b"\0")
    h.update(definitions_fingerprint(paths.dbt_project_dir().resolve()).encode())
    return h.hexdigest()


def _gated_paths(warehouse: Path) -> tuple[Path, Path]:
    return warehouse.parent / GATED_STATE, warehouse.parent / GATED_CONTACTS


def _changed_persons(con: duckdb.DuckDBPyConnection, warehouse: Path, fingerprint: str) -> bool:
    """Create temp table `gate_persons` (the persons changed since the last pass) and say True; or say False
    when the gate must validate everything."""
    state_file, contacts_file = _gated_paths(warehouse)
    record = read_record(state_file)
    if record is None or record.get("fingerprint") != fingerprint or not contacts_file.is_file() \
            or not has_state(con):
        return False
    changed_persons(con, contacts_file, "gate_persons")
    return True


def validate_marts(warehouse: Path, chunk_rows: int = CHUNK_ROWS, fingerprint: str | None = None) -> GateReport:
    """Run every mart suite against the warehouse; never raises for data, only reports. With `fingerprint`
    (gate_fingerprint), the row-level expectations of the person-keyed facts run only on the persons changed
    since the last pass recorded with the same fingerprint (see the module's docstring)."""
    _, batch_def = gx_context()
    report = GateReport()
    with connect_readonly(warehouse) as con:
        incremental = fingerprint is not None and _changed_persons(con, warehouse, fingerprint)
        report.incremental = incremental
        for suite_name in mart_suites():
            doc = suite_doc(suite_name)
            table = doc["meta"]["table"]
            report.tables[table] = con.execute(f"select count(*) from {table}").fetchall()[0][0]
            schema, name = table.split(".")
            columns = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
                "order by column_index", [schema, name]).fetchall()]
            if not (incremental and table in PERSON_KEYED):
                for df in _chunks(con, table, referenced_columns(doc, columns), chunk_rows):
                    report.failures.extend(_validate_frame(batch_def, suite_name, df))
                continue
            parts = {True: [e for e in doc["expectations"] if is_row_local(e)],
                     False: [e for e in doc["expectations"] if not is_row_local(e)]}
            for row_local, expectations in parts.items():
                if not expectations:
                    continue
                part = {**doc, "expectations": expectations}
                source = (f"(select * from {table} where person_key in (select person_key from gate_persons))"
                          if row_local else table)
                if row_local:
                    report.rows_validated[table] = con.execute(f"select count(*) from {source}").fetchall()[0][0]
                read = referenced_columns(part, columns)
                # a part that reads no column (row counts) is one frame of the whole table, one byte a row
                for df in _chunks(con, source, read, chunk_rows if read else 1 << 62, own_cursor=not row_local):
                    report.failures.extend(_validate_frame(batch_def, suite_name, df, expectations))
    return report


def record_pass(warehouse: Path, fingerprint: str) -> None:
    """After a pass: the contacts' state the marts passed on, and the fingerprint they passed under."""
    state_file, contacts_file = _gated_paths(warehouse)
    with connect_readonly(warehouse) as con:
        if has_state(con):
            record_snapshot(con, contacts_file, state_file, {"fingerprint": fingerprint})
        else:
            forget(state_file)


def _validate_frame(batch_def: Any, suite_name: str, frame: Any, expectations: list[dict] | None = None
                    ) -> list[str]:
    """One suite (or the given part of it) on one frame (pandas or Spark): the cheap verdict first, the details
    (unexpected samples) only for a frame that failed."""
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    suite = expectation_suite(suite_name) if expectations is None else expectation_suite_part(suite_name,
                                                                                               expectations)
    if batch.validate(suite, result_format={"result_format": "BOOLEAN_ONLY"}).success:
        return []
    result = batch.validate(suite, result_format={"result_format": "SUMMARY"})
    return [_describe(suite_name, r) for r in result.results if not r.success]


def validate_marts_spark(spark: SparkSession, tables: dict[str, SparkFrame] | None = None) -> GateReport:
    """Every mart suite against the marts as Spark DataFrames: the tables the dbt `spark` target built (read by
    the suites' own names, e.g. `marts.fct_contacts`), or `tables` given by those names. The same suites and
    verdicts as on DuckDB. Each mart is validated once, whole (no chunks: Spark bounds the memory), on only the
    columns its suite reads, cached for the suite's many metrics and released after."""
    from pyspark.sql import functions as F

    batch_def = gx_spark_batch_definition()
    report = GateReport()
    for suite_name in mart_suites():
        doc = suite_doc(suite_name)
        table = doc["meta"]["table"]
        frame = tables[table] if tables is not None else spark.table(table)
        columns = referenced_columns(doc, frame.columns)
        frame = (frame.select(*columns) if columns else frame.select(F.lit(1).alias("_row"))).cache()
        try:
            report.tables[table] = frame.count()
            report.failures.extend(_validate_frame(batch_def, suite_name, frame))
        finally:
            frame.unpersist()
    return report


def gate_marts(warehouse: Path, incremental: bool = True) -> GateReport:
    """Raises GateFailed unless every suite holds on the warehouse's marts; after a pass, records it so that the
    next gate can validate only what changed (`incremental=False` validates everything and still records)."""
    fingerprint = gate_fingerprint()
    report = _passed_or_raise(validate_marts(warehouse, fingerprint=fingerprint if incremental else None),
                              str(warehouse))
    record_pass(warehouse, fingerprint)
    return report


def gate_marts_spark(spark: SparkSession, tables: dict[str, SparkFrame] | None = None) -> GateReport:
    """`gate_marts` for the Spark target: raises GateFailed unless every suite holds on the Spark marts."""
    return _passed_or_raise(validate_marts_spark(spark, tables), "the Spark catalog")


def gate_spark_warehouse(spark: SparkSession, warehouse: Path) -> GateReport:
    """The journeys DAG's gate on the Spark engine: `gate_marts_spark` on the marts' Parquet folders in the Spark
    warehouse (joinedup.engine.spark.warehouse_marts), the very files publish then copies. A mart a suite names
    but the build did not leave fails the gate by name."""
    from joinedup.engine.spark import warehouse_marts

    tables = warehouse_marts(spark, warehouse)
    missing = sorted({suite_doc(s)["meta"]["table"] for s in mart_suites()} - set(tables))
    if missing:
        raise GateFailed(f"no Parquet for {', '.join(missing)} in the Spark warehouse {warehouse}; nothing was "
                         "published")
    return gate_marts_spark(spark, tables)


def _passed_or_raise(report: GateReport, where: str) -> GateReport:
    if not report.passed:
        raise GateFailed(
            f"{len(report.failures)} expectation(s) failed on the marts in {where}; nothing was published:\n- "
            + "\n- ".join(report.failures)
        )
    return report
