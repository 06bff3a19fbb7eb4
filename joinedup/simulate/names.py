"""Name, address and handle vocabularies for the simulated council.

Forenames and surnames come from Faker's en_GB lists (surnames carry frequencies, so common names recur as they
do in a real register); nickname forms come from the curated `nicknames` list that linkage also reads, which is
how real display names relate to register names.
"""

from __future__ import annotations

from functools import cache, lru_cache

from faker.providers.person.en_GB import Provider as _Person
from nicknames import NickNamer

TOWNS: tuple[tuple[str, float], ...] = (
    ("Leeds", 0.62),
    ("Morley", 0.06),
    ("Pudsey", 0.05),
    ("Horsforth", 0.05),
    ("Otley", 0.04),
    ("Wetherby", 0.04),
    ("Garforth", 0.04),
    ("Rothwell", 0.04),
    ("Guiseley", 0.03),
    ("Yeadon", 0.03),
)
POSTCODE_DISTRICTS: tuple[str, ...] = tuple(f"LS{n}" for n in range(1, 30))
POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
STREET_SUFFIXES: tuple[str, ...] = (
    "Street", "Road", "Lane", "Avenue", "Close", "Drive", "Grove", "Terrace", "Crescent", "Gardens",
    "Way", "Place", "Mount", "View", "Walk", "Court", "Rise", "Green",
)
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.36),
    ("hotmail.co.uk", 0.16),
    ("outlook.com", 0.10),
    ("yahoo.co.uk", 0.09),
    ("btinternet.com", 0.08),
    ("icloud.com", 0.08),
    ("sky.com", 0.05),
    ("live.co.uk", 0.04),
    ("aol.com", 0.02),
    ("talktalk.net", 0.02),
)
# Words for handles that carry no name evidence, and for filler tokens in handles that do.
HANDLE_WORDS: tuple[str, ...] = (
    "sunny", "daze", "leeds", "lass", "lad", "yorkshire", "tea", "pot", "bin", "watcher", "gardener",
    "mum", "dad", "nana", "grandad", "runner", "cyclist", "fan", "united", "rhino", "moon", "star",
    "happy", "grumpy", "busy", "bee", "cat", "dog", "lover", "northern", "soul", "rose", "white",
    "official", "real", "the", "mr", "mrs", "miss",
)
LOCATIONS: tuple[tuple[str, float], ...] = (
    ("", 0.30),
    ("Leeds", 0.22),
    ("Leeds, England", 0.10),
    ("West Yorkshire", 0.08),
    ("Yorkshire", 0.07),
    ("UK", 0.06),
    ("{town}", 0.10),
    ("{town}, Leeds", 0.04),
    ("God's own county", 0.03),
)
TITLES = {"F": ("Mrs", "Ms", "Miss"), "M": ("Mr",)}


def _rank_weights(n: int) -> list[float]:
    """Zipf-like weights for an ordered popularity list without frequencies."""
    return [1.0 / (rank + 8) for rank in range(n)]


@lru_cache(maxsize=1)
def forenames() -> dict[str, tuple[tuple[str, ...], tuple[float, ...]]]:
    female = tuple(dict.fromkeys(_Person.first_names_female))
    male = tuple(dict.fromkeys(_Person.first_names_male))
    return {
        "F": (female, tuple(_rank_weights(len(female)))),
        "M": (male, tuple(_rank_weights(len(male)))),
    }


@lru_cache(maxsize=1)
def surnames() -> tuple[tuple[str, ...], tuple[float, ...]]:
    names = tuple(_Person.last_names.keys())
    return names, tuple(float(w) for w in _Person.last_names.values())


@lru_cache(maxsize=1)
def _namer() -> NickNamer:
    return NickNamer()


@cache
def nicknames_of(given: str) -> tuple[str, ...]:
    """Informal forms a person called `given` may go by (sorted, for determinism)."""
    return tuple(sorted(n.capitalize() for n in _namer().nicknames_of(given.lower()) if len(n) > 2))
