"""dbt_project/seeds/bank_holidays.csv is what `python -m joinedup.bank_holidays` writes from the `holidays`
package: England and Wales, whole years, Easter 2025 included."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from joinedup.bank_holidays import FIRST_YEAR, LAST_YEAR, SEED, bank_holidays, main, seed_text


def _rows(path: Path = SEED) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_committed_seed_is_what_the_generator_writes() -> None:
    assert SEED.read_text(encoding="utf-8") == seed_text(), \
        "dbt_project/seeds/bank_holidays.csv is stale: run `uv run python -m joinedup.bank_holidays`"


def test_it_covers_whole_years_of_england_and_wales_bank_holidays() -> None:
    rows = _rows()
    years = sorted({int(r["holiday_date"][:4]) for r in rows})
    assert years == list(range(FIRST_YEAR, LAST_YEAR + 1))
    per_year = {y: sum(r["holiday_date"].startswith(str(y)) for r in rows) for y in years}
    assert all(n >= 8 for n in per_year.values()), per_year  # England and Wales have eight a year, and more
    days = {date.fromisoformat(r["holiday_date"]): r["holiday_name"] for r in rows}
    assert days[date(2025, 4, 18)] == "Good Friday" and days[date(2025, 4, 21)] == "Easter Monday"
    assert date(2025, 3, 17) not in days  # St Patrick's Day: Northern Ireland only
    assert date(2025, 8, 4) not in days  # Scotland's summer bank holiday
    assert days[date(2023, 5, 8)].startswith("Coronation")  # a one-off
    assert days[date(2026, 12, 28)] == "Boxing Day (observed)"  # a substitute day


def test_other_years_can_be_written(tmp_path: Path) -> None:
    out = tmp_path / "bank_holidays.csv"
    assert main(["--first", "2036", "--last", "2037", "--out", str(out)]) == 0
    rows = _rows(out)
    assert {r["holiday_date"][:4] for r in rows} == {"2036", "2037"}
    assert len(rows) == len(bank_holidays(2036, 2037))
