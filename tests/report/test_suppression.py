"""Small-cell suppression in the report: a filtered report of the test pipeline's data has cells below k, and
none of those exact counts reaches the page's data (the plotly JSON, the headline), nor any rate computed from
them; with k = 1 the same figures appear exactly."""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from joinedup.report import queries
from joinedup.report.build import build_report
from joinedup.report.disclosure import SECONDARY, Suppression
from joinedup.report.scope import Scope, restrict

pytestmark = pytest.mark.slow

K = 5
NEW_PLOT = re.compile(r'Plotly\.newPlot\(\s*"(?P<id>[\w-]+)",\s*')
LABEL = re.compile(r"<\d+|\d{1,3}(?:,\d{3})*")  # how a count is written in hover text: "<5" or "1,234"
COUNTED = re.compile(r"(<\d+|\d{1,3}(?:,\d{3})*) (?:transitions|switches|journeys|contacts|posts|repeats)\b")


def figures(html: str) -> dict[str, list[dict]]:
    """chart id -> its plotly traces, as the page's JavaScript receives them."""
    decoder = json.JSONDecoder()
    return {m["id"]: decoder.raw_decode(html, m.end())[0] for m in NEW_PLOT.finditer(html)}


def _flat(values: object) -> list:
    """A trace's array as a flat list, NaN as None; plotly writes numeric arrays as base64 typed arrays."""
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        return [None if isinstance(v, float) and math.isnan(v) else v for v in array.tolist()]
    if isinstance(values, list):
        return [v for x in values for v in _flat(x)]
    return [values]


def shown_counts(html: str) -> list[tuple[str, int | str]]:
    """Every count the page carries, as (where, value): numbers drawn as counts (Sankey bands, switch bars,
    repeat bars, out-of-hours cells), count labels in hover data, and the headline's totals. A suppressed count
    appears as its label "<5"."""
    out: list[tuple[str, int | str]] = []
    for chart, traces in figures(html).items():
        for t in traces:
            numbers = {"sankey": (t.get("link") or {}).get("value"), "switch-pairs": t.get("x"),
                       "repeat": t.get("y") if t.get("type") == "bar" else None,
                       "out-of-hours": t.get("z")}.get(chart)
            out += [(chart, int(v)) for v in _flat(numbers) if v is not None] if numbers is not None else []
            custom = (t.get("link") or {}).get("customdata") if chart == "sankey" else t.get("customdata")
            for v in _flat(custom or []):
                if isinstance(v, str) and LABEL.fullmatch(v):
                    out.append((chart, v))
                elif isinstance(v, str):
                    out += [(chart, n) for n in COUNTED.findall(v)]
    for note in re.findall(r"<small>(.*?)</small>", html):
        out += [("headline", n) for n in COUNTED.findall(note.replace("&lt;", "<"))]
    return [(w, v if isinstance(v, int) or v.startswith("<") else int(v.replace(",", ""))) for w, v in out]


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
    exact = shown_counts(pages[1])
    small = [(w, v) for w, v in exact if isinstance(v, int) and 0 < v < K]
    assert len(small) >= 10, "the filtered report should have small cells to suppress"
    assert {w for w, _ in small} >= {"sankey", "out-of-hours", "sla-hour"}

    suppressed = shown_counts(pages[K])
    assert [(w, v) for w, v in suppressed if isinstance(v, int) and 0 < v < K] == []
    assert sum(1 for _, v in suppressed if v == f"<{K}") >= 10
    assert f"counts under {K} shown as &lt;{K}" in pages[K] and "every count shown exactly" in pages[1]


def test_rates_from_suppressed_counts_are_withheld(pages: dict[int, str]) -> None:
    figs = figures(pages[K])
    withheld = 0
    for t in figs["sla-hour"]:  # attainment over fewer than k contacts is not drawn
        for y, label in zip(_flat(t["y"]), _flat(t["customdata"]), strict=True):
            assert (y is None) == (label == f"<{K}"), (y, label)
            withheld += y is None
    for chart in ("social-sla", "transitions"):  # heatmap shares: blank where the count is suppressed
        for t in figs[chart]:
            for z, text in zip(_flat(t["z"]), _flat(t["customdata"]), strict=True):
                if text.startswith((f"<{K} ", f"{SECONDARY} ")):
                    assert z is None and "withheld" in text, (chart, z, text)
                    withheld += 1
    for t in figs["switch-times"]:  # shares of a trigger's total: a lone small band takes its neighbour along
        for y, label in zip(_flat(t["y"]), _flat(t["customdata"]), strict=True):
            assert (y is None) == (label in (f"<{K}", SECONDARY)), (y, label)
    assert withheld > 0


def test_with_k_of_one_the_figures_are_the_exact_counts(pipeline, pages: dict[int, str]) -> None:
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        restrict(con, _scope(paths))
        links = [queries.sankey_links(con, collapsed=c)["journeys"].tolist() for c in (True, False)]
        hours = queries.out_of_hours(con)
    assert all(links), "both Sankey views have bands"
    figs = figures(pages[1])
    assert [_flat(t["link"]["value"]) for t in figs["sankey"]] == links
    grid = figs["out-of-hours"][0]["z"]
    assert sorted(v for v in _flat(grid) if v is not None) == sorted(hours["contacts"].tolist())
    # and at k = 5 the same bands are there except the small ones
    kept = [_flat(t["link"]["value"]) for t in figures(pages[K])["sankey"]]
    assert kept == [big for view in links if (big := [v for v in view if v >= K])]  # an emptied view goes
    assert sum(map(len, kept)) < sum(map(len, links))


def test_the_footer_says_what_the_page_is_and_is_not(pages: dict[int, str]) -> None:
    footer = re.search(r"<footer>(.*?)</footer>", pages[K], re.S).group(1)
    assert "pseudonymous personal data" in footer and "export-aggregates" in footer
    assert f"counts under {K}" in footer


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
    assert [v for _, v in counts if isinstance(v, int) and 0 < v < 10] == [] and ("out-of-hours", "<10") in counts
