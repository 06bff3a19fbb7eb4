"""Writes the bad-input exports fixture: every kind of bad delivery the ingestion must survive.

Generated in code (not checked-in files) so the odd bytes (BOM, cp1252, stray 0x81, no final newline) are
explicit and reviewable. `write_bad_exports(root)` returns root/exports.
"""

from __future__ import annotations

from pathlib import Path

PHONE_HEADER = "CallID,StartTime,CLI,DNIS,Queue,WaitSecs,TalkSecs,Disposition,AgentID,CallerName,CallerPostcode,CaseRef"
HYPERLINK = '=HYPERLINK("http://evil.example/x","Click me")'
LONG_TEXT = "My bins have not been collected. " * 6000  # ~200 kB of free text in one field

DAY = "2025-10-26"  # clocks go back: 01:00-01:59 happens twice
SPRING = "2025-03-30"  # clocks go forward: 01:00-01:59 never happens
EMPTY_DAY = "2025-10-27"  # folder present, no files
MISSING_DAY = "2025-10-28"  # no folder at all


def _call(n: int, when: str, name: str = "", wait: str = "30", disposition: str = "ANSWERED") -> str:
    return f"{n},{when},07700900{n % 1000:03d},01132224000,Council Tax,{wait},120,{disposition},A1001,{name},LS6 2AB,"


def phone_main() -> bytes:
    """The busy file: BOM, repeated October hour, and most of the row-level faults, one per row."""
    rows = [
        _call(1000001, "26/10/2025 00:30:00", "Ann Smith"),          # 1 clean
        _call(1000002, "26/10/2025 01:15:00"),                        # 2 repeated hour, first pass (BST)
        _call(1000003, "26/10/2025 01:45:00"),                        # 3 first pass (BST)
        _call(1000004, "26/10/2025 01:05:00"),                        # 4 stepped back: second pass (GMT)
        _call(1000005, "26/10/2025 01:30:00"),                        # 5 second pass (GMT)
        _call(1000006, "31/02/2025 10:00:00"),                        # 6 unparseable date
        (f'1000007,26/10/2025 10:05:00,07700900007,01132224000,Council Tax,10,60,ANSWERED,A1001,'
         f'"{HYPERLINK.replace(chr(34), chr(34) * 2)}",LS6 2AB,'),      # 7 formula text, must stay inert text
        _call(1000001, "26/10/2025 00:30:00", "Ann Smith"),           # 8 duplicate of row 1
        _call(1000009, "26/10/2025 10:10:00") + ",surplus",           # 9 one field too many
        '1000010,26/10/2025 10:15:00,"07700900010,01132224000,Council Tax,5,60,ANSWERED,A1001,Bob,LS6 2AB,',
        _call(1000011, "26/10/2025 10:20:00", "Cara Jones"),          # 11 fine again after the broken quote
        _call(1000012, "26/10/2025 10:25:00", "Dee Kaye", wait="-5"),  # 12 parses, fails GX (negative wait)
        _call(1000013, "26/10/2024 10:30:00", "Eve Lamb"),            # 13 parses, fails GX (a year away)
        _call(1000014, "26/10/2025 10:35:00", "Fay \x00LATIN1\x00"),  # 14 becomes cp1252 bytes below
        _call(1000015, "26/10/2025 10:40:00", "Gus \x00BAD\x00"),     # 15 becomes an undecodable byte below
        _call(1000016, "26/10/2025 10:45:00", disposition="TRANSFERRED"),  # 16 unknown code
    ]
    body = "\r\n".join([PHONE_HEADER, *rows]) + "\r\n" + "1000017,26/10/2025 10:5"  # truncated last line
    data = b"\xef\xbb\xbf" + body.encode("utf-8")
    data = data.replace(b"\x00LATIN1\x00", "Ren\xe9e \xa33".encode("latin-1"))  # cp1252 é and £
    return data.replace(b"\x00BAD\x00", b"\x81\x8d")  # undefined even in cp1252


