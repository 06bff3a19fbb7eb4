"""`build_report`: the I/O edge. Reads the published analytics file read-only (one grouped read per chart,
joinedup.report.cells, and the headline's inputs), makes every view of the page in memory, writes <out>/index.html.
The headline's inputs are read while the views' charts are made: the charts do not need them, and the read is
DuckDB's (another core) while the charts are pandas'.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from joinedup.report import captions
from joinedup.report.cells import Cells, read_cells
from joinedup.report.disclosure import Suppression
from joinedup.report.estimate import EstimateInputs, HeadlineEstimates, load_inputs
from joinedup.report.headline import ServiceInputs, estimates_of, headline
from joinedup.report.hours import bank_holidays, opening_hours
from joinedup.report.html import page
from joinedup.report.labels import Labels, channel_order, meta, read_labels
from joinedup.report.palette import cividis_scale
from joinedup.report.periods import Period, periods
from joinedup.report.scope import Scope, restrict
from joinedup.report.views import PeriodSelection, PeriodSums, view

REPORT_FILE = "index.html"
DOCS_DIR = "dbt-docs"
ALL_SERVICES = "*"


def view_key(service: str | None, period: Period) -> str:
    return f"{ALL_SERVICES if service is None else service}|{period.id}"


def _captions(data: dict, m: dict, labels: Labels, sup: Suppression, period: Period,
              holidays: list[tuple]) -> dict[str, str]:
    channels = [c["code"] for c in m["channels"]]
    channel = {c["code"]: c["label"] for c in m["channels"]}.get
    service = {s["code"]: s["label"] for s in m["services"]}.get
    months = {p["id"]: p["short"] for p in m["periods"] if p["kind"] == "month"}
    partial = {p["id"] for p in m["periods"] if p["kind"] == "month" and p["note"]}
    in_period = [f"{d:%-d %b} ({name})" for d, name in holidays if period.start <= d <= period.end]

    def target(t: list[str]) -> str:
        platform = "" if t[1] == "all" else f" ({'X' if t[1] == 'x' else t[1].capitalize()})"
        return f"{channel(t[0], t[0])}{platform} · {m['sla'].get(t[2], t[2])}"

    return {
        "sankey": captions.sankey(data["sankey"], sup.k),
        "transitions": captions.transitions(data["transitions"], channels, lambda c: channel(c, c)),
        "switch-times": captions.switch_times(data["switch_times"], lambda t: labels.label("switch_trigger", t)),
        "switch-pairs": captions.switch_pairs(data["switch_pairs"], lambda c: channel(c, c),
                                              lambda t: labels.label("switch_trigger", t)),
        "sla-hour": captions.sla(data["sla"], target),
        "social-sla": captions.social(data["social"]),
        "repeat": captions.repeat(data["repeat"], lambda s: service(s, s)),
        "shift": captions.shift(data["shift"], channels, lambda c: channel(c, c), months, partial),
        "out-of-hours": captions.out_of_hours(data["out_of_hours"], channels, lambda c: channel(c, c), in_period),
        "demand": captions.demand(data["out_of_hours"]),
        "journeys": captions.examples(data["examples"], sup.k),
    }


def page_meta(cells: Cells, labels: Labels, ps: list[Period], hours: dict[str, str], sup: Suppression) -> dict:
    channels = channel_order(sorted(set(cells.shift["channel"])))
    triggers = sorted(set(cells.switch_bands["switch_trigger"]))
    m = meta(labels, channels, cells.services, triggers)
    m.update(
        periods=[{"id": p.id, "kind": p.kind, "long": p.long_label, "short": p.label, "note": p.coverage_note}
                 for p in ps],
        opening_hours={c: hours.get(c, "") for c in channels}, cividis=cividis_scale(), small_n=captions.SMALL_N,
        suppression=sup.note())
    return m


def charts(cells: Cells, labels: Labels, ps: list[Period], m: dict, sup: Suppression, holidays: list[tuple]
           ) -> dict[str, tuple[dict, dict[str, str]]]:
    """Every view's charts and their captions (all services and each service x every period), each summed,
    computed and suppressed on its own. They do not need the headline estimates, so they are made while the
    estimates' inputs are read."""
    channels = [c["code"] for c in m["channels"]]
    triggers = [t["code"] for t in m["triggers"]]
    targets = [e.code for e in labels.terms.get("sla_target", [])]
    out: dict[str, tuple[dict, dict[str, str]]] = {}
    for service in [None, *cells.services]:
        mine = cells.of_service(service)
        sums = PeriodSums({p.id: p.months for p in ps})
        for p in ps:
            data = view(mine, PeriodSelection(service, p.months, p.id, sums), sup, channels, triggers, targets)
            out[view_key(service, p)] = (data, _captions(data, m, labels, sup, p, holidays))
    return out


