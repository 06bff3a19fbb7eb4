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


def test_the_neighbour_taken_is_the_first_of_equal_smallest_cells_in_its_group() -> None:
    table = pd.DataFrame({"group": ["a", "b", "a", "b", "a", "b", "a"], "n": [3, 2, 12, 9, 12, 9, 40]})
    out = Suppression(5).apply(table, {"n": ()}, complement=["group"])
    assert out["n_label"].tolist() == ["<5", "<5", "suppressed", "suppressed", "12", "9", "40"]


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


def test_a_view_whose_every_flow_is_suppressed_draws_no_band_and_counts_them() -> None:
    """A view's Sankey carries only the bands at least k wide; how many it left out is said, as a number of flows."""
    from datetime import date

    from joinedup.report.cells import Cells
    from joinedup.report.views import Selection, sankey

    month = date(2025, 3, 1)
    stamp = pd.Timestamp(month)  # the cells' months are datetime64, as read_cells gives them
    links = pd.DataFrame({"service": "tax", "month": stamp, "kind": ["collapsed", "collapsed", "every"],
                          "step": 1, "source": ["phone", "sms", "phone"], "target": ["email", "phone", "phone"],
                          "journeys": [3, 2, 40]})
    journeys = pd.DataFrame({"service": ["tax"], "month": [stamp], "journeys": [60], "single_contact": [15],
                             "one_channel": [40], "longer_collapsed": [0], "longer_every": [2]})
    none = pd.DataFrame()
    cells = Cells(month, month, ["tax"], none, none, none, none, none, links, journeys, none, none, none)
    shown = sankey(cells, Selection(None, [month]), Suppression(5))
    assert shown["collapsed"]["links"] == [] and shown["collapsed"]["hidden"] == "2"
    assert shown["every"]["links"] == [["1:phone", "2:phone", 40]] and shown["every"]["hidden"] == "0"
    assert shown["collapsed"]["longer"] == 0 and shown["every"]["longer"] == "<5"
    assert shown["collapsed"]["single_contact"] == 15
