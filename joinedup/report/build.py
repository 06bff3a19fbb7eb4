"""`build_report`: the I/O edge. Reads the published analytics file read-only, writes <out>/index.html."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from joinedup.report import figures, queries
from joinedup.report.html import Chart, page
from joinedup.report.scope import Scope, restrict

REPORT_FILE = "index.html"
DOCS_DIR = "dbt-docs"


def charts(con: duckdb.DuckDBPyConnection) -> list[Chart]:
    return [
        Chart("sankey", "Journey paths, first four steps",
              "Each band is a group of journeys moving from one channel to the next; wide bands into phone or "
              "face to face are the expensive routes.",
              figures.sankey(queries.sankey_links(con, collapsed=True), queries.sankey_links(con, collapsed=False))),
        Chart("transitions", "From each channel, where the next contact goes",
              "Rows are a contact's channel, columns the channel of the same journey's next contact; off the "
              "diagonal is a switch.", figures.transition_heatmap(queries.transition_matrix(con))),
        Chart("switch-times", "How long before people switch, by what went wrong",
              "Abandoned calls and failed web forms turn into another channel within the hour; unanswered "
              "posts and emails take days.", figures.switch_time_bars(queries.switch_times(con))),
        Chart("switch-pairs", "The commonest switches and what triggered them",
              "Each bar is a from → to switch, split by the previous contact's outcome (e.g. an unanswered "
              "social post followed by a call).", figures.switch_pairs(queries.switch_pairs_by_trigger(con))),
        Chart("sla-hour", "Response targets met, by the hour the contact came in",
              "Share of contacts answered within each channel's target; the social lines show the 15-minute "
              "and 2-hour expectations, evenings and weekends included.", figures.sla_lines(queries.sla_by_hour(con))),
        Chart("social-sla", "Social posts answered within 15 minutes, by weekday and hour",
              "Red is where posts wait: outside the social team's shift most go unanswered for hours.",
              figures.social_sla_heatmap(queries.social_sla_by_weekday_hour(con))),
        Chart("repeat", "Repeat contacts and failure demand by service",
              "Red is people contacting again about the same unresolved need within a week: demand the council "
              "causes by not resolving it first time.", figures.repeat_bars(queries.repeat_by_service(con))),
        Chart("shift", "Channel mix and cost per contact, by month",
              "How the share of contacts moves between channels, and what an average contact costs as it does.",
              figures.channel_shift_chart(queries.channel_shift(con))),
        Chart("out-of-hours", "When the demand comes",
              "Contacts by local weekday and hour, all channels: everything outside Monday to Friday 08:30–17:00 "
              "is out of hours.", figures.out_of_hours_heatmap(queries.out_of_hours(con))),
    ]


def build_report(analytics: Path, out_dir: Path, dbt_docs: Path | None = None, scope: Scope | None = None) -> Path:
    """Write the report; copy a `dbt docs generate --static` folder beside it when given. Atomic per file.
    A scope (service, dates) filters every chart and the headline; by default the whole file is reported."""
    if not analytics.exists():
        raise FileNotFoundError(f"analytics database {analytics} does not exist: has the journeys DAG published?")
    scope = scope or Scope()
    with duckdb.connect(str(analytics), read_only=True) as con:
        restrict(con, scope)
        text = page(queries.headline(con), charts(con), f"{DOCS_DIR}/index.html" if dbt_docs else None,
                    scope.describe())
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
