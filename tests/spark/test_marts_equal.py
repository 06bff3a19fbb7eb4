"""One dbt project, two engines (issue 20): the whole project built on DuckDB (target `local`) and on Spark (target
`spark_ci`, in this process, on the lane's shared session) from the same lake gives the same marts.

The Spark build is a `dbt build`: seeds, models, the unit tests and every data test run on Spark too, so a
dialect macro that breaks a test's SQL on Spark fails here, not in production.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from joinedup import paths
from joinedup.dbt_cli import run_dbt
from joinedup.inprocess import release_dbt_connection
from tests.spark.conftest import BuiltMarts

# Doubles are summed in a different order by each engine (and by DuckDB's threads from one run to the next):
# equal to 1e-9 relative is equal.
RTOL = 1e-9


def normalised(table: pa.Table) -> pd.DataFrame:
    """A mart as the engines can agree on it: timestamps as UTC wall-clock strings (DuckDB's TIMESTAMPTZ and
    Spark's TIMESTAMP are the same instants; TIMESTAMP and TIMESTAMP_NTZ the same wall clock), dates as ISO
    strings, every number as a float64 (BIGINT on one engine is INT on the other), columns by name, rows sorted
    by every column (exact ones first, so a last-bit difference in a double cannot reorder the rows)."""
    columns: dict[str, Any] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        kind = col.type
        if pa.types.is_timestamp(kind):
            if kind.tz is not None:
                col = col.cast(pa.timestamp("us", tz="UTC"))
            columns[name] = pc.strftime(col, format="%Y-%m-%d %H:%M:%S").to_pandas()
        elif pa.types.is_date(kind):
            columns[name] = pc.strftime(col, format="%Y-%m-%d").to_pandas()
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            columns[name] = col.cast(pa.float64()).to_pandas()
        else:
            columns[name] = col.to_pandas()
    frame = pd.DataFrame(columns)[sorted(columns)]
    exact = [c for c in frame.columns if frame[c].dtype != "float64"]
    floats = [c for c in frame.columns if frame[c].dtype == "float64"]
    return frame.sort_values(exact + floats, na_position="last", kind="mergesort").reset_index(drop=True)


def assert_marts_equal(duck: dict[str, pd.DataFrame], spark: dict[str, pd.DataFrame]) -> None:
    """Every mart on both engines, with the same columns and rows."""
    assert sorted(spark) == sorted(duck), "the engines built different marts"
    for name in sorted(duck):
        d, s = duck[name], spark[name]
        assert list(s.columns) == list(d.columns), f"{name}: columns differ"
        assert len(s) == len(d), f"{name}: {len(d)} rows on DuckDB, {len(s)} on Spark"
        pd.testing.assert_frame_equal(s, d, check_dtype=False, check_exact=False, rtol=RTOL, obj=name)


@pytest.fixture(scope="module")
def marts(spark: Any, built_marts: BuiltMarts) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """(DuckDB marts, Spark marts), normalised, each engine having built the whole project from `linked_lake`."""
    with duckdb.connect(str(built_marts.warehouse), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()]
        duck = {n: normalised(con.execute(f"select * from marts.{n}").to_arrow_table()) for n in names}
    spark_marts = {r.tableName: normalised(spark.table(f"marts.{r.tableName}").toArrow())
                   for r in spark.sql("show tables in marts").collect() if not r.isTemporary}
    return duck, spark_marts


def test_every_mart_is_the_same_on_duckdb_and_spark(marts: tuple[dict[str, pd.DataFrame], ...]) -> None:
    duck, spark_marts = marts
    # the simulation reaches every mart, with contacts on both sides of the clock change (local = UTC before
    # 30 March 2025 01:00 UTC, an hour ahead after)
    assert {n for n, f in duck.items() if len(f) == 0} == set()
    contacts = duck["fct_contacts"]
    offsets = pd.to_datetime(contacts["occurred_at_local"]) - pd.to_datetime(contacts["occurred_at_utc"])
    assert set(offsets.dt.total_seconds()) == {0.0, 3600.0}
    assert_marts_equal(duck, spark_marts)


def test_the_comparison_sees_one_changed_value(marts: tuple[dict[str, pd.DataFrame], ...]) -> None:
    """The equality above can fail: one local time an hour out (a wrong time-zone rule) is caught."""
    duck, spark_marts = marts
    broken = dict(spark_marts)
    contacts = broken["fct_contacts"].copy()
    contacts.loc[0, "occurred_at_local"] = "2025-03-30 02:30:00.000000"
    broken["fct_contacts"] = contacts
    with pytest.raises(AssertionError, match="fct_contacts"):
        assert_marts_equal(duck, broken)


def test_mart_definitions_hold_duckdb_sql_on_both_targets(marts: tuple[dict[str, pd.DataFrame], ...]) -> None:
    """The report runs the stored definitions on DuckDB over the published file, whichever engine built it, so
    the Spark build stores DuckDB SQL (equal text is asserted with the marts): DuckDB parses every one."""
    _, spark_marts = marts
    stored = spark_marts["mart_definitions"].set_index("mart_name")["definition_sql"]
    assert "epoch(" in stored["mart_channel_transitions"]  # DuckDB's spelling, not Spark's unix_micros
    assert "unix_micros" not in "".join(stored)
    for name, sql in stored.items():
        parsed = json.loads(duckdb.execute("select json_serialize_sql(?::varchar)", [sql]).fetchone()[0])
        assert not parsed["error"], f"{name}: DuckDB cannot parse the stored definition: {parsed}"


def test_source_freshness_reads_the_lake_on_both_engines(spark: Any, linked_lake: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`dbt source freshness` (the contacts source's loaded_at_query) finds the same latest contact of the stalest
    channel on both targets. The simulation is from 2025, so both call it stale: the time is what is compared."""
    monkeypatch.setenv("JOINEDUP_LAKE", str(linked_lake))
    monkeypatch.setenv("JOINEDUP_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    latest = {}
    for target in ("local", "spark_ci"):
        try:
            res = run_dbt(["source", "freshness", "--target", target, "--target-path", str(tmp_path / target)],
                          paths.dbt_project_dir())
        finally:
            release_dbt_connection()
        (checked,) = [r for r in res.result.results if r.node.resource_type == "source"]
        assert checked.status == "error", checked  # stale, not failed to run
        latest[target] = checked.max_loaded_at
    expected = duckdb.execute(f"""select min(latest) from (select channel, max(occurred_at) as latest
        from read_parquet('{linked_lake}/linked/contacts.parquet') group by channel)""").fetchone()[0]
    assert latest["local"] == latest["spark_ci"]
    assert latest["local"].replace(tzinfo=None) == expected


def test_the_quality_gate_runs_its_suites_on_the_spark_marts(spark: Any, marts: tuple[dict[str, pd.DataFrame], ...]
                                                             ) -> None:
    """The gate on the Spark target: the same suites on the marts the `spark_ci` build left in the catalog, and a
    bad value in one of them (a row-conditioned expectation, and a value set) stops publication."""
    from pyspark.sql import functions as F

    from joinedup.quality.gate import GateFailed, gate_marts_spark, mart_suites

    report = gate_marts_spark(spark)
    assert len(report.tables) == len(mart_suites()) and report.tables["marts.fct_contacts"] > 0
    tables = {t: spark.table(t) for t in report.tables}
    tables["marts.fct_contacts"] = tables["marts.fct_contacts"].withColumn(
        "channel", F.when(F.col("contact_key") == F.lit(marts[0]["fct_contacts"]["contact_key"].min()),
                          F.lit("pigeon")).otherwise(F.col("channel")))
    tables["marts.dim_date"] = tables["marts.dim_date"].withColumn(
        "bank_holiday_name", F.when(F.col("is_bank_holiday"), F.lit(None)).otherwise(F.col("bank_holiday_name")))
    with pytest.raises(GateFailed) as err:
        gate_marts_spark(spark, tables)
    message = str(err.value)
    assert "marts/fct_contacts: expect_column_values_to_be_in_set(column='channel'" in message and "'pigeon'" in message
    assert "marts/dim_date: expect_column_values_to_not_be_null(column='bank_holiday_name'" in message
