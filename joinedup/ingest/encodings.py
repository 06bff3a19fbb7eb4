"""Which encoding a delivered file is read in: the channel's, unless the bytes themselves say otherwise.

The channel's `encoding` is a promise the exporter can break. Two breaks are unambiguous in the bytes, and
reading them as declared would change every non-ASCII value without a word:

- a byte-order mark (UTF-8, UTF-16, UTF-32): the file says what it is; it is read that way, with a warning.
  (UTF-16/32 without a mark, a quarter or more NUL bytes, fails the file: text in the declared encoding has none.)
- valid UTF-8 on a channel declared in a single-byte encoding (cp1252, latin-1, ...): read as cp1252, `Zoë`
  would land as `ZoÃ«`. Real cp1252 text with accents is almost never valid UTF-8 (an accented letter is one
  byte >= 0x80, and UTF-8 needs it followed by continuation bytes, which are punctuation and symbols in cp1252:
  `Ã«` is what UTF-8 looks like when misread, not what people write). So a non-ASCII file (or, in a file that
  is not UTF-8 as a whole, a non-ASCII row) that is valid UTF-8 is read as UTF-8, and flagged.

This is a rule, not a statistical guess (charset-normalizer and the like): the outcome does not depend on a
library's version or the mix of a day's text, so a re-run reads the same bytes the same way.
"""

from __future__ import annotations

import codecs
import importlib
from dataclasses import dataclass, field
from functools import cache

_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)


@cache
def single_byte(encoding: str) -> bool:
    """Whether every byte is one character in `encoding` (a charmap codec: cp1252, iso8859-*, mac-*, koi8-*)."""
    name = codecs.lookup(encoding).name
    try:
        module = importlib.import_module(f"encodings.{name.replace('-', '_')}")
    except ImportError:
        return False
    return hasattr(module, "decoding_table")


@dataclass
class Choice:
    data: bytes  # what to parse: the BOM stripped; UTF-16/32 transcoded to UTF-8
    encoding: str  # what to decode `data` in
    utf8_rows: bool = False  # single-byte channel, file not UTF-8 as a whole: try UTF-8 first, row by row
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # the file cannot be decoded at all (a BOM its bytes then contradict)


def choose(data: bytes, declared: str) -> Choice:
    """The encoding to read `data` in, for a channel declared as `declared`; every departure is a warning."""
    enc = codecs.lookup(declared).name
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
        if enc not in ("utf-8", "utf-8-sig"):
            return Choice(data, "utf-8", warnings=[f"file starts with a UTF-8 byte-order mark although the channel "
                                                   f"is {declared}: read as UTF-8"])
        return Choice(data, "utf-8")
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(codec)
            except UnicodeDecodeError as e:
                return Choice(data, enc, error=f"file starts with a {label} byte-order mark but byte {e.start + 1} "
                                               f"after it is not valid {label}")
            return Choice(text.encode("utf-8"), "utf-8", warnings=[
                f"file is {label} (byte-order mark) although the channel is {declared}: read as {label}; "
                "quarantined rows keep it re-encoded as UTF-8"])
    enc = "utf-8" if enc == "utf-8-sig" else enc
    head = data[:1000]
    if head.count(0) * 4 >= len(head) and not enc.startswith("utf-16") and not enc.startswith("utf-32"):
        return Choice(data, enc, error=f"file looks like UTF-16 or UTF-32 without a byte-order mark ({head.count(0)} "
                                       f"of its first {len(head)} bytes are NUL): not readable as {declared}")
    if not single_byte(enc) or data.isascii():
        return Choice(data, enc)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Choice(data, enc, utf8_rows=True)
    n = sum(1 for c in text if ord(c) > 127)
    return Choice(data, "utf-8", warnings=[
        f"file is valid UTF-8 ({n} non-ASCII character(s)) although the channel is {declared}: read as UTF-8 "
        f"(as {declared} they would change into other characters)"])


def utf8_row(b: bytes) -> tuple[str, int] | None:
    """A row of a single-byte channel that is non-ASCII and valid UTF-8 -> (text, index of its first non-ASCII
    character), else None."""
    if b.isascii():
        return None
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return s, next(i for i, c in enumerate(s) if ord(c) > 127)
