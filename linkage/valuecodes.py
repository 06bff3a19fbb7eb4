"""Integer codes for a frame's values, so a comparison runs once per distinct tuple of values, not per pair.

A comparator's level is a function of the values it is given, pair by pair. Candidate pairs repeat the same
values many times (a forename meets the same register forename thousands of times; a contact meets forty
register rows with its one postcode), and the comparators pay per pair for what they read: rapidfuzz over
Python strings, null checks over scattered object arrays, loops in Python. With codes, a pair's tuple is two
integers taken at its rows, the distinct tuples come from np.unique, and each comparator sees one
representative pair per tuple; the levels are broadcast back. The result is the same as comparing every pair.

Missing values keep their kind: None, NaN and pd.NA get codes of their own (a comparator may test `is None`).
Codes are computed once per frame and column and kept while the frame lives (the register's for every batch).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

_CACHE: dict[int, tuple[weakref.ref, dict[object, np.ndarray]]] = {}


def column_codes(values: np.ndarray) -> np.ndarray:
    """int64 code per value: equal values equal codes; None and the NaN-like nulls each a code of their own."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        m = values[missing]
        try:  # NaN and NaT are unequal to themselves, None is equal to None: no Python loop over a million nulls
            nan_like = np.asarray(np.not_equal(m, m), dtype=bool)
        except TypeError:  # pd.NA answers NA: an extension array's nulls are all pd.NA anyway
            nan_like = np.array([v is not None for v in m], dtype=bool)
        codes[missing] = len(uniques) + nan_like
    return codes


def _entry(frame: pd.DataFrame) -> dict[object, np.ndarray]:
    """The codes kept for `frame` (by identity, while it lives)."""
    got = _CACHE.get(id(frame))
    if got is None or got[0]() is not frame:
        for stale in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[stale]
        got = (weakref.ref(frame), {})
        _CACHE[id(frame)] = got
    return got[1]


def cached_tuple_codes(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Dense int64 code per row for the tuple of `columns`' values, kept with `frame` while it lives: the
    register is compared against batch after batch, and comparisons share columns."""
    cache = _entry(frame)
    key = tuple(columns)
    if key not in cache:
        out = np.zeros(len(frame), dtype=np.int64)
        for name in columns:
            if name not in cache:
                cache[name] = column_codes(frame[name].to_numpy(dtype=object)).astype(np.int32)  # half the memory
            code = cache[name]
            out = pd.factorize(out * (int(code.max(initial=0)) + 1) + code)[0].astype(np.int64)
        cache[key] = out.astype(np.int32)
    return cache[key]


def distinct_pairs(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For pairs of (left tuple code, right tuple code): the index of one pair per distinct tuple, and for
    every pair the position of its tuple among those."""
    width = int(right.max(initial=0)) + 1
    inverse, uniques = pd.factorize(left.astype(np.int64) * width + right)  # hashing: no sort, unlike np.unique
    first = np.empty(len(uniques), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)  # the last write is each tuple's first pair
    return first, inverse.astype(np.int64)


def str_unique(s: pd.Series, op: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`op(s)` for a pandas string operation (`lambda x: x.str[:1]`), run on the distinct values only.

    A register has a million rows but a few thousand forenames: the per-element Python of `.str` ran a
    million times. A null stays the null it was (None or NaN), as `.str` keeps it.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    done = op(pd.Series(uniques, dtype=object)).to_numpy(dtype=object)
    out = s.to_numpy(dtype=object).copy()
    ok = codes >= 0
    out[ok] = done[codes[ok]]
    return pd.Series(out, index=s.index, dtype=object)
