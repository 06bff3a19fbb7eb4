"""Step 3, predict: scoring contacts against the register in bounded batches.

Per batch: block, compare, weigh, judge identifier edges, pick each contact's best candidate
and decide matched / review / unmatched. Pairs never outlive their batch, so memory is set by
`batch_size`, not by the data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.blocking import candidate_pairs
from linkage.compare import NAMES, compare_pairs, prepare_contacts
from linkage.model import Model, contact_posterior, pair_weights
from linkage.prepare import PreparedRegister
from linkage.protection import judge_edges, other_person, person_evidence
from linkage.settings import LinkSettings

RESULT_COLUMNS = ["contact_id", "candidate_citizen_id", "match_weight", "match_probability", "decision",
                  "explanation", "runner_up_weight"]


# Why a contact scoring at least `review` is not linked automatically, most fundamental first: a caseworker
# reads it beside the weights (joinedup.review), so each names the rule in linkage.protection or the settings.
REVIEW_REASONS = {
    "conflicting_identifiers": "two candidates each share a strong identifier with the contact",
    "score_band": "the match probability is between the review and the automatic thresholds",
    "no_person_evidence": "only household evidence agrees (address, surname, landline): nothing personal",
    "different_person": "a stated forename or date of birth clearly differs, with nothing personal agreeing "
                        "(another member of the household)",
    "ambiguous": "the runner-up candidate scores within the ambiguity margin",
}


def _explain(weights: np.ndarray, prior: float, via: str, candidate: str | None, reason: str = "") -> str:
    doc: dict[str, object] = {"via": via, "prior": round(prior, 1)}
    for name, w in zip(NAMES, weights):
        if w != 0:
            doc[name] = round(float(w), 1)
    if candidate is not None:
        doc["candidate"] = candidate
    if reason:
        doc["review_reason"] = reason
    return json.dumps(doc, separators=(",", ":"))


@dataclass(frozen=True)
class Compared:
    """Candidate pairs and levels already computed for some of a batch's contacts (in training)."""

    rows: np.ndarray  # the contacts' positions in the batch, sorted
    contact: np.ndarray  # each pair's contact, as a position in the batch
    register: np.ndarray  # each pair's register row
    levels: np.ndarray


def pairs_and_levels(con: pd.DataFrame, reg: PreparedRegister, known: Compared | None = None
                     ) -> tuple[pd.MultiIndex, np.ndarray]:
    """Candidate pairs of the (prepared) contacts, sorted, and their comparison levels. The contacts in
    `known` are taken from it; a pair's candidacy and levels depend on its two records only, so this is
    what blocking and comparing the whole batch gives."""
    if known is None or len(known.rows) == 0:
        pairs = candidate_pairs(con, reg.std, reg.keys, reg.multi, reg.index())
        return pairs, compare_pairs(pairs, con, reg.std)
    todo = np.setdiff1d(np.arange(len(con)), known.rows)
    sub = con.iloc[todo].reset_index(drop=True)
    pairs = candidate_pairs(sub, reg.std, reg.keys, reg.multi, reg.index())
    levels = compare_pairs(pairs, sub, reg.std)
    ci = np.r_[todo[pairs.get_level_values(0).to_numpy(np.int64)], known.contact].astype(np.int64)
    ri = np.r_[pairs.get_level_values(1).to_numpy(np.int64), known.register].astype(np.int64)
    order = np.lexsort((ri, ci))
    return (pd.MultiIndex.from_arrays([ci[order], ri[order]], names=["contact", "register"]),
            np.concatenate([levels, known.levels])[order])


