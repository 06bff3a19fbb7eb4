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
    Rule("family_dob", True),
    Rule("swapped_names", True), Rule("dob_postcode", True), Rule("postcode_family", True),
    Rule("postcode_given", True), Rule("sector_house_family", True), Rule("initial_family", True),
]
# Rules on a forename are multi-valued on both sides: a forename stands for itself and for each
# name it is a nickname of ('steve' -> stephen, steven), and two records meet when these sets
# share a name - the nickname comparator's own test. One canonical per name is not enough: the
# canonical of 'steve' is 'steven' and of 'stephen' is 'stephen', so such keys never met.
FORENAME_RULES = ["given_dob", "given_family", "given_family3"]
# Rules for records whose only name evidence is a handle or e-mail user-name. Their contact
# side is multi-valued (several surname tokens, several candidate birth years).
HANDLE_RULES = ["h_name", "h_name3", "h_name3_year", "h_initial_year", "h_family_year", "h_initial",
                "h_initial_family"]
# handle rules keyed on the register's single-valued keys (register_keys), not on a forename
REGISTER_KEYED_HANDLE_RULES = {"h_family_year": "h_family_year", "h_initial_family": "initial_family"}
MULTI_RULES = FORENAME_RULES + [r for r in HANDLE_RULES if r not in REGISTER_KEYED_HANDLE_RULES]


def _person_keys(df: pd.DataFrame) -> pd.DataFrame:
    """Keys built the same way on both sides."""
    fam1 = _initial(df["family"])
    keys = pd.DataFrame(index=df.index)
    keys["email"], keys["phone"], keys["ref"] = df["email"], df["phone"], df["ref"]
    keys["family_dob"] = _cat(df["family_sx"], df["dob"])
    keys["dob_postcode"] = _cat(df["dob"], df["postcode"])
    keys["postcode_family"] = _cat(df["postcode"], fam1)
    keys["postcode_given"] = _cat(df["postcode"], _initial(df["given"]))
    keys["sector_house_family"] = _cat(df["pc_sector"], df["house_no"], fam1)
    # a forename the nickname list does not know ('jos' for joshua) still starts with its initial
    keys["initial_family"] = _cat(_initial(df["given"]), df["family"])
    return keys


def register_keys(reg: pd.DataFrame, max_block: int) -> pd.DataFrame:
    """Single-valued blocking keys on the register side (rule name -> key column), blocks of more than
    `max_block` records dropped. The forename rules' keys are in register_multi_keys."""
    year = reg["dob_year"].astype(object).where(reg["dob_year"].notna(), None)
    keys = _person_keys(reg)
    # identifiers a contact mentions in its message meet the register's own
    keys["m_email"], keys["m_phone"], keys["m_ref"] = reg["email"], reg["phone"], reg["ref"]
    keys["swapped_names"] = _cat(reg["given"], reg["family"])
    keys["h_family_year"] = _cat(reg["family"], year)
    for name in [r.name for r in RULES if r.capped] + ["h_family_year"]:
        k = keys[name]
        sizes = k.map(k.value_counts())
        keys[name] = k.where(sizes <= max_block, None)
    return keys


def contact_keys(con: pd.DataFrame) -> pd.DataFrame:
    """Contact-side keys for the single-valued rules."""
    keys = _person_keys(con)
    keys["m_email"], keys["m_phone"], keys["m_ref"] = con["m_email"], con["m_phone"], con["case_ref"]
    keys["swapped_names"] = _cat(con["family"], con["given"])
    return keys


def _hash(keys) -> np.ndarray:
    arr = np.asarray(keys, dtype=object)
    return pd.util.hash_array(arr) if len(arr) else np.empty(0, np.uint64)


