"""Local opening hours against UTC instants.

Staffing is local (Europe/London) but the simulation runs in UTC, so every question "is the phone line open?"
goes through here, and so do the clock changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
UTC = UTC


def local(t: datetime) -> datetime:
    return t.astimezone(LONDON)


def at_local(day: date, hours: float) -> datetime:
    """UTC instant of a local wall-clock time; a time in the skipped March hour moves forward, as clocks do."""
    h = int(hours)
    m = int(round((hours - h) * 60))
    if m == 60:
        h, m = h + 1, 0
    wall = datetime.combine(day, time(h % 24, m), tzinfo=LONDON) + timedelta(days=h // 24)
    return wall.astimezone(UTC)


def is_open(t: datetime, hours: tuple[float, float]) -> bool:
    lt = local(t)
    if lt.weekday() >= 5:
        return False
    h = lt.hour + lt.minute / 60 + lt.second / 3600
    return hours[0] <= h < hours[1]


def next_open(t: datetime, hours: tuple[float, float]) -> datetime:
    """The instant the service is next open (t itself if open now)."""
    if is_open(t, hours):
        return t
    lt = local(t)
    day = lt.date()
    if lt.weekday() < 5 and lt.hour + lt.minute / 60 < hours[0]:
        return at_local(day, hours[0])
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return at_local(day, hours[0])


def add_working_hours(t: datetime, work_hours: float, hours: tuple[float, float]) -> datetime:
    """Advance through opening hours only: how back-office queues turn work round."""
    t = next_open(t, hours)
    remaining = work_hours
    while True:
        close = at_local(local(t).date(), hours[1])
        available = (close - t).total_seconds() / 3600
        if remaining <= available:
            return t + timedelta(hours=remaining)
        remaining -= available
        t = next_open(close + timedelta(seconds=1), hours)
