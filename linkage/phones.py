"""Phone numbers to E.164 with a UK default region.

UK numbers in the usual spellings take a regex fast path; anything else goes through
`phonenumbers`, which is ~30x slower.
"""

from __future__ import annotations

import re

import phonenumbers

_DIGITS = re.compile(r"\D")
PHONE_IN_TEXT = re.compile(r"(?:\+44\s?|\b0)(?:\d[\s-]?){9,10}\b")


def to_e164(raw: object, region: str = "GB") -> str | None:
    """'07700 900123' -> '+447700900123'; None for anything that is not a plausible number."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    s = raw.strip()
    digits = _DIGITS.sub("", s)
    if not s.startswith("+") and not s.startswith("00"):
        if len(digits) == 11 and digits[0] == "0" and digits[1] != "0":
            return "+44" + digits[1:]
        if len(digits) == 12 and digits.startswith("44"):
            return "+" + digits
    try:
        num = phonenumbers.parse(s, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def phones_in_text(text: str) -> list[str]:
    """UK phone numbers mentioned in free text, as E.164."""
    out = []
    for m in PHONE_IN_TEXT.finditer(text):
        e = to_e164(m.group(0))
        if e:
            out.append(e)
    return out


def is_personal(e164: str | None) -> bool:
    """UK mobiles (+447, but not 070 personal numbering) identify one person; landlines and
    non-geographic numbers are shared by households and organisations."""
    if not isinstance(e164, str):
        return False
    return e164.startswith("+447") and not e164.startswith("+4470")
