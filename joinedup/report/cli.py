"""`joinedup report`: the service designers' report from the published analytics file."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import typer


def report_command(
    analytics: Path = typer.Option(..., "--analytics", help="The published analytics DuckDB file."),
    out: Path = typer.Option(Path("reports"), "--out", help="Folder for index.html (and dbt-docs/)."),
    dbt_docs: Path | None = typer.Option(None, "--dbt-docs",
                                         help="A `dbt docs generate --static` target folder to ship alongside."),
    service: str | None = typer.Option(None, "--service", help="Only this service (e.g. council_tax)."),
    date_from: datetime | None = typer.Option(None, "--from", formats=["%Y-%m-%d"],
                                              help="Only contacts on or after this local date."),
    date_to: datetime | None = typer.Option(None, "--to", formats=["%Y-%m-%d"],
                                            help="Only contacts on or before this local date."),
) -> None:
    """Write a self-contained HTML report (works offline) of channel switching, SLAs, repeats and demand."""
    from joinedup.report.build import build_report
    from joinedup.report.scope import Scope

    scope = Scope(service, date_from.date() if date_from else None, date_to.date() if date_to else None)
    t0 = time.perf_counter()
    try:
        path = build_report(analytics, out, dbt_docs, scope)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
