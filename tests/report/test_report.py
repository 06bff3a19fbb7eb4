"""The report the journeys DAG wrote after publishing, in headless Chromium: no console errors and nothing fetched,
every chart draws data, the filters change the figures, printing shows the numbers; its headline figures match the
marts, and it is self-contained."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.report.build import build_report
from joinedup.report.chromium import Page, open_page
from joinedup.report.disclosure import Suppression
from joinedup.report.html import CHARTS
from joinedup.report.scope import Scope
from joinedup.report.screenshots import filtered_view, select
from tests.report import page_data

pytestmark = pytest.mark.slow

CHART_IDS = [c.id for c in CHARTS]
CHARTS_JS = """Array.from(document.querySelectorAll('.figure')).map(d => ({
    id: d.id,
    svg: d.querySelectorAll('svg.main-svg').length,
    points: (d._fullData || []).filter(t => t.visible !== false).reduce((n, t) =>
        n + ((t.type === 'sankey' ? t.link.value : (t.type === 'heatmap' ? t.z.flatMap(r => Array.from(r))
              : (t.orientation === 'h' ? t.x : t.y))) || [])
             .filter(v => v !== null && v !== undefined && !Number.isNaN(v)).length, 0),
    data: JSON.stringify((d.data || []).map(t => [t.x, t.y, t.z, t.link && t.link.value])),
    marks: d.querySelectorAll('.sankey-link, .bars path, .heatmaplayer image, .scatterlayer path').length,
    note: ((d.layout || {}).annotations || []).map(a => a.text).join(' '),
}))"""
HEADLINE_JS = "['switching', 'unanswered'].map(k => document.getElementById('head-' + k + '-value').textContent + ' ' + " \
              "document.getElementById('head-' + k + '-n').textContent)"
TABLES_JS = """Array.from(document.querySelectorAll('details.numbers table')).map(t => ({
    id: t.id, visible: t.checkVisibility() && t.getBoundingClientRect().height > 0,
    numbers: (t.innerText.match(/\\d/g) || []).length}))"""
# The test pipeline has about 60 social posts over 168 weekday x hour cells: at k = 5 every cell of that heatmap is
# suppressed, and the chart says so instead of drawing (test_every_chart_draws_its_data_when_nothing_is_suppressed
# draws it).
FULLY_SUPPRESSED_AT_K5 = {"social-sla"}


@pytest.fixture(scope="module")
def report(pipeline) -> Path:
    paths, _, run = pipeline
    assert run.results["journeys"] == "success"
    return paths.reports / "index.html"


def _offline(page: Page) -> list[str]:
    return [u for u in page.requests if not u.startswith(("file:", "data:", "blob:", "about:"))]


def test_every_chart_draws_its_data_when_nothing_is_suppressed(pipeline, chromium: str, tmp_path: Path) -> None:
    paths, _, _ = pipeline
    with open_page(build_report(paths.analytics, tmp_path, suppression=Suppression(1)).as_uri(), chromium) as page:
        page.pump(1.5)
        charts, errors = page.evaluate(CHARTS_JS), list(page.errors)
    assert errors == [] and [c["id"] for c in charts] == CHART_IDS
    for c in charts:
        assert c["svg"] >= 1 and c["points"] > 0 and c["marks"] > 0, c


def test_the_page_draws_filters_and_prints(report: Path, chromium: str, tmp_path_factory) -> None:
    """Default view: no console error, nothing fetched, every chart drawn with data. A service and a month picked
    with the selects change the headline and the charts' data. Print media shows every numbers table."""
    shot = tmp_path_factory.mktemp("screenshots") / "report.png"
    with open_page(report.as_uri(), chromium) as page:
        page.pump(1.5)  # plotly draws after load
        charts = page.evaluate(CHARTS_JS)
        headline = page.evaluate(HEADLINE_JS)
        tables_on_screen = page.evaluate(TABLES_JS)
        page.screenshot(shot)
        service, month = filtered_view(page)
        select(page, service, month)
        filtered = page.evaluate(CHARTS_JS)
        filtered_headline = page.evaluate(HEADLINE_JS)
        label = page.evaluate("document.getElementById('view-label').textContent")
        select(page, "*", "all")  # back to the default view, whose charts are checked above
        page.call("Emulation.setEmulatedMedia", media="print")
        page.pump(0.5)
        printed = page.evaluate(TABLES_JS)
        controls = page.evaluate("getComputedStyle(document.getElementById('filter-service')).display")
        errors = list(page.errors)
        online = _offline(page)
    print(f"screenshot: {shot}")
    assert errors == []
    assert online == []  # works offline: nothing fetched from a CDN or anywhere else
    assert [c["id"] for c in charts] == CHART_IDS
    for c in charts:
        if c["id"] in FULLY_SUPPRESSED_AT_K5:  # drawn, saying why it shows nothing
            assert c["svg"] >= 1 and c["points"] == 0 and "too few" in c["note"], c
        else:
            assert c["svg"] >= 1 and c["points"] > 0 and c["marks"] > 0, c
    assert all(re.fullmatch(r"\d+% observed: [\d,]+ of [\d,]+ \w+", h) for h in headline), headline
    assert shot.stat().st_size > 50_000  # a real picture, not a blank page
    # the filters: another service and month, other figures
    services = {s["code"]: s["label"] for s in page_data.meta(report.read_text(encoding="utf-8"))["services"]}
    assert service != "*" and label.startswith(services[service])
    assert filtered_headline != headline
    changed = [a["id"] for a, b in zip(charts, filtered, strict=True) if a["data"] != b["data"]]
    assert len(changed) >= len(CHART_IDS) - 2, changed  # a chart may be empty in both (or suppressed in both)
    # on screen the tables are folded away; printed, every one is open and holds numbers, and the controls go
    assert not any(t["visible"] for t in tables_on_screen)
    assert len(printed) == len(CHART_IDS) and all(t["visible"] for t in printed), printed
    drawn = {c["id"] for c in charts if c["points"] > 0}
    assert all(t["numbers"] > 0 for t in printed if t["id"].removeprefix("numbers-") in drawn), printed
    assert controls == "none"


