"""The link() API: contract, accuracy on a fixture, review decisions, stable person ids."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from linkage.eval.evaluate import febrl4, score_links
from linkage.model import Model
from linkage.pipeline import OUTPUT_COLUMNS, link
from linkage.review import import_decisions, review_queue
from linkage.settings import load_settings
from tests.linkage.conftest import STATE_KEY


def test_output_contract_and_accuracy(register, contacts_truth, model):
    con, truth = contacts_truth
    out = link(register, con, model=model)
    assert list(out.columns) == OUTPUT_COLUMNS
    assert len(out) == len(con) and out["contact_id"].is_unique
    assert set(out["decision"]) <= {"matched", "review", "unmatched"}
    assert out["person_id"].notna().all()
    assert out.loc[out["decision"] != "matched", "citizen_id"].isna().all()
    for e in out["explanation"].head(50):
        assert "via" in json.loads(e)
    s = score_links(out, truth)
    assert s.precision >= 0.99 and s.recall >= 0.6


def test_model_json_round_trip_and_term_frequencies(model, prepared):
    from tests.linkage.conftest import common_and_rare_agreement

    again = Model.from_json(model.to_json())
    assert again.m == model.m and again.u == model.u and again.p_in_register == model.p_in_register
    w = common_and_rare_agreement(model, prepared, "family", "family_name")
    assert w[1] > w[0]  # agreeing on a rare surname proves more than on a common one


def test_review_decisions_are_honoured_on_rerun(register, contacts_truth, model, tmp_path):
    con, _ = contacts_truth
    out = link(register, con, model=model, state_dir=tmp_path, identifier_key=STATE_KEY)
    queue = review_queue(out, register, con)
    assert len(queue) > 0 and {"contact_given_name", "citizen_given_name"} <= set(queue.columns)
    assert any(c.startswith("w_") for c in queue.columns)
    accept = queue.iloc[0]
    matched = out[out["decision"] == "matched"].iloc[0]
    decisions = pd.DataFrame([
        {"contact_id": accept["contact_id"], "citizen_id": accept["citizen_id"], "decision": "accept"},
        {"contact_id": matched["contact_id"], "citizen_id": matched["citizen_id"], "decision": "reject"},
    ])
    assert import_decisions(decisions, tmp_path) == 2
    again = link(register, con, model=model, state_dir=tmp_path, identifier_key=STATE_KEY).set_index("contact_id")
    assert again.at[accept["contact_id"], "citizen_id"] == accept["citizen_id"]
    assert again.at[accept["contact_id"], "decision"] == "matched"
    assert again.at[matched["contact_id"], "citizen_id"] != matched["citizen_id"]


def test_person_ids_are_stable_across_runs_with_new_data(register, contacts_truth, model, tmp_path):
    con, _ = contacts_truth
    day1, day2 = con.iloc[:2000], con.iloc[2000:]
    first = link(register, day1, model=model, state_dir=tmp_path, identifier_key=STATE_KEY)
    second = link(register, day2, model=model, state_dir=tmp_path, identifier_key=STATE_KEY)  # incremental: only new contacts
    rerun = link(register, con, model=model, state_dir=tmp_path, identifier_key=STATE_KEY)
    merged = first.merge(rerun, on="contact_id", suffixes=("_1", "_r"))
    assert (merged["person_id_1"] == merged["person_id_r"]).mean() > 0.99
    pseudo = first[first["citizen_id"].isna()]["person_id"]
    assert pseudo.str.match(r"^P[0-9a-f]{15}$").all()  # pseudonymous, no PII inside
    # a new contact from a known unregistered person joins that person's id
    known = day1.merge(first, on="contact_id")
    known = known[known["citizen_id"].isna() & known["email"].notna()].iloc[0]
    new = pd.DataFrame([{"contact_id": "new-1", "email": known["email"], "channel": "email"}])
    third = link(register, new, model=model, state_dir=tmp_path, identifier_key=STATE_KEY)
    assert third.iloc[0]["person_id"] == known["person_id"]
    # without state, the same data gives the same ids (derived from each cluster's first contact)
    fresh = link(register, day1, model=model)
    assert (fresh["person_id"] == first["person_id"]).mean() > 0.99
    assert len(second) == len(day2)


@pytest.mark.timeout(120)
def test_febrl4_f1():
    reg, con, truth = febrl4()
    s = score_links(link(reg, con), truth)
    assert s.f1 >= 0.998, s.line("febrl4")


def test_batched_parallel_run_equals_single_batch(register, contacts_truth, model):
    con, _ = contacts_truth
    one = link(register, con, model=model, workers=1)
    many = link(register, con, model=model, settings=load_settings(batch_size=700), workers=2)  # 5 batches over 2 processes
    pd.testing.assert_frame_equal(one, many)

