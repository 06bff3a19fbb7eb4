"""The ready-made BI queries in the README run against the published analytics file, read-only."""

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
    assert 5 <= len(queries) <= 8
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        results = [con.execute(q).fetchall() for q in queries]
    assert sum(1 for r in results if r) >= len(queries) - 1  # every query but "last month" finds rows
