"""The restricted identity store: a directory of Parquet tables a caller passes as `state_dir`, owner-only (folder
0700, files 0600: linkage.io) because it holds PII.

persons.parquet      contact_id -> person_id, citizen_id, decision (every contact ever linked)
identifiers.parquet  kind, key_hash -> person_id (identifiers as keyed hashes, for incremental linking)
identifiers.key_check  a keyed hash of a constant: which key the identifier hashes were made with
decisions.parquet    clerical review decisions (contact_id, citizen_id, decision, decided_at)
aliases.parquet      old_person_id -> person_id when a pseudonymous person later proved a citizen
rejected_edges.parquet  audit of edges refused by merge protection, when scoring and when clustering
model.json           the model the last run used (reused by later runs for stable scoring)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from linkage.io import make_private, private_dir, private_file, write_private_text

TABLES = {
    "persons": ["contact_id", "person_id", "citizen_id", "decision"],
    "identifiers": ["kind", "key_hash", "person_id", "citizen_id"],
    "decisions": ["contact_id", "citizen_id", "decision", "decided_at"],
    "aliases": ["old_person_id", "person_id"],
    # stage 'score': a contact's identifier edge to a citizen; stage 'cluster': an edge between contacts, or to a
    # remembered person (other_id), or every contact carrying one value (key_hash, contacts_sharing_value)
    "rejected_edges": ["stage", "contact_id", "citizen_id", "other_id", "identifier", "reason", "key_hash",
                       "citizens_sharing_value", "contacts_sharing_value", "other_evidence_bits"],
}


# One row per contact and per identifier ever seen: they grow with the history, so a run reads only the rows its
# contacts touch (`rows_matching`) and rewrites them in DuckDB (`merge_rows`), never as a whole pandas frame.
HISTORY_TABLES = {"persons": ["contact_id"], "identifiers": ["kind", "key_hash"]}


KEY_CHECK = "identifiers.key_check"


class StateKeyError(ValueError):
    """The linkage state's identifier hashes were made with another key than the one given."""


def key_check(key: bytes) -> str:
    return hmac.new(key, b"joinedup identifier key check", hashlib.sha256).hexdigest()


@dataclass
class State:
    root: Path | None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    identifier_key: bytes | None = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.tables:  # a history table, read whole only when someone asks for all of it
            self.tables[name] = _read(self.path(name), name)
        return self.tables[name]

    def path(self, name: str) -> Path | None:
        p = self.root / f"{name}.parquet" if self.root else None
        return p if p is not None and p.exists() else None

    def rows_matching(self, name: str, keys: pd.DataFrame) -> pd.DataFrame:
        """The rows of table `name` that equal a row of `keys` on keys' columns (a semi-join, in DuckDB for a
        history table on disk: the run never holds the whole history)."""
        cols = list(keys.columns)
        if keys.empty:
            return _empty(name)
        order = HISTORY_TABLES[name]  # a fixed row order: whoever reads "the first row" reads the same one
        if name in self.tables or self.path(name) is None:
            hit = self[name].merge(keys.drop_duplicates(), on=cols, how="inner")[TABLES[name]]
            return hit.sort_values(order, ignore_index=True)
        with duckdb.connect() as con:
            con.register("keys_df", keys)
            out = con.execute(f"select * from read_parquet(?) semi join keys_df using ({', '.join(cols)}) "
                              f"order by {', '.join(order)}", [str(self.path(name))]).df()
        return out[TABLES[name]].astype(object).where(out.notna(), None)

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


def _read(path: Path | None, name: str) -> pd.DataFrame:
    """A table, with the columns of TABLES (a store written before a column was added gets it empty)."""
    if path is None:
        return _empty(name)
    df = pd.read_parquet(path)
    missing = [c for c in TABLES[name] if c not in df.columns]
    return df.assign(**{c: pd.Series(None, index=df.index, dtype=object) for c in missing}) if missing else df


def verify_identifier_key(root: Path, identifier_key: bytes) -> None:
    """Refuse a key other than the one the state's identifier hashes were made with; a new state adopts it."""
    root = private_dir(root)
    check = root / KEY_CHECK
    if (root / "identifiers.parquet").exists():
        if not check.exists() or check.read_text().strip() != key_check(identifier_key):
            raise StateKeyError(
                f"the identifier hashes in {root} were made with another key than the one configured (a key "
                "rotation, or a state from before identifiers were keyed): run `joinedup relink` to rebuild them")
    elif not check.exists() or check.read_text().strip() != key_check(identifier_key):
        write_private_text(check, key_check(identifier_key))


def load_state(root: str | Path | None, identifier_key: bytes | None = None) -> State:
    """The small tables now; the history tables (persons, identifiers) on first use.

    A state on disk remembers identifiers as hashes keyed with `identifier_key` (needed to link; without it the
    state opens for its other tables only, e.g. to store review decisions); a key
    other than the one they were made with (a rotation, or a state from before identifiers were keyed) is
    refused, since its hashes would silently match nothing: `joinedup relink` rebuilds the state under the
    new key. A stateless run hashes with a key of its own that nothing outlives.
    """
    if root is None:
        return State(None, {n: _empty(n) for n in TABLES})
    root = private_dir(root)
    if identifier_key:
        verify_identifier_key(root, identifier_key)
    state = State(root, identifier_key=identifier_key or None)
    state.tables = {n: _read(state.path(n), n) for n in TABLES if n not in HISTORY_TABLES}
    return state


def merge_rows(state: State, name: str, new: pd.DataFrame, aliases: pd.DataFrame) -> None:
    """history table := its rows whose key `new` lacks, plus `new` (the last row of each key), with person ids
    renamed through `aliases`; sorted by key, so the same history gives the same file. Written atomically."""
    cols, key = TABLES[name], ", ".join(HISTORY_TABLES[name])
    state.tables.pop(name, None)
    if state.root is None:
        return
    old = state.path(name)
    with duckdb.connect() as con:
        con.register("new_raw", new[cols].assign(_seq=range(len(new))))
        con.execute("create view new_df as select " + ", ".join(f"cast({c} as varchar) as {c}" for c in cols)
                    + ", _seq from new_raw")
        con.register("alias_raw", aliases[["old_person_id", "person_id"]])
        con.execute("create view alias_df as select cast(old_person_id as varchar) as old_person_id, "
                    "cast(person_id as varchar) as person_id from alias_raw")
        con.execute(f"create view old_rows as select {', '.join(cols)} from read_parquet('{old}')" if old
                    else f"create view old_rows as select {', '.join(cols)} from new_df limit 0")
        renamed = ", ".join("coalesce(a.person_id, r.person_id) as person_id" if c == "person_id" else f"r.{c}"
                            for c in cols)
        tmp = state.root / f".{name}.parquet.tmp"
        con.execute(f"""copy (
            with latest as (select * exclude (_seq) from new_df
                            qualify row_number() over (partition by {key} order by _seq desc) = 1),
            kept as (select * from old_rows anti join latest using ({key})),
            merged as (select * from kept union all by name select * from latest)
            select {renamed} from merged r left join alias_df a on r.person_id = a.old_person_id
            order by {key}) to '{tmp}' (format parquet)""")
    make_private(tmp).replace(state.root / f"{name}.parquet")


def save_table(state: State, name: str, df: pd.DataFrame) -> None:
    """Write one table atomically (write then rename) so a crash never leaves half a store."""
    state.tables[name] = df
    if state.root is None:
        return
    tmp = state.root / f".{name}.parquet.tmp"
    df.reset_index(drop=True).to_parquet(private_file(tmp), index=False)
    tmp.replace(state.root / f"{name}.parquet")
