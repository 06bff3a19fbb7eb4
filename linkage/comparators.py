"""Vectorised comparison-level functions: aligned left/right arrays in, int8 levels out.

Level -1 means "no evidence" (a value missing on either side) and carries weight 0. Higher
levels are closer agreement. Fuzzy scores come from rapidfuzz's `cpdist`, which scores aligned
pairs in C across both cores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Levenshtein

from linkage.handles import same_account
from linkage.names import nickname_equivalent

WORKERS = -1


def _arr(s) -> np.ndarray:
    return np.asarray(s, dtype=object)


def _present(*arrays: np.ndarray) -> np.ndarray:
    mask = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        mask &= pd.notna(a)
    return mask


def _score(scorer, a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scorer on the pairs under `mask` only; 0 elsewhere."""
    out = np.zeros(len(a), dtype=np.float32)
    if mask.any():
        out[mask] = process.cpdist(list(a[mask]), list(b[mask]), scorer=scorer, workers=WORKERS)
    return out


def _levels(mask: np.ndarray, conditions: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """First matching (level, condition) wins, from the strongest; present-but-none -> 0."""
    out = np.where(mask, 0, -1).astype(np.int8)
    for level, cond in reversed(conditions):
        out[mask & cond] = level
    return out


def exact(a, b) -> np.ndarray:
    a, b = _arr(a), _arr(b)
    m = _present(a, b)
    return _levels(m, [(1, a == b)])


def given_name(a, a_canon, b, b_canon) -> np.ndarray:
    """4 exact, 3 nickname-equivalent, 2 Jaro-Winkler >= 0.9, 1 initial only, 0 different."""
    a, b, ac, bc = _arr(a), _arr(b), _arr(a_canon), _arr(b_canon)
    m = _present(a, b)
    jw = _score(JaroWinkler.normalized_similarity, a, b, m)
    nick = m & (ac == bc)
    if m.any():
        idx = np.flatnonzero(m & ~nick & (jw < 0.9))
        nick[idx] = [nickname_equivalent(x, y) for x, y in zip(a[idx], b[idx])]
    short = np.array([isinstance(x, str) and len(x) == 1 for x in a]) | np.array(
        [isinstance(x, str) and len(x) == 1 for x in b]
    )
    first_a = np.array([x[:1] if isinstance(x, str) else "" for x in a], dtype=object)
    first_b = np.array([x[:1] if isinstance(x, str) else "" for x in b], dtype=object)
    return _levels(m, [(4, a == b), (3, nick), (2, jw >= 0.9), (1, short & (first_a == first_b))])


def family_name(a, b) -> np.ndarray:
    """3 exact, 2 JW >= 0.92, 1 JW >= 0.8 or one a prefix/initial of the other, 0 different."""
    a, b = _arr(a), _arr(b)
    m = _present(a, b)
    jw = _score(JaroWinkler.normalized_similarity, a, b, m)
    prefix = np.zeros(len(a), dtype=bool)
    idx = np.flatnonzero(m & (jw < 0.8))
    prefix[idx] = [x.startswith(y) or y.startswith(x) for x, y in zip(a[idx], b[idx])]
    return _levels(m, [(3, a == b), (2, jw >= 0.92), (1, (jw >= 0.8) | prefix)])


def date_of_birth(a, b) -> np.ndarray:
    """4 exact, 3 one typo, 2 day/month swapped or same year+month, 1 same year, 0 different."""
    a, b = _arr(a), _arr(b)
    m = _present(a, b)
    out = np.where(m, 0, -1).astype(np.int8)
    idx = np.flatnonzero(m)
    if len(idx) == 0:
        return out
    sa, sb = a[idx].astype("U8"), b[idx].astype("U8")
    dist = process.cpdist(list(sa), list(sb), scorer=DamerauLevenshtein.distance, workers=WORKERS)
    va, vb = sa.view("U1").reshape(-1, 8), sb.view("U1").reshape(-1, 8)
    year = (va[:, :4] == vb[:, :4]).all(axis=1)
    ym = year & (va[:, 4:6] == vb[:, 4:6]).all(axis=1)
    swapped = year & (va[:, 4:6] == vb[:, 6:8]).all(axis=1) & (va[:, 6:8] == vb[:, 4:6]).all(axis=1)
    lv = np.zeros(len(idx), dtype=np.int8)
    lv[year] = 1
    lv[swapped | ym] = 2
    lv[dist <= 1] = 3
    lv[sa == sb] = 4
    out[idx] = lv
    return out


def postcode(a, a_sector, a_district, b, b_sector, b_district) -> np.ndarray:
    """3 exact, 2 same sector, 1 same district (or one typo for non-UK codes), 0 different."""
    a, b = _arr(a), _arr(b)
    asec, bsec, adis, bdis = _arr(a_sector), _arr(b_sector), _arr(a_district), _arr(b_district)
    m = _present(a, b)
    typo = np.zeros(len(a), dtype=bool)
    non_uk = m & ~_present(adis) & ~_present(bdis)
    if non_uk.any():
        typo[non_uk] = (
            process.cpdist(list(a[non_uk]), list(b[non_uk]), scorer=Levenshtein.distance, workers=WORKERS) <= 1
        )
    sector = _present(asec, bsec) & (asec == bsec)
    district = _present(adis, bdis) & (adis == bdis)
    return _levels(m, [(3, a == b), (2, sector), (1, district | typo)])


def address(a, b) -> np.ndarray:
    """3 exact, 2 token-set ratio >= 90, 1 >= 70, 0 different."""
    a, b = _arr(a), _arr(b)
    m = _present(a, b)
    r = _score(fuzz.token_set_ratio, a, b, m)
    return _levels(m, [(3, a == b), (2, r >= 90), (1, r >= 70)])


def town(a, b) -> np.ndarray:
    a, b = _arr(a), _arr(b)
    m = _present(a, b)
    jw = _score(JaroWinkler.normalized_similarity, a, b, m)
    return _levels(m, [(2, a == b), (1, jw >= 0.9)])


def location(kind, town, district, b_town, b_district) -> np.ndarray:
    """A profile's location (read by linkage.places) against the register's town and postcode district.

    4 the same town, 3 the same postcode district, 2 in the area without naming another town (the county,
    'nr Leeds', or the city that names the whole area), 1 another town or district of the area, 0 somewhere
    outside the area. -1 when the location names nothing known (a joke, the country): no evidence either way.
    """
    k, t, d, bt, bd = _arr(kind), _arr(town), _arr(district), _arr(b_town), _arr(b_district)
    m = _present(k) & (_present(bt) | _present(bd))
    same_town = _present(t, bt) & (t == bt)
    return _levels(m, [(4, ((k == "town") | (k == "city")) & same_town),
                       (3, (k == "district") & _present(d, bd) & (d == bd)),
                       (2, (k == "area") | (k == "near") | (k == "city")),
                       (1, (k == "town") | (k == "district"))])


def reference(a, b) -> np.ndarray:
    """2 exact, 1 one edit on a code of 5+ characters (a mistyped account number), 0 different."""
    a, b = _arr(a), _arr(b)
    m = _present(a, b)
    d = np.full(len(a), 99, dtype=np.int32)
    if m.any():
        d[m] = process.cpdist(list(a[m]), list(b[m]), scorer=DamerauLevenshtein.distance, workers=WORKERS)
    long_enough = np.array([isinstance(x, str) and len(x) >= 5 for x in a])
    return _levels(m, [(2, a == b), (1, (d <= 1) & long_enough)])


def known_handle(handle, known) -> np.ndarray:
    """1 when the contact's handle is one the citizen verified (on the same network, when both
    say theirs), 0 when they verified others."""
    h, k = _arr(handle), _arr(known)
    m = _present(h, k)
    hit = np.zeros(len(h), dtype=bool)
    idx = np.flatnonzero(m)
    hit[idx] = [same_account(x, y) for x, y in zip(h[idx], k[idx])]
    return _levels(m, [(1, hit)])


def handle_name(skip, forename, canon, surnames, initials, b_given, b_canon, b_family) -> np.ndarray:
    """Name read from a handle or e-mail user-name against the register name.

    6 forename and full surname, 5 forename and surname prefix, 4 initial and surname,
    3 forename and surname initial, 2 forename only (nothing said of the surname), 1 surname
    only (no forename given), 0 disagreement. -1 where `skip` is set: records with a real name,
    whose handle or user-name mostly repeats it, so counting both would double the evidence.
    """
    sk, f, c, s, ini = _arr(skip), _arr(forename), _arr(canon), _arr(surnames), _arr(initials)
    bg, bc, bf = _arr(b_given), _arr(b_canon), _arr(b_family)
    evidence = _present(f) | _present(s) | _present(ini)
    m = evidence & ~sk.astype(bool) & _present(bg, bf)
    lv = np.where(m, 0, -1).astype(np.int8)
    from linkage.handles import is_surname

    for i in np.flatnonzero(m):
        fam, given = bf[i], bg[i]
        g_ok = f[i] is not None and (f[i] == given or c[i] == bc[i] or nickname_equivalent(f[i], given))
        sur = s[i].split("|") if s[i] else []
        inits = ini[i].split("|") if ini[i] else []
        s_full = any(t == fam or _surname_then_word(t, fam) for t in sur)
        s_prefix = s_full or any(len(t) >= 2 and fam.startswith(t) for t in sur)
        s_init = fam[:1] in inits
        # only a token that is someone's surname contradicts; 'happy', 'united', 'gardener' are words
        contradicted = not s_prefix and any(is_surname(t) for t in sur)
        if g_ok and s_full:
            lv[i] = 6
        elif g_ok and s_prefix:
            lv[i] = 5
        elif f[i] is None and given[:1] in inits and s_prefix:
            lv[i] = 4
        elif g_ok and s_init and not contradicted:
            lv[i] = 3
        elif g_ok and not contradicted and not inits:
            lv[i] = 2
        elif f[i] is None and s_prefix and not inits:
            lv[i] = 1
    return lv


def _surname_then_word(token: str, family: str) -> bool:
    """'smithleeds', 'smithy_x' read whole: the surname run into a filler or forename. Not 'hunter' for Hunt or
    'wallace' for Wall: a longer name that happens to start with the surname is another name."""
    from linkage.handles import FILLERS, is_forename

    rest = token[len(family):]
    return len(family) >= 3 and token.startswith(family) and bool(rest) and (rest in FILLERS or is_forename(rest))


def handle_year(has_dob, years, b_year) -> np.ndarray:
    """1 when a birth year read from the handle is the citizen's; only when no real DOB."""
    hd, ys, by = _arr(has_dob), _arr(years), _arr(b_year)
    m = _present(ys, by) & ~hd.astype(bool)
    hit = np.zeros(len(ys), dtype=bool)
    idx = np.flatnonzero(m)
    hit[idx] = [str(int(y)) in x.split("|") for x, y in zip(ys[idx], by[idx])]
    return _levels(m, [(1, hit)])


def swapped_names(a_given, a_family, b_given, b_family) -> np.ndarray:
    """Forename and surname entered the wrong way round (JW >= 0.9 both ways crossed)."""
    ag, af, bg, bf = _arr(a_given), _arr(a_family), _arr(b_given), _arr(b_family)
    m = _present(ag, af, bg, bf)
    s1 = _score(JaroWinkler.normalized_similarity, ag, bf, m)
    s2 = _score(JaroWinkler.normalized_similarity, af, bg, m)
    return m & (s1 >= 0.9) & (s2 >= 0.9)


def phone(a, b) -> np.ndarray:
    """2 same mobile, 1 same landline (households share these), 0 different."""
    from linkage.phones import is_personal

    a, b = _arr(a), _arr(b)
    m = _present(a, b)
    same = m & (a == b)
    mobile = np.zeros(len(a), dtype=bool)
    idx = np.flatnonzero(same)
    mobile[idx] = [is_personal(x) for x in a[idx]]
    return _levels(m, [(2, mobile), (1, same)])
