"""Dates of birth and birth-year candidates read from digit runs."""

from __future__ import annotations

import re
from datetime import date

_ISO = re.compile(r"^(\d{4})-?(\d{1,2})-?(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
MIN_AGE, MAX_AGE = 13, 105


def normalise_dob(raw: object) -> str | None:
    """'YYYYMMDD' digits from ISO or UK day-first spellings.

    Impossible dates (e.g. 30 Feb) are kept: they are usually typos of a real date and still
    agree on year and month.
    """
    if not isinstance(raw, str):
        return None
    s = raw.strip()
    m = _ISO.match(s)
    if m:
        y, mo, d = m.groups()
    else:
        m = _DMY.match(s)
        if not m:
            return None
        d, mo, y = m.groups()
    if not (1880 <= int(y) <= 2100):
        return None
    return f"{y}{int(mo):02d}{int(d):02d}"


def year_candidates(digits: str, today: date | None = None) -> list[int]:
    """Birth years a digit run could spell: '52' -> [1952], '1987' -> [1987], '07' -> [2007]."""
    year_now = (today or date.today()).year
    lo, hi = year_now - MAX_AGE, year_now - MIN_AGE
    if len(digits) == 4:
        y = int(digits)
        return [y] if lo <= y <= hi else []
    if len(digits) == 2:
        n = int(digits)
        return [y for y in (1900 + n, 2000 + n) if lo <= y <= hi]
    return []
