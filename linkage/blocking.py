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

from linkage.valuecodes import str_unique


def _cat(*cols: pd.Series) -> pd.Series:
    """'a|b' keys, null when any part is null."""
    out = cols[0].astype(object)
    mask = out.notna()
    for c in cols[1:]:
        mask &= c.notna()
        out = out.astype(str) + "|" + c.astype(str)
    return out.where(mask, None)


def _initial(s: pd.Series) -> pd.Series:
    return str_unique(s, lambda x: x.str[:1]).where(s.notna(), None)


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


@dataclass(frozen=True)
class KeyIndex:
    """One rule's register side sorted by hashed key, joined by binary search.

    Built once per register: a pandas merge (or recordlinkage's Index, which merges) per batch factorised the
    register's million keys again for every rule and batch, most of a batch's time at 1M citizens. Keys are
    compared by their 64-bit hash, as the forename rules always were.
    """

    keys: np.ndarray  # uint64 key hashes, sorted
    rows: np.ndarray  # register positions, aligned with keys

    @classmethod
    def of(cls, hashes: np.ndarray, rows: np.ndarray) -> KeyIndex:
        order = np.argsort(hashes, kind="stable")
        small = rows.astype(np.int32) if len(rows) and rows.max() < 2**31 else rows.astype(np.int64)
        return cls(np.asarray(hashes)[order], small[order])

    @classmethod
    def of_keys(cls, keys: pd.Series) -> KeyIndex:
        """From a key column indexed by register position (nulls are no key)."""
        k = keys.dropna()
        return cls.of(_hash(k.to_numpy()), k.index.to_numpy(np.int64))

    def join(self, hashes: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(left position, register position) for every left key equal to a register key."""
        if len(hashes) == 0 or len(self.keys) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        lo = np.searchsorted(self.keys, hashes, "left")
        n = np.searchsorted(self.keys, hashes, "right") - lo
        total = int(n.sum())
        start = np.cumsum(n) - n
        take = np.repeat(lo - start, n) + np.arange(total)
        return np.repeat(np.asarray(pos, np.int64), n), self.rows[take].astype(np.int64)

    def join_keys(self, keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """join() for a key column indexed by left position (nulls are no key)."""
        k = keys.dropna()
        return self.join(_hash(k.to_numpy()), k.index.to_numpy(np.int64))


@dataclass(frozen=True)
class RegisterIndex:
    """Every rule's register side, ready to join a batch of contacts against (PreparedRegister.index)."""

    single: dict[str, KeyIndex]  # RULES, and h_family_year, from register_keys
    multi: dict[str, KeyIndex]  # MULTI_RULES, from register_multi_keys
    handles: KeyIndex  # each verified handle without its network, from known_handles

    @classmethod
    def build(cls, reg: pd.DataFrame, reg_keys: pd.DataFrame, multi: dict[str, pd.DataFrame]) -> RegisterIndex:

        rkeys = reg_keys.reset_index(drop=True)
        single = {name: KeyIndex.of_keys(rkeys[name]) for name in [r.name for r in RULES] + ["h_family_year"]}
        return cls(single, {r: KeyIndex.of(f["k"].to_numpy(), f["p"].to_numpy(np.int64)) for r, f in multi.items()},
                   handle_index(reg))

    def tables(self) -> dict[str, KeyIndex]:
        """Every register-side table by the name contact_block_keys gives its keys: 'single:<rule>',
        'multi:<rule>' and HANDLES. One namespace for both sides is what lets a join outside this module
        (linkage.spark's, in Spark SQL) find the same pairs as candidate_pairs."""
        return {**{f"single:{k}": v for k, v in self.single.items()},
                **{f"multi:{k}": v for k, v in self.multi.items()}, HANDLES: self.handles}


def handle_index(reg: pd.DataFrame) -> KeyIndex:
    """The register's verified handles without their network ('x:bettyboo52' -> 'bettyboo52'), a row each."""
    from linkage.handles import split_network

    ex = reg["known_handles"].reset_index(drop=True).dropna().str.split("|").explode()
    bare = ex.map(lambda h: split_network(h)[1])
    return KeyIndex.of(_hash(bare.to_numpy()), ex.index.to_numpy(np.int64))


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
    sub = std[["dob", "dob_year", "family", "family_sx"]].iloc[pos].reset_index(drop=True)  # not every column
    v = pd.Series(var, dtype=object)
    year = sub["dob_year"].astype(object).where(sub["dob_year"].notna(), None)
    fam = sub["family"]
    fam3 = str_unique(fam, lambda x: x.str[:3]).where(fam.notna(), None)
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


def forename_pairs(con: pd.DataFrame, multi: dict[str, pd.DataFrame],
                   rules: tuple[str, ...] = tuple(FORENAME_RULES), index: RegisterIndex | None = None
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(contact pos, register pos) per forename rule, for records with a stated forename.

    index: the register's join index (PreparedRegister.index); without it, the rules' keys are indexed here.
    """
    left = _forename_keys(con.reset_index(drop=True), "given", list(rules))
    return [_multi_index(r, multi, index).join(left[r]["k"].to_numpy(), left[r]["p"].to_numpy()) for r in rules]


def _multi_index(rule: str, multi: dict[str, pd.DataFrame] | None, index: RegisterIndex | None) -> KeyIndex:
    if index is not None:
        return index.multi[rule]
    if multi is None:
        raise ValueError(f"rule {rule} needs the register's forename keys (register_multi_keys)")
    return KeyIndex.of(multi[rule]["k"].to_numpy(), multi[rule]["p"].to_numpy(np.int64))


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


def _handle_keys(con: pd.DataFrame, rules: tuple[str, ...]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(register table, key hashes, contact positions) per handle rule, for records with no stated name."""
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
        if k:
            table = f"multi:{rule}" if rule in MULTI_RULES else f"single:{REGISTER_KEYED_HANDLE_RULES[rule]}"
            out.append((table, _hash(k), c))
    return out


def handle_pairs(con: pd.DataFrame, rkeys: pd.DataFrame, rules: tuple[str, ...] = tuple(HANDLE_RULES),
                 multi: dict[str, pd.DataFrame] | None = None, index: RegisterIndex | None = None
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(contact pos, register pos) per handle rule, for records with no stated name.

    multi: the register's forename keys (register_multi_keys), needed by the rules on a forename.
    index: the register's join index (PreparedRegister.index); without it, the rules' keys are indexed here.
    """
    out = []
    for table, h, c in _handle_keys(con, rules):
        kind, rule = table.split(":", 1)
        if kind == "multi":
            right = _multi_index(rule, multi, index)
        else:
            right = index.single[rule] if index is not None else KeyIndex.of_keys(rkeys[rule].reset_index(drop=True))
        out.append(right.join(h, c))
    return out


HANDLES = "handles"  # the register table of verified handles (RegisterIndex.tables)


def contact_block_keys(con: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Every rule's contact side: (register table it joins, uint64 key hashes, contact positions).

    A pair is a candidate when a contact key equals a key of the named register table (RegisterIndex.tables),
    and, for the HANDLES table, the two handles are one account (same_account_mask). candidate_pairs joins
    these here; linkage.spark joins the same keys in Spark SQL.
    """
    con0 = con.reset_index(drop=True)
    ckeys = contact_keys(con0)
    out = []
    for rule in RULES:
        k = ckeys[rule.name].dropna()
        out.append((f"single:{rule.name}", _hash(k.to_numpy()), k.index.to_numpy(np.int64)))
    for rule, f in _forename_keys(con0, "given", FORENAME_RULES).items():
        out.append((f"multi:{rule}", f["k"].to_numpy(), f["p"].to_numpy(np.int64)))
    out.extend(_handle_keys(con0, tuple(HANDLE_RULES)))
    ch = con0["handle"].dropna()
    if not ch.empty:
        from linkage.handles import split_network

        out.append((HANDLES, _hash(ch.map(lambda h: split_network(h)[1]).to_numpy()), ch.index.to_numpy(np.int64)))
    return out


def same_account_mask(con: pd.DataFrame, reg: pd.DataFrame, c: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Of the pairs met through a bare handle (the HANDLES table), those whose handles are one account: 'x:jb52'
    meets a citizen's 'jb52' without a network, not their 'facebook:jb52' (linkage.handles.same_account)."""
    from linkage.handles import same_account

    h, k = con["handle"].to_numpy(), reg["known_handles"].to_numpy()
    return np.array([same_account(h[i], k[j]) for i, j in zip(c, r)], dtype=bool)


def candidate_pairs(con: pd.DataFrame, reg: pd.DataFrame, reg_keys: pd.DataFrame,
                    multi: dict[str, pd.DataFrame], index: RegisterIndex | None = None) -> pd.MultiIndex:
    """Union of all rules' pairs as a (contact row, register row) MultiIndex over positions, sorted.

    multi: the register's forename keys (register_multi_keys). index: the register's join index
    (PreparedRegister.index, built once per register); without it, one is built here.
    """
    index = index if index is not None else RegisterIndex.build(reg, reg_keys, multi)
    tables = index.tables()
    con0 = con.reset_index(drop=True)
    n_reg = len(reg)
    codes: list[np.ndarray] = []
    for table, hashes, pos in contact_block_keys(con0):
        c, r = tables[table].join(hashes, pos)
        if table == HANDLES and len(c):
            keep = same_account_mask(con0, reg, c, r)
            c, r = c[keep], r[keep]
        codes.append(c * n_reg + r)
    allc = np.unique(np.concatenate(codes)) if codes else np.empty(0, np.int64)
    return pd.MultiIndex.from_arrays([allc // n_reg, allc % n_reg], names=["contact", "register"])


def known_handle_pairs(con: pd.DataFrame, reg: pd.DataFrame, index: RegisterIndex | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Contacts whose handle is a citizen's verified handle (the same account: linkage.handles.same_account).

    index: the register's join index (PreparedRegister.index); without it, the verified handles are indexed here.
    """
    from linkage.handles import split_network

    ch = con["handle"].reset_index(drop=True).dropna()
    if ch.empty:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    handles = index.handles if index is not None else handle_index(reg)
    bare = ch.map(lambda h: split_network(h)[1])
    c, r = handles.join(_hash(bare.to_numpy()), ch.index.to_numpy(np.int64))
    if len(c):
        keep = same_account_mask(con, reg, c, r)
        c, r = c[keep], r[keep]
    return c, r
