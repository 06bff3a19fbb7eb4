"""Small-cell suppression in the report: a filtered report of the test pipeline's data has cells below k, and
none of those exact counts reaches the page's data (any view's JSON: chart data, captions, the headline), nor any
rate computed from them; with k = 1 the same figures appear exactly."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from joinedup.report.build import build_report
from joinedup.report.disclosure import SECONDARY, Suppression
from joinedup.report.scope import Scope, restrict
from tests.report import page_data

pytestmark = pytest.mark.slow

K = 5
COUNTED = re.compile(r"(<\d+|\d{1,3}(?:,\d{3})*) (?:consecutive contacts|transitions|switches|journeys|contacts|posts|"
                     r"repeat contacts|persons)\b")
NUMBER_OF = re.compile(r"(?:n = |n=|of its |of )(<\d+|\d{1,3}(?:,\d{3})*)\b")


def shown_counts(html: str) -> list[tuple[str, int | str]]:
    """Every count the page carries, as (where, value). By the views' convention (joinedup.report.views) every
    integer in a view's data is a count and a suppressed one is its label ("<5"); the captions and the headline's
    lines name counts in words ("1,234 journeys", "n = 56")."""
    out: list[tuple[str, int | str]] = []
    for key, view in page_data.views(html).items():
        for path, value in page_data.walk(view):
            where = f"{key}:{path}"
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                out.append((where, value))
            elif isinstance(value, str) and (path.startswith(("captions", "head")) or value.startswith("<")):
                found = COUNTED.findall(value) + NUMBER_OF.findall(value) if path.startswith(("captions", "head")) \
                    else [value]
                out += [(where, v if v.startswith("<") else int(v.replace(",", ""))) for v in found
                        if v.startswith("<") or v[0].isdigit()]
    return out


def _small(counts: list[tuple[str, int | str]], k: int) -> list[tuple[str, int | str]]:
    return [(w, v) for w, v in counts if isinstance(v, int) and 0 < v < k]


def _scope(paths) -> Scope:
    """The third-largest service from its second week on: big enough for every chart to have something to draw,
    small enough that many of its cells are under k."""
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        service, first, last = con.execute("""
            select service, min(occurred_local_date), max(occurred_local_date) from fct_contacts
            group by 1 order by count(*) desc, 1 limit 1 offset 2""").fetchone()
    return Scope(service, first + timedelta(days=7), last)


@pytest.fixture(scope="module")
def pages(pipeline, tmp_path_factory) -> dict[int, str]:
    paths, _, _ = pipeline
    out = {}
    for k in (K, 1):
        report = build_report(paths.analytics, tmp_path_factory.mktemp(f"k{k}"), scope=_scope(paths),
                              suppression=Suppression(k))
        out[k] = report.read_text(encoding="utf-8")
    return out


def test_no_count_below_k_reaches_the_filtered_page(pages: dict[int, str]) -> None:
    exact = _small(shown_counts(pages[1]), K)
    assert len(exact) >= 10, "the filtered report should have small cells to suppress"
    charts = {w.split(":")[1].split(".")[0] for w, _ in exact}
    assert charts >= {"sankey", "out_of_hours", "sla", "transitions", "captions"}, charts

    suppressed = shown_counts(pages[K])
    assert _small(suppressed, K) == []
    assert sum(1 for _, v in suppressed if v == f"<{K}") >= 10
    assert f"counts under {K} shown as &lt;{K}" in pages[K] and "every count shown exactly" in pages[1]


def test_no_view_of_the_dags_report_carries_a_count_below_k(pipeline) -> None:
    """The whole-file report the DAG wrote (k = 5 by default): every view, every service and period, on its own."""
    paths, _, _ = pipeline
    html = (paths.reports / "index.html").read_text(encoding="utf-8")
    views = page_data.views(html)
    assert len(views) == (1 + len(page_data.meta(html)["services"])) * len(page_data.meta(html)["periods"])
    counts = shown_counts(html)
    assert len(counts) > 10_000 and _small(counts, K) == []


def test_rates_from_suppressed_counts_are_withheld(pages: dict[int, str]) -> None:
    withheld = 0
    for view in page_data.views(pages[K]).values():
        pairs = [(view["sla"]["n"], view["sla"]["met"]), (view["social"]["n"], view["social"]["met"]),
                 (view["transitions"]["n"], view["transitions"]["share"]),
                 (view["switch_times"]["bands"], view["switch_times"]["share"])]
        for counts, rates in pairs:
            for row_n, row_rate in zip(counts, rates, strict=True):
                for n, r in zip(row_n, row_rate, strict=True):
                    if n in (f"<{K}", SECONDARY):
                        assert r is None, (n, r)
                        withheld += 1
        o = view["out_of_hours"]
        for n, ooh, share in zip(o["n"], o["ooh"], o["share"], strict=True):
            if isinstance(n, str) or isinstance(ooh, str):
                assert share is None
    assert withheld > 100


def _sankey_links(con: duckdb.DuckDBPyConnection, column: str) -> list[list]:
    return [list(r) for r in con.execute(f"""
        with paths as (select string_split({column}, '>')[1:4] as path from fct_journeys)
        select i || ':' || path[i], (i + 1) || ':' || path[i + 1], count(*)::int
        from paths, range(1, 4) as r(i) where len(path) > i group by all order by all""").fetchall()]


def test_with_k_of_one_the_figures_are_the_exact_counts(pipeline, pages: dict[int, str]) -> None:
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        restrict(con, _scope(paths))
        links = {kind: _sankey_links(con, column) for kind, column in
                 (("collapsed", "channel_path_collapsed"), ("every", "channel_path"))}
        hours = sorted(r[0] for r in con.execute("""select sum(contacts)::int from mart_out_of_hours
                                                    group by occurred_local_weekday, occurred_local_hour""").fetchall())
    exact = page_data.views(pages[1])["*|all"]
    assert all(links.values()), "both Sankey views have bands"
    for kind in links:
        assert sorted(exact["sankey"][kind]["links"]) == links[kind]
    grid = [v for row in exact["out_of_hours"]["grid"] for v in row if v]
    assert sorted(grid) == hours
    # and at k = 5 the same bands are there except the small ones and those hidden beside them
    kept = page_data.views(pages[K])["*|all"]["sankey"]
    for kind in links:
        big = [link for link in links[kind] if link[2] >= K]
        assert set(map(tuple, kept[kind]["links"])) <= set(map(tuple, big))
        assert len(kept[kind]["links"]) < len(links[kind]) and int(kept[kind]["hidden"]) > 0
    assert any(kept[kind]["links"] for kind in links)


def test_the_footer_says_what_the_page_is_and_is_not(pages: dict[int, str]) -> None:
    footer = re.search(r"<footer>(.*?)</footer>", pages[K], re.S).group(1)
    assert "pseudonymous personal data" in footer and "export-aggregates" in footer
    assert f"counts under {K}" in footer and "overlap" in footer


def test_the_report_cli_takes_min_cell(pipeline, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from joinedup.cli import app

    paths, _, _ = pipeline
    scope = _scope(paths)
    args = ["report", "--analytics", str(paths.analytics), "--out", str(tmp_path), "--service", scope.service,
            "--from", scope.start.isoformat(), "--to", scope.end.isoformat()]
    assert CliRunner().invoke(app, [*args, "--min-cell", "0"]).exit_code == 2
    result = CliRunner().invoke(app, [*args, "--min-cell", "10"])
    assert result.exit_code == 0, result.output
    counts = shown_counts((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert _small(counts, 10) == [] and any(v == "<10" for _, v in counts)
