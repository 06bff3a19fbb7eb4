"""`joinedup report`: the service designers' report from the published analytics file."""

from __future__ import annotations

import time
from pathlib import Path

import typer


def report_command(
    analytics: Path = typer.Option(..., "--analytics", help="The published analytics DuckDB file."),
    out: Path = typer.Option(Path("reports"), "--out", help="Folder for index.html (and dbt-docs/)."),
    dbt_docs: Path | None = typer.Option(None, "--dbt-docs",
                                         help="A `dbt docs generate --static` target folder to ship alongside."),
) -> None:
    """Write a self-contained HTML report (works offline) of channel switching, SLAs, repeats and demand."""
    from joinedup.report.build import build_report

    t0 = time.perf_counter()
    path = build_report(analytics, out, dbt_docs)
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
