"""The suppression rules (joinedup.report.disclosure) on small tables: primary, derived, complementary, and k
from the environment."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from joinedup.report.disclosure import ENV, Suppression, min_cell_from_env


def _table() -> pd.DataFrame:
    return pd.DataFrame({"group": ["a", "a", "a", "b", "b"], "n": [3, 40, 12, 0, 7],
                         "rate": [0.5, 0.25, 0.1, 0.0, 0.3]})


def test_small_counts_become_labels_and_their_figures_are_withheld() -> None:
    out = Suppression(5).apply(_table(), {"n": ("rate",)})
    assert out["n_label"].tolist() == ["<5", "40", "12", "0", "7"]
    assert math.isnan(out["n"][0]) and math.isnan(out["rate"][0])  # the exact 3 and its rate leave nothing
    assert out["n"][1:].tolist() == [40, 12, 0, 7]  # zero names nobody: shown
    assert out["rate"][1:].tolist() == [0.25, 0.1, 0.0, 0.3]
    assert 3 not in out.drop(columns="n_label").to_numpy().ravel().tolist()


def test_k_of_one_shows_every_count_exactly() -> None:
    out = Suppression(1).apply(_table(), {"n": ("rate",)}, complement=["group"])
    pd.testing.assert_frame_equal(out[["group", "n", "rate"]], _table(), check_dtype=False)
    assert "<" not in "".join(out["n_label"])


def test_a_lone_suppressed_cell_in_a_group_with_a_revealed_total_takes_its_smallest_neighbour() -> None:
    out = Suppression(5).apply(_table(), {"n": ("rate",)}, complement=["group"])
    # group a: 3 is suppressed, so 12 (the smallest other non-zero cell) goes too, labelled as such; 40 stays
    assert out["n_label"].tolist() == ["<5", "40", "suppressed", "0", "7"]
    assert math.isnan(out["n"][2]) and math.isnan(out["rate"][2]) and out["n"][1] == 40
    # without a revealed total nothing more is suppressed
    assert Suppression(5).apply(_table(), {"n": ()})["n"][2] == 12


def test_headline_shares_are_withheld_when_either_count_is_small() -> None:
    sup = Suppression(5)
    assert sup.share(2, 100) is None and sup.share(3, 4) is None and sup.share(0, 3) is None
    assert sup.share(0, 100) == 0 and sup.share(20, 100) == 0.2
    assert sup.label(4) == "<5" and sup.label(1234) == "1,234" and sup.label(0) == "0"


def test_a_rule_naming_a_missing_column_is_an_error() -> None:
    with pytest.raises(KeyError, match="persons"):
        Suppression().apply(_table(), {"persons": ()})


def test_k_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert min_cell_from_env() == 5
    monkeypatch.setenv(ENV, "10")
    assert Suppression.from_env().k == 10
    for bad in ("five", "0", "-3"):
        monkeypatch.setenv(ENV, bad)
        with pytest.raises(ValueError, match=ENV):
            min_cell_from_env()


def test_a_sankey_whose_every_flow_is_suppressed_says_so() -> None:
    from joinedup.report import figures

    links = Suppression(5).apply(pd.DataFrame({"step": [1, 1], "source": ["phone", "sms"],
                                               "target": ["email", "phone"], "journeys": [3, 2]}), {"journeys": ()})
    fig = figures.sankey(links, links)
    assert not fig.data and "suppressed" in fig.layout.annotations[0].text
    assert "second contact" in figures.sankey(pd.DataFrame(), pd.DataFrame()).layout.annotations[0].text


def test_a_chart_whose_every_count_is_suppressed_says_so() -> None:
    from joinedup.report import figures

    cells = pd.DataFrame({"weekday": [1, 6], "hour": [3, 22], "contacts": [2, 4], "out_of_hours_contacts": [2, 4]})
    rules = {"contacts": (), "out_of_hours_contacts": ()}
    hidden = figures.out_of_hours_heatmap(Suppression(5).apply(cells, rules))
    assert not hidden.data and hidden.layout.annotations[0].text == figures.SUPPRESSED
    shown = figures.out_of_hours_heatmap(Suppression(1).apply(cells, rules))
    assert shown.data and sorted(v for v in shown.data[0].z.ravel() if v == v) == [2, 4]
