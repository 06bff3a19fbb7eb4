"""`build_report`: the I/O edge. Reads the published analytics file read-only, writes <out>/index.html."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from joinedup.report import figures, queries
from joinedup.report.disclosure import Suppression
from joinedup.report.html import Chart, page
from joinedup.report.scope import Scope, restrict

REPORT_FILE = "index.html"
DOCS_DIR = "dbt-docs"


def charts(con: duckdb.DuckDBPyConnection, sup: Suppression | None = None) -> list[Chart]:
    """Every chart, each query's result passed through the one suppression function (joinedup.report.disclosure)
    with its counts, the figures computed from them, and the groups whose totals the chart reveals."""
    sup = sup or Suppression()

    def sankey(collapsed: bool) -> pd.DataFrame:
        return sup.apply(queries.sankey_links(con, collapsed=collapsed), {"journeys": ()})

    return [
        Chart("sankey", "Journey paths, first four steps",
              "Each band is a group of journeys moving from one channel to the next; wide bands into phone or "
              "face to face are the expensive routes.", figures.sankey(sankey(True), sankey(False))),
        Chart("transitions", "From each channel, where the next contact goes",
              "Rows are a contact's channel, columns the channel of the same journey's next contact; off the "
              "diagonal is a switch.", figures.transition_heatmap(sup.apply(
                  queries.transition_matrix(con), {"transitions": ("share",)}, complement=["from_channel"]))),
        Chart("switch-times", "How long before people switch, by what went wrong",
              "Abandoned calls and failed web forms turn into another channel within the hour; unanswered "
              "posts and emails take days.", figures.switch_time_bars(sup.apply(
                  queries.switch_times(con), {"switches": ("share",)}, complement=["switch_trigger"]))),
        Chart("switch-pairs", "The commonest switches and what triggered them",
              "Each bar is a from → to switch, split by the previous contact's outcome (e.g. an unanswered "
              "social post followed by a call).", figures.switch_pairs(sup.apply(
                  queries.switch_pairs_by_trigger(con), {"switches": ("median_minutes",)}))),
        Chart("sla-hour", "Response targets met, by the hour the contact came in",
              "Share of contacts answered within each channel's target; the social lines show the 15-minute "
              "and 2-hour expectations, evenings and weekends included.", figures.sla_lines(sup.apply(
                  queries.sla_by_hour(con), {"contacts": ("attainment",)}))),
        Chart("social-sla", "Social posts answered within 15 minutes, by weekday and hour",
              "Red is where posts wait: outside the social team's shift most go unanswered for hours.",
              figures.social_sla_heatmap(sup.apply(queries.social_sla_by_weekday_hour(con),
                                                   {"contacts": ("attainment",)}))),
        Chart("repeat", "Repeat contacts and failure demand by service",
              "Red is people contacting again about the same unresolved need within a week: demand the council "
              "causes by not resolving it first time.", figures.repeat_bars(sup.apply(
                  queries.repeat_by_service(con),
                  {"contacts": ("failure_demand_rate",), "first_contacts": ("failure_demand_rate",),
                   "failure_demand_contacts": ("failure_demand_rate", "failure_demand_cost_gbp")},
                  complement=[]))),  # the services' bars add up to the headline's contacts
        Chart("shift", "Channel mix and cost per contact, by month",
              "How the share of contacts moves between channels, and what an average contact costs as it does.",
              figures.channel_shift_chart(sup.apply(
                  queries.channel_shift(con),
                  {"contacts": ("channel_share", "cost_per_contact_gbp"),
                   "month_contacts": ("month_cost_per_contact_gbp",)}, complement=["month"]))),
        Chart("out-of-hours", "When the demand comes",
              "Contacts by local weekday and hour, all channels: everything outside Monday to Friday 08:30–17:00 "
              "is out of hours.", figures.out_of_hours_heatmap(sup.apply(
                  queries.out_of_hours(con), {"contacts": (), "out_of_hours_contacts": ()}, complement=[]))),
    ]


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
        text = page(queries.headline(con), charts(con, sup), f"{DOCS_DIR}/index.html" if dbt_docs else None,
                    scope.describe(), sup)
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
