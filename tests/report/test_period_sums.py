"""Every period's sums made at once (joinedup.report.period_sums) give each view exactly what selecting its own
months gives: the same frames row for row (order included: suppression keeps the first of equal cells), so the
same suppressed charts, and the same headline estimates. On random cells small enough that suppression, its
complementary rule and ties between equal cells all happen."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd

from joinedup.report.cells import COUNTS, DIMENSIONS, Cells
from joinedup.report.disclosure import Suppression
from joinedup.report.estimate import EstimateInputs, headline_estimates
from joinedup.report.headline import ServiceInputs
from joinedup.report.period_sums import sums_by_period
from joinedup.report.periods import periods
from joinedup.report.views import BANDS, PeriodSelection, PeriodSums, Selection, view

FIRST, LAST = date(2025, 1, 20), date(2025, 5, 3)  # partial first and last months; two quarters
MONTHS = [date(2025, m, 1) for m in range(1, 6)]
SERVICES = ["parking", "waste"]
CHANNELS = ["email", "phone", "social", "web_form"]
VALUES = {
    "from_channel": CHANNELS, "to_channel": CHANNELS, "channel": CHANNELS, "source": CHANNELS, "target": CHANNELS,
    "platform": ["all", "x"], "sla_name": ["reply_15m", "answer_2h"], "weekday": list(range(1, 8)),
    "hour": list(range(24)), "bank_holiday": [False, True], "kind": ["collapsed", "every"], "step": [1, 2, 3],
    "switch_trigger": ["abandoned", "unanswered"], "band": BANDS, "service": SERVICES,
    "pattern": ["phone|resolved|", "email|open|;phone|resolved|< 15 min", "web_form|open|;email|open|1–4 h"],
}


def _cells(seed: int, rows: int = 300) -> Cells:
    rng = np.random.default_rng(seed)
    frames = {}
    for name, counts in COUNTS.items():
        df = pd.DataFrame({"service": rng.choice(SERVICES, rows),
                           "month": pd.to_datetime(pd.Series(rng.choice(MONTHS, rows)))})
        for dim in DIMENSIONS[name]:
            df[dim] = rng.choice(VALUES[dim], rows)
        for count in counts:  # mostly small: suppressed cells, and equal ones beside them
            df[count] = rng.integers(0, 9, rows) if not count.endswith("gbp") else rng.integers(0, 900, rows) / 7
        frames[name] = df
    return Cells(FIRST, LAST, SERVICES, **frames)


def test_every_view_made_from_the_periods_sums_is_the_view_made_from_its_own_months() -> None:
    sup, ps = Suppression(5), periods(FIRST, LAST)
    hidden = 0
    for seed in range(3):
        cells = _cells(seed)
        for service in [None, *SERVICES]:
            mine = cells.of_service(service)
            sums = PeriodSums({p.id: p.months for p in ps})
            for p in ps:
                args = (sup, CHANNELS, ["abandoned", "unanswered"], ["reply_15m", "answer_2h"])
                fast = json.dumps(view(mine, PeriodSelection(service, p.months, p.id, sums), *args))
                assert fast == json.dumps(view(mine, Selection(service, p.months), *args)), (seed, service, p.id)
                hidden += fast.count('"suppressed"')
    assert hidden > 50  # the complementary rule ran, often


def test_a_row_with_a_missing_dimension_is_left_out_as_a_selection_leaves_it_out() -> None:
    df = pd.DataFrame({"month": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-02-01", "2025-02-01"]),
                       "channel": ["phone", None, "email", "phone"], "n": [1, 2, 3, 4]})
    sums = sums_by_period(df, "month", {"all": list(pd.to_datetime(["2025-01-01", "2025-02-01"])),
                                        "jan": [pd.Timestamp("2025-01-01")]}, ["channel"], ["n"])
    assert sums["all"].to_dict("list") == {"channel": ["phone", "email"], "n": [5, 3]}
    assert sums["jan"].to_dict("list") == {"channel": ["phone"], "n": [1]}


def _inputs(seed: int, rows: int = 400) -> EstimateInputs:
    rng = np.random.default_rng(seed)
    chans = tuple(CHANNELS)

    def frame(**columns: object) -> pd.DataFrame:
        return pd.DataFrame({"service": rng.choice(SERVICES, rows), "month": rng.choice(MONTHS, rows),
                             "grp": rng.integers(0, 25, rows).astype("uint64"), **columns})
    small = {c: rng.integers(0, 3, rows) for c in chans}
    return EstimateInputs(
        chans,
        frame(channel=rng.choice(chans, rows), contacts=rng.integers(1, 30, rows), linked=rng.integers(0, 20, rows),
              in_review=rng.integers(0, 3, rows)),
        frame(**small, journeys=rng.integers(1, 9, rows)),
        frame(journeys=rng.integers(1, 40, rows), switching=rng.integers(0, 9, rows)),
        frame(from_channel=rng.choice(chans, rows), to_channel=rng.choice(chans, rows),
              switches=rng.integers(1, 9, rows), unanswered=rng.integers(0, 3, rows)),
        pd.DataFrame({"service": rng.choice(SERVICES, rows), "month": rng.choice(MONTHS, rows),
                      "person": rng.integers(0, 200, rows)}),
        {c: 0.7 for c in chans},
        frame(from_channel=rng.choice(chans, rows), to_channel=rng.choice(chans, rows),
              unanswered=rng.random(rows) < 0.3, **{f"between_{c}": rng.integers(0, 2, rows) for c in chans},
              pairs=rng.integers(1, 5, rows)))


def test_every_views_estimate_inputs_summed_at_once_are_its_own_months_inputs() -> None:
    ps = periods(FIRST, LAST)
    for seed in range(2):
        inputs = _inputs(seed)
        for service in [None, *SERVICES]:
            mine = ServiceInputs.of(inputs, service)
            summed = mine.sums({p.id: p.months for p in ps})
            for p in ps:
                fast, own = mine.select(p.months, summed[p.id]), mine.select(p.months)
                for name in ("contacts", "linked_journeys", "journeys", "switches", "unresolved", "pairs"):
                    pd.testing.assert_frame_equal(getattr(fast, name), getattr(own, name), check_exact=True)
                assert headline_estimates(fast) == headline_estimates(own)


def test_a_table_laid_on_its_grid_is_what_reindexing_it_gives() -> None:
    from joinedup.report.views import _on_grid

    rng = np.random.default_rng(7)
    df = pd.DataFrame({"channel": rng.choice(CHANNELS, 40), "hour": rng.integers(0, 24, 40),
                       "contacts": rng.integers(0, 9, 40), "cost": rng.random(40)}).drop_duplicates(["channel", "hour"])
    for grid in ([(c, h) for c in CHANNELS for h in range(24)], [("phone", 3), ("fax", 1)], []):
        want = df.set_index(["channel", "hour"]).reindex(
            pd.MultiIndex.from_tuples(grid, names=["channel", "hour"]), fill_value=0).reset_index()
        pd.testing.assert_frame_equal(_on_grid(df, ["channel", "hour"], grid), want, check_exact=True)