def write_bad_exports(root: Path) -> Path:
    ex = root / "exports"
    phone = ex / "phone" / DAY
    phone.mkdir(parents=True)
    (phone / "cdr_20251026.csv").write_bytes(phone_main())
    extra = (PHONE_HEADER + ",Notes\n" + _call(1000101, "26/10/2025 12:00:00", "Hal Ng") + ",note\n").encode()
    (phone / "cdr_20251026_b.csv").write_bytes(extra)  # extra column: ignored with a warning
    (phone / "cdr_20251026_b_copy.csv").write_bytes(extra)  # byte-identical re-delivery under another name
    nodisp = PHONE_HEADER.replace(",Disposition", "")
    (phone / "cdr_20251026_c.csv").write_bytes(
        (nodisp + "\n1000201,26/10/2025 13:00:00,07700900201,01132224000,Council Tax,5,60,A1,Ida,LS6 2AB,\n"
         "1000202,26/10/2025 13:05:00,07700900202,01132224000,Council Tax,5,60,A1,Jo,LS6 2AB,\n").encode()
    )  # missing required column: this file fails, the rest of the day loads
    (phone / "cdr_20251026_d.csv").write_bytes(b"")  # empty file
    (phone / "cdr_20251026_e.csv").write_bytes((PHONE_HEADER + "\r\n").encode())  # header only
    (ex / "phone" / EMPTY_DAY).mkdir()
    spring = ex / "phone" / SPRING
    spring.mkdir()
    (spring / "cdr_20250330.csv").write_bytes("\n".join([
        PHONE_HEADER, _call(2000001, "30/03/2025 00:30:00"), _call(2000002, "30/03/2025 01:30:00"),
        _call(2000003, "30/03/2025 02:30:00"), ""]).encode())

    letter = ex / "letter" / DAY
    letter.mkdir(parents=True)
    (letter / "mailroom_20251026.csv").write_bytes((
        "Ref,Date Received,Time Scanned,Sender Name,Sender Address,Postcode,Subject,Department,Case Ref,Reply Sent\r\n"
        "ML-000001,26/10/2025,,Mrs Zoë Brontë,\"1 Haworth Rd, Leeds\",LS6 2AB,Refund of £120 please,Council Tax,,\r\n"
        "ML-000002,26/10/2025,10:30,Mr Noël Coward,2 Elm St,LS7 1AA,Bins,Waste & Recycling,,27/10/2025\r\n"
    ).encode("cp1252"))

    social = ex / "social" / DAY
    social.mkdir(parents=True)
    social_rows = [
        ("Message ID,Network,Message Type,Received,From Handle,From Name,Profile Location,Message,First Reply,"
         "Replied By,Status"),
        f'X-1,Twitter/X,Mention,2025-10-26 01:30,@leeds_lass,Lass 🌸,"Leeds, UK","{LONG_TEXT}",,,Unanswered',
        (f'FB-2_2,Facebook,Message,2025-10-26 09:00,jo.bloggs,Jo,,"{HYPERLINK.replace(chr(34), chr(34) * 2)}",'
         '2025-10-26 09:30,AK,Replied'),
        'X-3,Twitter/X,DM,2025-10-26 10:00,@multi,Multi Line,,"line one\nline two, with a comma",,,Unanswered',
    ]
    (social / "social_inbox_2025-10-26.csv").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(social_rows + [""]).encode())

    email = ex / "email" / DAY
    email.mkdir(parents=True)
    (email / "mailbox_2025-10-26.jsonl").write_bytes(
        b'{"message_id": "<1@a.example>", "received_utc": "2025-10-26T08:00:00Z", '
        b'"mailbox": "waste@ridings.example.gov.uk", "from_address": "A@B.example", "from_name": "Young, Rebecca",'
        b' "subject": "s", "body": "b", "first_reply_utc": null, "closed_utc": null, "case_ref": null}\n'
        b'["not", "an", "object"]\n'
        b'{"received_utc": "2025-10-26T09:00:00Z", "mailbox": "waste@ridings.example.gov.uk"}\n'
        b'{"message_id": "<4@a.example>", "received_utc": "yesterday", "mailbox": "waste@ridings.example.gov.uk"}\n'
        b'{"message_id": "<5@a.example>", "received_utc": "2025-10-26T10:00:00Z", "mail'
    )  # rows: 1 fine, 2 not an object, 3 no message_id, 4 bad date, 5 truncated last line

    webchat = ex / "webchat" / DAY
    webchat.mkdir(parents=True)
    (webchat / "transcripts_2025-10-26.json").write_bytes(
        b'{"export_date": "2025-10-26", "chats": [{"chat_id": "CH-1", "started_at": "2025-10-26T10:00:00+00:00",'
    )  # a truncated JSON document: the whole file fails, kept whole in quarantine
    return ex
