"""The periods a reader can pick in the page: the whole period, each calendar quarter and each calendar month
the data touches (local, Europe/London dates).

Why calendar periods with a partial mark rather than rolling windows: service designers compare months and
quarters, and the marts are by local month; but data rarely starts on the 1st, so a month or quarter the data
covers only in part says so ("May 2025: 1 of 31 days") instead of passing for a whole one next to whole ones.
Pure functions: the data's first and last day in, the periods out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

ALL = "all"


def month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@dataclass(frozen=True)
class Period:
    id: str  # "all", "2025-Q2", "2025-04"
    kind: str  # "all" | "quarter" | "month"
    label: str  # "April 2025", "Apr–Jun 2025", "3 Mar 2025 to 1 May 2025"
    start: date  # the calendar period's first and last day (the data's, for the whole period)
    end: date
    covered_days: int  # days of the period within the data's range
    previous: str | None = None  # the period of the same kind just before, when the data has it

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def partial(self) -> bool:
        return self.covered_days < self.days

    @property
    def months(self) -> tuple[date, ...]:
        """First-of-month dates of the months it covers (the marts' `occurred_month`)."""
        out, m = [], month_start(self.start)
        while m <= self.end:
            out.append(m)
            m = _next_month(m)
        return tuple(out)

    @property
    def coverage_note(self) -> str:
        """"1 of 31 days" for a partial period, "" for a whole one."""
        return f"{self.covered_days} of {self.days} days" if self.partial else ""

    @property
    def long_label(self) -> str:
        return f"{self.label} ({self.coverage_note})" if self.partial else self.label


def _covered(start: date, end: date, first: date, last: date) -> int:
    return max(0, (min(end, last) - max(start, first)).days + 1)


def periods(first: date, last: date) -> list[Period]:
    """The whole period, then the quarters, then the months between the data's `first` and `last` local day."""
    if last < first:
        raise ValueError(f"the data's last day {last} is before its first {first}")
    whole = Period(ALL, ALL, f"{first:%-d %b %Y} to {last:%-d %b %Y}", first, last, (last - first).days + 1)
    quarters: list[Period] = []
    q = _quarter_start(first)
    while q <= last:
        end = date(q.year + (q.month + 2) // 12, (q.month + 2) % 12 + 1, 1) - timedelta(days=1)
        label = f"{q:%b}–{end:%b %Y}"
        quarters.append(Period(f"{q.year}-Q{(q.month - 1) // 3 + 1}", "quarter", label, q, end,
                               _covered(q, end, first, last), quarters[-1].id if quarters else None))
        q = end + timedelta(days=1)
    months: list[Period] = []
    m = month_start(first)
    while m <= last:
        end = _next_month(m) - timedelta(days=1)
        months.append(Period(f"{m:%Y-%m}", "month", f"{m:%B %Y}", m, end, _covered(m, end, first, last),
                             months[-1].id if months else None))
        m = _next_month(m)
    return [whole, *quarters, *months]
