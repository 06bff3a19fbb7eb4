"""The review sheet: queue items side by side for a caseworker who works offline, and its filled-in import.

A row is one queue item: the contact's and the candidate citizen's stated values (contact_<field>,
citizen_<field>), the per-comparison match weights (w_<comparison>), why it is in review, and an empty
`decision`. Import reads `contact_id`, `citizen_id` and `decision` only; a row whose item has left the queue,
or names another candidate, is refused with its row number, as is a decision other than accept/reject/blank.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from joinedup.review.decisions import Decision, DecisionError, record
from joinedup.review.queue import COMPARED, Store, list_queue
from linkage.io import private_file, read_table

DECIDED = {"accept", "reject"}


class SheetError(ValueError):
    """A sheet that cannot be imported as it is; names the file, row and field."""


def export_sheet(store: Store, out: Path, channel: str | None = None, service: str | None = None,
                 reason: str | None = None, limit: int = 500) -> int:
    ids = [r.contact_id for r in list_queue(store, channel, service, reason, limit=limit).rows]
    if not ids:
        frame = pd.DataFrame(columns=["contact_id", "citizen_id", "decision"])
    else:
        q = store.query("select * from review_queue where contact_id in (select unnest(?::varchar[]))", [ids])
        contacts = store.query("select * from review_contacts where contact_id in (select unnest(?::varchar[]))",
                               [ids]).drop_duplicates("contact_id").set_index("contact_id")
        citizens = store.query("select * from review_citizens").drop_duplicates("citizen_id").set_index("citizen_id")
        q = q.set_index("contact_id").loc[ids].reset_index()
        frame = q[["contact_id", "citizen_id", "match_probability", "reason", "refused_identifier", "channel",
                   "service", "occurred_at", "contacts_affected"]].copy()
        for f in COMPARED:
            if f in contacts:
                frame[f"contact_{f}"] = contacts[f].reindex(frame["contact_id"]).to_numpy()
            if f in citizens:
                frame[f"citizen_{f}"] = citizens[f].reindex(frame["citizen_id"]).to_numpy()
        weights = pd.DataFrame([{f"w_{k}": v for k, v in json.loads(e or "{}").items()
                                 if isinstance(v, (int, float))} for e in q["explanation"]])
        frame = pd.concat([frame.reset_index(drop=True), weights], axis=1)
        frame = frame.loc[:, ~(frame.isna().all() & frame.columns.str.startswith(("contact_", "citizen_"))
                                & ~frame.columns.isin(["contact_id", "citizen_id"]))]
        frame["decision"] = ""
    private_file(out)
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    return len(frame)


def import_sheet(store: Store, path: Path, reviewer: str) -> list[Decision]:
    """Check every row first, then record the decided ones: a sheet with one bad row records nothing."""
    try:
        sheet = read_table(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix, named here
        raise SheetError(f"{path}: cannot be read as a table ({type(exc).__name__})") from exc
    missing = [c for c in ("contact_id", "citizen_id", "decision") if c not in sheet.columns]
    if missing:
        raise SheetError(f"{path}: no column {', '.join(missing)} (export a sheet with `joinedup review export`)")
    if not reviewer or not reviewer.strip():
        raise SheetError("--reviewer is empty: say who decided")
    queue = store.query("select contact_id, citizen_id from review_queue")
    candidate = dict(zip(queue["contact_id"], queue["citizen_id"]))
    todo: list[tuple[str, str, str]] = []
    for i, row in enumerate(sheet.to_dict("records"), start=2):  # row 1 is the header
        decision = str(row.get("decision") or "").strip().lower()
        if decision in ("", "nan", "none"):
            continue
        if decision not in DECIDED:
            raise SheetError(f"{path}: row {i}, field decision: not accept, reject or empty")
        cid, citizen = str(row["contact_id"]), str(row["citizen_id"])
        if cid not in candidate:
            raise SheetError(f"{path}: row {i}, field contact_id: not in the review queue now "
                             "(decided already, or erased): export a fresh sheet")
        if candidate[cid] != citizen:
            raise SheetError(f"{path}: row {i}, field citizen_id: not the candidate the queue holds for this contact")
        todo.append((cid, citizen, decision))
    try:
        return [record(store.identity, c, z, d, reviewer, note=f"sheet {path.name}") for c, z, d in todo]
    except DecisionError as exc:
        raise SheetError(str(exc)) from exc
