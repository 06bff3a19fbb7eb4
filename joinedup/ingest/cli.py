"""`joinedup ingest`: the DAGs' work without a scheduler."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import fsspec
import typer
from rich.console import Console
from rich.table import Table

from joinedup.channels import Channel, load_channels
from joinedup.cliargs import Days, UserError, parse_days
from joinedup.paths import exports_root, lake_root


def delivered_days(ch: Channel, exports: str) -> list[date]:
    """Days with a folder under the channel's location."""
    m = re.fullmatch(r"\{day:([^}]*)\}", ch.day_folder)
    fmt = m.group(1) if m else "%Y-%m-%d"
    fs, path = fsspec.core.url_to_fs(ch.location.format(exports=exports.rstrip("/")))
    if not fs.isdir(path):
        return []
    out = []
    for p in fs.ls(path, detail=False):
        try:
            out.append(datetime.strptime(p.rstrip("/").rsplit("/", 1)[-1], fmt).date())
        except ValueError:
            continue
    return sorted(out)


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest_cmd(
        exports: Annotated[str | None, typer.Option(help="Exports root: local path or fsspec URL "
                                                         "(env JOINEDUP_EXPORTS).")] = None,
        lake: Annotated[Path | None, typer.Option(help="Lake root (local) (env JOINEDUP_LAKE).")] = None,
        day: Annotated[Days | None, typer.Option("--date", parser=parse_days, metavar="DAY[..DAY]",
                                                       help="Day YYYY-MM-DD or range D1..D2; default: every "
                                                            "delivered day.")] = None,
        channel: Annotated[list[str] | None, typer.Option(help="Channel(s) to ingest; default: all in "
                                                                 "channels.yml.")] = None,
        force: Annotated[bool, typer.Option(help="Reload days whose files are unchanged.")] = False,
        batch_rows: Annotated[int, typer.Option(help="Rows per great-expectations batch (bounds memory).")]
        = 200_000,
        workers: Annotated[int, typer.Option(help="Channels ingested in parallel processes.")] = 1,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary per channel-day.")] = False,
    ) -> None:
        """Land channel exports in the lake: parse, normalise, validate (GX), write Parquet, audit.

        Exit code 1 when a delivery is missing, a file failed or the landing zone holds entries nothing reads
        (named in the audit as unexpected); the rest is still loaded.
        """
        from joinedup.ingest.pipeline import ingest

        exports_ = exports or exports_root()
        lake_ = lake or lake_root()
        channels = load_channels()
        names = channel or list(channels)
        unknown = [n for n in names if n not in channels]
        if unknown:
            raise typer.BadParameter(f"unknown channel(s) {', '.join(unknown)}; channels.yml has "
                                     f"{', '.join(channels)}", param_hint="'--channel'")
        if day:
            days = list(day)
        else:
            fs, root = fsspec.core.url_to_fs(str(exports_))
            if not fs.isdir(root):
                raise UserError(f"the exports folder {exports_} does not exist (set --exports or JOINEDUP_EXPORTS)")
            days = sorted({d for n in names for d in delivered_days(channels[n], str(exports_))})
            if not days:
                raise UserError(f"no day folders for {', '.join(names)} under {exports_}: each channel's "
                                "exports go in <channel>/<YYYY-MM-DD>/ (docs/data-contract.md)")
        results = ingest(names, days, exports_, lake_, force=force, batch_rows=batch_rows, workers=workers)
        bad = [r for r in results if r["status"] == "missing_delivery" or r["failed_files"] or r["unexpected"]]
        if as_json:
            for r in results:
                typer.echo(json.dumps(r))
        else:
            _print(results, lake_)
        if bad:
            raise typer.Exit(1)


def _print(results: list[dict], lake: Path) -> None:
    table = Table(title=f"ingested into {lake}")
    for col in ("channel", "days", "files", "read", "loaded", "quarantined", "missing", "failed files",
                "unexpected"):
        table.add_column(col, justify="right" if col not in ("channel",) else "left")
    by: dict[str, list[dict]] = {}
    for r in results:
        by.setdefault(r["channel"], []).append(r)
    for ch, rs in by.items():
        missing = [r["day"] for r in rs if r["status"] == "missing_delivery"]
        table.add_row(ch, str(len(rs)), str(sum(r["files"] for r in rs)), str(sum(r["rows_read"] for r in rs)),
                      str(sum(r["rows_loaded"] for r in rs)), str(sum(r["rows_quarantined"] for r in rs)),
                      ", ".join(missing[:3]) + ("..." if len(missing) > 3 else ""),
                      str(sum(len(r["failed_files"]) for r in rs)),
                      str(len({u for r in rs for u in r["unexpected"]})))
    Console().print(table)
    Console().print(f"audit: {lake}/_audit/<channel>/date=<day>/loads.jsonl; "
                    f"quarantine: {lake}/quarantine/<channel>/date=<day>/")
