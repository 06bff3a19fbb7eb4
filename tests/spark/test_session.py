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
