"""`link()`: register + contacts -> one row per contact with a person, a decision and its reasons.

The steps, in Splink's shape, are public functions with typed inputs and outputs, and `link` is their
composition:

    prepare  linkage.prepare.prepare_register   register -> PreparedRegister
    train    resolve_model (linkage.train)      the state's model, a given one, or one trained without labels
    predict  predict                            contacts -> Predictions (scored in batches, in worker processes)
    cluster  cluster_contacts                   Predictions -> Clustering (persons, under merge protection)
    explain  explain                            Predictions + Clustering -> one row per contact (OUTPUT_COLUMNS)

With `state_dir` it is incremental: people found on earlier runs keep their person ids, identifiers remembered
from earlier runs join new contacts to them, and review decisions are applied as must-link / cannot-link.
Settings (thresholds, protections, caps) come from linkage.settings; the model holds only learned parameters.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from linkage.cluster import CONTACT_EDGE_KINDS, ClusterResult, cluster, identifier_hash
from linkage.model import Model
from linkage.predict import Compared, match_batch
from linkage.prepare import PreparedRegister, prepare_register
from linkage.settings import LinkSettings, load_settings
from linkage.standardise import STD_COLUMNS, standardise
from linkage.state import TABLES, State, StateKeyError, load_state, merge_rows, save_table
from linkage.train import SampleScores, train_scored

OUTPUT_COLUMNS = ["contact_id", "person_id", "citizen_id", "match_probability", "match_weight", "decision",
                  "explanation"]
CLUSTER_COLUMNS = ["id", "given", "given_canon", "family", "dob", *CONTACT_EDGE_KINDS]
TRAINING_SAMPLE = 50_000  # contacts an unlabelled model is trained on


@dataclass
class LinkStats:
    contacts: int = 0
    pairs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    rejected_edges: int = 0


@dataclass(frozen=True)
class Decisions:
    """Clerical review decisions in force: accepted (contact -> citizen) and rejected (contact, citizen)."""

    must_link: dict[str, str] = field(default_factory=dict)
    cannot_link: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def of(cls, state: State) -> Decisions:
        return cls(state.must_link(), frozenset(state.cannot_link()))

    def forbidden(self) -> dict[str, frozenset[str]]:
        """contact id -> the citizens it must never join."""
        out: dict[str, set[str]] = {}
        for contact, citizen in self.cannot_link:
            out.setdefault(contact, set()).add(citizen)
        return {k: frozenset(v) for k, v in out.items()}


@dataclass
class Predictions:
    """What scoring found, positionally aligned with `contacts`."""

    contacts: pd.DataFrame  # the contacts as given, index reset
    scores: pd.DataFrame  # linkage.predict.RESULT_COLUMNS: best candidate, weight, probability, decision, reasons
    standardised: pd.DataFrame  # CLUSTER_COLUMNS: what clustering compares
    refusals: pd.DataFrame  # identifier edges scoring refused (linkage.protection.AUDIT_COLUMNS)
    pairs: int  # candidate pairs compared


@dataclass
class Clustering:
    """Persons for the predicted contacts, and what clustering refused."""

    result: ClusterResult
    identifier_keys: pd.DataFrame  # kind, key_hash, pos: every identifier the contacts carry (remembered next run)


def resolve_model(reg: PreparedRegister, contacts: pd.DataFrame, model: Model | str | Path | None,
                  state: State, settings: LinkSettings) -> Model:
    """Step 2: the model given, else the state's (stable scoring across runs), else one trained without labels
    on a sample of `contacts`."""
    if isinstance(model, Model):
        return model
    if model is not None:
        return Model.load(model)
    if state.model_path and state.model_path.exists():
        return Model.load(state.model_path)
    return _train(reg, contacts, settings)[0]


def _train(reg: PreparedRegister, contacts: pd.DataFrame, settings: LinkSettings
           ) -> tuple[Model, np.ndarray, SampleScores | None]:
    """A model trained without labels on a sample of `contacts`, the sample's positions in them, and what
    training compared of the sample (linkage.train.train_scored), for predict to reuse."""
    c0 = contacts.reset_index(drop=True)
    sample = c0 if len(c0) <= TRAINING_SAMPLE else c0.sample(TRAINING_SAMPLE, random_state=0)
    model, scored = train_scored(reg, standardise(sample, "contact_id", policy=settings.edges))
    return model, sample.index.to_numpy(np.int64), scored


def predict(reg: PreparedRegister, contacts: pd.DataFrame, model: Model, settings: LinkSettings,
            decisions: Decisions | None = None, workers: int | None = None,
            trained: tuple[np.ndarray, SampleScores] | None = None) -> Predictions:
    """Step 3: score every contact against the register in batches of `settings.batch_size`; accepted review
    decisions win over the score.

    workers: None or 1 scores in this process, where the comparators' C code (rapidfuzz) uses every core;
    more forks that many worker processes when it is safe (see _can_fork). Forked workers were the default and
    are faster on many batches, but each one's resident set holds the parent's register and model again: at
    1M citizens the tree's summed RSS was twice one process's, above Splink's on the same data.
    trained: the training sample's positions in `contacts` and what training compared of it: those contacts
    are not standardised, blocked and compared again."""
    decisions = decisions or Decisions()
    contacts = contacts.reset_index(drop=True)
    size = settings.batch_size
    starts = list(range(0, len(contacts), size))
    n_workers = max(1, min(workers or 1, len(starts)))
    _WORKER.update(reg=reg, model=model, settings=settings, cannot=set(decisions.cannot_link),
                   must=decisions.must_link, trained=_Trained.of(trained, len(contacts)))
    batch_frames = ((s0, contacts.iloc[s0:s0 + size]) for s0 in starts)
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
    results = [o[0] for o in outputs]
    refusals = [o[1] for o in outputs if len(o[1])]
    return Predictions(
        contacts=contacts,
        scores=pd.concat(results, ignore_index=True) if results else pd.DataFrame(columns=OUTPUT_COLUMNS),
        standardised=(pd.concat([o[2] for o in outputs], ignore_index=True) if outputs
                      else pd.DataFrame(columns=CLUSTER_COLUMNS)),
        refusals=pd.concat(refusals, ignore_index=True) if refusals else pd.DataFrame(),
        pairs=sum(o[3]["pairs"] for o in outputs),
    )


def cluster_contacts(pred: Predictions, reg: PreparedRegister, state: State, settings: LinkSettings,
                     decisions: Decisions | None = None,
                     edges: tuple[list[tuple[int, int, str]], list[dict]] | None = None) -> Clustering:
    """Step 4: persons. Contacts sharing an identifier, or an identifier remembered from earlier runs, join
    under merge protection (linkage.protection); a component with a citizen is that citizen.
    edges: the contacts' identifier edges when they were found over more contacts than these (see cluster)."""
    decisions = decisions or Decisions()
    res = pred.scores
    matched = np.where(res["decision"].to_numpy() == "matched", res["candidate_citizen_id"].to_numpy(), None)
    contacts = pred.contacts
    occurred = contacts["occurred_at"] if "occurred_at" in contacts else pd.Series(
        [None] * len(contacts), dtype=object)
    keys = _identifier_keys(pred.standardised, state.identifier_key)
    remembered, previous = _remembered(state, contacts, keys)
    forbidden = decisions.forbidden()
    result = cluster(pred.standardised, matched, forbidden, occurred,
                     previous=previous, id_index=remembered, shared=shared_in_register(reg, settings),
                     citizen_names=_citizen_names(reg, matched, previous, remembered), settings=settings,
                     identifier_key=state.identifier_key, person_forbidden=_person_forbidden(state, forbidden),
                     edges=edges)
    return Clustering(result, keys)