def forename_variants(names: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(row position, variant) for each forename: itself plus every name it is a nickname of."""
    from linkage.names import name_variants

    s = names.reset_index(drop=True).dropna()
    if s.empty:
        return np.empty(0, np.int64), np.empty(0, object)
    codes, uniques = pd.factorize(s)
    per = [sorted(name_variants(u)) for u in uniques]
    lens = np.array([len(v) for v in per], dtype=np.int64)
    flat = np.array([x for v in per for x in v], dtype=object)
    starts = np.r_[0, np.cumsum(lens)[:-1]]
    counts = lens[codes]
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    take = np.repeat(starts[codes], counts) + offset
    return np.repeat(s.index.to_numpy(np.int64), counts), flat[take]


def _forename_keys(std: pd.DataFrame, forename: str, rules: list[str]) -> dict[str, pd.DataFrame]:
    """Per rule: a frame of (k: hashed key, p: row position), one row per forename variant."""
    pos, var = forename_variants(std[forename])
    sub = std.iloc[pos].reset_index(drop=True)
    v = pd.Series(var, dtype=object)
    year = sub["dob_year"].astype(object).where(sub["dob_year"].notna(), None)
    fam = sub["family"]
    fam3 = fam.str[:3].where(fam.notna(), None)
    parts = {
        "given_dob": (sub["dob"],), "given_family": (sub["family_sx"],), "given_family3": (fam3,),
        "h_name": (fam,), "h_name3": (fam3,), "h_name3_year": (fam3, year),
        "h_initial_year": (_initial(fam), year), "h_initial": (_initial(fam),),
    }
    out = {}
    for r in rules:
        k = _cat(v, *parts[r]) if len(v) else pd.Series([], dtype=object)
        ok = k.notna().to_numpy()
        out[r] = pd.DataFrame({"k": _hash(k[ok]), "p": pos[ok]})
    return out


def register_multi_keys(reg: pd.DataFrame, max_block: int) -> dict[str, pd.DataFrame]:
    """Register side of the forename rules, hashed (8 bytes a key), blocks of more than `max_block` dropped."""
    out = {}
    for r, f in _forename_keys(reg.reset_index(drop=True), "given", MULTI_RULES).items():
        f = f.drop_duplicates()
        sizes = f["k"].map(f["k"].value_counts())
        out[r] = f[(sizes <= max_block).to_numpy()].reset_index(drop=True)
    return out


def _join(left: pd.DataFrame, right: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if left.empty or right.empty:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    m = left.rename(columns={"p": "c"}).merge(right.rename(columns={"p": "r"}), on="k")
    return m["c"].to_numpy(np.int64), m["r"].to_numpy(np.int64)


def forename_pairs(con: pd.DataFrame, multi: dict[str, pd.DataFrame],
                   rules: tuple[str, ...] = tuple(FORENAME_RULES)) -> list[tuple[np.ndarray, np.ndarray]]:
    """(contact pos, register pos) per forename rule, for records with a stated forename."""
    left = _forename_keys(con.reset_index(drop=True), "given", list(rules))
    return [_join(left[r], multi[r]) for r in rules]


def _handle_key_lists(row) -> dict[str, list[str]]:
    from linkage.names import name_variants

    forename, surnames, initials, years = row
    sur = surnames.split("|") if isinstance(surnames, str) else []
    ini = initials.split("|") if isinstance(initials, str) else []
    yrs = years.split("|") if isinstance(years, str) else []
    firsts = sorted({t[:1] for t in sur} | set(ini))
    out: dict[str, list[str]] = {k: [] for k in HANDLE_RULES}
    for v in sorted(name_variants(forename)) if isinstance(forename, str) else ():
        out["h_name"] += [f"{v}|{t}" for t in sur if len(t) >= 3]
        out["h_name3"] += [f"{v}|{t[:3]}" for t in sur if len(t) >= 3]
        out["h_name3_year"] += [f"{v}|{t[:3]}|{y}" for t in sur if len(t) >= 3 for y in yrs]
        out["h_initial_year"] += [f"{v}|{f}|{y}" for f in firsts for y in yrs]
        out["h_initial"] += [f"{v}|{f}" for f in firsts]
    out["h_family_year"] = [f"{t}|{y}" for t in sur if len(t) >= 4 for y in yrs]
    # 'jsmith', 'birch.p', 'P. Birch': an initial and a surname, no forename to key on
    if not isinstance(forename, str):
        out["h_initial_family"] = [f"{i}|{t}" for i in ini for t in sur if len(t) >= 3]
    return out


def handle_pairs(con: pd.DataFrame, rkeys: pd.DataFrame, rules: tuple[str, ...] = tuple(HANDLE_RULES),
                 multi: dict[str, pd.DataFrame] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(contact pos, register pos) per handle rule, for records with no stated name.

    multi: the register's forename keys (register_multi_keys), needed by the rules on a forename.
    """
    no_name = con["given"].isna() & con["family"].isna() & (con["h_forename"].notna() | con["h_surnames"].notna())
    sub = con.loc[no_name, ["h_forename", "h_surnames", "h_initials", "h_years"]]
    if sub.empty:
        return []
    lists = [_handle_key_lists(r) for r in sub.itertuples(index=False, name=None)]
    pos = sub.index.to_numpy()
    out = []
    for rule in rules:
        c = np.array([p for p, d in zip(pos, lists) for _ in d[rule]], dtype=np.int64)
        k = [key for d in lists for key in d[rule]]
        if not k:
            continue
        if rule in MULTI_RULES:
            if multi is None:
                raise ValueError(f"rule {rule} needs the register's forename keys (register_multi_keys)")
            out.append(_join(pd.DataFrame({"k": _hash(k), "p": c}), multi[rule]))
            continue
        rk = rkeys[REGISTER_KEYED_HANDLE_RULES[rule]].dropna()
        m = pd.DataFrame({"k": k, "c": c}).merge(pd.DataFrame({"k": rk.to_numpy(), "r": rk.index.to_numpy()}), on="k")
        out.append((m["c"].to_numpy(np.int64), m["r"].to_numpy(np.int64)))
    return out


def candidate_pairs(con: pd.DataFrame, reg: pd.DataFrame, reg_keys: pd.DataFrame,
                    multi: dict[str, pd.DataFrame]) -> pd.MultiIndex:
    """Union of all rules' pairs as a (contact row, register row) MultiIndex over positions.

    multi: the register's forename keys (register_multi_keys).
    """
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
    for c, r in forename_pairs(con0, multi):
        codes.append(c * n_reg + r)
    for c, r in handle_pairs(con0, rkeys, multi=multi):
        codes.append(c * n_reg + r)
    c, r = known_handle_pairs(con0, reg.reset_index(drop=True))
    codes.append(c * n_reg + r)
    allc = np.unique(np.concatenate(codes)) if codes else np.empty(0, np.int64)
    return pd.MultiIndex.from_arrays([allc // n_reg, allc % n_reg], names=["contact", "register"])


def known_handle_pairs(con: pd.DataFrame, reg: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Contacts whose handle is a citizen's verified handle (the same account: linkage.handles.same_account)."""
    from linkage.handles import same_account, split_network

    kh = reg["known_handles"].dropna()
    if kh.empty or con["handle"].isna().all():
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ex = kh.str.split("|").explode()
    right = pd.DataFrame({"bare": ex.map(lambda h: split_network(h)[1]).to_numpy(), "r": ex.index.to_numpy()})
    ch = con["handle"].dropna()
    left = pd.DataFrame({"bare": ch.map(lambda h: split_network(h)[1]).to_numpy(), "c": ch.index.to_numpy()})
    m = left.merge(right, on="bare")
    if len(m):
        h, k = con["handle"].to_numpy(), reg["known_handles"].to_numpy()
        m = m[[same_account(h[c], k[r]) for c, r in zip(m["c"], m["r"])]]
    return m["c"].to_numpy(np.int64), m["r"].to_numpy(np.int64)
