"""Step 2, train: the Fellegi-Sunter model's m and u, and the share of contacts in the register, estimated
without labels, Splink-style. What it returns is learned data (linkage.model.Model), never settings.

* u (chance agreement) from random contact x register pairs, nearly all non-matches.
* m (agreement among true matches) by EM on blocked candidate pairs with u held fixed, one session per
  training blocking rule, each blind to the comparisons its rule fixes, then combined.
* The share of contacts in the register by fixed point on the contacts' best candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.blocking import KeyIndex, candidate_pairs, forename_pairs, handle_pairs, known_handle_pairs
from linkage.compare import COMPARISONS, NAMES, compare_pairs, prepare_contacts
from linkage.model import MIN_PROB, Model, contact_posterior, pair_weights
from linkage.prepare import PreparedRegister


def _level_freqs(levels: np.ndarray, weights: np.ndarray | None = None, smooth: float = 1e-3) -> dict:
    out = {}
    for j, c in enumerate(COMPARISONS):
        k = len(c.levels)
        col = levels[:, j]
        ok = col >= 0
        wts = np.ones(len(col)) if weights is None else weights
        counts = np.bincount(col[ok], weights=wts[ok], minlength=k)[:k] + smooth
        out[c.name] = (counts / counts.sum()).tolist()
    return out


def estimate_u(random_levels: np.ndarray) -> dict[str, list[float]]:
    """u from random pairs (almost all non-matches); smoothing keeps never-seen levels finite."""
    return _level_freqs(random_levels, smooth=0.1)


def _initial_m() -> dict[str, list[float]]:
    """Start EM with matches agreeing mostly at the top level."""
    out = {}
    for c in COMPARISONS:
        k = len(c.levels)
        vals = np.array([0.05] + [0.1] * (k - 2) + [0.8]) if k > 2 else np.array([0.1, 0.9])
        out[c.name] = (vals / vals.sum()).tolist()
    return out


def estimate_m(levels: np.ndarray, u: dict[str, list[float]], iterations: int = 30
               ) -> tuple[dict[str, list[float]], np.ndarray]:
    """EM over candidate pairs with u held fixed; returns m and each pair's match posterior."""
    m = _initial_m()
    lam = 0.1
    posterior = np.full(len(levels), lam)
    for _ in range(iterations):
        log_bf = np.zeros(len(levels))
        for j, c in enumerate(COMPARISONS):
            col = levels[:, j]
            ratio = np.log(np.clip(np.array(m[c.name]), MIN_PROB, 1) / np.clip(np.array(u[c.name]), MIN_PROB, 1))
            log_bf += np.where(col >= 0, ratio[np.maximum(col, 0)], 0.0)
        logit = np.clip(log_bf + math.log(lam / (1 - lam)), -50, 50)
        posterior = 1 / (1 + np.exp(-logit))
        lam = float(np.clip(posterior.mean(), 1e-6, 0.999))
        m = _level_freqs(levels, posterior, smooth=1e-3)
    return m, posterior


def combine_sessions(sessions: list[tuple[np.ndarray, np.ndarray, dict[str, list[float]]]],
                     min_evidence: float = 20.0) -> dict[str, list[float]]:
    """Average m over EM sessions, each weighted by its expected matches that carry the comparison.

    A session trained on pairs blocked by a comparison says nothing about that comparison's m
    (every pair agrees on it by construction); those comparisons are masked (-1) and so carry
    no weight. Comparisons with too little evidence keep the starting values.
    """
    init = _initial_m()
    out = {}
    for j, c in enumerate(COMPARISONS):
        floor = M_DIFFERENT_FLOOR.get(c.name)
        num = np.zeros(len(c.levels))
        den = 0.0
        for levels, posterior, m in sessions:
            ev = float(posterior[levels[:, j] >= 0].sum())
            num += ev * np.array(m[c.name])
            den += ev
        m = num / den if den >= min_evidence else np.array(init[c.name])
        if floor and m[0] < floor:  # see M_DIFFERENT_FLOOR
            m = np.r_[floor, m[1:] * (1 - floor) / max(m[1:].sum(), MIN_PROB)]
        out[c.name] = m.tolist()
    return out


# People hold several e-mail addresses, phones and social accounts, and sessions blocked on an
# identifier see only pairs that share it, so EM puts m(different) near 0 and a second
# address would count as strong evidence of another person. It is no such thing.
M_DIFFERENT_FLOOR = {"email": 0.3, "phone": 0.3, "known_handle": 0.5}


