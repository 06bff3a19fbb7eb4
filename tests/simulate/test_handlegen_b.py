"""handlegen-B (joinedup/simulate/handlegen_b.py): determinism, the design's measured targets, the freeze hash and
what the held-out settings change. Runs on a real register written by the project's simulator."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from joinedup.simulate import simulate
from joinedup.simulate.handlegen_b import (
    SETTINGS,
    SETTINGS_PATH,
    generate,
    load_settings,
    settings_sha256,
    transfer_email,
    wilson,
)
from linkage.io import read_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "handles.md"
N = 2_000


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("register")
    simulate(out, 4_000, 1, date(2025, 3, 3), 7)
    return read_table(out / "register" / "citizens.csv")


@pytest.fixture(scope="module")
def sets(register: pd.DataFrame):
    return {s: generate(register, 3, N, s) for s in SETTINGS}


def test_same_seed_same_contacts_other_seed_other_contacts(register: pd.DataFrame, sets) -> None:
    again = generate(register, 3, N)
    pd.testing.assert_frame_equal(again.contacts, sets["default"].contacts)
    pd.testing.assert_frame_equal(again.truth, sets["default"].truth)
    other = generate(register, 4, N)
    assert (other.contacts["handle"] != sets["default"].contacts["handle"]).mean() > 0.9


def test_contacts_follow_the_data_contract(sets) -> None:
    c, t = sets["default"].contacts, sets["default"].truth
    assert len(c) == N and c["contact_id"].is_unique and list(t["contact_id"]) == list(c["contact_id"])
    assert set(c["channel"]) == {"social"} and set(c["platform"]) == {"x", "facebook"}
    assert c["handle"].notna().all() and not c["handle"].str.startswith("@").any()
    assert c[["given_name", "family_name", "email", "phone", "date_of_birth", "postcode"]].isna().all().all()


def test_x_handles_are_4_to_15_word_characters_and_average_10_to_11(sets) -> None:
    for s, hs in sets.items():
        x = hs.contacts.loc[hs.contacts["platform"] == "x", "handle"]
        assert x.map(lambda h: re.fullmatch(r"[A-Za-z0-9_]{4,15}", h) is not None).all(), s
        fb = hs.contacts.loc[hs.contacts["platform"] == "facebook", "handle"]
        assert fb.map(lambda h: re.fullmatch(r"[A-Za-z0-9.]{5,50}", h) is not None).all(), s
    x = sets["default"].contacts.query("platform == 'x'")["handle"].str.len()
    assert 9.5 <= x.mean() <= 11.5  # design 4.5: S9 measured 10.97 for 2012 accounts


def test_handles_are_unique_per_network(sets) -> None:
    c, t = sets["default"].contacts, sets["default"].truth
    per_person = c.assign(person=t["person_key"]).drop_duplicates(["person", "platform"])
    assert not per_person.assign(h=per_person["handle"].str.lower()).duplicated(["platform", "h"]).any()


def test_outsiders_are_30_percent_and_a_third_of_them_hard_negatives(sets) -> None:
    t = sets["default"].truth
    outsiders = t[t["citizen_id"].isna()]
    assert len(outsiders) / len(t) == pytest.approx(0.30, abs=0.005)
    persons = outsiders.drop_duplicates("person_key")
    lo, hi = wilson(int((persons["person_kind"] == "hard_negative").sum()), len(persons), z=3.3)
    assert lo <= 0.35 <= hi
    assert set(persons["person_kind"]) == {"hard_negative", "namesake_year", "ordinary"}
    assert persons.loc[persons["person_kind"] != "ordinary", "anchor_citizen"].notna().all()


def test_hard_negatives_share_a_register_surname_and_town(register: pd.DataFrame, sets) -> None:
    c, t = sets["default"].contacts, sets["default"].truth
    reg = register.set_index("citizen_id")
    hard = t[t["person_kind"] == "hard_negative"]
    shown = c.loc[hard.index, "display_name"].fillna("")
    full = hard["display_form"] == "full_name"
    surnames = reg.loc[hard["anchor_citizen"], "family_name"].to_numpy()
    assert all(s.endswith(f" {f}") for s, f, ok in zip(shown, surnames, full) if ok)


def test_a_person_keeps_one_root_across_networks(sets) -> None:
    c, t = sets["default"].contacts, sets["default"].truth
    both = t.groupby("person_key")["platform"].nunique().loc[lambda n: n == 2].index
    assert 0.15 < len(both) / t["person_key"].nunique() < 0.35  # design 4.1: 0.25
    fam = t[t["person_key"].isin(both)].groupby("person_key")["root_family"].nunique()
    assert (fam == 1).all()
    norm = c["handle"].str.lower().str.replace(r"[._]", "", regex=True)
    pairs = norm[t["person_key"].isin(both)].groupby(t["person_key"]).agg(list)
    same_start = pairs.map(lambda hs: hs[0][:4] == hs[1][:4]).mean()
    assert same_start > 0.6


def test_settings_are_frozen_by_the_hashes_in_docs() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for s in SETTINGS:
        m = re.search(rf"`{s}`\s*\|\s*`([0-9a-f]{{64}})`", text)
        assert m, f"docs/handles.md records no sha256 for {s}"
        assert settings_sha256(load_settings(s)) == m.group(1), (
            f"handlegen-B setting {s!r} changed: its sha256 differs from docs/handles.md. A frozen setting "
            "must not change after the linker has run on its output (design 6.1); record a new version instead.")


def test_every_probability_in_the_settings_cites_its_source() -> None:
    lines = SETTINGS_PATH.read_text(encoding="utf-8").splitlines()
    bare = [ln for ln in lines if re.match(r"\s+\w+: 0?\.\d+\s*(#.*)?$", ln) and not re.search(r"\[(A|M)\]", ln)]
    assert not bare, bare


def test_older_town_is_older_with_more_titles_and_fewer_digits(sets) -> None:
    d, o = sets["default"].truth, sets["older_town"].truth
    old = ("55-64", "65+")
    assert o["age_band"].isin(old).mean() > d["age_band"].isin(old).mean() + 0.15
    assert o["decorations"].str.contains("title").mean() > 2 * d["decorations"].str.contains("title").mean()
    assert (o["display_form"] == "title_surname").mean() > 2 * (d["display_form"] == "title_surname").mean()
    own = ~d["digit_kind"].isin(["none", "collision", "email_year", "email_digits"])
    own_o = ~o["digit_kind"].isin(["none", "collision", "email_year", "email_digits"])
    assert own_o.mean() < own.mean() - 0.05


def test_young_city_is_younger_with_more_leet_xx_non_name_roots_and_slang(sets) -> None:
    d, y = sets["default"].truth, sets["young_city"].truth
    assert y["age_band"].isin(("<25", "25-39")).mean() > d["age_band"].isin(("<25", "25-39")).mean() + 0.15
    assert y["transforms"].str.contains("leet").mean() > 2 * d["transforms"].str.contains("leet").mean()
    assert y["decorations"].str.contains("xx_wrapper").mean() > 2 * d["decorations"].str.contains("xx_wrapper").mean()
    assert (y["root_family"] == "R5").mean() > (d["root_family"] == "R5").mean() + 0.04
    assert (y["location_form"] == "slang").mean() > 1.5 * (d["location_form"] == "slang").mean()


def test_overlays_change_only_what_they_name() -> None:
    d = load_settings()
    o, y = load_settings("older_town"), load_settings("young_city")
    assert o["digits"]["p_digits"] < d["digits"]["p_digits"] and o["digits"]["kind"] == d["digits"]["kind"]
    assert y["root_family"]["R5"] > d["root_family"]["R5"] and y["root_family"]["R1"] == d["root_family"]["R1"]
    assert {k for k in d if d[k] != o[k]} == {"population", "digits", "decorations", "display_form"}
    with pytest.raises(ValueError):
        load_settings("no_such_setting")


def test_outsider_email_takes_another_persons_pattern() -> None:
    assert transfer_email("j.smith71", "John", "Smith", date(1971, 5, 1), "Paul", "Holroyd", date(1964, 2, 2)) \
        == "p.holroyd64"
    assert transfer_email("kathleen.kemp1958", "Kathleen", "Kemp", date(1958, 1, 1), "Paul", "Holroyd",
                          date(1964, 2, 2)) == "paul.holroyd1964"
    assert transfer_email("gardengnome", "Ann", "Lee", date(1950, 1, 1), "Paul", "Holroyd", date(1964, 2, 2)) \
        == "gardengnome"


def test_wilson_interval() -> None:
    lo, hi = wilson(97, 100)
    assert lo == pytest.approx(0.9154, abs=1e-4) and hi == pytest.approx(0.9897, abs=1e-4)