def match_batch(con: pd.DataFrame, reg: PreparedRegister, model: Model, settings: LinkSettings,
                cannot_link: set[tuple[str, str]] | None = None,
                must_link: dict[str, str] | None = None, known: Compared | None = None,
                candidates: pd.MultiIndex | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Best register candidate and decision for each standardised contact in the batch.

    known: pairs and levels already computed for some of these contacts (pairs_and_levels).
    candidates: the batch's candidate pairs (contact position, register row), sorted, when blocking ran
    elsewhere (linkage.spark joins the blocking keys in Spark SQL); None blocks here.
    Returns (one row per contact, rejected-edge audit, counters).
    """
    con = prepare_contacts(con.reset_index(drop=True))
    if candidates is None:
        pairs, levels = pairs_and_levels(con, reg, known)
    else:
        pairs, levels = candidates, compare_pairs(candidates, con, reg.std)
    ci = pairs.get_level_values(0).to_numpy()
    ri = pairs.get_level_values(1).to_numpy()
    con_ids, reg_ids = con["id"].to_numpy(), reg.std["id"].to_numpy()
    if cannot_link and len(ci):
        keep = np.array([(a, b) not in cannot_link for a, b in zip(con_ids[ci], reg_ids[ri])])
        ci, ri, pairs, levels = ci[keep], ri[keep], pairs[keep], levels[keep]
    w = pair_weights(model, levels, ri, reg.tf)
    prior = model.prior_weight(reg.size)
    total = w.sum(axis=1) + prior
    edge_kind, edge_ok, audit = judge_edges(levels, w, ri, ci, con, reg.std, reg.fanout, settings.edges)

    # best per contact: accepted edges first, then by weight
    order = np.lexsort((-total, ~edge_ok, ci))
    ci_s = ci[order]
    first = np.flatnonzero(np.r_[True, ci_s[1:] != ci_s[:-1]]) if len(ci_s) else np.empty(0, int)
    best = order[first]
    has_second = np.r_[first[1:], len(ci_s)] - first > 1
    runner = np.full(len(best), -np.inf)
    runner[has_second] = total[order[first[has_second] + 1]]
    second_edge = np.zeros(len(best), dtype=bool)
    second_edge[has_second] = edge_ok[order[first[has_second] + 1]]

    n = len(con)
    out = pd.DataFrame({"contact_id": con_ids, "candidate_citizen_id": None, "match_weight": prior,
                        "match_probability": 0.0, "decision": "unmatched", "explanation": None,
                        "runner_up_weight": -np.inf})
    out["explanation"] = json.dumps({"via": "no_candidate", "prior": round(prior, 1)}, separators=(",", ":"))
    th = settings.thresholds
    bc, br = ci[best], ri[best]
    bw = total[best]
    pair_prob, _ = contact_posterior(total, ci, model.p_in_register)
    prob = pair_prob[best]
    edge = edge_ok[best]
    conflicting_edges = edge & second_edge & (reg_ids[br] != reg_ids[ri[order[np.minimum(first + 1, len(order) - 1)]]])
    apart = (bw - runner) >= th.ambiguity_bits
    # household guard: a stated forename or DOB that clearly differs is another person at the
    # same address / on the same e-mail; never an automatic link
    household, personal = other_person(levels[best]), person_evidence(levels[best])
    clear = apart & ~household & personal
    reason = np.select([conflicting_edges, prob < th.auto, ~personal, household, ~apart],
                       ["conflicting_identifiers", "score_band", "no_person_evidence", "different_person",
                        "ambiguous"], default="")
    decision = np.where(edge & ~conflicting_edges, "matched",
               np.where((prob >= th.auto) & clear & ~conflicting_edges, "matched",
               np.where(prob >= th.review, "review", "unmatched")))
    via = np.where(edge & ~conflicting_edges, np.char.add("edge:", edge_kind[best].astype(str)), "score")
    out.loc[bc, "candidate_citizen_id"] = reg_ids[br]
    out.loc[bc, "match_weight"] = bw
    out.loc[bc, "match_probability"] = prob
    out.loc[bc, "decision"] = decision
    out.loc[bc, "runner_up_weight"] = runner
    out.loc[bc, "explanation"] = [
        _explain(w[p], prior, v, reg_ids[r] if d == "review" else None, why if d == "review" else "")
        for p, v, r, d, why in zip(best, via, br, decision, reason)
    ]
    if must_link:
        for pos in np.flatnonzero(out["contact_id"].isin(must_link.keys()).to_numpy()):
            cid = out.at[pos, "contact_id"]
            out.loc[pos, ["candidate_citizen_id", "decision", "match_probability"]] = [must_link[cid], "matched", 1.0]
            out.at[pos, "explanation"] = json.dumps({"via": "review:accept"}, separators=(",", ":"))
    stats = {"contacts": n, "pairs": len(pairs)}
    return out[RESULT_COLUMNS], audit, stats