def explain(pred: Predictions, clustering: Clustering) -> pd.DataFrame:
    """Step 5: one row per contact (OUTPUT_COLUMNS): its person, citizen, decision and why, as JSON. A contact
    given its citizen through a shared identifier names that edge (the identifier, its own contact carrying it,
    and the contact or remembered person on the citizen's side), then its own scores."""
    cl = clustering.result
    out = pred.scores[["contact_id", "match_probability", "match_weight", "decision", "explanation"]].copy()
    out["person_id"] = cl.person_id
    out["citizen_id"] = cl.citizen_id
    propagated = cl.via_edge
    if propagated.any():
        out.loc[propagated, "decision"] = "matched"
        out.loc[propagated, "explanation"] = [
            json.dumps({"via": "cluster:shared_identifier", **cl.via[i], "own": json.loads(e)},
                       separators=(",", ":"))
            for i, e in zip(np.flatnonzero(propagated), out.loc[propagated, "explanation"])
        ]
    out.loc[out["decision"] != "matched", "citizen_id"] = None
    return out[OUTPUT_COLUMNS]


def refusals(pred: Predictions, clustering: Clustering) -> pd.DataFrame:
    """Both protections' refusals in the store's rejected_edges layout."""
    parts = ([pred.refusals.assign(stage="score")] if len(pred.refusals) else []) + \
        ([clustering.result.rejected.assign(stage="cluster")] if len(clustering.result.rejected) else [])
    cols = TABLES["rejected_edges"]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    return pd.concat(parts, ignore_index=True).reindex(columns=cols)


