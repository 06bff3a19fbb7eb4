"""One view of the page (a service or all, and a period): every chart's data summed from the cells, its rates and
shares computed from the summed counts, then suppressed, as compact JSON-ready values.

Why suppression per view: each view is a table of its own on the page, so each gets the small-cell rules
(joinedup.report.disclosure) on its own counts; the page never carries a cell finer than a view, so nothing
small can be re-aggregated in the browser. The views of one page overlap (a month is inside its quarter), so a
reader could difference them: acceptable for a page that is only for people allowed the analytics file itself
(README, docs/privacy.md); sharing beyond them is `joinedup export-aggregates`.

The JSON's convention, which tests/report/test_suppression.py relies on: every integer in a view is a count (0,
or at least k), a suppressed count is its label string ("<5", "suppressed"), a withheld figure is null, and
everything else (shares, costs, codes, band labels) is a float or a string. Pure functions: frames in, dicts out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import product

import numpy as np
import pandas as pd

from joinedup.report.cells import SWITCH_TIME_BANDS, Cells
from joinedup.report.disclosure import LABEL_SUFFIX, Suppression
from joinedup.report.period_sums import sums_by_period

HOURS = list(range(24))
WEEKDAYS = list(range(1, 8))  # ISO: 1 = Monday
TOP_PAIRS = 8
EXAMPLES = 4
SOCIAL_TARGET = "reply_15m"
BANDS = [label for label, _ in SWITCH_TIME_BANDS]


@dataclass(frozen=True)
class Selection:
    """Which cells a view sums: one service (None: all) and the months of its period."""

    service: str | None
    months: Collection[date]

    def pick(self, df: pd.DataFrame, by: Sequence[str], counts: Sequence[str]) -> pd.DataFrame:
        mask = df["month"].isin(pd.to_datetime(list(self.months)))
        if self.service is not None and "service" in df.columns:
            mask &= df["service"].eq(self.service)
        sub = df.loc[mask]
        if not by:
            return sub[list(counts)].sum().to_frame().T
        return sub.groupby(list(by), as_index=False, sort=False)[list(counts)].sum()


class PeriodSums:
    """One service's cells summed for every period of the page at once (joinedup.report.period_sums), per frame
    and grouping, made the first time a view asks: a view then looks its sums up instead of selecting them."""

    def __init__(self, periods: Mapping[str, Collection[date]]) -> None:
        self._periods = {pid: list(pd.to_datetime(list(months))) for pid, months in periods.items()}
        self._made: dict[tuple[int, tuple[str, ...], tuple[str, ...]], tuple[pd.DataFrame, dict]] = {}

    def of(self, df: pd.DataFrame, by: Sequence[str], counts: Sequence[str]) -> dict[str, pd.DataFrame]:
        key = (id(df), tuple(by), tuple(counts))
        made = self._made.get(key)
        if made is None or made[0] is not df:  # the frame itself is kept, so its id is not reused meanwhile
            made = self._made[key] = (df, sums_by_period(df, "month", self._periods, by, counts))
        return made[1]


@dataclass(frozen=True)
class PeriodSelection(Selection):
    """The selection of one period of the page, its sums looked up in the service's PeriodSums (the same frame
    as `Selection.pick`'s; a period with no row, or a total over no dimension, is selected as before)."""

    period: str = ""
    sums: PeriodSums | None = None

    def pick(self, df: pd.DataFrame, by: Sequence[str], counts: Sequence[str]) -> pd.DataFrame:
        if by and self.sums is not None:
            found = self.sums.of(df, by, counts).get(self.period)
            if found is not None:
                return found
        return super().pick(df, by, counts)


def count(value: float, label: str) -> int | str:
    """A count as the page carries it: the exact number, or its suppression label."""
    return label if pd.isna(value) else int(value)


def rate(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), digits)


def _counts(df: pd.DataFrame, column: str) -> list[int | str]:
    return [count(v, lab) for v, lab in zip(df[column], df[column + LABEL_SUFFIX], strict=True)]


def _rates(df: pd.DataFrame, column: str, digits: int = 4) -> list[float | None]:
    return [rate(v, digits) for v in df[column]]


def _divide(a: pd.Series, b: pd.Series) -> pd.Series:
    """a / b, NaN where b is not positive (on the arrays: it runs for most tables of every view)."""
    denominator = b.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        quotient = a.to_numpy(dtype="float64") / np.where(denominator > 0, denominator, np.nan)
    return pd.Series(quotient, index=a.index)


def _total(sup: Suppression, n: float) -> int | str:
    return sup.marker if sup.is_small(n) else int(n)


