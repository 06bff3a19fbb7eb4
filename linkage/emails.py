"""E-mail addresses: normalised, and the local part read for name evidence."""

from __future__ import annotations

import re

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_GMAIL = {"gmail.com", "googlemail.com"}


def normalise_email(raw: object) -> str | None:
    """Lower-cased address; Gmail dots and +tags dropped because Gmail ignores them."""
    if not isinstance(raw, str):
        return None
    s = raw.strip().lower().strip("<>").removeprefix("mailto:")
    if not EMAIL_RE.fullmatch(s):
        return None
    local, domain = s.rsplit("@", 1)
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else None


def local_part(raw: object) -> str | None:
    """The raw local part (before normalisation removes dots), used for name decomposition."""
    if not isinstance(raw, str) or "@" not in raw:
        return None
    return raw.strip().split("@", 1)[0].split("+", 1)[0] or None


def emails_in_text(text: str) -> list[str]:
    return [e for e in (normalise_email(m) for m in EMAIL_RE.findall(text)) if e]
