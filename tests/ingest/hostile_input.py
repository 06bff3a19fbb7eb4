"""Writes the hostile-delivery fixture: inputs that used to crash a day, vanish unnamed or land changed.

Each case is a class of fault, not one byte string: out-of-range dates in every kind of date field (local,
UTC with an offset, date-only, a natural key, a date derived from seconds), whole numbers past int64 and past a
timedelta, malformed JSON (lone surrogates, deep nesting, NaN, endless numbers, structure where a value is due),
encodings the channel did not declare (UTF-8 on a cp1252 channel, a file mixing both, UTF-16 with a BOM), and
a landing zone holding more than the channels' patterns (letter case, folders, links, a name that is not
UTF-8, a misnamed day folder, a channel missing from channels.yml). `write_hostile_exports(root)` returns
root/exports; EXPECTED_* say what each file must come to.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.ingest.bad_input import PHONE_HEADER

DAY = "2025-06-02"  # a Monday, British Summer Time
SMILE = "\U0001F600"

EMAIL_CLEAN = {"message_id": "<h1@a.example>", "received_utc": "2025-06-02T08:00:00Z",
               "mailbox": "waste@ridings.example.gov.uk", "from_address": "ann@b.example", "from_name": "Ann Smith"}


def _phone(n: int, when: str = "02/06/2025 09:00:00", wait: str = "30", talk: str = "120") -> str:
    return f"{n},{when},07700900{n % 1000:03d},01132224000,Council Tax,{wait},{talk},ANSWERED,A1001,Ann Smith,LS6 2AB,"


# phone/2025-06-02/cdr_20250602.csv: row -> (field, words in the reason); the other rows load
PHONE_ROWS = [
    _phone(4000001),
    _phone(4000002, when="01/01/0001 00:00:00"),
    _phone(4000003, when="31/12/9999 23:59:59"),
    _phone(4000004, wait="99999999999999999999"),  # past int64 and past a timedelta
    _phone(4000005, talk="9223372036854775808"),  # int64 max + 1
    _phone(4000006, wait="9999999999999"),  # a timedelta, but 317,000 years after the call
    _phone(4000007, wait="-99999999999"),  # 3,000 years before the call
    _phone(4000008, when="02/06/2025 09:30:00"),
]
PHONE_QUARANTINED = {
    2: ("StartTime", "outside the valid years 1900-2100"),
    3: ("StartTime", "outside the valid years 1900-2100"),
    4: ("WaitSecs", "too many seconds for a duration"),
    5: ("TalkSecs", "outside the 64-bit integer range"),
    6: ("WaitSecs", "occurred_at plus these seconds falls outside the valid years"),
    7: ("WaitSecs", "occurred_at plus these seconds falls outside the valid years"),
}


def _email(**kw: object) -> str:
    return json.dumps({**EMAIL_CLEAN, **kw}, ensure_ascii=False)


# email/2025-06-02/mailbox_2025-06-02.jsonl, written as text lines so the escapes stay as delivered
EMAIL_LINES = [
    _email(),
    _email(message_id="<h2@a.example>", from_name="Zoe X").replace("Zoe X", "Zo\\ud83d"),  # lone surrogate
    _email(message_id="<h3@a.example>", body="DEEP").replace('"DEEP"', "[" * 5000 + "]" * 5000),
    _email(message_id="<h4@a.example>", from_name=["Ann", "Smith"]),  # an array where a name is due
    _email(message_id="<h5@a.example>", received_utc="9999-12-31T23:59:59-01:00"),
    _email(message_id="<h6@a.example>", received_utc="0001-01-01T00:30:00+01:00"),
    _email(message_id="<h7@a.example>", case_ref="NUMBER").replace('"NUMBER"', "NaN"),
    _email(message_id="<h8@a.example>", case_ref="NUMBER").replace('"NUMBER"', "7" * 5000),
    _email(message_id="<h9@a.example>", from_name="Ann PAIR").replace("PAIR", "\\ud83d\\ude00"),  # a valid pair
    _email(message_id="<h10@a.example>", mailbox={"name": "waste@ridings.example.gov.uk"}),
]
EMAIL_QUARANTINED = {
    2: ("from_name", "lone UTF-16 surrogate escape"),
    3: (None, "nested deeper than the parser can follow"),
    4: ("from_name", "a JSON array where the contract has a single value"),
    5: ("received_utc", "outside the valid years 1900-2100"),
    6: ("received_utc", "outside the valid years 1900-2100"),
    7: (None, "NaN is not a JSON value"),
    8: (None, "a number too long to read"),
    10: ("mailbox", "a JSON object where the contract has a single value"),
}


def _chat(n: int, **kw: object) -> dict[str, object]:
    chat: dict[str, object] = {
        "chat_id": f"CH-{n}", "started_at": "2025-06-02T10:00:00+00:00", "queue": "Council Tax",
        "status": "completed", "agent_joined_at": "2025-06-02T10:01:00+00:00",
        "ended_at": "2025-06-02T10:09:00+00:00", "visitor": {"name": "Ann Smith", "email": "ann@b.example"},
        "messages": [{"from": "visitor", "text": "my bin"}]}
    return {**chat, **kw}


WEBCHAT_DOC = json.dumps({"export_date": DAY, "chats": [
    _chat(1),
    _chat(2, visitor={"name": "SURROGATE"}),
    _chat(3, visitor={"name": {"given": "Ann", "family": "Smith"}}),
    _chat(4, started_at="0001-01-01T00:00:00Z"),
    _chat(5, messages=[{"from": "visitor", "text": ["my", "bin"]}]),
    _chat(6),
]}).replace("SURROGATE", "\\udc00")
WEBCHAT_QUARANTINED = {
    2: ("visitor", "lone UTF-16 surrogate escape"),
    3: ("visitor.name", "a JSON object where the contract has a single value"),
    4: ("started_at", "outside the valid years 1900-2100"),
    5: ("messages[from=visitor].text", "a JSON array where the contract has a single value"),
}

LETTER_HEADER = "Ref,Date Received,Time Scanned,Sender Name,Sender Address,Postcode,Subject,Department,Case Ref,Reply Sent"
LETTER_UTF8 = [  # UTF-8 without a BOM on the cp1252 channel: read as cp1252, Zoë would land as ZoÃ«
    "ML-100001,02/06/2025,10:00,Mrs Zoë Brontë,1 Haworth Rd,LS6 2AB,Refund of £120 please,Council Tax,,",
    "ML-100002,02/06/2025,10:05,Mr Noël Coward,2 Elm St,LS7 1AA,Bins,Waste & Recycling,,",
]
FACE_HEADER = "Branch,Date,Ticket,Service,Issued,Called,Finished,Outcome,Customer Name,Postcode,DOB"
FORM_HEADER = ("submission_id,form,started_at,submitted_at,status,error,first_name,last_name,email,phone,postcode,"
               "address,date_of_birth,reference")
SMS_HEADER = "id,received_at,from,to,keyword,message,reply_at,status"
SOCIAL_HEADER = ("Message ID,Network,Message Type,Received,From Handle,From Name,Profile Location,Message,First Reply,"
                 "Replied By,Status")


def _form(n: int, submitted: str = "2025-06-02T09:05:00Z", dob: str = "01/02/1980") -> str:
    return (f"S-{n},Report a missed bin,2025-06-02T09:00:00Z,{submitted},submitted,,Ann,Smith,a{n}@b.example,"
            f"07700900001,LS6 2AB,1 Road,{dob},CTA{n}")


def _ticket(n: int, day: str = "02/06/2025", dob: str = "01/02/1980") -> str:
    return f"Leeds,{day},A{n:03d},Council Tax,09:00:00,09:05:00,09:15:00,Served,Ann Smith,LS6 2AB,{dob}"


# file (relative to exports) -> {row: (field, words)}: what each hostile CSV comes to
CSV_QUARANTINED = {
    f"face_to_face/{DAY}/tickets_20250602.csv": {2: ("Date", "outside the valid years"),
                                                3: ("DOB", "outside the valid years")},
    f"web_form/{DAY}/submissions_2025-06-02.csv": {2: ("submitted_at", "outside the valid years"),
                                                  3: ("date_of_birth", "outside the valid years")},
    f"sms/{DAY}/inbound_20250602.csv": {2: ("reply_at", "outside the valid years")},
    f"letter/{DAY}/mailroom_20250602_mixed.csv": {3: ("Date Received+Time Scanned", "outside the valid years")},
    f"social/{DAY}/social_inbox_2025-06-02.csv": {2: ("Received", "outside the valid years")},
}

# what the landing zone holds besides the deliveries: audit file name -> words in its warning
UNEXPECTED = {
    f"phone/{DAY}/CDR_20250602.CSV": "only in letter case",
    f"phone/{DAY}/cdr_20250602_dir.csv": "a folder named like a delivery file",
    f"phone/{DAY}/cdr_20250602_gone.csv": "a symbolic link to nothing",
    f"phone/{DAY}/cdr_20250602_link.csv": "links are not followed",
    f"phone/{DAY}/cdr_20250602_\\xff.csv": "not valid UTF-8",
    f"phone/{DAY}/notes.txt": "does not match the pattern cdr_20250602*.csv",
}
LANDING_UNEXPECTED = {
    "phone/2025-6-2": "not a day folder",
    "chatbot": "a folder for a channel not in channels.yml",
    f"chatbot/{DAY}/bot_20250602.json": "in the folder of a channel not in channels.yml",
    "README.txt": "not a channel's folder",
}


def write_hostile_exports(root: Path) -> Path:
    ex = root / "exports"

    def put(rel: str, data: bytes) -> Path:
        path = ex / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    phone = f"phone/{DAY}"
    put(f"{phone}/cdr_20250602.csv", "\r\n".join([PHONE_HEADER, *PHONE_ROWS, ""]).encode())
    # ... and what lies beside it: none of it is read, all of it is named
    put(f"{phone}/CDR_20250602.CSV", "\r\n".join([PHONE_HEADER, _phone(4100001), _phone(4100002), ""]).encode())
    put(f"{phone}/cdr_20250602_dir.csv/cdr_20250602.csv", "\r\n".join([PHONE_HEADER, _phone(4200001), ""]).encode())
    (ex / phone / "cdr_20250602_gone.csv").symlink_to(ex / phone / "deleted.csv")
    elsewhere = root / "elsewhere.csv"  # outside the landing zone, where a link may point
    elsewhere.write_bytes("\r\n".join([PHONE_HEADER, _phone(4300001), ""]).encode())
    (ex / phone / "cdr_20250602_link.csv").symlink_to(elsewhere)
    with open(os.fsencode(ex / phone) + b"/cdr_20250602_\xff.csv", "wb") as f:  # a name that is not UTF-8
        f.write("\r\n".join([PHONE_HEADER, _phone(4400001), ""]).encode())
    put(f"{phone}/notes.txt", b"delivered by hand\n")
    put("phone/2025-6-2/cdr_20250602.csv", "\r\n".join([PHONE_HEADER, _phone(4500001), ""]).encode())
    put(f"chatbot/{DAY}/bot_20250602.json", b'{"conversations": [{"id": 1}]}')
    put("README.txt", b"landing zone\n")

    put(f"email/{DAY}/mailbox_2025-06-02.jsonl", ("\n".join(EMAIL_LINES) + "\n").encode())
    put(f"webchat/{DAY}/transcripts_2025-06-02.json", WEBCHAT_DOC.encode())
    put(f"webchat/{DAY}/transcripts_2025-06-02_deep.json",
        b'{"chats": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}")

    put(f"letter/{DAY}/mailroom_20250602.csv", "\r\n".join([LETTER_HEADER, *LETTER_UTF8, ""]).encode("utf-8"))
    put(f"letter/{DAY}/mailroom_20250602_mixed.csv", b"\r\n".join([
        LETTER_HEADER.encode(),
        "ML-200001,02/06/2025,11:00,Mr Noël Coward,2 Elm St,LS7 1AA,Bins,Waste & Recycling,,".encode("cp1252"),
        "ML-200002,02/06/2025,11:05,Ms Zoë Wanamaker,3 Oak Rd,LS8 1AA,Bins,Waste & Recycling,,".encode(),  # UTF-8
        b"ML-200003,01/01/0001,11:10,Mr A Nother,4 Ash Rd,LS9 1AA,Bins,Waste & Recycling,,", b""]))
    put(f"social/{DAY}/social_inbox_2025-06-02.csv", "\r\n".join([  # UTF-16 with its byte-order mark
        SOCIAL_HEADER, f"X-1,Twitter/X,Mention,2025-06-02 09:00,@leeds_lass,Zoë {SMILE},Leeds,my bin,,,Unanswered",
        "X-2,Twitter/X,Mention,9999-06-02 09:00,@leeds_lad,Al,Leeds,my bin,,,Unanswered", ""]).encode("utf-16"))
    put(f"face_to_face/{DAY}/tickets_20250602.csv", "\r\n".join([
        FACE_HEADER, _ticket(1), _ticket(2, day="02/06/9999"), _ticket(3, dob="01/01/0001"), ""]).encode())
    put(f"web_form/{DAY}/submissions_2025-06-02.csv", "\r\n".join([
        FORM_HEADER, _form(1), _form(2, submitted="0001-01-01T00:00:00+00:30"), _form(3, dob="31/12/9999"),
        ""]).encode())
    put(f"sms/{DAY}/inbound_20250602.csv", "\r\n".join([
        SMS_HEADER, "M1,2025-06-02T09:00:00Z,07700900001,60060,BINS,missed bin,2025-06-02T10:00:00Z,replied",
        "M2,2025-06-02T09:10:00Z,07700900002,60060,BINS,missed bin,9999-12-31T23:59:59-14:00,replied", ""]).encode())
    return ex
