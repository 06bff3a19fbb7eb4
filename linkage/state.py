"""The restricted identity store: a directory of Parquet tables a caller passes as `state_dir`.

persons.parquet      contact_id -> person_id, citizen_id, decision (every contact ever linked)
identifiers.parquet  kind, key_hash -> person_id (hashed identifiers for incremental linking)
decisions.parquet    clerical review decisions (contact_id, citizen_id, decision, decided_at)
aliases.parquet      old_person_id -> person_id when a pseudonymous person later proved a citizen
rejected_edges.parquet  audit of identifier edges refused by merge protection
model.json           the model the last run used (reused by later runs for stable scoring)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

TABLES = {
    "persons": ["contact_id", "person_id", "citizen_id", "decision"],
    "identifiers": ["kind", "key_hash", "person_id", "citizen_id"],
    "decisions": ["contact_id", "citizen_id", "decision", "decided_at"],
    "aliases": ["old_person_id", "person_id"],
    "rejected_edges": ["contact_id", "citizen_id", "identifier", "reason", "citizens_sharing_value",
                       "other_evidence_bits"],
}


@dataclass
class State:
    root: Path | None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def model_path(self) -> Path | None:
        return self.root / "model.json" if self.root else None

    def cannot_link(self) -> set[tuple[str, str]]:
        d = self.tables["decisions"]
        d = latest_decisions(d)
        rej = d[d["decision"] == "reject"]
        return set(zip(rej["contact_id"], rej["citizen_id"]))

    def must_link(self) -> dict[str, str]:
        d = latest_decisions(self.tables["decisions"])
        acc = d[d["decision"] == "accept"]
        return dict(zip(acc["contact_id"], acc["citizen_id"]))


def latest_decisions(d: pd.DataFrame) -> pd.DataFrame:
    """A later decision on the same pair overrides an earlier one."""
    if d.empty:
        return d
    return d.sort_values("decided_at").drop_duplicates(["contact_id", "citizen_id"], keep="last")


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in TABLES[name]})


def load_state(root: str | Path | None) -> State:
    if root is None:
        return State(None, {n: _empty(n) for n in TABLES})
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tables = {}
    for name in TABLES:
        p = root / f"{name}.parquet"
        tables[name] = pd.read_parquet(p) if p.exists() else _empty(name)
    return State(root, tables)


def save_table(state: State, name: str, df: pd.DataFrame) -> None:
    """Write one table atomically (write then rename) so a crash never leaves half a store."""
    state.tables[name] = df
    if state.root is None:
        return
    tmp = state.root / f".{name}.parquet.tmp"
    df.reset_index(drop=True).to_parquet(tmp, index=False)
    tmp.replace(state.root / f"{name}.parquet")
