"""The shared session is configured as joinedup needs it: UTC, and workers that run this interpreter (pyarrow and
our own modules importable in a mapInPandas task)."""

from __future__ import annotations


def test_session_is_utc_and_workers_import_our_code(spark):
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    got = spark.sql("select timestamp'2025-03-30 01:30:00' as at").collect()[0]["at"]
    assert got.isoformat() == "2025-03-30T01:30:00"

    def where_am_i(batches):
        import pandas as pd

        import joinedup  # noqa: F401  (our package, on the worker)

        for b in batches:
            yield pd.DataFrame({"n": [len(b)]})

    out = spark.range(1000).repartition(2).mapInPandas(where_am_i, "n long").toPandas()
    assert int(out["n"].sum()) == 1000


def test_what_spark_writes_stays_owner_only(spark):
    """Shuffle, spill and table files land under the session's own folder, which is a restricted zone: the linker
    shuffles PII. The JVM started under umask 077, whatever the umask of the process that started it."""
    from pathlib import Path

    from joinedup.zones import check_restricted

    # (not spark.conf.get("spark.local.dir"): a dbt run in session mode records its profile's value there, which
    # changes nothing once the JVM runs; the files below are the evidence)
    work = Path(spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")).parent
    rows = spark.range(20000).selectExpr("id % 97 as k", "id").groupBy("k").count()  # a shuffle
    rows.write.mode("overwrite").parquet(str(work / "warehouse" / "owner_only_check"))
    assert any((work / "local").iterdir()), "no shuffle files under spark.local.dir"
    assert list((work / "warehouse" / "owner_only_check").glob("*.parquet"))
    check_restricted(work)
