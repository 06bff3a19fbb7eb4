"""Honest headlines: what the switching and unanswered-trigger figures would be if linkage had joined every
contact to its journey, with an interval, and the coverage the observed figures rest on.

Why an estimate at all: a contact the linkage could not join to its person (no identifier, a handle nobody
resolved, a caseworker's review still pending, a person not in the register) becomes a journey of its own, and a
one-contact journey never switches channel. So the observed share of journeys that switch channel is biased
down, by as much as a third on the demo (18% observed, 27.5% true), and more where linkage covers less.

The model (documented in docs/report.md, "How far the headline figures can be trusted"):

* **Thinning.** Each contact on channel c is joined to the rest of its journey (linked to a registered person)
  with probability r_c, independently of the other contacts of the journey. r_c is measured, not assumed: the
  share of the channel's contacts in the view that the link step matched to the register. A journey's linked
  contacts are then a binomial thinning of its true contacts, per channel.
* **Inverting the thinning.** For x ~ Binomial(n, r), E[a**x] = (1 - r + r a)**n, which is 0**n = [n = 0] when
  a = -(1 - r) / r. So prod_c a_c**x_c over a journey's linked channel counts x is an unbiased estimate of
  "none of this journey's contacts is on these channels", and from those indicators: the number of true
  journeys (every journey has at least one contact) and of journeys with two or more channels (a switch). Both
  sums run over the observed linked journeys only: a journey none of whose contacts was linked contributes 0
  to each unbiased term, so nothing about the unlinked contacts needs guessing beyond r_c. The estimate is
  their ratio.
* **Unanswered trigger.** A true switch from channel f to channel t is seen, with both ends joined, with
  probability r_f r_t; but two linked contacts also look consecutive when the contact between them was not
  linked, and such a spurious switch carries the earlier contact's trigger. So every ordered pair of linked
  contacts of a journey on different channels is weighted 1 / (r_f r_t) times prod a_c over the linked
  contacts between them, which has expectation 1 for a truly consecutive pair and 0 otherwise; the estimate
  is the weighted share of those pairs whose trigger (the marts' published definition) is "unanswered".
* **Interval.** A grouped jackknife over 25 groups of persons (a keyed person's hash, so the groups are fixed
  and the page is reproducible): r_c, the journeys and the switches are all recomputed leaving out one group.
  95% interval: estimate +- sqrt((t(24) * jackknife standard error)^2 + MODEL_ALLOWANCE^2). The jackknife
  covers sampling variation in what linkage joined and in r_c; the allowance covers the model's own error
  where its independence assumption fails (a person not in the register never links; a person whose record
  is wrong fails on every channel), as measured against the simulator's truth by bench/estimate.py.

Where the model cannot say anything (a channel in the view with no linked contact, so r_c = 0, or a view
without a linked journey) the estimate is None and the page says why; where r_c < 1/2 the terms grow with
each contact and the interval widens accordingly, which is the honest outcome.

Every input is an aggregate grouped by service, month and person group (`load_inputs`, one query each), so a
report can estimate every filter view (service x period) from one read of the analytics file.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from joinedup.report.scope import TRIGGER, bind, published_definitions, read_ordered

GROUPS = 25  # jackknife groups of persons
PRIOR_CONTACTS = 30.0  # weight of the whole file's linked share in a view's (see _retention)
# The model's own error, added to the sampling error in quadrature: the largest bias bench/estimate.py measured
# against the simulator's truth (0.8 points, unanswered share, council year; 0.4 switching) rounded up. Without
# it a council year's interval (a tenth of a point wide) would claim a precision the model does not have.
MODEL_ALLOWANCE = 0.01
LEVEL = 0.95
LINKED = "matched"  # fct_contacts.link_decision of a contact joined to a registered person
IN_REVIEW = "review"
UNANSWERED = "unanswered"


@dataclass(frozen=True)
class Estimate:
    """One headline share: what the marts show, and the estimate of its true value with a 95% interval."""

    observed: float | None  # share in the marts as published
    numerator: int  # observed counts behind `observed`
    denominator: int
    estimate: float | None  # None: the model cannot estimate it for this view (see `why_not`)
    low: float | None
    high: float | None
    why_not: str = ""

    @property
    def is_estimated(self) -> bool:
        return self.estimate is not None


@dataclass(frozen=True)
class Coverage:
    """What the headline rests on: how much of the view linkage joined."""

    contacts: int
    contacts_linked: int  # joined to a registered person
    contacts_in_review: int  # waiting for a caseworker's decision (not joined meanwhile)
    persons_unresolved: int  # pseudonymous persons not in the register (their own contacts only)
    journeys: int
    journeys_estimated: float | None  # estimated true journeys (every contact joined)

    @property
    def linked_share(self) -> float:
        return self.contacts_linked / self.contacts if self.contacts else 0.0


@dataclass(frozen=True)
class HeadlineEstimates:
    switching: Estimate  # share of journeys with a channel switch
    unanswered: Estimate  # share of channel switches whose previous contact went unanswered
    coverage: Coverage


@dataclass(frozen=True)
class EstimateInputs:
    """Aggregates of the analytics file, each grouped by service, month (local) and person group."""

    channels: tuple[str, ...]
    contacts: pd.DataFrame  # service, month, grp, channel, contacts, linked, in_review
    linked_journeys: pd.DataFrame  # service, month, grp, one count column per channel, journeys
    journeys: pd.DataFrame  # service, month, grp, journeys, switching
    switches: pd.DataFrame  # service, month, grp, from_channel, to_channel, switches, unanswered
    unresolved: pd.DataFrame  # service, month, person: the unregistered persons with a contact there
    prior: Mapping[str, float] = field(default_factory=dict)  # channel -> linked share, whole file (_retention)
    # ordered pairs of linked contacts of one journey on different channels, with the linked contacts between
    # them per channel: service, month, grp, from_channel, to_channel, unanswered, between_<channel>..., pairs
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)

    def select(self, services: Collection[str] | None = None,
               months: Collection[date] | None = None) -> EstimateInputs:
        """The inputs of one view: the given services and months (None: all)."""
        def keep(df: pd.DataFrame) -> pd.DataFrame:
            if df.empty:
                return df
            mask = pd.Series(True, index=df.index)
            if services is not None:
                mask &= df["service"].isin(list(services))
            if months is not None:
                mask &= df["month"].isin(list(months))
            return df[mask]
        return EstimateInputs(self.channels, keep(self.contacts), keep(self.linked_journeys), keep(self.journeys),
                              keep(self.switches), keep(self.unresolved), self.prior, keep(self.pairs))


def _group(person_key: str) -> str:
    return f"hash({person_key}) % {GROUPS}"


def load_inputs(con: duckdb.DuckDBPyConnection) -> EstimateInputs:
    """Read the aggregates from the published marts (the connection may carry a report's filtered views)."""
    channels = tuple(r[0] for r in con.execute("select distinct channel from fct_contacts order by 1").fetchall())
    contacts = read_ordered(con, f"""
        select service, occurred_month as month, {_group('person_key')} as grp, channel,
               count(*) as contacts, count(*) filter (link_decision = '{LINKED}') as linked,
               count(*) filter (link_decision = '{IN_REVIEW}') as in_review
        from fct_contacts group by all""")
    per_channel = ", ".join(f"count(*) filter (c.channel = '{ch}') as \"{ch}\"" for ch in channels)
    linked_journeys = read_ordered(con, f"""
        with compositions as (
            select any_value(j.service) as service, any_value(j.started_month) as month,
                   any_value({_group('j.person_key')}) as grp{', ' + per_channel if channels else ''}
            from fct_contacts c join fct_journeys j using (journey_id)
            where c.link_decision = '{LINKED}'
            group by c.journey_id
        )
        select *, count(*) as journeys from compositions group by all""")
    journeys = read_ordered(con, f"""
        select service, started_month as month, {_group('person_key')} as grp, count(*) as journeys,
               count(*) filter (has_channel_switch) as switching
        from fct_journeys group by all""")
    switches = read_ordered(con, f"""
        select service, occurred_month as month, {_group('person_key')} as grp, from_channel, to_channel,
               count(*) as switches, count(*) filter (switch_trigger = '{UNANSWERED}') as unanswered
        from fct_channel_switches group by all""")
    pairs = _pairs(con, channels)
    unresolved = read_ordered(con, """
        select distinct c.service, c.occurred_month as month, hash(c.person_key) as person
        from fct_contacts c join dim_persons p using (person_key) where not p.is_registered""")
    for df in (contacts, linked_journeys, journeys, switches, unresolved, pairs):
        df["month"] = pd.to_datetime(df["month"]).dt.date
    by = contacts.groupby("channel")[["contacts", "linked"]].sum().reindex(list(channels))
    prior = {str(ch): float(x) for ch, x in (by["linked"] / by["contacts"]).items()}
    return EstimateInputs(channels, contacts, linked_journeys, journeys, switches, unresolved, prior, pairs)


def _pairs(con: duckdb.DuckDBPyConnection, channels: tuple[str, ...]) -> pd.DataFrame:
    """Every ordered pair of linked contacts in one journey on different channels, classified by the marts'
    published trigger definition (mart_definitions' switch_trigger row, the macro int_contact_transitions
    uses), with how many linked contacts of each channel lie between them. A pair with none between is a switch
    the marts show; the others are weighed by _unanswered so that the pairs made adjacent only because the
    contact between them was not linked cancel out."""
    cumulative = ", ".join(
        f"count(*) filter (channel = '{ch}') over (partition by journey_id order by contact_sequence "
        f"rows unbounded preceding) as \"cum_{ch}\"" for ch in channels)
    between = ", ".join(f"b.\"cum_{ch}\" - a.\"cum_{ch}\" - (b.channel = '{ch}')::int as \"between_{ch}\""
                        for ch in channels)
    pairs_sql = f"""
        select j.service, b.occurred_month as month, {_group('a.person_key')} as grp,
               a.channel as from_channel, b.channel as to_channel, a.outcome as from_outcome,
               a.sla_target_minutes as from_sla_target_minutes, a.first_response_at_utc as from_first_response_at_utc,
               a.is_sla_met as from_is_sla_met, b.occurred_at_utc as to_occurred_at_utc, {between}
        from linked a
        join linked b on a.journey_id = b.journey_id and b.contact_sequence > a.contact_sequence
            and a.channel <> b.channel
        join fct_journeys j on j.journey_id = a.journey_id"""
    classified = bind(published_definitions(con)[TRIGGER], {"pairs": f"({pairs_sql})"})
    between_cols = ", ".join(f'"between_{ch}"' for ch in channels)
    return read_ordered(con, f"""
        with linked as (
            select journey_id, contact_sequence, person_key, channel, outcome, sla_target_minutes,
                   first_response_at_utc, is_sla_met, occurred_at_utc, occurred_month{', ' + cumulative}
            from fct_contacts where link_decision = '{LINKED}'
        )
        select service, month, grp, from_channel, to_channel, switch_trigger = '{UNANSWERED}' as unanswered,
               {between_cols}, count(*) as pairs
        from ({classified}) group by all""")


@dataclass(frozen=True)
class _Arrays:
    """A view's inputs as arrays with one row per person group, so the 25 leave-one-group-out replicates are
    totals minus a row rather than 25 passes over the frames."""

    channels: tuple[str, ...]
    prior: np.ndarray  # per channel, NaN where the file has none
    contacts: np.ndarray  # group x channel
    linked: np.ndarray  # group x channel
    compositions: np.ndarray  # distinct linked-journey compositions x channel (linked contacts per channel)
    journeys: np.ndarray  # group x composition
    pair_from: np.ndarray  # distinct pair kinds: channel index of the earlier contact
    pair_to: np.ndarray
    pair_unanswered: np.ndarray  # bool
    pair_between: np.ndarray  # pair kind x channel: linked contacts between the two
    pairs: np.ndarray  # group x pair kind
    groups: np.ndarray  # the groups with a contact in the view


def _per_group(df: pd.DataFrame, keys: list[str], count: str, columns: int | None = None
               ) -> tuple[pd.DataFrame, np.ndarray]:
    """(distinct key rows, group x distinct-row counts) of a frame with a grp column."""
    if df.empty:
        return pd.DataFrame(columns=keys), np.zeros((GROUPS, 0))
    # numbered in order of first appearance (what factorizing the rows as a MultiIndex gives, without building it)
    codes = df.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    out = np.zeros((GROUPS, len(first) if columns is None else columns))
    np.add.at(out, (df["grp"].to_numpy(dtype=int), codes), df[count].to_numpy(dtype=float))
    return df[keys].iloc[first].reset_index(drop=True), out


def _arrays(inputs: EstimateInputs) -> _Arrays:
    chans = list(inputs.channels)
    index = {ch: i for i, ch in enumerate(chans)}
    contacts = np.zeros((GROUPS, len(chans)))
    linked = np.zeros((GROUPS, len(chans)))
    c = inputs.contacts
    if not c.empty:
        g, ch = c["grp"].to_numpy(dtype=int), c["channel"].map(index).to_numpy(dtype=int)
        np.add.at(contacts, (g, ch), c["contacts"].to_numpy(dtype=float))
        np.add.at(linked, (g, ch), c["linked"].to_numpy(dtype=float))
    comp, journeys = _per_group(inputs.linked_journeys, chans, "journeys")
    between = [f"between_{ch}" for ch in chans]
    kinds, pairs = _per_group(inputs.pairs, ["from_channel", "to_channel", "unanswered", *between], "pairs")
    return _Arrays(
        inputs.channels, np.array([inputs.prior.get(ch, np.nan) for ch in chans], dtype=float), contacts, linked,
        comp[chans].to_numpy(dtype=float) if len(comp) else np.zeros((0, len(chans))), journeys,
        kinds["from_channel"].map(index).to_numpy(dtype=int), kinds["to_channel"].map(index).to_numpy(dtype=int),
        kinds["unanswered"].to_numpy(dtype=bool), kinds[between].to_numpy(dtype=float) if len(kinds) else
        np.zeros((0, len(chans))), pairs, np.flatnonzero(contacts.sum(axis=1) > 0))


def _retention(contacts: np.ndarray, linked: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """r_c of the view: its linked share, shrunk towards the whole file's by PRIOR_CONTACTS pseudo-contacts.
    Linking is a property of a channel's data (which identifiers its exports carry) more than of a service or
    a month, and a small view's few letters must not decide alone that letters never link. NaN: the view has no
    contact on the channel."""
    weight = np.where(np.isnan(prior), 0.0, PRIOR_CONTACTS)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (linked + weight * np.nan_to_num(prior)) / (contacts + weight)
    return np.where(contacts > 0, r, np.nan)


def _no_linked(r: np.ndarray, channels: tuple[str, ...]) -> str:
    names = [c for c, x in zip(channels, r, strict=True) if x == 0]
    return f"no {', '.join(names)} contact in this view is linked to the register" if names else ""


def _switching(r: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """(estimated true journeys, estimated true switching journeys) from linked-journey compositions `x` with
    counts `w`, under linked shares `r` (no channel at 0)."""
    present = ~np.isnan(r)
    a = -(1 - r[present]) / r[present]
    powers = a ** x[:, present]  # one column per channel: prod over a subset estimates [no contact on them]
    none = powers.prod(axis=1)
    one_channel = sum(np.delete(powers, i, axis=1).prod(axis=1) - none for i in range(powers.shape[1]))
    return float(w @ (1 - none)), float(w @ (1 - none - one_channel))


def _unanswered(r: np.ndarray, arr: _Arrays, w: np.ndarray) -> float | None:
    """Weighted share of pairs of linked contacts that are unanswered switches. A pair (A, C) is weighted
    1 / (r_A r_C) times the product of a_c over the linked contacts between them: its expectation is 1 when A
    and C are consecutive in the true journey and 0 otherwise (the thinning identity above, applied to the
    contacts between), so spurious switches, made adjacent only because the contact between was not linked,
    cancel out instead of counting with the earlier contact's trigger. None: no weight left."""
    a = np.nan_to_num(-(1 - r) / r)  # a channel with no contact in the view has none between either
    weight = w * (a ** arr.pair_between).prod(axis=1) / (r[arr.pair_from] * r[arr.pair_to])
    total = weight.sum()
    return float(weight[arr.pair_unanswered].sum() / total) if total > 0 else None


def _interval(full: float, replicates: list[float]) -> tuple[float, float]:
    reps = np.asarray(replicates, dtype=float)
    g = len(reps)
    se = float(np.sqrt((g - 1) / g * ((reps - reps.mean()) ** 2).sum())) if g > 1 else float("inf")
    half = float(np.hypot(float(stats.t.ppf(0.5 + LEVEL / 2, max(g - 1, 1))) * se, MODEL_ALLOWANCE))
    return max(0.0, full - half), min(1.0, full + half)


def _replicates(arr: _Arrays) -> list[tuple[np.ndarray, int]]:
    """(r without group g, g) for each group of the view."""
    c, link = arr.contacts.sum(axis=0), arr.linked.sum(axis=0)
    return [(_retention(c - arr.contacts[g], link - arr.linked[g], arr.prior), g) for g in arr.groups]


def _switching_estimate(arr: _Arrays, observed: float | None, n: int, d: int) -> tuple[Estimate, float | None]:
    r = _retention(arr.contacts.sum(axis=0), arr.linked.sum(axis=0), arr.prior)
    w = arr.journeys.sum(axis=0)
    why = ("no journey in this view has a contact linked to the register" if w.sum() == 0
           else _no_linked(r, arr.channels))
    if why:
        return Estimate(observed, n, d, None, None, None, why), None
    total, switching = _switching(r, arr.compositions, w)
    shares = []
    for r_g, g in _replicates(arr):
        if _no_linked(r_g, arr.channels):
            break
        t, s = _switching(r_g, arr.compositions, w - arr.journeys[g])
        if t <= 0:
            break
        shares.append(s / t)
    low, high = _interval(switching / total, shares) if len(shares) == len(arr.groups) else (0.0, 1.0)
    return Estimate(observed, n, d, min(max(switching / total, 0.0), 1.0), low, high), total


def _unanswered_estimate(arr: _Arrays, observed: float | None, n: int, d: int) -> Estimate:
    r = _retention(arr.contacts.sum(axis=0), arr.linked.sum(axis=0), arr.prior)
    w = arr.pairs.sum(axis=0)
    why = ("no channel switch between contacts linked to the register in this view" if w.sum() == 0
           else _no_linked(r, arr.channels))
    full = None if why else _unanswered(r, arr, w)
    if full is None:
        return Estimate(observed, n, d, None, None, None,
                        why or "too few switches between linked contacts in this view to estimate")
    reps = [x for r_g, g in _replicates(arr) if not _no_linked(r_g, arr.channels)
            and (x := _unanswered(r_g, arr, w - arr.pairs[g])) is not None]
    low, high = _interval(full, reps) if len(reps) == len(arr.groups) else (0.0, 1.0)
    return Estimate(observed, n, d, min(max(full, 0.0), 1.0), low, high)


def headline_estimates(inputs: EstimateInputs) -> HeadlineEstimates:
    """The two headline shares of one view (`EstimateInputs.select`), observed and estimated, with coverage."""
    j, sw, c = inputs.journeys, inputs.switches, inputs.contacts
    journeys, switching = int(j["journeys"].sum()), int(j["switching"].sum())
    switches, unanswered = int(sw["switches"].sum()), int(sw["unanswered"].sum())
    arr = _arrays(inputs)
    switching_est, journeys_estimated = _switching_estimate(
        arr, switching / journeys if journeys else None, switching, journeys)
    unanswered_est = _unanswered_estimate(arr, unanswered / switches if switches else None, unanswered, switches)
    coverage = Coverage(
        contacts=int(c["contacts"].sum()), contacts_linked=int(c["linked"].sum()),
        contacts_in_review=int(c["in_review"].sum()), persons_unresolved=int(inputs.unresolved["person"].nunique()),
        journeys=journeys, journeys_estimated=journeys_estimated)
    return HeadlineEstimates(switching_est, unanswered_est, coverage)
