"""A social profile's free-text location read as a place: a town of the area, a postcode district, the area
itself, somewhere else, or nothing.

People write "LEEDS", "Leeds, West Yorkshire", "nr Yeadon", "outskirts of Leeds", "LS11", "God's own county",
"Bradford / Morley" or "in Harry Styles' heart" (Hecht et al., CHI 2011: a sixth of location fields are jokes,
and real ones rarely go below the city). Compared as a raw string against the register's town, all but the
first two scored "different", so a location was weak evidence where it agreed and false evidence against
where it only said less. Reading it first lets the comparison say what the profile says: the same town, the
same postcode district, somewhere in the area, or somewhere else. What the area contains is configuration
(linkage/places.yml), since every council's differs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from rapidfuzz.distance import JaroWinkler

from linkage.names import fold

PACKAGED = Path(__file__).with_name("places.yml")
FILE_ENV = "JOINEDUP_LINK_PLACES"
KINDS = ("town", "city", "district", "near", "area", "elsewhere")
_NEAR = re.compile(r"^(?:nr|near|just outside|outside|outskirts of|on the outskirts of|just off|north of|south of|"
                   r"east of|west of|close to|by)\s+")
_SPLIT = re.compile(r"\s*(?:,|/|&|\||;|\+|\band\b|\bvia\b|\bor\b|\s-\s|\u00b7|->|=>|>|\u2192|\u27a1)\s*")
_NOISE = re.compile(r"[^a-z0-9 ]+")
_TRAILING = ("innit", "way", "area", "born and bred", "born bred", "based", "lad", "lass", "like")
_POSTCODE_DISTRICT = re.compile(r"^([a-z]{1,2})(\d{1,2}[a-z]?)$")
_TYPO_SIMILARITY = 0.93


@dataclass(frozen=True)
class Gazetteer:
    """The council's area as its citizens name it (see places.yml)."""

    towns: frozenset[str]
    cities: frozenset[str]
    localities: dict[str, str]
    area: frozenset[str]
    postcode_areas: frozenset[str]
    vague: frozenset[str]
    elsewhere: frozenset[str]

    @classmethod
    def load(cls, path: str | Path | None = None) -> Gazetteer:
        src = Path(path) if path else Path(os.environ.get(FILE_ENV) or PACKAGED)
        try:
            doc = yaml.safe_load(src.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ValueError(f"places file {src} does not exist") from None
        known = {"towns", "cities", "localities", "area", "postcode_areas", "vague", "elsewhere"}
        if unknown := set(doc) - known:
            raise ValueError(f"places file {src}: unknown section(s) {', '.join(sorted(unknown))}")

        def words(key: str) -> frozenset[str]:
            return frozenset(_norm(str(x)) for x in doc.get(key) or ())

        towns = words("towns")
        localities = {_norm(k): _norm(v) for k, v in (doc.get("localities") or {}).items()}
        if bad := sorted(v for v in localities.values() if v not in towns):
            raise ValueError(f"places file {src}: localities map to {', '.join(bad)}, not in towns")
        return cls(towns, words("cities"), localities, words("area"), words("postcode_areas"), words("vague"),
                   words("elsewhere"))

    def names(self) -> tuple[str, ...]:
        """Every place name read as itself, for typo matching: towns, localities, area words, elsewhere."""
        return tuple(sorted(self.towns | set(self.localities) | self.area | self.elsewhere))


@dataclass(frozen=True)
class Place:
    """kind: town (a town of the area, or a locality of it), city (a town that also names the whole area),
    district (a postcode district of the area), near (near a town of the area), area (the area or its county,
    no town), elsewhere (a place outside the area). town: the post town for town/city/near; district: the
    postcode district ('LS11')."""

    kind: str
    town: str | None = None
    district: str | None = None


def _norm(text: str) -> str:
    s = fold(text).replace("'", "").replace("-", " ").replace(".", " ")
    return " ".join(_NOISE.sub(" ", s).split())


_REGISTER_TOWNS: set[str] = set()


@lru_cache(maxsize=1)
def _configured() -> Gazetteer:
    return Gazetteer.load()


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The configured area, with the register's own towns added: a town the register holds is in the area,
    whatever the places file says (a register reaching beyond it, or a council that has not written one)."""
    gz = _configured()
    towns = gz.towns | _REGISTER_TOWNS
    return Gazetteer(towns, gz.cities, gz.localities, gz.area, gz.postcode_areas, gz.vague, gz.elsewhere - towns)


def set_register_towns(towns) -> None:
    """Teach the reader the register's towns (as standardised: 'leeds'); clears the caches when they change."""
    new = {_norm(t) for t in towns if isinstance(t, str) and _norm(t)}
    if new == _REGISTER_TOWNS:
        return
    _REGISTER_TOWNS.clear()
    _REGISTER_TOWNS.update(new)
    gazetteer.cache_clear()
    _names.cache_clear()
    read_location.cache_clear()


def _segment(seg: str, gz: Gazetteer) -> Place | None:
    near = False
    m = _NEAR.match(seg)
    if m:
        near, seg = True, seg[m.end():]
    for tail in _TRAILING:
        if seg.endswith(" " + tail):
            seg = seg[: -len(tail) - 1]
    for lead in ("the ", "in ", "from ", "sunny ", "rainy ", "deepest darkest ", "deepest ", "darkest ", "central ",
                 "greater ", "downtown "):
        if seg.startswith(lead) and seg not in gz.area and seg not in gz.vague:
            seg = seg[len(lead):]
    if not seg:
        return None
    pc = _POSTCODE_DISTRICT.match(seg.replace(" ", ""))
    if pc and pc.group(1) in gz.postcode_areas:
        return Place("district", district=seg.replace(" ", "").upper())
    name = seg if seg in _names() or seg in gz.vague else _typo(seg, gz)
    if name is None or name in gz.vague:
        return None
    if name in gz.area:
        return Place("area")
    if name in gz.elsewhere:
        return Place("elsewhere")
    town = gz.localities.get(name, name if name in gz.towns else None)
    if town is None:
        return None
    if near:
        return Place("near", town)
    return Place("city" if name in gz.cities else "town", town)


def _typo(seg: str, gz: Gazetteer) -> str | None:
    """'Yorkshrie' -> yorkshire, 'Ledes' -> leeds: one slip in a name of 5+ letters, never a guess at a joke."""
    if len(seg) < 5 or " " in seg and len(seg) > 20:
        return None
    best, score = None, 0.0
    for name in sorted(_names()):
        s = JaroWinkler.normalized_similarity(seg, name)
        if s > score:
            best, score = name, s
    return best if score >= _TYPO_SIMILARITY else None


@lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    return frozenset(gazetteer().names())


_RANK = {"town": 6, "district": 5, "near": 4, "city": 3, "area": 2, "elsewhere": 1}


@lru_cache(maxsize=100_000)
def read_location(raw: str) -> Place | None:
    """The most specific place of the area a location names; None when it names nothing known.

    Of two places ('Bradford / Morley', 'Leeds & Halifax') the one in the area wins: a profile that names the
    area at all most often names where the person lives, and the other is where they work or come from.
    """
    gz = gazetteer()
    if not isinstance(raw, str) or not _norm(raw):
        return None
    segments = [_norm(s) for s in _SPLIT.split(raw)]
    places = [p for p in (_segment(s, gz) for s in segments if s) if p is not None]
    if not places:
        whole = _segment(_norm(raw), gz)
        places = [whole] if whole else []
    return max(places, key=lambda p: _RANK[p.kind]) if places else None


def location_fields(raw: str) -> tuple[str | None, str | None, str | None]:
    """(kind, post town, postcode district) for standardise's columns."""
    p = read_location(raw)
    return (p.kind, p.town, p.district) if p else None
