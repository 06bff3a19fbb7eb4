"""Local wall-clock time -> UTC, with the clock changes handled as the data contract says.

- Repeated hour (last Sunday of October, 01:00-01:59 happens twice): for the column that carries the file's
  chronological order, rows are read as the first pass (BST) until the local time steps backwards inside
  the hour, and as the second pass (GMT) from then on. Without such evidence a time is read as the first
  pass, the earlier instant, and a warning is recorded. Other columns (e.g. a reply time) always take the
  earlier instant, with a warning.
- Skipped hour (last Sunday of March, 01:00-01:59 never happens): read as the clock still running (GMT),
  with a warning.

One `LocalClock` per file, because the file-order evidence must not leak between files.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


class LocalClock:
    def __init__(self, tz: str) -> None:
        self.zone = ZoneInfo(tz)
        self._last_in_fold: dict[date, datetime] = {}
        self._second_pass: dict[date, int] = {}  # day -> source row where the clock stepped back
        self.notes: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        self._offsets: dict[tuple[int, int, int, int], tuple[timedelta | None, timedelta | None]] = {}

    def to_utc(self, local: datetime, field: str, row: int, ordered: bool) -> datetime:
        """Naive local -> naive UTC."""
        hour = (local.year, local.month, local.day, local.hour)
        offsets = self._offsets.get(hour)
        if offsets is None:
            offsets = self._offsets[hour] = (local.replace(tzinfo=self.zone, fold=0).utcoffset(),
                                             local.replace(tzinfo=self.zone, fold=1).utcoffset())
        first, second = offsets
        if first == second:
            return local - first  # type: ignore[operator]
        day = local.date()
        if first < second:  # type: ignore[operator]  # gap: the time never happened; the old clock still ran
            self.notes[("nonexistent", field, day.isoformat())].append(row)
            return local - first  # type: ignore[operator]
        # fold: first pass (summer time, bigger offset) or second pass
        if ordered:
            if day not in self._second_pass:
                last = self._last_in_fold.get(day)
                if last is not None and local < last:
                    self._second_pass[day] = row
                else:
                    self._last_in_fold[day] = local
                    self.notes[("ambiguous_first", field, day.isoformat())].append(row)
                    return local - first  # type: ignore[operator]
            self.notes[("ambiguous_second", field, day.isoformat())].append(row)
            return local - second  # type: ignore[operator]
        self.notes[("ambiguous_unordered", field, day.isoformat())].append(row)
        return local - first  # type: ignore[operator]

    def warnings(self) -> list[str]:
        """What was decided about clock-change times in this file, one line per decision and day."""
        out = []
        for (kind, field, day), seen in sorted(self.notes.items()):
            rows = sorted(set(seen))  # a row re-read to collect all its errors is counted once
            rows_txt = _rows(rows)
            if kind == "nonexistent":
                out.append(f"field {field}: {len(rows)} time(s) in the skipped hour on {day} (rows {rows_txt}) "
                           "do not exist locally; read as GMT (the clock had not changed yet)")
            elif kind == "ambiguous_first":
                second = self._second_pass.get(date.fromisoformat(day))
                if second is None:
                    out.append(f"field {field}: {len(rows)} time(s) in the repeated hour on {day} (rows {rows_txt}) "
                               "read as BST, the earlier instant: the file gives no step back to show a second pass")
                else:
                    out.append(f"field {field}: rows {rows_txt} in the repeated hour on {day} read as BST "
                               f"(first pass; the clock stepped back at row {second})")
            elif kind == "ambiguous_second":
                out.append(f"field {field}: rows {rows_txt} in the repeated hour on {day} read as GMT "
                           "(second pass, after the local time stepped back)")
            else:
                out.append(f"field {field}: {len(rows)} time(s) in the repeated hour on {day} (rows {rows_txt}) "
                           "read as BST, the earlier instant (column carries no file order)")
        return out


def _rows(rows: list[int], limit: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f", ... ({len(rows) - limit} more)" if len(rows) > limit else "")


def local_midnight_utc(day: date, tz: str) -> datetime:
    """Naive UTC instant at which local `day` starts."""
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))
    return (start - start.utcoffset()).replace(tzinfo=None) if start.utcoffset() else start.replace(tzinfo=None)


ONE_DAY = timedelta(days=1)
