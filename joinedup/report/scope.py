"""Service and date filters for the report.

The report's queries read the marts by name. A filtered report shadows those names, on its own read-only
connection, with temporary views that re-derive each mart from the filtered contacts (the same SQL as the dbt
models), so every query in `queries` runs unchanged and the published file is never written. Unfiltered, the
marts are read as published.

What a filter keeps: contacts about the service whose local date is in the period; journeys about the service
that started in the period; switches and transitions whose later contact is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb


@dataclass(frozen=True)
class Scope:
    service: str | None = None
    start: date | None = None  # local (Europe/London) dates, inclusive
    end: date | None = None

    @property
    def is_everything(self) -> bool:
        return self.service is None and self.start is None and self.end is None

    def describe(self) -> str:
        return "all services" if self.service is None else f"service: {self.service.replace('_', ' ')}"

    def __str__(self) -> str:
        dates = [f"from {self.start:%-d %b %Y}" if self.start else "", f"to {self.end:%-d %b %Y}" if self.end else ""]
        return " ".join([self.describe(), *filter(None, dates)])


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def contact_filter(scope: Scope, date_column: str = "occurred_local_date") -> str:
    """A SQL condition on fct_contacts' columns keeping the scope's contacts."""
    conditions = ["true"]
    if scope.service is not None:
        conditions.append(f"service = {_literal(scope.service)}")
    if scope.start is not None:
        conditions.append(f"{date_column} >= date '{scope.start.isoformat()}'")
    if scope.end is not None:
        conditions.append(f"{date_column} <= date '{scope.end.isoformat()}'")
    return " and ".join(conditions)


def _views(db: str, scope: Scope) -> dict[str, str]:
    src = f'"{db.replace(chr(34), chr(34) * 2)}".main'
    keep = contact_filter(scope)
    # order matters: later views read the filtered fct_contacts view by its unqualified name
    return {
        "fct_contacts": f"select * from {src}.fct_contacts where {keep}",
        "fct_journeys": f"""select * from {src}.fct_journeys where journey_id in (
            select journey_id from {src}.fct_contacts where contact_sequence = 1 and {keep})""",
        "fct_channel_switches": f"""select * from {src}.fct_channel_switches
            where to_contact_key in (select contact_key from fct_contacts)""",
        # int_contact_transitions + mart_channel_transitions: pairs over the whole journey, kept by later contact
        "mart_channel_transitions": f"""
            with pairs as (
                select person_key, contact_key, occurred_month, occurred_at,
                       lag(channel) over by_journey as from_channel, channel as to_channel,
                       lag(occurred_at) over by_journey as from_occurred_at
                from {src}.fct_contacts
                window by_journey as (partition by journey_id order by contact_sequence)
            )
            select occurred_month, from_channel, to_channel, from_channel <> to_channel as is_channel_switch,
                   count(*) as transitions, count(distinct person_key) as persons,
                   median(epoch(occurred_at - from_occurred_at) / 60.0) as median_minutes_between
            from pairs
            where from_channel is not null and contact_key in (select contact_key from fct_contacts)
            group by all""",
        # mart_response_sla, its targets read back from the published mart (the seed is not published)
        "mart_response_sla": f"""
            with targets as (select distinct channel, platform, sla_name, target_minutes from {src}.mart_response_sla),
            judged as (
                select c.channel, t.platform, t.sla_name, t.target_minutes, c.occurred_local_weekday,
                       c.occurred_local_hour, c.is_out_of_hours, c.is_responded,
                       coalesce(c.response_seconds <= t.target_minutes * 60, false) as is_met
                from fct_contacts c join targets t
                  on c.channel = t.channel and (t.platform = 'all' or t.platform = c.platform)
            )
            select channel, platform, sla_name, target_minutes, occurred_local_weekday, occurred_local_hour,
                   bool_or(is_out_of_hours) as is_out_of_hours, count(*) as contacts,
                   count(*) filter (where is_responded) as responded, count(*) filter (where is_met) as met,
                   count(*) filter (where is_met) / count(*) as attainment
            from judged group by all""",
        "mart_repeat_contact": """
            select service, occurred_month, count(*) as contacts,
                   count(*) filter (where is_repeat_contact) as repeat_contacts,
                   count(*) filter (where is_failure_demand) as failure_demand_contacts,
                   count(*) filter (where is_repeat_contact) / count(*) as repeat_rate,
                   count(*) filter (where is_failure_demand) / count(*) as failure_demand_rate,
                   coalesce(sum(cost_gbp) filter (where is_failure_demand), 0) as failure_demand_cost_gbp
            from fct_contacts group by all""",
        "mart_channel_shift": """
            with by_channel as (
                select occurred_month, channel, count(*) as contacts, sum(cost_gbp) as cost_gbp
                from fct_contacts group by all
            )
            select occurred_month, channel, contacts,
                   contacts / sum(contacts) over (partition by occurred_month) as channel_share,
                   cost_gbp, cost_gbp / contacts as cost_per_contact_gbp,
                   sum(cost_gbp) over (partition by occurred_month)
                       / sum(contacts) over (partition by occurred_month) as month_cost_per_contact_gbp
            from by_channel""",
        "mart_out_of_hours": """
            select channel, occurred_local_weekday, occurred_local_hour, count(*) as contacts,
                   count(*) filter (where is_out_of_hours) as out_of_hours_contacts,
                   count(*) filter (where is_out_of_hours) / count(*) as out_of_hours_share
            from fct_contacts group by all""",
    }


def restrict(con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    """Shadow the marts on this connection with views over the scope's contacts (temporary: nothing is
    written to the file, which stays read-only). Raises ValueError when the scope keeps no contact."""
    if scope.is_everything:
        return
    if scope.service is not None:
        services = [r[0] for r in con.execute("select distinct service from fct_contacts order by 1").fetchall()]
        if scope.service not in services:
            raise ValueError(f"no contacts about service {scope.service!r}; services: {', '.join(services)}")
    db = con.execute("select current_database()").fetchone()[0]
    for name, sql in _views(db, scope).items():
        con.execute(f"create or replace temp view {name} as {sql}")
    if con.execute("select count(*) from fct_contacts").fetchone()[0] == 0:
        raise ValueError(f"no contacts for {scope}")
