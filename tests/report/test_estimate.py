"""The headline estimates (joinedup.report.estimate): the inverse-thinning maths on a synthetic population whose
truth is known exactly, then the real pipeline's run against the simulator's truth: the whole run, and 20
small populations (household groups) whose intervals must cover the truth in at least 18."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from joinedup.report.estimate import EstimateInputs, headline_estimates, load_inputs
from joinedup.simulate.estimate_check import covered, group_estimates
from joinedup.simulate.truth import (
    TRIGGER_COLUMNS,
    published_attributes,
    switch_triggers,
    true_headline,
    truth_contacts,
)
from tests.conftest import PIPELINE_KEY

CHANNELS = ("email", "letter", "phone", "social")
LINKED_SHARE = {"email": 0.9, "letter": 0.55, "phone": 0.75, "social": 0.6}
MONTH = date(2025, 3, 1)


def synthetic(journeys: int, seed: int, linked: dict[str, float] | None = None) -> tuple[EstimateInputs, float]:
    """True journeys (1-6 contacts, channels drawn per journey from a favourite and the rest), each contact
    linked with its channel's probability; an unlinked contact becomes a one-contact journey, as in the marts.
    Returns the estimator's inputs and the true switching share."""
    rng = np.random.default_rng(seed)
    linked = linked or LINKED_SHARE
    sizes = rng.geometric(0.55, journeys).clip(max=6)
    favourite = rng.integers(len(CHANNELS), size=journeys)
    rows = []
    for j, (size, fav) in enumerate(zip(sizes, favourite, strict=True)):
        chans = np.where(rng.random(size) < 0.7, fav, rng.integers(len(CHANNELS), size=size))
        for c in chans:
            rows.append((j, CHANNELS[c]))
    contacts = pd.DataFrame(rows, columns=["journey", "channel"])
    contacts["linked"] = rng.random(len(contacts)) < contacts["channel"].map(linked)
    contacts["grp"] = contacts["journey"] % 25
    true_share = float((contacts.groupby("journey")["channel"].nunique() > 1).mean())

    kept = contacts[contacts["linked"]]
    comp = kept.groupby(["journey", "channel"]).size().unstack(fill_value=0).reindex(columns=list(CHANNELS),
                                                                                      fill_value=0)
    comp["grp"] = comp.index % 25
    linked_journeys = comp.groupby(["grp", *CHANNELS]).size().rename("journeys").reset_index()
    switching_linked = (comp[list(CHANNELS)] > 0).sum(axis=1) > 1
    unlinked = contacts[~contacts["linked"]]
    journeys_obs = pd.concat([
        pd.DataFrame({"grp": comp["grp"], "journeys": 1, "switching": switching_linked.astype(int)}),
        pd.DataFrame({"grp": unlinked["grp"], "journeys": 1, "switching": 0})]).groupby("grp").sum().reset_index()
    per_contact = contacts.groupby(["grp", "channel"]).agg(contacts=("linked", "size"), linked=("linked", "sum"))
    per_contact = per_contact.reset_index().assign(in_review=0)
    switches = pd.DataFrame({"grp": [0], "from_channel": ["phone"], "to_channel": ["email"], "switches": [10],
                             "unanswered": [3]})
    for df in (linked_journeys, journeys_obs, per_contact, switches):
        df["service"], df["month"] = "waste", MONTH
    unresolved = pd.DataFrame({"service": ["waste"], "month": [MONTH], "person": [1]})
    return EstimateInputs(CHANNELS, per_contact, linked_journeys, journeys_obs, switches, unresolved), true_share


def test_the_inverse_thinning_recovers_the_true_switching_share_of_a_synthetic_population() -> None:
    inputs, truth = synthetic(40_000, seed=3)
    e = headline_estimates(inputs).switching
    assert e.observed < truth - 0.08  # the bias the estimate exists to remove
    assert abs(e.estimate - truth) < 0.01
    assert e.low <= truth <= e.high
    assert e.high - e.low < 0.035  # sampling error and the model allowance (joinedup.report.estimate)


