"""Native export bytes -> numbered raw rows, without losing any: each row keeps its exact bytes.

Rows the format itself rejects (bad quoting, wrong field count, invalid JSON, undecodable bytes) come back
with an `error` so the caller quarantines them; everything else carries its native `record`. JSON is read
strictly: NaN/Infinity, numbers too long to convert, nesting deeper than the parser's stack and lone UTF-16
surrogate escapes (which no Parquet string can hold) reject the record, or the document when it cannot be
parsed at all. Which encoding a file is read in: joinedup.ingest.encodings.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from typing import Any

from joinedup.channels import Channel
from joinedup.ingest import encodings

csv.field_size_limit(256 * 1024 * 1024)  # very long free text is data, not an error


@dataclass(slots=True)
class RawRow:
    row: int  # 1-based data row (JSON: record index)
    line: int  # 1-based physical line where the row starts (JSON document: record index)
    raw: bytes  # the row exactly as delivered (JSON document: the record re-serialised)
    record: dict[str, Any] | None = None
    error: str | None = None
    field: str | None = None
    warning: str | None = None

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")


@dataclass
class FileRead:
    rows: list[RawRow] = field(default_factory=list)
    file_error: str | None = None  # the whole file is rejected (its rows are still listed, for quarantine)
    warnings: list[str] = field(default_factory=list)
    empty: bool = False  # no bytes (or only whitespace): not even a header


def read_file(data: bytes, ch: Channel) -> FileRead:
    if not data.strip():
        return FileRead(warnings=["empty file: no header and no rows"], empty=True)
    if ch.format == "csv":
        return read_csv(data, ch)
    if ch.format == "jsonl":
        return read_jsonl(data, ch)
    if ch.format == "json":
        return read_json_document(data, ch)
    raise ValueError(f"channel {ch.name}: unknown format {ch.format!r}")


def _encoding(data: bytes, ch: Channel, out: FileRead) -> encodings.Choice:
    choice = encodings.choose(data, ch.encoding)
    out.warnings.extend(choice.warnings)
    return choice


def _whole(data: bytes, error: str, warnings: list[str]) -> FileRead:
    """The file rejected as one row, its bytes kept as delivered."""
    return FileRead(rows=[RawRow(row=1, line=1, raw=data, error=error)], file_error=error, warnings=warnings)


def _decode(b: bytes, enc: str, fallback: str | None, utf8_first: bool = False) -> tuple[str, str | None, bool, int]:
    """-> (text, problem, fatal, offset). Falls back per row so one stray byte does not condemn the file.
    `utf8_first` (a single-byte channel whose file mixes encodings): a row that is valid UTF-8 is read so."""
    if utf8_first:
        hit = encodings.utf8_row(b)
        if hit is not None:
            return hit[0], f"valid UTF-8 although the channel is {enc}: read as UTF-8", False, hit[1]
    try:
        return b.decode(enc), None, False, -1
    except UnicodeDecodeError as e:
        detail = f"byte 0x{b[e.start]:02x} at column {e.start + 1} is not valid {enc}"
        if fallback:
            try:
                return b.decode(fallback), f"{detail}: decoded as {fallback}", False, e.start
            except UnicodeDecodeError:
                detail += f" nor {fallback}"
        return b.decode(enc, errors="replace"), detail, True, e.start


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_JSON = json.JSONDecoder(parse_constant=_no_constant)  # the C scanner still does the work
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def loads_strict(s: str) -> Any:
    """json.loads that refuses what JSON does not allow or our stores cannot hold; ValueError names the rule,
    never the value."""
    try:
        value = _JSON.decode(s)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as e:
        raise _strict_error(e) from None
    if _SURROGATE_ESCAPE.search(s):
        where = lone_surrogate(value)
        if where is not None:
            raise LoneSurrogate(where)
    return value


class LoneSurrogate(ValueError):
    """A \\uD800-\\uDFFF escape without its pair: not a character, so not storable as UTF-8 text."""

    def __init__(self, top_key: str) -> None:
        super().__init__("a lone UTF-16 surrogate escape (\\uD800-\\uDFFF without its pair), not a character")
        self.top_key = top_key


def lone_surrogate(value: Any) -> str | None:
    """The top-level key under which a string (or key) holds a lone surrogate ('' for the value itself), else
    None. Iterative, so a deep record cannot overflow the stack here."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        v, top = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return top
        elif isinstance(v, dict):
            for k, item in v.items():
                stack.append((k, top or k))
                stack.append((item, top or k))
        elif isinstance(v, list):
            stack.extend((item, top) for item in v)
    return None


