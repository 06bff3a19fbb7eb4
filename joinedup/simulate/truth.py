"""Scores the journey marts against the simulator's truth (truth/contacts.csv and truth/journeys.csv).

For measurement only: the pipeline never reads truth. Contacts are matched through their keyed hash, so the
comparison needs the pseudonymisation key, as only an operator holding the identity store would have.

Journeys are compared as a partition of contacts: pairwise precision/recall of "same journey" (the standard
measure for clusterings). Switches are compared as the set of (from contact, to contact) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from joinedup.identity.pseudonym import keyed_hashes


@dataclass(frozen=True)
class JourneyScore:
    contacts_matched: int
    truth_journeys: int
    found_journeys: int
    pair_precision: float  # of contact pairs put in one journey, the share truly in one journey
    pair_recall: float
    # the same, only over contacts the linkage put in one person: what the journey logic itself gets right
    pair_recall_same_person: float
    truth_switching_share: float
    found_switching_share: float
    switch_precision: float
    switch_recall: float
    switch_recall_same_person: float

    @property
    def journey_count_ratio(self) -> float:
        return self.found_journeys / max(self.truth_journeys, 1)


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def score_journeys(analytics: Path, truth_dir: Path, key: bytes) -> JourneyScore:
    truth = pd.read_csv(truth_dir / "contacts.csv", dtype=str, usecols=["contact_id", "journey_id", "channel",
                                                                        "occurred_at"])
    truth["contact_key"] = keyed_hashes(truth["contact_id"], key, "contact")
    tj = pd.read_csv(truth_dir / "journeys.csv", dtype={"journey_id": str, "n_switches": int})
    with duckdb.connect(str(analytics), read_only=True) as con:
        found = con.execute("select contact_key, journey_id as found_journey, person_key as found_person "
                            "from fct_contacts").df()
        fj = con.execute("select journey_id, has_channel_switch from fct_journeys").df()
        fs = con.execute("select from_contact_key, to_contact_key from fct_channel_switches").df()
    both = truth.merge(found, on="contact_key", how="inner")

    together = _pairs(both.groupby(["journey_id", "found_journey"]).size())
    truth_pairs = _pairs(both.groupby("journey_id").size())
    found_pairs = _pairs(both.groupby("found_journey").size())
    same_person_pairs = _pairs(both.groupby(["journey_id", "found_person"]).size())

    # truth switches: consecutive contacts of a truth journey whose channel changes
    t = both.sort_values(["journey_id", "occurred_at", "contact_id"])
    nxt = t.groupby("journey_id")[["contact_key", "channel", "found_person"]].shift(-1)
    is_switch = nxt["channel"].notna() & (nxt["channel"] != t["channel"])
    truth_switches = set(zip(t.loc[is_switch, "contact_key"], nxt.loc[is_switch, "contact_key"], strict=True))
    same = is_switch & (nxt["found_person"] == t["found_person"])
    truth_same_person = set(zip(t.loc[same, "contact_key"], nxt.loc[same, "contact_key"], strict=True))
    found_switches = set(zip(fs["from_contact_key"], fs["to_contact_key"], strict=True))
    hit = len(truth_switches & found_switches)
    return JourneyScore(
        contacts_matched=len(both), truth_journeys=len(tj), found_journeys=len(fj),
        pair_precision=together / max(found_pairs, 1), pair_recall=together / max(truth_pairs, 1),
        pair_recall_same_person=_pairs(both.groupby(["journey_id", "found_person", "found_journey"]).size())
        / max(same_person_pairs, 1),
        truth_switching_share=float((tj["n_switches"] > 0).mean()),
        found_switching_share=float(fj["has_channel_switch"].mean()),
        switch_precision=hit / max(len(found_switches), 1), switch_recall=hit / max(len(truth_switches), 1),
        switch_recall_same_person=len(truth_same_person & found_switches) / max(len(truth_same_person), 1),
    )


# --- the headline figures' truth, for joinedup.report.estimate's validation (bench/estimate.py, its tests) ---

# the attributes of a switch's earlier contact that decide its trigger, as published in fct_contacts
TRIGGER_COLUMNS = ["contact_key", "channel", "outcome", "sla_target_minutes", "first_response_at_utc",
                   "is_sla_met", "occurred_at_utc"]


def switch_triggers(earlier: pd.DataFrame, later_at: pd.Series) -> pd.Series:
    """The trigger of switches from `earlier` (TRIGGER_COLUMNS of each switch's earlier contact) to a contact at
    `later_at`: int_contact_transitions' CASE, evaluated in the same order. It exists to classify the switches
    linkage missed; `test_estimate` checks it gives fct_channel_switches' trigger on every switch the marts
    have, so the two cannot drift apart."""
    later_at = later_at.to_numpy()
    responded_by_then = earlier["first_response_at_utc"].notna().to_numpy() & (
        earlier["first_response_at_utc"].to_numpy() <= later_at)
    met = earlier["is_sla_met"].fillna(False).astype(bool).to_numpy()
    outcome = earlier["outcome"].to_numpy()
    return pd.Series(np.select(
        [outcome == "failed", outcome == "abandoned", earlier["sla_target_minutes"].isna().to_numpy(),
         ~responded_by_then & met, ~responded_by_then, ~met],
        ["failed_self_service", "abandoned", "no_response_target", "awaiting_response", "unanswered",
         "outside_sla"], default="none"), index=earlier.index)


@dataclass(frozen=True)
class TrueHeadline:
    journeys: int
    switching_journeys: int
    switches: int
    unanswered_switches: int

    @property
    def switching_share(self) -> float:
        return self.switching_journeys / max(self.journeys, 1)

    @property
    def unanswered_share(self) -> float:
        return self.unanswered_switches / max(self.switches, 1)


def truth_contacts(truth_dir: Path, key: bytes) -> pd.DataFrame:
    """truth/contacts.csv with each contact's published key and its person's household (persons.csv)."""
    truth = pd.read_csv(truth_dir / "contacts.csv", dtype=str,
                        usecols=["contact_id", "person_key", "journey_id", "channel", "occurred_at"])
    truth["contact_key"] = keyed_hashes(truth["contact_id"], key, "contact")
    persons = pd.read_csv(truth_dir / "persons.csv", dtype=str, usecols=["person_key", "household_id"])
    return truth.merge(persons, on="person_key", how="left")


def true_headline(truth: pd.DataFrame, published: pd.DataFrame) -> TrueHeadline:
    """The headline counts linkage would give if it joined every contact of `truth` (rows of truth_contacts)
    to its journey: journeys as the simulator made them, switches between their consecutive contacts, each
    trigger from the published attributes of its earlier contact (`published`: TRIGGER_COLUMNS of fct_contacts)."""
    t = truth[["contact_key", "contact_id", "journey_id", "occurred_at"]].merge(published, on="contact_key")
    t = t.sort_values(["journey_id", "occurred_at_utc", "contact_id"], kind="stable")
    later = t.groupby("journey_id")[["channel", "occurred_at_utc"]].shift(-1)
    is_switch = later["channel"].notna() & (later["channel"] != t["channel"])
    per_journey = is_switch.groupby(t["journey_id"]).any()
    triggers = switch_triggers(t[is_switch], later.loc[is_switch, "occurred_at_utc"])
    return TrueHeadline(journeys=int(t["journey_id"].nunique()), switching_journeys=int(per_journey.sum()),
                        switches=int(is_switch.sum()), unanswered_switches=int((triggers == "unanswered").sum()))


def published_attributes(analytics: Path) -> pd.DataFrame:
    with duckdb.connect(str(analytics), read_only=True) as con:
        return con.execute(f"select {', '.join(TRIGGER_COLUMNS)} from fct_contacts").df()
