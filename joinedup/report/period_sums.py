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

PERIOD = "__period"  # the grouping column naming the period (a position in the periods given)


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
    sort=False, `dropna`) with `counts` summed}, for every period with at least one row. `by` is not empty."""
    out: dict[str, pd.DataFrame] = {}
    for ids in layers(periods):
        values = [m for pid in ids for m in periods[pid]]
        owner = np.array([i for i, pid in enumerate(ids) for _ in periods[pid]], dtype=np.int64)
        position = pd.Index(values).get_indexer(df[month])
        keep = position >= 0
        if not keep.any():
            continue
        sub = df.loc[keep, [*by, *counts]]
        sub.insert(0, PERIOD, owner[position[keep]])
        grouped = sub.groupby([PERIOD, *by], as_index=False, sort=False, dropna=dropna)[list(counts)].sum()
        for i, rows in grouped.groupby(PERIOD, sort=False).indices.items():
            out[ids[i]] = grouped.iloc[rows].drop(columns=PERIOD).reset_index(drop=True)
    return out
