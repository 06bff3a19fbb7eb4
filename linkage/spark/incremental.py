"""Stateful, incremental linking on Spark: linkage.pipeline.link(..., state_dir=...) with blocking and scoring on
Spark and the identity state handled by the pandas path's own steps, so both give the same links, explanations and
persisted state (persons, identifiers, aliases, refused edges, model).

    prepare     the prepared register on the driver (linkage.register_cache keeps it between runs), broadcast
    train       the state's model; a first run trains on the first chunk with linkage.pipeline.resolve_model
    candidates  linkage.spark.link.candidates: blocking keys joined in Spark SQL
    score       linkage.spark.link.score with the review decisions in force (must-link / cannot-link in match_batch)
    settle      per chunk, on the driver: linkage.pipeline.settle (cluster_contacts under the state's remembered
                persons, identifiers and decisions, explain, refusals, persist)

Why clustering runs on the driver. A run's contacts can only join what they reach: each other through a shared
identifier, and the persons and identifiers the state remembers for their own identifiers and contact ids.
cluster_contacts reads exactly those rows of the history, by semi-join (State.rows_matching: DuckDB over the store's
Parquet), never the whole history. For a daily run that is the day's contacts plus the rows they touch: tens of
thousands of rows that one process clusters in seconds, with union-find under merge protection, whose result
depends on the order edges are applied in. Doing it in one place keeps that order the pandas path's, and keeps one
writer of the state. What Spark takes is what grows with the register and the candidates: blocking (contacts x
keys) and scoring (contacts x candidates, the register broadcast once per executor).

What grows with volume on the driver: the scored rows of one chunk (about 1 kB a contact: identity columns and the
explanation) and the state rows they touch, bounded by `chunk_size` as on the pandas path; the run's (contact id,
time) keys, which fix the order; and on a first run, the first chunk's contacts, which training samples.

Same order as the pandas path: contacts are taken in the caller's order (the link step's: its new-contacts file's,
sorted by time, then id) and cut into chunks of `chunk_size`; each chunk is settled against the state the previous one
left. Scoring does not depend on the state beyond the model and the review decisions, which a run does not change,
so every contact is scored in one Spark job and only the settling goes chunk by chunk.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from linkage.model import Model
from linkage.pipeline import (
    CLUSTER_COLUMNS,
    OUTPUT_COLUMNS,
    Decisions,
    LinkStats,
    Predictions,
    resolve_model,
    settle,
)
from linkage.predict import RESULT_COLUMNS
from linkage.prepare import PreparedRegister, prepare_register
from linkage.protection import AUDIT_COLUMNS, IDENTIFIER_COMPARISONS
from linkage.settings import LinkSettings, load_settings
from linkage.spark.link import broadcast_register, candidates, register_keys, score
from linkage.spark.workers import IDENTITY_COLUMNS
from linkage.state import State, StateKeyError, load_state

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

COMPARISON_ORDER = {name: i for i, name in enumerate(IDENTIFIER_COMPARISONS)}  # judge_edges audits in this order
# judge_edges' number columns, which JSON does not carry: the fan-out as int, the evidence in the model's float32
# weights (linkage.model.pair_weights); the store keeps these types, so a float64 would change its bytes
AUDIT_DTYPES = {"citizens_sharing_value": np.int64, "other_evidence_bits": np.float32}


def input_order(contacts: DataFrame, order: Sequence[str] | None) -> list[str]:
    """The contact ids in the order the pandas path would be given them: `order` when the caller knows it (the
    link step: its new-contacts file's), else by contact id. Only ids come to the driver."""
    ids = list(order) if order is not None else sorted(r[0] for r in contacts.select("contact_id").collect())
    if len(set(ids)) != len(ids):
        raise ValueError("linkage.spark.incremental: contact ids must be unique within a run")
    return ids


def rows_in_order(spark: SparkSession, df: DataFrame, ids: list[str], everything: bool = False) -> pd.DataFrame:
    """The rows of `df` whose contact_id is in `ids`, on the driver, in the order of `ids`. everything: `ids` are all
    of `df`'s contacts, so no semi-join is needed."""
    if not everything:
        wanted = spark.createDataFrame(pd.DataFrame({"contact_id": ids}), "contact_id string")
        df = df.join(wanted, "contact_id", "left_semi")
    rows = df.toPandas()
    position = pd.Index(rows["contact_id"]).get_indexer(ids)
    if (position < 0).any() or len(rows) != len(ids):
        raise RuntimeError("linkage.spark.incremental: a contact was lost or doubled between Spark and the driver")
    return rows.iloc[position].reset_index(drop=True)


def run_model(spark: SparkSession, reg: PreparedRegister, contacts: DataFrame, first_chunk: list[str],
              model: Model | str | Path | None, state: State, settings: LinkSettings) -> Model:
    """The model as the pandas path's first chunk resolves it (linkage.pipeline.resolve_model: the one given, else
    the state's, else one trained without labels on the first chunk), saved in the state for later runs. Only a
    run that trains brings the first chunk's contacts to the driver."""
    trains = model is None and not (state.model_path and state.model_path.exists())
    sample = pd.DataFrame()
    if trains:
        sample = rows_in_order(spark, contacts, first_chunk, everything=False)
        sample = sample.astype(object).where(sample.notna(), None)
    mdl = resolve_model(reg, sample, model, state, settings)
    if state.model_path is not None:
        mdl.save(state.model_path)
    return mdl


def score_contacts(spark: SparkSession, reg: PreparedRegister, contacts: DataFrame, model: Model,
                   settings: LinkSettings, decisions: Decisions) -> DataFrame:
    """Every contact scored on Spark (linkage.spark.workers.SCORED_SCHEMA) under the review decisions in force,
    checkpointed: the chunks read it once each, without scoring again."""
    reg_bc = broadcast_register(spark, reg)
    pairs = candidates(spark, register_keys(spark, reg), contacts, reg_bc, settings)
    return score(contacts, pairs, reg_bc, model, settings, decisions).localCheckpoint()


def predictions(scored: pd.DataFrame, batch_size: int) -> Predictions:
    """One chunk's scored rows (SCORED_SCHEMA, in input order) as linkage.pipeline.predict returns them: scores,
    what clustering compares, the pairs compared, and the scoring refusals in predict's order (by batch of
    `batch_size`, then comparison, contact and candidate, as match_batch's judge_edges lists them)."""
    scored = scored.reset_index(drop=True)
    std = scored[IDENTITY_COLUMNS].assign(id=scored["contact_id"].to_numpy())[CLUSTER_COLUMNS]
    return Predictions(contacts=scored[["contact_id", "occurred_at"]], scores=scored[RESULT_COLUMNS],
                       standardised=std, refusals=scoring_refusals(scored, batch_size),
                       pairs=int(scored["pairs"].sum()))


def scoring_refusals(scored: pd.DataFrame, batch_size: int) -> pd.DataFrame:
    """The `refused` column's records (AUDIT_COLUMNS) in the order predict concatenates its batches' audits; an
    empty frame when there are none, as predict gives."""
    rows = []
    for pos in np.flatnonzero(scored["refused"].notna().to_numpy()):
        for rank, record in enumerate(json.loads(scored.at[pos, "refused"])):
            rows.append({**record, "_batch": pos // batch_size, "_comparison": COMPARISON_ORDER[record["identifier"]],
                         "_pos": pos, "_rank": rank})
    if not rows:
        return pd.DataFrame()
    audit = pd.DataFrame(rows).sort_values(["_batch", "_comparison", "_pos", "_rank"], ignore_index=True)
    return audit[AUDIT_COLUMNS].astype(AUDIT_DTYPES)


def link_incremental(spark: SparkSession, register: pd.DataFrame | PreparedRegister, contacts: DataFrame,
                     state_dir: str | Path, identifier_key: bytes, model: Model | str | Path | None = None,
                     settings: LinkSettings | None = None, order: Sequence[str] | None = None,
                     chunk_size: int | None = None, stats: LinkStats | None = None) -> pd.DataFrame:
    """linkage.pipeline.link(register, contacts, model, state_dir, ..., identifier_key) called on `contacts` in
    `order`, `chunk_size` at a time (None: all at once), with blocking and scoring on Spark: the same rows
    (OUTPUT_COLUMNS, in that order) and the same state afterwards.

    contacts: a Spark DataFrame, ``contact_id`` (unique) + contact columns. state_dir, identifier_key: the identity
    store and the key its identifier hashes are made with. order: every contact id, in the order the pandas path
    would read them (it chains contacts sharing an identifier and a name in input order, and settles chunk by
    chunk); None: by contact id."""
    stats = stats if stats is not None else LinkStats()
    settings = settings or load_settings()
    if not identifier_key:
        raise StateKeyError("a linkage state remembers identifiers as keyed hashes: give identifier_key")
    if "occurred_at" in contacts.columns:
        contacts = contacts.withColumn("occurred_at", contacts["occurred_at"].cast("string"))
    ids = input_order(contacts, order)
    size = chunk_size or max(len(ids), 1)
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    if not chunks:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OUTPUT_COLUMNS})
    state = load_state(state_dir, identifier_key)
    decisions = Decisions.of(state)
    reg = register.teach_lexicon() if isinstance(register, PreparedRegister) else prepare_register(register, settings)
    mdl = run_model(spark, reg, contacts, chunks[0], model, state, settings)
    scored = score_contacts(spark, reg, contacts, mdl, settings, decisions)
    out = []
    for i, ids in enumerate(chunks):
        if i:
            state = load_state(state_dir, identifier_key)  # as the previous chunk left it
        pred = predictions(rows_in_order(spark, scored, ids, everything=len(chunks) == 1), settings.batch_size)
        out.append(settle(pred, reg, state, settings, decisions, stats))
    scored.unpersist()
    return pd.concat(out, ignore_index=True)
