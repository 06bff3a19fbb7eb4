"""Every standardiser, on the spellings councils actually receive."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from linkage.dates import normalise_dob, year_candidates
from linkage.emails import emails_in_text, local_part, normalise_email
from linkage.mentions import case_refs_in_text, signature_name
from linkage.names import canonical, clean_name, family_key, given_token, nickname_equivalent, soundex
from linkage.phones import is_personal, phones_in_text, to_e164
from linkage.postcodes import parse_postcode, postcodes_in_text
from linkage.standardise import standardise


@pytest.mark.parametrize("raw, expected", [
    ("  Mrs Zoë  O'Brien-Smith ", "zoe obrien smith"), ("DR. JOHN", "john"), ("Mr", None), (None, None),
])
def test_clean_name_folds_accents_titles_and_punctuation(raw, expected):
    assert clean_name(raw) == expected


def test_given_and_family_keys():
    assert given_token("Mary Ann") == "mary"
    assert family_key("Van der Berg") == family_key("Vanderberg") == "vanderberg"


@pytest.mark.parametrize("a, b", [("betty", "elizabeth"), ("liz", "lizzie"), ("bob", "robert"), ("peggy", "margaret")])
def test_nicknames_share_a_canonical(a, b):
    assert canonical(a) == canonical(b)
    assert nickname_equivalent(a, b)


def test_nickname_in_several_groups_still_matches_each():
    assert nickname_equivalent("bill", "william")


def test_unrelated_names_are_not_nicknames():
    assert not nickname_equivalent("mary", "susan")


def test_phonetic_key_groups_spellings():
    assert soundex("smith") == soundex("smyth")


@pytest.mark.parametrize("raw, expected", [
    ("07700 900123", "+447700900123"), ("+44 (0)7700 900123", "+447700900123"), ("447700900123", "+447700900123"),
    ("0113 496 0000", "+441134960000"), ("00 33 1 42 68 53 00", "+33142685300"), ("12", None), ("", None),
])
def test_phones_to_e164_with_uk_default(raw, expected):
    assert to_e164(raw) == expected


def test_mobiles_are_personal_landlines_are_not():
    assert is_personal("+447700900123")
    assert not is_personal("+441134960000")
    assert phones_in_text("call me on 07700 900 123 after six") == ["+447700900123"]


def test_emails_normalised_and_local_part_kept():
    assert normalise_email(" Betty.Boo+council@GoogleMail.com ") == "bettyboo@gmail.com"
    assert normalise_email("B.Boothroyd@example.net") == "b.boothroyd@example.net"
    assert normalise_email("not an email") is None
    assert local_part("Betty.Boothroyd+x@gmail.com") == "Betty.Boothroyd"
    assert emails_in_text("or email sara39@btinternet.com thanks") == ["sara39@btinternet.com"]


@pytest.mark.parametrize("raw, expected", [
    ("ls14ab", ("LS1 4AB", "LS1", "LS1 4")), ("sw1a 1aa", ("SW1A 1AA", "SW1A", "SW1A 1")),
    ("M1 1AE", ("M1 1AE", "M1", "M1 1")), ("4223", ("4223", None, None)), ("", None),
])
def test_postcodes_with_district_and_sector(raw, expected):
    assert parse_postcode(raw) == expected


def test_postcode_in_text():
    assert postcodes_in_text("I'm at LS18 7HR, flat 2") == ["LS18 7HR"]


@pytest.mark.parametrize("raw, expected", [
    ("1952-03-12", "19520312"), ("12/03/1952", "19520312"), ("19520312", "19520312"),
    ("1952-02-30", "19520230"), ("unknown", None), ("1752-01-01", None),
])
def test_dates_of_birth(raw, expected):
    assert normalise_dob(raw) == expected


def test_birth_year_candidates_from_digit_runs():
    today = date(2026, 1, 1)
    assert year_candidates("52", today) == [1952]
    assert year_candidates("1987", today) == [1987]
    assert year_candidates("07", today) == [2007]
    assert year_candidates("2020", today) == []  # a six-year-old does not write to the council
    assert year_candidates("123", today) == []


def test_mentions_case_refs_and_signatures():
    assert case_refs_in_text("my ref is CT-250131-0004 ok") == ["CT2501310004"]
    assert signature_name("Hello,\n\nBins again.\n\nRegards\nLindy Moore") == "Lindy Moore"
    assert signature_name("Hello\n\nSent from my iPhone") is None
    assert signature_name("one line only Lindy") is None


def test_standardise_frame_uses_whatever_columns_exist():
    df = pd.DataFrame({"contact_id": ["c1", "c2"], "display_name": ["Betty Boothroyd", None],
                       "handle": [None, "@BettyBoo52"],
                       "message_text": [None, "call me on 07700 900123. I'm at LS1 4AB"]})
    std = standardise(df, "contact_id")
    assert std.loc[0, "given"] == "betty" and std.loc[0, "family"] == "boothroyd"
    assert std.loc[0, "given_canon"] == "elizabeth"
    row = std.loc[1]
    assert row["h_canon"] == "elizabeth" and row["h_surnames"] == "boo" and row["h_years"] == "1952"
    assert row["phone"] == "+447700900123" and row["postcode"] == "LS1 4AB"  # filled from the message