def estimate_p_in_register(bits_without_prior: np.ndarray, contact: np.ndarray, n_contacts: int,
                           n_register: int, n_uninformative: int = 0, iterations: int = 30) -> float:
    """Share of contacts whose person is in the register: fixed point of p = mean P(any citizen).

    Contacts that carry nothing to compare (an anonymous walk-in) say nothing either way: they
    count at the current p, not as evidence of absence.
    """
    p = 0.5
    n_informative = max(n_contacts - n_uninformative, 1)
    for _ in range(iterations):
        lam = p / n_register
        _, any_match = contact_posterior(bits_without_prior + math.log2(lam / (1 - lam)), contact, p)
        first = np.unique(contact, return_index=True)[1]
        p_informative = any_match[first].sum() / n_informative
        p = float(np.clip((p_informative * n_informative + p * n_uninformative) / max(n_contacts, 1), 0.05, 0.98))
    return p


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
        c, r = known_handle_pairs(con, reg.std, reg.index())
    elif rule.startswith("h_"):
        got = handle_pairs(con, reg.keys, rules=(rule,), multi=reg.multi, index=reg.index())
        c, r = got[0] if got else (np.empty(0, np.int64), np.empty(0, np.int64))
    elif rule == "given_family":
        c, r = forename_pairs(con, reg.multi, rules=("given_family",), index=reg.index())[0]
    else:
        # the join recordlinkage's Index.block made, without importing recordlinkage (and scikit-learn with
        # it: 2 s and 90 MB for every `joinedup link`)
        rk = reg.std[rule].reset_index(drop=True)
        right = rk.where(rk.map(rk.value_counts()) <= reg.max_block, None)
        c, r = KeyIndex.of_keys(right).join_keys(con[rule].reset_index(drop=True))
    keep = np.unique(c * max(reg.size, 1) + r)
    c, r = keep // max(reg.size, 1), keep % max(reg.size, 1)
    return pd.MultiIndex.from_arrays([c, r])


@dataclass(frozen=True)
class SampleScores:
    """What training compared of its contacts that scoring would compare again: the contacts (standardised,
    with prepare_contacts' columns), their candidate pairs over their positions, and the pairs' levels."""

    con: pd.DataFrame
    pairs: pd.MultiIndex
    levels: np.ndarray


def train(reg: PreparedRegister, con: pd.DataFrame, n_random: int = 200_000, max_contacts: int = 50_000,
          seed: int = 0) -> Model:
    """Unsupervised model, Splink-style.

    u from random pairs; m by one EM session per training blocking rule, each blind to the
    comparisons its rule fixes, combined; then the share of contacts in the register by
    fixed-point on the contacts' best candidates.
    """
    return train_scored(reg, con, n_random, max_contacts, seed)[0]


def train_scored(reg: PreparedRegister, con: pd.DataFrame, n_random: int = 200_000, max_contacts: int = 50_000,
                 seed: int = 0) -> tuple[Model, SampleScores | None]:
    """train(), and when it trained on all of `con` (at most max_contacts), the candidate pairs and levels it
    compared them on: link() scores those contacts with them instead of blocking and comparing them again."""
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
            u[name] = estimate_u(compare_pairs(extra, con, reg.std, only=(name,)))[name]
    sample = con if len(con) <= max_contacts else con.sample(max_contacts, random_state=seed).reset_index(drop=True)
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
    pairs = candidate_pairs(sample, reg.std, reg.keys, reg.multi, reg.index())
    levels = compare_pairs(pairs, sample, reg.std)
    bits = pair_weights(model, levels, pairs.get_level_values(1).to_numpy(), reg.tf).sum(axis=1)
    contact = pairs.get_level_values(0).to_numpy()
    model.p_in_register = _estimate_p_in(sample, contact, bits, reg.size)
    model.trained_on = {"register": reg.size, "contacts": len(sample), "pairs": len(pairs),
                        "em_sessions": len(sessions)}
    return model, (SampleScores(con, pairs, levels) if sample is con else None)


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
        return _p_in_over(named, contact, bits, n_register)
    evidence = ["given", "family", "dob", "postcode", "email", "phone", "ref", "handle", "h_forename", "h_surnames"]
    empty = int(sample[evidence].isna().all(axis=1).sum())
    return estimate_p_in_register(bits, contact, len(sample), n_register, n_uninformative=empty)


def _p_in_over(subset: np.ndarray, contact: np.ndarray, bits: np.ndarray, n_register: int) -> float:
    """The fixed point of estimate_p_in_register over the contacts in `subset` (a boolean mask over the sample)."""
    keep = subset[contact]
    pos = np.flatnonzero(subset)
    remap = np.full(len(subset), -1, dtype=np.int64)
    remap[pos] = np.arange(len(pos))
    return estimate_p_in_register(bits[keep], remap[contact[keep]], len(pos), n_register)
