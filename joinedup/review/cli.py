"""`joinedup review list | export | import | undo | history | serve | add-user | remove-user`: the review queue of
the pipeline's identity store, and the caseworkers' browser UI over it.

They work on the pipeline's store (JOINEDUP_IDENTITY), like the browser UI (`joinedup review serve`): decisions
go to the inbox and the journeys DAG's link step applies them on its next run. The sheet `export` writes holds
PII: it is written owner-only, and belongs in the restricted zone. `serve` runs the browser UI (joinedup.review.app)
for the users `add-user` adds; a password is read from a prompt or a file, never from an argument, which the
shell history and `ps` would show.
"""

from __future__ import annotations

from pathlib import Path

import typer

from joinedup.cliargs import UserError

app = typer.Typer(help="The clerical review queue of the pipeline's identity store.", no_args_is_help=True)
REVIEWER_HELP = "Who is deciding (recorded with each decision)."


def _store():  # noqa: ANN202 - a joinedup.review.queue.Store
    from joinedup import paths
    from joinedup.review.queue import STORE_DB, Store

    identity = paths.identity_root()
    if not (identity / STORE_DB).exists():
        raise UserError(f"no identity store at {identity / STORE_DB}: run the journeys DAG (or `joinedup demo`) "
                        "first, or set JOINEDUP_IDENTITY")
    return Store(identity)


@app.command("list")
def list_command(
    channel: str | None = typer.Option(None, "--channel", help="Only items from this channel."),
    service: str | None = typer.Option(None, "--service", help="Only items about this service."),
    reason: str | None = typer.Option(None, "--reason", help="Only items in review for this reason."),
    limit: int = typer.Option(20, "--limit", min=1, help="Items to show."),
) -> None:
    """The queue, most settling first: contacts a decision settles, then the oldest."""
    from joinedup.review.queue import list_queue

    page = list_queue(_store(), channel, service, reason, limit)
    typer.echo(f"{page.total:,} items in review ({page.pending:,} decided, waiting for the next link step)")
    for r in page.rows:
        p = f"{r.match_probability:.3f}" if r.match_probability is not None else "-"
        typer.echo(f"{r.contact_id}\t{r.citizen_id or '-'}\t{r.channel or '-'}\t{r.service or '-'}\t"
                   f"{r.occurred_at or '-'}\tp={p}\t{r.contacts_affected} contacts\t{r.reason}")


@app.command("export")
def export_command(
    out: Path = typer.Option(..., "--out", dir_okay=False, help="The sheet to write (.csv or .parquet); PII."),
    channel: str | None = typer.Option(None, "--channel", help="Only items from this channel."),
    service: str | None = typer.Option(None, "--service", help="Only items about this service."),
    reason: str | None = typer.Option(None, "--reason", help="Only items in review for this reason."),
    limit: int = typer.Option(500, "--limit", min=1, help="Items to export."),
) -> None:
    """Export queue items side by side (contact, candidate citizen, weights, reason) with an empty `decision`."""
    from joinedup.review.sheet import export_sheet

    n = export_sheet(_store(), out, channel, service, reason, limit)
    typer.echo(f"{n} items written to {out} (PII: keep it in the restricted zone); fill `decision` with accept, "
               "reject or leave it empty, then `joinedup review import`")


@app.command("import")
def import_command(
    decisions: Path = typer.Option(..., "--decisions", exists=True, dir_okay=False, readable=True,
                                   help="A sheet `joinedup review export` wrote, with `decision` filled in."),
    reviewer: str = typer.Option(..., "--reviewer", help=REVIEWER_HELP),
) -> None:
    """Record a filled-in sheet's decisions; the next link step applies them."""
    from joinedup.review.sheet import SheetError, import_sheet

    try:
        done = import_sheet(_store(), decisions, reviewer)
    except SheetError as exc:
        raise UserError(str(exc)) from exc
    typer.echo(f"recorded {len(done)} decisions as {reviewer.strip()}; the journeys DAG's next link step applies "
               "them (undo with `joinedup review undo --decision ID`)")


@app.command("undo")
def undo_command(
    decision: str = typer.Option(..., "--decision", help="The decision's id (see `joinedup review history`)."),
    reviewer: str = typer.Option(..., "--reviewer", help=REVIEWER_HELP),
) -> None:
    """Undo an accept or reject: the next link step puts back what it changed."""
    from joinedup.review.decisions import DecisionError, undo

    try:
        d = undo(_store().identity, decision, reviewer)
    except DecisionError as exc:
        raise UserError(str(exc)) from exc
    typer.echo(f"recorded {d.decision_id}: undo of {decision}; the next link step puts back what it changed")


