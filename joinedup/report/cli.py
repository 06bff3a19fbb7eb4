"""`joinedup report`: the service designers' report from the published analytics file."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import typer

from joinedup.cliargs import UserError, parse_day

if TYPE_CHECKING:  # imported late at run time: it pulls in pandas
    from joinedup.report.disclosure import Suppression

MIN_CELL_HELP = ("Smallest count shown exactly: smaller counts show as <k and figures computed from them are "
                 "withheld. Default: JOINEDUP_REPORT_MIN_CELL, else 5. 1 turns suppression off.")


def min_cell_option() -> Any:
    """`--min-cell`, the same option on every command that publishes figures (k >= 1, checked by typer)."""
    return typer.Option(None, "--min-cell", min=1, metavar="K", help=MIN_CELL_HELP)


def suppression(min_cell: int | None) -> Suppression:
    """The suppression in force: --min-cell, else the environment; a bad environment value is a user's mistake."""
    from joinedup.report.disclosure import ENV, Suppression

    try:
        return Suppression(min_cell) if min_cell is not None else Suppression.from_env()
    except ValueError as exc:
        raise UserError(f"{exc} (--min-cell or {ENV})") from exc


def report_command(
    analytics: Path = typer.Option(..., "--analytics", exists=True, dir_okay=False, readable=True,
                                   help="The published analytics DuckDB file."),
    out: Path = typer.Option(Path("reports"), "--out", help="Folder for index.html (and dbt-docs/)."),
    dbt_docs: Path | None = typer.Option(None, "--dbt-docs",
                                         help="A `dbt docs generate --static` target folder to ship alongside."),
    service: str | None = typer.Option(None, "--service", help="Only this service (e.g. council_tax)."),
    date_from: date | None = typer.Option(None, "--from", parser=parse_day, metavar="YYYY-MM-DD",
                                          help="Only contacts on or after this local date."),
    date_to: date | None = typer.Option(None, "--to", parser=parse_day, metavar="YYYY-MM-DD",
                                        help="Only contacts on or before this local date."),
    min_cell: int | None = min_cell_option(),
) -> None:
    """Write a self-contained HTML report (works offline) of channel switching, SLAs, repeats and demand."""
    from joinedup.report.build import build_report
    from joinedup.report.scope import Scope

    if date_from and date_to and date_to < date_from:
        raise typer.BadParameter(f"--to {date_to} is before --from {date_from}", param_hint="'--to'")
    scope = Scope(service, date_from, date_to)
    sup = suppression(min_cell)
    t0 = time.perf_counter()
    try:
        path = build_report(analytics, out, dbt_docs, scope, sup)
    except (FileNotFoundError, ValueError, duckdb.IOException) as exc:  # not an analytics file, unknown service
        raise UserError(f"{analytics}: {exc}") from exc
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")


def export_aggregates_command(
    analytics: Path = typer.Option(..., "--analytics", exists=True, dir_okay=False, readable=True,
                                   help="The published analytics DuckDB file."),
    out: Path = typer.Option(..., "--out", file_okay=False,
                             help="Folder for one CSV per aggregate mart and a README.txt."),
    min_cell: int | None = min_cell_option(),
) -> None:
    """Write the aggregate marts as CSV, small cells suppressed, no keys or row-level data: the shareable product
    (the analytics file itself is pseudonymous personal data; see docs/privacy.md)."""
    from joinedup.report.export import export_aggregates

    sup = suppression(min_cell)
    try:
        files = export_aggregates(analytics, out, sup)
    except (FileNotFoundError, ValueError, duckdb.IOException) as exc:
        raise UserError(f"{analytics}: {exc}") from exc
    typer.echo(f"wrote {len(files)} files to {out} ({sup.note()})")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
    app.command("export-aggregates")(export_aggregates_command)
