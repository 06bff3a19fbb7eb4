"""Candidate pairs: contacts against the register, by OR-ed blocking rules.

Each rule is a key built from standardised columns; a pair is a candidate if any rule's keys are
equal. Register keys shared by more than `max_block` citizens are dropped for the fuzzy rules
(a 'john smith' block of 300 proves nothing and costs much) - the other rules still reach those
people when they agree on something rarer. Identifier rules (email, phone, reference) are never
capped; their fan-out is policed in edges.py instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import recordlinkage

MAX_BLOCK = 40


def _cat(*cols: pd.Series) -> pd.Series:
    """'a|b' keys, null when any part is null."""
    out = cols[0].astype(object)
    mask = out.notna()
    for c in cols[1:]:
        mask &= c.notna()
        out = out.astype(str) + "|" + c.astype(str)
    return out.where(mask, None)


def _initial(s: pd.Series) -> pd.Series:
    return s.str[:1].where(s.notna(), None)


@dataclass(frozen=True)
class Rule:
    name: str
    capped: bool


RULES = [
    Rule("email", False), Rule("phone", False), Rule("ref", False),
    Rule("m_email", False), Rule("m_phone", False), Rule("m_ref", False),
    Rule("family_dob", True), Rule("given_dob", True), Rule("given_family", True),
    Rule("swapped_names", True), Rule("dob_postcode", True), Rule("postcode_family", True),
    Rule("postcode_given", True), Rule("sector_house_family", True),
]
# Rules for records whose only name evidence is a handle or e-mail user-name. Their contact
# side is multi-valued (several surname tokens, several candidate birth years).
HANDLE_RULES = ["h_name", "h_name3", "h_name3_year", "h_initial_year", "h_family_year", "h_initial"]


def _person_keys(df: pd.DataFrame) -> pd.DataFrame:
    """Keys built the same way on both sides."""
    fam1 = _initial(df["family"])
    keys = pd.DataFrame(index=df.index)
    keys["email"], keys["phone"], keys["ref"] = df["email"], df["phone"], df["ref"]
    keys["family_dob"] = _cat(df["family_sx"], df["dob"])
    keys["given_dob"] = _cat(df["given_canon"], df["dob"])
    keys["given_family"] = _cat(df["given_canon"], df["family_sx"])
    keys["dob_postcode"] = _cat(df["dob"], df["postcode"])
    keys["postcode_family"] = _cat(df["postcode"], fam1)
    keys["postcode_given"] = _cat(df["postcode"], _initial(df["given"]))
    keys["sector_house_family"] = _cat(df["pc_sector"], df["house_no"], fam1)
    return keys


def register_keys(reg: pd.DataFrame) -> pd.DataFrame:
    """Blocking keys on the register side (rule name -> key column), oversized blocks dropped."""
    fam1 = _initial(reg["family"])
    year = reg["dob_year"].astype(object).where(reg["dob_year"].notna(), None)
    keys = _person_keys(reg)
    # identifiers a contact mentions in its message meet the register's own
    keys["m_email"], keys["m_phone"], keys["m_ref"] = reg["email"], reg["phone"], reg["ref"]
    keys["swapped_names"] = _cat(reg["given"], reg["family"])
    keys["h_name"] = reg["name_key"]
    keys["h_name3"] = reg["name_key3"]
    keys["h_name3_year"] = _cat(reg["name_key3"], year)
    keys["h_initial_year"] = _cat(reg["given_canon"], fam1, year)
    keys["h_family_year"] = _cat(reg["family"], year)
    keys["h_initial"] = _cat(reg["given_canon"], fam1)
    for name in [r.name for r in RULES if r.capped] + HANDLE_RULES:
        k = keys[name]
        sizes = k.map(k.value_counts())
        keys[name] = k.where(sizes <= MAX_BLOCK, None)
    return keys


def contact_keys(con: pd.DataFrame) -> pd.DataFrame:
    """Contact-side keys for the single-valued rules."""
    keys = _person_keys(con)
    keys["m_email"], keys["m_phone"], keys["m_ref"] = con["m_email"], con["m_phone"], con["case_ref"]
    keys["swapped_names"] = _cat(con["family"], con["given"])
    return keys


def _handle_key_lists(row) -> dict[str, list[str]]:
    canon, surnames, initials, years = row
    sur = surnames.split("|") if isinstance(surnames, str) else []
    ini = initials.split("|") if isinstance(initials, str) else []
    yrs = years.split("|") if isinstance(years, str) else []
    firsts = sorted({t[:1] for t in sur} | set(ini))
    out: dict[str, list[str]] = {k: [] for k in HANDLE_RULES}
    if canon:
        out["h_name"] = [f"{canon}|{t}" for t in sur if len(t) >= 3]
        out["h_name3"] = [f"{canon}|{t[:3]}" for t in sur if len(t) >= 3]
        out["h_name3_year"] = [f"{k}|{y}" for k in out["h_name3"] for y in yrs]
        out["h_initial_year"] = [f"{canon}|{f}|{y}" for f in firsts for y in yrs]
        out["h_initial"] = [f"{canon}|{f}" for f in firsts]
    out["h_family_year"] = [f"{t}|{y}" for t in sur if len(t) >= 4 for y in yrs]
    return out


def handle_pairs(con: pd.DataFrame, rkeys: pd.DataFrame, rules: tuple[str, ...] = tuple(HANDLE_RULES)
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(contact pos, register pos) per handle rule, for records with no stated name."""
    no_name = con["given"].isna() & con["family"].isna() & (con["h_canon"].notna() | con["h_surnames"].notna())
    sub = con.loc[no_name, ["h_canon", "h_surnames", "h_initials", "h_years"]]
    if sub.empty:
        return []
    lists = [_handle_key_lists(r) for r in sub.itertuples(index=False, name=None)]
    pos = sub.index.to_numpy()
    out = []
    for rule in rules:
        c = [p for p, d in zip(pos, lists) for _ in d[rule]]
        k = [key for d in lists for key in d[rule]]
        if not k:
            continue
        rk = rkeys[rule].dropna()
        m = pd.DataFrame({"k": k, "c": c}).merge(pd.DataFrame({"k": rk.to_numpy(), "r": rk.index.to_numpy()}), on="k")
        out.append((m["c"].to_numpy(np.int64), m["r"].to_numpy(np.int64)))
    return out


