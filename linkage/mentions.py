"""Identifiers and names a citizen writes into a message: case references, account numbers,
and the name they sign off with."""

from __future__ import annotations

import re

CASE_REF = re.compile(r"\b[A-Z]{2,4}-\d{6}-\d{3,5}\b")
ACCOUNT_REF = re.compile(r"\b[A-Z]{2,4}\d{6,10}\b")
_SIGN_OFFS = re.compile(
    r"^(regards|kind regards|best regards|many thanks|thanks|thank you|cheers|best|yours sincerely|"
    r"yours faithfully|sent from my \w+|hello|hi|dear \w+)[,.!]*$", re.IGNORECASE)
_NAME_LINE = re.compile(r"^(?:(?:mr|mrs|ms|miss|dr)\.?\s+)?[A-Za-z][A-Za-z'\-]+(?:\s+[A-Za-z][A-Za-z'\-]+){0,2}$")


def case_refs_in_text(text: str) -> list[str]:
    return [m.replace("-", "") for m in CASE_REF.findall(text)]


def account_refs_in_text(text: str) -> list[str]:
    return ACCOUNT_REF.findall(text)


def signature_name(text: str) -> str | None:
    """The sign-off name of a message ('...Regards\\nLindy Moore' -> 'Lindy Moore').

    Only the last non-empty line, and only if it follows a line break and looks like 1-3 name
    words: a one-line message's last words are not a signature.
    """
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) < 2:
        return None
    last = lines[-1]
    if _SIGN_OFFS.match(last) or not _NAME_LINE.match(last):
        return None
    return last