def test_intervals_of_small_synthetic_populations_cover_the_truth_at_their_level() -> None:
    hits = sum(covered(headline_estimates(inputs).switching, truth)
               for inputs, truth in (synthetic(400, seed=s) for s in range(40)))
    assert hits >= 34  # 95% nominal: 38 of 40 expected, 34 is about 3 standard errors below


def test_a_view_with_no_linked_contact_has_no_estimate_and_says_why() -> None:
    inputs, _ = synthetic(300, seed=1, linked={c: 0.0 for c in CHANNELS})
    e = headline_estimates(inputs)
    assert e.switching.estimate is None and "linked to the register" in e.switching.why_not
    assert e.switching.observed == 0.0


def test_a_small_view_borrows_the_whole_files_linked_share_for_a_channel_it_barely_has() -> None:
    inputs, _ = synthetic(300, seed=2)
    letters = inputs.contacts["channel"] == "letter"
    unlinked_letters = inputs.contacts.assign(linked=inputs.contacts["linked"].where(~letters, 0))
    alone = EstimateInputs(inputs.channels, unlinked_letters, inputs.linked_journeys, inputs.journeys,
                           inputs.switches, inputs.unresolved)
    assert headline_estimates(alone).switching.estimate is None  # no letter linked: nothing to say alone
    borrowed = EstimateInputs(**{**alone.__dict__, "prior": LINKED_SHARE})
    assert headline_estimates(borrowed).switching.estimate is not None


@pytest.mark.slow
def test_the_trigger_used_for_the_truth_is_the_marts_trigger_on_every_switch(pipeline) -> None:
    paths, _, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        cols = ", ".join(f"c.{c}" for c in TRIGGER_COLUMNS)
        df = con.execute(f"""select {cols}, s.to_occurred_at_utc, s.switch_trigger from fct_channel_switches s
                             join fct_contacts c on c.contact_key = s.from_contact_key""").df()
    assert len(df) > 100 and df["switch_trigger"].nunique() >= 5
    assert (switch_triggers(df, df["to_occurred_at_utc"]) == df["switch_trigger"]).all()


@pytest.mark.slow
def test_the_whole_runs_estimates_are_near_the_truth_where_the_observed_share_is_not(pipeline) -> None:
    paths, sim, _ = pipeline
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        est = headline_estimates(load_inputs(con))
    truth = true_headline(truth_contacts(sim / "truth", PIPELINE_KEY.encode()), published_attributes(paths.analytics))
    s, u = est.switching, est.unanswered
    assert truth.switching_share - s.observed > 0.05
    assert abs(s.estimate - truth.switching_share) < 0.03 and covered(s, truth.switching_share)
    assert abs(u.estimate - truth.unanswered_share) < 0.03 and covered(u, truth.unanswered_share)
    c = est.coverage
    assert 0 < c.contacts_linked < c.contacts and c.contacts_in_review >= 0 and c.persons_unresolved > 0


@pytest.mark.slow
def test_the_interval_covers_the_truth_in_at_least_18_of_20_small_populations(pipeline) -> None:
    """The test run is small (about 900 journeys), so each group has only 20-60 journeys, a dozen or two
    switches, and wide intervals (the unanswered share's nearly 0-100% in some groups: that is what twenty
    switches can say). The widths are bounded too, or an interval of 0-100% would pass; the whole-run test above
    holds the unanswered estimate to 3 points. bench/estimate.py --sims runs 20 separate seeded simulations
    through the pipeline (docs/estimates.md has the figures)."""
    paths, sim, _ = pipeline
    rows = group_estimates(paths.analytics, sim / "truth", PIPELINE_KEY.encode(), 20)
    assert min(e.coverage.journeys for e, _ in rows) >= 15
    for pick, true, widest in ((lambda e: e.switching, lambda t: t.switching_share, 0.5),
                               (lambda e: e.unanswered, lambda t: t.unanswered_share, 0.99)):
        assert sum(covered(pick(e), true(t)) for e, t in rows) >= 18
        assert np.median([pick(e).high - pick(e).low for e, _ in rows if pick(e).estimate is not None]) < widest
