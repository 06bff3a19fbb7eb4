"""A frame's counts summed for every period of the page at once: what each view (service x period) would get by
selecting its months and grouping, made with one grouped pass per kind of period instead of one per view.

Why: a council year has about 190 views and each sums a dozen cell frames; filtering and grouping the frames once
per view was most of the report's time. Months of one kind of period (the whole period, the quarters, the months)
do not overlap, so each row belongs to at most one period of a kind and one groupby keyed by (period, dimensions)
sums all of them. The result of each period is the frame a per-view selection makes, row for row: with
`sort=False` pandas orders groups by first appearance, and a period's rows keep their order in the frame, so its
groups come in the order its own selection would give them, each summed over the same rows in the same order.
That order matters: suppression's complementary rule and the Sankey's ties keep the first of equal cells.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence

import numpy as np
import pandas as pd


def layers(periods: Mapping[str, Collection[Hashable]]) -> list[list[str]]:
    """The periods in groups whose months do not overlap (greedily, in order): the whole period, the quarters,
    the months."""
    out: list[tuple[list[str], set[Hashable]]] = []
    for pid, months in periods.items():
        for ids, taken in out:
            if taken.isdisjoint(months):
                ids.append(pid)
                taken.update(months)
                break
        else:
            out.append(([pid], set(months)))
    return [ids for ids, _ in out]


def sums_by_period(df: pd.DataFrame, month: str, periods: Mapping[str, Collection[Hashable]], by: Sequence[str],
                   counts: Sequence[str], dropna: bool = True) -> dict[str, pd.DataFrame]:
    """{period id: df's rows whose `month` is one of the period's months, grouped by `by` (as_index=False,
    sort=False, `dropna`) with `counts` summed}, for every period with at least one row. `by` is not empty.

    The dimensions are numbered once (a group's number, -1 for a row `dropna` leaves out); each kind of period
    then groups by one number, (period, group), and takes each group's dimensions from its first row. Sums are
    pandas' own (the same compensated summation, over the same rows in the same order)."""
    out: dict[str, pd.DataFrame] = {}
    group = df.groupby(list(by), sort=False, dropna=dropna).ngroup().fillna(-1).to_numpy(dtype=np.int64)
    width = int(group.max()) + 1 if len(group) else 0
    for ids in layers(periods):
        values = [m for pid in ids for m in periods[pid]]
        owner = np.array([i for i, pid in enumerate(ids) for _ in periods[pid]], dtype=np.int64)
        position = pd.Index(values).get_indexer(df[month])
        rows = np.flatnonzero((position >= 0) & (group >= 0))
        if not len(rows):
            continue
        period = owner[position[rows]]
        codes, _ = pd.factorize(period * width + group[rows], sort=False)  # numbered in order of first appearance
        first = np.unique(codes, return_index=True)[1]
        summed = df[list(by)].iloc[rows[first]].reset_index(drop=True)
        sums = df[list(counts)].iloc[rows].groupby(codes, sort=False).sum()  # one row a code, in code order
        for column in counts:
            summed[column] = sums[column].to_numpy()
        owners = period[first]
        for i in np.unique(owners):
            out[ids[i]] = summed.iloc[np.flatnonzero(owners == i)].reset_index(drop=True)
    return out
