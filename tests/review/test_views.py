"""What the item page draws, from the queue's records: the waterfall's bars and the side-by-side states."""

from __future__ import annotations

from joinedup.review.queue import waterfall
from joinedup.review.views import compared_rows, decision_state, reason_label, waterfall_chart


def test_the_waterfall_runs_from_the_prior_through_each_comparison_to_the_final_score() -> None:
    steps = waterfall('{"via":"score","prior":-11.7,"given_name":7.2,"postcode":5.8,"email":-1.7,'
                      '"candidate":"C1","review_reason":"score_band"}')
    assert [s.label for s in steps] == ["prior", "given_name", "postcode", "email"]
    assert [s.cumulative for s in steps] == [-11.7, -4.5, 1.3, -0.4]
    chart = waterfall_chart(steps)
    assert [b.kind for b in chart.bars] == ["prior", "up", "up", "down", "final"]
    assert [b.weight for b in chart.bars] == ["-11.7", "+7.2", "+5.8", "-1.7", "-0.4"]
    prior, given, postcode, email, final = chart.bars
    # each bar starts where the one before it ended; the final one spans zero to the total
    assert abs(prior.x + prior.width - chart.zero) < 0.2  # from zero down to the prior
    assert abs(given.x - prior.x) < 0.2  # from -11.7 rightwards
    assert abs(postcode.x - (given.x + given.width)) < 0.2
    assert abs((email.x + email.width) - (postcode.x + postcode.width)) < 0.2  # down from 1.3
    assert abs((final.x + final.width) - chart.zero) < 0.2 and final.x < chart.zero  # a negative total
    assert final.probability == f"{steps[-1].probability:.1%}"
    assert all(chart.left <= b.x and b.x + b.width <= chart.left + chart.plot + 1 for b in chart.bars)
    assert any(label == "0" for _, label in chart.ticks)
    assert waterfall_chart([]) is None


def test_side_by_side_marks_what_differs_and_what_only_one_side_states() -> None:
    rows = compared_rows([("given_name", "Jon", "JON"), ("family_name", "Smith", "Smyth"),
                          ("email", None, "a@b.example"), ("postcode", "AB1 2CD", "ab12cd")])
    assert [(r.label, r.state) for r in rows] == [("Given name", "same"), ("Family name", "differs"),
                                                  ("Email", "one-sided"), ("Postcode", "same")]


def test_labels_of_reasons_and_decision_states() -> None:
    assert reason_label("score_band") == "score band"
    assert reason_label("refused: fanout, blocklist") == "protection refused: fanout, blocklist"
    assert decision_state({"outcome": None}) == "pending"
    assert decision_state({"outcome": "applied", "undone": True}) == "undone"
    assert decision_state({"outcome": "contact_gone"}) == "contact gone"
