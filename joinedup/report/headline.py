"""The headline of one view as the page shows it: the two shares observed in the marts with their n, the estimate
of each if every contact were joined (joinedup.report.estimate) with its 95% interval, what linkage covered, and
the change since the previous month or quarter.

Why text made here: the headline's wording depends on suppression (a share over a suppressed count is withheld,
and so is its estimate), on why the model could not estimate, and on whether either period is partial; one pure
function per line keeps that testable without a browser. Counts go through `Suppression.label`, as in the
charts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd

from joinedup.report.disclosure import Suppression
from joinedup.report.estimate import Coverage, Estimate, EstimateInputs, HeadlineEstimates, headline_estimates
from joinedup.report.period_sums import sums_by_period
from joinedup.report.periods import Period

FIGURES = {  # key -> (label, what the denominator counts)
    "switching": ("of journeys switch channel", "journeys"),
    "unanswered": ("of channel switches follow an unanswered contact", "switches"),
}


def pct(x: float | None) -> str:
    return "withheld" if x is None else f"{x:.0%}"


def _shown(e: Estimate, sup: Suppression) -> float | None:
    """The observed share, or None when its numerator or denominator is suppressed."""
    return sup.share(e.numerator, e.denominator)


def figure(e: Estimate, key: str, sup: Suppression) -> dict[str, str]:
    """One headline share: value, label, the n it rests on, and the estimate line."""
    label, unit = FIGURES[key]
    observed = _shown(e, sup)
    if observed is None:
        est = "estimate withheld (too few to show)"
    elif e.is_estimated:
        est = f"est. {e.estimate:.0%} ({e.low * 100:.0f}–{e.high:.0%}) if every contact were joined"
    else:
        est = f"no estimate: {e.why_not}"
    return {"value": pct(observed), "label": label,
            "n": f"observed: {sup.label(e.numerator)} of {sup.label(e.denominator)} {unit}", "estimate": est}


def coverage(c: Coverage, sup: Suppression) -> str:
    linked = sup.share(c.contacts_linked, c.contacts)
    share = "" if linked is None else f" ({linked:.0%})"
    return (f"Rests on {sup.label(c.contacts)} contacts: {sup.label(c.contacts_linked)}{share} linked to the "
            f"register, {sup.label(c.contacts_in_review)} in the review queue; "
            f"{sup.label(c.persons_unresolved)} persons unresolved (not in the register).")


def _points(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "withheld"
    diff = round((now - before) * 100)
    if diff == 0:
        return "no change"
    return f"{'up' if diff > 0 else 'down'} {abs(diff)} pt{'' if abs(diff) == 1 else 's'}"


def change(now: Estimate, before: Estimate, sup: Suppression, period: Period, previous: Period) -> str:
    """"vs March 2025: observed up 2 pts, estimate up 1 pt" (saying which period is partial)."""
    obs = _points(_shown(now, sup), _shown(before, sup))
    est_now = now.estimate if _shown(now, sup) is not None else None
    est_before = before.estimate if _shown(before, sup) is not None else None
    est = _points(est_now, est_before) if (est_now is not None and est_before is not None) else "not comparable"
    partial = [f"{p.label}, {p.coverage_note}" for p in (period, previous) if p.partial]
    note = f" (partial: {'; '.join(partial)})" if partial else ""
    return f"vs {previous.label}: observed {obs}, estimate {est}{note}"


def headline(estimates: HeadlineEstimates, sup: Suppression, previous: tuple[HeadlineEstimates, Period, Period]
             | None = None) -> dict:
    """The headline block of one view; `previous` = (its estimates, this period, the previous period)."""
    out = {key: figure(getattr(estimates, key), key, sup) for key in FIGURES}
    for key in FIGURES:
        out[key]["change"] = "" if previous is None else change(
            getattr(estimates, key), getattr(previous[0], key), sup, previous[1], previous[2])
    out["coverage"] = coverage(estimates.coverage, sup)
    return out


COUNTS = {"contacts": ["contacts", "linked", "in_review"], "linked_journeys": ["journeys"],
          "journeys": ["journeys", "switching"], "switches": ["switches", "unanswered"], "pairs": ["pairs"]}


def _month_number(months: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(months)
    return stamps.dt.year * 12 + stamps.dt.month


@dataclass(frozen=True)
class ServiceInputs:
    """The estimate's inputs of one service (or of all, summed over services), by month: what each of the
    service's views selects its months from. The estimate only sums over service and month, so summing them away
    leaves its result unchanged, and the jackknife's 25 replicates then run on a few thousand rows instead of a
    year's (service, month, person group) cells. Unresolved persons are kept by month (counted distinct)."""

    channels: tuple[str, ...]
    frames: dict[str, pd.DataFrame]  # each with "_month" (year * 12 + month) and no service
    unresolved: pd.DataFrame  # _month, person
    prior: dict[str, float]  # the whole file's linked share per channel (EstimateInputs.prior)

    @classmethod
    def of(cls, inputs: EstimateInputs, service: str | None) -> ServiceInputs:
        mine = inputs if service is None else inputs.select(services=[service])
        frames = {}
        for name, counts in COUNTS.items():
            df = getattr(mine, name)
            keys = [c for c in df.columns if c not in ("service", "month", *counts)]
            df = df.assign(_month=_month_number(df["month"]))
            frames[name] = df.groupby(["_month", *keys], as_index=False, sort=False, dropna=False)[counts].sum()
        unresolved = mine.unresolved.assign(_month=_month_number(mine.unresolved["month"]))[["_month", "person"]]
        return cls(inputs.channels, frames, unresolved.drop_duplicates(), dict(inputs.prior))

    def select(self, months: Collection[date], summed: Mapping[str, pd.DataFrame] | None = None) -> EstimateInputs:
        """The inputs of the view of these months, summed over them (service and month set to placeholders);
        `summed`: frames already summed over them (`sums`), by name, used where given."""
        wanted = _month_numbers(months)

        def collapse(name: str) -> pd.DataFrame:
            if summed is not None and name in summed:
                return summed[name].assign(service="", month=date.min)
            df = self.frames[name]
            df = df[df["_month"].isin(wanted)].drop(columns="_month")
            keys = [c for c in df.columns if c not in COUNTS[name]]
            out = df.groupby(keys, as_index=False, sort=False, dropna=False)[COUNTS[name]].sum()
            return out.assign(service="", month=date.min)
        unresolved = self.unresolved[self.unresolved["_month"].isin(wanted)]
        return EstimateInputs(self.channels, collapse("contacts"), collapse("linked_journeys"), collapse("journeys"),
                              collapse("switches"), unresolved.assign(service="", month=date.min), self.prior,
                              collapse("pairs"))

    def sums(self, periods: Mapping[str, Collection[date]]) -> dict[str, dict[str, pd.DataFrame]]:
        """{period id: {frame name: the frame summed over the period's months}}, for every period at once
        (joinedup.report.period_sums): what `select` sums for each, made in one grouped pass per kind of period.
        A frame with no row in a period is left out (`select` sums it itself)."""
        numbers = {pid: _month_numbers(months) for pid, months in periods.items()}
        out: dict[str, dict[str, pd.DataFrame]] = {pid: {} for pid in periods}
        for name, df in self.frames.items():
            keys = [c for c in df.columns if c not in ("_month", *COUNTS[name])]
            for pid, frame in sums_by_period(df, "_month", numbers, keys, COUNTS[name], dropna=False).items():
                out[pid][name] = frame
        return out


def _month_numbers(months: Collection[date]) -> list[int]:
    return [m.year * 12 + m.month for m in months]


def estimates_of(inputs: ServiceInputs, months: Collection[date],
                 summed: Mapping[str, pd.DataFrame] | None = None) -> HeadlineEstimates:
    """The headline estimates of one view (joinedup.report.estimate) from its service's inputs (and its frames
    already summed over the months, `ServiceInputs.sums`, when given)."""
    return headline_estimates(inputs.select(months, summed))
