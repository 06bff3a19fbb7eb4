"""The quality gate on the marts: great-expectations suites in expectations/marts/, one per published table.

On DuckDB, GX runs on DataFrames pulled from the warehouse (its DuckDB SQL datasource is broken in GX 1.24), in
bounded chunks so a council year's fct_contacts never has to fit in pandas at once. On Spark, the same suites run
on the Spark DataFrames themselves (`validate_marts_spark`): the data stays on the cluster. Nothing is published
unless every expectation holds on every chunk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from joinedup.publish.warehouse import connect_readonly
from joinedup.quality.suites import (
    expectation_suite,
    gx_context,
    gx_spark_batch_definition,
    suite_doc,
    suites_dir,
)

if TYPE_CHECKING:  # pyspark is the optional `spark` group
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession

CHUNK_ROWS = 500_000


class GateFailed(RuntimeError):
    """The marts did not pass; the message lists every failed expectation."""


@dataclass
class GateReport:
    tables: dict[str, int] = field(default_factory=dict)  # rows validated per table
    failures: list[str] = field(default_factory=list)

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
            chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Bounded chunks, streamed on a cursor of its own (a council year's fct_contacts is millions of rows). An
    empty mart still yields one empty frame, so row-count expectations can fail it."""
    select = ", ".join(f'"{c}"' for c in columns) or "1 as _row"
    with con.cursor() as cur:
        reader = cur.sql(f"select {select} from {table}").to_arrow_reader(chunk_rows)
        seen = False
        for batch in reader:
            if batch.num_rows:
                seen = True
                yield batch.to_pandas(strings_to_categorical=True)  # GX hashes each frame: far cheaper
        if not seen:
            yield reader.schema.empty_table().to_pandas()


def validate_marts(warehouse: Path, chunk_rows: int = CHUNK_ROWS) -> GateReport:
    """Run every mart suite against the warehouse; never raises for data, only reports."""
    _, batch_def = gx_context()
    report = GateReport()
    with connect_readonly(warehouse) as con:
        for suite_name in mart_suites():
            doc = suite_doc(suite_name)
            table = doc["meta"]["table"]
            report.tables[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
            schema, name = table.split(".")
            columns = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
                "order by column_index", [schema, name]).fetchall()]
            for df in _chunks(con, table, referenced_columns(doc, columns), chunk_rows):
                report.failures.extend(_validate_frame(batch_def, suite_name, df))
    return report


def _validate_frame(batch_def: Any, suite_name: str, frame: Any) -> list[str]:
    """One suite on one frame (pandas or Spark): the cheap verdict first, the details (unexpected samples) only
    for a frame that failed."""
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    suite = expectation_suite(suite_name)
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


def gate_marts(warehouse: Path) -> GateReport:
    return _passed_or_raise(validate_marts(warehouse), str(warehouse))


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
