"""Nickname-aware blocking, the register-share estimate, and the evaluator's evidence subsets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from linkage.blocking import candidate_pairs, forename_variants, register_keys, register_multi_keys
from linkage.compare import NAMES, prepare_contacts
from linkage.eval.evaluate import error_breakdown, evidence_subsets
from linkage.prepare import prepare_register
from linkage.standardise import standardise
from linkage.train import _estimate_p_in
from tests.linkage.conftest import common_and_rare_agreement

REG = pd.DataFrame([
    {"citizen_id": "S1", "given_name": "Stephen", "family_name": "Reed", "date_of_birth": "1996-01-16",
     "town": "Pudsey", "postcode": "LS28 7AA", "phone": "07700 900001"},
    {"citizen_id": "M1", "given_name": "Michael", "family_name": "Jones", "date_of_birth": "1939-12-16",
     "town": "Leeds", "postcode": "LS9 7ZB", "phone": "07700 900002"},
    {"citizen_id": "D1", "given_name": "Danielle", "family_name": "Armstrong", "date_of_birth": "2008-11-25",
     "town": "Leeds", "postcode": "LS20 8DN", "email": "dani.a@example.net"},
    {"citizen_id": "J1", "given_name": "John", "family_name": "Smith", "date_of_birth": "1970-02-03",
     "town": "Leeds", "postcode": "LS1 1AA"},
    {"citizen_id": "J2", "given_name": "John", "family_name": "Smith", "date_of_birth": "1981-05-06",
     "town": "Leeds", "postcode": "LS2 2BB"},
])


def _pairs(reg: pd.DataFrame, con: pd.DataFrame) -> set[tuple[str, str]]:
    prep = prepare_register(reg)
    std = prepare_contacts(standardise(con, "contact_id"))
    pairs = candidate_pairs(std, prep.std, prep.keys, prep.multi)
    return set(zip(std["id"].to_numpy()[pairs.get_level_values(0)],
                   prep.std["id"].to_numpy()[pairs.get_level_values(1)]))


def test_forename_variants_cover_nicknames_and_formal_names():
    pos, var = forename_variants(pd.Series(["steve", None, "stephen"]))
    by = {p: {v for q, v in zip(pos, var) if q == p} for p in set(pos)}
    assert {"steve", "stephen", "steven"} <= by[0] and "stephen" in by[2] and 1 not in by


def test_nickname_meets_formal_name_in_blocking_though_canonicals_differ():
    # canonical('steve') is 'steven', canonical('stephen') is 'stephen': single keys never met
    con = pd.DataFrame([
        {"contact_id": "c1", "given_name": "Steve", "family_name": "Reed"},
        {"contact_id": "c2", "given_name": "Mickey", "family_name": "Jones", "date_of_birth": "1939-12-16"},
        {"contact_id": "c3", "handle": "thestevereed", "display_name": "Northern Mrs", "location": "Pudsey"},
        {"contact_id": "c4", "given_name": "Dannii", "family_name": "Armstrong"},  # unknown nickname: initial
    ])
    got = _pairs(REG, con)
    assert {("c1", "S1"), ("c2", "M1"), ("c3", "S1"), ("c4", "D1")} <= got
    assert ("c1", "M1") not in got


def test_a_handle_and_a_short_display_name_are_read_apart_then_together():
    """Joined into one string, the display name's words changed how the handle was cut: 'kylem78' + 'Real
    Miss' lost kyle, and 'Les J' after 'jenkins.l' read 'les' as a word after an initial."""
    reg = pd.concat([REG, pd.DataFrame([
        {"citizen_id": "K1", "given_name": "Kyle", "family_name": "Martin", "date_of_birth": "1978-03-01"},
        {"citizen_id": "L1", "given_name": "Les", "family_name": "Jenkins", "date_of_birth": "1970-05-05"},
        {"citizen_id": "P1", "given_name": "Paul", "family_name": "Birch", "date_of_birth": "1958-07-07"},
    ])], ignore_index=True)
    con = pd.DataFrame([
        {"contact_id": "kyle", "handle": "kylem78", "display_name": "Real Miss"},
        {"contact_id": "les", "handle": "jenkins.l", "display_name": "Les J"},
        {"contact_id": "paul", "handle": "birch.p", "display_name": "P. Birch"},  # initial and surname only
    ])
    prepare_register(reg)  # teaches the decomposer the register's names
    std = standardise(con, "contact_id").set_index("id")
    assert (std.at["kyle", "h_forename"], std.at["kyle", "h_initials"], std.at["kyle", "h_years"]) == ("kyle", "m", "1978")
    assert (std.at["les", "h_forename"], std.at["les", "h_surnames"]) == ("les", "jenkins")
    assert (std.at["paul", "h_forename"], std.at["paul", "h_surnames"], std.at["paul", "h_initials"]) == (None, "birch", "p")
    assert {("kyle", "K1"), ("les", "L1"), ("paul", "P1")} <= _pairs(reg, con)


