"""`joinedup relink`: re-decide every stored contact under the link settings in force, and audit what changed.

A daily run links only contacts the identity store has not seen, so a changed threshold or protection would
otherwise apply to new contacts only. Relinking runs the same link step over every landed contact, from a
fresh linkage state that keeps what is not a setting: the learned model (model.json), the prepared register
cache, and every clerical review decision (decisions are always respected). It works in a folder inside the
restricted identity store and swaps the result in only when it has finished, so a failed relink leaves the
store as it was. The audit (table `relink_audit` in the store) says, per contact whose person, citizen or
decision changed, what it was and what it is, under which settings; the next journeys run publishes it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from joinedup.identity.link_step import SPARK_WORK, LinkStepResult, run_link_step
from joinedup.identity.store import IDENTITY_DB, STORE_LOCK, holds_store_lock
from joinedup.review.decisions import INBOX
from joinedup.zones import make_private, private_dir
from linkage.register_cache import CACHE_DIR
from linkage.settings import LinkSettings, load_settings

WORK = ".relink"
# What a relink keeps from the linkage state: learned data and review decisions, not earlier decisions' effects.
KEPT_STATE = ("model.json", "decisions.parquet", CACHE_DIR)
AUDIT_COLUMNS = ("relinked_at", "settings_fingerprint", "contact_id", "person_id_before", "person_id_after",
                 "citizen_id_before", "citizen_id_after", "decision_before", "decision_after")


@dataclass(frozen=True)
class RelinkResult:
    contacts: int
    changed_contacts: int
    decisions_changed: int
    citizens_changed: int
    persons_changed: int
    settings_fingerprint: str
    link: LinkStepResult


def _fresh_state(identity: Path, work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    private_dir(work / "linkage", root=work)
    for name in KEPT_STATE:  # copy2 keeps the owner-only modes
        src = identity / "linkage" / name
        if src.is_dir():
            shutil.copytree(src, work / "linkage" / name, copy_function=shutil.copy2)
        elif src.exists():
            shutil.copy2(src, work / "linkage" / name)


def _carry_review(identity: Path, work: Path) -> None:
    """The decisions inbox is read where it is, and the record of what each decision changed and when it was
    applied carries over: a relink re-decides every contact under the decisions in force, it does not apply them
    again one by one."""
    if (identity / INBOX).exists():
        (work / INBOX.parent).symlink_to(identity / INBOX.parent, target_is_directory=True)
    store = identity / IDENTITY_DB
    with duckdb.connect(str(work / IDENTITY_DB)) as con:
        make_private(work / IDENTITY_DB)
        con.execute(f"attach '{store}' as old (read_only)")
        for table in ("review_applied", "review_changes"):
            if con.execute("select count(*) from duckdb_tables() where database_name = 'old' and table_name = ?",
                           [table]).fetchone()[0]:
                con.execute(f"create table {table} as select * from old.{table}")


def _audit(old_store: Path, new_store: Path, settings: LinkSettings, at: datetime) -> tuple[int, ...]:
    """Write the changed contacts (and the earlier relinks' audit) into the new store; return the counts."""
    with duckdb.connect(str(new_store)) as con:
        con.execute(f"attach '{old_store}' as old (read_only)")
        has_old = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'old'").fetchall()}
        before = "old.contact_links" if "contact_links" in has_old else \
            "(select null::varchar as contact_id, null::varchar as person_id, null::varchar as citizen_id, " \
            "null::varchar as decision where false)"
        con.execute(f"""create table relink_audit as
            select ?::timestamp as relinked_at, ? as settings_fingerprint, contact_id,
                   b.person_id as person_id_before, a.person_id as person_id_after,
                   b.citizen_id as citizen_id_before, a.citizen_id as citizen_id_after,
                   b.decision as decision_before, a.decision as decision_after
            from contact_links a full join {before} b using (contact_id)
            where a.person_id is distinct from b.person_id or a.citizen_id is distinct from b.citizen_id
               or a.decision is distinct from b.decision
            order by contact_id""", [at.replace(tzinfo=None), settings.fingerprint()])
        counts = con.execute("""select count(*), count(*) filter (where decision_before is distinct from decision_after),
                                       count(*) filter (where citizen_id_before is distinct from citizen_id_after),
                                       count(*) filter (where person_id_before is distinct from person_id_after)
                                from relink_audit""").fetchone()
        if "relink_audit" in has_old:
            con.execute("insert into relink_audit select * from old.relink_audit")
        con.execute("""create or replace table relink_settings as
                       select ?::timestamp as relinked_at, ? as settings_fingerprint, ? as settings_json""",
                    [at.replace(tzinfo=None), settings.fingerprint(), json.dumps(settings.model_dump(mode="json"))])
        if "relink_settings" in has_old:
            con.execute("insert into relink_settings select * from old.relink_settings")
    return counts


def _swap_in(identity: Path, work: Path) -> None:
    """Replace the store's contents with the relinked ones. The identity folder itself may be a mount point,
    so its entries are moved, not the folder: the old ones aside first, removed only once the new ones are in.
    What a relink does not remake stays: the decisions inbox, subject-access bundles, the writer lock."""
    aside = identity / ".relink-old"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir(mode=0o700)
    if (work / INBOX.parent).is_symlink():
        (work / INBOX.parent).unlink()
    remade = {entry.name for entry in work.iterdir()} - {STORE_LOCK}
    for entry in identity.iterdir():
        if entry.name in remade:
            os.replace(entry, aside / entry.name)
    for entry in work.iterdir():
        if entry.name in remade:
            os.replace(entry, identity / entry.name)
    shutil.rmtree(aside)
    shutil.rmtree(work)


@holds_store_lock
def relink(lake: Path, identity: Path, register_path: Path, key: bytes,
           settings: LinkSettings | None = None) -> RelinkResult:
    """Re-decide every landed contact under `settings` (default: those configured); see the module docstring."""
    settings = settings or load_settings()
    store = identity / IDENTITY_DB
    if not store.exists():
        raise FileNotFoundError(f"no identity store at {store}: nothing has been linked yet, so nothing to relink")
    work = identity / WORK
    _fresh_state(identity, work)
    try:
        _carry_review(identity, work)
        result = run_link_step(lake, work, register_path, key, settings=settings, decisions=False,
                               spark_work=identity / SPARK_WORK)
        counts = _audit(store, work / IDENTITY_DB, settings, datetime.now(UTC))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _swap_in(identity, work)
    return RelinkResult(contacts=result.contacts, changed_contacts=counts[0], decisions_changed=counts[1],
                        citizens_changed=counts[2], persons_changed=counts[3],
                        settings_fingerprint=settings.fingerprint(), link=result)
