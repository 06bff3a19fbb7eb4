"""Merge protection: junk values, shared identifiers and households never fuse people."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from linkage.cluster import cluster, contact_edges, identifier_hash
from linkage.edges import EdgePolicy, is_junk
from linkage.pipeline import link
from linkage.standardise import standardise
from linkage.state import load_state


def _link_one(register, model, tmp_path, cid="x1", **fields) -> pd.Series:
    con = pd.DataFrame([{"contact_id": cid, **fields}])
    out = link(register, con, model=model, state_dir=tmp_path)
    return out.iloc[0]


def test_junk_values_are_blocklisted():
    policy = EdgePolicy(blocked_values=frozenset({"+441134960000"}))
    assert is_junk("email", "noreply@council.gov.uk", policy)
    assert is_junk("email", "someone@example.com", policy)
    assert is_junk("phone", "+447000000000", policy)
    assert is_junk("phone", "+441134960000", policy)  # the council switchboard, configured
    assert not is_junk("email", "betty.b@example.net", policy)
    assert not is_junk("phone", "+447700900123", policy)


def test_shared_phone_is_no_identifier_and_is_audited(register, model, tmp_path):
    row = _link_one(register, model, tmp_path, phone="07700 900777", channel="sms")
    assert row["citizen_id"] is None or pd.isna(row["citizen_id"])
    audit = load_state(tmp_path)["rejected_edges"]
    assert (audit["reason"] == "fanout").any()


def test_household_email_with_other_forename_is_not_linked(register, model, tmp_path):
    row = _link_one(register, model, tmp_path, email="quennells@example.net", given_name="Glen",
                    family_name="Quennell", date_of_birth="1959-11-23")
    assert row["citizen_id"] == "H2"  # his own DOB and name, despite the shared e-mail
    row = _link_one(register, model, tmp_path, cid="x2", email="betty.b@example.net", given_name="Frank",
                    family_name="Boothroyd", date_of_birth="1950-06-30")
    assert pd.isna(row["citizen_id"])  # Betty's e-mail, another person: not Betty
    audit = load_state(tmp_path)["rejected_edges"]
    assert (audit["reason"] == "different_person").any()


def test_junk_register_values_give_no_edge(register, model, tmp_path):
    row = _link_one(register, model, tmp_path, email="test@test.com")
    assert pd.isna(row["citizen_id"])


def test_busy_identifier_does_not_cluster_contacts():
    n = 250  # a switchboard number on 250 contacts
    df = pd.DataFrame({"contact_id": [f"c{i}" for i in range(n)], "phone": ["07700 900999"] * n})
    edges, rejected = contact_edges(standardise(df, "contact_id"), max_contacts=200)
    assert edges == [] and rejected[0]["reason"] == "fanout"


def test_contacts_with_conflicting_names_are_not_joined_by_a_shared_email():
    df = pd.DataFrame({"contact_id": ["a", "b", "c"], "email": ["fam@example.net"] * 3,
                       "given_name": ["Mary", "Glen", "Mary"], "family_name": ["Quennell"] * 3})
    edges, rejected = contact_edges(standardise(df, "contact_id"), max_contacts=200)
    joined = {frozenset((a, b)) for a, b, _ in edges}
    assert frozenset((0, 2)) in joined  # Mary and Mary
    assert all(0 not in e or 1 not in e for e in joined) and all(1 not in e or 2 not in e for e in joined)
    assert any(r["reason"] == "conflicting_names" for r in rejected)


def test_verified_handle_links_and_explains(register, model, tmp_path):
    row = _link_one(register, model, tmp_path, handle="@BettyBoo52", channel="social")
    assert row["citizen_id"] == "B1" and row["decision"] == "matched"
    expl = json.loads(row["explanation"])
    assert expl["via"] == "edge:known_handle" and expl["known_handle"] > 0


def test_a_person_who_proved_a_citizen_keeps_merge_protection():
    """Z was pseudonymous when contact a was linked, so a's row still has no citizen after Z proved citizen
    Z. A new contact matched to another citizen, Y, that carries Z's remembered phone must not fuse Y and Z,
    whichever of Z's rows the store reads first."""
    phone = standardise(pd.DataFrame({"contact_id": ["x"], "phone": ["07700 900123"]}), "contact_id")["phone"][0]
    previous = pd.DataFrame({"contact_id": ["a", "b"], "person_id": ["Z", "Z"], "citizen_id": [None, "Z"],
                             "decision": ["unmatched", "matched"]})
    remembered = pd.DataFrame({"kind": ["phone"], "key_hash": [identifier_hash("phone", phone)],
                               "person_id": ["Z"], "citizen_id": [None]})
    day = standardise(pd.DataFrame({"contact_id": ["c"], "phone": ["07700 900123"]}), "contact_id")
    out = cluster(day, np.array(["Y"], dtype=object), {}, pd.Series(["2025-06-01T10:00:00Z"]),
                  previous=previous, id_index=remembered)
    assert out.person_id[0] == "Y" and out.citizen_id[0] == "Y"
    assert out.aliases.empty
    assert "two_citizens" in set(out.rejected["reason"])


def test_a_remembered_identifier_gets_the_same_protection_as_a_shared_one():
    """An identifier remembered from an earlier run joins nobody when it could not join two contacts today: a
    mobile the register holds for two citizens (a household's), or a landline."""
    mobile, landline = "07700 900123", "01632 960001"
    day = standardise(pd.DataFrame({"contact_id": ["c", "d"], "phone": [mobile, landline]}), "contact_id")
    remembered = pd.DataFrame({"kind": ["phone", "phone"],
                               "key_hash": [identifier_hash("phone", v) for v in day["phone"]],
                               "person_id": ["A", "B"], "citizen_id": ["A", "B"]})
    previous = pd.DataFrame({"contact_id": ["a", "b"], "person_id": ["A", "B"], "citizen_id": ["A", "B"],
                             "decision": ["matched", "matched"]})
    occurred = pd.Series(["2025-06-01T10:00:00Z", "2025-06-01T11:00:00Z"])
    out = cluster(day, np.array([None, None], dtype=object), {}, occurred, previous=previous,
                  id_index=remembered, shared={"phone": {day["phone"][0]}})
    assert list(out.citizen_id) == [None, None] and not set(out.person_id) & {"A", "B"}
    assert {"shared_in_register", "landline"} <= set(out.rejected["reason"])
    # without the register saying the mobile is shared, it does identify its person
    out = cluster(day, np.array([None, None], dtype=object), {}, occurred, previous=previous, id_index=remembered)
    assert out.citizen_id[0] == "A" and out.citizen_id[1] is None