def link(register: pd.DataFrame | PreparedRegister, contacts: pd.DataFrame, model: Model | str | Path | None = None,
         state_dir: str | Path | None = None, settings: LinkSettings | None = None,
         stats: LinkStats | None = None, model_out: str | Path | None = None,
         workers: int | None = None, identifier_key: bytes | None = None) -> pd.DataFrame:
    """Link contacts to register citizens or pseudonymous persons; see OUTPUT_COLUMNS.

    register: `citizen_id` + any register columns (strings), or one already prepared (a caller linking
    several chunks, or a daily run with linkage.register_cache, prepares it once). contacts: `contact_id` + any
    contact columns. model: a Model, a path to model JSON, or None (reuse the state's, else train one without
    labels). state_dir: the identity store for incremental runs (None: stateless). settings: None reads them
    from configuration (linkage.settings.load_settings). identifier_key: the secret the state's identifier hashes
    are keyed with (required with state_dir; the pipeline uses its pseudonymisation key).
    """
    stats = stats if stats is not None else LinkStats()
    settings = settings or load_settings()
    if len(contacts) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS})
    if state_dir is not None and not identifier_key:
        raise StateKeyError("a linkage state remembers identifiers as keyed hashes: give link() identifier_key")
    state = load_state(state_dir, identifier_key)
    decisions = Decisions.of(state)

    with _timed(stats, "register"):
        reg = register.teach_lexicon() if isinstance(register, PreparedRegister) else \
            prepare_register(register, settings)
    with _timed(stats, "model"):
        trained = None
        if model is None and not (state.model_path and state.model_path.exists()):
            mdl, positions, scored = _train(reg, contacts, settings)
            trained = (positions, scored) if scored is not None else None
        else:
            mdl = resolve_model(reg, contacts, model, state, settings)
        for path in (state.model_path, model_out):
            if path is not None:
                mdl.save(path)
    with _timed(stats, "match"):
        pred = predict(reg, contacts, mdl, settings, decisions, workers, trained)
    return settle(pred, reg, state, settings, decisions, stats)


def settle(pred: Predictions, reg: PreparedRegister, state: State, settings: LinkSettings, decisions: Decisions,
           stats: LinkStats) -> pd.DataFrame:
    """Steps 4 and 5 and the store: cluster the predicted contacts against what `state` remembers, explain each
    contact (OUTPUT_COLUMNS), and, for a state on disk, persist the links, identifiers, renames and refusals.
    Shared by every way of predicting (this module's, linkage.spark.incremental's), so a state is only ever
    changed here."""
    with _timed(stats, "cluster"):
        clustering = cluster_contacts(pred, reg, state, settings, decisions)
    out = explain(pred, clustering)

    stats.contacts, stats.pairs = len(pred.contacts), stats.pairs + pred.pairs
    audit = refusals(pred, clustering)
    stats.rejected_edges = len(audit)
    if state.root is not None:
        _persist(state, out, clustering, audit)
    return out


class _timed:
    def __init__(self, stats: LinkStats, step: str) -> None:
        self.stats, self.step = stats, step

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.stats.seconds[self.step] = time.perf_counter() - self.t0


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


