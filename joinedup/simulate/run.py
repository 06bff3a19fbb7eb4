"""Run a simulation day by day and write the register, each day's native exports and the ground truth.

Journeys are played out in the order they start, and a local day is written as soon as no journey that has not
started yet could add a contact to it, so memory holds only the journeys in flight, not the year.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

import numpy as np

from joinedup.simulate import clock
from joinedup.simulate.behaviour import WEEKDAY_WEIGHT, Contact, JourneyEngine
from joinedup.simulate.exports import Renderer, render_day, write_day
from joinedup.simulate.population import Person, build_population, format_phone
from joinedup.simulate.settings import CHANNELS, Settings

REGISTER_COLUMNS = (
    "citizen_id", "given_name", "family_name", "date_of_birth", "address_line", "town", "postcode", "email",
    "phone", "reference_id", "known_handles",
)
TRUTH_CONTACT_COLUMNS = (
    "contact_id", "person_key", "citizen_id", "journey_id", "channel", "platform", "service", "occurred_at",
    "outcome",
)
TRUTH_JOURNEY_COLUMNS = (
    "journey_id", "person_key", "citizen_id", "service", "started_at", "ended_at", "n_contacts", "channel_path",
    "n_switches", "is_resolved",
)
TRUTH_PERSON_COLUMNS = ("person_key", "citizen_id", "in_register", "uses_social", "platform", "household_id")


@dataclass
class Summary:
    citizens: int
    persons: int
    days: int
    start: date
    contacts_by_channel: dict[str, int] = field(default_factory=dict)
    contacts_in_register: int = 0
    journeys: int = 0
    switching_journeys: int = 0

    @property
    def contacts(self) -> int:
        return sum(self.contacts_by_channel.values())

    @property
    def share_in_register(self) -> float:
        return self.contacts_in_register / self.contacts if self.contacts else 0.0

    @property
    def share_switching(self) -> float:
        return self.switching_journeys / self.journeys if self.journeys else 0.0

    def to_dict(self) -> dict:
        return {
            "citizens": self.citizens,
            "persons": self.persons,
            "days": self.days,
            "start": self.start.isoformat(),
            "contacts": self.contacts,
            "contacts_by_channel": self.contacts_by_channel,
            "share_contacts_in_register": round(self.share_in_register, 4),
            "journeys": self.journeys,
            "switching_journeys": self.switching_journeys,
            "share_journeys_switching": round(self.share_switching, 4),
        }


def _register_row(p: Person) -> list[str]:
    return [
        p.citizen_id or "", p.given, p.family, p.dob.isoformat(), p.reg_address_line, p.reg_town, p.reg_postcode,
        p.reg_email, format_phone(p.reg_phone, 1), p.reference_id,
        f"{p.platform}:{p.handle}" if p.handle_known else "",  # a CRM notes the network with the handle
    ]


def _write_csv(path: Path, header: tuple[str, ...], rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _needs_by_day(people: list[Person], days: int, start: date, seed: int) -> list[np.ndarray]:
    """Which people start a need on each day: Poisson counts per person, days weighted by weekday."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    rates = np.fromiter((p.need_rate for p in people), dtype=float, count=len(people)) * days / 365.0
    counts = rng.poisson(rates)
    who = np.repeat(np.arange(len(people)), counts)
    weights = np.array([WEEKDAY_WEIGHT[(start + timedelta(days=d)).weekday()] for d in range(days)])
    day_of = rng.choice(days, size=len(who), p=weights / weights.sum())
    order = np.lexsort((who, day_of))
    who, day_of = who[order], day_of[order]
    bounds = np.searchsorted(day_of, np.arange(days + 1))
    return [who[bounds[d] : bounds[d + 1]] for d in range(days)]


def simulate(
    out: Path,
    citizens: int,
    days: int,
    start: date,
    seed: int,
    settings: Settings | None = None,
    on_day: Callable[[int], None] | None = None,
) -> Summary:
    settings = settings or Settings()
    out = Path(out)
    people = build_population(settings, citizens, seed)
    _write_csv(out / "register" / "citizens.csv", REGISTER_COLUMNS, (_register_row(p) for p in people if p.citizen_id))
    _write_csv(
        out / "truth" / "persons.csv",
        TRUTH_PERSON_COLUMNS,
        ((p.key, p.citizen_id or "", int(bool(p.citizen_id)), int(p.uses_social), p.platform, p.household) for p in people),
    )

    engine = JourneyEngine(settings, seed)
    renderer = Renderer(settings, seed)
    services = tuple(settings.service_mix)
    service_cw = tuple(accumulate(settings.service_mix.values()))
    end = start + timedelta(days=days - 1)
    summary = Summary(citizens=citizens, persons=len(people), days=days, start=start)
    by_channel: Counter[str] = Counter({ch: 0 for ch in CHANNELS})
    pending: dict[date, list[Contact]] = defaultdict(list)

    truth_dir = out / "truth"
    with (truth_dir / "contacts.csv").open("w", newline="", encoding="utf-8") as fc, (
        truth_dir / "journeys.csv"
    ).open("w", newline="", encoding="utf-8") as fj:
        contacts_w = csv.writer(fc, lineterminator="\n")
        journeys_w = csv.writer(fj, lineterminator="\n")
        contacts_w.writerow(TRUTH_CONTACT_COLUMNS)
        journeys_w.writerow(TRUTH_JOURNEY_COLUMNS)
        for d, who in enumerate(_needs_by_day(people, days, start, seed)):
            day = start + timedelta(days=d)
            for idx in who.tolist():
                j = engine.journey(people[idx], day, services, service_cw)
                kept = [c for c in j.contacts if clock.local(c.occurred_at).date() <= end]
                if not kept:
                    continue
                for c in kept:
                    pending[clock.local(c.occurred_at).date()].append(c)
                path = [c.channel for c in kept]
                last = kept[-1]
                resolved = j.is_resolved and last.resolved_at is not None and len(kept) == len(j.contacts)
                journeys_w.writerow((
                    j.journey_id, j.person.key, j.person.citizen_id or "", j.service,
                    f"{kept[0].occurred_at:%Y-%m-%dT%H:%M:%SZ}", f"{last.occurred_at:%Y-%m-%dT%H:%M:%SZ}",
                    len(kept), ">".join(path), sum(a != b for a, b in zip(path, path[1:])), int(resolved),
                ))
                summary.journeys += 1
                summary.switching_journeys += len(set(path)) > 1
            files, truth = render_day(renderer, day, pending.pop(day, []))
            write_day(out, day, files)
            contacts_w.writerows(truth)
            for row in truth:
                by_channel[row[4]] += 1
                summary.contacts_in_register += bool(row[2])
            if on_day:
                on_day(d)
    summary.contacts_by_channel = dict(by_channel)
    (out / "truth" / "summary.json").write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    (out / "truth" / "settings.json").write_text(
        json.dumps(settings.to_dict(), indent=2, default=list) + "\n"
    )
    return summary
