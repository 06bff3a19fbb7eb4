"""Merge protection: junk values, shared identifiers and households never fuse people."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from linkage.cluster import cluster, contact_edges, identifier_hash
from linkage.pipeline import link
from linkage.protection import is_junk
from linkage.settings import load_settings
from linkage.standardise import standardise
from linkage.state import load_state
from tests.linkage.conftest import STATE_KEY


def _link_one(register, model, tmp_path, cid="x1", **fields) -> pd.Series:
    con = pd.DataFrame([{"contact_id": cid, **fields}])
    out = link(register, con, model=model, state_dir=tmp_path, identifier_key=STATE_KEY)
    return out.iloc[0]


def test_junk_values_are_blocklisted():
    policy = load_settings(edges={"blocked_values": ["+441134960000"]}).edges
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
    edges, rejected = contact_edges(standardise(df, "contact_id"))
    assert edges == [] and rejected[0]["reason"] == "fanout"


def test_contacts_with_conflicting_names_are_not_joined_by_a_shared_email():
    df = pd.DataFrame({"contact_id": ["a", "b", "c"], "email": ["fam@example.net"] * 3,
                       "given_name": ["Mary", "Glen", "Mary"], "family_name": ["Quennell"] * 3})
    edges, rejected = contact_edges(standardise(df, "contact_id"))
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
    remembered = pd.DataFrame({"kind": ["phone"], "key_hash": [identifier_hash("phone", phone, STATE_KEY)],
                               "person_id": ["Z"], "citizen_id": [None]})
    day = standardise(pd.DataFrame({"contact_id": ["c"], "phone": ["07700 900123"]}), "contact_id")
    out = cluster(day, np.array(["Y"], dtype=object), {}, pd.Series(["2025-06-01T10:00:00Z"]),
                  previous=previous, id_index=remembered,
                  identifier_key=STATE_KEY)
    assert out.person_id[0] == "Y" and out.citizen_id[0] == "Y"
    assert out.aliases.empty
    assert "two_citizens" in set(out.rejected["reason"])


def test_a_remembered_identifier_gets_the_same_protection_as_a_shared_one():
    """An identifier remembered from an earlier run joins nobody when it could not join two contacts today: a
    mobile the register holds for two citizens (a household's), or a landline."""
    mobile, landline = "07700 900123", "01632 960001"
    day = standardise(pd.DataFrame({"contact_id": ["c", "d"], "phone": [mobile, landline]}), "contact_id")
    remembered = pd.DataFrame({"kind": ["phone", "phone"],
                               "key_hash": [identifier_hash("phone", v, STATE_KEY) for v in day["phone"]],
                               "person_id": ["A", "B"], "citizen_id": ["A", "B"]})
    previous = pd.DataFrame({"contact_id": ["a", "b"], "person_id": ["A", "B"], "citizen_id": ["A", "B"],
                             "decision": ["matched", "matched"]})
    occurred = pd.Series(["2025-06-01T10:00:00Z", "2025-06-01T11:00:00Z"])
    out = cluster(day, np.array([None, None], dtype=object), {}, occurred, previous=previous,
                  id_index=remembered, identifier_key=STATE_KEY, shared={"phone": {day["phone"][0]}})
    assert list(out.citizen_id) == [None, None] and not set(out.person_id) & {"A", "B"}
    audit = out.rejected.set_index("contact_id")
    assert audit.at["c", "reason"] == "shared_in_register" and audit.at["c", "other_id"] == "A"
    assert "d" not in audit.index  # landlines join nobody and go unaudited: there are so many
    # without the register saying the mobile is shared, it does identify its person
    out = cluster(day, np.array([None, None], dtype=object), {}, occurred, previous=previous, id_index=remembered,
                  identifier_key=STATE_KEY)
    assert out.citizen_id[0] == "A" and out.citizen_id[1] is None


def test_a_contact_naming_someone_else_is_not_given_the_citizen_of_an_identifier():
    """Lauren writes from the e-mail she shares with Luke (his, on the register). Whether the e-mail joins her
    to Luke's contact of today or to his person remembered from last week, she states a forename that is not
    Luke's, so she does not become Luke; a contact stating no name, or Luke's own, does."""
    email = "lucas59@example.net"
    luke = ("luke", "luke", "mccarthy", "1990-02-03")
    day = standardise(pd.DataFrame({"contact_id": ["luke_today", "lauren", "nameless"], "email": [email] * 3,
                                    "given_name": [None, "Lauren", None]}), "contact_id")
    occurred = pd.Series([f"2025-06-01T1{i}:00:00Z" for i in range(3)])
    out = cluster(day, np.array(["L", None, None], dtype=object), {}, occurred, citizen_names={"L": luke})
    assert list(out.citizen_id) == ["L", None, "L"]
    assert "conflicts_with_citizen" in set(out.rejected["reason"])
    # the same through an identifier remembered from an earlier run
    remembered = pd.DataFrame({"kind": ["email"], "key_hash": [identifier_hash("email", day["email"][0], STATE_KEY)],
                               "person_id": ["L"], "citizen_id": ["L"]})
    previous = pd.DataFrame({"contact_id": ["old"], "person_id": ["L"], "citizen_id": ["L"], "decision": ["matched"]})
    later = day.iloc[[1]].reset_index(drop=True)
    out = cluster(later, np.array([None], dtype=object), {}, occurred[:1], previous=previous, id_index=remembered,
                  citizen_names={"L": luke}, identifier_key=STATE_KEY)
    assert out.citizen_id[0] is None and out.person_id[0] != "L"
    # without the register record there is nothing to contradict: the old behaviour
    out = cluster(later, np.array([None], dtype=object), {}, occurred[:1], previous=previous, id_index=remembered,
                  identifier_key=STATE_KEY)
    assert out.citizen_id[0] == "L"


def test_a_verified_handle_is_one_account_on_one_network(register, model):
    """The register notes Betty's verified handle with its network. A post from that handle on X is her; the
    same letters on Facebook are another account, so no verified-handle edge (the name evidence still counts)."""
    reg = register.copy()
    reg.loc[reg["citizen_id"] == "B1", "known_handles"] = "x:@BettyBoo52"
    con = pd.DataFrame({"contact_id": ["on_x", "on_fb"], "handle": ["@BettyBoo52", "bettyboo52"],
                        "platform": ["Twitter/X", "Facebook"], "channel": ["social", "social"]})
    out = link(reg, con, model=model).set_index("contact_id")
    assert json.loads(out.at["on_x", "explanation"])["via"] == "edge:known_handle"
    assert out.at["on_x", "citizen_id"] == "B1"
    assert json.loads(out.at["on_fb", "explanation"])["via"] != "edge:known_handle"
    assert "known_handle" not in json.loads(out.at["on_fb", "explanation"]) or \
        json.loads(out.at["on_fb", "explanation"])["known_handle"] <= 0


def test_clustering_refusals_are_audited_once_with_the_contacts_they_concern(register, model, tmp_path):
    """The store's audit names the contacts of a refused contact-to-contact edge, and linking the same contacts
    again (a re-run) adds no row to it."""
    con = pd.DataFrame({"contact_id": ["p1", "p2"], "email": ["aplin.home@btinternet.com"] * 2,
                        "given_name": ["Rosalind", "Tobias"], "family_name": ["Aplin", "Xerxes"],
                        "channel": ["email", "email"]})
    link(register, con, model=model, state_dir=tmp_path, identifier_key=STATE_KEY)
    audit = load_state(tmp_path)["rejected_edges"]
    row = audit[(audit["stage"] == "cluster") & (audit["reason"] == "conflicting_names")]
    assert {tuple(sorted(r)) for r in zip(row["contact_id"], row["other_id"])} == {("p1", "p2")}
    link(register, con, model=model, state_dir=tmp_path, identifier_key=STATE_KEY)
    assert len(load_state(tmp_path)["rejected_edges"]) == len(audit)


def test_a_citizen_given_through_an_identifier_names_the_edge_it_came_by():
    """m matched Mary on its own evidence. x shares m's e-mail, and y shares x's mobile: each says which
    identifier, carried by which of its person's contacts, joined it to which contact on Mary's side."""
    day = standardise(pd.DataFrame({"contact_id": ["m", "x", "y"],
                                    "email": ["mary.q@btinternet.com", "mary.q@btinternet.com", None],
                                    "phone": [None, "07700 900555", "07700 900555"]}), "contact_id")
    out = cluster(day, np.array(["MARY", None, None], dtype=object), {}, pd.Series(["2025-06-01T10:00:00Z"] * 3))
    assert list(out.citizen_id) == ["MARY"] * 3 and list(out.via_edge) == [False, True, True]
    assert out.via[0] is None
    assert out.via[1] == {"identifier": "email", "through": "x", "joined": "m"}
    assert out.via[2] == {"identifier": "phone", "through": "y", "joined": "x"}