def _json_error(e: ValueError, ch: Channel, where: str) -> tuple[str, str | None]:
    """-> (reason, field) for a JSON value `loads_strict` refused."""
    if isinstance(e, LoneSurrogate):
        return str(e), e.top_key if e.top_key in ch.columns else None
    if isinstance(e, json.JSONDecodeError):
        return f"invalid JSON {where} at line {e.lineno} column {e.colno}: {e.msg}", None
    return f"invalid JSON {where}: {e}", None


class _Feed:
    """A CSV reader over the file's lines that knows its line position and can restart at any line, so parsing
    resumes after a broken row. (The lines are fed by a C iterator: a Python one costs ~1 us a line.)"""

    def __init__(self, make: Any, start: int) -> None:
        self.make = make
        self.rewind(start)

    def rewind(self, start: int) -> None:
        self.base, self.rd = start, self.make(start)

    @property
    def pos(self) -> int:
        return self.base + self.rd.line_num


def read_csv(data: bytes, ch: Channel) -> FileRead:
    out = FileRead()
    choice = _encoding(data, ch, out)
    if choice.error:
        return _whole(data, choice.error, out.warnings)
    data, enc = choice.data, choice.encoding
    raw_lines = data.splitlines(keepends=True)
    problems: dict[int, tuple[str, bool, int]] = {}
    try:
        if choice.utf8_rows:
            raise UnicodeDecodeError(enc, b"", 0, 0, "rows are checked one by one")
        data.decode(enc)  # the usual case: the whole file is valid, decode lines without checks
        lines = [b.decode(enc) for b in raw_lines]
    except UnicodeDecodeError:
        lines = []
        for i, b in enumerate(raw_lines):
            s, problem, fatal, offset = _decode(b, enc, ch.fallback_encoding, choice.utf8_rows)
            lines.append(s)
            if problem:
                problems[i] = (problem, fatal, offset)
    ends_open = not raw_lines[-1].endswith((b"\n", b"\r"))

    def reader(start: int) -> Any:
        return csv.reader(iter(lines[start:]) if start else iter(lines), delimiter=ch.delimiter, strict=True)

    feed = _Feed(reader, 0)
    rd = feed.rd
    header: list[str] | None = None
    while header is None:
        try:
            first = next(rd)
        except StopIteration:
            return FileRead(warnings=out.warnings + ["empty file: no header and no rows"], empty=True)
        except csv.Error as e:
            out.file_error = f"header line cannot be read as CSV: {e}"
            first = None
            feed.rewind(1)
            rd = feed.rd
            header = []
            break
        if first and any(c.strip() for c in first):
            header = [c.strip() for c in first]
    header_end = feed.pos
    for i in range(header_end):
        if i in problems and problems[i][1]:  # fatal
            out.file_error = out.file_error or f"header line: {problems[i][0]}"
    if header and out.file_error is None:
        known = set(ch.columns)
        missing_req = [c for c in ch.required if c not in header]
        # A header lacking required columns may be a data row (a file without a header): its cells are then
        # values, so they are counted, not quoted.
        if missing_req:
            out.file_error = (f"missing required column(s) {', '.join(missing_req)} (the header has "
                              f"{len(header)} column(s), {sum(c in known for c in header)} of them known)")
        if known:
            extra = [c for c in header if c not in known]
            absent = [c for c in ch.columns if c not in header and c not in ch.required]
            if extra:
                out.warnings.append(f"{len(extra)} unknown column(s) ignored" if missing_req
                                    else f"extra column(s) ignored: {', '.join(extra)}")
            if absent:
                out.warnings.append(f"column(s) absent, their canonical fields are null: {', '.join(absent)}")
        if len(set(header)) != len(header):
            out.warnings.append("duplicate column names in header: the last one wins")
    ncols = len(header)

    row = 0
    nlines = len(lines)
    while True:
        start = feed.base + rd.line_num
        try:
            fields = next(rd)
            end = feed.base + rd.line_num
            broken: str | None = None
        except StopIteration:
            break
        except csv.Error as e:
            fields, end = None, start + 1
            broken = f"CSV error: {e}"
        if fields is not None and (not fields or (len(fields) == 1 and not fields[0].strip())) and end - start == 1:
            continue  # a blank line holds no data
        row += 1
        rr = RawRow(row, start + 1, raw_lines[start] if end - start == 1 else b"".join(raw_lines[start:end]))
        out.rows.append(rr)
        if broken is None and fields is not None and len(fields) == ncols and not problems:
            rr.record = dict(zip(header, fields))  # the usual row: nothing more to check
            continue
        last = end >= nlines
        if fields is not None and len(fields) != ncols and end - start > 1:
            broken = (f"unbalanced quote: a quoted field opened on line {start + 1} never closes properly "
                      f"({len(fields)} fields over {end - start} lines, header has {ncols})")
            end = start + 1
            rr.raw = raw_lines[start]
        if broken is not None and "unexpected end of data" in broken:
            broken = (f"unbalanced quote: a quoted field opened on line {start + 1} is still open at the end of "
                      "the file" + ("; the last line looks truncated" if ends_open and start == len(lines) - 1 else ""))
            end, rr.raw = start + 1, raw_lines[start]
        if broken is not None:
            rr.error = broken
            feed.rewind(end)
            rd = feed.rd
            continue
        assert fields is not None
        bad = [problems[i] for i in range(start, end) if i in problems] if problems else []
        if len(fields) != ncols:
            if last and ends_open:
                rr.error = f"truncated last line: {len(fields)} of {ncols} fields and no line end"
            else:
                rr.error = f"{len(fields)} fields where the header has {ncols}"
                rr.field = f"<field {ncols + 1}>" if len(fields) > ncols else header[len(fields)]
            continue
        record = dict(zip(header, fields))
        if bad:
            culprit = next((h for h, v in record.items() if "\ufffd" in v), None)
            if any(fatal for _, fatal, _ in bad):
                rr.error = "; ".join(p for p, fatal, _ in bad if fatal)
                rr.field = culprit
                continue
            if start in problems:  # the offset is a character offset (single-byte fallback, UTF-8 row)
                before = next(csv.reader([lines[start][:problems[start][2]]], delimiter=ch.delimiter), [""])
                culprit = header[min(max(len(before) - 1, 0), ncols - 1)]
            where = f"field {culprit}: " if culprit else ""
            rr.warning = where + "; ".join(p for p, _, _ in bad)
        rr.record = record
    return out


