"""Scoring contacts against the register in bounded batches.

Per batch: block, compare, weigh, judge identifier edges, pick each contact's best candidate
and decide matched / review / unmatched. Pairs never outlive their batch, so memory is set by
`batch_size`, not by the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import recordlinkage

from linkage.blocking import (
    MAX_BLOCK,
    candidate_pairs,
    forename_pairs,
    handle_pairs,
    known_handle_pairs,
    register_keys,
    register_multi_keys,
)
from linkage.compare import NAMES, compare_pairs, prepare_contacts
from linkage.edges import EdgePolicy, judge_edges, other_person, person_evidence, register_fanout
from linkage.handles import set_register_lexicon
from linkage.model import (
    Model,
    combine_sessions,
    contact_posterior,
    estimate_m,
    estimate_p_in_register,
    estimate_u,
    pair_weights,
    tf_tables,
)
from linkage.standardise import standardise

BATCH_SIZE = 50_000


@dataclass
class PreparedRegister:
    std: pd.DataFrame
    keys: pd.DataFrame
    tf: dict[str, np.ndarray]
    fanout: dict[str, np.ndarray]
    multi: dict[str, pd.DataFrame]  # forename-variant blocking keys (blocking.register_multi_keys)

    @property
    def size(self) -> int:
        return len(self.std)

    def teach_lexicon(self) -> PreparedRegister:
        """Teach the handle decomposer this register's names; contacts must be standardised after this (also
        when the register comes prepared from linkage.register_cache, in a fresh process)."""
        set_register_lexicon(self.std["given"].dropna().unique(), self.std["family"].dropna().unique())
        return self


def prepare_register(register: pd.DataFrame) -> PreparedRegister:
    """Standardise the register, build its blocking keys and frequency tables, and teach the
    handle decomposer its names (contacts must be standardised after this)."""
    std = standardise(register, "citizen_id", handles=False)
    return PreparedRegister(std, register_keys(std), tf_tables(std), register_fanout(std),
                            register_multi_keys(std)).teach_lexicon()


# EM sessions: (blocking rule, comparisons the session may teach m for). A session cannot teach
# the comparisons its rule fixes (every pair agrees on them), nor person-level ones where its
# non-matches are mostly household members (same address, phone or e-mail, other forename and
# DOB), which would make disagreement on forename or DOB look normal among matches.
_ALL = frozenset(NAMES)
TRAINING_RULES: tuple[tuple[str, frozenset[str]], ...] = (
    ("dob", _ALL - {"date_of_birth", "handle_year"}),
    ("given_family", _ALL - {"given_name", "family_name", "handle_name", "email_name"}),
    ("known_handle", frozenset({"handle_name", "handle_year", "location", "email_name"})),
    ("h_name3", frozenset({"handle_year", "location", "known_handle"})),
    ("h_initial_year", frozenset({"location"})),
    ("email", frozenset({"email_name", "handle_year"})),
)


def _training_pairs(rule: str, con: pd.DataFrame, reg: PreparedRegister) -> pd.MultiIndex:
    if rule == "known_handle":
        c, r = known_handle_pairs(con, reg.std)
    elif rule.startswith("h_"):
        got = handle_pairs(con, reg.keys, rules=(rule,), multi=reg.multi)
        c, r = got[0] if got else (np.empty(0, np.int64), np.empty(0, np.int64))
    elif rule == "given_family":
        c, r = forename_pairs(con, reg.multi, rules=("given_family",))[0]
    else:
        rk = reg.std[rule]
        right = rk.where(rk.map(rk.value_counts()) <= MAX_BLOCK, None).to_frame("key")
        left = con[rule].to_frame("key")
        idx = recordlinkage.Index()
        idx.block(left_on="key", right_on="key")
        pairs = idx.index(left, right)
        c, r = pairs.codes[0].astype(np.int64), pairs.codes[1].astype(np.int64)
    keep = np.unique(c * max(reg.size, 1) + r)
    c, r = keep // max(reg.size, 1), keep % max(reg.size, 1)
    return pd.MultiIndex.from_arrays([c, r])


def train(reg: PreparedRegister, con: pd.DataFrame, n_random: int = 200_000, max_contacts: int = 50_000,
          seed: int = 0) -> Model:
    """Unsupervised model, Splink-style.

    u from random pairs; m by one EM session per training blocking rule, each blind to the
    comparisons its rule fixes, combined; then the share of contacts in the register by
    fixed-point on the contacts' best candidates.
    """
    rng = np.random.default_rng(seed)
    con = prepare_contacts(con.reset_index(drop=True))
    random_pairs = pd.MultiIndex.from_arrays([rng.integers(0, len(con), n_random),
                                              rng.integers(0, reg.size, n_random)])
    random_levels = compare_pairs(random_pairs, con, reg.std)
    u = estimate_u(random_levels)
    # Sparse comparisons (handle names, locations: a few % of contacts) see too few random pairs
    # for their rare levels; sample again among the contacts that carry them.
    for j, name in enumerate(NAMES):
        carriers = np.unique(random_pairs.get_level_values(0).to_numpy()[random_levels[:, j] >= 0])
        if 0 < (random_levels[:, j] >= 0).sum() < n_random // 4:
            extra = pd.MultiIndex.from_arrays([rng.choice(carriers, n_random), rng.integers(0, reg.size, n_random)])
            u[name] = estimate_u(compare_pairs(extra, con, reg.std))[name]
    sample = con if len(con) <= max_contacts else con.sample(max_contacts, random_state=seed)
    sample = sample.reset_index(drop=True)
    sessions = []
    for rule, learns in TRAINING_RULES:
        pairs = _training_pairs(rule, sample, reg)
        if len(pairs) < 50:
            continue
        levels = compare_pairs(pairs, sample, reg.std)
        for name in _ALL - learns:
            levels[:, NAMES.index(name)] = -1
        m_s, post = estimate_m(levels, u)
        sessions.append((levels, post, m_s))
    m = combine_sessions(sessions)
    model = Model(m=m, u=u)
    pairs = candidate_pairs(sample, reg.std, reg.keys, reg.multi)
    levels = compare_pairs(pairs, sample, reg.std)
    bits = pair_weights(model, levels, pairs.get_level_values(1).to_numpy(), reg.tf).sum(axis=1)
    model.p_in_register = _estimate_p_in(sample, pairs.get_level_values(0).to_numpy(), bits, reg.size)
    model.trained_on = {"register": reg.size, "contacts": len(sample), "pairs": len(pairs),
                        "em_sessions": len(sessions)}
    return model


MIN_NAMED_FOR_P_IN = 200


def _estimate_p_in(sample: pd.DataFrame, contact: np.ndarray, bits: np.ndarray, n_register: int) -> float:
    """The share of contacts whose person is in the register, from the contacts that can show it.

    Only a contact that states a forename and a surname is sure to meet its register record
    among its candidates if it has one (name blocking reaches it). A contact that carries only a
    phone number or a case reference says nothing either way: its number may simply not be on the
    register. Counting those as "not found" drove the estimate to 0.76 on simulated data where
    the truth is 0.92, and a low share pulls every posterior down. So p is the fixed point over
    named contacts; with too few of them, over every contact that carries any evidence.
    """
    named = (sample["given"].notna() & sample["family"].notna()).to_numpy()
    if named.sum() >= MIN_NAMED_FOR_P_IN:
        keep = named[contact]
        pos = np.flatnonzero(named)
        remap = np.full(len(sample), -1, dtype=np.int64)
        remap[pos] = np.arange(len(pos))
        return estimate_p_in_register(bits[keep], remap[contact[keep]], len(pos), n_register)
    evidence = ["given", "family", "dob", "postcode", "email", "phone", "ref", "handle", "h_forename", "h_surnames"]
    empty = int(sample[evidence].isna().all(axis=1).sum())
    return estimate_p_in_register(bits, contact, len(sample), n_register, n_uninformative=empty)


RESULT_COLUMNS = ["contact_id", "candidate_citizen_id", "match_weight", "match_probability", "decision",
                  "explanation", "runner_up_weight"]


def _explain(weights: np.ndarray, prior: float, via: str, candidate: str | None) -> str:
    doc: dict[str, object] = {"via": via, "prior": round(prior, 1)}
    for name, w in zip(NAMES, weights):
        if w != 0:
            doc[name] = round(float(w), 1)
    if candidate is not None:
        doc["candidate"] = candidate
    return json.dumps(doc, separators=(",", ":"))


def match_batch(con: pd.DataFrame, reg: PreparedRegister, model: Model, policy: EdgePolicy,
                cannot_link: set[tuple[str, str]] | None = None,
                must_link: dict[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Best register candidate and decision for each standardised contact in the batch.

    Returns (one row per contact, rejected-edge audit, counters).
    """
    con = prepare_contacts(con.reset_index(drop=True))
    pairs = candidate_pairs(con, reg.std, reg.keys, reg.multi)
    ci = pairs.get_level_values(0).to_numpy()
    ri = pairs.get_level_values(1).to_numpy()
    con_ids, reg_ids = con["id"].to_numpy(), reg.std["id"].to_numpy()
    if cannot_link and len(ci):
        keep = np.array([(a, b) not in cannot_link for a, b in zip(con_ids[ci], reg_ids[ri])])
        ci, ri, pairs = ci[keep], ri[keep], pairs[keep]
    levels = compare_pairs(pairs, con, reg.std)
    w = pair_weights(model, levels, ri, reg.tf)
    prior = model.prior_weight(reg.size)
    total = w.sum(axis=1) + prior
    edge_kind, edge_ok, audit = judge_edges(levels, w, ri, ci, con, reg.std, reg.fanout, policy)

    # best per contact: accepted edges first, then by weight
    order = np.lexsort((-total, ~edge_ok, ci))
    ci_s = ci[order]
    first = np.flatnonzero(np.r_[True, ci_s[1:] != ci_s[:-1]]) if len(ci_s) else np.empty(0, int)
    best = order[first]
    has_second = np.r_[first[1:], len(ci_s)] - first > 1
    runner = np.full(len(best), -np.inf)
    runner[has_second] = total[order[first[has_second] + 1]]
    second_edge = np.zeros(len(best), dtype=bool)
    second_edge[has_second] = edge_ok[order[first[has_second] + 1]]

    n = len(con)
    out = pd.DataFrame({"contact_id": con_ids, "candidate_citizen_id": None, "match_weight": prior,
                        "match_probability": 0.0, "decision": "unmatched", "explanation": None,
                        "runner_up_weight": -np.inf})
    out["explanation"] = json.dumps({"via": "no_candidate", "prior": round(prior, 1)}, separators=(",", ":"))
    th = model.thresholds
    bc, br = ci[best], ri[best]
    bw = total[best]
    pair_prob, _ = contact_posterior(total, ci, model.p_in_register)
    prob = pair_prob[best]
    edge = edge_ok[best]
    conflicting_edges = edge & second_edge & (reg_ids[br] != reg_ids[ri[order[np.minimum(first + 1, len(order) - 1)]]])
    clear = (bw - runner) >= th.ambiguity_bits
    # household guard: a stated forename or DOB that clearly differs is another person at the
    # same address / on the same e-mail; never an automatic link
    clear &= ~other_person(levels[best]) & person_evidence(levels[best])
    decision = np.where(edge & ~conflicting_edges, "matched",
               np.where((prob >= th.auto) & clear & ~conflicting_edges, "matched",
               np.where(prob >= th.review, "review", "unmatched")))
    via = np.where(edge & ~conflicting_edges, np.char.add("edge:", edge_kind[best].astype(str)), "score")
    out.loc[bc, "candidate_citizen_id"] = reg_ids[br]
    out.loc[bc, "match_weight"] = bw
    out.loc[bc, "match_probability"] = prob
    out.loc[bc, "decision"] = decision
    out.loc[bc, "runner_up_weight"] = runner
    out.loc[bc, "explanation"] = [
        _explain(w[p], prior, v, reg_ids[r] if d == "review" else None)
        for p, v, r, d in zip(best, via, br, decision)
    ]
    if must_link:
        for pos in np.flatnonzero(out["contact_id"].isin(must_link.keys()).to_numpy()):
            cid = out.at[pos, "contact_id"]
            out.loc[pos, ["candidate_citizen_id", "decision", "match_probability"]] = [must_link[cid], "matched", 1.0]
            out.at[pos, "explanation"] = json.dumps({"via": "review:accept"}, separators=(",", ":"))
    stats = {"contacts": n, "pairs": len(pairs)}
    return out[RESULT_COLUMNS], audit, stats


def batches(df: pd.DataFrame, size: int = BATCH_SIZE):
    for start in range(0, len(df), size):
        yield df.iloc[start:start + size]
