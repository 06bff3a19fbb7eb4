"""Handle decomposition on many styles."""

from __future__ import annotations

import pytest

from linkage.handles import decompose, qualified_handle, same_account, set_register_lexicon, split_raw


@pytest.fixture(autouse=True)
def _lexicon():
    set_register_lexicon(["alfie", "aisha"], ["boothroyd", "smith", "williams", "oneill"])
    yield
    set_register_lexicon([], [])


def test_betty_boo_52():
    p = decompose("BettyBoo52")
    assert p.tokens == ("betty", "boo", "52")
    assert p.tags == ("forename", "surname", "year")
    assert p.forename_canonical == "elizabeth" and p.surnames == ("boo",) and p.years == (1952,)


def test_split_raw_handles_camel_separators_and_digits():
    assert split_raw("@Betty_BooSmith52") == ["Betty", "Boo", "Smith", "52"]
    assert split_raw("JBSmith") == ["JB", "Smith"]


@pytest.mark.parametrize("handle, forename, surnames, initials, years", [
    ("betty_boothroyd", "betty", ("boothroyd",), (), ()),
    ("bettyboothroyd", "betty", ("boothroyd",), (), ()),  # run-together, split on the lexicon
    ("JohnSmith1987", "john", ("smith",), (), (1987,)),
    ("jsmith51", None, ("smith",), ("j",), (1951,)),  # initial + known surname
    ("b_boothroyd52", None, ("boothroyd",), ("b",), (1952,)),
    ("TheRealJaneDoe", "jane", ("doe",), (), ()),  # fillers dropped
    ("mrs.b.brown", None, ("brown",), ("b",), ()),
    ("LIZZIE_W", "lizzie", (), ("w",), ()),
    ("kate.o.neill", "kate", ("neill",), ("o",), ()),  # separated parts are kept as written
    ("JBSmith", None, ("smith",), ("j", "b"), ()),  # upper-case initials, then the surname
    ("smith_alfie", "alfie", ("smith",), (), ()),  # surname first
    ("AlfieJac53", "alfie", ("jac",), (), (1953,)),  # register forename not in the nickname list
    ("daveyjones_99", "davey", ("jones",), (), (1999,)),
    ("bobbyt2005", "bobby", (), ("t",), (2005,)),
])
def test_handle_styles(handle, forename, surnames, initials, years):
    p = decompose(handle)
    assert (p.forename, p.surnames, p.initials, p.years) == (forename, surnames, initials, years)


@pytest.mark.parametrize("handle", ["xXgamerXx", "coffeeaddict", "leeds_mum_of_3", "12345"])
def test_handles_without_a_forename(handle):
    assert decompose(handle).forename is None


def test_digits_that_are_not_years_are_filler():
    p = decompose("olly1234")
    assert p.years == () and "filler" in p.tags


def test_a_handle_is_qualified_by_its_network_when_one_is_known():
    assert qualified_handle("@BettyBoo52", "x") == "x:bettyboo52"
    assert qualified_handle("x:@BettyBoo52") == "x:bettyboo52"  # a register's 'network:handle'
    assert qualified_handle("Twitter/X:@BettyBoo52") == "x:bettyboo52"
    assert qualified_handle("@BettyBoo52") == "bettyboo52"
    assert qualified_handle("mr:happy") == "mr:happy"  # not a network: the handle as written
    assert same_account("x:jbrown", "facebook:jbrown|x:jbrown")
    assert not same_account("facebook:jbrown", "x:jbrown")  # the same letters, another account
    assert same_account("jbrown", "x:jbrown") and same_account("x:jbrown", "jbrown")  # one side does not say