def read_jsonl(data: bytes, ch: Channel) -> FileRead:
    out = FileRead()
    choice = _encoding(data, ch, out)
    if choice.error:
        return _whole(data, choice.error, out.warnings)
    data, enc = choice.data, choice.encoding
    raw_lines = data.split(b"\n")
    row = 0
    for i, b in enumerate(raw_lines):
        if not b.strip():
            continue
        row += 1
        rr = RawRow(row=row, line=i + 1, raw=b + (b"\n" if i < len(raw_lines) - 1 else b""))
        out.rows.append(rr)
        s, problem, fatal, _ = _decode(b, enc, ch.fallback_encoding, choice.utf8_rows)
        if fatal:
            rr.error = problem
            continue
        try:
            rec = loads_strict(s)
        except json.JSONDecodeError as e:
            truncated = i == len(raw_lines) - 1
            rr.error = (f"invalid JSON at column {e.colno}: {e.msg}"
                        + ("; the last line looks truncated" if truncated else ""))
            continue
        except ValueError as e:
            rr.error, rr.field = _json_error(e, ch, "record")
            continue
        if not isinstance(rec, dict):
            rr.error = f"a JSON {type(rec).__name__} where an object was expected"
            continue
        rr.warning = problem
        rr.record = rec
    _json_required(out, ch)
    return out


