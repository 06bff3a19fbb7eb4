"""The review queue and each item's evidence, read from the restricted identity store for the UI and the CLI.

The link step keeps the queue and the evidence a caseworker compares in the store (joinedup.review.store), so
a page reads a few indexed rows of one DuckDB file and never scans the lake: the store is opened read-only and
reopened only when the link step has swapped in a new one. Items decided but not applied yet (the link step
applies them on its next run) leave the queue at once, and show as pending in the item's history.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from joinedup.review.decisions import all_decisions
from linkage.predict import REVIEW_REASONS

STORE_DB = "identity.duckdb"
PAGE = 50
# what a caseworker compares, in this order, when the contact or register states it
COMPARED = ("given_name", "family_name", "full_name", "date_of_birth", "address_line", "town", "postcode", "email",
            "phone", "reference_id", "case_ref", "handle", "platform", "display_name", "location", "known_handles")
PROTECTION_REASONS = {
    "different_person": "a stated forename or date of birth clearly differs (another member of the household "
                        "using the same identifier)",
    "contradiction": "the rest of the evidence contradicts the shared identifier",
    "fanout": "the identifier is held by several citizens in the register",
    "blocklist": "the identifier is a placeholder or a shared address (blocklist)",
}


class NotInStore(LookupError):
    """The store has no such queue item (decided and applied, erased, or never in review)."""


@dataclass(frozen=True)
class QueueRow:
    contact_id: str
    citizen_id: str | None
    channel: str | None
    service: str | None
    occurred_at: str | None
    match_probability: float | None
    reason: str
    contacts_affected: int


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    facets: dict[str, dict[str, int]]  # channel / service / reason -> value -> items
    pending: int  # decided, waiting for the next link step


@dataclass
class WaterfallStep:
    label: str
    weight: float  # match weight in bits this comparison adds
    cumulative: float  # running total after it
    probability: float  # pairwise probability at the running total


@dataclass
class ReviewItem:
    contact_id: str
    citizen_id: str | None
    reason: str
    reason_text: str
    refused_identifier: str | None
    match_probability: float | None
    contact: dict[str, Any]
    citizen: dict[str, Any]
    compared: list[tuple[str, Any, Any]]  # field, contact's value, citizen's value
    waterfall: list[WaterfallStep]
    person_contacts: list[dict[str, Any]]  # the contact's person's other contacts
    citizen_contacts: list[dict[str, Any]]  # contacts already linked to the candidate
    contacts_affected: int
    history: list[dict[str, Any]] = field(default_factory=list)


def attach_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection reading the DuckDB file at `path` as it is now.

    Attached to an in-memory database rather than opened with duckdb.connect(path): that call hands back the
    database instance already open in this process for the same path, so after the link step swapped a new
    file in, anyone else in the process still holding the old one (a second Store, the link step's own check of
    what it applied) made every new connection read the old file."""
    con = duckdb.connect()
    con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as identity_store (read_only)")
    con.execute("use identity_store")
    return con


class Store:
    """A read-only handle on the identity store, reopened when the link step swaps a new file in."""

    def __init__(self, identity: Path) -> None:
        self.identity = identity
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def _current(self) -> duckdb.DuckDBPyConnection:
        path = self.identity / STORE_DB
        st = os.stat(path)
        stamp = (st.st_ino, st.st_mtime_ns)
        if self._con is None or stamp != self._stamp:
            if self._con is not None:
                self._con.close()
            self._con = attach_read_only(path)
            self._stamp = stamp
        return self._con

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        with self._lock:
            return self._current().execute(sql, params or []).df()  # one query at a time: the lock

    def has(self, table: str) -> bool:
        return bool(len(self.query("select 1 from duckdb_tables() where table_name = ?", [table])))


def waiting(store: Store) -> tuple[set[str], int]:
    """Contacts decided but not applied yet (they leave the queue at once), and how many decisions the next link
    step will apply.

    Counted per decision, not per contact: a contact decided before (applied), back in review and decided
    again is waiting; a pending accept or reject that a pending undo cancels leaves the contact free, so it is
    back in the queue at once for the caseworker to decide again."""
    d = all_decisions(store.identity)
    if d.empty:
        return set(), 0
    applied = set(store.query("select decision_id from review_decisions where applied_at is not null")
                  ["decision_id"]) if store.has("review_decisions") else set()
    todo = d[~d["decision_id"].isin(applied)]
    undone = set(d["undoes"].dropna())
    active = todo[todo["decision"].isin(["accept", "reject"]) & ~todo["decision_id"].isin(undone)]
    return set(active["contact_id"]), len(todo)


