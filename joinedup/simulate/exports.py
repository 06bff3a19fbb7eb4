"""Each channel's native export, written as the source system writes it (see docs/data-contract.md).

Rendering draws from its own random stream in a fixed order (day, channel, time), so the same seed gives the
same bytes. Natural keys are numbered here, in chronological order, because that is what source systems do.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from joinedup.simulate import clock, texts
from joinedup.simulate.behaviour import Contact
from joinedup.simulate.population import Person, format_phone, maybe_typo
from joinedup.simulate.settings import CHANNELS, Settings

QUEUE = {
    "council_tax": "Council Tax", "waste": "Waste & Recycling", "housing_repairs": "Housing Repairs",
    "benefits": "Benefits", "parking": "Parking", "planning": "Planning", "adult_social_care": "Adult Social Care",
    "highways": "Highways", "environmental_health": "Environmental Health", "general": "General Enquiries",
}
MAILBOX = {s: f"{s.replace('_', '')}@ridings.example.gov.uk" for s in QUEUE}
SMS_KEYWORD = {
    "council_tax": "CTAX", "waste": "BINS", "housing_repairs": "REPAIR", "benefits": "BEN", "parking": "PARK",
    "planning": "PLAN", "adult_social_care": "CARE", "highways": "ROADS", "environmental_health": "ENV",
    "general": "HELP",
}
FORM = {s: f"{q} enquiry" for s, q in QUEUE.items()} | {
    "council_tax": "Council Tax - tell us you have moved",
    "waste": "Report a missed bin",
    "parking": "Pay or challenge a PCN",
    "highways": "Report a pothole",
}
TICKET_LETTER = {s: chr(ord("A") + i) for i, s in enumerate(QUEUE)}
BRANCHES = ("Civic Centre", "Morley Hub", "Otley One Stop")
ACCENTED = {"Zoe": "Zoë", "Chloe": "Chloë", "Renee": "Renée", "Noel": "Noël", "Joel": "Joël"}

SOURCE_SYSTEM = {
    "phone": "telephony-cdr",
    "email": "mailbox",
    "webchat": "webchat",
    "social": "social-inbox",
    "sms": "sms-gateway",
    "letter": "mailroom",
    "web_form": "forms",
    "face_to_face": "qms",
}
CSV_HEADERS = {
    "phone": "CallID,StartTime,CLI,DNIS,Queue,WaitSecs,TalkSecs,Disposition,AgentID,CallerName,CallerPostcode,CaseRef",
    "social": "Message ID,Network,Message Type,Received,From Handle,From Name,Profile Location,Message,"
    "First Reply,Replied By,Status",
    "sms": "id,received_at,from,to,keyword,message,reply_at,status",
    "letter": "Ref,Date Received,Time Scanned,Sender Name,Sender Address,Postcode,Subject,Department,Case Ref,"
    "Reply Sent",
    "web_form": "submission_id,form,started_at,submitted_at,status,error,first_name,last_name,email,phone,postcode,"
    "address,date_of_birth,reference",
    "face_to_face": "Branch,Date,Ticket,Service,Issued,Called,Finished,Outcome,Customer Name,Postcode,DOB",
}
ENCODING = {"letter": "cp1252", "social": "utf-8-sig"}


def file_name(channel: str, day: date) -> str:
    return {
        "phone": f"cdr_{day:%Y%m%d}.csv",
        "email": f"mailbox_{day:%Y-%m-%d}.jsonl",
        "webchat": f"transcripts_{day:%Y-%m-%d}.json",
        "social": f"social_inbox_{day:%Y-%m-%d}.csv",
        "sms": f"inbound_{day:%Y%m%d}.csv",
        "letter": f"mailroom_{day:%Y%m%d}.csv",
        "web_form": f"submissions_{day:%Y-%m-%d}.csv",
        "face_to_face": f"tickets_{day:%Y%m%d}.csv",
    }[channel]


def _utc_z(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else ""


def _iso_offset(t: datetime | None) -> str | None:
    return clock.local(t).isoformat(timespec="seconds") if t else None


def _street(p: Person) -> str:
    return p.address_line.split(" ", 1)[1]


def _postcode_as_typed(rng: random.Random, pc: str) -> str:
    roll = rng.random()
    if roll < 0.2:
        return pc.lower()
    if roll < 0.35:
        return pc.replace(" ", "")
    return pc


@dataclass
class Renderer:
    """Turns simulated contacts into native rows; keeps the per-system counters that number natural keys."""

    settings: Settings
    seed: int
    counters: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"{self.seed}:render")

    def _next(self, key: str, start: int = 1) -> int:
        n = self.counters.get(key, start - 1) + 1
        self.counters[key] = n
        return n

    def _name(self, p: Person, formal: bool = False) -> tuple[str, str]:
        rng, rate = self.rng, self.settings.typo_rate
        given = p.given if formal or rng.random() < 0.6 else p.nick
        given = ACCENTED.get(given, given) if rng.random() < 0.5 else given
        return maybe_typo(rng, given, rate), maybe_typo(rng, p.family, rate)

    # --- channels ----------------------------------------------------------------------------------------
    def phone(self, c: Contact) -> tuple[str, list]:
        rng, p = self.rng, c.person
        call_id = self._next("phone", 1_000_001)
        number = p.mobile if p.mobile and (not p.landline or rng.random() < 0.7) else p.landline
        if c.withheld or not number:
            cli = rng.choice(("Withheld", "Anonymous", "Unavailable"))
        else:
            cli = format_phone(number, rng.choice((0, 0, 2)))
        answered = c.first_response_at is not None
        name = postcode = ""
        if answered and rng.random() < 0.7:
            g, f = self._name(p, formal=rng.random() < 0.5)
            name = f"{p.title} {g} {f}" if rng.random() < 0.3 else f"{g} {f}"
            postcode = _postcode_as_typed(rng, p.postcode) if rng.random() < 0.85 else ""
        disposition = {"missed": "CLOSED", "abandoned": "ABANDONED"}.get(c.outcome, "ANSWERED")
        row = [
            call_id, f"{clock.local(c.occurred_at):%d/%m/%Y %H:%M:%S}", cli, "01132224000", QUEUE[c.service],
            c.wait_s, c.handle_s if answered else 0, disposition,
            f"A{rng.randint(1000, 1099)}" if answered else "", name, postcode, c.case_ref if answered else "",
        ]
        return str(call_id), row

    def email(self, c: Contact) -> tuple[str, dict]:
        rng, p = self.rng, c.person
        n = self._next("email")
        domain = p.email.split("@")[1]
        digest = hashlib.sha1(f"{self.seed}:{n}".encode()).hexdigest()[:10]
        message_id = f"<{n:09d}.{digest}@{domain}>"
        g, f = self._name(p)
        from_name = rng.choice((f"{g} {f}", f"{g} {f}", g.lower(), "", f"{f}, {g}"))
        ask = texts.ask(rng, c.service, _street(p))
        body = texts.with_mentions(
            rng, f"Hello,\n\n{ask}.", case_ref=c.case_ref if c.quotes_ref else "", postcode=p.postcode,
            phone=format_phone(p.mobile, p.phone_style), p_postcode=0.35, p_phone=0.25,
        )
        sign = rng.choice((f"{g}", f"{g} {f}", f"Regards\n{g} {f}", "Sent from my iPhone", ""))
        subject = (f"RE: {QUEUE[c.service]} [{c.case_ref}]" if c.quotes_ref else ask[:60])
        record = {
            "message_id": message_id,
            "received_utc": _utc_z(c.occurred_at),
            "mailbox": MAILBOX[c.service],
            "from_address": p.email if rng.random() < 0.97 else p.email.upper(),
            "from_name": from_name,
            "subject": subject,
            "body": f"{body}\n\n{sign}".strip(),
            "first_reply_utc": _utc_z(c.first_response_at) or None,
            "closed_utc": _utc_z(c.resolved_at) or None,
            "case_ref": c.case_ref if c.first_response_at else None,
        }
        return message_id, record

    def webchat(self, c: Contact) -> tuple[str, dict]:
        rng, p = self.rng, c.person
        chat_id = f"CH-{self._next('webchat'):07d}"
        g, f = self._name(p)
        name = rng.choice((g, f"{g} {f}", f"{g} {f}", g.lower()))
        ask = texts.ask(rng, c.service, _street(p))
        opener = texts.with_mentions(rng, ask, case_ref=c.case_ref if c.quotes_ref else "", postcode=p.postcode)
        messages = [{"from": "visitor", "at": _iso_offset(c.occurred_at), "text": opener}]
        ended = None
        if c.first_response_at:
            messages.append({"from": "agent", "at": _iso_offset(c.first_response_at),
                             "text": f"Hi {name.split()[0]}, thanks for waiting. Let me look into that for you."})
            ended = c.first_response_at + timedelta(seconds=c.handle_s)
        status = {"answered": "completed", "resolved": "completed", "abandoned": "abandoned"}.get(c.outcome, "missed")
        record = {
            "chat_id": chat_id,
            "started_at": _iso_offset(c.occurred_at),
            "queue": QUEUE[c.service],
            "status": status,
            "agent_joined_at": _iso_offset(c.first_response_at),
            "ended_at": _iso_offset(ended),
            "visitor": {
                "name": name,
                "email": p.email if rng.random() < 0.6 else "",
                "postcode": _postcode_as_typed(rng, p.postcode) if rng.random() < 0.4 else "",
            },
            "messages": messages,
        }
        return chat_id, record

    def social(self, c: Contact) -> tuple[str, list]:
        rng, p = self.rng, c.person
        n = self._next("social")
        is_x = p.platform == "x"
        message_id = f"X-{1_789_000_000_000_000 + n * 7919}" if is_x else f"FB-{100_000_000 + n}_{n % 997}"
        kind = rng.choice(("Mention", "Mention", "DM")) if is_x else rng.choice(("Comment", "Message"))
        private = kind in ("DM", "Message")
        tag = rng.choice(texts.SOCIAL_TAGS) + " " if is_x and kind == "Mention" else ""
        text = texts.with_mentions(
            rng, tag + texts.ask(rng, c.service, _street(p)), case_ref=c.case_ref if c.quotes_ref else "",
            postcode=p.postcode if private else "", phone=format_phone(p.mobile, p.phone_style) if private else "",
            email=p.email if private else "", p_postcode=0.4, p_phone=0.25, p_email=0.2,
        )
        replied = c.first_response_at is not None
        status = "Closed" if c.resolved_at else ("Replied" if replied else "Unanswered")
        row = [
            message_id, "Twitter/X" if is_x else "Facebook", kind, f"{clock.local(c.occurred_at):%Y-%m-%d %H:%M}",
            f"@{p.handle}" if is_x else p.handle, p.display_name, p.location, text,
            f"{clock.local(c.first_response_at):%Y-%m-%d %H:%M}" if replied else "",
            rng.choice(("JS", "AK", "MP", "RH")) if replied else "", status,
        ]
        return message_id, row

    def sms(self, c: Contact) -> tuple[str, list]:
        rng, p = self.rng, c.person
        sms_id = f"SM{self._next('sms'):07d}"
        keyword = SMS_KEYWORD[c.service]
        text = texts.with_mentions(rng, texts.ask(rng, c.service, _street(p)),
                                   case_ref=c.case_ref if c.quotes_ref else "", postcode=p.postcode, p_postcode=0.3)
        if rng.random() < 0.2:
            text += f" Thanks, {p.nick}"
        row = [
            sms_id, _utc_z(c.occurred_at), "44" + p.mobile[1:], "60777", keyword, f"{keyword} {text}",
            _utc_z(c.first_response_at), "replied" if c.first_response_at else "unreplied",
        ]
        return sms_id, row

    def letter(self, c: Contact) -> tuple[str, list]:
        rng, p = self.rng, c.person
        ref = f"ML-{self._next('letter'):06d}"
        g, f = self._name(p, formal=True)
        style = rng.randrange(3)
        sender = (f"{p.title} {g[0]}. {f}", f"{p.title} {g} {f}", f"{g} {f}")[style]
        lt = clock.local(c.occurred_at)
        subject = texts.ask(rng, c.service, _street(p))[:80]
        row = [
            ref, f"{lt:%d/%m/%Y}", f"{lt:%H:%M}", sender, f"{p.address_line}, {p.town}",
            p.postcode if rng.random() < 0.9 else "", subject, QUEUE[c.service],
            c.case_ref if c.quotes_ref else "",
            f"{clock.local(c.first_response_at):%d/%m/%Y}" if c.first_response_at else "",
        ]
        return ref, row

    def web_form(self, c: Contact) -> tuple[str, list]:
        rng, p = self.rng, c.person
        sid = f"F-{self._next('web_form'):07d}"
        g, f = self._name(p, formal=rng.random() < 0.7)
        reference = c.case_ref if c.quotes_ref else (
            (p.reference_id or "") if c.service == "council_tax" and rng.random() < 0.5 else ""
        )
        row = [
            sid, FORM[c.service], c.native["started_at"].isoformat(timespec="seconds"),
            c.occurred_at.isoformat(timespec="seconds"), "failed" if c.outcome == "failed" else "submitted",
            c.native.get("error", ""), g, f, p.email if rng.random() < 0.9 else "",
            format_phone(p.mobile or p.landline, p.phone_style) if rng.random() < 0.6 else "",
            _postcode_as_typed(rng, p.postcode), p.address_line,
            f"{p.dob:%d/%m/%Y}" if rng.random() < 0.35 else "", reference,
        ]
        return sid, row

    def face_to_face(self, c: Contact) -> tuple[str, list]:
        rng, p = self.rng, c.person
        branch = BRANCHES[p.household % len(BRANCHES)]
        lt = clock.local(c.occurred_at)
        ticket = f"{TICKET_LETTER[c.service]}{self._next(f'qms:{branch}:{lt:%Y%m%d}:{c.service}'):03d}"
        served = c.first_response_at is not None
        name = postcode = dob = ""
        if served and rng.random() < 0.8:
            g, f = self._name(p, formal=True)
            name, postcode = f"{g} {f}", p.postcode if rng.random() < 0.7 else ""
            dob = f"{p.dob:%d/%m/%Y}" if rng.random() < 0.35 else ""
        called = clock.local(c.first_response_at) if served else None
        finished = called + timedelta(seconds=c.handle_s) if called else None
        row = [
            branch, f"{lt:%d/%m/%Y}", ticket, QUEUE[c.service], f"{lt:%H:%M:%S}",
            f"{called:%H:%M:%S}" if called else "",
            f"{finished:%H:%M:%S}" if finished else "",
            "Served" if served else "Left", name, postcode, dob,
        ]
        return f"{branch}-{lt:%Y-%m-%d}-{ticket}", row


def _csv_bytes(header: str, rows: list[list], encoding: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header.split(","))
    writer.writerows(rows)
    return buf.getvalue().encode(encoding, errors="replace")


def render_day(renderer: Renderer, day: date, contacts: list[Contact]) -> tuple[dict[str, bytes], list[tuple]]:
    """All channels' files for one local day, and the truth rows linking each contact to its person."""
    by_channel: dict[str, list[Contact]] = {ch: [] for ch in CHANNELS}
    for c in contacts:
        by_channel[c.channel].append(c)
    files: dict[str, bytes] = {}
    truth: list[tuple] = []
    for ch in CHANNELS:
        items = sorted(by_channel[ch], key=lambda c: (c.occurred_at, c.journey_id))
        render: Callable[[Contact], tuple[str, object]] = getattr(renderer, ch)
        records = []
        for c in items:
            key, record = render(c)
            records.append(record)
            truth.append((
                f"{SOURCE_SYSTEM[ch]}:{key}", c.person.key, c.person.citizen_id or "", c.journey_id, ch,
                c.native.get("platform", ""), c.service, _utc_z(c.occurred_at), c.outcome,
            ))
        if ch in CSV_HEADERS:
            data = _csv_bytes(CSV_HEADERS[ch], records, ENCODING.get(ch, "utf-8"))
        elif ch == "email":
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
        else:
            doc = {"export_date": f"{day:%Y-%m-%d}", "chats": records}
            data = (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        files[ch] = data
    return files, truth


def write_day(out: Path, day: date, files: dict[str, bytes]) -> None:
    for ch, data in files.items():
        folder = out / "exports" / ch / f"{day:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / file_name(ch, day)).write_bytes(data)