def read_json_document(data: bytes, ch: Channel) -> FileRead:
    out = FileRead()
    choice = _encoding(data, ch, out)
    if choice.error:
        return _whole(data, choice.error, out.warnings)
    data, enc = choice.data, choice.encoding
    s, problem, fatal, _ = _decode(data, enc, ch.fallback_encoding)
    whole = RawRow(row=1, line=1, raw=data)
    if fatal:
        whole.error = f"document: {problem}"
        return FileRead(rows=[whole], file_error=whole.error, warnings=out.warnings)
    if problem:
        out.warnings.append(f"document: {problem}")
    try:
        doc = _JSON.decode(s)
    except json.JSONDecodeError as e:
        whole.error = f"invalid JSON document at line {e.lineno} column {e.colno}: {e.msg} (truncated?)"
        return FileRead(rows=[whole], file_error=whole.error, warnings=out.warnings)
    except (RecursionError, ValueError) as e:  # the document cannot be parsed at all: the file is quarantined
        whole.error = "document: " + _json_error(_strict_error(e), ch, "document")[0]
        return FileRead(rows=[whole], file_error=whole.error, warnings=out.warnings)
    items = doc.get(ch.records) if isinstance(doc, dict) and ch.records else doc
    if not isinstance(items, list):
        whole.error = f"JSON document has no list under {ch.records!r}"
        return FileRead(rows=[whole], file_error=whole.error, warnings=out.warnings)
    check_surrogates = bool(_SURROGATE_ESCAPE.search(s))
    for i, item in enumerate(items, start=1):
        rr = RawRow(row=i, line=i, raw=_reserialise(item))
        out.rows.append(rr)
        if not isinstance(item, dict):
            rr.error = f"record {i} is a JSON {type(item).__name__}, not an object"
            continue
        if check_surrogates and (top := lone_surrogate(item)) is not None:
            rr.error, rr.field = _json_error(LoneSurrogate(top), ch, "record")
            continue
        rr.record = item
    _json_required(out, ch)
    return out


def _strict_error(e: Exception) -> ValueError:
    """A whole-document parse error in loads_strict's words."""
    if isinstance(e, RecursionError):
        return ValueError("nested deeper than the parser can follow")
    return ValueError("a number too long to read (over 4300 digits)" if "digits" in str(e) else str(e))


def _reserialise(item: Any) -> bytes:
    """A document's record as its own bytes (JSON, UTF-8). A lone surrogate stays a \\u escape, as delivered."""
    try:
        return json.dumps(item, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(item).encode("ascii")
    except RecursionError:
        return b""


def _json_required(out: FileRead, ch: Channel) -> None:
    """A required key missing from a record rejects the row; missing from every record fails the file."""
    missing_everywhere = set(ch.required)
    parsed = 0
    for rr in out.rows:
        if rr.record is None:
            continue
        parsed += 1
        lacking = [k for k in ch.required if rr.record.get(k) is None]
        missing_everywhere &= set(lacking)
        if lacking:
            rr.error, rr.field = f"missing required field(s) {', '.join(lacking)}", lacking[0]
            rr.record = None
    if parsed and missing_everywhere:
        out.file_error = f"missing required field(s) {', '.join(sorted(missing_everywhere))} in every record"
