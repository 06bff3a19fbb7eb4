"""Applying caseworkers' decisions: the link step's first pass, before it links new contacts.

A decision changes links only through the linker, so an accepted contact is explained like any other link and
its person is renamed the way a new register match renames one:

- accept (contact X is citizen C): X is linked again with the must-link in force. Its person P was pseudonymous,
  so P proves to be C: P is aliased to C and every contact of P moves to C (persons merged).
- reject (X is not C): X is linked again with the cannot-link in force: it can never join C, not through another
  contact, not through a remembered identifier. If X was C's, it leaves (a person split).
- undo of D: what D changed is put back, row by row, where nothing has changed it since (a later run that moved
  the row wins, and the audit says so); the pair is then free, as if never decided.

Each decision's changes are found by comparing the linkage state's history tables before and after it, so the
audit (`review_changes` in the identity store) says exactly what it changed: which contacts moved from which
person to which, which persons were renamed, and the contact's link before and after. That is also what undo
puts back. Decisions apply one at a time in the order they were made.

`apply_in_state` runs in the linking process (joinedup.identity.worker), with the prepared register at hand;
`pending` and the store tables are the link step's side (joinedup.identity.link_step).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from linkage.io import make_private
from linkage.pipeline import link
from linkage.prepare import PreparedRegister
from linkage.settings import LinkSettings
from linkage.state import TABLES, load_state, save_table

CHANGE_COLUMNS = ("decision_id", "table_name", "row_key", "person_id_before", "citizen_id_before",
                  "decision_before", "person_id_after", "citizen_id_after", "decision_after",
                  "match_probability_before", "match_weight_before", "explanation_before",
                  "match_probability_after", "match_weight_after", "explanation_after")
APPLIED_COLUMNS = ("decision_id", "applied_at", "outcome", "contacts_moved", "persons_merged", "persons_split",
                   "rows_kept")
LINK_FIELDS = ("person_id", "citizen_id", "match_probability", "match_weight", "decision", "explanation")
# the history tables a decision can change, with their key and the columns compared
DIFFED = {"persons": (("contact_id",), ("person_id", "citizen_id", "decision")),
          "identifiers": (("kind", "key_hash"), ("person_id", "citizen_id")),
          "aliases": (("old_person_id",), ("person_id",))}


@dataclass(frozen=True)
class DecisionPass:
    """What the first pass of a link step did: the decisions applied, their changes, and the decided contacts'
    links as they now are (to replace their rows in the identity store)."""

    applied: pd.DataFrame  # APPLIED_COLUMNS
    changes: pd.DataFrame  # CHANGE_COLUMNS
    links: pd.DataFrame  # contact_id + LINK_FIELDS


def _link(values: dict) -> dict:
    """A contact's link (LINK_FIELDS) with its numbers as numbers: the links and changes handed to the linking
    process are all text (joinedup.review.store._write), the linker's own output is not, and one output column
    mixing both cannot be written (an accept and its undo applied in the same pass did exactly that)."""
    out = {}
    for f in LINK_FIELDS:
        v = values.get(f)
        missing = v is None or (isinstance(v, float) and math.isnan(v))
        if f in ("match_probability", "match_weight"):
            out[f] = None if missing or v == "" else float(v)
        else:
            out[f] = None if missing else str(v)
    return out


def pending(inbox: pd.DataFrame, applied_ids: set[str]) -> pd.DataFrame:
    """The inbox's decisions (joinedup.review.decisions.all_decisions) the store has not applied, oldest first."""
    return inbox[~inbox["decision_id"].isin(applied_ids)].reset_index(drop=True)


def sync_state_decisions(state_dir: Path, inbox: pd.DataFrame) -> None:
    """The linkage state's decisions := every inbox decision (plus any recorded straight into the state by a
    standalone `joinedup link-review-import`), so every later run respects them: latest per pair in force, an
    undo as the latest leaves the pair free (linkage.state.latest_decisions)."""
    state = load_state(state_dir)
    old = state["decisions"]
    if "decision_id" in old:
        old = old[old["decision_id"].isna() | ~old["decision_id"].isin(inbox["decision_id"])]
    rows = inbox[["contact_id", "citizen_id", "decision", "decided_at", "decision_id", "decided_by"]]
    merged = pd.concat([old, rows], ignore_index=True) if len(old) else rows
    cols = list(dict.fromkeys([*TABLES["decisions"], "decision_id", "decided_by"]))
    merged = merged.reindex(columns=cols).astype(object)
    if not merged.equals(old.reindex(columns=cols).astype(object).reset_index(drop=True)):
        save_table(state, "decisions", merged.reset_index(drop=True))


