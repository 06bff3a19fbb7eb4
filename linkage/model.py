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
from linkage.io import write_private_text

MODEL_VERSION = 2  # 2: learned parameters only (1 also saved thresholds)
# (weaker level, stronger level) pairs, applied in order: the weaker never outweighs the stronger.
# Handle levels: 0 different, 1 surname only, 2 forename only, 3 forename + initial,
# 4 initial + surname, 5 forename + surname prefix, 6 forename + surname.
_HANDLE_ORDER = ((5, 6), (4, 6), (3, 5), (2, 3), (1, 4))
LEVEL_ORDER = {"handle_name": _HANDLE_ORDER, "email_name": _HANDLE_ORDER}
MIN_PROB = 1e-6


@dataclass
class Model:
    """What is learned from the data, and only that: m and u per comparison level and the share of contacts
    whose person is in the register. Thresholds and protections are settings (linkage.settings): a saved
    model never overrides them. Term frequencies are recomputed from the register it is applied to."""

    m: dict[str, list[float]]
    u: dict[str, list[float]]
    p_in_register: float = 0.8
    trained_on: dict[str, int] = field(default_factory=dict)

    # ---- persistence -------------------------------------------------------------------------
    def to_json(self) -> str:
        doc = {
            "version": MODEL_VERSION,
            "p_in_register": self.p_in_register,
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
        """Reads this version's files and version 1's, whose saved thresholds are ignored: they are settings."""
        doc = json.loads(text)
        comps = doc["comparisons"]
        return cls(
            m={k: v["m"] for k, v in comps.items()},
            u={k: v["u"] for k, v in comps.items()},
            p_in_register=doc["p_in_register"],
            trained_on=doc.get("trained_on", {}),
        )

    def save(self, path: str | Path) -> None:
        """Owner-only: it is saved beside the linkage state, in the restricted store."""
        write_private_text(path, self.to_json())

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


def contact_posterior(total_bits: np.ndarray, contact: np.ndarray, p_in: float | np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: P(this citizen | the contact's candidates), and per pair the contact's P(any).

    A contact is one person: some citizen or nobody in the register. So a pair's probability is
    its odds over the contact's "nobody" odds plus all its candidates' odds,
        P(r | c) = lambda*BF_r / ((1 - p_in) + sum_r' lambda*BF_r'),
    not the pairwise 1 / (1 + 1/(lambda*BF)): a name unique in the register then counts as
    unique, and two equally good candidates (twins, a father and son) share the probability.
    total_bits are pairwise match weights (prior log2(lambda/(1-lambda)) included); p_in is one share, or one
    per pair (its contact's: linkage.context gives each orphan group its own).
    """
    odds = np.exp2(np.clip(total_bits, -60, 60))
    _, inv = np.unique(contact, return_inverse=True)
    sums = np.bincount(inv, weights=odds)
    denom = (1.0 - p_in) + sums[inv]
    return odds / denom, sums[inv] / denom
