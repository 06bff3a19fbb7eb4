"""`link()`: register + contacts -> one row per contact with a person, a decision and its reasons.

The Python entry point for the CLI and the Airflow pipeline. With `state_dir` it is incremental:
people found on earlier runs keep their person ids, identifiers remembered from earlier runs
join new contacts to them, and review decisions are applied as must-link / cannot-link.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from linkage.cluster import CONTACT_EDGE_KINDS, cluster, identifier_hash
from linkage.edges import EdgePolicy
from linkage.match import BATCH_SIZE, PreparedRegister, match_batch, prepare_register, train
from linkage.model import Model
from linkage.standardise import standardise
from linkage.state import TABLES, State, load_state, merge_rows, save_table

OUTPUT_COLUMNS = ["contact_id", "person_id", "citizen_id", "match_probability", "match_weight", "decision",
                  "explanation"]
CLUSTER_COLUMNS = ["id", "given", "given_canon", "family", "dob", *CONTACT_EDGE_KINDS]


@dataclass
class LinkStats:
    contacts: int = 0
    pairs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    rejected_edges: int = 0


def _resolve_model(model: Model | str | Path | None, state: State, reg, contacts: pd.DataFrame) -> Model:
    if isinstance(model, Model):
        return model
    if model is not None:
        return Model.load(model)
    if state.model_path and state.model_path.exists():
        return Model.load(state.model_path)
    sample = contacts if len(contacts) <= 50_000 else contacts.sample(50_000, random_state=0)
    return train(reg, standardise(sample, "contact_id"))


def link(register: pd.DataFrame | PreparedRegister, contacts: pd.DataFrame, model: Model | str | Path | None = None,
         state_dir: str | Path | None = None, policy: EdgePolicy | None = None,
         batch_size: int = BATCH_SIZE, stats: LinkStats | None = None,
         model_out: str | Path | None = None, workers: int | None = None) -> pd.DataFrame:
    """Link contacts to register citizens or pseudonymous persons; see OUTPUT_COLUMNS.

    register: `citizen_id` + any register columns (strings), or one already prepared (a caller linking
    several chunks, or a daily run with linkage.register_cache, prepares it once). contacts: `contact_id` + any contact
    columns. model: a Model, a path to model JSON, or None (reuse the state's, else train one
    without labels). state_dir: the identity store for incremental runs (None: stateless).
    """
    stats = stats if stats is not None else LinkStats()
    policy = policy or EdgePolicy()
    if len(contacts) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS})
    t0 = time.perf_counter()
    state = load_state(state_dir)
    reg = register.teach_lexicon() if isinstance(register, PreparedRegister) else prepare_register(register)
    stats.seconds["register"] = time.perf_counter() - t0

    t = time.perf_counter()
    mdl = _resolve_model(model, state, reg, contacts)
    if state.model_path is not None:
        mdl.save(state.model_path)
    if model_out is not None:
        mdl.save(model_out)
    stats.seconds["model"] = time.perf_counter() - t

    t = time.perf_counter()
    cannot, must = state.cannot_link(), state.must_link()
    results, audits, keep = [], [], []
    contacts = contacts.reset_index(drop=True)
    starts = list(range(0, len(contacts), batch_size))
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(starts)))
    _WORKER.update(reg=reg, model=mdl, policy=policy, cannot=cannot, must=must)
    batch_frames = (contacts.iloc[s0:s0 + batch_size] for s0 in starts)
    try:
        if n_workers > 1 and _can_fork():
            # fork after the register and model are built: workers share them copy-on-write;
            # batches travel by pickle so workers never touch (and so copy) the parent's frame
            gc.collect()
            gc.freeze()
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(n_workers, initializer=_single_threaded) as pool:
                outputs = list(pool.imap(_run_batch, batch_frames, chunksize=1))
            gc.unfreeze()
        else:
            outputs = [_run_batch(b) for b in batch_frames]
    finally:
        _WORKER.clear()
    for res, audit, std, st in outputs:
        results.append(res)
        audits.append(audit)
        keep.append(std)
        stats.pairs += st["pairs"]
    stats.contacts = len(contacts)
    res = pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=OUTPUT_COLUMNS)
    std_all = pd.concat(keep, ignore_index=True) if keep else pd.DataFrame(columns=CLUSTER_COLUMNS)
    stats.seconds["match"] = time.perf_counter() - t

    t = time.perf_counter()
    matched = np.where(res["decision"].to_numpy() == "matched", res["candidate_citizen_id"].to_numpy(), None)
    forbid: dict[str, set] = {}
    for c, z in cannot:
        forbid.setdefault(c, set()).add(z)
    occurred = contacts["occurred_at"].reset_index(drop=True) if "occurred_at" in contacts else pd.Series(
        [None] * len(contacts), dtype=object)
    keys = _identifier_keys(std_all)
    remembered, previous = _remembered(state, contacts, keys)
    cl = cluster(std_all, matched, {k: frozenset(v) for k, v in forbid.items()}, occurred,
                 previous=previous, id_index=remembered,
                 max_contacts=policy.max_contacts_per_identifier, shared=_shared_in_register(reg, policy),
                 citizen_names=_citizen_names(reg, matched, previous, remembered))
    stats.seconds["cluster"] = time.perf_counter() - t

    out = res[["contact_id", "match_probability", "match_weight", "decision", "explanation"]].copy()
    out["person_id"] = cl.person_id
    out["citizen_id"] = cl.citizen_id
    propagated = cl.via_edge
    if propagated.any():
        # which edge gave the citizen: the identifier, this person's contact that carries it, and the contact
        # (or remembered person) on the citizen's side; then the contact's own scores
        out.loc[propagated, "decision"] = "matched"
        out.loc[propagated, "explanation"] = [
            json.dumps({"via": "cluster:shared_identifier", **cl.via[i], "own": json.loads(e)},
                       separators=(",", ":"))
            for i, e in zip(np.flatnonzero(propagated), out.loc[propagated, "explanation"])
        ]
    out.loc[out["decision"] != "matched", "citizen_id"] = None
    out = out[OUTPUT_COLUMNS]

    audit = _audit([a for a in audits if len(a)], cl.rejected)
    stats.rejected_edges = len(audit)
    if state.root is not None:
        _persist(state, out, keys, cl.aliases, audit)
    return out


def _audit(scoring: list[pd.DataFrame], clustering: pd.DataFrame) -> pd.DataFrame:
    """Both protections' refusals in the store's rejected_edges layout."""
    parts = [f.assign(stage="score") for f in scoring] + ([clustering.assign(stage="cluster")] if len(clustering) else [])
    cols = TABLES["rejected_edges"]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    return pd.concat(parts, ignore_index=True).reindex(columns=cols)


_WORKER: dict = {}


def _can_fork() -> bool:
    """Fork only when no other Python thread is alive. A thread of the host (an Airflow task's, a sampler's)
    can hold a lock at the moment of the fork, and the worker that inherits it hangs forever, as a council-year
    run did here. Then batches run in this process instead: slower, never stuck. (The pipeline links in a fresh
    interpreter, joinedup.identity.worker, so it keeps its workers.)"""
    return threading.active_count() == 1


def _single_threaded() -> None:
    """Each worker process is one core's worth: no extra rapidfuzz threads."""
    from linkage import comparators

    comparators.WORKERS = 1


