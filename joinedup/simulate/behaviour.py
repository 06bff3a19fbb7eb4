"""How a need becomes a journey of contacts.

Each channel is a small state machine: it decides whether a human answered and when, whether that resolved the
need, and if not what the citizen does next (retry, switch channel, chase later, give up). The rules and their
figures live in `Settings`; this module only applies them, so the behaviour is documented in one place.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate

from joinedup.simulate import clock
from joinedup.simulate.population import Person
from joinedup.simulate.settings import Settings

# Weekday and hour-of-day shape of demand (Monday=0). Digital demand spreads into evenings and weekends.
WEEKDAY_WEIGHT = (1.30, 1.10, 1.00, 1.00, 0.90, 0.45, 0.35)
HOUR_WEIGHT_WEEKDAY = (
    0.05, 0.03, 0.02, 0.02, 0.02, 0.05, 0.15, 0.45, 1.20, 1.60, 1.50, 1.30,
    1.10, 1.30, 1.30, 1.10, 0.90, 0.70, 0.60, 0.60, 0.55, 0.45, 0.30, 0.12,
)
HOUR_WEIGHT_WEEKEND = (
    0.08, 0.04, 0.02, 0.02, 0.02, 0.03, 0.06, 0.15, 0.40, 0.70, 0.90, 0.95,
    0.90, 0.85, 0.80, 0.75, 0.70, 0.65, 0.60, 0.60, 0.55, 0.45, 0.30, 0.15,
)
HOURS = tuple(range(24))
_HOUR_CUM_WEEKDAY = tuple(accumulate(HOUR_WEIGHT_WEEKDAY))
_HOUR_CUM_WEEKEND = tuple(accumulate(HOUR_WEIGHT_WEEKEND))
# Where people go after a channel failed them (assumed; social only for social users).
SWITCH_TO = {
    "phone": {"email": 0.35, "web_form": 0.25, "webchat": 0.12, "face_to_face": 0.10, "social": 0.12, "letter": 0.06},
    "webchat": {"phone": 0.65, "email": 0.20, "web_form": 0.15},
    "web_form": {"phone": 1.0},
    "social": {"phone": 0.60, "email": 0.40},
    "email": {"phone": 0.80, "face_to_face": 0.10, "social": 0.10},
    "sms": {"phone": 0.70, "web_form": 0.30},
    "letter": {"phone": 0.80, "email": 0.20},
    "face_to_face": {"phone": 0.85, "email": 0.15},
}
CASE_PREFIX = {
    "council_tax": "CT", "waste": "WR", "housing_repairs": "HR", "benefits": "BN", "parking": "PK",
    "planning": "PL", "adult_social_care": "AS", "highways": "HW", "environmental_health": "EH", "general": "GE",
}
HUMAN = {"answered", "responded", "resolved", "submitted"}
Next = tuple[str, datetime] | None  # the channel and instant of the citizen's next contact, or none


@dataclass(slots=True)
class Contact:
    person: Person
    journey_id: str
    channel: str
    service: str
    occurred_at: datetime
    outcome: str
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    wait_s: int = 0
    handle_s: int = 0
    case_ref: str = ""
    quotes_ref: bool = False
    withheld: bool = False
    native: dict = field(default_factory=dict)


@dataclass(slots=True)
class Journey:
    journey_id: str
    person: Person
    service: str
    contacts: list[Contact]
    is_resolved: bool


def _expo(rng: random.Random, mean: float) -> float:
    return rng.expovariate(1.0 / mean)


def _after(t: datetime, hours: float) -> datetime:
    return t + timedelta(hours=hours)


def _lognormal_median(rng: random.Random, median: float, sigma: float = 0.8) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def _pick(rng: random.Random, weights: dict[str, float], allowed: set[str] | None = None) -> str:
    keys = [k for k in weights if allowed is None or k in allowed]
    return rng.choices(keys, [weights[k] for k in keys])[0]


def start_time(rng: random.Random, day: date) -> datetime:
    cum = _HOUR_CUM_WEEKEND if day.weekday() >= 5 else _HOUR_CUM_WEEKDAY
    hour = rng.choices(HOURS, cum_weights=cum)[0]
    return clock.at_local(day, hour + rng.random()) + timedelta(seconds=rng.randrange(60))


def _phone_load(t: datetime) -> float:
    """Staffing against demand: Monday mornings and lunchtimes queue longest."""
    lt = clock.local(t)
    factor = 1.5 if lt.weekday() == 0 else 1.0
    if 8 <= lt.hour < 11:
        factor *= 1.5
    elif 12 <= lt.hour < 14:
        factor *= 1.3
    return factor


class JourneyEngine:
    """Plays out needs; case references and journey ids are numbered in the order needs are simulated."""

    def __init__(self, settings: Settings, seed: int):
        self.s = settings
        self.rng = random.Random(f"{seed}:behaviour")
        self._journeys = 0
        self._case_counter: dict[str, int] = {}

    # --- choosing ---------------------------------------------------------------------------------------
    def first_channel(self, p: Person, t: datetime) -> str:
        s, rng = self.s, self.rng
        if p.uses_social and rng.random() < s.social_first_share:
            return "social"
        weights = dict(s.channel_mix)
        weights.pop("social")
        for ch in ("phone", "letter", "face_to_face"):
            weights[ch] *= 1.6 - p.digital
        for ch in ("web_form", "email", "webchat", "sms"):
            weights[ch] *= 0.4 + p.digital
        if not p.mobile:  # no mobile, no texting
            weights["sms"] = 0.0
        if not clock.is_open(t, s.phone_hours):  # out of hours, most people go digital
            for ch in ("phone", "face_to_face", "webchat"):
                weights[ch] *= s.out_of_hours_staffed_factor
        return _pick(rng, weights)

    def _switch_channel(self, p: Person, from_channel: str) -> str:
        allowed = {c for c in SWITCH_TO[from_channel] if c != "social" or p.uses_social}
        return _pick(self.rng, SWITCH_TO[from_channel], allowed)

    def _case_ref(self, service: str, t: datetime) -> str:
        key = f"{CASE_PREFIX[service]}-{clock.local(t):%y%m%d}"
        n = self._case_counter.get(key, 0) + 1
        self._case_counter[key] = n
        return f"{key}-{n:04d}"

    # --- a journey ---------------------------------------------------------------------------------------
    def journey(self, p: Person, day: date, services: tuple[str, ...], service_cw: tuple[float, ...]) -> Journey:
        s, rng = self.s, self.rng
        self._journeys += 1
        jid = f"J{self._journeys:08d}"
        service = rng.choices(services, cum_weights=service_cw)[0]
        t = start_time(rng, day)
        channel = self.first_channel(p, t)
        contacts: list[Contact] = []
        case_ref = ""
        phone_fails = 0
        resolved = False
        while len(contacts) < s.max_contacts_per_journey:
            if channel == "face_to_face":
                t = clock.next_open(t, s.counter_hours)
            c = Contact(p, jid, channel, service, t, "missed")
            c.case_ref = case_ref
            c.quotes_ref = bool(case_ref) and rng.random() < 0.6
            nxt = getattr(self, f"_{channel}")(c)
            contacts.append(c)
            if c.outcome in HUMAN and not case_ref:
                case_ref = c.case_ref = self._case_ref(service, c.first_response_at or c.occurred_at)
            if c.resolved_at is not None:
                resolved = True
                break
            if nxt is None:
                break
            next_channel, t = nxt
            if c.outcome in HUMAN:
                phone_fails = 0
            elif channel == "phone":
                phone_fails += 1
            if next_channel == "phone" and phone_fails >= 2:  # callers try at most twice
                if rng.random() >= s.phone_switch_after_fail:
                    break
                next_channel = self._switch_channel(p, "phone")
            staffed = {"phone": s.phone_hours, "webchat": s.webchat_hours}.get(next_channel)
            if staffed and not clock.is_open(t, staffed) and rng.random() < s.wait_for_opening:
                t = clock.next_open(t, staffed) + timedelta(minutes=_expo(rng, 90))
            channel = next_channel
        return Journey(jid, p, service, contacts, resolved)

    # --- after a human handled it ---------------------------------------------------------------------------
    def _after_handled(self, c: Contact, done_at: datetime) -> Next:
        """Resolved now, resolved later by the back office, chased by the citizen (failure demand), or dropped."""
        s, rng = self.s, self.rng
        if rng.random() < s.resolve_share[c.channel]:
            c.outcome = "resolved"
            c.resolved_at = done_at
            return None
        if rng.random() < s.chase_if_unresolved:
            delay_days = rng.uniform(*s.chase_days)
            chase = c.channel if rng.random() < 0.45 and c.channel != "web_form" else self._switch_channel(
                c.person, c.channel if c.channel in SWITCH_TO else "phone"
            )
            return chase, done_at + timedelta(days=delay_days)
        if rng.random() < 0.6:
            c.resolved_at = clock.add_working_hours(done_at, rng.uniform(8, 60), s.back_office_hours)
        return None

    def _switch_later(self, c: Contact, p_switch: float, delay_mean_h: float) -> Next:
        if self.rng.random() >= p_switch:
            return None
        return self._switch_channel(c.person, c.channel), _after(c.occurred_at, _expo(self.rng, delay_mean_h))

    # --- channels ----------------------------------------------------------------------------------------
    def _phone(self, c: Contact) -> Next:
        s, rng = self.s, self.rng
        c.withheld = rng.random() < s.share_withheld_cli
        if not clock.is_open(c.occurred_at, s.phone_hours):
            c.outcome = "missed"
        else:
            wait = _expo(rng, s.phone_mean_wait_s * _phone_load(c.occurred_at))
            patience = _expo(rng, s.phone_mean_patience_s)
            if wait > patience:
                c.outcome, c.wait_s = "abandoned", int(patience)
            else:
                c.outcome, c.wait_s = "answered", int(wait)
                c.handle_s = int(_expo(rng, s.phone_mean_talk_s)) + 30
                c.first_response_at = c.occurred_at + timedelta(seconds=c.wait_s)
                done = c.first_response_at + timedelta(seconds=c.handle_s)
                return self._after_handled(c, done)
        # a failed call: most callers try once more, a fifth try only once (the journey caps tries at two)
        if rng.random() >= s.phone_share_single_try:
            return "phone", _after(c.occurred_at, _expo(rng, 0.75))
        return self._switch_later(c, s.phone_switch_after_fail, 3.0)

    def _social(self, c: Contact) -> Next:
        s, rng = self.s, self.rng
        c.native["platform"] = c.person.platform
        in_hours = clock.is_open(c.occurred_at, s.social_team_hours)
        no_reply = s.social_no_reply_in_hours if in_hours else s.social_no_reply_out_of_hours
        reply: datetime | None = None
        if rng.random() >= no_reply:
            start = clock.next_open(c.occurred_at, s.social_team_hours)
            reply = start + timedelta(minutes=_lognormal_median(rng, s.social_median_reply_min))
        patience = timedelta(minutes=c.person.expect_minutes * rng.uniform(1.0, 3.0))
        if reply is not None:
            c.first_response_at = reply
            c.outcome = "responded"
            c.handle_s = int(_expo(rng, 240)) + 60
        else:
            c.outcome = "no_response"
        if reply is not None and reply - c.occurred_at <= patience:
            if rng.random() < s.social_resolve_share:
                c.outcome = "resolved"
                c.resolved_at = reply
                return None
            # redirected: "please call us / fill in the form"
            return _pick(rng, {"phone": 0.6, "web_form": 0.4}), _after(reply, _expo(rng, 1.0))
        # unanswered (or answered too late): a call or an email within hours
        if rng.random() < s.social_switch_if_unanswered:
            gave_up = c.occurred_at + patience
            return _pick(rng, SWITCH_TO["social"]), _after(gave_up, _expo(rng, s.social_switch_mean_hours))
        return None

    def _web_form(self, c: Contact) -> Next:
        s, rng = self.s, self.rng
        c.handle_s = int(_expo(rng, 420)) + 60
        c.native["started_at"] = c.occurred_at
        c.occurred_at = c.occurred_at + timedelta(seconds=c.handle_s)
        if rng.random() < s.web_failure_rate:
            c.outcome = "failed"
            c.native["error"] = rng.choice(
                ("PAYMENT_DECLINED", "ADDRESS_NOT_FOUND", "SESSION_TIMEOUT", "VALIDATION_DEAD_END", "UPLOAD_FAILED")
            )
            roll = rng.random()
            if roll < s.web_call_after_failure:
                return "phone", _after(c.occurred_at, _expo(rng, 0.5))
            if roll < s.web_call_after_failure + 0.15:
                return "web_form", _after(c.occurred_at, _expo(rng, 1.0))
            return None
        c.outcome = "submitted"
        c.first_response_at = clock.add_working_hours(c.occurred_at, rng.uniform(1, 24), s.back_office_hours)
        return self._after_handled(c, c.first_response_at)

    def _email(self, c: Contact) -> Next:
        s, rng = self.s, self.rng
        wh = _lognormal_median(rng, s.email_median_reply_working_hours, 0.9)
        reply = clock.add_working_hours(c.occurred_at, wh, s.back_office_hours)
        # impatient chasers ring before the reply lands
        if reply - c.occurred_at > timedelta(days=3) and rng.random() < 0.4:
            c.outcome = "no_response"
            c.native["late_reply"] = reply
            return "phone", _after(c.occurred_at, rng.uniform(72, 100))
        c.first_response_at = reply
        c.outcome = "responded"
        c.handle_s = int(_expo(rng, 600)) + 120
        return self._after_handled(c, reply)

    def _webchat(self, c: Contact) -> Next:
        s, rng = self.s, self.rng
        if not clock.is_open(c.occurred_at, s.webchat_hours):
            c.outcome = "missed"
            return _pick(rng, {"email": 0.5, "phone": 0.5}), _after(c.occurred_at, _expo(rng, 10.0))
        wait = _expo(rng, s.webchat_mean_wait_s)
        patience = _expo(rng, s.webchat_mean_patience_s)
        if wait > patience:
            c.outcome, c.wait_s = "abandoned", int(patience)
            return self._switch_later(c, 0.8, 0.3)
        c.outcome, c.wait_s = "answered", int(wait)
        c.first_response_at = c.occurred_at + timedelta(seconds=c.wait_s)
        c.handle_s = int(_expo(rng, 480)) + 60
        return self._after_handled(c, c.first_response_at + timedelta(seconds=c.handle_s))

    def _sms(self, c: Contact) -> Next:
        s, rng = self.s, self.rng
        if rng.random() < 0.10:
            c.outcome = "no_response"
            return self._switch_later(c, 0.6, 20.0)
        start = clock.next_open(c.occurred_at, s.back_office_hours)
        c.first_response_at = start + timedelta(minutes=_lognormal_median(rng, s.sms_median_reply_min))
        c.outcome = "responded"
        c.handle_s = int(_expo(rng, 120)) + 30
        return self._after_handled(c, c.first_response_at)

    def _letter(self, c: Contact) -> Next:
        s, rng = self.s, self.rng
        # posted letters arrive in the mailroom a day or two later, during opening hours
        arrives = c.occurred_at + timedelta(days=rng.choice((1, 1, 2)))
        c.occurred_at = clock.next_open(arrives, s.back_office_hours) + timedelta(minutes=rng.randrange(0, 240))
        days = rng.randint(*s.letter_reply_working_days)
        c.first_response_at = clock.add_working_hours(c.occurred_at, days * 8.0, s.back_office_hours)
        c.outcome = "responded"
        c.handle_s = int(_expo(rng, 900)) + 300
        return self._after_handled(c, c.first_response_at)

    def _face_to_face(self, c: Contact) -> Next:
        s, rng = self.s, self.rng
        wait = _expo(rng, s.counter_mean_wait_min * 60)
        patience = _expo(rng, s.counter_mean_patience_min * 60)
        if wait > patience:
            c.outcome, c.wait_s = "abandoned", int(patience)
            return self._switch_later(c, 0.9, 1.0)
        c.outcome, c.wait_s = "answered", int(wait)
        c.first_response_at = c.occurred_at + timedelta(seconds=c.wait_s)
        c.handle_s = int(_expo(rng, 600)) + 120
        return self._after_handled(c, c.first_response_at + timedelta(seconds=c.handle_s))
