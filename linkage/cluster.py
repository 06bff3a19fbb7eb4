"""Clustering contacts into persons under merge protection.

Union-find over contact nodes (plus persons remembered from earlier runs). A node may carry a
citizen (its confident register match) and citizens it must never join (review rejections).
Edges are applied strongest first; an edge that would put two citizens - or a forbidden
citizen - into one component is refused and audited. Components with a citizen are that
citizen; the rest become pseudonymous persons.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.protection import Name, conflicting_pairs, names_conflict, refusal
from linkage.settings import EdgePolicy, LinkSettings, NameSimilarity, load_settings

PERSON_NAMESPACE = "joinedup-person-v1"
CONTACT_EDGE_KINDS = ("email", "phone", "handle", "case_ref")
# A refused edge: between two contacts, a contact and a remembered person (other_id), or every contact
# carrying one value (key_hash: the identifier's hash, as the identifiers table keeps it).
REJECTED_COLUMNS = ["contact_id", "other_id", "citizen_id", "identifier", "reason", "key_hash",
                    "contacts_sharing_value"]


def pseudonym(anchor_contact_id: str) -> str:
    """Stable, PII-free person id from the cluster's earliest contact id."""
    digest = hashlib.sha256(f"{PERSON_NAMESPACE}:{anchor_contact_id}".encode()).hexdigest()
    return "P" + digest[:15]


def identifier_hash(kind: str, value: str, key: bytes) -> str:
    """Identifiers are remembered as hashes: equality is all a later run needs. Keyed (HMAC-SHA256) and
    separated by kind, so the hashes cannot be reversed by hashing a dictionary of phone numbers or e-mail
    addresses (the UK mobile range is 10^9 values: minutes for an unkeyed hash), nor matched across kinds."""
    return hmac.digest(key, kind.encode() + b"\x1f" + value.encode(), "sha256").hex()[:20]


MAX_NAMES_PER_COMPONENT = 16


