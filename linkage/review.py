"""Clerical review: export the queue side by side with match weights, import the decisions.

A reviewer fills `decision` with accept or reject. Imported decisions go to the identity store
and every later run honours them: accept is a must-link (the contact is that citizen), reject a
cannot-link (never that citizen, not even through another contact).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from linkage.state import load_state, save_table

SIDE_BY_SIDE = ["given_name", "family_name", "date_of_birth", "address_line", "town", "postcode", "email",
                "phone", "reference_id", "handle", "display_name", "location", "known_handles"]
VALID = {"accept", "reject"}


def review_queue(result: pd.DataFrame, register: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """One row per contact under review: its record, the candidate citizen's, and the weights."""
    q = result[result["decision"] == "review"].copy()
    expl = q["explanation"].map(json.loads)
    q["citizen_id"] = expl.map(lambda e: e.get("candidate"))
    weights = pd.DataFrame([{f"w_{k}": v for k, v in e.items() if k not in ("via", "candidate")} for e in expl],
                           index=q.index)
    con = contacts.drop_duplicates("contact_id").set_index("contact_id")
    reg = register.drop_duplicates("citizen_id").set_index("citizen_id")
    out = q[["contact_id", "citizen_id", "match_probability", "match_weight"]].reset_index(drop=True)
    for col in SIDE_BY_SIDE:
        out[f"contact_{col}"] = con[col].reindex(out["contact_id"]).to_numpy() if col in con else None
        out[f"citizen_{col}"] = reg[col].reindex(out["citizen_id"]).to_numpy() if col in reg else None
    keep = [c for c in out.columns if not (out[c].isna().all() and c.startswith(("contact_", "citizen_"))
                                            and c not in ("contact_id", "citizen_id"))]
    out = pd.concat([out[keep], weights.reset_index(drop=True)], axis=1)
    out["decision"] = ""
    return out.sort_values("match_probability", ascending=False, ignore_index=True)


def import_decisions(decisions: pd.DataFrame, state_dir: str | Path, reviewer: str | None = None) -> int:
    """Store filled-in decisions (contact_id, citizen_id, decision); returns how many were new."""
    d = decisions.copy()
    d["decision"] = d["decision"].fillna("").astype(str).str.strip().str.lower()
    d = d[d["decision"].isin(VALID)]
    if d.empty:
        return 0
    now = datetime.now(UTC).isoformat()
    rows = pd.DataFrame({"contact_id": d["contact_id"].astype(str), "citizen_id": d["citizen_id"].astype(str),
                         "decision": d["decision"], "decided_at": now})
    state = load_state(state_dir)
    save_table(state, "decisions", pd.concat([state["decisions"], rows], ignore_index=True))
    return len(rows)