def candidate_pairs(con: pd.DataFrame, reg: pd.DataFrame, reg_keys: pd.DataFrame) -> pd.MultiIndex:
    """Union of all rules' pairs as a (contact row, register row) MultiIndex over positions."""
    con0 = con.reset_index(drop=True)
    ckeys = contact_keys(con0)
    rkeys = reg_keys.reset_index(drop=True)
    n_reg = len(rkeys)
    codes: list[np.ndarray] = []
    for rule in RULES:
        if ckeys[rule.name].isna().all():
            continue
        idx = recordlinkage.Index()
        idx.block(left_on=rule.name, right_on=rule.name)
        pairs = idx.index(ckeys[[rule.name]], rkeys[[rule.name]])
        if len(pairs):
            codes.append(pairs.codes[0].astype(np.int64) * n_reg + pairs.codes[1].astype(np.int64))
    for c, r in handle_pairs(con0, rkeys):
        codes.append(c * n_reg + r)
    c, r = known_handle_pairs(con0, reg.reset_index(drop=True))
    codes.append(c * n_reg + r)
    allc = np.unique(np.concatenate(codes)) if codes else np.empty(0, np.int64)
    return pd.MultiIndex.from_arrays([allc // n_reg, allc % n_reg], names=["contact", "register"])


def known_handle_pairs(con: pd.DataFrame, reg: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Contacts whose handle is a citizen's verified handle."""
    kh = reg["known_handles"].dropna()
    if kh.empty or con["handle"].isna().all():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ex = kh.str.split("|").explode()
    right = pd.DataFrame({"handle": ex.to_numpy(), "r": ex.index.to_numpy()})
    ch = con["handle"].dropna()
    left = pd.DataFrame({"handle": ch.to_numpy(), "c": ch.index.to_numpy()})
    m = left.merge(right, on="handle")
    return m["c"].to_numpy(np.int64), m["r"].to_numpy(np.int64)
