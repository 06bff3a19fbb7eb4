"""Contact context as evidence (issue 19): joining a contact nobody can identify to a journey, never to a citizen.

Some contacts carry nothing that identifies anyone: a withheld-number call, a post from a handle that names
nobody. Their context still says something: an unanswered post about a missed bin at 21:40, then a call from a
known mobile about the missed bin at 08:05. This module weighs that context (the same service, the time between
the two contacts and the channels, what became of the earlier contact, the same postcode district when both carry
one) as Fellegi-Sunter evidence, calibrated on the simulator, and joins the contact to the other contact's person
only when the calibrated probability is high and no second candidate comes close.

It is kept apart from identity evidence on purpose. A context join:
- never gives a citizen: the contact keeps its own pseudonymous person and no citizen in the linkage state, and
  only its published person (the journey it counts in) is the other person's (joinedup.identity.link_step);
- never carries identifiers: nothing remembered from it can join a later contact to anyone;
- is re-decided whenever the contacts around it change, so it follows review decisions and merges.

Who takes part:
- an *orphan* is a contact that identity linkage left alone: decision 'unmatched', no citizen, and the only
  contact of its person (a contact in review waits for a caseworker; one sharing an identifier with another
  contact already has a person);
- an *anchor* is a contact whose person is a citizen or holds two contacts or more.
An orphan is compared with each candidate person: one whose anchor contacts include one about the same service
within `window_hours`; the contact that best explains the orphan stands for the person.

The probability is the posterior over "which candidate, if any", as linkage.model.contact_posterior does for
register candidates: with n candidates, P(k) = (p/n) BF_k / ((1 - p) + (p/n) sum BF), where p is the learned share
of orphans whose person is among their candidates and BF_k the product of m/u over the context features. Two
candidates alike share the probability, so an ambiguous orphan never reaches the threshold; a crowded orphan
(more candidate contacts than `max_candidates`) is not scored at all.

Learned parameters (m, u, p) are data: linkage/context_model.json, written by `calibrate` (bench/context.py
--calibrate). Thresholds and the window are settings (linkage/settings.yml, `context`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler

from linkage.handles import is_forename
from linkage.io import write_private_text
from linkage.model import contact_posterior
from linkage.names import clean_name, nickname_equivalent
from linkage.postcodes import parse_postcode, postcodes_in_text
from linkage.settings import ContextPolicy

PACKAGED_MODEL = Path(__file__).with_name("context_model.json")
MODEL_VERSION = 2
# Every level is read given the orphan's channel (or the direction), because what is usual around a contact depends
# on what it is: after a social post a call is common for anyone, so only m and u *given a social post* say whether
# this call is the poster's. What the orphan alone says (its channel and outcome) only moves the prior, p.
FEATURES = ("gap", "anchor_channel", "anchor_outcome", "district")
P_SHRINK = 10  # a group of orphans' p is shrunk towards the pooled p as if by this many orphans
# |time between the contacts| in hours: upper bin edges; the direction (orphan first or anchor first) is its own
# level, since an unanswered post is followed by a call far more often than it follows one
GAP_EDGES_H = (0.25, 1.0, 3.0, 8.0, 24.0, 72.0, 168.0)
UNHANDLED = frozenset({"missed", "no_response", "abandoned", "failed"})
HANDLED = frozenset({"answered", "responded", "submitted"})
# what a frame given to `context_joins` holds, per contact
# (optional: person_size, the person's contacts in the whole history when the frame holds only a window of it;
# states_name, whether the contact gives a name, which makes it someone the register might know: never an orphan)
# forename, the forename a contact states (a name field or a profile's display name), and citizen_forename, the
# register's forename of the contact's citizen: a candidate whose forename differs from the orphan's is someone else
FRAME_COLUMNS = ["contact_id", "channel", "service", "occurred_at", "outcome", "district", "person_id",
                 "citizen_id", "decision", "states_name", "forename", "citizen_forename"]
NAME_COLUMNS = ("given_name", "family_name", "full_name")
FORENAME_SIMILAR = 0.8  # as linkage/settings.yml's names.forename_similar: a typo is the same name
JOIN_COLUMNS = ["contact_id", "person_id", "anchor_contact_id", "probability", "context"]
MIN_PROB = 1e-4


@dataclass
class ContextModel:
    """What is learned, and only that: per feature, m and u by level, and p, the share of orphans whose own person
    is among their candidates. Levels never seen in calibration weigh nothing."""

    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    p_candidate: dict[str, float]  # per orphan group (orphan_group), and "*" for all orphans
    # the features are not independent (a call soon after a post is also a post-to-phone switch), so summed bits
    # overstate the evidence; calibration scales them by this factor (fitted on the simulation's truth)
    temperature: float = 1.0
    trained_on: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"version": MODEL_VERSION, "p_candidate": self.p_candidate,
                           "temperature": self.temperature, "trained_on": self.trained_on,
                           "features": {f: {"m": self.m[f], "u": self.u[f]} for f in FEATURES}}, indent=1,
                          sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ContextModel:
        doc = json.loads(text)
        feats = doc["features"]
        return cls(m={f: feats[f]["m"] for f in FEATURES}, u={f: feats[f]["u"] for f in FEATURES},
                   p_candidate={k: float(v) for k, v in doc["p_candidate"].items()}, temperature=float(doc.get("temperature", 1.0)),
                   trained_on=doc.get("trained_on", {}))

    def save(self, path: str | Path) -> None:
        write_private_text(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path | None = None) -> ContextModel:
        return cls.from_json(Path(path or PACKAGED_MODEL).read_text())

    def p_of(self, group: str) -> float:
        """The prior share of orphans of this group (orphan_group) whose person is among their candidates."""
        return self.p_candidate.get(group, self.p_candidate["*"])

    def weight(self, feature: str, level: str) -> float:
        """log2(m/u) of a level, in bits; 0 for a level calibration never saw."""
        m, u = self.m[feature].get(level), self.u[feature].get(level)
        if m is None or u is None:
            return 0.0
        return math.log2(max(m, MIN_PROB) / max(u, MIN_PROB))


# ---- the contacts ------------------------------------------------------------------------------------------
def district_of(postcode: object, text: object) -> str | None:
    """The postcode district a contact states: its postcode field, else the first postcode in its message."""
    parsed = parse_postcode(postcode)
    if parsed and parsed[1]:
        return parsed[1]
    if isinstance(text, str):
        found = postcodes_in_text(text)
        if found:
            return parse_postcode(found[0])[1]
    return None


def stated_forename(given: object = None, full: object = None, display: object = None) -> str | None:
    """The forename a contact states: the first word of its given name, else of its full name, else of its
    profile's display name when that word is a known forename ('Sandy 🌻' -> 'sandy'; 'Watcher Fan' -> None).
    A name field is a name whatever the word; a display name often is not."""
    for text, must_be_known in ((given, False), (full, False), (display, True)):
        cleaned = clean_name(text)
        if cleaned:
            tok = cleaned.split(" ")[0]
            if len(tok) >= 2 and (not must_be_known or is_forename(tok)):
                return tok
    return None


def forenames_differ(a: object, b: object) -> bool:
    """Two stated forenames that cannot be one person's: not equal, not a nickname or short form of the other,
    not a typo of it. Unknown on either side differs from nothing."""
    if not (isinstance(a, str) and isinstance(b, str)):
        return False
    return not (a == b or a.startswith(b) or b.startswith(a) or nickname_equivalent(a, b)
                or JaroWinkler.normalized_similarity(a, b) >= FORENAME_SIMILAR)


def _per_distinct(fn, *cols: pd.Series) -> list:
    """fn over each row's values, computed once per distinct combination (a year has millions of rows and few
    distinct postcodes and names)."""
    keys = list(zip(*(c.to_numpy() for c in cols)))
    cache = {k: fn(*k) for k in set(keys)}
    return [cache[k] for k in keys]


def context_frame(contacts: pd.DataFrame, links: pd.DataFrame,
                  register: pd.DataFrame | None = None) -> pd.DataFrame:
    """FRAME_COLUMNS from landed contacts (contact_id, channel, service, occurred_at, outcome, and postcode /
    message_text / names when they have them), their links (contact_id, person_id, citizen_id, decision) and the
    register (citizen_id, given_name) for the forename of each linked contact's citizen."""
    c = contacts.reset_index(drop=True)
    col = (lambda n: c[n] if n in c else pd.Series(None, index=c.index, dtype=object))  # noqa: E731
    out = pd.DataFrame({
        "contact_id": c["contact_id"].astype(str), "channel": col("channel"), "service": col("service"),
        "occurred_at": pd.to_datetime(col("occurred_at"), utc=True),
        "outcome": col("outcome"),
        "district": _per_distinct(district_of, col("postcode"), col("message_text")),
        "states_name": np.logical_or.reduce([col(n).fillna("").astype(str).str.strip().ne("").to_numpy()
                                             for n in NAME_COLUMNS]),
        "forename": _per_distinct(stated_forename, col("given_name"), col("full_name"), col("display_name")),
    })
    lk = links[["contact_id", "person_id", "citizen_id", "decision"]].drop_duplicates("contact_id")
    out = out.merge(lk, on="contact_id", how="left")
    names = {} if register is None else dict(zip(register["citizen_id"], register["given_name"]))
    out["citizen_forename"] = [stated_forename(names.get(c)) if isinstance(c, str) else None
                               for c in out["citizen_id"]]
    return out[FRAME_COLUMNS]