def _on_grid(df: pd.DataFrame, keys: Sequence[str], grid: Sequence[tuple]) -> pd.DataFrame:
    """df (one row per key) laid on every key of `grid`, in its order, with 0 where df has no row: what
    `df.set_index(keys).reindex(pd.MultiIndex.from_tuples(grid), fill_value=0).reset_index()` gives, without
    building either MultiIndex (a view lays a dozen tables on grids, and the page has about 190 views)."""
    at = dict(zip(zip(*(df[k].tolist() for k in keys)), range(len(df))))
    rows = np.array([at.get(key, -1) for key in grid], dtype=np.int64)
    found = rows >= 0
    out = pd.DataFrame(list(grid), columns=list(keys))
    for column in [c for c in df.columns if c not in keys]:
        values = df[column].to_numpy()
        filled = np.zeros(len(rows), dtype=values.dtype)
        filled[found] = values[rows[found]]
        out[column] = filled
    return out


def sankey(cells: Cells, sel: Selection, sup: Suppression) -> dict:
    """Both Sankey views' bands (source and target as "step:channel"), each with what it leaves out."""
    links = sel.pick(cells.links, ["kind", "step", "source", "target"], ["journeys"])
    totals = sel.pick(cells.journeys, [], ["journeys", "single_contact", "one_channel", "longer_collapsed",
                                           "longer_every"]).iloc[0]
    out = {}
    for kind in ("collapsed", "every"):
        # ties in the order of their channels, whatever order the cells came in
        part = links[links["kind"] == kind].sort_values(["step", "journeys", "source", "target"],
                                                        ascending=[True, False, True, True])
        shown = sup.apply(part, {"journeys": ()}, complement=["step"])
        kept = shown[shown["journeys"].notna()]
        out[kind] = {
            "links": [[f"{r.step}:{r.source}", f"{r.step + 1}:{r.target}", int(r.journeys)]
                      for r in kept.itertuples()],
            "hidden": str(int(shown["journeys"].isna().sum())),  # a number of flows, not of people: a string
            "journeys": _total(sup, totals["journeys"]),
            "single_contact": _total(sup, totals["single_contact"]),
            "one_channel": _total(sup, totals["one_channel"]),
            "longer": _total(sup, totals[f"longer_{kind}"]),
        }
    return out


def transitions(cells: Cells, sel: Selection, sup: Suppression, channels: list[str]) -> dict:
    """From channel x to channel: counts and each cell's share of its row, with the row totals."""
    df = sel.pick(cells.transitions, ["from_channel", "to_channel"], ["transitions"])
    grid = _on_grid(df, ["from_channel", "to_channel"], list(product(channels, channels)))
    grid["share"] = _divide(grid["transitions"], grid.groupby("from_channel")["transitions"].transform("sum"))
    rows = grid.groupby("from_channel", sort=False)["transitions"].sum()
    shown = sup.apply(grid, {"transitions": ("share",)}, complement=["from_channel"])
    size = len(channels)
    return {"n": np.array(_counts(shown, "transitions"), dtype=object).reshape(size, size).tolist(),
            "share": np.array(_rates(shown, "share"), dtype=object).reshape(size, size).tolist(),
            "rows": [_total(sup, rows[c]) for c in channels]}


def switch_times(cells: Cells, sel: Selection, sup: Suppression, triggers: list[str]) -> dict:
    """Switches by trigger and time-to-switch band (additive counts: the bands replace a median)."""
    df = sel.pick(cells.switch_bands, ["switch_trigger", "band"], ["switches"])
    present = [t for t in triggers if t in set(df.loc[df["switches"] > 0, "switch_trigger"])]
    grid = _on_grid(df, ["switch_trigger", "band"], list(product(present, BANDS)))
    totals = grid.groupby("switch_trigger", sort=False)["switches"].sum()
    grid["share"] = _divide(grid["switches"], grid["switch_trigger"].map(totals))
    shown = sup.apply(grid, {"switches": ("share",)}, complement=["switch_trigger"])
    width = len(BANDS)
    return {"triggers": present, "n": [_total(sup, totals[t]) for t in present],
            "bands": np.array(_counts(shown, "switches"), dtype=object).reshape(len(present), width).tolist(),
            "share": np.array(_rates(shown, "share"), dtype=object).reshape(len(present), width).tolist()}


def switch_pairs(cells: Cells, sel: Selection, sup: Suppression, triggers: list[str], top: int = TOP_PAIRS
                 ) -> dict:
    """The commonest from -> to switches in the view, each split by trigger."""
    df = sel.pick(cells.switch_pairs, ["from_channel", "to_channel", "switch_trigger"], ["switches"])
    pairs = df.groupby(["from_channel", "to_channel"], as_index=False)["switches"].sum()
    pairs = pairs[pairs["switches"] > 0].sort_values(["switches", "from_channel", "to_channel"],
                                                     ascending=[False, True, True]).head(top)
    keys = list(zip(pairs["from_channel"], pairs["to_channel"], strict=True))
    grid = _on_grid(df, ["from_channel", "to_channel", "switch_trigger"], [(f, t, g) for f, t in keys for g in triggers])
    grid["pair"] = grid["from_channel"] + ">" + grid["to_channel"]
    shown = sup.apply(grid, {"switches": ()}, complement=["pair"])
    by = np.array(_counts(shown, "switches"), dtype=object).reshape(len(keys), len(triggers)).tolist()
    return {"pairs": [list(k) for k in keys], "n": [_total(sup, n) for n in pairs["switches"]], "triggers": triggers,
            "by": by}