def test_the_console_check_catches_errors(report: Path, chromium: str) -> None:
    """The render test would see a broken page: an error thrown after load is caught."""
    with open_page(report.as_uri(), chromium) as page:
        page.call("Runtime.evaluate", expression="setTimeout(() => { throw new Error('broken chart') }, 0)")
        page.pump(0.5)
        assert any("broken chart" in e for e in page.errors)


def _shown(head: dict) -> float:
    return float(head["value"].rstrip("%")) / 100


def test_headline_figures_match_the_marts(pipeline, report: Path) -> None:
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        switching = con.execute("""select count(distinct s.journey_id)::double / (select count(*) from fct_journeys)
                                   from fct_channel_switches s""").fetchone()[0]
        unanswered = con.execute("""select sum(case when switch_trigger = 'unanswered' then 1 else 0 end)::double
                                    / count(*) from fct_channel_switches""").fetchone()[0]
    head = page_data.views(report.read_text(encoding="utf-8"))["*|all"]["head"]
    assert 0 < switching < 1 and 0 < unanswered < 1
    assert _shown(head["switching"]) == pytest.approx(switching, abs=0.005)
    assert _shown(head["unanswered"]) == pytest.approx(unanswered, abs=0.005)
    assert re.fullmatch(r"est\. \d+% \(\d+–\d+%\) if every contact were joined", head["switching"]["estimate"])
    assert re.fullmatch(r"Rests on [\d,]+ contacts: [\d,]+ \(\d+%\) linked to the register, [\d,]+ in the review "
                        r"queue; [\d,]+ persons unresolved \(not in the register\)\.", head["coverage"])


def test_each_view_has_its_own_headline_and_no_comparison_without_a_previous_period(report: Path) -> None:
    """The test pipeline's 28 days from 3 March are one (partial) month: no view has a period before it to compare
    with (the comparison's wording is tested in test_captions). Each service's whole period has its own headline."""
    html = report.read_text(encoding="utf-8")
    m = page_data.meta(html)
    assert [p["note"] for p in m["periods"] if p["kind"] == "month"] == ["28 of 31 days"]
    views = page_data.views(html)
    assert all(v["head"][k]["change"] == "" for v in views.values() for k in ("switching", "unanswered"))
    heads = {views[f"{s['code']}|all"]["head"]["coverage"] for s in m["services"]}
    assert len(heads) == len(m["services"])


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


def test_the_glossary_labels_every_code_the_page_uses(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    m = page_data.meta(html)
    assert all(c["label"] != c["code"] for c in m["channels"]) and m["channels"][0]["label"] == "Phone"
    assert {t["code"]: t["label"] for t in m["triggers"]}["failed_self_service"] == "Failed self-service"
    assert m["sla"]["reply_2d"] == "Reply within 2 days"
    glossary = html.split("id='glossary'", 1)[1].split("</section>", 1)[0]
    for code in ("face_to_face", "failed_self_service", "reply_2d", "no_response"):
        assert f"<code>{code}</code>" in glossary  # each code defined, beside its label
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)
    assert "failed_self_service" not in markup.replace(glossary, "")  # codes appear only in the glossary


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


def test_the_same_marts_give_the_same_page_whatever_order_their_rows_are_in(pipeline, tmp_path: Path) -> None:
    """The page keeps the first of equal cells (Sankey ties, the complementary suppression rule), so it must not
    depend on the order DuckDB returns rows in: two pages that hide different secondary cells of one table would,
    compared, reveal the cell both protect. The published file is copied with every table's rows shuffled."""
    import shutil

    paths, _, _ = pipeline
    shuffled = tmp_path / "shuffled.duckdb"
    shutil.copyfile(paths.analytics, shuffled)
    with duckdb.connect(str(shuffled)) as con:
        con.execute("select setseed(0.25)")
        tables = [r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main'"
                                            ).fetchall()]
        for table in tables:
            con.execute(f'create or replace table "{table}" as select * from "{table}" order by random()')
    sup = Suppression(k=3)
    build_report(paths.analytics, tmp_path / "published", suppression=sup)
    build_report(shuffled, tmp_path / "shuffled", suppression=sup)
    assert (tmp_path / "published" / "index.html").read_bytes() == (tmp_path / "shuffled" / "index.html").read_bytes()
