"""The `joinedup` command. Each subcommand lives in the module that owns the capability.

`main` is the console entry point: a user's mistake (a bad option, a malformed date, a folder that does not
exist) is one line on stderr naming what was wrong, with exit code 2, never a traceback. A traceback means a
bug in joinedup.
"""

from __future__ import annotations

import sys

import typer

# typer 0.29 vendors its own click: its exceptions, not click's, are what a command raises
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

app = typer.Typer(
    name="joinedup",
    help="Join up what citizens do across every contact channel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def joinedup() -> None:
    """Simulate, ingest, link and report on multi-channel council contacts."""


from joinedup.simulate.cli import register as _register_simulate  # noqa: E402

_register_simulate(app)

from joinedup.ingest.cli import register as _register_ingest  # noqa: E402

_register_ingest(app)

from joinedup.identity.cli import register as _register_link  # noqa: E402

_register_link(app)

from joinedup.identity.rights_cli import register as _register_rights  # noqa: E402

_register_rights(app)

from joinedup.report.cli import register as _register_report  # noqa: E402

_register_report(app)

from joinedup.review.cli import register as _register_review  # noqa: E402

_register_review(app)

from joinedup.demo import register as _register_demo  # noqa: E402

_register_demo(app)


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def main(argv: list[str] | None = None) -> int:
    """Run `joinedup` as a user would; return the exit code (the console script exits with it)."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="joinedup", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `joinedup` alone: its help
        typer.echo(exc.ctx.get_help() if exc.ctx else "")
        return 0
    except UsageError as exc:  # a bad option or value, named by the parser
        where = exc.ctx.command_path if exc.ctx else "joinedup"
        typer.echo(f"{where}: error: {_one_line(exc.format_message())} (see {where} --help)", err=True)
        return 2
    except ClickException as exc:  # joinedup.cliargs.UserError: what was asked for cannot be done as asked
        typer.echo(f"joinedup: error: {_one_line(exc.format_message())}", err=True)
        return exc.exit_code
    except typer.Abort:
        typer.echo("joinedup: aborted", err=True)
        return 1
    return code if isinstance(code, int) else 0


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry_point()
