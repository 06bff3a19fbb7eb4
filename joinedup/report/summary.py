"""Headline figures from the published analytics file: what `make demo` prints at the end.

Reads only the analytics file (the BI users' view), read-only, so the figures are exactly what BI users see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from joinedup.report.estimate import HeadlineEstimates, headline_estimates, load_inputs


@dataclass(frozen=True)
class SlaFigure:
    platform: str
    posts: int
    within_15m: float
    within_2h: float


@dataclass
class PipelineSummary:
    analytics: Path
    first_day: str
    last_day: str
    contacts: int
    persons: int
    registered_persons: int
    contacts_linked_to_register: float
    journeys: int
    switching_journeys: float
    top_switch_paths: list[tuple[str, int]] = field(default_factory=list)
    social_sla: list[SlaFigure] = field(default_factory=list)
    estimates: HeadlineEstimates | None = None  # observed and estimated shares, and their coverage


def summarise(analytics: Path, top: int = 5) -> PipelineSummary:
    with duckdb.connect(str(analytics), read_only=True) as con:
        contacts, share_reg, first, last = con.execute(
            """select count(*), avg(p.is_registered::int), min(c.occurred_local_date), max(c.occurred_local_date)
               from fct_contacts c join dim_persons p using (person_key)""").fetchone()
        persons, registered = con.execute("select count(*), count(*) filter (is_registered) from dim_persons"
                                          ).fetchone()
        journeys, switching = con.execute("select count(*), avg(has_channel_switch::int) from fct_journeys"
                                          ).fetchone()
        # a switch path: the collapsed channel path of a journey that changed channel
        paths = con.execute(
            """select channel_path_collapsed, count(*) as n from fct_journeys where has_channel_switch
               group by 1 order by n desc, 1 limit ?""", [top]).fetchall()
        sla = con.execute(
            """select coalesce(platform, 'all'), count(*),
                      avg(coalesce(response_seconds <= 15 * 60, false)::int),
                      avg(coalesce(response_seconds <= 120 * 60, false)::int)
               from fct_contacts where channel = 'social' and direction = 'inbound'
               group by rollup (platform) order by 1""").fetchall()
        estimates = headline_estimates(load_inputs(con))
    return PipelineSummary(
        analytics=analytics, first_day=str(first), last_day=str(last), contacts=contacts, persons=persons,
        registered_persons=registered, contacts_linked_to_register=share_reg or 0.0, journeys=journeys,
        switching_journeys=switching or 0.0, top_switch_paths=[(p, n) for p, n in paths],
        social_sla=[SlaFigure(p, n, a or 0.0, b or 0.0) for p, n, a, b in sla], estimates=estimates,
    )
