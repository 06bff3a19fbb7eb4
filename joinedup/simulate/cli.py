"""`joinedup simulate`: write a council's register, native channel exports and ground truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from joinedup.cliargs import first_day_option

if TYPE_CHECKING:  # the simulator (faker, scipy) loads when a simulation runs, not with every `joinedup` command
    from joinedup.simulate.run import Summary


def summary_table(s: Summary) -> Table:
    table = Table(title=f"Simulated {s.days} days from {s.start}: {s.citizens:,} citizens in the register")
    table.add_column("channel")
    table.add_column("contacts", justify="right")
    table.add_column("share", justify="right")
    for ch, n in sorted(s.contacts_by_channel.items(), key=lambda kv: -kv[1]):
        table.add_row(ch, f"{n:,}", f"{n / max(s.contacts, 1):.1%}")
    table.add_section()
    table.add_row("all channels", f"{s.contacts:,}", "100%")
    table.add_row("citizen in the register", f"{s.contacts_in_register:,}", f"{s.share_in_register:.1%}")
    table.add_row("journeys", f"{s.journeys:,}", "")
    table.add_row("journeys switching channel", f"{s.switching_journeys:,}", f"{s.share_switching:.1%}")
    return table


def simulate_command(
    out: Path = typer.Option(..., "--out", help="Folder to write register/, exports/ and truth/ into."),
    citizens: int = typer.Option(2_000, "--citizens", min=1, help="Citizens in the register."),
    days: int = typer.Option(30, "--days", min=1, help="Days of contacts to simulate."),
    start: date = first_day_option("2025-01-06"),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed gives the same bytes."),
) -> None:
    """Simulate a council's citizens and their contacts across every channel."""
    console = Console(stderr=True)
    first = start
    with Progress(
        TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("days"), TimeElapsedColumn(),
        console=console, transient=False,
    ) as progress:
        task = progress.add_task("days", total=days)
        from joinedup.simulate.run import simulate

        result = simulate(out, citizens, days, first, seed, on_day=lambda _d: progress.advance(task))
    Console().print(summary_table(result))
    Console().print(f"Exports in [bold]{out / 'exports'}[/], register in {out / 'register'}, truth in {out / 'truth'}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)
