"""Every figure the report shows, as SQL against the published analytics file.

Aggregation happens here, in DuckDB: the page never carries row-level data, so a council year stays small.
Each function takes an open (read-only) connection and returns a DataFrame or a small dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

STEPS = 4  # journey steps the Sankey follows
SWITCH_TIME_BINS = (  # label, upper bound in minutes
    ("< 15 min", 15), ("15–60 min", 60), ("1–4 h", 240), ("4–24 h", 1440), ("1–3 days", 4320), ("3–7 days", 10080),
    ("> 7 days", None),
)


@dataclass(frozen=True)
class Headline:
    first_day: date
    last_day: date
    contacts: int
    journeys: int
    switching_journey_share: float  # journeys with at least one channel switch / all journeys
    switches: int
    unanswered_switch_share: float  # switches whose previous contact went unanswered / all switches


def headline(con: duckdb.DuckDBPyConnection) -> Headline:
    first, last, contacts = con.execute(
        "select min(occurred_local_date), max(occurred_local_date), count(*) from fct_contacts").fetchone()
    journeys, switching = con.execute(
        "select count(*), coalesce(avg(has_channel_switch::int), 0) from fct_journeys").fetchone()
    switches, unanswered = con.execute(
        "select count(*), coalesce(avg((switch_trigger = 'unanswered')::int), 0) from fct_channel_switches"
    ).fetchone()
    return Headline(first, last, contacts, journeys, float(switching), switches, float(unanswered))


def sankey_links(con: duckdb.DuckDBPyConnection, collapsed: bool = True, steps: int = STEPS) -> pd.DataFrame:
    """Journeys flowing from the channel at step i to the channel at step i+1, for the first `steps` steps."""
    column = "channel_path_collapsed" if collapsed else "channel_path"
    return con.execute(f"""
        with paths as (
            select string_split({column}, '>')[1:{steps}] as path, count(*) as journeys
            from fct_journeys group by 1
        ),
        steps as (
            select path[i] as source, path[i + 1] as target, i as step, journeys
            from paths, range(1, {steps}) as r(i)
            where len(path) > i
        )
        select step, source, target, sum(journeys)::bigint as journeys
        from steps group by all order by step, journeys desc, source, target""").df()


def transition_matrix(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Consecutive contacts in a journey, from channel × to channel, over the whole period, with each cell's share
    of its from channel (computed here, on the exact counts, so suppression can withhold it by cell)."""
    return con.execute("""
        select from_channel, to_channel, sum(transitions)::bigint as transitions,
               sum(transitions) / sum(sum(transitions)) over (partition by from_channel) as share
        from mart_channel_transitions group by 1, 2 order by 1, 2""").df()


def switch_times(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Switches per trigger and time-to-switch band (bands from SWITCH_TIME_BINS), with each band's share of the
    trigger's switches."""
    cases = " ".join(f"when minutes_between < {ub} then '{label}'" for label, ub in SWITCH_TIME_BINS if ub)
    order = " ".join(f"when '{label}' then {i}" for i, (label, _) in enumerate(SWITCH_TIME_BINS))
    return con.execute(f"""
        with banded as (
            select switch_trigger,
                   case {cases} else '{SWITCH_TIME_BINS[-1][0]}' end as band
            from fct_channel_switches
        )
        select switch_trigger, band, count(*) as switches, any_value(case band {order} end) as band_order,
               count(*) / sum(count(*)) over (partition by switch_trigger) as share
        from banded group by 1, 2 order by switch_trigger, band_order""").df()


def switch_pairs_by_trigger(con: duckdb.DuckDBPyConnection, top: int = 8) -> pd.DataFrame:
    """The commonest from → to switches with their trigger (e.g. unanswered social → phone)."""
    return con.execute(f"""
        with pairs as (
            select from_channel, to_channel, count(*) as pair_switches
            from fct_channel_switches group by all order by 3 desc, 1, 2 limit {top}
        )
        select s.from_channel || ' → ' || s.to_channel as switch, s.switch_trigger, count(*) as switches,
               median(s.minutes_between) as median_minutes, any_value(p.pair_switches) as pair_switches
        from fct_channel_switches s join pairs p using (from_channel, to_channel)
        group by all order by pair_switches desc, switch, switches desc""").df()


def sla_by_hour(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Attainment of every response target by local hour (all weekdays)."""
    return con.execute("""
        select channel || case when platform = 'all' then '' else ' ' || platform end || ' · ' || sla_name
                   as target, target_minutes, occurred_local_hour as hour,
               sum(met)::double / sum(contacts) as attainment, sum(contacts)::bigint as contacts
        from mart_response_sla group by all order by 1, 3""").df()


def social_sla_by_weekday_hour(con: duckdb.DuckDBPyConnection, sla_name: str = "reply_15m") -> pd.DataFrame:
    """Social posts answered within one target, by local weekday × hour (1 = Monday)."""
    return con.execute("""
        select occurred_local_weekday as weekday, occurred_local_hour as hour,
               sum(met)::double / sum(contacts) as attainment, sum(contacts)::bigint as contacts
        from mart_response_sla where channel = 'social' and sla_name = ?
        group by all order by 1, 2""", [sla_name]).df()


def repeat_by_service(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("""
        select service, sum(contacts)::bigint as contacts,
               (sum(contacts) - sum(failure_demand_contacts))::bigint as first_contacts,
               sum(repeat_contacts)::bigint as repeat_contacts,
               sum(failure_demand_contacts)::bigint as failure_demand_contacts,
               sum(failure_demand_contacts)::double / sum(contacts) as failure_demand_rate,
               sum(failure_demand_cost_gbp) as failure_demand_cost_gbp
        from mart_repeat_contact group by 1 order by failure_demand_contacts desc""").df()


def channel_shift(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("""
        select occurred_month as month, channel, contacts, channel_share, cost_per_contact_gbp,
               sum(contacts) over (partition by occurred_month)::bigint as month_contacts, month_cost_per_contact_gbp
        from mart_channel_shift order by 1, 2""").df()


def out_of_hours(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("""
        select occurred_local_weekday as weekday, occurred_local_hour as hour, sum(contacts)::bigint as contacts,
               sum(out_of_hours_contacts)::bigint as out_of_hours_contacts
        from mart_out_of_hours group by all order by 1, 2""").df()
