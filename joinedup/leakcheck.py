"""The attack an outsider would try on everything outside the restricted zones, as a check anyone can run.

Two ways a pseudonymous file gives a person away:
1. it holds a value that names them or joins to something that does: a name, e-mail, phone, full postcode,
   address, date of birth, handle, display name, message text, or a source system's contact id (the join key
   that re-identified 8,784 of 9,357 persons through `contact_persons.parquet`);
2. it holds a hash an attacker can reverse by hashing a dictionary: sha256/sha1/md5 of a phone, e-mail, name or
   date of birth, with or without a `kind:` prefix, whole or truncated (the unkeyed `identifiers.parquet`
   gave back 5,994 of 6,067 phones this way). Keyed hashes (HMAC with the pseudonymisation key) do not reverse.

The dictionary is the register and the landed exports: the attacker is given every value the pipeline could
have leaked. Parquet and DuckDB files are read through DuckDB (their pages are compressed, so their bytes say
nothing); anything else is read as bytes, so an SQLite file (Airflow's metadata DB, XComs) or a log is searched
whole. `check_folders` is the whole attack; bench/privacy_attack.py runs it on a `make demo` folder and
tests/privacy runs it on the test pipeline, with the restricted zones as a control that it finds what is there.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from linkage.phones import to_e164

MIN_FREE_TEXT = 6  # handles, display names and texts shorter than this are words anyone might write
HASH_TOKEN = re.compile(r"\b[0-9a-f]{16,64}\b")
HASH_LENGTHS = (16, 20, 24, 32, 40, 64)  # whole digests and the truncations a developer might store
SKIPPED_SUFFIXES = (".wal", ".pyc", ".tmp", ".lock")


@dataclass
class LeakReport:
    """What the attack found, by file: kinds of PII (with counts) and hashes reversed by dictionary."""

    files_scanned: int = 0
    values_searched: int = 0
    hashes_tried: int = 0
    pii: dict[str, dict[str, int]] = field(default_factory=dict)
    reversed_hashes: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.pii and not self.reversed_hashes

    def summary(self) -> str:
        lines = [f"{self.files_scanned} files scanned for {self.values_searched:,} values and "
                 f"{self.hashes_tried:,} dictionary hashes"]
        lines += [f"PII in {f}: " + ", ".join(f"{k} x{n}" for k, n in kinds.items()) for f, kinds in self.pii.items()]
        lines += [f"hashes reversed in {f}: " + ", ".join(f"{k} x{n}" for k, n in kinds.items())
                  for f, kinds in self.reversed_hashes.items()]
        return "\n".join(lines)


def dictionary(register: Path, landed: Path, library_text: str = "") -> dict[str, set[str]]:
    """The attacker's dictionary by kind: distinctive register values, every landed handle, display name and
    message text, and every source contact id. Values `library_text` contains (a JavaScript bundle a report
    embeds holds dates such as 2000-01-01) are the library's, not the data's, and are left out."""
    reg = pd.read_csv(register, dtype=str)
    phones = {re.sub(r"\D", "", p)[-10:] for p in reg["phone"].dropna() if len(re.sub(r"\D", "", p)) >= 10}
    out: dict[str, set[str]] = {
        "name": set((reg["given_name"] + " " + reg["family_name"]).dropna()),
        "email": set(reg["email"].dropna()),
        "phone": phones,
        "postcode": set(reg["postcode"].dropna()),
        "address": set(reg["address_line"].dropna()),
        "date_of_birth": set(reg["date_of_birth"].dropna()),
    }
    files = sorted(landed.rglob("*.parquet"))
    if files:
        rel = duckdb.read_parquet([str(f) for f in files], union_by_name=True)
        cols = set(rel.columns)
        out["contact_id"] = {str(v) for (v,) in rel.select("contact_id").distinct().fetchall() if v is not None}
        for col in ("handle", "display_name", "message_text", "email", "phone"):
            if col in cols:
                found = {str(v) for (v,) in rel.select(col).distinct().fetchall() if v is not None}
                if col == "phone":
                    found = {re.sub(r"\D", "", v)[-10:] for v in found if len(re.sub(r"\D", "", v)) >= 10}
                out.setdefault(col, set()).update(v for v in found if len(v) >= MIN_FREE_TEXT)
    return {kind: {v for v in values if v not in library_text} for kind, values in out.items()}


def _hash_forms(kind: str, value: str) -> Iterator[str]:
    """The spellings of one identifier a hasher might have used."""
    yield value
    yield value.strip().lower()
    if kind == "phone":
        e164 = to_e164(value if value.startswith("0") or value.startswith("+") else "0" + value)
        if e164:
            yield e164
            yield e164.lstrip("+")


def unkeyed_hashes(words: dict[str, set[str]]) -> dict[str, str]:
    """Every unkeyed digest (sha256, sha1, md5; bare or `kind:`-prefixed; whole or truncated) of the identifiers
    in `words`, mapped to the kind it reverses to."""
    table: dict[str, str] = {}
    for kind in ("phone", "email", "name", "date_of_birth", "postcode", "handle"):
        for value in words.get(kind, ()):
            for form in set(_hash_forms(kind, value)):
                for text in (form, f"{kind}:{form}"):
                    data = text.encode()
                    for algo in (hashlib.sha256, hashlib.sha1, hashlib.md5):
                        digest = algo(data).hexdigest()
                        for n in HASH_LENGTHS:
                            if n <= len(digest):
                                table[digest[:n]] = kind
    return table


def file_strings(path: Path) -> list[str]:
    """Every string a file holds, as a reader of that file would see it."""
    if path.suffix == ".parquet":
        df = duckdb.sql(f"select * from read_parquet('{path}')").df()
        return [str(v) for c in df.columns for v in df[c].dropna().unique()] + list(df.columns)
    if path.suffix == ".duckdb":
        out: list[str] = []
        with duckdb.connect(str(path), read_only=True) as con:
            for db, schema, table in con.execute("select database_name, schema_name, table_name "
                                                 "from duckdb_tables()").fetchall():
                df = con.execute(f'select * from "{db}"."{schema}"."{table}"').df()
                out += [str(v) for c in df.columns for v in df[c].dropna().unique()]
        return out
    return [path.read_bytes().decode("utf-8", errors="replace")]


def files_outside(root: Path, restricted: Iterable[str]) -> Iterator[Path]:
    """Files under `root` that are not under one of the `restricted` relative paths."""
    restricted = tuple(r.rstrip("/") for r in restricted)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(rel == r or rel.startswith(r + "/") for r in restricted):
            continue
        if path.suffix in SKIPPED_SUFFIXES:
            continue
        yield path


class Matcher:
    """Finds every dictionary value inside a text in one pass: values are indexed by their last `TAIL`
    characters, so each position of the text costs one dict lookup however many values there are (a demo's
    dictionary holds about 200,000; searching for each in turn took the better part of an hour)."""

    TAIL = MIN_FREE_TEXT

    def __init__(self, words: dict[str, set[str]]) -> None:
        self.by_tail: dict[str, list[tuple[str, str]]] = {}
        for kind, values in words.items():
            for v in values:
                if len(v) >= self.TAIL:
                    self.by_tail.setdefault(v[-self.TAIL:], []).append((v, kind))

    def find(self, text: str) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        tails, k = self.by_tail, self.TAIL
        for end in range(k, len(text) + 1):
            candidates = tails.get(text[end - k:end])
            if candidates:
                for value, kind in candidates:
                    if text.startswith(value, end - len(value)):
                        found.setdefault(kind, set()).add(value)
        return found


def attack(files: Iterable[Path], words: dict[str, set[str]]) -> LeakReport:
    """Search each file's strings for every dictionary value and every reversible hash."""
    hashes = unkeyed_hashes(words)
    matcher = Matcher(words)
    report = LeakReport(values_searched=sum(len(v) for _, v in words.items()), hashes_tried=len(hashes))
    for path in files:
        report.files_scanned += 1
        text = "\n".join(file_strings(path))
        for kind, values in matcher.find(text).items():
            report.pii.setdefault(str(path), {})[kind] = len(values)
        for token in set(HASH_TOKEN.findall(text.lower())):
            kind = hashes.get(token)
            if kind:
                counts = report.reversed_hashes.setdefault(str(path), {})
                counts[kind] = counts.get(kind, 0) + 1
    return report


def check_folders(roots: Iterable[tuple[Path, Iterable[str]]], register: Path, landed: Path,
                  library_text: str = "") -> LeakReport:
    """The whole attack: every file under each root except its restricted paths, against the dictionary."""
    words = dictionary(register, landed, library_text)
    files = [f for root, restricted in roots for f in files_outside(root, restricted)]
    return attack(files, words)