def _clean(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M UTC")
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in r.items()} for r in df.to_dict("records")]


# list_queue's order (the store builds review_queue in it too): contacts a decision settles, then the oldest
ORDER = "q.contacts_affected desc, q.occurred_at, q.contact_id"


def _where(waiting_ids: set[str], channel: str | None, service: str | None,
           reason: str | None) -> tuple[str, list[Any]]:
    filters, params = ["q.contact_id not in (select unnest(?::varchar[]))"], [sorted(waiting_ids)]
    for col, value in (("channel", channel), ("service", service), ("reason", reason)):
        if value:
            filters.append(f"q.{col} = ?")
            params.append(value)
    return " and ".join(filters), params


def list_queue(store: Store, channel: str | None = None, service: str | None = None, reason: str | None = None,
               limit: int = PAGE, offset: int = 0) -> QueuePage:
    """A page of the queue, most settling first (contacts affected, then the oldest), with facet counts."""
    if not store.has("review_queue"):
        return QueuePage([], 0, {"channel": {}, "service": {}, "reason": {}}, 0)
    waiting_ids, pending = waiting(store)
    where, params = _where(waiting_ids, channel, service, reason)
    rows = store.query(f"""select q.contact_id, q.citizen_id, q.channel, q.service,
                                  strftime(q.occurred_at, '%Y-%m-%d %H:%M') as occurred_at, q.match_probability,
                                  q.reason, q.contacts_affected
                           from review_queue q where {where}
                           order by {ORDER} limit ? offset ?""",
                       [*params, limit, offset])
    total = int(store.query(f"select count(*) as n from review_queue q where {where}", params)["n"].iloc[0])
    facets: dict[str, dict[str, int]] = {}
    for col in ("channel", "service", "reason"):
        f = store.query(f"""select coalesce({col}, '(none)') as v, count(*) as n from review_queue
                            where contact_id not in (select unnest(?::varchar[])) group by 1 order by 2 desc, 1""",
                        [sorted(waiting_ids)])
        facets[col] = dict(zip(f["v"], f["n"].astype(int)))
    return QueuePage([QueueRow(**{k: _clean(v) for k, v in r.items()}) for r in rows.to_dict("records")], total,
                     facets, pending)


def neighbours(store: Store, contact_id: str, channel: str | None = None, service: str | None = None,
               reason: str | None = None, waiting_ids: set[str] | None = None) -> tuple[str | None, str | None]:
    """The queue items before and after `contact_id` in list_queue's order and filters (None at either end).

    The contact itself counts even when it was just decided (so "next" after a decision is the item that
    followed it, and items skipped earlier stay skipped); one not in the filtered queue is before its first
    item. `waiting_ids`: waiting(store)'s contacts, when the caller has them already."""
    if not store.has("review_queue"):
        return None, None
    if waiting_ids is None:
        waiting_ids, _ = waiting(store)
    where, params = _where(waiting_ids - {contact_id}, channel, service, reason)
    found = store.query(f"""select prev, next from (
                                select q.contact_id, lag(q.contact_id) over w as prev,
                                       lead(q.contact_id) over w as next
                                from review_queue q where {where} window w as (order by {ORDER}))
                            where contact_id = ?""", [*params, contact_id])
    if len(found):
        return _clean(found["prev"].iloc[0]), _clean(found["next"].iloc[0])
    first = list_queue(store, channel, service, reason, limit=1).rows
    return None, first[0].contact_id if first else None


def reason_text(reason: str, refused_identifier: str | None) -> str:
    """What a caseworker reads for why an item is in review."""
    if reason.startswith("refused: "):
        parts = [PROTECTION_REASONS.get(r.strip(), r.strip()) for r in reason[len("refused: "):].split(",")]
        return (f"Merge protection refused the link through the shared {refused_identifier or 'identifier'}: "
                + "; ".join(parts) + ".")
    return REVIEW_REASONS.get(reason, reason).capitalize() + "."


