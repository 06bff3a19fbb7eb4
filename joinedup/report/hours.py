"""Opening hours and bank holidays as the page states them, from the published `dim_opening_hours` and
`dim_date` (the same tables that make `fct_contacts.is_out_of_hours`).

Why: an out-of-hours share means little without the hours it is measured against; each channel's usual hours in
the report's period ("Mon–Fri 08:30–17:00") and the bank holidays of England and Wales it closes on are shown
beside the chart. A channel's usual hours are the commonest per weekday over the period's ordinary days.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import duckdb

DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def describe_week(by_weekday: dict[int, str | None]) -> str:
    """{1: "08:30–17:00", ..., 6: None} -> "Mon–Fri 08:30–17:00" (runs of weekdays with the same hours)."""
    runs: list[tuple[int, int, str]] = []
    for day in range(1, 8):
        hours = by_weekday.get(day)
        if hours is None:
            continue
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], day, hours)
        else:
            runs.append((day, day, hours))
    if not runs:
        return "closed"
    return ", ".join(f"{DAYS[a - 1]}{'' if a == b else '–' + DAYS[b - 1]} {h}" for a, b, h in runs)


def opening_hours(con: duckdb.DuckDBPyConnection, first: date, last: date) -> dict[str, str]:
    """Each channel's usual opening hours over the period's days that are not bank holidays."""
    rows = con.execute("""
        select o.channel, isodow(o.date_day),
               case when o.is_open then strftime(o.opens_at_local, '%H:%M') || '–' || strftime(o.closes_at_local, '%H:%M')
               end
        from dim_opening_hours o left join dim_date d using (date_day)
        where o.date_day between ? and ? and not coalesce(d.is_bank_holiday, false)""", [first, last]).fetchall()
    seen: dict[str, dict[int, Counter]] = {}
    for channel, weekday, hours in rows:
        seen.setdefault(channel, {}).setdefault(weekday, Counter())[hours] += 1
    return {ch: describe_week({d: c.most_common(1)[0][0] for d, c in days.items()}) for ch, days in seen.items()}


def bank_holidays(con: duckdb.DuckDBPyConnection, first: date, last: date) -> list[tuple[date, str]]:
    return con.execute("""select date_day, bank_holiday_name from dim_date
                          where is_bank_holiday and date_day between ? and ? order by 1""", [first, last]).fetchall()