@app.command("history")
def history_command(limit: int = typer.Option(20, "--limit", min=1, help="Decisions to show.")) -> None:
    """The latest decisions, newest first: who, when, applied or pending, and what each changed."""
    from joinedup.review.queue import recent_decisions

    for d in recent_decisions(_store(), limit):
        state = "undone" if d.get("undone") else (d.get("outcome") or "pending")
        moved = "" if d.get("contacts_moved") is None else \
            f"\t{d['contacts_moved']} contacts moved, {d['persons_merged']} persons merged, {d['persons_split']} split"
        typer.echo(f"{d['decision_id']}\t{d['decided_at']}\t{d['decided_by']}\t{d['decision']}\t{d['contact_id']}"
                   f"\t{d['citizen_id']}\t{state}{moved}")


def _identity() -> Path:
    from joinedup import paths
    from joinedup.zones import RestrictedZoneError, check_restricted

    identity = paths.identity_root()
    try:
        check_restricted(identity)
    except RestrictedZoneError as exc:
        raise UserError(str(exc)) from exc
    return identity


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        if not lines:
            raise UserError(f"--password-file {password_file}: the file is empty")
        return lines[0]
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@app.command("add-user")
def add_user_command(
    name: str = typer.Option(..., "--name", help="The caseworker's user name (recorded with their decisions)."),
    password_file: Path | None = typer.Option(
        None, "--password-file", exists=True, dir_okay=False, readable=True,
        help="Read the password from this file's first line (e.g. /dev/stdin) instead of a prompt."),
) -> None:
    """Add a caseworker who may log in to the review UI, or set a new password for one (ending their sessions)."""
    from joinedup.review.auth import AuthSetupError, UserNameError, add_user

    identity = _identity()
    try:
        new = add_user(identity, name, _read_password(password_file))
    except (UserNameError, AuthSetupError, PermissionError) as exc:
        raise UserError(str(exc)) from exc
    typer.echo(f"added {name}" if new else f"new password set for {name}; their open sessions have ended")


@app.command("remove-user")
def remove_user_command(name: str = typer.Option(..., "--name", help="The caseworker's user name.")) -> None:
    """Remove a caseworker: their open sessions end at once; their decisions stay, recorded under their name."""
    from joinedup.review.auth import AuthSetupError, remove_user

    try:
        gone = remove_user(_identity(), name)
    except (AuthSetupError, PermissionError) as exc:
        raise UserError(str(exc)) from exc
    if not gone:
        raise UserError(f"--name {name}: no such review user")
    typer.echo(f"removed {name}")


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    secure_cookie: bool | None = typer.Option(
        None, "--secure-cookie/--no-secure-cookie", envvar="JOINEDUP_REVIEW_SECURE_COOKIE",
        help="Send the session cookie over HTTPS only (default: yes, unless listening on loopback only)."),
) -> None:
    """Serve the caseworkers' review UI (log in, decide queue items with the keyboard, undo, see the decisions)."""
    import logging

    import uvicorn

    from joinedup.review.app import ReviewConfig, create_app
    from joinedup.review.auth import AuthSetupError, UserDirectory, session_secret, users_path

    identity = _identity()
    try:
        secret = session_secret(identity)
        users = len(UserDirectory(users_path(identity)))
    except (AuthSetupError, PermissionError) as exc:
        raise UserError(str(exc)) from exc
    secure = (not _loopback(host)) if secure_cookie is None else secure_cookie
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("joinedup.review")
    if not users:
        log.warning("no review users yet: add one with `joinedup review add-user --name NAME`")
    if not secure and not _loopback(host):
        log.warning("session cookies are not HTTPS-only while listening on %s: serve it behind a TLS proxy", host)
    app_ = create_app(ReviewConfig(identity, users_path(identity), secret, secure_cookie=secure))
    # uvicorn's access log would print each path and query string, which hold contact ids: the app logs route
    # templates instead (joinedup.review.guard)
    uvicorn.run(app_, host=host, port=port, access_log=False, server_header=False, proxy_headers=True,
                log_config=None)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="review")
