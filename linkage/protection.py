"""Merge protection, in one place: when shared evidence is not one person.

* Identifier edges (scoring): an identifier agreement (email, phone, reference, verified handle) links a
  contact to a citizen outright unless the value is junk (blocklist), belongs to several citizens in the
  register (a household phone, a shared family e-mail), or the rest of the evidence contradicts it, or the
  pair looks like another member of the household (`other_person`).
* Contact edges and remembered identifiers (clustering): the same refusals (`refusal`), plus stated names
  or dates of birth that conflict (`names_conflict`, tolerant of typos, nicknames and short forms).

Every refusal is kept for audit. The thresholds are settings (linkage.settings.EdgePolicy, NameSimilarity).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from linkage.compare import NAMES
from linkage.handles import account_key, split_network
from linkage.settings import EdgePolicy, NameSimilarity

Name = tuple  # (given, given_canon, family, dob), any of them None: what a record states about its person

IDENTIFIER_COMPARISONS = {"email": 1, "phone": 2, "reference": 2, "known_handle": 1}  # phone 2: mobiles only
IDENTIFIER_COLUMNS = {"email": "email", "phone": "phone", "reference": "ref"}
JUNK_EMAIL_LOCAL = frozenset(
    ["test", "noreply", "no-reply", "donotreply", "none", "na", "n/a", "nil", "null", "unknown", "admin", "info", "enquiries", "contact", "webmaster", "postmaster", "example", "abc", "asdf", "xxx"]
)
JUNK_DOMAINS = frozenset({"example.com", "example.org", "test.com", "none.com", "nowhere.com"})
_REPEATED = re.compile(r"^(\d)\1+$")


def is_junk(kind: str, value: object, policy: EdgePolicy) -> bool:
    """Placeholder and shared values that identify nobody."""
    if not isinstance(value, str) or not value:
        return True
    if value in policy.blocked_values:
        return True
    if kind == "email":
        local, _, domain = value.partition("@")
        return local in JUNK_EMAIL_LOCAL or domain in JUNK_DOMAINS or len(local) < 2
    if kind == "phone":
        digits = value.lstrip("+")
        return len(digits) < 10 or bool(_REPEATED.match(digits[2:])) or digits.endswith("000000")
    if kind in ("reference", "case_ref"):
        return len(value) < 4 or bool(_REPEATED.match(value))
    if kind == "handle":
        return not is_distinctive_handle(value)
    return False


def other_person(levels: np.ndarray) -> np.ndarray:
    """Pairs that look like another member of the same household: a stated forename or DOB that
    clearly differs, with nothing personal (exact DOB, personal reference, mobile) agreeing.
    Data-entry errors in a forename come with a matching DOB or reference; relatives do not."""
    col = {n: levels[:, NAMES.index(n)] for n in ("given_name", "date_of_birth", "reference", "phone")}
    differs = (col["given_name"] == 0) | (col["date_of_birth"] == 0)
    personal = (col["date_of_birth"] >= 3) | (col["reference"] == 2) | (col["phone"] == 2)
    return differs & ~personal


def person_evidence(levels: np.ndarray) -> np.ndarray:
    """Pairs agreeing on something only one person in a household has: a forename, a DOB, a
    mobile, a personal e-mail or reference, a handle. A landline, an address and a surname are
    the household's; on their own they can send a contact to review, never link it."""
    lv = {n: levels[:, NAMES.index(n)] for n in NAMES}
    return ((lv["given_name"] >= 2) | (lv["date_of_birth"] >= 3) | (lv["phone"] == 2) | (lv["email"] == 1)
            | (lv["reference"] == 2) | (lv["known_handle"] == 1) | (lv["handle_name"] >= 2)
            | (lv["email_name"] >= 2))


def is_distinctive_handle(handle: str) -> bool:
    """A network keeps its handles unique, so 'x:jbrown' is one account. A handle whose network
    is not known may be someone else's on another network ('jbrown' on X and on Facebook): short
    all-letter ones are too common to be an identifier on their own; they still count as
    evidence in the score."""
    if split_network(handle)[0]:
        return True
    digits = sum(ch.isdigit() for ch in handle)
    return len(handle) >= 12 or (len(handle) >= 6 and digits >= 2)


def register_fanout(reg: pd.DataFrame) -> dict[str, pd.Series]:
    """Per identifier kind: how many register citizens hold each value."""
    out = {}
    for kind, col in IDENTIFIER_COLUMNS.items():
        out[kind] = reg[col].map(reg[col].value_counts()).fillna(0).to_numpy()
    handles = reg["known_handles"].dropna().str.split("|").explode()
    per_handle = handles.map(handles.value_counts())
    out["known_handle"] = per_handle.groupby(level=0).max().reindex(reg.index).fillna(0).to_numpy()
    return out


