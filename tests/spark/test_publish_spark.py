"""Publish on the Spark engine (issue 20): the marts' Parquet the `spark_ci` build left in the Spark warehouse,
read by DuckDB into the BI analytics file, give the file publishing the DuckDB build's marts gives: the same
tables, columns, types, descriptions and rows. And the write-audit-publish order holds: a gate failure on the
Spark marts, or a publish that fails midway, leaves the published file as it was."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from joinedup.publish.publish import publish_analytics, publish_spark_marts
from joinedup.quality.gate import GateFailed, gate_spark_warehouse
from tests.spark.conftest import BuiltMarts
from tests.spark.test_marts_equal import assert_marts_equal, normalised


def _layout(path: Path) -> tuple[dict[str, list[tuple[str, str]]], dict[str, Any]]:
    """(table -> [(column, type)] in order, every table and column comment) of an analytics file."""
    with duckdb.connect(str(path), read_only=True) as con:
        columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in con.execute(
                "select table_name, column_name, data_type from duckdb_columns() where schema_name = 'main' "
                "order by table_name, column_index").fetchall():
            columns.setdefault(table, []).append((column, kind))
        comments = {t: c for t, c in con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'main'").fetchall()}
        comments |= {f"{t}.{c}": m for t, c, m in con.execute(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'main'").fetchall()}
    return columns, comments


def _contents(path: Path) -> dict[str, Any]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()]
        return {n: normalised(con.sql(f"select * from main.{n}").to_arrow_table()) for n in names}


@pytest.fixture(scope="module")
def published(built_marts: BuiltMarts, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """(publish from the DuckDB warehouse, publish from the Spark warehouse), each a PublishResult."""
    work = tmp_path_factory.mktemp("publish")
    duck = publish_analytics(built_marts.warehouse, work / "duckdb" / "joinedup_analytics.duckdb")
    spark = publish_spark_marts(built_marts.spark_warehouse, work / "spark" / "joinedup_analytics.duckdb",
                                built_marts.spark_target / "manifest.json")
    return duck, spark


def test_publish_from_spark_gives_the_analytics_file_publish_from_duckdb_gives(published) -> None:
    duck, spark = published
    assert spark.tables == duck.tables and min(duck.tables.values()) > 0  # every mart, the same row counts
    duck_columns, duck_comments = _layout(duck.path)
    spark_columns, spark_comments = _layout(spark.path)
    # the same columns with the same types (a Spark TIMESTAMP published as TIMESTAMPTZ, as DuckDB has it), in the
    # same order but for Spark's partition column, which its table (and the file) has last
    for name, columns in duck_columns.items():
        assert sorted(spark_columns[name]) == sorted(columns), name
        assert [c for c in spark_columns[name] if not c[0].endswith("_month")] == \
            [c for c in columns if not c[0].endswith("_month")], name
    assert spark_comments == duck_comments and duck_comments["fct_contacts"]  # dbt's descriptions, both
    assert_marts_equal(_contents(duck.path), _contents(spark.path))


def test_a_gate_failure_on_the_spark_marts_leaves_the_published_file_untouched(
        spark: Any, built_marts: BuiltMarts, published, tmp_path: Path) -> None:
    """The DAG's order on Spark: the gate on the warehouse's Parquet, then publish. One bad value in one mart's
    Parquet stops the gate, and the file published before stays as it was."""
    from pyspark.sql import functions as F

    analytics = published[1].path
    before, mtime = analytics.read_bytes(), analytics.stat().st_mtime_ns
    bad = tmp_path / "warehouse"
    shutil.copytree(built_marts.spark_warehouse / "marts.db", bad / "marts.db")
    contacts = spark.read.parquet(str(built_marts.spark_warehouse / "marts.db" / "fct_contacts"))
    first = contacts.agg(F.min("contact_key")).first()[0]
    (contacts.withColumn("channel", F.when(F.col("contact_key") == first, F.lit("pigeon"))
                         .otherwise(F.col("channel")))
     .write.mode("overwrite").partitionBy("occurred_month").parquet(str(bad / "marts.db" / "fct_contacts")))

    def gate_then_publish(warehouse: Path) -> None:
        gate_spark_warehouse(spark, warehouse)
        publish_spark_marts(warehouse, analytics)

    with pytest.raises(GateFailed, match=r"marts/fct_contacts: expect_column_values_to_be_in_set\(column='channel'"):
        gate_then_publish(bad)
    # (the gate passing the unbroken marts is test_marts_equal's; a second whole gate here would cost ~20 s)
    assert analytics.read_bytes() == before and analytics.stat().st_mtime_ns == mtime


def test_a_publish_failing_midway_leaves_the_published_file_untouched(
        built_marts: BuiltMarts, published, tmp_path: Path) -> None:
    """A mart's Parquet that cannot be read (truncated) fails the publish after other marts were copied into the
    new file: the old file stays, and the half-written one is removed."""
    analytics = published[1].path
    before = analytics.read_bytes()
    broken = tmp_path / "warehouse"
    shutil.copytree(built_marts.spark_warehouse / "marts.db", broken / "marts.db")
    part = next((broken / "marts.db" / "mart_response_sla").rglob("*.parquet"))
    part.write_bytes(part.read_bytes()[:100])
    with pytest.raises(duckdb.Error):
        publish_spark_marts(broken, analytics)
    assert analytics.read_bytes() == before
    assert not list(analytics.parent.glob(".*.tmp*"))