def sla(cells: Cells, sel: Selection, sup: Suppression, channels: list[str], targets_order: list[str]) -> dict:
    """Each response target's attainment by local hour, with the contacts judged (n) on every point."""
    df = sel.pick(cells.sla, ["channel", "platform", "sla_name", "hour"], ["contacts", "met"])
    targets = df.groupby(["channel", "platform", "sla_name"], as_index=False)[["contacts", "met"]].sum()
    targets = targets[targets["contacts"] > 0]
    rank = {c: i for i, c in enumerate(channels)}
    order = {s: i for i, s in enumerate(targets_order)}
    targets = targets.assign(_c=targets["channel"].map(rank).fillna(99), _s=targets["sla_name"].map(order).fillna(99)
                             ).sort_values(["_c", "platform", "_s"])
    keys = list(zip(targets["channel"], targets["platform"], targets["sla_name"], strict=True))
    grid = _on_grid(df, ["channel", "platform", "sla_name", "hour"], [(*k, h) for k in keys for h in HOURS])
    grid["attainment"] = _divide(grid["met"], grid["contacts"])
    shown = sup.apply(grid, {"contacts": ("attainment",)})
    targets["attainment"] = _divide(targets["met"], targets["contacts"])
    overall = sup.apply(targets, {"contacts": ("attainment",)})
    return {"targets": [list(k) for k in keys],
            "n": np.array(_counts(shown, "contacts"), dtype=object).reshape(len(keys), 24).tolist(),
            "met": np.array(_rates(shown, "attainment"), dtype=object).reshape(len(keys), 24).tolist(),
            "total": _counts(overall, "contacts"), "total_met": _rates(overall, "attainment")}


def _weekday_hour(df: pd.DataFrame, counts: Sequence[str]) -> pd.DataFrame:
    return _on_grid(df, ["weekday", "hour"], list(product(WEEKDAYS, HOURS)))[["weekday", "hour", *counts]]


def social(cells: Cells, sel: Selection, sup: Suppression, target: str = SOCIAL_TARGET) -> dict:
    """Social posts answered within the target, by local weekday x hour (every platform together)."""
    posts = sel.pick(cells.sla, ["channel", "sla_name", "weekday", "hour"], ["contacts", "met"])
    posts = posts[(posts["channel"] == "social") & (posts["sla_name"] == target)]
    grid = _weekday_hour(posts.groupby(["weekday", "hour"], as_index=False)[["contacts", "met"]].sum(),
                         ["contacts", "met"])
    grid["attainment"] = _divide(grid["met"], grid["contacts"])
    shown = sup.apply(grid, {"contacts": ("attainment",)}, complement=[])  # the grid adds up to the posts
    total, met = grid["contacts"].sum(), grid["met"].sum()
    return {"target": target, "n": np.array(_counts(shown, "contacts"), dtype=object).reshape(7, 24).tolist(),
            "met": np.array(_rates(shown, "attainment"), dtype=object).reshape(7, 24).tolist(),
            "total": _total(sup, total), "total_met": rate(sup.share(met, total))}


def repeat(cells: Cells, sel: Selection, sup: Suppression) -> dict:
    """Repeat contacts and failure demand by service, with its cost."""
    df = sel.pick(cells.repeat, ["service"], ["contacts", "repeat_contacts", "failure_demand_contacts",
                                              "failure_demand_cost_gbp"])
    df = df[df["contacts"] > 0].sort_values(["failure_demand_contacts", "service"], ascending=[False, True])
    df["first_contacts"] = df["contacts"] - df["failure_demand_contacts"]
    df["rate"] = _divide(df["failure_demand_contacts"], df["contacts"])
    shown = sup.apply(df, {"contacts": ("rate",), "first_contacts": ("rate",),
                           "failure_demand_contacts": ("rate", "failure_demand_cost_gbp")},
                      complement=[])  # the services' bars add up to the view's contacts
    return {"services": df["service"].tolist(), "n": _counts(shown, "contacts"),
            "first": _counts(shown, "first_contacts"), "failure": _counts(shown, "failure_demand_contacts"),
            "rate": _rates(shown, "rate"), "cost": _rates(shown, "failure_demand_cost_gbp", 0)}