@dataclass(frozen=True)
class _Trained:
    """The training sample's standardised rows and compared pairs, found by contact position."""

    sample_of: np.ndarray  # contact position -> its row in the sample, or -1
    scores: SampleScores
    pair_position: np.ndarray  # each sample pair's contact position, pairs sorted by it
    order: np.ndarray  # the sample pairs in that order

    @classmethod
    def of(cls, trained: tuple[np.ndarray, SampleScores] | None, n: int) -> _Trained | None:
        if trained is None or trained[1] is None:
            return None
        positions, scores = trained
        sample_of = np.full(n, -1, dtype=np.int64)
        sample_of[positions] = np.arange(len(positions))
        pos = positions[scores.pairs.get_level_values(0).to_numpy(np.int64)]
        order = np.argsort(pos, kind="stable")
        return cls(sample_of, scores, pos[order], order)

    def batch(self, s0: int, n: int) -> tuple[pd.DataFrame, Compared] | None:
        """The batch's sampled rows (standardised, batch positions as index) and their compared pairs."""
        k = self.sample_of[s0:s0 + n]
        rows = np.flatnonzero(k >= 0)
        if len(rows) == 0:
            return None
        lo, hi = np.searchsorted(self.pair_position, [s0, s0 + n])
        sel = self.order[lo:hi]
        ri = self.scores.pairs.get_level_values(1).to_numpy(np.int64)[sel]
        std = self.scores.con.iloc[k[rows]].set_axis(rows)
        return std, Compared(rows, self.pair_position[lo:hi] - s0, ri, self.scores.levels[sel])


def _run_batch(job: tuple[int, pd.DataFrame]):
    """Standardise and score one batch of contacts (a pure function of the batch); the rows training already
    standardised and compared are taken from it."""
    s0, batch = job
    w = _WORKER
    edges = w["settings"].edges
    done = w["trained"].batch(s0, len(batch)) if w["trained"] is not None else None
    if done is None:
        std, known = standardise(batch, "contact_id", policy=edges), None
    else:
        old, known = done
        todo = np.setdiff1d(np.arange(len(batch)), known.rows)
        new = standardise(batch.iloc[todo], "contact_id", policy=edges).set_axis(todo)
        std = pd.concat([new, old[new.columns]]).sort_index() if len(todo) else old[STD_COLUMNS]
    res, audit, st = match_batch(std, w["reg"], w["model"], w["settings"], w["cannot"], w["must"], known)
    return res, audit, std[CLUSTER_COLUMNS].reset_index(drop=True), st


def shared_in_register(reg: PreparedRegister, settings: LinkSettings) -> dict[str, set]:
    """Identifier values held by several citizens: never a reason to join contacts either."""
    out = {}
    for kind in ("email", "phone"):
        col = reg.std[kind].dropna()
        counts = col.value_counts()
        out[kind] = set(counts.index[counts > settings.edges.max_citizens_per_identifier])
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


def _person_forbidden(state: State, forbidden: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Remembered person id -> the citizens its contacts were rejected for: a reject holds for the person the
    contact is, not only for the contact (see cluster)."""
    if not forbidden:
        return {}
    rows = state.rows_matching("persons", pd.DataFrame({"contact_id": sorted(forbidden)}))
    out: dict[str, set[str]] = {}
    for cid, pid in zip(rows["contact_id"], rows["person_id"]):
        if isinstance(pid, str):
            out.setdefault(pid, set()).update(forbidden[cid])
    return {k: frozenset(v) for k, v in out.items()}


def _remembered(state: State, contacts: pd.DataFrame, keys: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the store knows that can touch these contacts: the remembered identifiers they carry (`keys`),
    and the person rows of these contacts and of every person those identifiers name (whose citizen, if any,
    is on one of its rows). Nothing else in the history can change how these contacts cluster."""
    remembered = state.rows_matching("identifiers", keys[["kind", "key_hash"]])
    previous = pd.concat([state.rows_matching("persons", contacts[["contact_id"]]),
                          state.rows_matching("persons", remembered[["person_id"]])], ignore_index=True)
    return remembered, previous.drop_duplicates("contact_id")


def _identifier_keys(std: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """kind, key_hash of every identifier the contacts carry, positioned like `std` (see _persist)."""
    parts = []
    for kind in CONTACT_EDGE_KINDS:
        col = std[kind].dropna()
        parts.append(pd.DataFrame({"kind": pd.Series(kind, index=range(len(col)), dtype=object),
                                   "key_hash": pd.Series([identifier_hash(kind, v, key) for v in col], dtype=object),
                                   "pos": col.index.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def _persist(state: State, out: pd.DataFrame, clustering: Clustering, audit: pd.DataFrame) -> None:
    keys, aliases = clustering.identifier_keys, clustering.result.aliases
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