def _run_batch(batch: pd.DataFrame):
    """Standardise and match one batch of contacts (a pure function of the batch)."""
    w = _WORKER
    std = standardise(batch, "contact_id")
    res, audit, st = match_batch(std, w["reg"], w["model"], w["policy"], w["cannot"], w["must"])
    return res, audit, std[CLUSTER_COLUMNS], st


def _shared_in_register(reg, policy: EdgePolicy) -> dict[str, set]:
    """Identifier values held by several citizens: never a reason to join contacts either."""
    out = {}
    for kind in ("email", "phone"):
        col = reg.std[kind].dropna()
        counts = col.value_counts()
        out[kind] = set(counts.index[counts > policy.max_citizens_per_identifier])
    return out


def _citizen_names(reg: PreparedRegister, *sources) -> dict[str, tuple]:
    """Register (given, given_canon, family, dob) of every citizen these contacts can be joined to: their own
    matches and the citizens of the persons remembered for them."""
    ids: set[str] = set()
    for src in sources:
        values = src["citizen_id"] if isinstance(src, pd.DataFrame) else src
        ids.update(v for v in values if isinstance(v, str))
    rows = reg.std[reg.std["id"].isin(ids)]
    return dict(zip(rows["id"], zip(rows["given"], rows["given_canon"], rows["family"], rows["dob"])))


def _remembered(state: State, contacts: pd.DataFrame, keys: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the store knows that can touch these contacts: the remembered identifiers they carry (`keys`),
    and the person rows of these contacts and of every person those identifiers name (whose citizen, if any,
    is on one of its rows). Nothing else in the history can change how these contacts cluster."""
    remembered = state.rows_matching("identifiers", keys[["kind", "key_hash"]])
    previous = pd.concat([state.rows_matching("persons", contacts[["contact_id"]]),
                          state.rows_matching("persons", remembered[["person_id"]])], ignore_index=True)
    return remembered, previous.drop_duplicates("contact_id")


def _identifier_keys(std: pd.DataFrame) -> pd.DataFrame:
    """kind, key_hash of every identifier the contacts carry, positioned like `std` (see _persist)."""
    parts = []
    for kind in CONTACT_EDGE_KINDS:
        col = std[kind].dropna()
        parts.append(pd.DataFrame({"kind": pd.Series(kind, index=range(len(col)), dtype=object),
                                   "key_hash": pd.Series([identifier_hash(kind, v) for v in col], dtype=object),
                                   "pos": col.index.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def _persist(state: State, out: pd.DataFrame, keys: pd.DataFrame, aliases: pd.DataFrame,
             audit: pd.DataFrame) -> None:
    alias_all = pd.concat([state["aliases"], aliases], ignore_index=True).drop_duplicates("old_person_id", keep="last")
    pos = keys["pos"].to_numpy()
    identifiers = keys[["kind", "key_hash"]].assign(person_id=out["person_id"].to_numpy()[pos],
                                                    citizen_id=out["citizen_id"].to_numpy()[pos])
    merge_rows(state, "persons", out[["contact_id", "person_id", "citizen_id", "decision"]], alias_all)
    merge_rows(state, "identifiers", identifiers, alias_all)
    save_table(state, "aliases", alias_all)
    if len(audit):
        # a contact linked again (a re-run, a late file) is refused for the same reasons: kept once
        old = state["rejected_edges"]
        merged = pd.concat([old, audit], ignore_index=True) if len(old) else audit
        key = [c for c in TABLES["rejected_edges"] if c not in ("other_evidence_bits", "citizens_sharing_value")]
        save_table(state, "rejected_edges", merged.drop_duplicates(key, keep="first", ignore_index=True))