def _snapshot(state_dir: Path, tag: str) -> dict[str, Path | None]:
    """Hard links to the history tables as they are (their writers replace files, never rewrite them)."""
    out: dict[str, Path | None] = {}
    for name in DIFFED:
        src = state_dir / f"{name}.parquet"
        if src.exists():
            snap = state_dir / f".{name}.{tag}.snap"
            snap.unlink(missing_ok=True)
            os.link(src, snap)
            out[name] = snap
        else:
            out[name] = None
    return out


def _table_sql(path: Path | None, name: str) -> str:
    key, cols = DIFFED[name]
    if path is None:
        return "(select " + ", ".join(f"null::varchar as {c}" for c in (*key, *cols)) + " where false)"
    return f"(select {', '.join(f'cast({c} as varchar) as {c}' for c in (*key, *cols))} from read_parquet('{path}'))"


def _diff(state_dir: Path, before: dict[str, Path | None], decision_id: str) -> pd.DataFrame:
    """Rows of the history tables that differ between `before` and now, as CHANGE_COLUMNS."""
    parts = []
    with duckdb.connect() as con:
        for name, (key, cols) in DIFFED.items():
            now = state_dir / f"{name}.parquet"
            rk = " || ':' || ".join(f"coalesce(b.{k}, a.{k})" for k in key)
            sides = ", ".join(f"{f'{side}.{c}' if c in cols else 'null'} as {c}_{label}"
                              for side, label in (("b", "before"), ("a", "after"))
                              for c in ("person_id", "citizen_id", "decision"))
            df = con.execute(f"""
                select ? as decision_id, ? as table_name, {rk} as row_key, {sides}
                from {_table_sql(before[name], name)} b
                full join {_table_sql(now if now.exists() else None, name)} a using ({', '.join(key)})
                where {' or '.join(f'b.{c} is distinct from a.{c}' for c in cols)}
                order by row_key""", [decision_id, name]).df()
            parts.append(df)
    out = pd.concat(parts, ignore_index=True)
    return out.reindex(columns=CHANGE_COLUMNS).astype(object).where(out.reindex(columns=CHANGE_COLUMNS).notna(), None)


def _counts(changes: pd.DataFrame, state_dir: Path) -> dict[str, int]:
    """contacts moved, persons merged (renamed into another), persons split (a person some contacts left while
    others stayed)."""
    moved = changes[(changes["table_name"] == "persons")
                    & (changes["person_id_before"].astype(str) != changes["person_id_after"].astype(str))]
    merged = changes[(changes["table_name"] == "aliases") & changes["person_id_after"].notna()]
    split = 0
    left = {p for p in moved["person_id_before"] if isinstance(p, str)} - set(merged["row_key"])
    if left and (state_dir / "persons.parquet").exists():
        with duckdb.connect() as con:
            con.register("left_df", pd.DataFrame({"person_id": sorted(left)}))
            split = con.execute(f"select count(distinct person_id) from read_parquet('{state_dir / 'persons.parquet'}') "
                                "semi join left_df using (person_id)").fetchone()[0]
    return {"contacts_moved": len(moved), "persons_merged": len(merged), "persons_split": int(split)}


def _restore(state_dir: Path, changes: pd.DataFrame) -> int:
    """Put back what `changes` changed where nothing has changed it since; returns how many rows were kept as a
    later change left them."""
    kept = 0
    with duckdb.connect() as con:
        for name, (key, cols) in DIFFED.items():
            ch = changes[changes["table_name"] == name]
            path = state_dir / f"{name}.parquet"
            if ch.empty or not path.exists():
                continue
            con.register("ch_df", ch.astype(object).where(ch.notna(), None).astype(str).where(ch.notna(), None))
            con.execute("create or replace temp view ch_raw as select "
                        + ", ".join(f"cast({c} as varchar) as {c}" for c in CHANGE_COLUMNS) + " from ch_df")
            rk = " || ':' || ".join(f"cast(t.{k} as varchar)" for k in key)
            same = " and ".join(f"cast(t.{c} as varchar) is not distinct from c.{c}_after" for c in cols)
            kept += con.execute(f"""select count(*) from read_parquet('{path}') t join ch_raw c on {rk} = c.row_key
                                    where not ({same})""").fetchone()[0]
            all_cols = TABLES[name]
            put = ", ".join(f"case when c.row_key is not null and ({same}) then c.{c}_before else t.{c} end as {c}"
                            if c in cols else f"t.{c}" for c in all_cols)
            # a row the decision added (nothing before) goes, if unchanged since
            gone = " and ".join(f"c.{c}_before is null" for c in cols)
            tmp = state_dir / f".{name}.parquet.restore.tmp"
            con.execute(f"""copy (select {put} from read_parquet('{path}') t left join ch_raw c on {rk} = c.row_key
                                  where not (c.row_key is not null and ({same}) and {gone})
                                  order by {', '.join(f't.{k}' for k in key)})
                            to '{tmp}' (format parquet)""")
            con.execute("drop view ch_raw")
            con.unregister("ch_df")
            make_private(tmp).replace(path)
    return kept


