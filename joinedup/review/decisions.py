"""The decisions inbox: what caseworkers decided, kept apart from the identity store so deciding never waits.

The link step rewrites the identity store and the linkage state for minutes on a council's year, holding the
store lock (joinedup.identity.store). A caseworker pressing "accept" must not wait for that, so decisions go to
a small SQLite file of their own inside the restricted identity folder (`review/decisions.sqlite`, WAL mode:
the UI writes while the link step reads). The link step applies every decision it has not applied yet
(joinedup.review.apply); nothing else changes a link.

A decision is accept (must-link: the contact is that citizen), reject (cannot-link: never that citizen, not even
through another contact) or undo (of an earlier accept or reject, by id: its effect is reversed and the pair is
free again). Each row records who decided and when; rows are never updated or deleted (except by an erasure,
which removes a citizen's rows with everything else about them).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from linkage.io import OWNER_FILE, private_dir

INBOX = Path("review") / "decisions.sqlite"
KINDS = ("accept", "reject", "undo")
COLUMNS = ("decision_id", "contact_id", "citizen_id", "decision", "decided_by", "decided_at", "undoes", "note")
_DDL = """create table if not exists decisions (
    decision_id text primary key,
    contact_id text not null,
    citizen_id text not null,
    decision text not null check (decision in ('accept', 'reject', 'undo')),
    decided_by text not null,
    decided_at text not null,
    undoes text references decisions (decision_id),
    note text
)"""


class DecisionError(ValueError):
    """A decision that cannot be recorded (unknown kind, no reviewer, an undo of nothing); says which."""


@dataclass(frozen=True)
class Decision:
    decision_id: str
    contact_id: str
    citizen_id: str
    decision: str
    decided_by: str
    decided_at: str
    undoes: str | None = None
    note: str | None = None


def inbox_path(identity: Path) -> Path:
    return identity / INBOX


@contextmanager
def _connect(identity: Path) -> Iterator[sqlite3.Connection]:
    path = inbox_path(identity)
    private_dir(path.parent, root=identity)
    try:  # owner-only before SQLite opens it (its -wal and -shm files take the same mode); never truncated
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_FILE))
    except FileExistsError:
        pass
    with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as con:
        con.execute("pragma journal_mode = wal")
        con.execute("pragma busy_timeout = 30000")
        con.execute(_DDL)
        yield con


def record(identity: Path, contact_id: str, citizen_id: str, decision: str, decided_by: str,
           note: str | None = None, undoes: str | None = None) -> Decision:
    """Record one decision; returns it with its id. The link step applies it on its next run."""
    decision = decision.strip().lower()
    if decision not in KINDS:
        raise DecisionError(f"decision {decision!r} is not one of {', '.join(KINDS)}")
    if not decided_by or not decided_by.strip():
        raise DecisionError("a decision needs the reviewer who made it")
    if (decision == "undo") != (undoes is not None):
        raise DecisionError("an undo names the decision it undoes, and only an undo does")
    d = Decision(f"d-{uuid.uuid4().hex[:16]}", str(contact_id), str(citizen_id), decision, decided_by.strip(),
                 datetime.now(UTC).isoformat(timespec="microseconds"), undoes, note)
    with _connect(identity) as con:
        con.execute("begin immediate")
        try:
            if undoes is not None:
                target = con.execute("select decision from decisions where decision_id = ?", [undoes]).fetchone()
                if target is None:
                    raise DecisionError(f"no decision {undoes} to undo")
                if target[0] == "undo":
                    raise DecisionError(f"{undoes} is itself an undo: decide the pair again instead")
                if con.execute("select 1 from decisions where undoes = ?", [undoes]).fetchone():
                    raise DecisionError(f"{undoes} is already undone")
            con.execute(f"insert into decisions ({', '.join(COLUMNS)}) values ({', '.join('?' * len(COLUMNS))})",
                        list(asdict(d).values()))
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return d


def undo(identity: Path, decision_id: str, decided_by: str, note: str | None = None) -> Decision:
    """Undo an earlier accept or reject: the link step reverses what it changed, and the pair is free again."""
    target = get(identity, decision_id)
    if target is None:
        raise DecisionError(f"no decision {decision_id} to undo")
    return record(identity, target.contact_id, target.citizen_id, "undo", decided_by, note, undoes=decision_id)


def get(identity: Path, decision_id: str) -> Decision | None:
    if not inbox_path(identity).exists():
        return None
    with _connect(identity) as con:
        row = con.execute(f"select {', '.join(COLUMNS)} from decisions where decision_id = ?",
                          [decision_id]).fetchone()
    return Decision(*row) if row else None


def all_decisions(identity: Path, contact_id: str | None = None) -> pd.DataFrame:
    """Every decision recorded (or only those on `contact_id`: an item page's history, without reading a year's
    inbox), in the order made (COLUMNS)."""
    if not inbox_path(identity).exists():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    where, params = ("where contact_id = ?", [contact_id]) if contact_id is not None else ("", [])
    with _connect(identity) as con:
        rows = con.execute(f"select {', '.join(COLUMNS)} from decisions {where} order by decided_at, decision_id",
                           params).fetchall()
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)


def remove_rows(identity: Path, contact_ids: set[str], citizen_id: str) -> int:
    """An erasure: the citizen's decisions go with everything else about them; returns how many."""
    if not inbox_path(identity).exists():
        return 0
    with _connect(identity) as con:
        con.execute("begin immediate")
        con.execute("create temp table gone (contact_id text primary key)")
        con.executemany("insert or ignore into gone values (?)", [(c,) for c in contact_ids])
        n = con.execute("""delete from decisions where citizen_id = ? or contact_id in (select contact_id from gone)
                           or undoes in (select decision_id from decisions where citizen_id = ?
                                         or contact_id in (select contact_id from gone))""",
                        [citizen_id, citizen_id]).rowcount
        con.execute("commit")
    return n
