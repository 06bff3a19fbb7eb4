"""handlegen-B: a second, independently designed generator of social-media contacts for the linker (issue 19).

Why a second generator: the linker reaches recall 0.75 on handles from our own simulator and 0.45 on a set made by
someone else's generator, so it may be fitted to our simulator's styles. This generator was written from the
issue-19 research notes alone (published statistics on how people make usernames, display names and profile
locations), not from the simulator's style tables or the linker's handle parsing, so that the linker can be
measured on data it was not shaped by. docs/handles.md says what it does and where every number comes from.

How it differs in structure from a per-contact style sampler:

- a person has one *persona root* (design 4.2), built once and reused on each network they are on, as people
  reuse usernames (S1, S4, S5);
- handles are issued against a global register of taken names per network, and a taken name gets an underscore,
  digits or another first-name form (4.6), so common names get noisier handles than rare ones; people outside the
  contact set hold handles too, so collisions happen at a realistic rate;
- confounders a matcher must not lean on are generated on purpose: numbers that look like birth years but are not
  (registration years, 69, 99), previous surnames, people who moved, joke or empty locations, and outsiders (not on
  the register) who share a surname and town, or a first name and birth year, with someone who is.

Input is a register in the data contract's format (docs/data-contract.md section 1, e.g. `joinedup simulate`'s
register/citizens.csv). Output is a set of social contacts in the canonical contact schema (section 2) with only
handle, display name and location filled in, and a truth table with the citizen behind each contact and the
labels the bench breaks the figures down by. Everything is drawn from one `random.Random` seeded by the caller,
so a seed and a register give the same contacts byte for byte; settings are data (handlegen_b.yml).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

SETTINGS_PATH = Path(__file__).with_name("handlegen_b.yml")
SETTINGS = ("default", "older_town", "young_city")
DEV_SEEDS = tuple(range(1, 11))  # design 6.1: may be looked at
HELDOUT_SEEDS = tuple(range(101, 106))  # design 6.1: never used for tuning or error analysis before the final report

# the canonical contact event (docs/data-contract.md section 2); a social contact fills only a few of them
CONTACT_COLUMNS = (
    "contact_id", "channel", "platform", "source_system", "source_file", "source_row", "direction", "service",
    "occurred_at", "first_response_at", "resolved_at", "outcome", "wait_seconds", "handle_seconds", "case_ref",
    "given_name", "family_name", "full_name", "date_of_birth", "postcode", "address_line", "email", "phone",
    "handle", "display_name", "location", "message_text", "reference_id",
)
TRUTH_COLUMNS = (
    "contact_id", "citizen_id", "person_key", "person_kind", "anchor_citizen", "platform", "age_band",
    "root_family", "digit_kind", "digit_class", "decorations", "transforms", "case", "collided", "display_form",
    "location_form", "location_moved",
)
TEXT_SEGMENTS = frozenset({"given", "family", "word", "email"})  # segments that carry letters a person chose
_ALNUM = re.compile(r"[^a-z0-9]")
_RUNS = re.compile(r"[a-z]+|[0-9]+")


# ---- settings ---------------------------------------------------------------------------------------------------
def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Overlay `over` on `base` key by key (nested mappings merge; anything else is replaced)."""
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else copy.deepcopy(v)
    return out


def load_settings(setting: str = "default", path: str | Path = SETTINGS_PATH) -> dict[str, Any]:
    """The default settings, or a held-out setting (an overlay merged over the default).

    Settings are config, not code, so the design's sensitivity sweeps (6.4) and the held-out settings (6.1) need no
    code change: an overlay names only the entries it changes."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if setting == "default":
        return copy.deepcopy(doc["default"])
    overlays = doc.get("overlays") or {}
    if setting not in overlays:
        raise ValueError(f"unknown handlegen-B setting {setting!r}: one of default, {', '.join(overlays)}")
    return _merge(doc["default"], overlays[setting])


def settings_sha256(settings: Mapping[str, Any]) -> str:
    """The freeze hash: sha256 of the settings' canonical JSON (sorted keys), so comments and layout of the YAML
    do not count but every value does (design 6.1: the config is frozen and hashed before the matcher runs on it)."""
    text = json.dumps(settings, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- drawing ----------------------------------------------------------------------------------------------------
def pick(rng: random.Random, table: Mapping[str, float], factors: Mapping[str, float] | None = None) -> str:
    """One key of a weight table (weights need not sum to 1; `factors` multiply single entries, e.g. age-adj).
    Keys are taken in the table's order, so the same seed gives the same draw."""
    keys = list(table)
    weights = [float(table[k]) * (factors or {}).get(k, 1.0) for k in keys]
    return rng.choices(keys, weights)[0]


def age_band(age: int, cfg: Mapping[str, Any]) -> str:
    """The band whose lower bound is the highest one at or below `age`."""
    band = next(iter(cfg["age_bands"]))
    for name, lower in cfg["age_bands"].items():
        if age >= lower:
            band = name
    return band


def age_factor(cfg: Mapping[str, Any], key: str, age: int) -> float:
    """Design 4.1 "age-adj": leet and xX wrappers x3 under 25 and x0.2 over 55, titles x3 over 60, and so on."""
    f = 1.0
    for rule in cfg["age_adjust"].get(key, ()):
        if rule.get("min_age", -1) <= age <= rule.get("max_age", 10**6):
            f *= rule["factor"]
    return f


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < min(1.0, max(0.0, p))


# ---- people -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Person:
    """Someone who may hold social accounts: a register citizen, an outsider, or background (holds handles only).

    kind: register | hard_negative | namesake_year | ordinary | background. anchor: the register citizen an
    outsider was made to resemble (hard negatives and namesakes), for the bench's false-positive analysis."""

    key: str
    citizen_id: str | None
    kind: str
    given: str
    family: str
    middle: str | None
    sex: str
    dob: date
    age: int
    band: str
    town: str
    postcode: str | None
    house_no: str | None
    email_local: str | None
    elsewhere: bool = False
    anchor: str | None = None

    @property
    def district(self) -> str | None:
        return self.postcode.split()[0].upper() if self.postcode and " " in self.postcode else None

    @property
    def area(self) -> str | None:
        d = self.district
        m = re.match(r"[A-Z]+", d) if d else None
        return m.group(0) if m else None


def _clean(name: str) -> str:
    """A name as a handle token: lower case, letters and digits only (O'Brien -> obrien)."""
    return _ALNUM.sub("", name.lower())


