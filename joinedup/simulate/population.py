"""The simulated people: who lives where, what the register says about them, and how they present online.

A person is the truth; the register row is what the council's CRM believes, which may be stale (changed email or
address) or absent (visitors, new residents). Keeping both lets later steps be scored against the truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from joinedup.simulate import names as vocab
from joinedup.simulate.settings import Settings


@dataclass(slots=True)
class Person:
    key: str
    citizen_id: str | None
    household: int
    sex: str
    title: str
    given: str
    nick: str  # the form of the given name they use informally
    family: str
    dob: date
    address_line: str
    town: str
    postcode: str
    email: str
    mobile: str
    landline: str
    reference_id: str
    # what the register holds (may differ from the truth above)
    reg_email: str
    reg_phone: str
    reg_address_line: str
    reg_postcode: str
    reg_town: str
    uses_social: bool
    platform: str  # "x", "facebook" or ""
    handle: str
    display_name: str
    location: str
    handle_known: bool
    has_name_in_handle: bool
    expect_minutes: float  # how long they wait for a social reply before giving up on it
    need_rate: float  # needs per year
    digital: float  # 0 = prefers phone, letters and counters; 1 = prefers digital channels
    phone_style: int  # how they write their number: 0 national, 1 spaced, 2 international


@dataclass(slots=True)
class Address:
    line: str
    town: str
    postcode: str


def _postcodes(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        district = rng.choice(vocab.POSTCODE_DISTRICTS)
        pc = (
            f"{district} {rng.randint(1, 9)}"
            f"{rng.choice(vocab.POSTCODE_UNIT_LETTERS)}{rng.choice(vocab.POSTCODE_UNIT_LETTERS)}"
        )
        if pc not in seen:
            seen.add(pc)
            out.append(pc)
    return out


def _addresses(rng: random.Random, households: int) -> list[Address]:
    """About 20 households share a postcode and a street, as on a real residential street."""
    family_names, family_weights = vocab.surnames()
    towns = [t for t, _ in vocab.TOWNS]
    town_w = [w for _, w in vocab.TOWNS]
    n_streets = max(1, households // 20)
    postcodes = _postcodes(rng, n_streets)
    streets = [
        (
            f"{rng.choices(family_names, family_weights)[0]} {rng.choice(vocab.STREET_SUFFIXES)}",
            rng.choices(towns, town_w)[0],
            postcodes[i],
        )
        for i in range(n_streets)
    ]
    counters = [0] * n_streets
    out = []
    for _ in range(households):
        s = rng.randrange(n_streets)
        counters[s] += 1
        street, town, pc = streets[s]
        out.append(Address(f"{counters[s]} {street}", town, pc))
    return out


def _typo(rng: random.Random, text: str) -> str:
    """One keyboard slip: drop, double, swap or replace a letter."""
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    if kind == 2:
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    return text[:i] + rng.choice("aeiounrst") + text[i + 1 :]


def maybe_typo(rng: random.Random, text: str, rate: float) -> str:
    return _typo(rng, text) if text and rng.random() < rate else text


def _email_local(rng: random.Random, given: str, nick: str, family: str, dob: date) -> str:
    g, n, f = given.lower(), nick.lower(), family.lower().replace("'", "").replace(" ", "")
    yy = f"{dob.year % 100:02d}"
    style = rng.randrange(9)
    if style == 0:
        return f"{g}.{f}"
    if style == 1:
        return f"{g}{f}{rng.randint(1, 99)}"
    if style == 2:
        return f"{g[0]}{f}"
    if style == 3:
        return f"{n}{yy}"
    if style == 4:
        return f"{f}.{g}"
    if style == 5:
        return f"{g}_{f}{dob.year}"
    if style == 6:
        return f"{n}.{f}"
    if style == 7:
        return f"{g[0]}.{f}{yy}"
    words = rng.sample(vocab.HANDLE_WORDS, 2)
    return f"{words[0]}{words[1]}{rng.randint(1, 999)}"


def _handle(rng: random.Random, p_nameless: float, nick: str, family: str, dob: date) -> tuple[str, bool]:
    """A social handle in one of the styles people really pick; returns (handle, carries_name)."""
    if rng.random() < p_nameless:
        words = rng.sample(vocab.HANDLE_WORDS, 2)
        base = "".join(w.capitalize() for w in words) if rng.random() < 0.5 else "_".join(words)
        return base + (str(rng.randint(1, 99)) if rng.random() < 0.6 else ""), False
    n, f = nick, family.replace("'", "").replace(" ", "")
    yy, yyyy = f"{dob.year % 100:02d}", str(dob.year)
    style = rng.randrange(10)
    handle = [
        f"{n}{f[:3].capitalize()}{yy}",  # BettyBoo52
        f"{n.lower()}_{f.lower()}",  # betty_boothroyd
        f"{n}{f}{yyyy}",  # BettyBoothroyd1952
        f"{n[0].lower()}{f.lower()}",  # bboothroyd
        f"{f}{n}",  # BoothroydBetty
        f"{n.lower()}{rng.randint(1, 999)}",  # betty417
        f"{n.lower()}.{f.lower()}{yy}",  # betty.boothroyd52
        f"{f.lower()}_{n[0].lower()}",  # boothroyd_b
        f"The{n}{f}",  # TheBettyBoothroyd
        f"{n}{f[0]}{yy}",  # BettyB52
    ][style]
    return handle[:15], True  # X truncates handles to 15 characters


def _unused_email(address: str, used: set[str]) -> str:
    """An address is one mailbox: the one a register still holds for someone was never someone else's
    ('jane.smith@x' taken -> 'jane.smith2@x'). Deterministic, like _unused_handle."""
    local, _, domain = address.partition("@")
    candidate, n = address, 1
    while candidate in used:
        n += 1
        candidate = f"{local}{n}@{domain}"
    used.add(candidate)
    return candidate


def _unused_handle(handle: str, platform: str, used: set[tuple[str, str]]) -> str:
    """A network gives a handle to one account: a taken one gets the number the network suggests
    ('jsmith' -> 'jsmith2'). Deterministic, so the rest of the simulation draws the same numbers."""
    candidate, n = handle, 1
    while (platform, candidate.lower()) in used:
        n += 1
        candidate = f"{handle[:15 - len(str(n))]}{n}"
    used.add((platform, candidate.lower()))
    return candidate


def _display_name(rng: random.Random, given: str, nick: str, family: str, has_name: bool) -> str:
    style = rng.randrange(8)
    if style == 0:
        return f"{given} {family}"
    if style == 1:
        return f"{nick} {family}"
    if style == 2:
        return f"{nick} {family[0]}"
    if style == 3:
        return f"{given[0]}. {family}"
    if style == 4:
        return nick
    if style == 5:
        return f"{nick} {family} 🌻" if has_name else f"{nick} 🌻"
    if style == 6:
        return f"{nick}{family[0]}".upper() if rng.random() < 0.3 else f"{nick} {family}"
    words = rng.sample(vocab.HANDLE_WORDS, 2)
    return " ".join(w.capitalize() for w in words)


def _mobile(rng: random.Random, used: set[str]) -> str:
    while True:
        number = f"07{rng.choice('3456789')}{rng.randint(0, 99999999):08d}"
        if number not in used:
            used.add(number)
            return number


def format_phone(number: str, style: int) -> str:
    """A national number as a person writes it: 07700900123, 07700 900123 or +447700900123."""
    if not number:
        return ""
    if style == 1:
        return f"{number[:5]} {number[5:]}" if number.startswith("07") else f"{number[:4]} {number[4:7]} {number[7:]}"
    if style == 2:
        return "+44" + number[1:]
    return number


def build_population(settings: Settings, citizens: int, seed: int) -> list[Person]:
    """Register citizens first (keys C…), then people the register does not know."""
    rng = random.Random(f"{seed}:population")
    total = int(round(citizens / (1 - settings.share_not_in_register)))
    fore = {sex: (names, list(accumulate(w))) for sex, (names, w) in vocab.forenames().items()}
    family_names, family_w = vocab.surnames()
    family_cw = list(accumulate(family_w))
    domains = [d for d, _ in vocab.EMAIL_DOMAINS]
    domain_cw = list(accumulate(w for _, w in vocab.EMAIL_DOMAINS))
    locations = [loc for loc, _ in vocab.LOCATIONS]
    location_cw = list(accumulate(w for _, w in vocab.LOCATIONS))

    # households of 1-5 people, sized like English households (mean about 2.4)
    sizes: list[int] = []
    placed = 0
    while placed < total:
        sizes.append(rng.choices((1, 2, 3, 4, 5), cum_weights=(0.30, 0.65, 0.80, 0.93, 1.0))[0])
        placed += sizes[-1]
    addresses = _addresses(rng, len(sizes))
    movers = _addresses(rng, max(1, int(len(sizes) * settings.share_changed_address) + 1))

    used_phones: set[str] = set()
    used_emails: set[str] = set()
    used_handles: set[tuple[str, str]] = set()
    people: list[Person] = []
    today = date(2025, 1, 1)
    for h, size in enumerate(sizes):
        addr = addresses[h]
        moved = movers[h % len(movers)] if rng.random() < settings.share_changed_address else None
        landline = (
            f"0113{rng.randint(0, 9999999):07d}" if rng.random() < settings.share_household_landline else ""
        )
        house_family = rng.choices(family_names, cum_weights=family_cw)[0]
        account = f"CTA{rng.randint(10_000_000, 99_999_999)}"
        shared_email = ""
        for m in range(size):
            if len(people) >= total:
                break
            adult = m < 2 or rng.random() < 0.5
            age = rng.randint(18, 92) if adult else rng.randint(16, 25)
            dob = today - timedelta(days=age * 365 + rng.randint(0, 364))
            sex = rng.choice("FM")
            names, weights = fore[sex]
            given = rng.choices(names, cum_weights=weights)[0]
            nicks = vocab.nicknames_of(given)
            nick = rng.choice(nicks) if nicks and rng.random() < 0.5 else given
            family = house_family if rng.random() < 0.85 else rng.choices(family_names, cum_weights=family_cw)[0]
            title = rng.choice(vocab.TITLES[sex])
            local = _email_local(rng, given, nick, family, dob)
            email = f"{local}@{rng.choices(domains, cum_weights=domain_cw)[0]}"
            while email in used_emails:
                email = f"{local}{rng.randint(1, 9999)}@{rng.choices(domains, cum_weights=domain_cw)[0]}"
            used_emails.add(email)
            if m == 1 and rng.random() < settings.share_household_shared_email:
                email = shared_email or email
            shared_email = shared_email or email
            mobile = _mobile(rng, used_phones) if not landline or rng.random() < 0.85 else ""
            reg_email = email
            if rng.random() < settings.share_changed_email:
                old = f"{_email_local(rng, given, nick, family, dob)}@{rng.choices(domains, cum_weights=domain_cw)[0]}"
                reg_email = _unused_email(old, used_emails)
            reg_phone = landline if landline and (not mobile or rng.random() < 0.5) else mobile
            uses_social = rng.random() < settings.share_social_users * (1.4 if age < 50 else 0.6)
            platform = ""
            handle = display = location = ""
            has_name = handle_known = False
            if uses_social:
                platform = "x" if rng.random() < settings.share_social_on_x else "facebook"
                handle, has_name = _handle(rng, settings.share_nameless_handles, nick, family, dob)
                if platform == "facebook":
                    handle = handle.replace("_", ".").lower()
                handle = _unused_handle(handle, platform, used_handles)
                display = _display_name(rng, given, nick, family, has_name)
                location = rng.choices(locations, cum_weights=location_cw)[0].format(town=(moved or addr).town)
                handle_known = rng.random() < settings.share_known_handles
            expect = 15.0 if rng.random() < settings.social_share_expect_15min else (
                settings.social_x_expectation_minutes if platform == "x" else 240.0
            )
            in_register = len(people) < citizens
            current = moved or addr
            people.append(
                Person(
                    key=f"P{len(people) + 1:07d}",
                    citizen_id=f"C{len(people) + 1:07d}" if in_register else None,
                    household=h,
                    sex=sex,
                    title=title,
                    given=given,
                    nick=nick,
                    family=family,
                    dob=dob,
                    address_line=current.line,
                    town=current.town,
                    postcode=current.postcode,
                    email=email,
                    mobile=mobile,
                    landline=landline,
                    reference_id=account if m == 0 else "",
                    reg_email=reg_email if rng.random() < 0.85 else "",
                    reg_phone=reg_phone if rng.random() < 0.9 else "",
                    reg_address_line=addr.line,
                    reg_postcode=addr.postcode,
                    reg_town=addr.town,
                    uses_social=uses_social,
                    platform=platform,
                    handle=handle,
                    display_name=display,
                    location=location,
                    handle_known=handle_known,
                    has_name_in_handle=has_name,
                    expect_minutes=expect,
                    need_rate=rng.gammavariate(settings.needs_rate_shape, 1.0 / settings.needs_rate_shape)
                    * settings.needs_per_person_year,
                    digital=max(0.0, min(1.0, 1.1 - age / 80 + rng.gauss(0, 0.15))),
                    phone_style=rng.randrange(3),
                )
            )
    return people