def test_register_multi_keys_drop_oversized_blocks():
    reg = standardise(pd.concat([REG] * 30, ignore_index=True).assign(
        citizen_id=lambda d: [f"X{i}" for i in range(len(d))]), "citizen_id", handles=False)
    multi = register_multi_keys(reg, max_block=40)
    # 60 John Smiths share every forename key: over the cap of 40, so dropped
    john = set(np.flatnonzero((reg["given"] == "john").to_numpy()))
    assert not (set(multi["given_family"]["p"]) & john)
    assert set(register_keys(reg, max_block=40).columns) >= {"initial_family", "family_dob"}


def test_register_share_is_estimated_from_contacts_that_state_a_name():
    # 300 named contacts, each with one strong candidate; 700 that carry only a phone number
    # the register does not hold (no candidates). Those say nothing about being in the register.
    n_named, n_other = 300, 700
    sample = pd.DataFrame({"given": ["ann"] * n_named + [None] * n_other,
                           "family": ["lee"] * n_named + [None] * n_other,
                           "phone": [None] * n_named + ["+447700900999"] * n_other})
    for col in ("dob", "postcode", "email", "ref", "handle", "h_forename", "h_surnames"):
        sample[col] = None
    contact = np.arange(n_named)
    bits = np.full(n_named, 30.0)
    assert _estimate_p_in(sample, contact, bits, 10_000) > 0.9
    # with too few named contacts it falls back to every contact that carries evidence
    assert _estimate_p_in(sample.iloc[250:].reset_index(drop=True), contact[:50], bits[:50], 10_000) < 0.2


def test_nickname_of_a_rare_name_weighs_more(model, prepared):
    w = common_and_rare_agreement(model, prepared, "given_canon", "given_name")
    assert w[1] > w[0]


def test_evidence_subsets_and_the_identifiable_ceiling():
    con = pd.DataFrame([
        {"contact_id": "a", "channel": "social", "handle": "thestevereed", "display_name": "Northern Mrs"},
        {"contact_id": "b", "channel": "social", "handle": "grumpy.daze82", "display_name": "Dani A"},
        {"contact_id": "c", "channel": "phone", "phone": "Withheld"},
        # a mobile the register does not hold, used once with a full name and once without
        {"contact_id": "d", "channel": "email", "given_name": "Danielle", "family_name": "Armstrong",
         "email": "dani.a@example.net", "message_text": "call me on 07700 900555"},
        {"contact_id": "e", "channel": "sms", "phone": "07700 900555"},
        {"contact_id": "f", "channel": "web_form", "given_name": "John", "family_name": "Smith"},
        {"contact_id": "g", "channel": "web_form", "given_name": "John", "family_name": "Smith",
         "date_of_birth": "1981-05-06"},
    ])
    truth = pd.DataFrame({"contact_id": list("abcdefg"), "citizen_id": ["S1", "D1", "M1", "D1", "D1", "J1", "J2"]})
    sub = evidence_subsets(REG, con, truth)
    assert sub.handle_name.tolist() == [True, False, False, False, False, False, False]
    assert sub.profile_name.tolist() == [True, True, False, False, False, False, False]
    # a: unique name in the register; d: e-mail; e: joined to d by the mobile in d's message;
    # c: withheld; f: one of two John Smiths with nothing else; g: the DOB settles it
    assert sub.direct.tolist() == [True, False, False, True, False, False, True]
    assert sub.identifiable.tolist() == [True, False, False, True, True, False, True]


def test_error_breakdown_reports_reasons():
    con = pd.DataFrame([
        {"contact_id": "a", "channel": "web_form", "given_name": "Stephen", "family_name": "Reed",
         "date_of_birth": "1996-01-16"},
        {"contact_id": "b", "channel": "phone", "phone": "Withheld"},
    ])
    truth = pd.DataFrame({"contact_id": ["a", "b"], "citizen_id": ["S1", "M1"]})
    result = pd.DataFrame({"contact_id": ["a", "b"], "citizen_id": ["S1", None], "decision": ["matched", "unmatched"],
                           "explanation": ['{"via":"score"}', '{"via":"no_candidate"}']})
    text = "\n".join(error_breakdown(REG, con, truth, result, evidence_subsets(REG, con, truth)))
    assert "no_candidate" in text and "false negatives" in text


def test_a_weaker_handle_level_never_outweighs_a_stronger_one(model):
    from linkage.model import LEVEL_ORDER

    table = model.weight_table()
    for name, order in LEVEL_ORDER.items():
        w = table[NAMES.index(name)]
        for weaker, stronger in order:
            assert w[weaker] <= w[stronger], (name, weaker, stronger)