def without_context(explanation: object) -> object:
    """A link's explanation with its context part removed (the identity evidence alone)."""
    if not isinstance(explanation, str) or '"context"' not in explanation:
        return explanation
    doc = json.loads(explanation)
    doc.pop("context", None)
    return json.dumps(doc, separators=(",", ":"))


def roles(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(orphan, anchor) masks: see the module's docstring."""
    size = (frame["person_size"] if "person_size" in frame else frame["person_id"].map(
        frame["person_id"].value_counts())).fillna(0).to_numpy()
    citizen = frame["citizen_id"].notna().to_numpy()
    named = frame["states_name"].fillna(False).to_numpy(dtype=bool) if "states_name" in frame else False
    orphan = (frame["decision"].to_numpy() == "unmatched") & ~citizen & (size == 1) & ~named & \
        frame["service"].notna().to_numpy() & frame["occurred_at"].notna().to_numpy()
    anchor = (citizen | (size >= 2)) & frame["person_id"].notna().to_numpy() & frame["service"].notna().to_numpy() \
        & frame["occurred_at"].notna().to_numpy()
    return orphan, anchor


# ---- candidates and their evidence -------------------------------------------------------------------------
def candidates(frame: pd.DataFrame, policy: ContextPolicy,
               orphans: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Per orphan, every anchor contact about the same service within the window, and every other orphan there:
    columns orphan, anchor (positions in `frame`), gap_h (anchor minus orphan, hours), person, competitor. Another
    orphan is a *competitor*: never chosen (nothing identifies it either), but the orphan may well be its person
    (a post, then the poster's withheld call), so it takes its share of the probability. Also, per orphan
    position, how many candidate persons it has (crowded orphans are left out of both)."""
    orphan, anchor = roles(frame)
    pool = anchor | orphan
    if orphans is not None:
        orphan &= orphans
    t = ((frame["occurred_at"] - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
    window = policy.window_hours
    parts = []
    for idx in frame.groupby("service", sort=True).indices.values():
        a = idx[pool[idx]]
        o = idx[orphan[idx]]
        if not len(a) or not len(o):
            continue
        a = a[np.argsort(t[a], kind="stable")]
        ta = t[a]
        lo = np.searchsorted(ta, t[o] - window, side="left")
        hi = np.searchsorted(ta, t[o] + window, side="right")
        keep = (hi - lo > 0) & (hi - lo <= policy.max_candidates)
        o, lo, hi = o[keep], lo[keep], hi[keep]
        counts = hi - lo
        rows = np.repeat(np.arange(len(o)), counts)
        offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        ai = a[lo[rows] + offs]
        mine = ai != o[rows]
        parts.append(pd.DataFrame({"orphan": o[rows][mine], "anchor": ai[mine], "gap_h": (t[ai] - t[o[rows]])[mine]}))
    if not parts:
        return pd.DataFrame({"orphan": pd.Series(dtype=int), "anchor": pd.Series(dtype=int),
                             "gap_h": pd.Series(dtype=float), "person": pd.Series(dtype=object),
                             "competitor": pd.Series(dtype=bool)}), pd.Series(dtype=int)
    pairs = pd.concat(parts, ignore_index=True)
    pairs["person"] = frame["person_id"].to_numpy()[pairs["anchor"].to_numpy()]
    pairs["competitor"] = ~anchor[pairs["anchor"].to_numpy()]
    pairs["abs_gap"] = pairs["gap_h"].abs()
    ids = frame["contact_id"].to_numpy()
    pairs["anchor_id"] = ids[pairs["anchor"].to_numpy()]
    # a candidate whose forename (the citizen's, else the anchor contact's own) differs from one the orphan
    # states is someone else: a profile saying 'Darren' is not Susan's unanswered post
    if "forename" in frame:
        mine = frame["forename"].to_numpy()[pairs["orphan"].to_numpy()]
        cf = frame["citizen_forename"] if "citizen_forename" in frame else pd.Series(None, index=frame.index)
        theirs = cf.where(cf.notna(), frame["forename"]).to_numpy()[pairs["anchor"].to_numpy()]
        both = np.flatnonzero(pd.notna(mine) & pd.notna(theirs))
        other = np.zeros(len(pairs), dtype=bool)
        other[both] = _per_distinct(forenames_differ, pd.Series(mine[both]), pd.Series(theirs[both]))
        pairs = pairs[~other]
    pairs = pairs.sort_values(["orphan", "person", "abs_gap", "anchor_id"]).reset_index(drop=True)
    n = pairs.groupby("orphan")["person"].nunique()
    return pairs.drop(columns=["abs_gap", "anchor_id"]), n


def gap_level(gap_h: float) -> str:
    """'after:<=3h' when the anchor came after the orphan, 'before:<=3h' when before."""
    edge = next((e for e in GAP_EDGES_H if abs(gap_h) <= e), GAP_EDGES_H[-1])
    return f"{'after' if gap_h >= 0 else 'before'}:<={edge:g}h"


def _outcome_class(outcome: object) -> str:
    if outcome == "resolved":
        return "resolved"
    if outcome in HANDLED:
        return "handled"
    if outcome in UNHANDLED:
        return "unhandled"
    return "other"


def orphan_group(channel: object, outcome: object) -> str:
    """What the orphan alone says, for its prior: its channel and what became of it ('social|unhandled')."""
    return f"{channel}|{_outcome_class(outcome)}"


def levels(frame: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Each candidate pair's level of every feature (FEATURES), as the labels the model is keyed by."""
    o, a = pairs["orphan"].to_numpy(), pairs["anchor"].to_numpy()
    ch, oc, dist = frame["channel"].to_numpy(), frame["outcome"].to_numpy(), frame["district"].to_numpy()
    side = np.where(pairs["gap_h"].to_numpy() >= 0, "after", "before")  # the anchor after the orphan, or before
    do, da = dist[o], dist[a]
    known = pd.notna(do) & pd.notna(da)
    return pd.DataFrame({
        "gap": [f"{c}|{gap_level(g)}" for c, g in zip(ch[o], pairs["gap_h"].to_numpy())],
        "anchor_channel": [f"{c}|{d}|{x}" for c, d, x in zip(ch[o], side, ch[a])],
        "anchor_outcome": [f"{d}|{_outcome_class(x)}" for d, x in zip(side, oc[a])],
        "district": np.where(~known, "unknown", np.where(do == da, "agree", "disagree")),
    })


def best_per_person(pairs: pd.DataFrame, total: np.ndarray) -> np.ndarray:
    """Index labels of each (orphan, person)'s strongest contact pair: the contact that best explains the orphan
    stands for its person (a call three hours after a post, not the one an hour before it)."""
    order = pd.DataFrame({"orphan": pairs["orphan"].to_numpy(), "person": pairs["person"].to_numpy(),
                          "total": total}, index=pairs.index).sort_values(["orphan", "person", "total"],
                                                                          ascending=[True, True, False],
                                                                          kind="stable")
    return order.drop_duplicates(["orphan", "person"]).index.to_numpy()


def pair_priors(model: ContextModel, frame: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Per pair, its orphan's p (ContextModel.p_of its group)."""
    o = pairs["orphan"].to_numpy()
    groups = [orphan_group(c, x) for c, x in zip(frame["channel"].to_numpy()[o], frame["outcome"].to_numpy()[o])]
    return np.array([model.p_of(g) for g in groups], dtype=float)


def pair_bits(model: ContextModel, lv: pd.DataFrame) -> pd.DataFrame:
    """Bits per feature per pair (log2 m/u)."""
    out = {}
    for f in FEATURES:
        table = {k: model.weight(f, k) for k in pd.unique(lv[f])}
        out[f] = lv[f].map(table).to_numpy(dtype=float)
    return pd.DataFrame(out)


def posterior(total_bits: np.ndarray, orphan: np.ndarray, n: np.ndarray,
              p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, P(this candidate is the orphan's person | all its candidates' evidence), and per pair its orphan's
    P(none of them): prior p/n on each of n candidates, 1 - p on none (linkage.model.contact_posterior's form)."""
    pair, any_candidate = contact_posterior(total_bits + np.log2(p / n), orphan, p)
    return pair, 1 - any_candidate


# ---- deciding ------------------------------------------------------------------------------------------------
def context_joins(frame: pd.DataFrame, model: ContextModel, policy: ContextPolicy,
                  forbidden: dict[str, frozenset[str]] | None = None,
                  orphans: np.ndarray | None = None) -> pd.DataFrame:
    """JOIN_COLUMNS for each orphan the context joins to a person: the person, the anchor contact standing for it,
    the posterior and the explanation (JSON). `forbidden`: contact id -> citizens it must never join (review
    rejections): such a candidate is never chosen, and still counts against the others. `orphans` restricts which
    orphans are decided (a mask over `frame`; the others only serve as context)."""
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in JOIN_COLUMNS})
    if not policy.enabled or frame.empty:
        return empty
    pairs, n = candidates(frame, policy, orphans)
    if pairs.empty:
        return empty
    lv = levels(frame, pairs)
    bits = pair_bits(model, lv) * model.temperature
    best_contact = best_per_person(pairs, bits.sum(axis=1).to_numpy())
    pairs, lv, bits = pairs.loc[best_contact], lv.loc[best_contact], bits.loc[best_contact]
    total = bits.sum(axis=1).to_numpy()
    p = pair_priors(model, frame, pairs)
    prob, _ = posterior(total, pairs["orphan"].to_numpy(), pairs["orphan"].map(n).to_numpy(dtype=float), p)
    df = pairs.assign(total=total, prob=prob, p=p)
    order = df.sort_values(["orphan", "total", "person"], ascending=[True, False, True]).index.to_numpy()
    df = df.loc[order]
    first = ~df["orphan"].duplicated().to_numpy()
    runner = df.groupby("orphan")["total"].nth(1)
    runner_prob = df.groupby("orphan")["prob"].nth(1)
    best = df[first].copy()
    best["runner_bits"] = best["orphan"].map(pd.Series(runner.to_numpy(), index=df.loc[runner.index, "orphan"]))
    best["runner_prob"] = best["orphan"].map(pd.Series(runner_prob.to_numpy(),
                                                       index=df.loc[runner_prob.index, "orphan"]))
    ids, cits = frame["contact_id"].to_numpy(), frame["citizen_id"].to_numpy()
    forbidden = forbidden or {}
    bad = np.array([cits[a] in forbidden.get(ids[o], ()) or frame["person_id"].to_numpy()[a]
                    in forbidden.get(ids[o], ()) for o, a in zip(best["orphan"], best["anchor"])], dtype=bool)
    apart = best["runner_bits"].isna().to_numpy() | \
        ((best["total"] - best["runner_bits"]).to_numpy() >= policy.ambiguity_bits)
    ok = (best["prob"].to_numpy() >= policy.min_probability) & apart & ~bad & ~best["competitor"].to_numpy(bool)
    chosen = best[ok]
    if chosen.empty:
        return empty
    lvb, bb = lv.loc[chosen.index], bits.loc[chosen.index]
    explanations = [
        _explain(frame, r, lvb.loc[i], bb.loc[i], int(n[r.orphan]), float(r.p))
        for i, r in zip(chosen.index, chosen.itertuples(index=False))
    ]
    return pd.DataFrame({
        "contact_id": ids[chosen["orphan"].to_numpy()],
        "person_id": chosen["person"].to_numpy(),
        "anchor_contact_id": ids[chosen["anchor"].to_numpy()],
        "probability": chosen["prob"].to_numpy(dtype=float),
        "context": explanations,
    }).sort_values("contact_id", ignore_index=True)[JOIN_COLUMNS]


def _explain(frame: pd.DataFrame, r, lv: pd.Series, bits: pd.Series, n: int, p: float) -> str:
    """The context part of a link's explanation: what joined it, to whom, with which evidence, how sure."""
    ids = frame["contact_id"].to_numpy()
    doc = {
        "via": "context", "person": r.person, "anchor": ids[r.anchor], "citizen": None,
        "probability": round(float(r.prob), 4),
        "service": frame["service"].to_numpy()[r.orphan], "gap_hours": round(float(r.gap_h), 2),
        "evidence": {f: {"level": str(lv[f]), "bits": round(float(bits[f]), 2)} for f in FEATURES},
        "prior": round(math.log2((p / n) / (1 - p)), 2), "candidates": n,
        "runner_up_probability": None if pd.isna(r.runner_prob) else round(float(r.runner_prob), 4),
    }
    return json.dumps(doc, separators=(",", ":"))


def with_context(explanation: object, context: object) -> str | None:
    """A link's explanation with its context part beside (never inside) the identity evidence."""
    explanation = without_context(explanation)
    if not isinstance(context, str):
        return explanation if isinstance(explanation, str) else None
    own = json.loads(explanation) if isinstance(explanation, str) else {}
    return json.dumps({**own, "context": json.loads(context)}, separators=(",", ":"))


# ---- calibration ---------------------------------------------------------------------------------------------
def calibrate(frame: pd.DataFrame, true_person: pd.Series, policy: ContextPolicy,
              smoothing: float = 0.5) -> ContextModel:
    """m and u per feature level from labelled candidate pairs (a simulation's truth: `true_person`, aligned with
    `frame`, names each contact's true person), and p, the share of orphans whose true person is among their
    candidates. m counts the orphan's pairs with its true person's contacts, u every other pair; a person is then
    scored by its strongest contact (best_per_person). Add-`smoothing` counts keep a rare level from weighing
    infinitely."""
    pairs, n = candidates(frame, policy)
    truth = true_person.to_numpy()
    same = truth[pairs["orphan"].to_numpy()] == truth[pairs["anchor"].to_numpy()]
    lv = levels(frame, pairs)
    m, u = {}, {}
    for f in FEATURES:
        keys = sorted(pd.unique(lv[f]))
        cm = lv.loc[same, f].value_counts().reindex(keys, fill_value=0) + smoothing
        cu = lv.loc[~same, f].value_counts().reindex(keys, fill_value=0) + smoothing
        m[f] = {k: round(float(v), 6) for k, v in (cm / cm.sum()).items()}
        u[f] = {k: round(float(v), 6) for k, v in (cu / cu.sum()).items()}
    hit = pd.Series(same).groupby(pairs["orphan"].to_numpy()).any()
    pooled = float(hit.mean()) if len(hit) else 0.5
    pos = hit.index.to_numpy()
    group = pd.Series([orphan_group(c, x) for c, x in zip(frame["channel"].to_numpy()[pos],
                                                          frame["outcome"].to_numpy()[pos])], index=hit.index)
    by = hit.groupby(group).agg(["sum", "size"])
    p = {"*": round(pooled, 4)} | {g: round(float((r["sum"] + P_SHRINK * pooled) / (r["size"] + P_SHRINK)), 4)
                                   for g, r in by.iterrows()}
    model = ContextModel(m=m, u=u, p_candidate=p,
                         trained_on={"orphans": int(len(n)), "pairs": int(len(pairs)), "true_pairs": int(same.sum())})
    if len(pairs):
        keep = best_per_person(pairs, pair_bits(model, lv).sum(axis=1).to_numpy())
        pos = pairs.index.get_indexer(keep)
        model.temperature = _temperature(model, frame, pairs.loc[keep], lv.loc[keep],
                                         pairs.loc[keep, "orphan"].map(n).to_numpy(dtype=float), same[pos], hit)
    return model


def _temperature(model: ContextModel, frame: pd.DataFrame, pairs: pd.DataFrame, lv: pd.DataFrame, n: np.ndarray,
                 same: np.ndarray, hit: pd.Series) -> float:
    """The factor on the summed bits that makes the posterior most likely on the labelled orphans (log loss of
    the true answer: the true candidate, or none), from 0.1 to 1 by 0.05: naive-Bayes evidence is overconfident,
    never under-, so it is only ever shrunk."""
    raw = pair_bits(model, lv).sum(axis=1).to_numpy()
    orphan, p = pairs["orphan"].to_numpy(), pair_priors(model, frame, pairs)
    none_hit = ~hit
    best, best_loss = 1.0, math.inf
    for t in np.round(np.arange(0.1, 1.0001, 0.05), 2):
        prob, none = posterior(raw * t, orphan, n, p)
        none_by = pd.Series(none).groupby(orphan).first()
        loss = -np.log(np.clip(prob[same], 1e-12, 1)).sum() - np.log(np.clip(none_by[none_hit.reindex(
            none_by.index).to_numpy()], 1e-12, 1)).sum()
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best
