"""Typer commands for data-subject rights and retention: subject-access, erase, retention.

They use the pipeline's locations (JOINEDUP_LAKE, JOINEDUP_IDENTITY, JOINEDUP_REGISTER, JOINEDUP_EXPORTS) and
key. A user's mistake (an unknown citizen, no key, a bundle folder in use) is one line, exit code 2. What they
print names no value from the data: counts, and where the restricted output went.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from joinedup.cliargs import UserError, parse_day


def _key() -> bytes:
    from joinedup.identity.pseudonym import PseudonymKeyError, load_key

    try:
        return load_key()
    except PseudonymKeyError as exc:
        raise UserError(str(exc)) from exc


def subject_access_command(
    citizen: str = typer.Option(..., "--citizen", help="The citizen's id in the register (citizen_id)."),
    out: Path | None = typer.Option(None, "--out", file_okay=False,
                                    help="Folder for the bundle (PII); default: inside the restricted identity "
                                         "store, JOINEDUP_IDENTITY/subject_access/."),
) -> None:
    """Write everything held about a citizen, across every channel and zone, as a readable folder."""
    from joinedup import paths
    from joinedup.identity.subject import UnknownCitizen
    from joinedup.identity.subject_access import subject_access

    try:
        folder = subject_access(paths.lake_root(), paths.identity_root(), paths.register_path(), citizen, out)
    except (UnknownCitizen, FileExistsError) as exc:
        raise UserError(str(exc)) from exc
    typer.echo(f"subject access bundle written to {folder} (README.md first). It holds personal data: keep it "
               "in the restricted zone, send it securely, delete it when the request is closed.")


def erase_command(
    citizen: str = typer.Option(..., "--citizen", help="The citizen's id in the register (citizen_id)."),
    requested_by: str = typer.Option(..., "--requested-by",
                                     help="The request's reference (a case or ticket number, not a name): "
                                          "recorded in the erasure audit."),
    rebuild: bool = typer.Option(True, "--rebuild/--no-rebuild",
                                 help="Run the link step now so the pseudonymous lake drops them at once "
                                      "(default); otherwise the next journeys run does."),
) -> None:
    """Erase a citizen from the lake, quarantine, identity store and linkage state, and keep them out."""
    from joinedup import paths
    from joinedup.identity.erase import erase
    from joinedup.identity.subject import UnknownCitizen

    if not requested_by.strip():
        raise UserError("--requested-by is empty: give the request's reference")
    try:
        done = erase(paths.lake_root(), paths.identity_root(), paths.register_path(), citizen, requested_by.strip(),
                     _key(), rebuild=rebuild)
    except UnknownCitizen as exc:
        raise UserError(str(exc)) from exc
    if done.already_erased:
        typer.echo(f"nothing left to erase: already erased (audit: {paths.lake_root() / '_audit' / 'erasures.jsonl'})")
        return
    c = done.counts
    typer.echo(f"erased {done.erasure_id}: {c.get('raw_contacts', 0)} landed contacts in "
               f"{c.get('raw_partitions', 0)} partitions, {c.get('quarantine_rows', 0)} quarantined rows, "
               f"{sum(v for k, v in c.items() if k.startswith('state_'))} linkage-state rows, "
               f"{sum(v for k, v in c.items() if k.startswith('store_'))} identity-store rows; "
               f"{c.get('suppression_entries_added', 0)} suppression entries added "
               f"({c.get('identifiers_kept_shared', 0)} identifiers shared with others not suppressed). "
               + ("The pseudonymous lake is rebuilt; " if rebuild else "Run the journeys DAG: ")
               + "the next journeys run publishes marts without them. Erase them from the register (CRM) too.")


def retention_command(
    today: str | None = typer.Option(None, "--as-of", metavar="YYYY-MM-DD",
                                     help="Count retention back from this day instead of today."),
    policy_file: Path | None = typer.Option(None, "--policy", exists=True, dir_okay=False,
                                            help="Retention YAML (only the zones you change); default: "
                                                 "JOINEDUP_RETENTION, else joinedup/retention/retention.yml."),
) -> None:
    """Remove data older than each zone's retention_days (what the `retention` DAG runs), and audit it."""
    from joinedup import paths
    from joinedup.retention.apply import apply_retention
    from joinedup.retention.policy import RetentionConfigError, load_policy

    try:
        policy = load_policy(policy_file)
        as_of: date | None = parse_day(today) if today else None
    except RetentionConfigError as exc:
        raise UserError(str(exc)) from exc
    except typer.BadParameter as exc:
        raise UserError(f"--as-of: {exc}") from exc
    done = apply_retention(paths.lake_root(), paths.identity_root(), paths.exports_root(), as_of, policy)
    for zone, z in done["zones"].items():
        if zone == "identity":
            typer.echo(f"identity: {sum(z.values())} rows of contacts no longer landed")
        else:
            typer.echo(f"{zone}: kept {z['retention_days']} days, removed before {z['removed_before']}: "
                       f"{z.get('partitions', z.get('bundles', 0))} removed")


def register(app: typer.Typer) -> None:
    app.command("subject-access")(subject_access_command)
    app.command("erase")(erase_command)
    app.command("retention")(retention_command)