def apply_in_state(register: PreparedRegister, decisions: pd.DataFrame, contacts: pd.DataFrame,
                   links_now: pd.DataFrame, earlier_changes: pd.DataFrame, state_dir: Path, settings: LinkSettings,
                   key: bytes) -> DecisionPass:
    """Apply `decisions` (joinedup.review.decisions.COLUMNS, oldest first) to the linkage state, one at a time.

    contacts: the landed rows (linkage columns) of the contacts decided on. links_now: their current links
    (contact_id + LINK_FIELDS, from the identity store). earlier_changes: the changes of the decisions these undo.
    """
    links = {r["contact_id"]: _link(r) for r in links_now.to_dict("records")}
    by_contact = {cid: grp for cid, grp in contacts.groupby("contact_id", sort=False)}
    applied, all_changes = [], []
    for d in decisions.to_dict("records"):
        did, cid = d["decision_id"], d["contact_id"]
        now = datetime.now(UTC).replace(tzinfo=None)
        before = _snapshot(state_dir, did)
        link_before = links.get(cid)
        outcome, kept = "applied", 0
        try:
            if d["decision"] == "undo":
                undone = earlier_changes[earlier_changes["decision_id"] == d["undoes"]]
                undone = pd.concat([undone.astype(object), *[c[c["decision_id"] == d["undoes"]].astype(object)
                                                             for c in all_changes if len(c)]], ignore_index=True)
                if undone.empty:
                    outcome = "nothing_to_undo"
                else:
                    kept = _restore(state_dir, undone)
                    old = undone[undone["table_name"] == "links"]
                    if len(old) and link_before is not None:
                        row = old.iloc[-1]
                        links[cid] = _link({f: row[f"{f}_before"] for f in LINK_FIELDS})
            elif cid not in by_contact:
                outcome = "contact_gone"  # erased or past retention since the decision was made
            else:
                out = link(register, by_contact[cid].drop(columns=["decision_id"], errors="ignore"),
                           state_dir=state_dir, settings=settings, identifier_key=key)
                links[cid] = _link(out.iloc[0].to_dict())
            changes = _diff(state_dir, before, did)
            if link_before is not None and links.get(cid) != link_before:
                row = {"decision_id": did, "table_name": "links", "row_key": cid,
                       **{f"{f}_before": link_before.get(f) for f in LINK_FIELDS},
                       **{f"{f}_after": links[cid].get(f) for f in LINK_FIELDS}}
                extra = pd.DataFrame([row]).reindex(columns=CHANGE_COLUMNS).astype(object)
                changes = extra if changes.empty else pd.concat([changes.astype(object), extra], ignore_index=True)
        finally:
            for snap in before.values():
                if snap is not None:
                    snap.unlink(missing_ok=True)
        all_changes.append(changes)
        applied.append({"decision_id": did, "applied_at": now, "outcome": outcome, **_counts(changes, state_dir),
                        "rows_kept": kept})
    filled = [c.astype(object) for c in all_changes if len(c)]
    changes = pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=list(CHANGE_COLUMNS))
    link_rows = pd.DataFrame([{"contact_id": c, **v} for c, v in links.items()],
                             columns=["contact_id", *LINK_FIELDS])
    return DecisionPass(pd.DataFrame(applied, columns=list(APPLIED_COLUMNS)),
                        changes.reindex(columns=CHANGE_COLUMNS), link_rows)


def explain_change(row: dict) -> str:
    """One line a caseworker reads in the audit."""
    t = row["table_name"]
    if t == "persons":
        return f"contact {row['row_key']}: person {row['person_id_before']} -> {row['person_id_after']}"
    if t == "aliases":
        return f"person {row['row_key']} renamed {row['person_id_before'] or '(itself)'} -> {row['person_id_after']}"
    if t == "links":
        return (f"contact {row['row_key']}: {row['decision_before']} -> {row['decision_after']} "
                f"({json.loads(row['explanation_after'] or '{}').get('via', '')})")
    return f"{t} {row['row_key']}: person {row['person_id_before']} -> {row['person_id_after']}"


__all__ = ["APPLIED_COLUMNS", "CHANGE_COLUMNS", "DecisionPass", "apply_in_state",
           "explain_change", "pending", "sync_state_decisions"]