def _age(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


@dataclass(frozen=True)
class Pools:
    """What the register holds, as the pools outsiders and background people are drawn from, so that names, ages
    and areas alone do not reveal who is on the register (design 4.1)."""

    given_by_sex: dict[str, tuple[str, ...]]
    surnames: tuple[str, ...]
    dobs: tuple[date, ...]
    homes: tuple[tuple[str, str | None, str | None], ...]  # (town, postcode, house number)
    towns: tuple[str, ...]
    homes_by_town: dict[str, tuple[tuple[str, str | None, str | None], ...]]
    emails: tuple[tuple[str, str, str, date], ...]  # (local part, given, family, dob) of register e-mails
    email_share: float


def infer_sex(given: str, cfg: Mapping[str, Any], rng: random.Random) -> str:
    """f or m from the settings' name lists (the register holds no sex); a unisex name is a coin flip. Only titles
    and role names depend on it."""
    g = _clean(given)
    if g in cfg["unisex_names"]:
        return "f" if rng.random() < 0.5 else "m"
    return "f" if g in cfg["female_names"] else "m"


def register_people(register: pd.DataFrame, cfg: Mapping[str, Any], rng: random.Random) -> list[Person]:
    """Register rows -> people, in citizen_id order. Rows without a given name, family name or a readable date of
    birth are left out: a handle cannot be composed without them [gen]."""
    on = date.fromisoformat(cfg["reference_date"])
    reg = register.sort_values("citizen_id", kind="stable")
    rows = []
    for r in reg.itertuples(index=False):
        given, family, dob_s = getattr(r, "given_name", None), getattr(r, "family_name", None), getattr(
            r, "date_of_birth", None)
        if not (isinstance(given, str) and given.strip() and isinstance(family, str) and family.strip()):
            continue
        try:
            dob = date.fromisoformat(str(dob_s)[:10])
        except ValueError:
            continue
        email = getattr(r, "email", None)
        local = email.split("@")[0].lower() if isinstance(email, str) and "@" in email else None
        addr = getattr(r, "address_line", None)
        house = re.match(r"\s*(\d+)", addr) if isinstance(addr, str) else None
        town = getattr(r, "town", None)
        pc = getattr(r, "postcode", None)
        rows.append((str(r.citizen_id), given.strip(), family.strip(), dob, town if isinstance(town, str) else "",
                     pc if isinstance(pc, str) and pc.strip() else None, house.group(1) if house else None, local))
    givens = [g for _, g, *_ in rows]
    people = []
    for cid, given, family, dob, town, pc, house, local in rows:
        sex = infer_sex(given, cfg, rng)
        middle = _middle_name(rng, cfg, givens, given)
        age = _age(dob, on)
        people.append(Person(cid, cid, "register", given, family, middle, sex, dob, age, age_band(age, cfg), town, pc,
                             house, local))
    return people


def _middle_name(rng: random.Random, cfg: Mapping[str, Any], givens: Sequence[str], given: str) -> str | None:
    """The register holds no middle names, so one is drawn from its given names [gen] (design 4.3 uses them)."""
    if not givens or not _chance(rng, cfg["has_middle_name"]):
        return None
    m = rng.choice(givens)
    return m if m != given else None


def make_pools(people: Sequence[Person]) -> Pools:
    by_sex: dict[str, list[str]] = {"f": [], "m": []}
    for p in people:
        by_sex[p.sex].append(p.given)
    emails = tuple((p.email_local, p.given, p.family, p.dob) for p in people if p.email_local)
    by_town: dict[str, list[tuple[str, str | None, str | None]]] = {}
    for p in people:
        by_town.setdefault(p.town, []).append((p.town, p.postcode, p.house_no))
    return Pools(
        given_by_sex={k: tuple(v) for k, v in by_sex.items()},
        surnames=tuple(p.family for p in people),
        dobs=tuple(p.dob for p in people),
        homes=tuple((p.town, p.postcode, p.house_no) for p in people),
        towns=tuple(sorted({p.town for p in people if p.town})),
        homes_by_town={k: tuple(v) for k, v in by_town.items()},
        emails=emails,
        email_share=len(emails) / max(len(people), 1),
    )


def transfer_email(local: str, src_given: str, src_family: str, src_dob: date, given: str, family: str,
                   dob: date) -> str:
    """Someone else's e-mail pattern with this person's name and year in it ('j.smith71' -> 'p.holroyd64'), so an
    outsider's e-mail local part looks like a register member's without being anyone's (outsiders need e-mails, or
    root family R1 would mark register members). A local part without the source's names is kept as it is."""
    sg, sf, g, f = _clean(src_given), _clean(src_family), _clean(given), _clean(family)
    out = local
    if len(sf) >= 2 and sf in out:
        out = out.replace(sf, "\x01")
        if sg:  # an initial of the source's given name just before the surname: jsmith, j.smith
            out = re.sub(f"(^|[^a-z]){re.escape(sg[0])}(\\.?)(?=\x01)", lambda m: f"{m.group(1)}\x03{m.group(2)}", out)
    if len(sg) >= 3 and sg in out:
        out = out.replace(sg, "\x02")
    out = out.replace("\x01", f).replace("\x02", g).replace("\x03", g[:1])
    years = {str(src_dob.year): str(dob.year), f"{src_dob.year % 100:02d}": f"{dob.year % 100:02d}"}
    return re.sub(r"[0-9]+", lambda m: years.get(m.group(0), m.group(0)), out)


def make_outsider(rng: random.Random, n: int, kind: str, cfg: Mapping[str, Any], register: Sequence[Person],
                  pools: Pools, dob_cum_weights: Sequence[float]) -> Person:
    """Someone not on the register (design 4.1), drawn from the register's own name, age and area distributions:

    hard_negative: shares the surname and town of a register member (same postcode with p, else same town);
    namesake_year: shares a register member's first name and birth year; ordinary: every attribute drawn on its
    own (and with some probability living outside the area); background: like ordinary, holds handles only."""
    on = date.fromisoformat(cfg["reference_date"])
    pop = cfg["population"]
    anchor = rng.choice(register)
    dob = rng.choices(pools.dobs, cum_weights=dob_cum_weights)[0]
    family = rng.choice(pools.surnames)
    sex = "f" if rng.random() < 0.5 else "m"
    given = rng.choice(pools.given_by_sex[sex] or pools.given_by_sex["f"] or pools.given_by_sex["m"])
    town, pc, house = rng.choice(pools.homes)
    elsewhere = False
    anchor_id = None
    if kind == "hard_negative":
        family, anchor_id = anchor.family, anchor.citizen_id
        while given == anchor.given and len(set(pools.given_by_sex[sex])) > 1:
            given = rng.choice(pools.given_by_sex[sex])
        if _chance(rng, pop["hard_negative_same_postcode"]):
            town, pc, house = anchor.town, anchor.postcode, anchor.house_no
        else:
            town, pc, house = rng.choice(pools.homes_by_town[anchor.town])
    elif kind == "namesake_year":
        given, sex, anchor_id = anchor.given, anchor.sex, anchor.citizen_id
        dob = date(anchor.dob.year, rng.randint(1, 12), rng.randint(1, 28))
        while family == anchor.family and len(set(pools.surnames)) > 1:
            family = rng.choice(pools.surnames)
    elif _chance(rng, pop["ordinary_lives_elsewhere"]):
        places = cfg["places"]["elsewhere"]
        town = pick(rng, {k: v["weight"] for k, v in places.items()})
        pc, house, elsewhere = None, None, True
    share = cfg.get("outsider_email_share")
    share = pools.email_share if share is None else share
    local = None
    if pools.emails and _chance(rng, share):
        src = rng.choice(pools.emails)
        local = transfer_email(src[0], src[1], src[2], src[3], given, family, dob)
    middle = _middle_name(rng, cfg, pools.given_by_sex[sex], given)
    age = _age(dob, on)
    prefix = "G" if kind == "background" else "O"
    return Person(f"{prefix}{n:06d}", None, kind, given, family, middle, sex, dob, age, age_band(age, cfg), town, pc,
                  house, local, elsewhere, anchor_id)


# ---- nicknames --------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _nicknamer() -> Any:
    # S25: the PyPI package's names.csv, read from the installed wheel (offline)
    from nicknames import NickNamer

    return NickNamer()


def nickname_table(given: str, cfg: Mapping[str, Any]) -> dict[str, float]:
    """Short forms of a given name with a commonness weight (design 4.3: not uniform, since the package holds
    archaic and US forms): the package's forms that are not formal names of this one, weighted by whether they share
    the name's first two letters, minus the exclusions, overridden by hand-set weights, plus the UK supplement."""
    nk = cfg["nicknames"]
    g = _clean(given)
    formal = _nicknamer().canonicals_of(g)  # the package lists pairs both ways: Billy's "nickname" William is formal
    out: dict[str, float] = {}
    for form in sorted(_nicknamer().nicknames_of(g)):
        f = _clean(form)
        if not f or f == g or f in formal or f in nk["exclude"].get(g, ()):
            continue
        out[f] = nk["default_weight_prefix"] if f[:2] == g[:2] else nk["default_weight_other"]
    out.update({k: float(v) for k, v in nk["weights"].get(g, {}).items()})
    out.update({k: float(v) for k, v in nk["uk_supplement"].get(g, {}).items()})
    return {k: v for k, v in out.items() if v > 0 and k != g}


# ---- 4.2-4.5: the persona root -----------------------------------------------------------------------------------
@dataclass
class Root:
    """A person's username root as segments [kind, text]: given, family, word, email (text a person chose), digits,
    sep (a separator the network may not allow), affix (the, real, mr, uk...), raw (kept as is: xX, _)."""

    family: str
    segs: list[list[str]]
    digit_kind: str = "none"
    decorations: list[str] = field(default_factory=list)
    transforms: list[str] = field(default_factory=list)
    case: str = "lower"
    first_form: str | None = None

    def letters(self) -> int:
        return sum(len(t) for k, t in self.segs if k in TEXT_SEGMENTS or k == "affix")


def first_name_token(p: Person, form: str, rng: random.Random, cfg: Mapping[str, Any]) -> str | None:
    """The first-name token in one of design 4.3's forms (None for no token, or a form the person lacks)."""
    g = _clean(p.given)
    if form == "full":
        return g
    if form == "nickname":
        table = nickname_table(p.given, cfg)
        return pick(rng, table) if table else g
    if form == "middle":
        if not p.middle:
            return None
        table = nickname_table(p.middle, cfg)
        return pick(rng, table) if table and rng.random() < 0.3 else _clean(p.middle)
    if form == "initial":
        return g[:1]
    return None


def surname_token(p: Person, form: str, rng: random.Random, cfg: Mapping[str, Any], pools: Pools) -> str | None:
    f = _clean(p.family)
    if form == "full":
        return f
    if form == "initial":
        return f[:1]
    if form == "pet":
        base = f if len(f) <= 6 else f[:4]
        suffix = pick(rng, cfg["pet_suffix"])
        if suffix == "y" and base.endswith("y"):
            suffix = "s"
        return base + suffix
    if form == "previous":
        other = rng.choice(pools.surnames)
        return _clean(other) if _clean(other) != f else f
    return None


def _name_segments(p: Person, rng: random.Random, cfg: Mapping[str, Any], pools: Pools) -> tuple[list[list[str]], str]:
    """R2: first-name form + surname form + order + separator (design 4.3). A root of fewer than
    `min_name_letters` letters redraws its surname form (an initial alone is not a name root) [gen]."""
    first_form = pick(rng, cfg["first_name_form"])
    first = first_name_token(p, first_form, rng, cfg)
    if first is None:
        first_form = "none" if first_form == "none" else "full"
        first = None if first_form == "none" else _clean(p.given)
    for _ in range(20):
        sur = surname_token(p, pick(rng, cfg["surname_form"]), rng, cfg, pools)
        if len(first or "") + len(sur or "") >= cfg["min_name_letters"] and (first or sur):
            break
    else:
        sur = _clean(p.family)
    tokens = [["given", first]] if first else []
    if sur:
        tokens.append(["family", sur])
    if len(tokens) == 2 and pick(rng, cfg["order"]) == "surname_first":
        tokens.reverse()
    return _join(tokens, rng, cfg), first_form


def _join(tokens: list[list[str]], rng: random.Random, cfg: Mapping[str, Any]) -> list[list[str]]:
    if len(tokens) < 2:
        return tokens
    sep = pick(rng, cfg["separator"])
    out = [tokens[0]]
    for t in tokens[1:]:
        if sep:
            out.append(["sep", sep])
        out.append(t)
    return out


def _email_segments(p: Person) -> list[list[str]]:
    """R1: the e-mail local part, split at its separators and, inside a run of letters, at the person's own given
    and family names (so CamelCase has boundaries, as a person typing it would capitalise them)."""
    names = sorted({n for n in (_clean(p.given), _clean(p.family)) if len(n) >= 3}, key=len, reverse=True)

    def split_letters(run: str) -> list[str]:
        for n in names:
            i = run.find(n)
            if i >= 0:
                return [*split_letters(run[:i]), n, *split_letters(run[i + len(n):])] if run != n else [n]
        return [run] if run else []

    segs: list[list[str]] = []
    for part in re.split(r"([._\-+])", p.email_local or ""):
        if part in {".", "_", "-"}:
            segs.append(["sep", part])
        elif part == "+":
            segs.append(["sep", ""])
        else:
            for run in _RUNS.findall(part.lower()):
                if run.isdigit():
                    segs.append(["digits", run])
                else:
                    segs.extend(["email", t] for t in split_letters(run))
    return segs


def _r3_segments(p: Person, rng: random.Random, cfg: Mapping[str, Any]) -> list[list[str]]:
    g, f = _clean(p.given), _clean(p.family)
    mi = _clean(p.middle)[:1] if p.middle else ""
    t = pick(rng, cfg["r3_template"])
    if t == "fi_surname":
        return [["given", g[:1]], ["family", f]]
    if t == "fi_mi_si":
        return [["given", g[:1] + mi], ["family", f[:1]]]
    if t == "fi_fragment":
        return [["given", g[:1]], ["family", f[: rng.randint(3, 4)]]]
    return [["given", g[:1]], ["family", f[:1]]]


def _team(p: Person, rng: random.Random, cfg: Mapping[str, Any]) -> str:
    teams = cfg["places"]["teams"]
    area = p.area or cfg["places"]["elsewhere"].get(p.town, {}).get("area")
    local = teams.get(area or "", [])
    if local and _chance(rng, cfg["team_local"]):
        return rng.choice(local)
    return rng.choice([t for ts in teams.values() for t in ts])


def _place_word(p: Person, rng: random.Random, cfg: Mapping[str, Any], kind: str) -> str:
    """A town, county or team word for a handle (design 4.5 place words; R4's place/team words)."""
    if kind == "team":
        return _team(p, rng, cfg)
    if kind == "county":
        county = _county(p, cfg)
        words = cfg["places"]["county_abbrev"].get(county or "", [])
        if words:
            return rng.choice(words)
    return _clean(p.town) or "uk"


def _r4_segments(p: Person, rng: random.Random, cfg: Mapping[str, Any], pools: Pools) -> tuple[list[list[str]], str]:
    r4 = cfg["r4"]
    first_form = None
    if pick(rng, r4["name_token"]) == "given":
        first_form = pick(rng, {k: cfg["first_name_form"][k] for k in ("full", "nickname")})
        name = ["given", first_name_token(p, first_form, rng, cfg) or _clean(p.given)]
    else:
        name = ["family", surname_token(p, "pet" if rng.random() < 0.4 else "full", rng, cfg, pools) or _clean(p.family)]
    kind = pick(rng, r4["word"])
    if kind == "interest":
        word = pick(rng, cfg["places"]["interest_words"])
    else:
        word = _place_word(p, rng, cfg, "team" if kind == "team" else pick(rng, {"town": 0.7, "county": 0.3}))
    tokens = [name, ["word", word]]
    if not _chance(rng, r4["name_first"]):
        tokens.reverse()
    return _join(tokens, rng, cfg), first_form or "none"


def _r5_segments(p: Person, rng: random.Random, cfg: Mapping[str, Any]) -> list[list[str]]:
    """R5: no name at all (hobby, pet, word; gamer style for the young; S13, S4)."""
    w = cfg["words"]
    if _chance(rng, cfg["r5"]["gamer_by_age"].get(p.band, 0.0)):
        adj = rng.choice(w["gamer_negative"] if _chance(rng, w["gamer_negative_share"]) else w["gamer_positive"])
        noun = rng.choice(w["gamer_nouns"])
        tokens = [["word", adj], ["word", noun]] if rng.random() < 0.7 else [["word", noun]]
        return _join(tokens, rng, cfg)
    t = pick(rng, cfg["r5"]["template"])
    if t == "adjective_noun":
        return _join([["word", rng.choice(w["adjectives"])], ["word", rng.choice(w["nouns"])]], rng, cfg)
    if t == "hobby":
        hobby, role = rng.choice(w["hobbies"]), rng.choice(w["hobby_roles"])
        if role in {"er", "ing"}:
            return [["word", hobby.rstrip("e") + role]]
        return _join([["word", hobby], ["word", role]], rng, cfg)
    if t == "pet":
        return [["word", rng.choice(w["pets"])], ["word", rng.choice(w["pet_roles"])]]
    return [["word", rng.choice(w["adjectives"] + w["nouns"] + w["hobbies"])]]


def number_for(p: Person, kind: str, rng: random.Random, cfg: Mapping[str, Any]) -> str:
    """A digit run of one of design 4.4's kinds. Only birth_year_* and day_month use the person's real data."""
    d = cfg["digits"]
    if kind == "birth_year_2":
        return f"{p.dob.year % 100:02d}"
    if kind == "birth_year_4":
        return str(p.dob.year)
    if kind == "registration_year":
        if pick(rng, d["registration_or_round"]) == "round":
            year = int(pick(rng, d["round_years"]))
        else:
            year = rng.randint(*d["registration_years"])
        return f"{year % 100:02d}" if _chance(rng, d["registration_two_digit"]) else str(year)
    if kind == "day_month":
        form = pick(rng, d["day_month_form"])
        dd, mm = f"{p.dob.day:02d}", f"{p.dob.month:02d}"
        return {"ddmm": dd + mm, "mmdd": mm + dd}.get(form, str(p.dob.day))
    if kind == "special":
        return pick(rng, d["special_numbers"])
    if kind == "squad_house":
        if pick(rng, d["squad_or_house"]) == "house" and p.house_no:
            return p.house_no
        return str(rng.randint(1, 23))
    if kind == "random_long":
        return str(rng.randint(100, 9999))
    return str(rng.randint(1, 99))


def digit_class(kind: str, value: str, cfg: Mapping[str, Any]) -> str:
    """Design 6.2's digit classes: true year / misleading year / other / none."""
    if kind in {"birth_year_2", "birth_year_4", "email_year"}:
        return "true_year"
    if kind == "registration_year" or (kind == "special" and value in cfg["digits"]["special_year_like"]):
        return "misleading_year"
    return "none" if kind == "none" else "other"


def _add_number(root: Root, p: Person, rng: random.Random, cfg: Mapping[str, Any], min_len: int) -> None:
    """Design 4.4: whether there is a number (forced when the root is shorter than a handle may be), its kind and
    its position. An e-mail root that already has digits keeps them and gets no more [gen]."""
    existing = [t for k, t in root.segs if k == "digits"]
    if existing:
        yy, yyyy = f"{p.dob.year % 100:02d}", str(p.dob.year)
        root.digit_kind = "email_year" if any(t in {yy, yyyy} for t in existing) else "email_digits"
        return
    if not (_chance(rng, cfg["digits"]["p_digits"]) or root.letters() < min_len):
        return
    kind = pick(rng, cfg["digits"]["kind"])
    value = number_for(p, kind, rng, cfg)
    root.digit_kind = kind
    pos = pick(rng, cfg["digits"]["position"])
    text_idx = [i for i, (k, _) in enumerate(root.segs) if k in TEXT_SEGMENTS]
    if pos == "prefix":
        root.segs.insert(0, ["digits", value])
    elif pos == "middle" and len(text_idx) >= 2:
        root.segs.insert(text_idx[0] + 1, ["digits", value])
    else:
        root.segs.append(["digits", value])


def _title(p: Person, rng: random.Random, cfg: Mapping[str, Any]) -> str:
    return pick(rng, cfg["titles"][p.sex][p.band])


def _county(p: Person, cfg: Mapping[str, Any]) -> str | None:
    area = p.area or cfg["places"]["elsewhere"].get(p.town, {}).get("area")
    return cfg["places"]["areas"].get(area or "", {}).get("county")


def _decorate(root: Root, p: Person, rng: random.Random, cfg: Mapping[str, Any]) -> None:
    """Design 4.5: independent draws, at most `max_decorations` kept (chosen at random when more fire)."""
    probs = dict(cfg["decorations"])
    fired = [d for d, pr in probs.items() if _chance(rng, pr * age_factor(cfg, d, p.age))]
    if len(fired) > cfg["max_decorations"]:
        keep = set(rng.sample(fired, cfg["max_decorations"]))
        fired = [d for d in fired if d in keep]
    pre: list[list[str]] = []
    post: list[list[str]] = []
    wrap = None
    for d in fired:
        if d == "trailing_underscore":
            continue  # applied last, after any suffix
        if d == "the":
            pre.append(["affix", "the"])
        elif d == "real":
            pre.append(["affix", pick(rng, cfg["real_words"])])
        elif d == "official":
            (pre if pick(rng, cfg["affix_position"]) == "prefix" else post).append(["affix", "official"])
        elif d == "title":
            pre.append(["affix", _title(p, rng, cfg)])
        elif d == "uk_x":
            w = pick(rng, cfg["uk_x_words"])
            post.extend([["sep", "_"], ["affix", w[1:]]] if w.startswith("_") else [["affix", w]])
        elif d == "place_word":
            word = _place_word(p, rng, cfg, pick(rng, cfg["place_word_kind"]))
            (pre if pick(rng, cfg["affix_position"]) == "prefix" else post).append(["affix", word])
        elif d == "xx_wrapper":
            wrap = pick(rng, cfg["xx_form"])
    root.segs = pre + root.segs + post
    if "trailing_underscore" in fired:
        root.segs.append(["raw", pick(rng, cfg["trailing_underscores"])])
    if wrap == "xX":
        root.segs = [["raw", "xX"], *root.segs, ["raw", "Xx"]]
    elif wrap == "x":
        root.segs = [["raw", "x"], *root.segs, ["raw", "x"]]
    root.decorations = fired


def _text_segs(root: Root, min_len: int = 1) -> list[list[str]]:
    return [s for s in root.segs if s[0] in TEXT_SEGMENTS and len(s[1]) >= min_len]


def _transform(root: Root, p: Person, rng: random.Random, cfg: Mapping[str, Any]) -> None:
    """Design 4.5 character transforms on the letters a person chose (never on digits or affixes)."""
    t = cfg["transforms"]
    done = []
    if _chance(rng, t["leet"] * age_factor(cfg, "leet", p.age)):
        spots = [(s, i) for s in _text_segs(root) for i, c in enumerate(s[1]) if c in cfg["leet_map"]]
        for s, i in rng.sample(spots, min(len(spots), rng.randint(1, 2))):
            s[1] = s[1][:i] + cfg["leet_map"][s[1][i]] + s[1][i + 1:]
        done.append("leet")
    if _chance(rng, t["doubled_letter"]) and _text_segs(root, 2):
        s = rng.choice(_text_segs(root, 2))
        i = rng.randrange(len(s[1]))
        s[1] = s[1][: i + 1] + s[1][i:]
        done.append("doubled_letter")
    if _chance(rng, t["dropped_vowels"]) and _text_segs(root, 4):
        s = max(_text_segs(root, 4), key=lambda x: len(x[1]))
        s[1] = _drop_vowels(s[1])
        done.append("dropped_vowels")
    if _chance(rng, t["typo"]) and _text_segs(root, 4):
        s = rng.choice(_text_segs(root, 4))
        i = rng.randrange(1, len(s[1]) - 1)
        s[1] = s[1][:i] + s[1][i + 1] + s[1][i] + s[1][i + 2:] if rng.random() < 0.5 else s[1][:i] + s[1][i + 1:]
        done.append("typo")
    root.transforms = done


def _drop_vowels(text: str) -> str:
    out = text[:1] + "".join(c for c in text[1:] if c not in "aeiou")
    return out if len(out) >= 2 else text


def build_root(p: Person, rng: random.Random, cfg: Mapping[str, Any], pools: Pools) -> Root:
    """The persona root (design 4.2-4.5): family, name tokens, number, decorations, transforms, case. Built once
    per person; each network renders it under its own rules (render_handle)."""
    while True:
        fam = pick(rng, cfg["root_family"])
        if fam != "R1" or p.email_local:
            break  # R1 only with an e-mail: otherwise draw again (design 4.2)
    first_form = None
    if fam == "R1":
        segs = _email_segments(p)
        if not any(k == "email" for k, _ in segs):  # a local part of digits only: no root to reuse
            fam, (segs, first_form) = "R2", _name_segments(p, rng, cfg, pools)
    elif fam == "R2":
        segs, first_form = _name_segments(p, rng, cfg, pools)
    elif fam == "R3":
        segs = _r3_segments(p, rng, cfg)
    elif fam == "R4":
        segs, first_form = _r4_segments(p, rng, cfg, pools)
    else:
        segs = _r5_segments(p, rng, cfg)
    root = Root(fam, segs, first_form=first_form)
    min_len = min(pl["min_len"] for pl in cfg["platforms"].values())
    _add_number(root, p, rng, cfg, min_len)
    _decorate(root, p, rng, cfg)
    _transform(root, p, rng, cfg)
    root.case = pick(rng, cfg["case"])
    return root


# ---- rendering on a network, collisions -----------------------------------------------------------------------------
def _apply_case(text: str, kind: str, case: str, rng: random.Random) -> str:
    if kind in {"raw", "sep", "digits"}:
        return text
    if case == "upper":
        return text.upper()
    if case == "camel":
        return text[:1].upper() + text[1:]
    if case == "mixed":
        return "".join(c.upper() if rng.random() < 0.5 else c for c in text)
    return text


def _shorten(segs: list[list[str]], excess: int, rng: random.Random, cfg: Mapping[str, Any]) -> None:
    """Design 4.5: a handle over the network's cap is cut, abbreviated to an initial or loses its vowels."""
    for _ in range(6):
        if excess <= 0:
            return
        texty = [s for s in segs if s[0] in TEXT_SEGMENTS and len(s[1]) > 1]
        if not texty:
            return
        how = pick(rng, cfg["too_long"])
        given = [s for s in texty if s[0] == "given"]
        if how == "initial" and given:
            s = given[0]
            cut = len(s[1]) - 1
            s[1] = s[1][:1]
        elif how == "dropped_vowels":
            s = max(texty, key=lambda x: len(x[1]))
            before = len(s[1])
            s[1] = _drop_vowels(s[1])
            cut = before - len(s[1])
        else:
            s = max(texty, key=lambda x: len(x[1]))
            cut = min(excess, len(s[1]) - 2)
            s[1] = s[1][: len(s[1]) - cut]
        excess -= cut


def render_handle(root: Root, platform: str, rng: random.Random, cfg: Mapping[str, Any]) -> str:
    """The root under one network's rules: separators it does not allow replaced or dropped, the length cap applied
    (design 4.5), the person's case, characters outside its alphabet removed."""
    rules = cfg["platforms"][platform]
    sep_map = cfg["x_dot_or_hyphen"] if platform == "x" else cfg["facebook_underscore_or_hyphen"]
    allowed = re.compile(f"[^{rules['allowed']}]")
    bad_seps = {".", "-"} if platform == "x" else {"_", "-"}
    segs = [[k, t] for k, t in root.segs]
    for s in segs:
        if s[0] in {"sep", "raw"} and any(c in bad_seps for c in s[1]):
            repl = pick(rng, sep_map)
            s[1] = "".join(repl if c in bad_seps else c for c in s[1])
        elif s[0] == "raw" and s[1].strip("_") == "" and platform != "x":
            s[1] = ""
    length = sum(len(t) for _, t in segs)
    if length > rules["max_len"]:
        _shorten(segs, length - rules["max_len"], rng, cfg)
    text = "".join(allowed.sub("", _apply_case(t, k, root.case, rng)) for k, t in segs)
    if platform != "x":
        text = re.sub(r"\.{2,}", ".", text).strip(".")
    return text[: rules["max_len"]]


def valid_handle(handle: str, platform: str, cfg: Mapping[str, Any]) -> bool:
    rules = cfg["platforms"][platform]
    return (rules["min_len"] <= len(handle) <= rules["max_len"]
            and re.fullmatch(f"[{rules['allowed']}]+", handle) is not None)


def _fit(handle: str, suffix: str, platform: str, cfg: Mapping[str, Any]) -> str:
    cap = cfg["platforms"][platform]["max_len"]
    base = handle[: cap - len(suffix)]
    if platform != "x":
        base = base.rstrip(".")
    return base + suffix


def issue_handle(root: Root, p: Person, platform: str, taken: set[str], rng: random.Random,
                 cfg: Mapping[str, Any]) -> tuple[str, int]:
    """Render, then resolve "name taken" against the network's issued handles (design 4.6): add an underscore, add
    1-2 random digits, or switch to another first-name form, and retry. Returns the handle and the number of
    retries. Handles are compared case-insensitively (networks do)."""
    handle = render_handle(root, platform, rng, cfg)
    tries = 0
    while handle.lower() in taken or not valid_handle(handle, platform, cfg):
        tries += 1
        if tries > cfg["collision_max_tries"]:
            handle = _fit(handle, str(rng.randint(1000, 9999)), platform, cfg)
            if handle.lower() not in taken and valid_handle(handle, platform, cfg):
                break
            continue
        how = pick(rng, cfg["collision"])
        given = [s for s in root.segs if s[0] == "given"]
        if how == "underscore" and platform == "x" and len(handle) >= cfg["platforms"]["x"]["min_len"]:
            handle = _fit(handle, "_", platform, cfg)
        elif how == "other_first_form" and given:
            forms = [f for f in ("full", "nickname", "middle", "initial") if f != root.first_form]
            form = pick(rng, {f: cfg["first_name_form"][f] for f in forms})
            token = first_name_token(p, form, rng, cfg)
            if token and token != given[0][1]:
                given[0][1], root.first_form = token, form
            handle = render_handle(root, platform, rng, cfg)
            if handle.lower() in taken:
                handle = _fit(handle, str(rng.randint(1, 99)), platform, cfg)
        else:
            handle = _fit(handle, str(rng.randint(1, 99)), platform, cfg)
    taken.add(handle.lower())
    return handle, tries


# ---- 4.7 display name -------------------------------------------------------------------------------------------------
def _given_or_nick(p: Person, rng: random.Random, cfg: Mapping[str, Any]) -> str:
    if _chance(rng, cfg["display_uses_nickname"]):
        table = nickname_table(p.given, cfg)
        if table:
            return pick(rng, table).capitalize()
    return p.given


def _emoji(rng: random.Random, cfg: Mapping[str, Any]) -> str:
    return "".join(pick(rng, cfg["emoji"]) for _ in range(int(pick(rng, cfg["emoji_count"]))))


def display_name(p: Person, handle: str, rng: random.Random, cfg: Mapping[str, Any]) -> tuple[str, str]:
    """A profile display name and its form (design 4.7). Outsiders use the same table, so the form carries no
    signal about register membership."""
    form = pick(rng, cfg["display_form"], {"title_surname": age_factor(cfg, "display_title_surname", p.age)})
    g = _given_or_nick(p, rng, cfg)
    full = f"{g} {p.family}"
    if form == "full_name":
        return full, form
    if form == "first_only":
        return g, form
    if form == "first_initial":
        return f"{g} {p.family[:1]}{'.' if rng.random() < 0.3 else ''}", form
    if form == "title_surname":
        title = _title(p, rng, cfg).capitalize()
        return (f"{title} {p.family[:1]}" if rng.random() < 0.3 else f"{title} {p.family}"), form
    if form == "name_emoji":
        base = full if rng.random() < 0.5 else g
        e = _emoji(rng, cfg)
        return (f"{e} {base}" if rng.random() < 0.2 else f"{base} {e}"), form
    if form == "odd_case":
        how = pick(rng, cfg["odd_case_form"])
        return {"lower": full.lower(), "upper": (g if rng.random() < 0.4 else full).upper()}.get(
            how, f"{g}  {p.family}"), form
    if form == "handle_copy":
        return handle, form
    if form == "role":
        template = rng.choice(cfg["role_templates"][p.sex][p.band])
        return template.format(g=g, i=p.family[:1], t=p.town or "Leeds", n=rng.randint(1, 4)), form
    return pick(rng, cfg["non_name_phrases"]), form


# ---- 4.8 location -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    town: str
    district: str | None
    area: str | None


def _place_of(p: Person, cfg: Mapping[str, Any]) -> Place:
    if p.elsewhere:
        return Place(p.town, None, cfg["places"]["elsewhere"].get(p.town, {}).get("area"))
    return Place(p.town, p.district, p.area)


def _typo_text(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def location(p: Person, rng: random.Random, cfg: Mapping[str, Any], pools: Pools) -> tuple[str, str, bool]:
    """A free-text profile location, its form and whether it names a previous home (design 4.8): blank, joke or a
    valid place at one of several scales, with the noise people add."""
    top = pick(rng, cfg["location_top"], {"blank": age_factor(cfg, "location_blank", p.age)})
    if top == "blank":
        return "", "blank", False
    if top == "joke":
        return rng.choice(cfg["jokes"]), "joke", False
    places = cfg["places"]
    place = _place_of(p, cfg)
    moved = _chance(rng, cfg["location_moved"])
    if moved:
        if _chance(rng, cfg["moved_to_elsewhere"]) or len(pools.towns) < 2:
            town = pick(rng, {k: v["weight"] for k, v in places["elsewhere"].items() if k != place.town})
            place = Place(town, None, places["elsewhere"][town]["area"])
        else:
            town = rng.choice([t for t in pools.towns if t != place.town])
            home = rng.choice(pools.homes_by_town[town])
            district = home[1].split()[0] if home[1] and " " in home[1] else None
            place = Place(town, district, re.match(r"[A-Z]+", district).group(0) if district else None)
    form = pick(rng, cfg["location_form"])
    text, form = _place_text(place, form, rng, cfg)
    if _chance(rng, cfg["location_spelling_noise"]):
        how = rng.randrange(3)
        text = text.lower() if how == 0 else text.upper() if how == 1 else _typo_text(text, rng)
    if _chance(rng, cfg["location_emoji"]):
        text = f"{text} {pick(rng, cfg['location_emoji_list'])}"
    return text, form, moved


def _place_text(place: Place, form: str, rng: random.Random, cfg: Mapping[str, Any]) -> tuple[str, str]:
    places = cfg["places"]
    info = places["towns"].get(place.town, {})
    parent = info.get("parent")
    county = places["areas"].get(place.area or "", {}).get("county")
    town = place.town or "UK"
    if form == "town_county":
        if county and pick(rng, cfg["town_county_form"]) == "county":
            return f"{town}, {pick(rng, places['counties'][county])}", form
        return f"{town}, {rng.choice(['UK', 'England'])}", form
    if form == "county" and county:
        return pick(rng, places["counties"][county]), form
    if form == "district" and place.district in places["districts"]:
        return rng.choice(places["districts"][place.district]), form
    if form == "postcode" and (place.district or place.area):
        if place.district and pick(rng, cfg["postcode_form"]) == "district":
            return place.district, form
        return place.area or place.district or town, form
    if form == "near":
        target = parent if parent and rng.random() < 0.5 else town
        return pick(rng, cfg["near_words"]).format(t=target), form
    if form == "slang":
        slang = places["towns"].get(parent or town, {}).get("slang") or info.get("slang")
        if slang and rng.random() < 0.7:
            return rng.choice(slang), form
        return pick(rng, cfg["slang_templates"]).format(t=town), form
    if form == "country_region":
        return pick(rng, cfg["country_region"]), form
    if form == "two_places":
        other = pick(rng, {k: v["weight"] for k, v in places["elsewhere"].items() if k != town})
        a, b = (town, other) if rng.random() < 0.7 else (other, town)
        return f"{a}{pick(rng, cfg['two_place_joins'])}{b}", form
    if parent and _chance(rng, cfg["parent_city_share"]):
        return parent, "town"
    return town, "town"


# ---- the whole set ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HandleSet:
    """contacts: canonical contact rows (docs/data-contract.md section 2). truth: per contact, the true citizen
    (None for outsiders) and the labels the bench breaks its figures down by. people: register citizens, outsiders
    and background people drawn (background ones hold handles but make no contact)."""

    contacts: pd.DataFrame
    truth: pd.DataFrame
    settings_sha256: str
    accounts: int


def _weighted_order(rng: random.Random, items: Sequence[Person], weights: Sequence[float]) -> list[Person]:
    """Weighted sampling without replacement as an order (Efraimidis-Spirakis keys u^(1/w))."""
    keyed = [(rng.random() ** (1.0 / w) if w > 0 else -1.0, i) for i, w in enumerate(weights)]
    keyed.sort(reverse=True)
    return [items[i] for k, i in keyed if k >= 0]


def _platforms(rng: random.Random, cfg: Mapping[str, Any]) -> list[str]:
    first = pick(rng, cfg["population"]["platform"])
    if _chance(rng, cfg["population"]["multi_contact"]):
        return [first, next(pl for pl in cfg["population"]["platform"] if pl != first)]
    return [first]


def generate(register: pd.DataFrame, seed: int, n_contacts: int = 5000, setting: str | Mapping[str, Any] = "default",
             ) -> HandleSet:
    """Social contacts linked to `register` (70%) and outsiders (30%), with truth, for one seed and one setting.

    Steps: register citizens on social media (by age) are sampled for contacts (age-weighted in the held-out
    settings); outsiders are made from the register's own distributions (35% hard negatives); background people
    hold handles too; every person gets a persona root, and every account a handle issued in a random order against
    its network's taken names; then each contact gets a display name and a location."""
    cfg = load_settings(setting) if isinstance(setting, str) else dict(setting)
    rng = random.Random(seed)
    pop = cfg["population"]
    people = register_people(register, cfg, rng)
    if not people:
        raise ValueError("the register holds nobody with a given name, family name and date of birth")
    pools = make_pools(people)
    social = [p for p in people if _chance(rng, pop["on_social_by_age"][p.band])]
    weights = [pop["age_weights"][p.band] for p in social]
    n_out = round(n_contacts * pop["outsider_share"])
    n_reg = n_contacts - n_out

    contact_accounts: list[tuple[Person, str]] = []
    chosen: set[str] = set()
    for p in _weighted_order(rng, social, weights):
        if len(contact_accounts) >= n_reg:
            break
        chosen.add(p.key)
        contact_accounts.extend((p, pl) for pl in _platforms(rng, cfg)[: n_reg - len(contact_accounts)])
    on = date.fromisoformat(cfg["reference_date"])
    if len(contact_accounts) < n_reg:
        raise ValueError(f"the register has too few people on social media for {n_reg} register-linked contacts "
                         f"({len(contact_accounts)} possible): use a larger register or fewer contacts")
    age_cum = list(accumulate(pop["age_weights"][age_band(_age(d, on), cfg)] for d in pools.dobs))
    kinds = pop["outsider_kinds"]
    n = 0
    out_accounts: list[tuple[Person, str]] = []
    while len(out_accounts) < n_out:
        n += 1
        o = make_outsider(rng, n, pick(rng, kinds), cfg, people, pools, age_cum)
        out_accounts.extend((o, pl) for pl in _platforms(rng, cfg)[: n_out - len(out_accounts)])
    background: list[tuple[Person, str]] = [(p, pl) for p in social if p.key not in chosen for pl in _platforms(rng, cfg)]
    n_bg = round(pop["background_per_citizen"] * len(social))
    for i in range(n_bg):
        b = make_outsider(rng, i + 1, "background", cfg, people, pools, age_cum)
        background.extend((b, pl) for pl in _platforms(rng, cfg))

    accounts = contact_accounts + out_accounts + background
    roots: dict[str, Root] = {}
    for p, _ in accounts:
        if p.key not in roots:
            roots[p.key] = build_root(p, rng, cfg, pools)
    order = list(range(len(accounts)))
    rng.shuffle(order)  # who gets the clean handle is chance, not whether they write to the council
    taken: dict[str, set[str]] = {pl: set() for pl in cfg["platforms"]}
    handles: dict[int, tuple[str, int]] = {}
    n_contact = len(contact_accounts) + len(out_accounts)
    for i in order:
        p, pl = accounts[i]
        root = roots[p.key]
        h = issue_handle(root, p, pl, taken[pl], rng, cfg)
        if i < n_contact:
            handles[i] = h

    rows, truth = [], []
    shown: dict[str, tuple[tuple[str, str], tuple[str, str, bool]]] = {}
    for i, (p, pl) in enumerate(accounts[:n_contact]):
        handle, tries = handles[i]
        root = roots[p.key]
        first = shown.get(p.key)
        if first and _chance(rng, pop["reuse_display_name"]):
            disp = first[0]
        else:
            disp = display_name(p, handle, rng, cfg)
        if first and _chance(rng, pop["reuse_location"]):
            loc = first[1]
        else:
            loc = location(p, rng, cfg, pools)
        shown.setdefault(p.key, (disp, loc))
        value = next((t for k, t in root.segs if k == "digits"), "")
        kind = root.digit_kind if root.digit_kind != "none" or not re.search(r"\d", handle) else "collision"
        rows.append((pl, handle, disp[0], loc[0]))
        truth.append({
            "citizen_id": p.citizen_id, "person_key": p.key, "person_kind": p.kind, "anchor_citizen": p.anchor,
            "platform": pl, "age_band": p.band, "root_family": root.family, "digit_kind": kind,
            "digit_class": digit_class(kind, value, cfg), "decorations": "|".join(root.decorations),
            "transforms": "|".join(root.transforms), "case": root.case, "collided": tries, "display_form": disp[1],
            "location_form": loc[1], "location_moved": loc[2],
        })
    perm = list(range(len(rows)))
    rng.shuffle(perm)  # contacts arrive interleaved, not register people first
    start = datetime.fromisoformat(pop["contact_start"]).replace(tzinfo=UTC)
    span = pop["contact_days"] * 86400
    times = sorted(start + timedelta(seconds=rng.randrange(span)) for _ in perm)
    contacts, truth_rows = [], []
    for j, i in enumerate(perm):
        cid = f"handlegen-b:{seed}-{j + 1:06d}"
        pl, handle, disp, loc = rows[i]
        contacts.append({
            "contact_id": cid, "channel": "social", "platform": pl, "source_system": "handlegen-b",
            "source_row": j + 1, "direction": "inbound", "service": "general", "occurred_at": times[j],
            "handle": handle, "display_name": disp or None, "location": loc or None,
        })
        truth_rows.append({"contact_id": cid, **truth[i]})
    con = pd.DataFrame(contacts).reindex(columns=list(CONTACT_COLUMNS))
    con["source_row"] = con["source_row"].astype("int64")
    # the lake's TIMESTAMP: UTC without a zone, microseconds (docs/data-contract.md section 2)
    con["occurred_at"] = pd.to_datetime(con["occurred_at"], utc=True).dt.tz_localize(None).astype("datetime64[us]")
    tru = pd.DataFrame(truth_rows).reindex(columns=list(TRUTH_COLUMNS))
    return HandleSet(con, tru, settings_sha256(cfg), len(accounts))


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval (95% by default) for k successes in n trials; (nan, nan) when n = 0."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
