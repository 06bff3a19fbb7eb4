"""Writes dbt_project/seeds/bank_holidays.csv: England and Wales bank holidays from the `holidays` package.

The seed is the calendar's source: dim_date spans every day of the years it covers (1 January of its first year
to 31 December of its last), and a contact whose local date falls outside them fails the dbt build
(int_contacts__linked's `covered_by_calendar` test) rather than being judged against a calendar with no bank
holidays. Regenerate it when the data reaches past its last year, or when a one-off bank holiday is announced
(the package adds them in a release):

    uv run python -m joinedup.bank_holidays                      # the default years
    uv run python -m joinedup.bank_holidays --first 2015 --last 2040

`holidays` is a development dependency only: the pipeline reads the committed seed, never the package.
"""

from __future__ import annotations

import argparse
import csv
import io
from datetime import date
from pathlib import Path

from joinedup.paths import PROJECT_ROOT

SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "bank_holidays.csv"
FIRST_YEAR, LAST_YEAR = 2015, 2035
# England and Wales share their bank holidays; the package's "ENG" subdivision is both (Wales checked equal).
COUNTRY, SUBDIVISION = "GB", "ENG"


def bank_holidays(first: int = FIRST_YEAR, last: int = LAST_YEAR) -> list[tuple[date, str]]:
    """(date, name) of every England and Wales bank holiday from 1 January `first` to 31 December `last`,
    substitute days ("(observed)") included, in date order."""
    import holidays

    found = holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=range(first, last + 1),
                                      language="en_GB")
    return sorted((day, name) for day, name in found.items() if first <= day.year <= last)


def seed_text(first: int = FIRST_YEAR, last: int = LAST_YEAR) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["holiday_date", "holiday_name"])
    for day, name in bank_holidays(first, last):
        w.writerow([day.isoformat(), name])
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--first", type=int, default=FIRST_YEAR, help="first calendar year (default %(default)s)")
    ap.add_argument("--last", type=int, default=LAST_YEAR, help="last calendar year (default %(default)s)")
    ap.add_argument("--out", type=Path, default=SEED, help="seed file to write (default: the project's)")
    args = ap.parse_args(argv)
    if args.first > args.last:
        ap.error("--first is after --last")
    args.out.write_text(seed_text(args.first, args.last), encoding="utf-8")
    print(f"wrote {args.out}: England and Wales bank holidays {args.first}-{args.last}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
