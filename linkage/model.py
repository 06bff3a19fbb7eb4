"""Fellegi-Sunter model: m/u per comparison level, estimated without labels, kept as JSON.

* u (chance agreement) from random contact x register pairs, nearly all non-matches.
* m (agreement among true matches) by EM on blocked candidate pairs with u held fixed.
* Top levels of name and postcode comparisons use the value's frequency in the register
  instead of the average u (term-frequency adjustment): 'smith' agreeing proves less than
  'boothroyd'.
* The prior is calibrated to register size: P(a random pair matches) = p_in_register / N, so the
  evidence needed for a link grows with the number of same-name strangers in the register.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from linkage.compare import COMPARISONS

MODEL_VERSION = 1
# (weaker level, stronger level) pairs, applied in order: the weaker never outweighs the stronger.
# Handle levels: 0 different, 1 surname only, 2 forename only, 3 forename + initial,
# 4 initial + surname, 5 forename + surname prefix, 6 forename + surname.
_HANDLE_ORDER = ((5, 6), (4, 6), (3, 5), (2, 3), (1, 4))
LEVEL_ORDER = {"handle_name": _HANDLE_ORDER, "email_name": _HANDLE_ORDER}
MIN_PROB = 1e-6


@dataclass
class Thresholds:
    """Match-probability cut-offs: >= auto links, >= review queues, below is no match."""

    auto: float = 0.9
    review: float = 0.60
    ambiguity_bits: float = 3.0  # best must beat the runner-up by this many bits to auto-link


@dataclass
class Model:
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    p_in_register: float = 0.8
    thresholds: Thresholds = field(default_factory=Thresholds)
    trained_on: dict[str, int] = field(default_factory=dict)

    # ---- persistence -------------------------------------------------------------------------
    def to_json(self) -> str:
        doc = {
            "version": MODEL_VERSION,
            "p_in_register": self.p_in_register,
            "thresholds": self.thresholds.__dict__,
            "trained_on": self.trained_on,
            "comparisons": {
                c.name: {"levels": list(c.levels), "m": self.m[c.name], "u": self.u[c.name],
                         "tf_adjusted_levels": sorted(c.tf_levels())}
                for c in COMPARISONS
            },
        }
        return json.dumps(doc, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Model:
        doc = json.loads(text)
        comps = doc["comparisons"]
        return cls(
            m={k: v["m"] for k, v in comps.items()},
            u={k: v["u"] for k, v in comps.items()},
            p_in_register=doc["p_in_register"],
            thresholds=Thresholds(**doc["thresholds"]),
            trained_on=doc.get("trained_on", {}),
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> Model:
        return cls.from_json(Path(path).read_text())

    # ---- weights -----------------------------------------------------------------------------
    def weight_table(self) -> list[np.ndarray]:
        """Per comparison: log2(m/u) by level, with index -1 (missing) -> 0 as the last entry.

        A level that says less than another (a surname prefix read from a handle, against the
        whole surname) never weighs more than it: rare levels' u comes from a handful of random
        pairs, or none, and their raw ratio can be wild ('pot' in 'Real Pot' as a prefix of
        Potter scored 16.8 bits, more than a full name).
        """
        out = []
        for c in COMPARISONS:
            m = np.clip(np.array(self.m[c.name]), MIN_PROB, 1)
            u = np.clip(np.array(self.u[c.name]), MIN_PROB, 1)
            w = np.log2(m / u)
            for weaker, stronger in LEVEL_ORDER.get(c.name, ()):
                w[weaker] = min(w[weaker], w[stronger])
            out.append(np.append(w, 0.0))
        return out

    def prior_weight(self, n_register: int) -> float:
        lam = self.p_in_register / max(n_register, 1)
        return math.log2(lam / (1 - lam))


def tf_tables(reg: pd.DataFrame) -> dict[tuple[str, int], np.ndarray]:
    """Per TF-adjusted (comparison, level): each register row's term-frequency adjustment in bits.

    The adjustment is log2(E[f] / f(v)): E[f] = sum of f^2 is how often two random records
    share a value, f(v) how often they share this one. Added to the level's average weight
    log2(m/u) it gives log2(m/f(v)) for a plain exact-match level (Splink's TF weight), and for
    a level that also needs something else (a handle that spells the full name) it keeps that
    part of u instead of dropping it.
    """
    out = {}
    for c in COMPARISONS:
        for level, column in c.tf_levels().items():
            col = reg[column]
            share = col.value_counts(normalize=True)
            expected = float((share ** 2).sum())
            freq = col.map(share).to_numpy(dtype=np.float64, na_value=np.nan)
            out[(c.name, level)] = np.nan_to_num(np.log2(expected / freq), nan=0.0)
    return out


def pair_weights(model: Model, levels: np.ndarray, reg_rows: np.ndarray,
                 tf: dict[tuple[str, int], np.ndarray] | None) -> np.ndarray:
    """Per-pair, per-comparison match weights (bits), TF-adjusted at top levels."""
    table = model.weight_table()
    w = np.empty(levels.shape, dtype=np.float32)
    for j, c in enumerate(COMPARISONS):
        w[:, j] = table[j][levels[:, j]]
        for level in c.tf_levels() if tf else ():
            hit = levels[:, j] == level
            if hit.any():
                w[hit, j] += tf[(c.name, level)][reg_rows[hit]]
    return w


# ---- estimation ------------------------------------------------------------------------------
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


def contact_posterior(total_bits: np.ndarray, contact: np.ndarray, p_in: float) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: P(this citizen | the contact's candidates), and per pair the contact's P(any).

    A contact is one person: some citizen or nobody in the register. So a pair's probability is
    its odds over the contact's "nobody" odds plus all its candidates' odds,
        P(r | c) = lambda*BF_r / ((1 - p_in) + sum_r' lambda*BF_r'),
    not the pairwise 1 / (1 + 1/(lambda*BF)): a name unique in the register then counts as
    unique, and two equally good candidates (twins, a father and son) share the probability.
    total_bits are pairwise match weights (prior log2(lambda/(1-lambda)) included).
    """
    odds = np.exp2(np.clip(total_bits, -60, 60))
    _, inv = np.unique(contact, return_inverse=True)
    sums = np.bincount(inv, weights=odds)
    denom = (1.0 - p_in) + sums[inv]
    return odds / denom, sums[inv] / denom


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
