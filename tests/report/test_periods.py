"""The periods a reader picks (joinedup.report.periods) and the opening hours stated beside the out-of-hours chart
(joinedup.report.hours): pure functions, checked on the edges that matter (a one-day month, a quarter the data
starts inside, runs of weekdays)."""

from __future__ import annotations

from datetime import date

import pytest

from joinedup.report.hours import describe_week
from joinedup.report.periods import periods


def test_whole_period_quarters_and_months_with_partial_ones_marked() -> None:
    ps = periods(date(2025, 3, 3), date(2025, 5, 1))
    assert [p.id for p in ps] == ["all", "2025-Q1", "2025-Q2", "2025-03", "2025-04", "2025-05"]
    whole, q1, q2, march, april, may = ps
    assert not whole.partial and whole.months == (date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1))
    assert q1.months == (date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)) and q1.coverage_note == "29 of 90 days"
    assert may.long_label == "May 2025 (1 of 31 days)" and not april.partial and april.long_label == "April 2025"
    assert (q1.previous, q2.previous, march.previous, april.previous, may.previous) == (None, "2025-Q1", None,
                                                                                        "2025-03", "2025-04")


def test_a_year_across_new_year() -> None:
    ps = periods(date(2024, 12, 31), date(2025, 1, 1))
    assert [p.id for p in ps] == ["all", "2024-Q4", "2025-Q1", "2024-12", "2025-01"]
    assert ps[3].coverage_note == "1 of 31 days" and ps[4].previous == "2024-12"
    with pytest.raises(ValueError):
        periods(date(2025, 1, 2), date(2025, 1, 1))


def test_opening_hours_are_written_as_runs_of_days() -> None:
    weekdays = {d: "08:30–17:00" for d in range(1, 6)}
    assert describe_week(weekdays) == "Mon–Fri 08:30–17:00"
    assert describe_week({**weekdays, 3: "10:00–17:00", 6: "09:00–12:00"}) == \
        "Mon–Tue 08:30–17:00, Wed 10:00–17:00, Thu–Fri 08:30–17:00, Sat 09:00–12:00"
    assert describe_week({d: None for d in range(1, 8)}) == "closed"