def judge_edges(levels: np.ndarray, weights: np.ndarray, reg_rows: np.ndarray, con_rows: np.ndarray,
                con: pd.DataFrame, reg: pd.DataFrame, fanout: dict[str, np.ndarray],
                policy: EdgePolicy) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Per pair: the accepted edge's identifier ('' if none), an accepted mask, and the audit."""
    n = len(levels)
    kind = np.full(n, "", dtype=object)
    accepted = np.zeros(n, dtype=bool)
    audits = []
    other = np.array([name not in IDENTIFIER_COMPARISONS for name in NAMES])
    other_bits = weights[:, other].sum(axis=1)
    # a stated forename or DOB that disagrees means another person using the same identifier:
    # the household e-mail, the partner's phone
    person_differs = other_person(levels)
    for comp, top in IDENTIFIER_COMPARISONS.items():
        hits = np.flatnonzero((levels[:, NAMES.index(comp)] == top) & ~accepted)
        if len(hits) == 0:
            continue
        if comp == "known_handle":
            h, k = con["handle"].to_numpy()[con_rows[hits]], reg["known_handles"].to_numpy()[reg_rows[hits]]
            values, junk_kind = np.array([account_key(x, y) for x, y in zip(h, k)], dtype=object), "handle"
        else:
            values, junk_kind = reg[IDENTIFIER_COLUMNS[comp]].to_numpy()[reg_rows[hits]], comp
        uniq, inv = np.unique(values.astype(str), return_inverse=True)
        junk = np.array([is_junk(junk_kind, v, policy) for v in uniq])[inv]
        fan = fanout[comp][reg_rows[hits]] if comp in fanout else np.ones(len(hits))
        reason = np.full(len(hits), "", dtype=object)
        contra = other_bits[hits] < policy.contradiction_bits
        reason[contra] = "contradiction"
        reason[person_differs[hits]] = "different_person"
        reason[fan > policy.max_citizens_per_identifier] = "fanout"
        reason[junk] = "blocklist"
        ok = reason == ""
        kind[hits[ok]], accepted[hits[ok]] = comp, True
        bad = hits[~ok]
        if len(bad):
            audits.append(pd.DataFrame({
                "contact_id": con["id"].to_numpy()[con_rows[bad]],
                "citizen_id": reg["id"].to_numpy()[reg_rows[bad]],
                "identifier": comp,
                "reason": reason[~ok],
                "citizens_sharing_value": fan[~ok].astype(int),
                "other_evidence_bits": np.round(other_bits[bad], 1),
            }))
    audit = pd.concat(audits, ignore_index=True) if audits else pd.DataFrame(columns=AUDIT_COLUMNS)
    return kind, accepted, audit


AUDIT_COLUMNS = ["contact_id", "citizen_id", "identifier", "reason", "citizens_sharing_value",
                 "other_evidence_bits"]


# ---- names: clustering's test for two people ------------------------------------------------------------

def _forenames_differ(a: str, a_canon: str | None, b: str, b_canon: str | None, names: NameSimilarity) -> bool:
    """Forenames of two people: not one name, nickname, typo or short form of the other."""
    from rapidfuzz.distance import JaroWinkler

    from linkage.names import nickname_equivalent

    if a == b or (a_canon is not None and a_canon == b_canon):
        return False
    if len(a) == 1 or len(b) == 1:
        return a[0] != b[0]  # an initial agrees with any name it starts
    short, full = sorted((a, b), key=len)
    if len(short) >= names.min_short_form and full.startswith(short):
        return False
    return JaroWinkler.normalized_similarity(a, b) < names.forename_similar and not nickname_equivalent(a, b)


def _dobs_differ(a: str, b: str) -> bool:
    """Another year and more than one typo apart: the DOB comparator's 'different'."""
    from rapidfuzz.distance import DamerauLevenshtein

    return a[:4] != b[:4] and DamerauLevenshtein.distance(a, b) > 1


def names_conflict(a: Name, b: Name, names: NameSimilarity, family: bool = True) -> bool:
    """Two records stating a forename, DOB (or, with `family`, a surname) that clearly differ are not one
    person. Tolerant by design: a typo, a nickname or a short form is the same name, since a wrong refusal
    splits a person's journey for good."""
    from rapidfuzz.distance import JaroWinkler

    (ga, ca, fa, da), (gb, cb, fb, db) = a, b
    return bool((family and isinstance(fa, str) and isinstance(fb, str)
                 and JaroWinkler.normalized_similarity(fa, fb) < names.family_similar)
                or (isinstance(ga, str) and isinstance(gb, str) and _forenames_differ(ga, ca, gb, cb, names))
                or (isinstance(da, str) and isinstance(db, str) and _dobs_differ(da, db)))


def conflicting_pairs(std: pd.DataFrame, a: np.ndarray, b: np.ndarray, names: NameSimilarity) -> np.ndarray:
    """names_conflict for each contact pair (a[i], b[i]), the surname part vectorised: contacts sharing
    an identifier are not one person (a household e-mail, a partner's phone)."""
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler

    def col(name):
        v = std[name].to_numpy()
        return v[a], v[b]

    fa, fb = col("family")
    ga, gb = col("given")
    ca, cb = col("given_canon")
    da, db = col("dob")
    out = np.zeros(len(a), dtype=bool)
    both = pd.notna(fa) & pd.notna(fb)
    if both.any():
        jw = process.cpdist(list(fa[both]), list(fb[both]), scorer=JaroWinkler.normalized_similarity, workers=-1)
        out[both] = jw < names.family_similar
    for i in np.flatnonzero(pd.notna(ga) & pd.notna(gb) & (ga != gb) & ~out):
        out[i] = _forenames_differ(ga[i], ca[i], gb[i], cb[i], names)
    for i in np.flatnonzero(pd.notna(da) & pd.notna(db) & (da != db) & ~out):
        out[i] = _dobs_differ(da[i], db[i])
    return out


def refusal(kind: str, value: str, shared: dict[str, set], policy: EdgePolicy) -> str | None:
    """Why `value` cannot identify one person (None when it can): the protections contact edges get."""
    from linkage.phones import is_personal

    if is_junk("reference" if kind == "case_ref" else kind, value, policy):
        return "blocklist"
    if value in shared.get(kind, ()):
        return "shared_in_register"
    if kind == "phone" and not is_personal(value):
        return "landline"
    return None