def shift(cells: Cells, sel: Selection, sup: Suppression, channels: list[str]) -> dict:
    """The channel mix and cost per contact by month (the view's months, partial ones marked by the page)."""
    months = list(pd.to_datetime(sorted(sel.months)))
    df = sel.pick(cells.shift, ["month", "channel"], ["contacts", "cost_gbp"])
    grid = _on_grid(df, ["month", "channel"], list(product(months, channels)))
    by_month = grid.groupby("month")[["contacts", "cost_gbp"]].transform("sum")
    grid["month_contacts"] = by_month["contacts"]
    grid["share"] = _divide(grid["contacts"], grid["month_contacts"])
    grid["month_cpc"] = _divide(by_month["cost_gbp"], grid["month_contacts"])
    shown = sup.apply(grid, {"contacts": ("share",), "month_contacts": ("month_cpc",)}, complement=["month"])
    first = shown.drop_duplicates("month")
    size = (len(months), len(channels))
    return {"months": [f"{m:%Y-%m}" for m in months], "n": _counts(first, "month_contacts"),
            "cpc": _rates(first, "month_cpc", 2),
            "channels": np.array(_counts(shown, "contacts"), dtype=object).reshape(size).T.tolist(),
            "share": np.array(_rates(shown, "share"), dtype=object).reshape(size).T.tolist()}


def out_of_hours(cells: Cells, sel: Selection, sup: Suppression, channels: list[str]) -> dict:
    """Each channel's share of contacts outside its own opening hours (dim_opening_hours: bank holidays of
    England and Wales closed), with the bank-holiday part; and all contacts by local weekday x hour."""
    df = sel.pick(cells.out_of_hours, ["channel", "bank_holiday"], ["contacts", "out_of_hours_contacts"])
    by_channel = df.groupby("channel")[["contacts", "out_of_hours_contacts"]].sum().reindex(channels, fill_value=0)
    holidays = df[df["bank_holiday"].astype(bool)].groupby("channel")["out_of_hours_contacts"].sum().reindex(
        channels, fill_value=0)
    frame = pd.DataFrame({"channel": channels, "contacts": by_channel["contacts"].to_numpy(),
                          "ooh": by_channel["out_of_hours_contacts"].to_numpy(), "bank_holiday": holidays.to_numpy()})
    frame["share"] = _divide(frame["ooh"], frame["contacts"])
    frame["share_bh"] = _divide(frame["bank_holiday"], frame["contacts"])
    shown = sup.apply(frame, {"contacts": ("share", "share_bh"), "ooh": ("share",), "bank_holiday": ("share_bh",)})
    grid = _weekday_hour(sel.pick(cells.out_of_hours, ["weekday", "hour"], ["contacts"]), ["contacts"])
    cells_shown = sup.apply(grid, {"contacts": ()}, complement=[])  # the grid adds up to the view's contacts
    return {"n": _counts(shown, "contacts"), "ooh": _counts(shown, "ooh"), "bh": _counts(shown, "bank_holiday"),
            "share": _rates(shown, "share"), "share_bh": _rates(shown, "share_bh"),
            "grid": np.array(_counts(cells_shown, "contacts"), dtype=object).reshape(7, 24).tolist()}


def examples(cells: Cells, sel: Selection, sup: Suppression, top: int = EXAMPLES) -> dict:
    """A few switching journeys as coarse patterns (channel, outcome and time since the step before, in bands),
    each only when at least k journeys of the view share it: no date, no key, no single person."""
    df = sel.pick(cells.patterns, ["pattern"], ["journeys"])
    common = df[df["journeys"] >= sup.k].sort_values(["journeys", "pattern"], ascending=[False, True])
    steps = common["pattern"].str.count(";") + 1
    # the commonest, but at most half of them of one length: longer journeys are the instructive ones
    common = common[steps.groupby(steps).cumcount() < max(1, top // 2)].head(top)
    return {"journeys": [{"n": int(r.journeys), "steps": [s.split("|") for s in r.pattern.split(";")]}
                         for r in common.itertuples()],
            "eligible": _total(sup, df["journeys"].sum())}


def view(cells: Cells, sel: Selection, sup: Suppression, channels: list[str], triggers: list[str],
         targets_order: list[str]) -> dict:
    """Every chart's data of one view."""
    return {
        "sankey": sankey(cells, sel, sup),
        "transitions": transitions(cells, sel, sup, channels),
        "switch_times": switch_times(cells, sel, sup, triggers),
        "switch_pairs": switch_pairs(cells, sel, sup, triggers),
        "sla": sla(cells, sel, sup, channels, targets_order),
        "social": social(cells, sel, sup),
        "repeat": repeat(cells, sel, sup),
        "shift": shift(cells, sel, sup, channels),
        "out_of_hours": out_of_hours(cells, sel, sup, channels),
        "examples": examples(cells, sel, sup),
    }
