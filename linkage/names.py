"""Name standardisation: accents, titles, nickname canonicals and phonetic keys.

Lookups run once per distinct value (`map_unique`), so a register of 500k people with ~10k
distinct forenames costs ~10k calls, not 500k.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import jellyfish
import numpy as np
import pandas as pd

TITLES = frozenset(
    ["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "rev", "revd", "sir", "dame", "lady", "lord", "master", "cllr", "fr", "sr", "jr"]
)
_NON_ALPHA = re.compile(r"[^a-z\s]")
_SPACES = re.compile(r"\s+")


def map_unique(values: pd.Series, fn: Callable[[str], object]) -> pd.Series:
    """Apply `fn` to each distinct non-null value once and broadcast back (nulls stay null)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([fn(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def fold(text: str) -> str:
    """Lower-case ASCII with accents stripped: 'Zoë' -> 'zoe'."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def clean_name(text: object) -> str | None:
    """Folded, punctuation-free, title-free name text with single spaces; None when empty."""
    if not isinstance(text, str):
        return None
    s = fold(text).replace("-", " ").replace("'", "").replace(".", " ")
    s = _SPACES.sub(" ", _NON_ALPHA.sub(" ", s)).strip()
    words = [w for w in s.split(" ") if w and w not in TITLES]
    return " ".join(words) or None


def given_token(text: object) -> str | None:
    """First forename only: middle names are too patchily recorded to compare."""
    s = clean_name(text)
    return s.split(" ")[0] if s else None


def family_key(text: object) -> str | None:
    """Family name with spaces removed so 'Van der Berg' and 'Vanderberg' agree."""
    s = clean_name(text)
    return s.replace(" ", "") if s else None


@lru_cache(maxsize=1)
def _nicknamer():
    from nicknames import NickNamer

    return NickNamer()


@lru_cache(maxsize=1)
def forename_lexicon() -> frozenset[str]:
    """Every forename the nickname list knows, nicknames and canonicals alike."""
    nn = _nicknamer()
    names: set[str] = set()
    for key, vals in nn._nickname_lookup.items():
        names.add(key)
        names.update(vals)
    return frozenset(n for n in names if n.isalpha())


@lru_cache(maxsize=200_000)
def canonical(name: str) -> str:
    """One canonical forename per nickname group, so 'betty', 'liz' and 'elizabeth' share a key.

    A nickname can belong to several groups (betty -> elizabeth, beth); the group with the most
    members wins, ties broken alphabetically, which makes the key deterministic.
    """
    nn = _nicknamer()
    groups = set(nn.canonicals_of(name)) | {name}
    return min(groups, key=lambda c: (-len(nn.nicknames_of(c)), c))


@lru_cache(maxsize=200_000)
def name_variants(name: str) -> frozenset[str]:
    """The name, its canonicals and their nicknames: two names match as nicknames if these meet."""
    nn = _nicknamer()
    out = {name} | set(nn.canonicals_of(name))
    return frozenset(out)


def nickname_equivalent(a: str, b: str) -> bool:
    """True when one is a nickname of the other or both share a canonical."""
    if a == b:
        return True
    va, vb = name_variants(a), name_variants(b)
    return bool(va & vb)


def soundex(name: str) -> str:
    return jellyfish.soundex(name)


def metaphone(name: str) -> str:
    return jellyfish.metaphone(name)
