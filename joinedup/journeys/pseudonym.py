"""Keyed hashes that stand in for people and contacts wherever BI users can see.

HMAC-SHA256 with a key from configuration: without the key nobody can recompute a person's key from an id
guessed or leaked elsewhere, and changing the key re-keys every published table.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path

KEY_ENV = "JOINEDUP_PSEUDONYM_KEY"
KEY_FILE_ENV = "JOINEDUP_PSEUDONYM_KEY_FILE"
MIN_KEY_BYTES = 16


class PseudonymKeyError(RuntimeError):
    pass


def load_key() -> bytes:
    """The key from JOINEDUP_PSEUDONYM_KEY, or the file JOINEDUP_PSEUDONYM_KEY_FILE names."""
    value = os.environ.get(KEY_ENV)
    if not value and os.environ.get(KEY_FILE_ENV):
        value = Path(os.environ[KEY_FILE_ENV]).read_text().strip()
    if not value:
        raise PseudonymKeyError(
            f"No pseudonymisation key: set {KEY_ENV} (or {KEY_FILE_ENV} to a file holding it), "
            "e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`. It must not live in the repository."
        )
    key = value.encode()
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(f"{KEY_ENV} is too short: use at least {MIN_KEY_BYTES} characters")
    return key


def keyed_hashes(values: Iterable[str | None], key: bytes, kind: str) -> list[str | None]:
    """32 hex characters per value; `kind` separates namespaces so a contact key never equals a person key.

    Each distinct value is hashed once (one-shot `hmac.digest`, several times faster than hmac objects):
    a council year asks for millions of keys, most of them repeats of a person's."""
    prefix = f"{kind}:".encode()
    cache: dict[str, str] = {}

    def one(v: str) -> str:
        h = cache.get(v)
        if h is None:
            h = cache[v] = hmac.digest(key, prefix + v.encode(), hashlib.sha256).hex()[:32]
        return h

    return [None if v is None else one(str(v)) for v in values]
