"""Suppression: a re-delivered export of an erased citizen stays out of the lake.

`joinedup erase` writes the suppression list, `<identity>/suppression.parquet` (restricted zone): keyed hashes
(HMAC with the pseudonymisation key, one namespace per kind) of the erased contacts' source contact ids and of
the citizen's identifiers (e-mail, phone, social handle). Only hashes are kept, because the point of an
erasure is that the values are gone; the key is needed to recompute them from a new delivery.

Ingest calls `apply` on every staged channel-day: a staged row whose contact id or identifier hashes to an entry
is dropped, and so is a quarantined row whose raw text carries a suppressed e-mail, phone or handle. Each file's
audit record counts them (`rows_suppressed`, moved out of `rows_loaded` or `rows_quarantined`), so for every
file rows_read = rows_loaded + rows_quarantined + rows_suppressed still holds exactly. Nothing else about the
rows is recorded anywhere.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from linkage.emails import emails_in_text, normalise_email
from linkage.phones import phones_in_text, to_e164

SUPPRESSION_FILE = "suppression.parquet"
SUPPRESSION_SCHEMA = pa.schema([("kind", pa.string()), ("key_hash", pa.string()), ("erasure_id", pa.string()),
                                ("key_check", pa.string())])
IDENTIFIER_KINDS = ("email", "phone", "handle")
KINDS = ("contact_id", *IDENTIFIER_KINDS)
_HANDLE_IN_TEXT = re.compile(r"@([A-Za-z0-9_.]{3,})")
_FIELD_SPLIT = re.compile(r"[,;\t|\"\r\n]+")


class SuppressionKeyError(RuntimeError):
    """The suppression list was made with another key: its hashes would match nothing, so ingest stops."""


def hash_kind(kind: str) -> str:
    """The keyed-hash namespace of a suppressed kind (never equal to a published key's namespace)."""
    return f"suppress-{kind}"


def normalise(kind: str, value: object) -> str | None:
    """The one spelling of an identifier that both erasure and ingest hash: E.164 phones, normalised e-mails,
    bare lower-case handles (the network is dropped: a handle re-delivered from another inbox is still theirs)."""
    if value is None:
        return None
    if kind == "email":
        return normalise_email(value)
    if kind == "phone":
        return to_e164(value)
    if kind == "handle":
        text = str(value).strip()
        text = text.split(":", 1)[1] if ":" in text and not text.startswith("@") else text
        bare = text.lstrip("@").strip().lower()
        return bare or None
    text = str(value).strip()
    return text or None


def identifiers_in_text(text: str | None) -> Iterator[tuple[str, str]]:
    """(kind, normalised value) for each e-mail, UK phone and handle a raw delivered row carries: quarantined
    rows have no parsed columns, only the row as delivered."""
    if not text:
        return
    for e in emails_in_text(text):
        yield "email", e
    for p in phones_in_text(text):
        yield "phone", p
    for h in _HANDLE_IN_TEXT.findall(text):
        yield "handle", h.lower()
    for fld in _FIELD_SPLIT.split(text):  # a handle delivered as a whole field, without '@'
        fld = fld.strip().lower()
        if fld and " " not in fld and "@" not in fld:
            yield "handle", fld


@dataclass(frozen=True)
class Suppression:
    """The loaded list: kind -> keyed hashes, and the key that made them."""

    hashes: dict[str, frozenset[str]]
    key: bytes

    def hash(self, kind: str, values: Iterable[str | None]) -> list[str | None]:
        from joinedup.identity.pseudonym import keyed_hashes

        return keyed_hashes([normalise(kind, v) for v in values], self.key, hash_kind(kind))

    def matches(self, kind: str, values: Iterable[str | None]) -> list[bool]:
        wanted = self.hashes.get(kind, frozenset())
        return [h is not None and h in wanted for h in self.hash(kind, values)]


_CACHE: dict[Path, tuple[float, Suppression | None]] = {}


def load(identity: Path) -> Suppression | None:
    """The suppression list of the identity store, or None when nobody has been erased (then no key is needed)."""
    import pyarrow.parquet as pq

    from joinedup.identity.pseudonym import key_check, load_key

    path = identity / SUPPRESSION_FILE
    if not path.exists():
        return None
    mtime = path.stat().st_mtime
    hit = _CACHE.get(path)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    table = pq.read_table(path)
    key = load_key()
    checks = set(table.column("key_check").to_pylist())
    if checks - {key_check(key)}:
        raise SuppressionKeyError(
            f"{path}: the suppression list was made with another pseudonymisation key than the one configured; "
            "its entries would match nothing and erased citizens could come back. Configure the key it was "
            "made with (see docs/data-subject-rights.md, key rotation)")
    hashes: dict[str, set[str]] = {k: set() for k in KINDS}
    for kind, h in zip(table.column("kind").to_pylist(), table.column("key_hash").to_pylist(), strict=True):
        hashes.setdefault(kind, set()).add(h)
    out = Suppression({k: frozenset(v) for k, v in hashes.items()}, key)
    _CACHE[path] = (mtime, out)
    return out


def _suppressed_staged(staged: pa.Table, s: Suppression) -> list[bool]:
    hit = s.matches("contact_id", staged.column("contact_id").to_pylist())
    for kind in IDENTIFIER_KINDS:
        hit = [a or b for a, b in zip(hit, s.matches(kind, staged.column(kind).to_pylist()), strict=True)]
    return hit


def _suppressed_quarantine(quarantine: pa.Table, s: Suppression) -> list[bool]:
    out = []
    for text in quarantine.column("raw").to_pylist():
        found = list(identifiers_in_text(text))
        out.append(any(s.matches(kind, [value])[0] for kind, value in found))
    return out


def apply(staged: pa.Table, quarantine: pa.Table, records: list[dict[str, Any]],
          identity: Path | None = None) -> tuple[pa.Table, pa.Table]:
    """Drop the staged and quarantined rows of erased citizens; count them per file in `records` (the audit)."""
    from joinedup.paths import identity_root

    for rec in records:
        rec.setdefault("rows_suppressed", 0)
    s = load(identity if identity is not None else identity_root())
    if s is None or (staged.num_rows == 0 and quarantine.num_rows == 0):
        return staged, quarantine
    moved: dict[str, Counter[str]] = {"rows_loaded": Counter(), "rows_quarantined": Counter()}
    if staged.num_rows:
        mask = pa.array(_suppressed_staged(staged, s))
        moved["rows_loaded"].update(staged.filter(mask).column("source_file").to_pylist())
        staged = staged.filter(pc.invert(mask))
    if quarantine.num_rows:
        mask = pa.array(_suppressed_quarantine(quarantine, s))
        moved["rows_quarantined"].update(quarantine.filter(mask).column("source_file").to_pylist())
        quarantine = quarantine.filter(pc.invert(mask))
    for rec in records:
        for column, counts in moved.items():
            k = counts.get(rec["file"], 0)
            if k:
                rec[column] -= k
                rec["rows_suppressed"] += k
        if rec["rows_suppressed"]:
            rec.setdefault("warnings", []).append(
                f"{rec['rows_suppressed']} row(s) of erased citizens suppressed (joinedup erase): not landed")
    return staged, quarantine
