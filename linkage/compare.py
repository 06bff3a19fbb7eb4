"""Comparison vectors, one column of agreement levels per comparison.

Each feature maps a candidate pair to an agreement level (see comparators.py); the model turns
levels into match weights.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage import comparators as cmp
from linkage.valuecodes import cached_tuple_codes, distinct_pairs


@dataclass(frozen=True)
class Comparison:
    name: str
    left: tuple[str, ...]  # contact columns
    right: tuple[str, ...]  # register columns
    fn: Callable[..., np.ndarray]
    levels: tuple[str, ...]  # labels for levels 0..k, weakest first
    tf_column: str | None = None  # register column whose value frequency adjusts the top level
    tf_extra: tuple[tuple[int, str], ...] = ()  # further (level, register column) TF adjustments

    def tf_levels(self) -> dict[int, str]:
        out = dict(self.tf_extra)
        if self.tf_column:
            out[len(self.levels) - 1] = self.tf_column
        return out


HANDLE_LEVELS = ("different", "surname_only", "forename_only", "forename_and_initial", "initial_and_surname",
                 "forename_and_surname_prefix", "forename_and_surname")
HANDLE_TF = ((5, "name_key3"), (4, "initial_key"), (3, "given_initial_key"), (2, "given_canon"), (1, "family"))

COMPARISONS: tuple[Comparison, ...] = (
    # a nickname of a rare name ('dani' for danielle) proves more than one of a common one
    Comparison("given_name", ("given", "given_canon"), ("given", "given_canon"), cmp.given_name,
               ("different", "initial", "fuzzy", "nickname", "exact"), "given", ((3, "given_canon"),)),
    Comparison("family_name", ("family",), ("family",), cmp.family_name,
               ("different", "similar_or_prefix", "fuzzy", "exact"), "family"),
    Comparison("date_of_birth", ("dob",), ("dob",), cmp.date_of_birth,
               ("different", "year", "month_or_swap", "one_typo", "exact")),
    Comparison("postcode", ("postcode", "pc_sector", "pc_district"), ("postcode", "pc_sector", "pc_district"),
               cmp.postcode, ("different", "district", "sector", "exact"), "postcode"),
    Comparison("address", ("address",), ("address",), cmp.address, ("different", "similar", "close", "exact")),
    Comparison("town", ("town",), ("town",), cmp.town, ("different", "similar", "exact"), "town"),
    Comparison("location", ("loc_kind", "location", "loc_district"), ("town", "pc_district"), cmp.location,
               ("elsewhere", "other_town", "area", "district", "town"), "town"),
    Comparison("email", ("email",), ("email",), cmp.exact, ("different", "exact")),
    Comparison("phone", ("phone",), ("phone",), cmp.phone, ("different", "landline", "mobile")),
    Comparison("reference", ("ref",), ("ref",), cmp.reference, ("different", "one_typo", "exact")),
    Comparison("known_handle", ("handle",), ("known_handles",), cmp.known_handle, ("other_handles", "verified")),
    Comparison("email_name", ("skip_email_name", "h_forename", "h_canon", "h_surnames", "h_initials"),
               ("given", "given_canon", "family"), cmp.handle_name,
               HANDLE_LEVELS, "name_key", HANDLE_TF),
    Comparison("handle_name", ("skip_handle_name", "h_forename", "h_canon", "h_surnames", "h_initials"),
               ("given", "given_canon", "family"), cmp.handle_name,
               HANDLE_LEVELS, "name_key", HANDLE_TF),
    Comparison("handle_year", ("has_dob", "h_years"), ("dob_year",), cmp.handle_year, ("different", "year")),
)
NAMES = tuple(c.name for c in COMPARISONS)


def prepare_contacts(con: pd.DataFrame) -> pd.DataFrame:
    """Columns the comparators condition on: whether a real name / DOB is present."""
    con = con.copy()
    con["has_name"] = con["given"].notna() | con["family"].notna()
    con["has_dob"] = con["dob"].notna()
    # handle and e-mail user-name evidence stand in for a name only when there is none
    con["skip_handle_name"] = con["has_name"] | (con["h_source"] != "handle")
    con["skip_email_name"] = con["has_name"] | (con["h_source"] != "email")
    return con


def compare_pairs(pairs: pd.MultiIndex, con: pd.DataFrame, reg: pd.DataFrame,
                  only: Collection[str] | None = None) -> np.ndarray:
    """int8 level matrix (n_pairs x n_comparisons), columns in COMPARISONS order.

    pairs: (contact row, register row) labels of frames indexed 0..n-1. only: the comparisons to compute
    (training's extra u samples need one each); the others are left at -1, no evidence. Each comparator runs
    once per distinct tuple of the values it reads (linkage.valuecodes) and its levels are broadcast to the
    pairs: the same levels as comparing every pair, at a fraction of the cost. Neither frame may be changed
    in place while it is being compared (the codes of its values are kept with it).
    """
    todo = [j for j, c in enumerate(COMPARISONS) if only is None or c.name in only]
    if only is not None and {"given_name", "family_name"} & set(only):  # the swap credit reads both
        todo = sorted(set(todo) | {NAMES.index("given_name"), NAMES.index("family_name")})
    levels = np.full((len(pairs), len(COMPARISONS)), -1, dtype=np.int8)
    if len(pairs) == 0:
        return levels
    ci = pairs.get_level_values(0).to_numpy(np.int64)
    ri = pairs.get_level_values(1).to_numpy(np.int64)
    for j in todo:
        c = COMPARISONS[j]
        first, inverse = distinct_pairs(cached_tuple_codes(con, c.left)[ci], cached_tuple_codes(reg, c.right)[ri])
        rc, rr = ci[first], ri[first]
        values = [con[x].to_numpy(dtype=object)[rc] for x in c.left] + \
            [reg[x].to_numpy(dtype=object)[rr] for x in c.right]
        levels[:, j] = np.asarray(c.fn(*values), dtype=np.int8)[inverse]
    if only is None or NAMES.index("given_name") in todo:
        _credit_swapped_names(levels, pairs, con, reg)
    return levels


def _credit_swapped_names(levels: np.ndarray, pairs: pd.MultiIndex, con: pd.DataFrame, reg: pd.DataFrame) -> None:
    """Forename/surname swapped between records: score both names as fuzzy agreement."""
    g, f = NAMES.index("given_name"), NAMES.index("family_name")
    weak = np.flatnonzero((levels[:, g] <= 1) & (levels[:, f] <= 1))
    if len(weak) == 0:
        return
    ci = pairs.get_level_values(0).to_numpy()[weak]
    ri = pairs.get_level_values(1).to_numpy()[weak]
    swap = cmp.swapped_names(con["given"].to_numpy()[ci], con["family"].to_numpy()[ci],
                             reg["given"].to_numpy()[ri], reg["family"].to_numpy()[ri])
    levels[weak[swap], g] = 2
    levels[weak[swap], f] = 2
