"""Typer commands for identity resolution: link, relink, link-eval, link-review-export, link-review-import."""

from __future__ import annotations

import time
from pathlib import Path

import typer


def link_command(
    register: Path = typer.Option(..., "--register", exists=True, dir_okay=False, readable=True, help="Register: Parquet or CSV with citizen_id."),
    contacts: Path = typer.Option(..., "--contacts", exists=True, dir_okay=False, readable=True, help="Contacts: Parquet or CSV with contact_id."),
    out: Path = typer.Option(..., "--out", help="Output: .parquet or .csv, one row per contact."),
    model: Path | None = typer.Option(None, "--model", exists=True, dir_okay=False, help="Model JSON; trained without labels if absent."),
    state_dir: Path | None = typer.Option(None, "--state-dir", help="Identity store for incremental runs."),
    save_model: Path | None = typer.Option(None, "--save-model", help="Write the model used to this JSON."),
    review_out: Path | None = typer.Option(None, "--review-out", help="Also export the review queue here."),
) -> None:
    """Link contacts to register citizens or pseudonymous persons."""
    from linkage.io import read_table, write_table
    from linkage.model import Model
    from linkage.pipeline import LinkStats, link
    from linkage.prepare import prepare_register
    from linkage.review import review_queue

    key = None
    if state_dir is not None:  # the state remembers identifiers as hashes keyed with the pseudonymisation key
        from joinedup.cliargs import UserError
        from joinedup.identity.pseudonym import PseudonymKeyError, load_key

        try:
            key = load_key()
        except PseudonymKeyError as exc:
            raise UserError(str(exc)) from exc
    t0 = time.perf_counter()
    reg, con = read_table(register), read_table(contacts)
    # the register as read is needed again only for the review sheet: without one, it is let go once prepared
    # (a tenth of the peak memory at 100k citizens)
    prepared = prepare_register(reg)
    if not review_out:
        del reg
    mdl = Model.load(model) if model else None
    stats = LinkStats()
    result = link(prepared, con, model=mdl, state_dir=state_dir, stats=stats, model_out=save_model,
                  identifier_key=key)
    write_table(result, out)
    if review_out:
        write_table(review_queue(result, reg, con), review_out)
    counts = result["decision"].value_counts().to_dict()
    typer.echo(f"linked {len(result)} contacts in {time.perf_counter() - t0:.1f}s: {counts}; "
               f"pairs compared {stats.pairs}; rejected edges {stats.rejected_edges}; wrote {out}")


def review_export_command(
    register: Path = typer.Option(..., "--register", exists=True, dir_okay=False, readable=True),
    contacts: Path = typer.Option(..., "--contacts", exists=True, dir_okay=False, readable=True),
    result: Path = typer.Option(..., "--result", exists=True, dir_okay=False, readable=True, help="Output of `joinedup link`."),
    out: Path = typer.Option(..., "--out", help="Review sheet (.csv or .parquet)."),
) -> None:
    """Export the review queue: contact and candidate citizen side by side, with match weights."""
    from linkage.io import read_table, write_table
    from linkage.review import review_queue

    q = review_queue(read_table(result), read_table(register), read_table(contacts))
    write_table(q, out)
    typer.echo(f"{len(q)} pairs to review written to {out}; fill `decision` with accept or reject")


def review_import_command(
    decisions: Path = typer.Option(..., "--decisions", exists=True, dir_okay=False, readable=True, help="Filled-in review sheet."),
    state_dir: Path = typer.Option(..., "--state-dir", help="Identity store the next `link` runs use."),
) -> None:
    """Import review decisions: accept = must-link, reject = cannot-link on every later run."""
    from linkage.io import read_table
    from linkage.review import import_decisions

    n = import_decisions(read_table(decisions), state_dir)
    typer.echo(f"stored {n} decisions in {state_dir}")


def link_eval_command(
    febrl: bool = typer.Option(True, "--febrl/--no-febrl", help="Score on FEBRL4."),
    sim_dir: Path | None = typer.Option(None, "--sim-dir", exists=True, file_okay=False, help="`joinedup simulate` output (register, truth)."),
    lake: Path | None = typer.Option(None, "--lake", exists=True, file_okay=False, help="`joinedup ingest` lake holding its contacts."),
    citizens: int = typer.Option(20000, "--citizens", help="Simulate this many citizens if no --sim-dir."),
    days: int = typer.Option(60, "--days", help="Simulate this many days if no --sim-dir."),
    simulate: bool = typer.Option(True, "--simulate/--no-simulate", help="Simulate when no --sim-dir is given."),
    splink: bool = typer.Option(True, "--splink/--no-splink", help="Also run Splink (needs `--group bench`)."),
    breakdown: bool = typer.Option(False, "--breakdown", help="Also break the errors down by channel, evidence and reason."),
) -> None:
    """Precision, recall and F1 of contact-to-citizen links, ours and Splink's, on FEBRL4 and simulated data."""
    from linkage.eval import evaluate

    for line in evaluate.run_all(febrl=febrl, sim_dir=sim_dir, lake=lake, citizens=citizens, days=days,
                                 simulate=simulate, splink=splink, breakdown=breakdown):
        typer.echo(line)


def relink_command(
    settings_file: Path | None = typer.Option(None, "--settings", exists=True, dir_okay=False,
                                              help="Link settings YAML (only the keys you change); default: "
                                                   "JOINEDUP_LINK_SETTINGS, else linkage/settings.yml."),
) -> None:
    """Re-decide every stored contact under the link settings in force, and audit what changed.

    Uses the pipeline's locations (JOINEDUP_LAKE, JOINEDUP_IDENTITY, JOINEDUP_REGISTER) and key. Review
    decisions and the learned model are kept. Run the journeys DAG afterwards to publish the result.
    """
    from joinedup import paths
    from joinedup.cliargs import UserError
    from joinedup.identity.pseudonym import PseudonymKeyError, load_key
    from joinedup.identity.relink import relink
    from linkage.settings import SettingsError, load_settings

    try:
        settings = load_settings(settings_file)
        key = load_key()
    except (SettingsError, PseudonymKeyError) as exc:
        raise UserError(str(exc)) from exc
    t0 = time.perf_counter()
    try:
        done = relink(paths.lake_root(), paths.identity_root(), paths.register_path(), key, settings)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from exc
    typer.echo(f"relinked {done.contacts:,} contacts in {time.perf_counter() - t0:.0f} s under settings "
               f"{done.settings_fingerprint}: {done.changed_contacts:,} changed ({done.decisions_changed:,} "
               f"decisions, {done.citizens_changed:,} citizens, {done.persons_changed:,} persons); "
               f"audit: table relink_audit in {paths.identity_root()}; run the journeys DAG to publish")


def register(app: typer.Typer) -> None:
    app.command("link")(link_command)
    app.command("relink")(relink_command)
    app.command("link-eval")(link_eval_command)
    app.command("link-review-export")(review_export_command)
    app.command("link-review-import")(review_import_command)
