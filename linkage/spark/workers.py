"""The Spark path's per-partition functions: each runs the linker's own steps on one partition's pandas frame.

They live in an importable module, not in the caller's ``__main__``: Spark pickles a function by reference when
its module is importable on the worker, so this module's globals (the unpickled register, taught to the handle
decomposer once) stay warm across the tasks a reused Python worker runs (../shared/notes/stack-pitfalls.md,
section Spark). Nothing here distributes anything: Spark hands each function a partition (``mapInPandas``) or a
group (``applyInPandas``), and the function calls linkage.standardise, linkage.blocking, linkage.predict,
linkage.cluster and linkage.pipeline exactly as the DuckDB/pandas path does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from linkage.blocking import HANDLES, contact_block_keys, same_account_mask
from linkage.cluster import CONTACT_EDGE_KINDS, contact_edges
from linkage.model import Model
from linkage.pipeline import (
    CLUSTER_COLUMNS,
    OUTPUT_COLUMNS,
    Clustering,
    Predictions,
    cluster_contacts,
    explain,
    shared_in_register,
)
from linkage.predict import RESULT_COLUMNS, match_batch
from linkage.prepare import PreparedRegister
from linkage.protection import AUDIT_COLUMNS
from linkage.settings import LinkSettings
from linkage.standardise import standardise
from linkage.state import load_state

if TYPE_CHECKING:
    from pyspark import Broadcast

# Column types of the frames these functions return (Spark DDL), next to the code that fills them.
KEYS_SCHEMA = "contact_id string, tbl string, key long, handle string"
PAIRS_SCHEMA = "contact_id string, reg_pos long"
IDENTITY_COLUMNS = [c for c in CLUSTER_COLUMNS if c != "id"]  # what clustering reads of a contact besides its id
# refused: the contact's scoring refusals (linkage.protection.AUDIT_COLUMNS records, JSON, in match_batch's
# order), null when none; pairs: the candidate pairs compared for it (linkage.pipeline.LinkStats sums them)
SCORED_SCHEMA = ("contact_id string, occurred_at string, candidate_citizen_id string, match_weight double, "
                 "match_probability double, decision string, explanation string, runner_up_weight double, "
                 + ", ".join(f"{c} string" for c in IDENTITY_COLUMNS) + ", refused string, pairs long")
EDGES_SCHEMA = "a string, b string, kind string, value string, seq long"
OUTPUT_SCHEMA = ("contact_id string, person_id string, citizen_id string, match_probability double, "
                 "match_weight double, decision string, explanation string")
KIND_ORDER = {k: i for i, k in enumerate(CONTACT_EDGE_KINDS)}  # contact_edges applies the kinds in this order

@dataclass(frozen=True)
class SharedRegister:
    """The prepared register as workers receive it: Spark's broadcast of it, and a token naming this
    broadcast (a worker's broadcast object carries no public id) so a worker knows when it has changed."""

    token: str
    broadcast: Broadcast


_REGISTER: dict[str, object] = {}  # this worker's register: {"token": ..., "reg": PreparedRegister}


def register(reg: SharedRegister) -> PreparedRegister:
    """The broadcast register, unpickled once per worker process and taught to the handle decomposer and the
    location reader (standardising contacts reads both). A second register (another link in this session)
    replaces the first, so the lexicon is always the register's being linked against."""
    if _REGISTER.get("token") != reg.token:
        _REGISTER.clear()
        _REGISTER.update(token=reg.token, reg=reg.broadcast.value.teach_lexicon())
    return _REGISTER["reg"]  # type: ignore[return-value]


def _strings(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns with every missing value as None: Arrow reads a float NaN in a string column as an error."""
    return df.astype(object).where(df.notna(), None)


def contact_keys(batches: Iterator[pd.DataFrame], reg: SharedRegister, settings: LinkSettings
                 ) -> Iterator[pd.DataFrame]:
    """Contacts -> their blocking keys (KEYS_SCHEMA), exactly linkage.blocking.contact_block_keys of their
    standardised rows; the HANDLES rows carry the contact's handle for same_account_pairs."""
    register(reg)
    for raw in batches:
        std = standardise(raw, "contact_id", policy=settings.edges)
        ids, handles = std["id"].to_numpy(), std["handle"].to_numpy()
        for table, hashes, pos in contact_block_keys(std):
            if len(pos):
                yield pd.DataFrame({"contact_id": ids[pos], "tbl": table,
                                    "key": np.asarray(hashes, np.uint64).view(np.int64),
                                    "handle": handles[pos] if table == HANDLES else None})


def same_account_pairs(batches: Iterator[pd.DataFrame], reg: SharedRegister) -> Iterator[pd.DataFrame]:
    """Pairs met through a bare handle -> those whose handles are one account (PAIRS_SCHEMA)."""
    std = register(reg).std
    for b in batches:
        r = b["reg_pos"].to_numpy(np.int64)
        keep = same_account_mask(b, std, np.arange(len(b)), r)
        yield b.loc[keep, ["contact_id", "reg_pos"]]


def score(batches: Iterator[pd.DataFrame], reg: SharedRegister, model: Model, settings: LinkSettings,
          columns: list[str], cannot: frozenset[tuple[str, str]] = frozenset(),
          must: dict[str, str] | None = None) -> Iterator[pd.DataFrame]:
    """Contacts with their candidates' register rows (``cands``) -> each contact's best candidate, decision and
    explanation (linkage.predict.match_batch, blocking replaced by the given pairs), and what clustering reads
    of it (SCORED_SCHEMA). A contact's result depends on it and its own candidates only, so any partitioning
    gives the batch path's results. cannot, must: the review decisions in force (linkage.pipeline.Decisions),
    applied by match_batch as on the pandas path."""
    prepared = register(reg)
    for b in batches:
        cands = b["cands"].tolist()
        std = standardise(b[columns], "contact_id", policy=settings.edges)
        n = np.array([0 if c is None else len(c) for c in cands], dtype=np.int64)
        ci = np.repeat(np.arange(len(b), dtype=np.int64), n)
        ri = np.concatenate([np.asarray(c, np.int64) for c in cands if c is not None and len(c)] or
                            [np.empty(0, np.int64)])
        order = np.lexsort((ri, ci))  # candidate_pairs' order: ties in weight keep the lower register row
        pairs = pd.MultiIndex.from_arrays([ci[order], ri[order]], names=["contact", "register"])
        res, audit, _ = match_batch(std, prepared, model, settings, set(cannot), must or {}, candidates=pairs)
        occurred = b["occurred_at"] if "occurred_at" in b else pd.Series(None, index=b.index, dtype=object)
        out = res[RESULT_COLUMNS].assign(occurred_at=occurred.to_numpy())
        out[IDENTITY_COLUMNS] = _strings(std[IDENTITY_COLUMNS]).to_numpy()
        refused = _refusals_by_contact(audit)
        out["refused"] = pd.Series([refused.get(c) for c in out["contact_id"]], index=out.index, dtype=object)
        out["pairs"] = _compared(ci, b["contact_id"].to_numpy(), prepared.std["id"].to_numpy()[ri], cannot, len(b))
        yield out


def _compared(ci: np.ndarray, contact_ids: np.ndarray, citizen_ids: np.ndarray, cannot: frozenset[tuple[str, str]],
              n: int) -> np.ndarray:
    """Per contact, the candidate pairs match_batch compares: all but those a review rejected (its cannot_link)."""
    kept = np.ones(len(ci), dtype=bool)
    if cannot and len(ci):
        kept = np.array([(a, b) not in cannot for a, b in zip(contact_ids[ci], citizen_ids)], dtype=bool)
    return np.bincount(ci[kept], minlength=n).astype(np.int64)


def _refusals_by_contact(audit: pd.DataFrame) -> dict[str, str]:
    """contact id -> its rows of match_batch's refusal audit as a JSON list, in the audit's order."""
    if audit.empty:
        return {}
    rows = audit[AUDIT_COLUMNS].astype(object).to_dict("records")
    by_contact: dict[str, list[dict]] = {}
    for row in rows:
        by_contact.setdefault(row["contact_id"], []).append(row)
    return {cid: json.dumps(found, default=lambda v: v.item()) for cid, found in by_contact.items()}


def identifier_edges(batches: Iterator[pd.DataFrame], reg: SharedRegister, settings: LinkSettings
                     ) -> Iterator[pd.DataFrame]:
    """One partition of (contact, identifier kind, value) rows, every row of a value in the same partition ->
    linkage.cluster.contact_edges' accepted edges between them (EDGES_SCHEMA), with their order within
    the value (``seq``).

    contact_edges judges a value by all the contacts carrying it (junk, shared in the register, more contacts
    than the fan-out cap) and chains them in name order, so it needs every carrier of the value and no other
    rows: Spark's repartition by (kind, value) gives it exactly that. Ties in name order fall back on the
    contact id (the pandas path: the input order; the two agree on contacts sorted by id)."""
    shared = shared_in_register(register(reg), settings)
    rows = pd.concat(list(batches), ignore_index=True)
    if rows.empty:
        return
    rows = rows.sort_values(["contact_id", "kind"], kind="stable").reset_index(drop=True)
    frame = rows[["contact_id", "given", "given_canon", "family", "dob"]].rename(columns={"contact_id": "id"})
    for kind in CONTACT_EDGE_KINDS:
        frame[kind] = rows["value"].where(rows["kind"] == kind, None)
    edges, _ = contact_edges(frame, settings, shared)
    if not edges:
        return
    a, b, kind = (np.array(x, dtype=object) for x in zip(*edges))
    ids, values = rows["contact_id"].to_numpy(), rows["value"].to_numpy()
    yield pd.DataFrame({"a": ids[a.astype(np.int64)], "b": ids[b.astype(np.int64)], "kind": kind,
                        "value": values[a.astype(np.int64)], "seq": np.arange(len(edges), dtype=np.int64)})


def cluster_group(nodes: pd.DataFrame, edges: pd.DataFrame, reg: SharedRegister, settings: LinkSettings
                  ) -> pd.DataFrame:
    """Whole connected components (scored contacts and their edges) -> OUTPUT_COLUMNS, by
    linkage.pipeline.cluster_contacts and explain.

    The edges are applied in the order contact_edges gives them over every contact (kind, then value, then
    the value's chain). Union-find with merge protection is order dependent, but an edge only ever touches
    its own component, so running the components of a group together, in that order, is running the
    whole graph restricted to them: the same unions, refusals, citizens and pseudonyms."""
    nodes = nodes.sort_values("contact_id", kind="stable").reset_index(drop=True)
    position = pd.Series(np.arange(len(nodes)), index=nodes["contact_id"].to_numpy())
    edge_list: list[tuple[int, int, str]] = []
    if len(edges):  # cogroup gives a group without edges as an empty frame
        edges = edges.assign(k=edges["kind"].map(KIND_ORDER)).sort_values(["k", "value", "seq"], kind="stable")
        edge_list = list(zip(position[edges["a"]].tolist(), position[edges["b"]].tolist(), edges["kind"].tolist()))
    std = nodes[IDENTITY_COLUMNS].assign(id=nodes["contact_id"].to_numpy())[CLUSTER_COLUMNS]
    pred = Predictions(contacts=nodes[["contact_id", "occurred_at"]], scores=nodes[RESULT_COLUMNS],
                       standardised=std, refusals=pd.DataFrame(), pairs=0)
    clustering: Clustering = cluster_contacts(pred, register(reg), load_state(None), settings,
                                              edges=(edge_list, []))
    return explain(pred, clustering)[OUTPUT_COLUMNS]
