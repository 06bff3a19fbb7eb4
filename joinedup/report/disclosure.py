"""Disclosure control: the one place small cells are suppressed, for the report and the aggregates export.

Why: the analytics file is pseudonymous, and an aggregate is not automatically safe. A count of 2 in "social
posts about housing benefit on Sunday at 03:00" points at people someone may know; a filtered report (one
service, one week) makes such cells common. ONS and NHS Digital practice is to suppress counts below 5; k is
configurable (`JOINEDUP_REPORT_MIN_CELL`, or `--min-cell` on `joinedup report` / `joinedup export-aggregates`).

The rules, applied to a DataFrame by `Suppression.apply` with the table's own knowledge of which columns are
counts and which figures are computed from them:

1. **Primary.** A count n with 0 < n < k is suppressed: it is never carried as its value, only as the label
   "<k". Zero is shown: it says no contact of that kind happened, which names nobody.
2. **Derived figures.** A rate, share, mean, median or cost computed from a suppressed count is withheld, whether
   that count is its numerator or its denominator; so a rate over fewer than k is never shown exactly.
3. **Complementary.** Where a table shows (or lets a reader derive) a group's total, e.g. a row of shares that
   sums to 100%, one suppressed cell could be recovered by subtraction. Within each such group, if exactly one
   non-zero cell is suppressed, the next smallest non-zero cell is suppressed too. Its label is "suppressed",
   not "<5": it is not small, and saying so would mislead.

What it does not do: protect against differencing between two separately published tables (e.g. two
overlapping filtered reports). docs/privacy.md says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

ENV = "JOINEDUP_REPORT_MIN_CELL"
DEFAULT_MIN_CELL = 5
LABEL_SUFFIX = "_label"
SECONDARY = "suppressed"  # the label of a cell withheld only so that a small one beside it stays hidden


def min_cell_from_env() -> int:
    """k from JOINEDUP_REPORT_MIN_CELL (default 5). A value that is not a whole number >= 1 is an error: a
    typo must not silently publish small cells."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return DEFAULT_MIN_CELL
    try:
        k = int(raw)
    except ValueError:
        raise ValueError(f"{ENV}={raw!r} is not a whole number (the smallest count shown, e.g. 5)") from None
    if k < 1:
        raise ValueError(f"{ENV}={k}: the smallest count shown must be at least 1 (1 turns suppression off)")
    return k


@dataclass(frozen=True)
class Suppression:
    """Small-cell suppression with threshold k (k = 1 shows every count exactly)."""

    k: int = DEFAULT_MIN_CELL

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"the smallest count shown must be at least 1, not {self.k}")

    @classmethod
    def from_env(cls) -> Suppression:
        return cls(min_cell_from_env())

    @property
    def marker(self) -> str:
        return f"<{self.k}"

    def note(self) -> str:
        """What a reader of a suppressed figure needs to know, in one line."""
        if self.k == 1:
            return "every count shown exactly (no small-cell suppression)"
        return f"counts under {self.k} shown as {self.marker}, figures computed from them withheld"

    def is_small(self, n: float | None) -> bool:
        return n is not None and not pd.isna(n) and 0 < n < self.k

    def small(self, counts: pd.Series) -> pd.Series:
        """True where a count is suppressed (0 < n < k)."""
        values = pd.to_numeric(counts, errors="coerce")
        return (values > 0) & (values < self.k)

    def label(self, n: float | None) -> str:
        """How a count is written: "<5" when suppressed, else "1,234"."""
        if n is None or pd.isna(n):
            return "–"
        return self.marker if self.is_small(n) else f"{int(n):,}"

    def share(self, numerator: float, denominator: float) -> float | None:
        """numerator / denominator, or None when either count is suppressed or the denominator is 0."""
        if self.is_small(numerator) or self.is_small(denominator) or not denominator:
            return None
        return numerator / denominator

    def apply(self, df: pd.DataFrame, counts: Mapping[str, Sequence[str]],
              complement: Sequence[str] | None = None) -> pd.DataFrame:
        """A copy of `df` with the rules applied.

        `counts` maps each count column to the columns computed from it. Suppressed counts become NaN (the
        exact value leaves nothing), each count gets a `<count>_label` column ("<5" or "1,234") for labels and
        hover text, and the derived columns are NaN wherever a count they come from is suppressed.
        `complement` names the columns that group cells whose total is revealed (`[]`: the whole table is one
        group); None when no total is revealed."""
        unknown = [c for c in [*counts, *(d for ds in counts.values() for d in ds)] if c not in df.columns]
        if unknown:
            raise KeyError(f"suppression rules name columns the table does not have: {unknown}")
        columns: dict[str, object] = {c: df[c].array for c in df.columns}  # copied once, at the end
        for count, derived in counts.items():
            current = pd.Series(columns[count], index=df.index)
            values = pd.to_numeric(current, errors="coerce").astype("float64").to_numpy()
            small = (values > 0) & (values < self.k)  # `small`, on the array
            hide = small if complement is None else self._complement(values, small, df, complement)
            values = np.where(hide, np.nan, values)
            shown = [f"{int(v):,}" if v == v else "–" for v in values.tolist()]
            labels = np.where(small, self.marker, np.where(hide, SECONDARY, shown)).tolist() if len(df) else []
            columns[count] = values
            columns[count + LABEL_SUFFIX] = labels
            for column in derived:
                figures = pd.to_numeric(pd.Series(columns[column], index=df.index), errors="coerce").astype(
                    "float64").to_numpy()
                columns[column] = np.where(hide, np.nan, figures)
        return pd.DataFrame(columns, index=df.index, copy=True)

    @staticmethod
    def _complement(values: np.ndarray, hide: np.ndarray, df: pd.DataFrame, groups: Sequence[str]) -> np.ndarray:
        """Rule 3: in a group with exactly one suppressed non-zero cell, also suppress its smallest other
        non-zero cell (the first of equal ones), so the first cannot be recovered from the group's total.
        On arrays, by row position: it runs for every table of every view of the page."""
        hide = hide.copy()
        if not hide.any():
            return hide
        if not groups:
            codes = np.zeros(len(df), dtype=np.int64)
        elif len(groups) == 1:
            codes = pd.factorize(df[groups[0]], use_na_sentinel=False)[0]
        else:
            codes = df.groupby(list(groups), sort=False, dropna=False).ngroup().to_numpy()
        lone = np.bincount(codes[hide], minlength=codes.max() + 1)[codes] == 1  # groups with one suppressed cell
        rows = np.flatnonzero(lone & ~hide & (values > 0))
        if not len(rows):
            return hide
        order = rows[np.lexsort((rows, values[rows], codes[rows]))]  # by group, then value, then position
        first = np.r_[True, codes[order][1:] != codes[order][:-1]]
        hide[order[first]] = True
        return hide
