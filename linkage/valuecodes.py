"""Integer codes for a frame's values, so a comparison runs once per distinct tuple of values, not per pair.

A comparator's level is a function of the values it is given, pair by pair. Candidate pairs repeat the same
values many times (a forename meets the same register forename thousands of times; a contact meets forty
register rows with its one postcode), and the comparators pay per pair for what they read: rapidfuzz over
Python strings, null checks over scattered object arrays, loops in Python. With codes, a pair's tuple is two
integers taken at its rows, the distinct tuples come from np.unique, and each comparator sees one
representative pair per tuple; the levels are broadcast back. The result is the same as comparing every pair.

Missing values keep their kind: None, NaN and pd.NA get codes of their own (a comparator may test `is None`).
The register's codes are computed once per register frame and kept while the frame lives.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np
import pandas as pd

_REGISTER_CODES: dict[int, tuple[weakref.ref, dict[tuple[str, ...], np.ndarray]]] = {}


def column_codes(values: np.ndarray) -> np.ndarray:
    """int64 code per value: equal values equal codes; each kind of missing value a code of its own."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        kinds: dict[type, int] = {}
        codes[missing] = [len(uniques) + kinds.setdefault(type(v), len(kinds)) for v in values[missing]]
    return codes


def tuple_codes(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Dense int64 code per row for the tuple of `columns`' values (0..k-1)."""
    out = np.zeros(len(frame), dtype=np.int64)
    for name in columns:
        code = column_codes(frame[name].to_numpy(dtype=object))
        _, out = np.unique(out * (int(code.max(initial=0)) + 1) + code, return_inverse=True)
        out = out.astype(np.int64).reshape(-1)
    return out


def cached_tuple_codes(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """tuple_codes, kept for as long as `frame` lives: the register is compared against batch after batch."""
    key = tuple(columns)
    entry = _REGISTER_CODES.get(id(frame))
    if entry is None or entry[0]() is not frame:
        for stale in [k for k, (ref, _) in _REGISTER_CODES.items() if ref() is None]:
            del _REGISTER_CODES[stale]
        entry = (weakref.ref(frame), {})
        _REGISTER_CODES[id(frame)] = entry
    if key not in entry[1]:
        entry[1][key] = tuple_codes(frame, columns)
    return entry[1][key]


def distinct_pairs(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For pairs of (left tuple code, right tuple code): the index of one pair per distinct tuple, and for
    every pair the position of its tuple among those."""
    width = int(right.max(initial=0)) + 1
    inverse, uniques = pd.factorize(left * width + right)  # hashing: no sort, unlike np.unique
    first = np.empty(len(uniques), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)  # the last write is each tuple's first pair
    return first, inverse.astype(np.int64)
