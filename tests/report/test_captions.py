"""Captions and headline lines are computed from a view's suppressed data: they change with the data, name the n
they rest on, and never state what suppression withheld."""

from __future__ import annotations

from datetime import date

from joinedup.report import captions
from joinedup.report.disclosure import Suppression
from joinedup.report.estimate import Estimate
from joinedup.report.headline import change, figure
from joinedup.report.periods import periods

BANDS = 7


def _times(shares: dict[str, list], n: dict[str, int | str]) -> dict:
    return {"triggers": list(shares), "n": list(n.values()), "share": list(shares.values()),
            "bands": [[0] * BANDS for _ in shares]}


def test_switch_timing_caption_names_the_soonest_trigger_of_enough_switches() -> None:
    data = _times({"abandoned": [0.3, 0.3, 0.2, 0.1, 0.1, 0, 0], "unanswered": [0, 0.1, 0.1, 0.1, 0.4, 0.3, 0],
                   "awaiting_response": [0.9, 0.1, 0, 0, 0, 0, 0]}, {"abandoned": 400, "unanswered": 800,
                                                                     "awaiting_response": 12})
    text = captions.switch_times(data, str.title)
    assert text.startswith("1,212 switches. Soonest after abandoned: half within 15–60 min, 60% within an hour "
                           "(n = 400).")  # awaiting_response is sooner, but rests on 12 switches
    assert "Latest after unanswered: half take 1–3 days" in text
    swapped = captions.switch_times(_times({"unanswered": [0.6, 0.1, 0, 0, 0, 0.3, 0]}, {"unanswered": 50}), str.title)
    assert "Soonest after unanswered: half within < 15 min" in swapped  # other data, other caption


def test_a_suppressed_count_makes_a_total_say_so_instead_of_giving_it_away() -> None:
    assert captions.total([120, "<5", 40], "contacts") == "160 contacts in the cells large enough to show"
    assert captions.total([[120, 0], [40]], "contacts") == "160 contacts"


def test_out_of_hours_caption_compares_channels_and_names_bank_holidays() -> None:
    data = {"n": [1000, 200, "<5"], "share": [0.1, 0.55, None], "bh": [30, "<5", 0]}
    text = captions.out_of_hours(data, ["phone", "email", "letter"], str.title, ["18 Apr (Good Friday)"])
    assert text.startswith("Highest out-of-hours share: Email, 55% of its 200 contacts came while it was closed; "
                           "lowest: Phone, 10% of 1,000.")
    assert "(18 Apr (Good Friday)) count as closed: 30 contacts came on them" in text


def test_sankey_caption_says_what_it_leaves_out() -> None:
    part = {"journeys": 1000, "single_contact": 600, "one_channel": 220, "longer": 12, "hidden": "3", "links": []}
    text = captions.sankey({"collapsed": part, "every": {**part, "longer": 30}}, 5)
    assert "600 journeys with a single contact and 220 that stayed in one channel (82% of 1,000 journeys)" in text
    assert "the steps after the 4th of 12 journeys; 3 flows of fewer than 5 journeys" in text


def test_headline_lines_withhold_what_rests_on_a_small_count_and_say_which_period_is_partial() -> None:
    sup = Suppression(5)
    shown = figure(Estimate(0.2, 200, 1000, 0.3, 0.28, 0.33), "switching", sup)
    assert shown == {"value": "20%", "label": "of journeys switch channel", "n": "observed: 200 of 1,000 journeys",
                     "estimate": "est. 30% (28–33%) if every contact were joined"}
    small = figure(Estimate(0.75, 3, 4, 0.8, 0.5, 1.0), "switching", sup)
    assert small["value"] == "withheld" and small["n"] == "observed: <5 of <5 journeys" and "withheld" in \
        small["estimate"]
    why = figure(Estimate(0.2, 20, 100, None, None, None, "no letter contact is linked"), "switching", sup)
    assert why["estimate"] == "no estimate: no letter contact is linked"
    _, _, _, march, april, _ = periods(date(2025, 3, 3), date(2025, 5, 1))
    text = change(Estimate(0.25, 250, 1000, 0.31, 0.3, 0.32), Estimate(0.2, 200, 1000, 0.3, 0.28, 0.33), sup, april,
                  march)
    assert text == "vs March 2025: observed up 5 pts, estimate up 1 pt (partial: March 2025, 29 of 31 days)"
