"""The `joinedup` command. Each subcommand lives in the module that owns the capability."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="joinedup",
    help="Join up what citizens do across every contact channel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main() -> None:
    """Simulate, ingest, link and report on multi-channel council contacts."""


from joinedup.simulate.cli import register as _register_simulate  # noqa: E402

_register_simulate(app)

from joinedup.ingest.cli import register as _register_ingest  # noqa: E402

_register_ingest(app)

from joinedup.identity.cli import register as _register_link  # noqa: E402

_register_link(app)

from joinedup.report.cli import register as _register_report  # noqa: E402

_register_report(app)

from joinedup.demo import register as _register_demo  # noqa: E402

_register_demo(app)


if __name__ == "__main__":  # pragma: no cover
    app()