class Components:
    """Union-find whose roots carry the component's citizen, forbidden citizens and the names its
    contacts state.

    A component that gains a citizen through an edge must not state a name that conflicts with the
    citizen's register record: Lauren writing from the e-mail she shares with Luke is not Luke,
    whichever of Luke's contacts, from whichever day, the e-mail joins her to.
    """

    def __init__(self, citizens: list[str | None], forbidden: list[frozenset | None],
                 names: list[Name | None] | None = None, citizen_names: dict[str, Name] | None = None,
                 similarity: NameSimilarity | None = None):
        self.parent = list(range(len(citizens)))
        self.citizen = list(citizens)
        self.forbidden = list(forbidden)
        self.names: list[tuple[Name, ...]] = [(x,) if x else () for x in (names or [None] * len(citizens))]
        self.citizen_names = citizen_names or {}
        self.similarity = similarity or load_settings().names

    def _contradicts(self, root: int, citizen: str) -> bool:
        record = self.citizen_names.get(citizen)
        # the surname is not compared: the register may hold a name the person has since changed
        return record is not None and any(names_conflict(x, record, self.similarity, family=False)
                                        for x in self.names[root])

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> str | None:
        """Merge unless protected; returns None on success or the refusal reason."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        ca, cb = self.citizen[ra], self.citizen[rb]
        if ca and cb and ca != cb:
            return "two_citizens"
        merged_citizen = ca or cb
        fa, fb = self.forbidden[ra], self.forbidden[rb]
        merged_forbidden = (fa or frozenset()) | (fb or frozenset()) if (fa or fb) else None
        if merged_citizen and merged_forbidden and merged_citizen in merged_forbidden:
            return "cannot_link"
        if (ca and not cb and self._contradicts(rb, ca)) or (cb and not ca and self._contradicts(ra, cb)):
            return "conflicts_with_citizen"
        self.parent[rb] = ra
        self.citizen[ra] = merged_citizen
        self.forbidden[ra] = merged_forbidden
        if self.names[rb]:
            merged = self.names[ra] + tuple(x for x in self.names[rb] if x not in self.names[ra])
            self.names[ra] = merged[:MAX_NAMES_PER_COMPONENT]
        return None


@dataclass
class ClusterResult:
    person_id: np.ndarray  # per contact
    citizen_id: np.ndarray  # per contact: the component's citizen or None
    via_edge: np.ndarray  # per contact: True when the citizen came through a contact edge
    via: list[dict | None]  # per contact given its citizen through an edge: which edge (see cluster)
    aliases: pd.DataFrame  # old person id -> surviving person id
    rejected: pd.DataFrame  # audit of refused edges (REJECTED_COLUMNS)


def contact_edges(std: pd.DataFrame, settings: LinkSettings | None = None, shared: dict[str, set] | None = None,
                  identifier_key: bytes | None = None) -> tuple[list[tuple[int, int, str]], list[dict]]:
    """Chain edges between contacts sharing an identifier, with merge protection.

    Refused: junk values, values on too many contacts, values the register shows are shared
    by several citizens (a household landline), and links between contacts whose stated names
    or DOBs conflict. Members are chained in name order so same-named contacts sit together.
    """
    from linkage.phones import is_personal

    settings = settings or load_settings()
    identifier_key = identifier_key or secrets.token_bytes(32)  # hashes that only this call compares
    policy: EdgePolicy = settings.edges
    shared = shared or {}
    edges: list[tuple[int, int, str]] = []
    rejected: list[dict] = []
    name_order = (std["family"].fillna("~") + "|" + std["given_canon"].fillna("~")).to_numpy().astype(str)
    for kind in CONTACT_EDGE_KINDS:
        col = std[kind].dropna()
        if kind == "phone":  # landlines are shared by households: dropped unaudited, as they are so many
            col = col[col.map(is_personal).astype(bool)]
        if len(col) < 2:
            continue
        values = col.to_numpy().astype(str)
        order = np.lexsort((name_order[col.index.to_numpy()], values))
        v, pos = values[order], col.index.to_numpy()[order]
        uniq, counts = np.unique(v, return_counts=True)
        bad = np.zeros(len(uniq), dtype=bool)
        for k in np.flatnonzero(counts > 1):
            reason = refusal(kind, uniq[k], shared, policy)
            if reason != "blocklist" and counts[k] > policy.max_contacts_per_identifier:
                reason = "fanout"
            if reason:
                bad[k] = True
                rejected.append({"identifier": kind, "reason": reason, "key_hash": identifier_hash(kind, uniq[k], identifier_key),
                                 "contacts_sharing_value": int(counts[k])})
        group = np.repeat(np.arange(len(uniq)), counts)
        same = np.flatnonzero((v[1:] == v[:-1]) & ~bad[group[1:]]) + 1
        a, b = pos[same - 1], pos[same]
        conflict = conflicting_pairs(std, a, b, settings.names)
        ids = std["id"].to_numpy()
        rejected.extend({"contact_id": ids[x], "other_id": ids[y], "identifier": kind, "reason": "conflicting_names"}
                        for x, y in zip(a[conflict], b[conflict]))
        edges.extend(zip(a[~conflict].tolist(), b[~conflict].tolist(), [kind] * int((~conflict).sum())))
    return edges, rejected


def cluster(std: pd.DataFrame, matched_citizen: np.ndarray, cannot_link: dict[str, frozenset],
            occurred_at: pd.Series, previous: pd.DataFrame | None = None,
            id_index: pd.DataFrame | None = None, shared: dict[str, set] | None = None,
            citizen_names: dict[str, Name] | None = None, settings: LinkSettings | None = None,
            identifier_key: bytes | None = None,
            person_forbidden: dict[str, frozenset] | None = None,
            edges: tuple[list[tuple[int, int, str]], list[dict]] | None = None) -> ClusterResult:
    """Assign person ids to the contacts in `std` (standardised, positional index).

    previous: contact_id, person_id, citizen_id from earlier runs.
    id_index: kind, key_hash, person_id, citizen_id from earlier runs, hashed with `identifier_key`.
    citizen_names: citizen id -> (given, given_canon, family, dob) from the register, for the citizens a
        component can get (see Components); None skips that check.
    person_forbidden: remembered person id -> citizens a contact of theirs must never join (review rejections):
        a new contact must not carry a rejected contact's person into that citizen through a remembered
        identifier.
    edges: contact_edges' result for these contacts when it was found elsewhere, in its order (linkage.spark
        finds them over every contact, then clusters each connected component on its own: edges are applied
        in one global order and never join two components, so each component's unions, refusals and
        pseudonym are what the whole run gives it).
    """
    settings = settings or load_settings()
    if identifier_key is None:
        if id_index is not None and len(id_index):
            raise ValueError("remembered identifiers need the key their hashes were made with")
        identifier_key = secrets.token_bytes(32)
    n = len(std)
    prev = previous if previous is not None else pd.DataFrame(columns=["contact_id", "person_id", "citizen_id"])
    idx = id_index if id_index is not None else pd.DataFrame(columns=["kind", "key_hash", "person_id", "citizen_id"])
    # a person's citizen is whichever of its rows names one: a row written while the person was still
    # pseudonymous keeps a null citizen after the person proved a citizen and was renamed
    persons = (pd.concat([prev[["person_id", "citizen_id"]], idx[["person_id", "citizen_id"]]])
               .groupby("person_id", sort=False, dropna=True)["citizen_id"].first().reset_index())
    person_node = {p: n + i for i, p in enumerate(persons["person_id"])}
    citizens = [c if isinstance(c, str) else None for c in matched_citizen]
    citizens += [c if isinstance(c, str) else None for c in persons["citizen_id"]]
    person_forbidden = person_forbidden or {}
    forb = [cannot_link.get(cid) for cid in std["id"]] + [person_forbidden.get(p) for p in persons["person_id"]]
    stated = [x if any(isinstance(v, str) for v in x) else None
              for x in zip(std["given"], std["given_canon"], std["family"], std["dob"])] + [None] * len(persons)
    comp = Components(citizens, forb, stated, citizen_names, settings.names)
    rejected: list[dict] = []

    ids = std["id"].tolist() + persons["person_id"].tolist()  # node -> contact id, or remembered person id

    # The contacts of each component that has no citizen yet: when an edge gives it one, each of them records
    # that edge as the reason it is the citizen (the identifier, the contact of theirs that carries it, and the
    # contact or remembered person on the citizen's side). Lists merge smaller into larger.
    waiting: dict[int, list[int]] = {i: [i] for i in range(n) if citizens[i] is None}
    via: list[dict | None] = [None] * n

    def apply(a: int, b: int, kind: str) -> None:
        ra, rb = comp.find(a), comp.find(b)
        ca, cb = comp.citizen[ra], comp.citizen[rb]
        reason = comp.union(a, b)
        if reason:
            rejected.append({"contact_id": ids[a], "other_id": ids[b], "citizen_id": cb or ca, "identifier": kind,
                             "reason": reason})
            return
        if ra == rb:
            return
        if not ca and not cb:
            small, large = sorted((waiting.pop(ra, []), waiting.pop(rb, [])), key=len)
            large.extend(small)
            if large:
                waiting[comp.find(a)] = large
        elif not (ca and cb):
            near, far = (a, b) if cb else (b, a)  # near: the side that had no citizen
            edge = {"identifier": kind, "through": ids[near], "joined": ids[far]}
            for i in waiting.pop(rb if cb is None else ra, []):
                via[i] = edge

    # 1. contacts sharing an identifier in this run
    edges, rej = edges if edges is not None else contact_edges(std, settings, shared, identifier_key)
    rejected.extend(rej)
    for a, b, kind in edges:
        apply(a, b, kind)
    # 2. identifiers remembered from earlier runs, under the same protection as step 1: a landline, a junk
    #    value or a value the register holds for several citizens joins nobody, however it was remembered
    if len(idx):
        for kind in CONTACT_EDGE_KINDS:
            col = std[kind].dropna()
            if col.empty:
                continue
            hashes = pd.Series([identifier_hash(kind, v, identifier_key) for v in col], index=col.index)
            known = idx[idx["kind"] == kind].drop_duplicates("key_hash").set_index("key_hash")["person_id"]
            hit = hashes.map(known).dropna()
            for pos, pid in hit.items():
                reason = refusal(kind, col[pos], shared or {}, settings.edges)
                if not reason:
                    apply(int(pos), person_node[pid], f"remembered_{kind}")
                elif reason != "landline":  # landlines go unaudited, as in step 1: they are so many
                    rejected.append({"contact_id": ids[pos], "other_id": pid, "identifier": f"remembered_{kind}",
                                     "reason": reason, "key_hash": hashes[pos]})
    # 3. the same contact seen in an earlier run keeps its person (last, so a new register match
    #    or review decision can still move it)
    if len(prev):
        prev_map = prev.drop_duplicates("contact_id").set_index("contact_id")["person_id"]
        for pos, pid in std["id"].map(prev_map).dropna().items():
            apply(int(pos), person_node[pid], "previous_run")

    roots = np.fromiter((comp.find(i) for i in range(n)), dtype=np.int64, count=n)
    root_citizen = np.array([comp.citizen[r] for r in roots], dtype=object)
    # pseudonyms: reuse a remembered person of the component, else derive from the earliest contact
    root_person: dict[int, str] = {}
    aliases = []
    person_ids = persons["person_id"].tolist()
    for pid in sorted(person_ids):
        r = comp.find(person_node[pid])
        if comp.citizen[r]:
            if pid != comp.citizen[r]:
                aliases.append({"old_person_id": pid, "person_id": comp.citizen[r]})
        elif r in root_person:
            aliases.append({"old_person_id": pid, "person_id": root_person[r]})
        else:
            root_person[r] = pid
    order = pd.DataFrame({"root": roots, "t": occurred_at.astype(str).where(occurred_at.notna(), "").to_numpy(),
                          "id": std["id"].to_numpy()}).sort_values(["t", "id"])
    first = order.drop_duplicates("root")
    for r, cid in zip(first["root"], first["id"]):
        if r not in root_person:
            root_person[r] = pseudonym(cid)
    person = np.array([root_citizen[i] or root_person[roots[i]] for i in range(n)], dtype=object)
    via_edge = np.array([v is not None for v in via], dtype=bool)  # exactly the contacts whose citizen came by an edge
    return ClusterResult(person, root_citizen, via_edge, via,
                         pd.DataFrame(aliases, columns=["old_person_id", "person_id"]),
                         pd.DataFrame(rejected, columns=REJECTED_COLUMNS))
