"""What the CLI accepts, and how a user's mistake is reported: one line naming the option, exit code 2.

Dates are parsed here, as typer parameter parsers, so a malformed or reversed date is refused before any work
starts with the option and the value named (joinedup.cli.main prints it), never as a traceback from deep
inside a command.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import typer
from typer._click.exceptions import ClickException  # typer vendors click: see joinedup.cli

DAY_FORMAT = "%Y-%m-%d"


class UserError(ClickException):
    """A mistake in what the user asked for (a folder that does not exist, nothing to do): one line, exit 2."""

    exit_code = 2


def _day(value: str) -> date:
    try:
        return datetime.strptime(value.strip(), DAY_FORMAT).date()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: expected YYYY-MM-DD, e.g. 2025-03-03") from None


def parse_day(value: str | date) -> date:
    """A local calendar day written YYYY-MM-DD."""
    return value if isinstance(value, date) else _day(value)


def first_day_option(default: str) -> Any:
    """`--start`, the first local day of a simulation, parsed by parse_day."""
    return typer.Option(default, "--start", parser=parse_day, metavar="YYYY-MM-DD", help="First local day.")


@dataclass(frozen=True)
class Days:
    """An inclusive run of local days, first <= last."""

    first: date
    last: date

    def __iter__(self) -> Iterator[date]:
        return (self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1))


def parse_days(value: str | Days) -> Days:
    """One day (`2025-03-03`) or an inclusive range (`2025-03-03..2025-03-09`)."""
    if isinstance(value, Days):
        return value
    if ".." not in value:
        day = _day(value)
        return Days(day, day)
    first, last = (_day(s) for s in value.split("..", 1))
    if last < first:
        raise typer.BadParameter(f"the range {value} ends before it starts: write the earlier day first")
    return Days(first, last)
