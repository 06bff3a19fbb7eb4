"""Profile locations read as places, and compared with the register's town and postcode district."""

from __future__ import annotations

import numpy as np
import pytest

from linkage import comparators as cmp
from linkage.places import Gazetteer, read_location, set_register_towns


@pytest.fixture(autouse=True)
def _towns():
    set_register_towns([])
    yield
    set_register_towns([])


@pytest.mark.parametrize("raw, kind, town, district", [
    ("Leeds", "city", "leeds", None),
    ("LEEDS ❤️", "city", "leeds", None),
    ("Pudsey", "town", "pudsey", None),
    ("Chapel Allerton", "town", "leeds", None),          # a district of the city -> its post town
    ("Farsley", "town", "pudsey", None),
    ("nr Yeadon", "near", "yeadon", None),
    ("outskirts of Leeds", "near", "leeds", None),
    ("West Yorkshire", "area", None, None),
    ("God's own county", "area", None, None),
    ("LS11", "district", None, "LS11"),
    ("ls 6", "district", None, "LS6"),
    ("Bradford / Morley", "town", "morley", None),       # of two places, the one in the area
    ("Leeds ➡️ Sheffield", "city", "leeds", None),
    ("Leeds, West Yorkshire", "city", "leeds", None),
    ("sunny Horsforth", "town", "horsforth", None),
    ("London", "elsewhere", None, None),
    ("Yorkshrie", "area", None, None),                   # one slip in a name of 5+ letters
])
def test_places_are_read(raw, kind, town, district):
    p = read_location(raw)
    assert (p.kind, p.town, p.district) == (kind, town, district)


@pytest.mark.parametrize("raw", ["UK", "England", "Narnia", "in Harry Styles' heart", "she/her", "🌍", "", "mars"])
def test_jokes_and_the_country_are_no_evidence(raw):
    assert read_location(raw) is None


def test_a_town_the_register_holds_is_in_the_area():
    assert read_location("Bradford").kind == "elsewhere"
    set_register_towns(["Bradford", "Leeds"])
    assert read_location("Bradford").kind == "town"


def test_a_places_file_naming_an_unknown_town_is_refused(tmp_path):
    bad = tmp_path / "places.yml"
    bad.write_text("towns: [leeds]\nlocalities: {armley: bramley}\n")
    with pytest.raises(ValueError, match="bramley"):
        Gazetteer.load(bad)
    bad.write_text("towns: [leeds]\nsuburbs: {}\n")
    with pytest.raises(ValueError, match="unknown section"):
        Gazetteer.load(bad)


def test_location_levels():
    kind = np.array(["town", "town", "city", "city", "near", "area", "district", "district", "elsewhere", None],
                    dtype=object)
    town = np.array(["pudsey", "pudsey", "leeds", "leeds", "yeadon", None, None, None, None, None], dtype=object)
    dist = np.array([None] * 6 + ["LS28", "LS6", None, None], dtype=object)
    b_town = np.array(["pudsey", "otley", "leeds", "morley", "guiseley", "leeds", "pudsey", "pudsey", "leeds",
                       "leeds"], dtype=object)
    b_dist = np.array(["LS28"] * 10, dtype=object)
    got = cmp.location(kind, town, dist, b_town, b_dist)
    # same town 4; another town 1; the city for a city citizen 4, for a Morley one 2 (the city names the area);
    # near 2; area 2; same district 3, another 1; elsewhere 0; nothing known -1
    assert got.tolist() == [4, 1, 4, 2, 2, 2, 3, 1, 0, -1]


def test_a_longer_name_starting_with_the_surname_is_not_the_surname():
    from linkage.handles import set_register_lexicon

    set_register_lexicon(["richard", "liam"], ["hunt", "hunter", "smith"])
    try:
        lv = cmp.handle_name(np.array([False, False]), np.array(["rich", "liam"], dtype=object),
                             np.array(["richard", "william"], dtype=object),
                             np.array(["hunter", "smithx"], dtype=object), np.array([None, None], dtype=object),
                             np.array(["richard", "liam"], dtype=object), np.array(["richard", "william"], dtype=object),
                             np.array(["hunt", "smith"], dtype=object))
    finally:
        set_register_lexicon([], [])
    # 'hunter' is another surname: it contradicts Hunt; 'smithx' is Smith and a filler: the whole surname
    assert lv.tolist() == [0, 6]
