"""`joinedup report`: the service designers' report from the published analytics file."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import duckdb
import typer

from joinedup.cliargs import UserError, parse_day


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
) -> None:
    """Write a self-contained HTML report (works offline) of channel switching, SLAs, repeats and demand."""
    from joinedup.report.build import build_report
    from joinedup.report.scope import Scope

    if date_from and date_to and date_to < date_from:
        raise typer.BadParameter(f"--to {date_to} is before --from {date_from}", param_hint="'--to'")
    scope = Scope(service, date_from, date_to)
    t0 = time.perf_counter()
    try:
        path = build_report(analytics, out, dbt_docs, scope)
    except (FileNotFoundError, ValueError, duckdb.IOException) as exc:  # not an analytics file, unknown service
        raise UserError(f"{analytics}: {exc}") from exc
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
