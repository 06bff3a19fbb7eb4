"""Synthetic UK-style register and contacts with truth, for tests and the scale benchmark.

Vectorised with numpy so 1M contacts take seconds. Not a substitute for the simulator: it has
just enough realism to exercise every code path (nicknames, typos, shared household phones,
social handles with and without name evidence, people not in the register).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FORENAMES = ["elizabeth", "margaret", "mary", "susan", "sarah", "jennifer", "patricia", "catherine", "helen", "emma", "jane", "anne", "rebecca", "laura", "rachel", "victoria", "charlotte", "amy", "hannah", "jessica", "sophie", "olivia", "emily", "lucy", "grace", "ruth", "william", "robert", "james", "john", "michael", "david", "richard", "thomas", "christopher", "daniel", "matthew", "andrew", "joseph", "peter", "stephen", "paul", "mark", "anthony", "edward", "benjamin", "samuel", "jonathan", "george", "henry", "alexander", "oliver", "harry", "jack", "charlie", "alfie", "freddie", "arthur", "leo", "noah", "oscar", "muhammad", "aisha", "fatima", "priya", "amir"]
NICKNAMES = {
    "elizabeth": ["betty", "liz", "beth", "lizzie"], "margaret": ["maggie", "peggy", "meg"],
    "william": ["bill", "will", "billy"], "robert": ["bob", "rob", "bobby"], "james": ["jim", "jimmy"],
    "michael": ["mike", "mick"], "david": ["dave", "davy"], "richard": ["rick", "dick"],
    "thomas": ["tom", "tommy"], "christopher": ["chris"], "daniel": ["dan", "danny"],
    "matthew": ["matt"], "andrew": ["andy", "drew"], "joseph": ["joe"], "catherine": ["kate", "cathy"],
    "jennifer": ["jenny", "jen"], "patricia": ["pat", "trish"], "susan": ["sue", "susie"],
    "rebecca": ["becky"], "victoria": ["vicky"], "alexander": ["alex"], "edward": ["ed", "ted"],
    "benjamin": ["ben"], "samuel": ["sam"], "jonathan": ["jon"], "anthony": ["tony"],
}
SURNAMES = ["smith", "jones", "williams", "taylor", "brown", "davies", "evans", "wilson", "thomas", "johnson", "roberts", "robinson", "thompson", "wright", "walker", "white", "edwards", "hughes", "green", "hall", "lewis", "harris", "clarke", "patel", "jackson", "wood", "turner", "martin", "cooper", "hill", "ward", "morris", "moore", "clark", "lee", "king", "baker", "harrison", "morgan", "allen", "james", "scott", "phillips", "watson", "davis", "parker", "price", "bennett", "young", "griffiths", "mitchell", "kelly", "cook", "carter", "richardson", "bailey", "collins", "bell", "shaw", "murphy", "miller", "cox", "richards", "khan", "marshall", "anderson", "simpson", "ellis", "adams", "singh", "begum", "wilkinson", "foster", "chapman", "powell", "webb", "rogers", "gray", "mason", "ali", "hunt", "hussain", "campbell", "matthews", "owen", "palmer", "holmes", "mills", "barnes", "knight", "lloyd", "butler", "russell", "barker", "fisher", "stevens", "jenkins", "murray", "dixon", "harvey", "graham", "pearson", "ahmed", "fletcher", "walsh", "kaur", "gibson", "howard", "andrews", "stewart", "elliott", "reynolds", "saunders", "payne", "fox", "ford", "pearce", "day", "brooks", "west", "lawrence", "cole", "atkinson", "bradley", "spencer", "gill", "dawson", "ball", "burton", "obrien", "watts", "rose", "booth", "perry", "ryan", "grant", "wells", "armstrong", "francis", "rees", "hayes", "hart", "hudson", "newman", "barrett", "webster", "hunter", "gregory", "carr", "lowe", "page", "marsh", "riley", "dunn", "woods", "parsons", "berry", "stone", "reid", "holland", "hawkins", "harding", "porter", "robertson", "newton", "oliver", "reed", "kennedy", "williamson", "bird", "gardner", "shah", "dean", "lane", "cooke", "bates", "henderson", "parry", "burgess", "bishop", "walton", "burns", "nicholson", "shepherd", "ross", "cross", "long", "freeman", "warren", "nicholls", "hamilton", "byrne", "sutton", "mcdonald", "yates", "hodgson", "robson", "curtis", "hopkins", "boothroyd", "oconnor", "kirk", "abbott"]
STREETS = ["high", "station", "church", "park", "victoria", "green", "manor", "kings", "queens", "mill", "school", "north", "south", "london", "albert", "york", "grove", "chapel", "springfield", "richmond", "windsor", "church", "meadow", "oak", "elm", "cedar"]
SUFFIXES = ["street", "road", "lane", "avenue", "close", "drive", "way", "gardens", "terrace"]
TOWNS = [("leeds", "LS"), ("bradford", "BD"), ("wakefield", "WF"), ("halifax", "HX"), ("huddersfield", "HD"),
         ("harrogate", "HG"), ("york", "YO"), ("sheffield", "S")]
DOMAINS = ["gmail.com", "hotmail.co.uk", "yahoo.co.uk", "outlook.com", "btinternet.com", "example.net"]
CHANNELS = ["phone", "email", "webchat", "social", "sms", "letter", "web_form", "face_to_face"]
CHANNEL_P = [0.25, 0.18, 0.10, 0.14, 0.08, 0.05, 0.15, 0.05]


def _zipf_choice(rng, items, n, a=1.1):
    w = 1.0 / np.arange(1, len(items) + 1) ** a
    return np.asarray(items, dtype=object)[rng.choice(len(items), n, p=w / w.sum())]


def _s(arr) -> pd.Series:
    return pd.Series(arr, dtype=object)


def make_register(n: int, seed: int = 0, phone_base: int = 7_700_000_000) -> pd.DataFrame:
    """n citizens; ~4% share a household landline with another citizen."""
    rng = np.random.default_rng(seed)
    given = _zipf_choice(rng, FORENAMES, n, 0.8)
    family = _zipf_choice(rng, SURNAMES, n, 0.9)
    # extra rare surnames keep the register realistic: many people have uncommon names
    rare = rng.random(n) < 0.5
    suffix = rng.integers(0, 4000, n)
    family = np.where(rare, _s(family).str[:4].to_numpy() + _s(suffix).map(_syllables).to_numpy(), family)
    y = rng.integers(1930, 2008, n)
    m = rng.integers(1, 13, n)
    d = rng.integers(1, 29, n)
    dob = _s(y).astype(str) + "-" + _s(m).map("{:02d}".format) + "-" + _s(d).map("{:02d}".format)
    town_i = rng.integers(0, len(TOWNS), n)
    towns = np.array([t for t, _ in TOWNS], dtype=object)[town_i]
    area = np.array([a for _, a in TOWNS], dtype=object)[town_i]
    district = rng.integers(1, 30, n)
    pc = (_s(area) + _s(district).astype(str) + " " + _s(rng.integers(1, 10, n)).astype(str)
          + _s(rng.choice(list("ABDEFGHJLNPQRSTUWXYZ"), n)) + _s(rng.choice(list("ABDEFGHJLNPQRSTUWXYZ"), n)))
    addr = (_s(rng.integers(1, 200, n)).astype(str) + " " + _s(rng.choice(STREETS, n)) + " "
            + _s(rng.choice(SUFFIXES, n)))
    ids = _s(np.arange(n)).map("C{:07d}".format)
    has_email = rng.random(n) < 0.7
    email = _s(given) + _s(rng.choice([".", "_", ""], n)) + _s(family) + _s(rng.integers(1, 999, n)).astype(str) \
        + "@" + _s(rng.choice(DOMAINS, n))
    mobile = _s(rng.permutation(n) + phone_base).map(lambda x: f"0{x}")
    phone = mobile.where(rng.random(n) < 0.8, None)
    shared = rng.random(n) < 0.04  # household landline shared with the previous citizen
    phone = phone.where(~shared, phone.shift(1))
    ref = _s(rng.permutation(n) + 10_000_000).map(lambda x: f"CT{x}").where(rng.random(n) < 0.5, None)
    # each person's own social handle (unique, as platforms make them); 10% verified in the register
    own = _handles(_s(given), _s(family), _s(dob.to_numpy()), rng)
    dup = own.str.lower().duplicated(keep="first")
    own[dup] = own[dup] + "_" + _s(np.flatnonzero(dup.to_numpy()) + seed * 7919).astype(str)
    handles = own.where(rng.random(n) < 0.1, None)
    return pd.DataFrame({
        "citizen_id": ids, "given_name": _s(given).str.title(), "family_name": _s(family).str.title(),
        "date_of_birth": dob, "address_line": addr.str.title(), "town": _s(towns).str.title(),
        "postcode": pc, "email": email.where(has_email, None), "phone": phone, "reference_id": ref,
        "known_handles": handles, "_handle": own,
    })


def _syllables(k: int) -> str:
    sy = ["ton", "ley", "wood", "field", "worth", "by", "ham", "more", "den", "well", "croft", "shaw"]
    return sy[k % 12] + ("" if k < 12 else sy[(k // 12) % 12])


def _typo(s: pd.Series, rng, p: float) -> pd.Series:
    """Swap two adjacent letters in a share of values."""
    hit = (rng.random(len(s)) < p) & s.notna().to_numpy() & (s.str.len().fillna(0).to_numpy() > 3)
    out = s.copy()
    vals = out[hit]
    pos = rng.integers(1, 3, hit.sum())
    out[hit] = [v[:i] + v[i + 1] + v[i] + v[i + 2:] for v, i in zip(vals, pos)]
    return out


def _nick(given: pd.Series, rng, p: float) -> pd.Series:
    low = given.str.lower()
    hit = (rng.random(len(given)) < p) & low.isin(NICKNAMES.keys()).to_numpy()
    out = given.copy()
    out[hit] = [NICKNAMES[g][rng.integers(len(NICKNAMES[g]))].title() for g in low[hit]]
    return out


def _handles(given: pd.Series, family: pd.Series, dob: pd.Series, rng) -> pd.Series:
    """Handle styles: BettyBoo52, betty_boothroyd, bboothroyd87, TheRealBetty, and no-evidence ones."""
    n = len(given)
    g, f = given.str.lower().fillna("x"), family.str.lower().fillna("x")
    yy = dob.str[2:4].fillna("00")
    yyyy = dob.str[:4].fillna("2000")
    style = rng.integers(0, 7, n)
    out = np.empty(n, dtype=object)
    forms = [
        g.str.title() + f.str[:3].str.title() + yy,
        g + "_" + f,
        g.str[:1] + f + yy,
        "TheReal" + g.str.title() + f.str[:1].str.upper(),
        g + "." + f + yyyy,
        g.str.title() + f.str.title(),
        _s(rng.choice(["xXgamerXx", "leedsfan", "coffeeaddict", "sunnyday", "nightowl", "bookworm"], n))
        + _s(rng.integers(1, 9999, n)).astype(str),
    ]
    for k, form in enumerate(forms):
        out[style == k] = form[style == k].to_numpy()
    return _s(out)


def make_contacts(register: pd.DataFrame, n: int, seed: int = 1, p_unregistered: float = 0.12
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n contacts from register citizens (and unregistered people), with channel-shaped fields.

    Returns (contacts, truth) where truth has contact_id, citizen_id (None if unregistered),
    person_key.
    """
    rng = np.random.default_rng(seed)
    n_reg = len(register)
    outsiders = make_register(max(n_reg // 10, 10), seed=seed + 99, phone_base=7_500_000_000)
    outsiders["citizen_id"] = outsiders["citizen_id"].str.replace("C", "X")
    outsiders["known_handles"] = None
    outsiders["_handle"] = "x" + outsiders["_handle"]
    from_reg = rng.random(n) >= p_unregistered
    # people contact several times: draw people with a skewed activity
    who_reg = rng.integers(0, n_reg, n)
    who_out = rng.integers(0, len(outsiders), n)
    base = register.iloc[who_reg].reset_index(drop=True)
    out_rows = outsiders.iloc[who_out].reset_index(drop=True)
    src = base.where(pd.Series(from_reg), out_rows, axis=0)
    channel = rng.choice(CHANNELS, n, p=CHANNEL_P)
    c = pd.DataFrame({"contact_id": _s(np.arange(n)).map("K{:08d}".format), "channel": channel})
    start = np.datetime64("2025-01-01T00:00:00")
    c["occurred_at"] = (start + rng.integers(0, 365 * 24 * 3600, n).astype("timedelta64[s]")).astype(str)
    given = _typo(_nick(src["given_name"], rng, 0.2), rng, 0.03)
    family = _typo(src["family_name"], rng, 0.04)
    keep = {
        "phone": ["given_name", "family_name", "date_of_birth", "postcode", "phone"],
        "email": ["email", "given_name", "family_name"],
        "webchat": ["given_name", "family_name", "email", "postcode"],
        "social": ["handle", "display_name", "location"],
        "sms": ["phone"],
        "letter": ["given_name", "family_name", "address_line", "postcode"],
        "web_form": ["given_name", "family_name", "email", "postcode", "date_of_birth", "address_line"],
        "face_to_face": ["given_name", "family_name", "date_of_birth", "postcode"],
    }
    vals = {
        "given_name": given, "family_name": family, "date_of_birth": src["date_of_birth"],
        "postcode": src["postcode"], "phone": src["phone"], "email": src["email"],
        "address_line": src["address_line"],
    }
    handle = src["_handle"]
    display = (src["given_name"] + " " + src["family_name"].str[:1]).where(rng.random(n) < 0.3, None)
    vals.update({"handle": handle, "display_name": display, "location": src["town"].where(rng.random(n) < 0.5, None)})
    for col, series in vals.items():
        mask = np.array([col in keep[ch] for ch in channel]) & (rng.random(n) < 0.92)
        c[col] = series.where(mask, None).to_numpy()
    truth = pd.DataFrame({"contact_id": c["contact_id"],
                          "citizen_id": src["citizen_id"].where(from_reg, None).to_numpy(),
                          "person_key": src["citizen_id"].to_numpy()})
    return c, truth
