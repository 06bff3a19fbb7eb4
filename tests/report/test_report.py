"""The report the journeys DAG wrote after publishing: it renders in headless Chromium with no console errors,
every chart has data, its headline figures match the marts, and it is self-contained."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.report import figures
from joinedup.report.build import build_report
from joinedup.report.disclosure import Suppression
from joinedup.report.scope import Scope
from joinedup.report.chromium import open_page

pytestmark = pytest.mark.slow

CHART_IDS = ["sankey", "transitions", "switch-times", "switch-pairs", "sla-hour", "social-sla", "repeat", "shift",
             "out-of-hours"]
CHARTS_JS = """Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => ({
    id: d.id,
    svg: d.querySelectorAll('svg.main-svg').length,
    points: (d._fullData || []).filter(t => t.visible !== false).reduce((n, t) =>
        n + ((t.type === 'sankey' ? t.link.value : (t.type === 'heatmap' ? t.z.flatMap(r => Array.from(r)) : t.y)) || [])
             .filter(v => v !== null && v !== undefined && !Number.isNaN(v)).length, 0),
    marks: d.querySelectorAll('.sankey-link, .bars path, .heatmaplayer image, .scatterlayer path').length,
    note: ((d.layout || {}).annotations || []).map(a => a.text).join(' '),
}))"""
# The test pipeline has about 60 social posts over 168 weekday × hour cells: at k = 5 every cell of that heatmap
# is suppressed, and the chart says so instead of drawing (test_every_chart_draws_its_data_when_nothing_is_suppressed
# draws it).
FULLY_SUPPRESSED_AT_K5 = {"social-sla"}


@pytest.fixture(scope="module")
def report(pipeline) -> Path:
    paths, _, run = pipeline
    assert run.results["journeys"] == "success"
    return paths.reports / "index.html"


def _draw(report: Path, chromium: str) -> tuple[list[dict], list[str]]:
    with open_page(report.as_uri(), chromium) as page:
        page.pump(1.5)
        return page.evaluate(CHARTS_JS), list(page.errors)


def test_every_chart_draws_its_data_when_nothing_is_suppressed(pipeline, chromium: str, tmp_path: Path) -> None:
    paths, _, _ = pipeline
    charts, errors = _draw(build_report(paths.analytics, tmp_path, suppression=Suppression(1)), chromium)
    assert errors == [] and [c["id"] for c in charts] == CHART_IDS
    for c in charts:
        assert c["svg"] >= 1 and c["points"] > 0 and c["marks"] > 0, c


def test_report_renders_every_chart_with_data_and_no_console_errors(report: Path, chromium: str,
                                                                     tmp_path_factory) -> None:
    shot = tmp_path_factory.mktemp("screenshots") / "report.png"
    with open_page(report.as_uri(), chromium) as page:
        page.pump(1.5)  # plotly draws after load
        charts = page.evaluate(CHARTS_JS)
        headline = page.evaluate("document.querySelectorAll('#headline .stat b').length")
        page.screenshot(shot)
        errors = list(page.errors)
        online = [u for u in page.requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    print(f"screenshot: {shot}")
    assert errors == []
    assert online == []  # works offline: nothing fetched from a CDN or anywhere else
    assert [c["id"] for c in charts] == CHART_IDS
    for c in charts:
        if c["id"] in FULLY_SUPPRESSED_AT_K5:  # drawn, saying why it shows nothing
            assert c["svg"] >= 1 and c["points"] == 0 and c["note"] == figures.SUPPRESSED, c
        else:
            assert c["svg"] >= 1 and c["points"] > 0 and c["marks"] > 0, c
    assert headline == 2
    assert shot.stat().st_size > 50_000  # a real picture, not a blank page


def test_the_console_check_catches_errors(report: Path, chromium: str) -> None:
    """The render test would see a broken page: an error thrown after load is caught."""
    with open_page(report.as_uri(), chromium) as page:
        page.call("Runtime.evaluate", expression="setTimeout(() => { throw new Error('broken chart') }, 0)")
        page.pump(0.5)
        assert any("broken chart" in e for e in page.errors)


def _shown(html: str, i: int) -> float:
    return float(re.search(rf"data-figure='{i}'>(\d+)%<", html).group(1)) / 100


def test_headline_figures_match_the_marts(pipeline, report: Path) -> None:
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        switching = con.execute("""select count(distinct s.journey_id)::double / (select count(*) from fct_journeys)
                                   from fct_channel_switches s""").fetchone()[0]
        unanswered = con.execute("""select sum(case when switch_trigger = 'unanswered' then 1 else 0 end)::double
                                    / count(*) from fct_channel_switches""").fetchone()[0]
    html = report.read_text(encoding="utf-8")
    assert 0 < switching < 1 and 0 < unanswered < 1
    assert _shown(html, 0) == pytest.approx(switching, abs=0.005)
    assert _shown(html, 1) == pytest.approx(unanswered, abs=0.005)


def test_report_is_self_contained_small_and_ships_dbt_docs(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert report.stat().st_size < 10 * 2**20
    assert not re.search(r"<script[^>]*\bsrc=", html)
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)  # plotly.js itself names URLs
    assert not re.search(r"""(src|href)=['"]https?://""", markup)  # the page links nothing online
    assert "cdn.plot.ly" not in markup and "<script" in html  # plotly.js inlined, not loaded
    docs = report.parent / "dbt-docs" / "index.html"
    assert docs.exists() and "fct_journeys" in docs.read_text(encoding="utf-8")
    assert "dbt-docs/index.html" in html


def test_cli_help_names_every_option() -> None:
    result = CliRunner().invoke(app, ["report", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    for option in ("--analytics", "--out", "--dbt-docs", "--service", "--from", "--to"):
        assert option in result.output


def test_cli_builds_the_report(pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from joinedup.cli import main

    paths, _, _ = pipeline
    result = CliRunner().invoke(app, ["report", "--analytics", str(paths.analytics), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "index.html").stat().st_size > 1_000_000  # plotly.js is inlined
    assert not (tmp_path / "dbt-docs").exists()  # docs only when --dbt-docs is given
    capsys.readouterr()
    assert main(["report", "--analytics", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_analytics_file_is_not_modified_by_a_build(pipeline, tmp_path: Path) -> None:
    """Read-only, filtered or not: the published file's bytes are unchanged."""
    paths, _, _ = pipeline
    before = paths.analytics.read_bytes()
    build_report(paths.analytics, tmp_path / "all")
    build_report(paths.analytics, tmp_path / "one", scope=Scope(service="council_tax"))
    assert paths.analytics.read_bytes() == before
