"""The ready-made BI queries in the README run against the published analytics file, read-only; and what BI
tools see is typed for them: times as UTC instants with their local wall clock beside them, counts and sums
as BIGINT (never DuckDB's HUGEINT, which drivers mishandle), out of hours as a dimension rather than a flag."""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def readme_queries() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## BI access", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sql", 1)[1].split("```", 1)[0]
    return [q.strip() for q in block.split(";") if q.strip()]


def test_readme_queries_run_on_the_analytics_file(pipeline) -> None:
    paths, _, _ = pipeline
    queries = readme_queries()
    assert 5 <= len(queries) <= 10
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        results = [con.execute(q).fetchall() for q in queries]
        types = {q.splitlines()[0]: [r[1] for r in con.execute(f"describe {q}").fetchall()] for q in queries}
    assert sum(1 for r in results if r) >= len(queries) - 1  # every query but "last month" finds rows
    huge = {q: t for q, t in types.items() if "HUGEINT" in t}
    assert not huge, f"README queries returning HUGEINT (cast sums to bigint): {huge}"


def test_no_published_column_is_hugeint_and_every_time_is_a_utc_and_local_pair(pipeline) -> None:
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        columns = con.execute("select table_name, column_name, data_type from duckdb_columns() "
                              "where schema_name = 'main' and not internal").fetchall()
    assert not [c for c in columns if c[2] == "HUGEINT"]
    names = {(t, c): ty for t, c, ty in columns}
    times = [(t, c) for t, c, ty in columns if ty.startswith("TIMESTAMP")]
    assert times
    for table, column in times:
        assert column.endswith(("_at_utc", "_at_local")), f"{table}.{column}: a time without _utc/_local"
        event = column.rsplit("_", 1)[0]
        assert names.get((table, f"{event}_utc")) == "TIMESTAMP WITH TIME ZONE", f"{table}.{event}_utc"
        assert names.get((table, f"{event}_local")) == "TIMESTAMP", f"{table}.{event}_local"


def test_local_times_dates_and_weeks_agree_with_the_utc_instants(pipeline) -> None:
    """Whatever the session's TimeZone, each _at_local is the Europe/London wall clock of its _at_utc (the old
    naive UTC columns moved the wrong way under timezone('Europe/London', ...)), and the local date and ISO
    week follow the local time."""
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        for zone in ("UTC", "America/New_York"):
            con.execute(f"set TimeZone = '{zone}'")
            wrong = con.execute("""
                select count(*) from fct_contacts
                where occurred_at_local <> timezone('Europe/London', occurred_at_utc)
                   or occurred_local_date <> cast(occurred_at_local as date)
                   or occurred_iso_week <> strftime(occurred_local_date, '%G-W%V')
                   or occurred_local_hour <> hour(occurred_at_local)""").fetchone()[0]
            assert wrong == 0, zone
        # Europe/London is UTC + 0 until 01:00 UTC on 30 March 2025 and UTC + 1 (BST) from then: the test data
        # spans the change
        offsets = con.execute("""
            select occurred_at_utc >= timestamptz '2025-03-30 01:00:00+00' and occurred_at_utc <
                       timestamptz '2025-10-26 01:00:00+00' as is_bst,
                   epoch(occurred_at_local - cast(timezone('UTC', occurred_at_utc) as timestamp)) / 3600 as hours,
                   count(*)
            from fct_contacts group by all order by all""").fetchall()
        assert [(bst, hours) for bst, hours, _ in offsets] == [(False, 0), (True, 1)], offsets


def test_out_of_hours_is_a_dimension_of_the_response_sla_cells(pipeline) -> None:
    """README query 3: summing by is_out_of_hours counts each judged social post once, on its own side, and
    agrees with fct_contacts (a bool_or per cell counted in-hours posts as out of hours)."""
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        mart = dict(con.execute("""select is_out_of_hours, sum(contacts)::bigint from mart_response_sla
                                   where channel = 'social' and sla_name = 'reply_15m' group by 1""").fetchall())
        facts = dict(con.execute("""select is_out_of_hours, count(*) from fct_contacts
                                    where channel = 'social' and platform in ('x', 'facebook') group by 1""").fetchall())
        cells = con.execute("""select count(*) from (select channel, platform, sla_name, occurred_local_weekday,
                               occurred_local_hour from mart_response_sla group by all
                               having count(distinct is_out_of_hours) = 2)""").fetchone()[0]
    assert mart == facts and set(mart) == {True, False}
    assert cells > 0  # hours holding both (e.g. 08:00-08:59 on a channel opening at 08:30) are split
