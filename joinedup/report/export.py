"""`export_aggregates`: the aggregate marts as CSV files safe to share beyond the people allowed the analytics file.

Why a separate product: the analytics file is pseudonymous personal data (a contact's time to the second singles
out its person, and the keys follow that person everywhere), so it stays behind access control. What a council
shares with partners, members or the public is this export: only the aggregate marts, at their month / weekday /
hour grain, every small cell suppressed by the report's own rules (joinedup.report.disclosure).

Every column of every exported mart is classified below as a dimension, a count, or a figure computed from
counts. A column nobody classified (a key, a timestamp, a new measure) makes the export fail rather than leak:
the list is the review.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from joinedup.report.disclosure import LABEL_SUFFIX, SECONDARY, Suppression


@dataclass(frozen=True)
class Aggregate:
    """One exported mart: its grain, its counts with the figures computed from each, and the groups whose total
    the table reveals (for complementary suppression)."""

    mart: str
    dimensions: tuple[str, ...]
    counts: Mapping[str, tuple[str, ...]]
    complement: tuple[str, ...] | None = None
    extra_sql: str = ""  # extra aggregate columns computed for the rules (e.g. a month's total)

    @property
    def columns(self) -> set[str]:
        return {*self.dimensions, *self.counts, *(d for ds in self.counts.values() for d in ds)}


AGGREGATES = (
    Aggregate("mart_channel_shift", ("occurred_month", "channel"),
              {"contacts": ("channel_share", "cost_gbp", "cost_per_contact_gbp"),
               "month_contacts": ("month_cost_per_contact_gbp",)},
              complement=("occurred_month",),
              extra_sql="sum(contacts) over (partition by occurred_month)::bigint as month_contacts"),
    Aggregate("mart_channel_transitions", ("occurred_month", "from_channel", "to_channel", "is_channel_switch"),
              {"transitions": ("median_minutes_between",), "persons": ()}),
    Aggregate("mart_journey_paths", ("path_kind", "path", "path_rank"),
              {"journeys": ("avg_contacts", "resolved_share", "avg_cost_gbp", "share_of_journeys"), "persons": ()}),
    # a channel's total is mart_channel_shift's months summed: a lone small hour would be a subtraction away
    Aggregate("mart_out_of_hours", ("channel", "occurred_local_weekday", "occurred_local_hour"),
              {"contacts": ("out_of_hours_share",), "out_of_hours_contacts": ("out_of_hours_share",)},
              complement=("channel",)),
    # a month's contacts over all services is mart_channel_shift's month total
    Aggregate("mart_repeat_contact", ("service", "occurred_month"),
              {"contacts": ("repeat_rate", "failure_demand_rate"), "repeat_contacts": ("repeat_rate",),
               "failure_demand_contacts": ("failure_demand_rate", "failure_demand_cost_gbp")},
              complement=("occurred_month",)),
    Aggregate("mart_response_sla", ("channel", "platform", "sla_name", "target_minutes", "occurred_local_weekday",
                                    "occurred_local_hour", "is_out_of_hours"),
              {"contacts": ("attainment",), "responded": (), "met": ("attainment",)}),
)


def _read(con: duckdb.DuckDBPyConnection, agg: Aggregate) -> pd.DataFrame:
    published = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
        [agg.mart]).fetchall()]
    if not published:
        raise ValueError(f"the analytics file has no {agg.mart}: re-run the journeys DAG to publish it")
    unclassified = sorted(set(published) - agg.columns)
    if unclassified:
        raise ValueError(f"{agg.mart} has columns the export does not classify ({', '.join(unclassified)}): "
                         "add each to joinedup.report.export.AGGREGATES as a dimension, a count or a derived "
                         "figure before exporting")
    extra = f", {agg.extra_sql}" if agg.extra_sql else ""
    return con.execute(f"select *{extra} from {agg.mart} order by all").df()


def _shareable(df: pd.DataFrame, agg: Aggregate, sup: Suppression) -> pd.DataFrame:
    """The suppressed table as written: a suppressed count is its label ("<5"), a withheld figure is empty."""
    out = sup.apply(df, agg.counts, complement=list(agg.complement) if agg.complement is not None else None)
    for count in agg.counts:
        exact = out[count].notna()
        out[count] = out[count + LABEL_SUFFIX].where(~exact, out[count].round().astype("Int64").astype(str))
    for column in agg.dimensions:
        if pd.api.types.is_datetime64_any_dtype(out[column]):  # a month: written as the month, nothing finer
            out[column] = out[column].dt.strftime("%Y-%m")
    keep = [c for c in df.columns if not c.endswith(LABEL_SUFFIX)]
    return out[keep]


def _readme(analytics: Path, sup: Suppression, period: tuple[object, object], files: list[str]) -> str:
    return "\n".join([
        "joinedup aggregates export",
        "",
        f"Source: the published analytics file {analytics.name}, contacts from {period[0]} to {period[1]}.",
        f"Written: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `joinedup export-aggregates`.",
        "",
        f"Disclosure control: {sup.note()}.",
        f"A count written as {sup.marker} is between 1 and {sup.k - 1}. Where a table's rows add up to a total it",
        f"shows (channel shares within a month), a second count beside a lone {sup.marker} is written as",
        f"'{SECONDARY}', so the small one cannot be worked out by subtraction. An empty rate, share, mean, median",
        "or cost was computed from a suppressed count.",
        "",
        "No keys, no row-level data: months (YYYY-MM), local weekdays (1 = Monday) and hours are the finest grain.",
        "",
        "Files: " + ", ".join(files),
        "",
    ])


def _write(path: Path, text: str) -> None:
    """Atomic per file: a reader never sees half a table."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def export_aggregates(analytics: Path, out_dir: Path, suppression: Suppression | None = None) -> list[Path]:
    """Write <out_dir>/<mart>.csv for each aggregate mart and README.txt (each file atomically); nothing else
    in the folder is touched. Returns the files written."""
    if not analytics.exists():
        raise FileNotFoundError(f"analytics database {analytics} does not exist: has the journeys DAG published?")
    sup = suppression or Suppression.from_env()
    with duckdb.connect(str(analytics), read_only=True) as con:
        tables = {agg.mart: _shareable(_read(con, agg), agg, sup) for agg in AGGREGATES}
        period = con.execute("select min(occurred_local_date), max(occurred_local_date) from fct_contacts").fetchone()
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [f"{mart}.csv" for mart in tables]
    for mart, table in tables.items():
        _write(out_dir / f"{mart}.csv", table.to_csv(index=False, quoting=csv.QUOTE_MINIMAL))
    _write(out_dir / "README.txt", _readme(analytics, sup, period, names))
    return [out_dir / n for n in [*names, "README.txt"]]
