"""`joinedup demo`: simulate a council, run the real DAGs in-process, print what came out and where.

Everything lands under one folder (default demo/): the simulated exports and register, the lake, the
restricted identity store and warehouse, the published analytics file and the report. A demo pseudonymisation
key is generated into <out>/.secrets on first use unless one is configured; real deployments set their own.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from joinedup.cliargs import UserError, first_day_option
from joinedup.identity.pseudonym import KEY_ENV, KEY_FILE_ENV
from joinedup.zones import private_dir, write_private_text

if TYPE_CHECKING:  # the report's statistics (scipy) load when the demo runs, not with every `joinedup` command
    from joinedup.report.estimate import Estimate
    from joinedup.report.summary import PipelineSummary


def ensure_demo_key(out: Path) -> None:
    """Use the configured key if there is one; else a per-folder demo key, kept so re-runs give the same keys."""
    if os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        return
    key_file = out / ".secrets" / "pseudonym.key"
    if not key_file.exists():
        private_dir(key_file.parent)
        write_private_text(key_file, secrets.token_hex(32))
    os.environ[KEY_FILE_ENV] = str(key_file.resolve())


@contextmanager
def stdout_to(log: Path) -> Iterator[None]:
    """Send the DAG runs' chatter (Airflow, dbt, GX write to fd 1) to a log file; progress stays on stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    with log.open("ab") as f:
        os.dup2(f.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def _estimated(e: Estimate) -> str:
    if e.estimate is None or e.low is None or e.high is None:
        return f"not estimated: {e.why_not}"
    return f"{e.estimate:.1%} ({e.low:.1%} to {e.high:.1%}, 95%)"


def summary_tables(s: PipelineSummary) -> list[Table]:
    head = Table(title=f"joinedup: {s.first_day} to {s.last_day}", show_header=False)
    head.add_column(justify="left")
    head.add_column(justify="right")
    head.add_row("contacts", f"{s.contacts:,}")
    head.add_row("persons", f"{s.persons:,}")
    head.add_row("  of whom known citizens in the register", f"{s.registered_persons:,}")
    head.add_row("contacts linked to the register", f"{s.contacts_linked_to_register:.1%}")
    e = s.estimates
    if e is not None:
        head.add_row("  contacts waiting in the review queue", f"{e.coverage.contacts_in_review:,}")
        head.add_row("  persons not resolved to the register", f"{e.coverage.persons_unresolved:,}")
    head.add_row("journeys", f"{s.journeys:,}")
    head.add_row("journeys that switch channel", f"{s.switching_journeys:.1%}")
    if e is not None:
        head.add_row("  estimated if every contact were joined", _estimated(e.switching))
        u = e.unanswered
        head.add_row("switches that follow an unanswered contact",
                     "-" if u.observed is None else f"{u.observed:.1%} of {u.denominator:,}")
        head.add_row("  estimated if every contact were joined", _estimated(u))
    paths = Table(title="Top channel-switch paths (collapsed journey paths)")
    paths.add_column("path")
    paths.add_column("journeys", justify="right")
    for path, n in s.top_switch_paths:
        paths.add_row(path.replace(">", " → "), f"{n:,}")
    sla = Table(title="Social posts answered (inbound posts)")
    for col in ("platform", "posts", "within 15 min", "within 2 h"):
        sla.add_column(col, justify="right" if col != "platform" else "left")
    for f in s.social_sla:
        sla.add_row(f.platform, f"{f.posts:,}", f"{f.within_15m:.1%}", f"{f.within_2h:.1%}")
    return [head, paths, sla]


def demo_command(
    out: Path = typer.Option(Path("demo"), "--out", help="Folder for everything the demo writes."),
    citizens: int = typer.Option(20_000, "--citizens", min=100, help="Citizens in the simulated register."),
    days: int = typer.Option(60, "--days", min=1, help="Days of contacts."),
    start: date = first_day_option("2025-03-03"),
    seed: int = typer.Option(42, "--seed", help="Simulator seed."),
) -> None:
    """Simulate a council, run every ingest DAG and then `journeys` with dag.test(), and print a summary."""
    console, progress = Console(), Console(stderr=True)
    first = start
    last = first + timedelta(days=days - 1)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    ensure_demo_key(out)
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # the task logs stay under airflow/logs

    from joinedup.inprocess import PipelinePaths, prepare_airflow
    from joinedup.simulate.run import simulate

    sim = out / "simulated"
    paths = PipelinePaths.under(out, sim / "exports", sim / "register" / "citizens.csv")
    prepare_airflow(out / "airflow")
    t0 = time.perf_counter()
    with progress.status(f"Simulating {citizens:,} citizens over {days} days"):
        simulated = simulate(sim, citizens, days, first, seed)
    progress.print(f"[green]✓[/] simulated {simulated.contacts:,} contacts into {paths.exports}")
    from joinedup.simulate.cli import summary_table

    console.print(summary_table(simulated))  # the truth, per channel: what the pipeline should find

    from joinedup.inprocess import run_pipeline

    log = out / "pipeline.log"
    with progress.status("Running the ingest DAGs, then journeys (link → dbt build → quality gate → publish); "
                         f"log: {log}"), stdout_to(log):
        run = run_pipeline(paths, first, last, airflow_home=out / "airflow")
    for t in run.timings:
        progress.print(f"[green]✓[/] {t.stage}: {t.seconds:.1f} s")

    from joinedup.report.summary import summarise

    for table in summary_tables(summarise(paths.analytics)):
        console.print(table)
    console.print(f"Done in {time.perf_counter() - t0:.0f} s.")
    console.print(f"Analytics database (pseudonymous personal data: access-controlled, open it read-only): [bold]{paths.analytics}[/]")
    console.print(f"Report for service designers: [bold]{paths.reports / 'index.html'}[/]")
    console.print(f"Restricted identity store: {paths.identity}; warehouse: {paths.warehouse}")
    console.print(f"Pipeline log: {log}; Airflow task logs: {out / 'airflow' / 'logs'}")
    queued = review_count(paths.identity)
    env = f"JOINEDUP_IDENTITY={paths.identity}"
    console.print(f"Review queue for caseworkers ({queued:,} contacts; docs/review.md): "
                  f"[bold]{env} uv run joinedup review add-user --name you[/], then "
                  f"[bold]{env} uv run joinedup review serve[/] and open http://127.0.0.1:8765")


def review_count(identity: Path) -> int:
    """Contacts waiting in the review queue the demo left (what the review UI's queue page counts)."""
    from joinedup.review.queue import STORE_DB, Store, list_queue

    return list_queue(Store(identity), limit=1).total if (identity / STORE_DB).exists() else 0


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
