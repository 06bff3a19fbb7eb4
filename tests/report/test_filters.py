"""Service and date filters: the views that stand in for the marts compute exactly what dbt computes on the
same contacts; the report's (service, month) cells, bound to the same published definitions, add up to the marts;
and a filtered report shows the filtered figures, draws with no console errors even where a chart has no data."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.report.build import build_report
from joinedup.report.cells import read_cells
from joinedup.report.chromium import open_page
from joinedup.report.scope import Scope, bind, definitions, restrict, shadowed
from tests.report import page_data

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def test_a_filter_keeping_everything_rederives_every_mart_exactly(pipeline) -> None:
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        first = con.execute("select min(occurred_local_date) from fct_contacts").fetchone()[0]
        db = con.execute("select current_database()").fetchone()[0]
        names = shadowed(con)
        assert len(names) == 8, names  # three filtered facts, five marts re-derived from their definitions
        restrict(con, Scope(start=first))  # keeps every contact, but through the views
        for name in names:
            view, mart = f"temp.main.{name}", f'"{db}".main.{name}'
            assert con.execute(f"select count(*) from {view}").fetchone()[0] > 0, name
            # same rows; floating sums may differ in the last bits (summation order)
            pd.testing.assert_frame_equal(con.execute(f"select * from {view} order by all").df(),
                                          con.execute(f"select * from {mart} order by all").df(),
                                          check_dtype=False, rtol=1e-9, obj=name)


def _dbt_marts_on(paths, tmp_path: Path, keep: str, marts: list[str]) -> Path:
    """The marts as dbt builds them (the mart models, not the published SQL) on a copy of the warehouse whose
    fct_contacts holds only the contacts `keep` (a condition on fct_contacts) selects."""
    from joinedup.dbt_cli import run_dbt
    from joinedup.inprocess import pipeline_env, release_dbt_connection

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(paths.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"delete from marts.fct_contacts where not ({keep})")
    with pipeline_env(replace(paths, warehouse=warehouse)):
        res = run_dbt(["run", "--select", *marts, "--target-path", str(tmp_path / "dbt-target")], PROJECT)
    release_dbt_connection()  # dbt-duckdb keeps its handle open in this process
    assert res.success, res.exception
    built = [r.node.name for r in res.result.results if r.node.resource_type != "operation"]  # not the hook
    assert sorted(built) == sorted(marts)
    return warehouse


def test_filtered_marts_equal_dbt_marts_built_on_the_filtered_contacts(pipeline, tmp_path: Path) -> None:
    """A filtered report's marts are the marts dbt builds from the filtered contacts. The scope ends mid-period
    so transitions compare too: the earlier contact of a kept pair is then kept as well, so dbt pairs the same
    contacts the report does (a start date would keep pairs reaching back before it, on purpose)."""
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        service, first, last = con.execute("""select service, min(occurred_local_date), max(occurred_local_date)
            from fct_contacts group by 1 order by count(*) desc, 1 limit 1""").fetchone()
        marts = sorted(definitions(con))
        db = con.execute("select current_database()").fetchone()[0]
    scope = Scope(service=service, end=first + (last - first) // 2)
    assert marts == ["mart_channel_shift", "mart_channel_transitions", "mart_out_of_hours", "mart_repeat_contact",
                     "mart_response_sla"]
    rebuilt = _dbt_marts_on(paths, tmp_path, f"service = '{service}' and occurred_local_date <= '{scope.end}'",
                            marts)
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        restrict(con, scope)
        con.execute(f"attach '{rebuilt}' as rebuilt (read_only)")
        for name in marts:
            filtered = con.execute(f"select * from {name} order by all").df()
            built = con.execute(f"select * from rebuilt.marts.{name} order by all").df()
            published = con.execute(f'select * from "{db}".main.{name} order by all').df()
            assert len(filtered) > 0 and not filtered.equals(published), name  # the filter does filter
            pd.testing.assert_frame_equal(filtered, built, check_dtype=False, rtol=1e-9, obj=name)


def test_a_definition_reading_an_unsupplied_input_is_refused() -> None:
    sql = 'select * from "input:contacts" join "input:register" using (person_key)'
    assert bind(sql, {"contacts": "fct_contacts", "register": "r"}) == \
        "select * from fct_contacts join r using (person_key)"
    with pytest.raises(ValueError, match="register"):
        bind(sql, {"contacts": "fct_contacts"})


def _service_period(paths) -> tuple[str, date, date]:
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        service, first, last = con.execute("""
            select service, min(occurred_local_date), max(occurred_local_date) from fct_contacts
            group by 1 order by count(*) desc limit 1""").fetchone()
    return service, first + timedelta(days=7), last


def test_filtered_report_shows_the_filtered_headline(pipeline, tmp_path: Path) -> None:
    paths, _, _ = pipeline
    service, start, end = _service_period(paths)
    result = CliRunner().invoke(app, ["report", "--analytics", str(paths.analytics), "--out", str(tmp_path),
                                      "--service", service, "--from", start.isoformat(), "--to", end.isoformat()])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    head = page_data.views(html)["*|all"]["head"]
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        journeys, switching = con.execute("""
            select count(*), count(*) filter (where j.journey_id in (select journey_id from fct_channel_switches))
            from fct_journeys j join fct_contacts c on c.journey_id = j.journey_id and c.contact_sequence = 1
            where j.service = ? and c.occurred_local_date between ? and ?""", [service, start, end]).fetchone()
        switches, unanswered = con.execute("""
            select count(*), count(*) filter (where s.switch_trigger = 'unanswered')
            from fct_channel_switches s join fct_contacts c on c.contact_key = s.to_contact_key
            where s.service = ? and c.occurred_local_date between ? and ?""", [service, start, end]).fetchone()
    shown = [float(head[k]["value"].rstrip("%")) / 100 for k in ("switching", "unanswered")]
    assert shown == pytest.approx([switching / journeys, unanswered / switches], abs=0.005)
    assert f"{journeys:,} journeys" in head["switching"]["n"] and f"{switches:,} switches" in head["unanswered"]["n"]
    assert f"service: {service.replace('_', ' ')}" in html and f"{start:%-d %b %Y} to" in html


def test_unknown_service_or_empty_period_is_a_clear_error(pipeline, tmp_path: Path) -> None:
    paths, _, _ = pipeline
    bad = CliRunner().invoke(app, ["report", "--analytics", str(paths.analytics), "--out", str(tmp_path),
                                   "--service", "council_taxx"])
    assert bad.exit_code == 2 and "council_tax" in bad.output  # lists the services there are
    empty = CliRunner().invoke(app, ["report", "--analytics", str(paths.analytics), "--out", str(tmp_path),
                                     "--from", "1999-01-01", "--to", "1999-01-31"])
    assert empty.exit_code == 2 and "no contacts" in empty.output
    assert not (tmp_path / "index.html").exists()


CELL_MARTS = {  # cells frame -> (published mart, its dimensions the cells keep, the counts to compare)
    "transitions": ("mart_channel_transitions", ["from_channel", "to_channel"], ["transitions"]),
    "sla": ("mart_response_sla", ["channel", "platform", "sla_name", "occurred_local_weekday", "occurred_local_hour"],
            ["contacts", "met"]),
    "repeat": ("mart_repeat_contact", ["service"], ["contacts", "repeat_contacts", "failure_demand_contacts"]),
    "shift": ("mart_channel_shift", ["channel"], ["contacts", "cost_gbp"]),
    "out_of_hours": ("mart_out_of_hours", ["channel", "occurred_local_weekday", "occurred_local_hour"],
                     ["contacts", "out_of_hours_contacts"]),
}


def test_the_report_cells_add_up_to_the_published_marts(pipeline) -> None:
    """The cells bind each mart's published definition to one (service, month) at a time; summed over services and
    months they are the mart, so a view (a sum of cells) is defined as the mart is."""
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        cells = read_cells(con)
        for name, (mart, dims, counts) in CELL_MARTS.items():
            frame = getattr(cells, name).rename(columns={"weekday": "occurred_local_weekday",
                                                          "hour": "occurred_local_hour"})
            assert frame["service"].nunique() > 1, name
            ours = frame.groupby(dims, dropna=False)[counts].sum().sort_index()
            published = con.execute(f"select * from {mart}").df().groupby(dims, dropna=False)[counts].sum().sort_index()
            pd.testing.assert_frame_equal(ours, published, check_dtype=False, rtol=1e-9, obj=name)


def test_a_sparse_filtered_report_renders_without_errors(pipeline, chromium: str, tmp_path: Path) -> None:
    """The smallest service over its last two days: some charts have no data, and say so, without breaking."""
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        service, last = con.execute("""select service, max(occurred_local_date) from fct_contacts
                                       group by 1 order by count(*), 1 limit 1""").fetchone()
    report = build_report(paths.analytics, tmp_path, scope=Scope(service, last - timedelta(days=1), last))
    with open_page(report.as_uri(), chromium) as page:
        page.pump(1.0)
        charts = page.evaluate("document.querySelectorAll('.figure .main-svg').length")
        notes = page.evaluate("Array.from(document.querySelectorAll('.figure')).map(d => "
                              "((d.layout || {}).annotations || []).map(a => a.text).join(' ')).join('|')")
        errors = list(page.errors)
    assert errors == []
    assert charts >= 11
    assert "Nothing of this kind" in notes or "too few" in notes or "too small" in notes  # empty states drawn
