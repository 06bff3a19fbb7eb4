"""Every chart's counts, read once from the analytics file and grouped by service and local month: the cells the
page's views (service x period) are summed from.

Why cells and not a query per view: a page has a view for every service and period (about 190 on a council year)
and ten charts; querying each would take minutes on millions of contacts. Every count is additive over service
and month, so one grouped read per chart is enough and a view is a sum of its cells (joinedup.report.views).
Figures that are not additive (medians) are replaced by counts per time band.

One definition of each metric: the aggregate marts' SQL is published in `mart_definitions` (the dbt macros the
marts call). Here each definition is bound, with `scope.bind`, to a *correlated* input, the contacts of one
(service, month) cell, and run as a LATERAL subquery over the cells: DuckDB decorrelates it into one grouped
query, and each cell's result is exactly what the mart computes on that cell's contacts (tests check that the
cells sum to the published marts). The row-level facts (journeys, switches) are grouped directly.

The connection may carry a CLI scope's filtered views (`scope.restrict`): the cells are then made within it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import duckdb
import pandas as pd

from joinedup.report.scope import bind, definitions, read_ordered

STEPS = 4  # journey steps the Sankey follows
SWITCH_TIME_BANDS = (  # label, upper bound in minutes: the report's time bands (switch timing, example journeys)
    ("< 15 min", 15), ("15–60 min", 60), ("1–4 h", 240), ("4–24 h", 1440), ("1–3 days", 4320),
    ("3–7 days", 10080), ("> 7 days", None),
)
EXAMPLE_MAX_CONTACTS = 5  # example journeys are drawn from switching journeys of 2 to this many contacts
COUNTS = {  # each frame's additive columns (the rest are its dimensions)
    "transitions": ["transitions"], "sla": ["contacts", "met"],
    "repeat": ["contacts", "repeat_contacts", "failure_demand_contacts", "failure_demand_cost_gbp"],
    "shift": ["contacts", "cost_gbp"], "out_of_hours": ["contacts", "out_of_hours_contacts"], "links": ["journeys"],
    "journeys": ["journeys", "single_contact", "one_channel", "longer_collapsed", "longer_every"],
    "switch_bands": ["switches"], "switch_pairs": ["switches"], "patterns": ["journeys"],
}
DIMENSIONS = {
    "transitions": ["from_channel", "to_channel"], "sla": ["channel", "platform", "sla_name", "weekday", "hour"],
    "repeat": ["service"], "shift": ["channel"], "out_of_hours": ["bank_holiday", "channel", "weekday", "hour"],
    "links": ["kind", "step", "source", "target"], "journeys": [], "switch_bands": ["switch_trigger", "band"],
    "switch_pairs": ["from_channel", "to_channel", "switch_trigger"], "patterns": ["pattern"],
}


def band_sql(minutes: str) -> str:
    """The SQL case naming the SWITCH_TIME_BANDS band of a number of minutes."""
    cases = " ".join(f"when {minutes} < {ub} then '{label}'" for label, ub in SWITCH_TIME_BANDS if ub)
    return f"case {cases} else '{SWITCH_TIME_BANDS[-1][0]}' end"


@dataclass(frozen=True)
class Cells:
    """The counts behind every chart, each frame with `service` and `month` (first of the month, datetime64: the
    views select months by it, fast) columns."""

    first_day: date
    last_day: date
    services: list[str]
    transitions: pd.DataFrame  # from_channel, to_channel, transitions
    sla: pd.DataFrame  # channel, platform, sla_name, weekday, hour, contacts, met
    repeat: pd.DataFrame  # contacts, repeat_contacts, failure_demand_contacts, failure_demand_cost_gbp
    shift: pd.DataFrame  # channel, contacts, cost_gbp
    out_of_hours: pd.DataFrame  # bank_holiday, channel, weekday, hour, contacts, out_of_hours_contacts
    links: pd.DataFrame  # kind ("collapsed" | "every"), step, source, target, journeys
    journeys: pd.DataFrame  # journeys, single_contact, one_channel, longer_collapsed, longer_every
    switch_bands: pd.DataFrame  # switch_trigger, band, switches
    switch_pairs: pd.DataFrame  # from_channel, to_channel, switch_trigger, switches
    patterns: pd.DataFrame  # pattern, journeys

    def of_service(self, service: str | None) -> Cells:
        """The cells of one service, or (None) of all services summed by month: what a service's views are
        summed from, made once per service rather than once per view."""
        def one(name: str) -> pd.DataFrame:
            df = getattr(self, name)
            if service is not None:
                return df[df["service"] == service]
            return df.groupby(["month", *DIMENSIONS[name]], as_index=False, sort=False, dropna=False)[
                COUNTS[name]].sum()
        return replace(self, **{name: one(name) for name in COUNTS})


def _source(con: duckdb.DuckDBPyConnection) -> str:
    db = con.execute("select current_database()").fetchone()[0]
    return f'"{db.replace(chr(34), chr(34) * 2)}".main'


def _by_cell(con: duckdb.DuckDBPyConnection, mart_sql: str, journey_contacts: str, bank_holiday: bool = False
             ) -> pd.DataFrame:
    """A published mart definition run on each (service, month) cell's contacts (and, with `bank_holiday`,
    each cell split by whether the local date is a bank holiday of England and Wales)."""
    extra = (" left join dim_date d on d.date_day = c.occurred_local_date", ", coalesce(d.is_bank_holiday, false)",
             " and coalesce(d.is_bank_holiday, false) = cell.bank_holiday") if bank_holiday else ("", "", "")
    cells = f"(select distinct c.service, c.occurred_month{extra[1]}{' as bank_holiday' * bank_holiday} " \
            f"from fct_contacts c{extra[0]}) as cell"
    cell_contacts = (f"(select c.* from fct_contacts c{extra[0]} where c.service = cell.service "
                     f"and c.occurred_month = cell.occurred_month{extra[2]})")
    bound = bind(mart_sql, {"contacts": cell_contacts, "journey_contacts": journey_contacts})
    columns = "cell.service as cell_service, cell.occurred_month as cell_month" + \
        (", cell.bank_holiday as cell_bank_holiday" if bank_holiday else "")
    return _tidy(read_ordered(con, f"select {columns}, mart.* from {cells}, lateral ({bound}) as mart"))


def _by_service(con: duckdb.DuckDBPyConnection, mart_sql: str, journey_contacts: str) -> pd.DataFrame:
    """A published definition that pairs consecutive contacts (transitions) run on each service's contacts, the
    month taken from the definition's own `occurred_month` (the later contact's). Cells of one service suffice:
    a journey is one person's contacts about one service, so both contacts of a pair share it; pairing each
    service's journeys apart is also what keeps this one grouped query (a correlated month would make DuckDB pair
    the whole file once per cell)."""
    bound = bind(mart_sql, {
        "contacts": "(select c.* from fct_contacts c where c.service = cell.service)",
        "journey_contacts": f"(select j.* from {journey_contacts} j where j.service = cell.service)"})
    return _tidy(read_ordered(con, "select cell.service as cell_service, mart.occurred_month as cell_month, mart.* "
                              f"from (select distinct service from fct_contacts) as cell, lateral ({bound}) as mart"))


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns=[c for c in ("service", "occurred_month", "bank_holiday") if c in df.columns])
    df = df.rename(columns={"cell_service": "service", "cell_month": "month", "cell_bank_holiday": "bank_holiday",
                            "occurred_local_weekday": "weekday", "occurred_local_hour": "hour"})
    df["month"] = pd.to_datetime(df["month"])
    return df


def _grouped(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    df = read_ordered(con, sql)
    df["month"] = pd.to_datetime(df["month"])
    return df


def _links_sql(kind: str, column: str) -> str:
    return f"""
        with paths as (
            select service, started_month as month, string_split({column}, '>')[1:{STEPS}] as path,
                   count(*) as journeys
            from fct_journeys group by all
        )
        select service, month, '{kind}' as kind, i as step, path[i] as source, path[i + 1] as target,
               sum(journeys)::bigint as journeys
        from paths, range(1, {STEPS}) as r(i) where len(path) > i group by all"""


def read_cells(con: duckdb.DuckDBPyConnection) -> Cells:
    """Every chart's counts by (service, month), from the connection's fct_* and marts (a scope's views or the
    published tables)."""
    first, last = con.execute("select min(occurred_local_date), max(occurred_local_date) from fct_contacts"
                              ).fetchone()
    services = [r[0] for r in con.execute("select distinct service from fct_contacts order by 1").fetchall()]
    marts = definitions(con)
    whole_journeys = f"{_source(con)}.fct_contacts"  # pairs are formed over whole journeys, as in the mart

    transitions = _by_service(con, marts["mart_channel_transitions"], whole_journeys)
    sla = _by_cell(con, marts["mart_response_sla"], whole_journeys)
    repeat = _by_cell(con, marts["mart_repeat_contact"], whole_journeys)
    shift = _by_cell(con, marts["mart_channel_shift"], whole_journeys)
    out_of_hours = _by_cell(con, marts["mart_out_of_hours"], whole_journeys, bank_holiday=True)

    links = _grouped(con, f"select * from ({_links_sql('collapsed', 'channel_path_collapsed')}) union all "
                          f"select * from ({_links_sql('every', 'channel_path')})")
    journeys = _grouped(con, f"""
        select service, started_month as month, count(*) as journeys,
               count(*) filter (contacts = 1) as single_contact,
               count(*) filter (contacts > 1 and channels = 1) as one_channel,
               count(*) filter (len(string_split(channel_path_collapsed, '>')) > {STEPS}) as longer_collapsed,
               count(*) filter (len(string_split(channel_path, '>')) > {STEPS}) as longer_every
        from fct_journeys group by all""")
    switch_bands = _grouped(con, f"""
        select service, occurred_month as month, switch_trigger, {band_sql('minutes_between')} as band,
               count(*) as switches
        from fct_channel_switches group by all""")
    switch_pairs = _grouped(con, """
        select service, occurred_month as month, from_channel, to_channel, switch_trigger, count(*) as switches
        from fct_channel_switches group by all""")
    # an example journey's pattern: each step's channel and outcome and the time since the step before, in the
    # report's bands; no date, time or key (the steps come from the whole journey, as the Sankey's paths do)
    patterns = _grouped(con, f"""
        with kept as (
            select journey_id, service, started_month from fct_journeys
            where has_channel_switch and contacts <= {EXAMPLE_MAX_CONTACTS}
        ),
        steps as (
            select k.service, k.started_month, c.journey_id, c.contact_sequence, c.channel, c.outcome,
                   epoch(c.occurred_at_utc - lag(c.occurred_at_utc) over (
                       partition by c.journey_id order by c.contact_sequence)) / 60 as minutes
            from {whole_journeys} c join kept k using (journey_id)
        ),
        journeys as (
            select any_value(service) as service, any_value(started_month) as month,
                   string_agg(channel || '|' || outcome || '|' || case when minutes is null then ''
                       else {band_sql('minutes')} end, ';' order by contact_sequence) as pattern
            from steps group by journey_id
        )
        select service, month, pattern, count(*) as journeys from journeys group by all""")
    frames = {"transitions": transitions, "sla": sla, "repeat": repeat, "shift": shift, "out_of_hours": out_of_hours,
              "links": links, "journeys": journeys, "switch_bands": switch_bands, "switch_pairs": switch_pairs,
              "patterns": patterns}
    return Cells(first, last, services, **{
        name: df[list(dict.fromkeys(["service", "month", *DIMENSIONS[name], *COUNTS[name]]))]
        for name, df in frames.items()})
