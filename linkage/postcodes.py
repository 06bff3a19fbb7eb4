"""UK postcodes: normalised 'LS1 4AB', with district ('LS1') and sector ('LS1 4').

Non-UK codes (e.g. FEBRL's Australian 4-digit ones) are kept cleaned but get no district/sector.
"""

from __future__ import annotations

import re

UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
POSTCODE_IN_TEXT = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b", re.IGNORECASE)
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def parse_postcode(raw: object) -> tuple[str, str | None, str | None] | None:
    """(postcode, district, sector) or None when empty."""
    if not isinstance(raw, str):
        return None
    s = _NOT_ALNUM.sub("", raw.upper())
    if not s:
        return None
    m = UK_POSTCODE.match(s)
    if not m:
        return (s, None, None)
    outward, inward = m.groups()
    return (f"{outward} {inward}", outward, f"{outward} {inward[0]}")


def postcodes_in_text(text: str) -> list[str]:
    out = []
    for m in POSTCODE_IN_TEXT.finditer(text):
        p = parse_postcode(m.group(0))
        if p and p[1]:
            out.append(p[0])
    return out
