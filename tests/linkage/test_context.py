"""linkage.context on hand-made frames: who is an orphan, when context joins, and that it never names a citizen."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from linkage.context import (
    JOIN_COLUMNS,
    ContextModel,
    context_joins,
    forenames_differ,
    roles,
    with_context,
    without_context,
)
from linkage.settings import SettingsError, load_settings

POLICY = load_settings().context
MODEL = ContextModel.load()


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """rows: contact_id, channel, service, 'HH:MM' on 3 March 2025, outcome, person_id, citizen_id, decision,
    forename."""
    df = pd.DataFrame(rows, columns=["contact_id", "channel", "service", "at", "outcome", "person_id", "citizen_id",
                                     "decision", "forename"])
    df["occurred_at"] = pd.to_datetime("2025-03-03 " + df.pop("at"), utc=True)
    return df.assign(district=None, states_name=False, citizen_forename=None)


ORPHAN = ("s1", "social", "waste", "07:40", "no_response", "Ps1", None, "unmatched", None)
BETTY_CALLS = ("p1", "phone", "waste", "08:05", "answered", "C1", "C1", "matched", None)


def test_orphans_are_unidentified_singletons_and_anchors_have_a_person() -> None:
    f = _frame([ORPHAN, BETTY_CALLS, ("r1", "email", "waste", "09:00", "no_response", "Pr1", None, "review", None),
                ("x1", "sms", "waste", "09:00", "responded", "Px", None, "unmatched", None),
                ("x2", "sms", "waste", "10:00", "responded", "Px", None, "unmatched", None)])
    orphan, anchor = roles(f)
    assert list(f["contact_id"][orphan]) == ["s1"]  # not the one in review, not a person of two contacts
    assert list(f["contact_id"][anchor]) == ["p1", "x1", "x2"]


def test_a_clear_candidate_is_joined_with_no_citizen_and_an_explanation() -> None:
    joins = context_joins(_frame([ORPHAN, BETTY_CALLS]), MODEL, POLICY)
    assert list(joins.columns) == JOIN_COLUMNS and "citizen_id" not in joins
    row = joins.iloc[0]
    assert (row["contact_id"], row["person_id"], row["anchor_contact_id"]) == ("s1", "C1", "p1")
    ctx = json.loads(row["context"])
    assert ctx["citizen"] is None and ctx["probability"] >= POLICY.min_probability and ctx["candidates"] == 1


def test_two_candidate_journeys_alike_join_neither() -> None:
    f = _frame([ORPHAN, BETTY_CALLS, ("p2", "phone", "waste", "08:05", "answered", "C2", "C2", "matched", None)])
    assert context_joins(f, MODEL, POLICY).empty


def test_another_service_or_too_far_in_time_is_no_candidate() -> None:
    assert context_joins(_frame([ORPHAN, ("p1", "phone", "parking", "08:05", "answered", "C1", "C1", "matched",
                                          None)]), MODEL, POLICY).empty
    far = _frame([ORPHAN, BETTY_CALLS])
    far.loc[1, "occurred_at"] += pd.Timedelta(hours=POLICY.window_hours + 1)
    assert context_joins(far, MODEL, POLICY).empty


def test_a_rejected_citizen_is_never_chosen() -> None:
    assert context_joins(_frame([ORPHAN, BETTY_CALLS]), MODEL, POLICY, {"s1": frozenset({"C1"})}).empty


def test_a_forename_the_candidate_cannot_have_rules_it_out() -> None:
    f = _frame([ORPHAN, BETTY_CALLS])
    f.loc[0, "forename"], f.loc[1, "citizen_forename"] = "darren", "elizabeth"
    assert context_joins(f, MODEL, POLICY).empty
    f.loc[0, "forename"] = "betty"  # a nickname is the same name
    assert len(context_joins(f, MODEL, POLICY)) == 1
    assert forenames_differ("darren", "susan") and not forenames_differ("chris", "christopher")
    assert not forenames_differ(None, "susan")


def test_context_off_joins_nothing() -> None:
    off = load_settings(context={"enabled": False}).context
    assert context_joins(_frame([ORPHAN, BETTY_CALLS]), MODEL, off).empty


def test_the_context_part_sits_beside_the_identity_evidence_and_replaces_itself() -> None:
    own = json.dumps({"via": "no_candidate", "prior": -14.2})
    ctx = json.dumps({"via": "context", "person": "C1"})
    once = with_context(own, ctx)
    assert json.loads(once) == {"via": "no_candidate", "prior": -14.2, "context": {"via": "context", "person": "C1"}}
    assert with_context(once, ctx) == once
    assert json.loads(with_context(once, None)) == json.loads(own) == json.loads(without_context(once))


def test_the_model_is_data_and_the_thresholds_are_settings() -> None:
    assert ContextModel.from_json(MODEL.to_json()) == MODEL
    assert "min_probability" not in MODEL.to_json()
    with pytest.raises(SettingsError):
        load_settings(context={"min_probability": 0.4})  # a context join needs better than even odds
    with pytest.raises(SettingsError):
        load_settings(context={"threshold": 0.9})


def test_another_unidentified_contact_close_by_competes_and_is_never_chosen() -> None:
    """A post, a withheld call ten minutes later (the poster's, most likely: nothing identifies it either), and a
    known caller three hours later: the known caller is no longer clearly the one."""
    alone = context_joins(_frame([ORPHAN, ("p1", "phone", "waste", "10:40", "answered", "C1", "C1", "matched",
                                           None)]), MODEL, POLICY.model_copy(update={"min_probability": 0.51}))
    withheld = ("w1", "phone", "waste", "07:50", "missed", "Pw1", None, "unmatched", None)
    crowded = context_joins(_frame([ORPHAN, withheld, ("p1", "phone", "waste", "10:40", "answered", "C1", "C1",
                                                       "matched", None)]), MODEL,
                            POLICY.model_copy(update={"min_probability": 0.51}))
    assert len(alone) == 1
    assert "w1" not in set(crowded["person_id"]) and "Pw1" not in set(crowded["person_id"])
    assert crowded.empty or crowded.loc[crowded["contact_id"] == "s1", "probability"].max() < \
        alone["probability"].max()