def views(made: dict[str, tuple[dict, dict[str, str]]], services: list[str], inputs: EstimateInputs,
          ps: list[Period], sup: Suppression) -> dict[str, dict]:
    """Every view: its charts (`charts`), its headline with the change against the previous month or quarter, and
    its captions."""
    by_id = {p.id: p for p in ps}
    months = {p.id: p.months for p in ps}
    out: dict[str, dict] = {}
    for service in [None, *services]:
        service_inputs = ServiceInputs.of(inputs, service)
        summed = service_inputs.sums(months)
        estimates: dict[str, HeadlineEstimates] = {p.id: estimates_of(service_inputs, p.months, summed[p.id])
                                                   for p in ps}
        for p in ps:
            data, captions = made[view_key(service, p)]
            previous = (estimates[p.previous], p, by_id[p.previous]) if p.previous else None
            out[view_key(service, p)] = {**data, "head": headline(estimates[p.id], sup, previous),
                                         "captions": captions}
    return out


def build_report(analytics: Path, out_dir: Path, dbt_docs: Path | None = None, scope: Scope | None = None,
                 suppression: Suppression | None = None) -> Path:
    """Write the report; copy a `dbt docs generate --static` folder beside it when given. Atomic per file.
    A scope (service, dates) filters every chart and the headline; by default the whole file is reported.
    Small cells are suppressed with k from `suppression`, else JOINEDUP_REPORT_MIN_CELL (default 5)."""
    if not analytics.exists():
        raise FileNotFoundError(f"analytics database {analytics} does not exist: has the journeys DAG published?")
    scope = scope or Scope()
    sup = suppression or Suppression.from_env()
    with duckdb.connect(str(analytics), read_only=True) as con:
        restrict(con, scope)
        cells = read_cells(con)
        labels = read_labels(con)
        hours = opening_hours(con, cells.first_day, cells.last_day)
        holidays = bank_holidays(con, cells.first_day, cells.last_day)
        ps = periods(cells.first_day, cells.last_day)
        m = page_meta(cells, labels, ps, hours, sup)
        with ThreadPoolExecutor(max_workers=1) as pool:  # DuckDB releases the GIL while it reads
            reading = pool.submit(load_inputs, con)  # the only use of the connection meanwhile
            made = charts(cells, labels, ps, m, sup, holidays)
            inputs = reading.result()
    text = page(ps, m, views(made, cells.services, inputs, ps, sup), labels,
                f"{DOCS_DIR}/index.html" if dbt_docs else None, scope.describe(), sup)
    out_dir.mkdir(parents=True, exist_ok=True)
    if dbt_docs:
        target = out_dir / DOCS_DIR
        tmp_docs = out_dir / f".{DOCS_DIR}.tmp"
        shutil.rmtree(tmp_docs, ignore_errors=True)
        tmp_docs.mkdir()
        static = dbt_docs / "static_index.html"
        shutil.copy(static if static.exists() else dbt_docs / "index.html", tmp_docs / "index.html")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp_docs, target)
    path = out_dir / REPORT_FILE
    tmp = path.with_name(f".{REPORT_FILE}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