def waterfall(explanation: str | None) -> list[WaterfallStep]:
    """Splink's waterfall: the prior, then each comparison's match weight, with the running total and the pairwise
    probability it implies (the linker's contact-level probability also weighs the other candidates)."""
    doc = json.loads(explanation or "{}")
    steps: list[WaterfallStep] = []
    total = 0.0
    items = [("prior", doc["prior"])] if "prior" in doc else []
    items += [(k, v) for k, v in doc.items() if isinstance(v, (int, float)) and k != "prior"]
    for label, w in items:
        total += float(w)
        steps.append(WaterfallStep(label, float(w), round(total, 2), 1 / (1 + 2 ** (-total))))
    return steps


def item(store: Store, contact_id: str) -> ReviewItem:
    """Everything the caseworker needs to decide one queue item."""
    q = store.query("select * from review_queue where contact_id = ?", [contact_id])
    if q.empty:
        raise NotInStore(f"contact {contact_id} is not in the review queue")
    row = {k: _clean(v) for k, v in q.iloc[0].to_dict().items()}
    contacts = store.query("select * from review_contacts where contact_id = ?", [contact_id])
    contact = _records(contacts)[0] if len(contacts) else {"contact_id": contact_id}
    citizen: dict[str, Any] = {}
    if row["citizen_id"]:
        c = store.query("select * from review_citizens where citizen_id = ?", [row["citizen_id"]])
        citizen = _records(c)[0] if len(c) else {"citizen_id": row["citizen_id"]}
    compared = [(f, contact.get(f), citizen.get(f)) for f in COMPARED
                if contact.get(f) is not None or citizen.get(f) is not None]
    cols = set(store.query("select column_name from (describe review_contacts)")["column_name"])
    shown = ", ".join(c for c in ("contact_id", "channel", "occurred_at", "service", "outcome", "given_name",
                                  "family_name", "email", "phone", "handle") if c in cols)
    person = store.query(f"""select {shown} from review_contacts where person_id = ? and contact_id <> ?
                             order by occurred_at desc""", [row["person_id"], contact_id])
    theirs = store.query(f"""select {shown} from review_contacts where citizen_id = ?
                             order by occurred_at desc""", [row["citizen_id"]]) if row["citizen_id"] else pd.DataFrame()
    history = []
    if store.has("review_decisions"):
        history = _records(store.query("select * from review_decisions where contact_id = ? order by decided_at",
                                       [contact_id]))
    applied = {h["decision_id"] for h in history}
    d = all_decisions(store.identity, contact_id)
    history += [{**r, "applied_at": None, "outcome": "pending"} for r in _records(d[~d["decision_id"].isin(applied)])]
    return ReviewItem(contact_id=contact_id, citizen_id=row["citizen_id"], reason=row["reason"],
                      reason_text=reason_text(row["reason"], row.get("refused_identifier")),
                      refused_identifier=row.get("refused_identifier"), match_probability=row["match_probability"],
                      contact=contact, citizen=citizen, compared=compared, waterfall=waterfall(row["explanation"]),
                      person_contacts=_records(person), citizen_contacts=_records(theirs),
                      contacts_affected=int(row["contacts_affected"] or 1), history=history)


def recent_decisions(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """The latest decisions, applied or pending, newest first (what a caseworker can undo)."""
    d = all_decisions(store.identity)
    applied = store.query("select decision_id, applied_at, outcome, contacts_moved, persons_merged, persons_split "
                          "from review_decisions") if store.has("review_decisions") else pd.DataFrame(
        columns=["decision_id", "applied_at", "outcome", "contacts_moved", "persons_merged", "persons_split"])
    merged = d.merge(applied, on="decision_id", how="left")
    undone = set(d.loc[d["decision"] == "undo", "undoes"])
    merged["undone"] = merged["decision_id"].isin(undone)
    return _records(merged.sort_values("decided_at", ascending=False).head(limit))


def changes(store: Store, decision_id: str) -> list[dict[str, Any]]:
    """What one applied decision changed (joinedup.review.apply), for the audit view."""
    if not store.has("review_changes"):
        return []
    return _records(store.query("select * from review_changes where decision_id = ? order by table_name, row_key",
                                [decision_id]))
