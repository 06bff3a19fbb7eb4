"""Native rows -> canonical contacts (columns ready for Arrow) and quarantined rows (raw, with the reason).

Pure: bytes in, tables out. `DayNormaliser` spans the files of one channel-day so a contact delivered twice
(in one file or across the day's files) is loaded once.

Nothing a file holds may stop the day: the readers and the field rules turn every known fault into a quarantined
row, and two nets catch what they do not know yet. A file whose processing raises is quarantined whole (its rows
rolled back), and rows Arrow cannot hold are quarantined one by one; both name the error's type and code line,
never a value.
"""

from __future__ import annotations

import operator
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from joinedup.channels import Channel
from joinedup.ingest.fields import Compiled, FieldError, RowContext, compile_field, compile_key
from joinedup.ingest.localtime import LocalClock
from joinedup.ingest.readers import RawRow, read_file
from joinedup.ingest.schema import CONTACT_COLUMNS, QUARANTINE_SCHEMA, STAGED_SCHEMA


@dataclass
class FileOutcome:
    """What happened to one file: the audit's counts, status and messages."""

    source_file: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    status: str = "loaded"  # loaded | empty | failed
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Mapping:
    """A channel's compiled field specs."""

    def __init__(self, ch: Channel) -> None:
        self.channel = ch
        self.key = compile_key(ch.key, ch.maps, ch.timezone, ch.valid_years)
        self.fields: list[tuple[str, Compiled]] = [
            (name, compile_field(name, spec, ch.maps, ch.timezone, ch.valid_years))
            for name, spec in ch.fields.items()
        ]
        unknown = [n for n, _ in self.fields if n not in CONTACT_COLUMNS and not n.endswith("_")]
        if unknown:
            raise ValueError(f"channel {ch.name}: unknown canonical column(s) {unknown} (scratch names end in _)")
        self._fast = self._generate()

    def _generate(self) -> Any:
        """One straight-line function per channel for the rows without errors (no loop, no per-field try)."""
        lines = ["def fast(record, ctx):", "    out = TEMPLATE.copy()"]
        lines += [f"    out[{name!r}] = F[{i}](record, out, ctx)" for i, (name, _) in enumerate(self.fields)]
        parts = " + '-' + ".join(f"str(K[{i}](record, out, ctx))" for i in range(len(self.key)))
        lines += [f"    out['contact_id'] = {self.channel.source_system + ':'!r} + {parts}", "    return out"]
        namespace: dict[str, Any] = {"F": [fn for _, fn in self.fields], "K": [fn for _, fn in self.key],
                                     "TEMPLATE": dict.fromkeys(STAGED_SCHEMA.names)}
        exec("\n".join(lines), namespace)
        return namespace["fast"]

    def contact(self, record: dict[str, Any], ctx: RowContext) -> tuple[dict[str, Any], list[FieldError]]:
        try:
            return self._fast(record, ctx), []
        except FieldError:
            return self._slow(record, ctx)

    def _slow(self, record: dict[str, Any], ctx: RowContext) -> tuple[dict[str, Any], list[FieldError]]:
        """Every field, collecting all the errors of the row."""
        out: dict[str, Any] = dict.fromkeys(STAGED_SCHEMA.names)
        errors: list[FieldError] = []
        parts = []
        for _label, fn in self.key:
            try:
                parts.append(str(fn(record, out, ctx)))
            except FieldError as e:
                errors.append(FieldError(e.field, f"natural key: {e.message}"))
        for name, fn in self.fields:
            try:
                out[name] = fn(record, out, ctx)
            except FieldError as e:
                errors.append(e)
                out[name] = None
        out["contact_id"] = f"{self.channel.source_system}:{'-'.join(parts)}"
        return out, errors


_MAPPINGS: dict[int, tuple[Channel, Mapping]] = {}
_STAGED_GETTER = operator.itemgetter(*STAGED_SCHEMA.names)


def mapping_for(ch: Channel) -> Mapping:
    """Compile a channel's mapping once per process, not once per file."""
    hit = _MAPPINGS.get(id(ch))
    if hit is None or hit[0] is not ch:
        hit = _MAPPINGS[id(ch)] = (ch, Mapping(ch))
    return hit[1]


class DayNormaliser:
    def __init__(self, ch: Channel) -> None:
        self.ch = ch
        self.mapping = mapping_for(ch)
        self.rows: list[dict[str, Any]] = []
        self.quarantine: dict[str, list[Any]] = {c: [] for c in QUARANTINE_SCHEMA.names}
        self.seen: dict[str, tuple[str, int, bytes]] = {}
        self.outcomes: dict[str, FileOutcome] = {}

    def _reject(self, out: FileOutcome, rr: RawRow, check: str, reason: str, fld: str | None) -> None:
        q = self.quarantine
        q["channel"].append(self.ch.name)
        q["source_file"].append(out.source_file)
        q["source_row"].append(rr.row)
        q["line"].append(rr.line)
        q["field"].append(fld)
        q["check"].append(check)
        q["reason"].append(f"{out.source_file} row {rr.row} (line {rr.line})"
                           + (f" field {fld}" if fld else "") + f": {reason}")
        q["raw"].append(rr.text)
        q["raw_bytes"].append(rr.raw)
        out.rows_quarantined += 1

    def add_file(self, source_file: str, data: bytes) -> FileOutcome:
        """Parse and normalise one file into this day's tables; returns its outcome for the audit. If that
        raises, the file's rows are taken back out and the file is quarantined whole: one file never costs the
        day."""
        n_rows, n_quarantined = len(self.rows), len(self.quarantine["channel"])
        try:
            out = self._add_file(source_file, data)
        except Exception as e:  # noqa: BLE001 - the net under every reader and field rule
            for row in self.rows[n_rows:]:
                del self.seen[row["contact_id"]]
            del self.rows[n_rows:]
            for column in self.quarantine.values():
                del column[n_quarantined:]
            out = FileOutcome(source_file=source_file, rows_read=1, status="failed")
            reason = f"file could not be processed ({_where(e)}): quarantined whole"
            out.errors.append(f"{source_file}: {reason}")
            self._reject(out, RawRow(1, 1, data), "file", reason, None)
        self.outcomes[source_file] = out
        return out

    def add_unreadable(self, source_file: str, error: OSError) -> FileOutcome:
        """A file that is listed but cannot be read (permissions, vanished): one quarantined row without bytes,
        so the audit and the quarantine both name it and a re-run after the fix loads it."""
        out = FileOutcome(source_file=source_file, rows_read=1, status="failed")
        reason = f"file cannot be read ({type(error).__name__}: {error.strerror or 'no detail'}): quarantined whole"
        out.errors.append(f"{source_file}: {reason}")
        self._reject(out, RawRow(1, 1, b""), "file", reason, None)
        self.outcomes[source_file] = out
        return out

    def _add_file(self, source_file: str, data: bytes) -> FileOutcome:
        out = FileOutcome(source_file=source_file)
        read = read_file(data, self.ch)
        out.warnings.extend(read.warnings)
        out.rows_read = len(read.rows)
        if read.empty:
            out.status = "empty"
            return out
        if read.file_error:
            out.status = "failed"
            out.errors.append(f"{source_file}: {read.file_error}")
            for rr in read.rows:
                self._reject(out, rr, "file", f"file rejected: {read.file_error}"
                             + (f" (row problem: {rr.error})" if rr.error else ""), rr.field)
            return out
        ctx = RowContext(clock=LocalClock(self.ch.timezone) if self.ch.timezone != "UTC" else None)  # type: ignore[arg-type]
        rows = self.rows
        fixed = {"channel": self.ch.name, "source_system": self.ch.source_system, "source_file": source_file}
        fallback_rows: list[int] = []
        for rr in read.rows:
            if rr.record is None:
                self._reject(out, rr, "parse", rr.error or "unreadable row", rr.field)
                continue
            ctx.row = rr.row
            contact, errors = self.mapping.contact(rr.record, ctx)
            if errors:  # several canonical fields may read the same native one: each fault is said once
                messages = list(dict.fromkeys(e.message for e in errors))
                others = [f for f in dict.fromkeys(e.field for e in errors) if f != errors[0].field]
                self._reject(out, rr, "field", "; ".join(messages), errors[0].field)
                if others:
                    self.quarantine["reason"][-1] += f" (also: {', '.join(others)})"
                continue
            cid = contact["contact_id"]
            prior = self.seen.get(cid)
            if prior is not None:
                same = "identical to" if prior[2].rstrip(b"\r\n") == rr.raw.rstrip(b"\r\n") else "conflicting with"
                self._reject(out, rr, "duplicate",  # the id itself stays in the raw row
                             f"duplicate natural key (contact_id), {same} {prior[0]} row {prior[1]} "
                             "(first one kept)", None)
                continue
            self.seen[cid] = (source_file, rr.row, rr.raw)
            if rr.warning:
                fallback_rows.append(rr.row)
                if len(fallback_rows) <= 5:
                    out.warnings.append(f"row {rr.row}: {rr.warning}")
            contact.update(fixed)
            contact["source_row"] = rr.row
            contact["_raw"] = rr.raw
            contact["_line"] = rr.line
            rows.append(contact)
            out.rows_loaded += 1
        if len(fallback_rows) > 5:
            out.warnings.append(f"{len(fallback_rows)} rows in all decoded in another encoding than the channel's")
        if ctx.clock is not None:
            out.warnings.extend(ctx.clock.warnings())
        return out

    def staged_table(self) -> pa.Table:
        if not self.rows:
            return STAGED_SCHEMA.empty_table()
        try:
            return _to_arrow(self.rows)
        except (pa.ArrowException, OverflowError, UnicodeError, TypeError, ValueError):
            self._quarantine_unstorable()
            return _to_arrow(self.rows) if self.rows else STAGED_SCHEMA.empty_table()

    def _quarantine_unstorable(self) -> None:
        """The rare row Arrow refuses (a value no rule caught): found row by row, quarantined naming the column."""
        keep = []
        for row in self.rows:
            bad = next((f.name for f in STAGED_SCHEMA if not _storable(row[f.name], f.type)), None)
            if bad is None:
                keep.append(row)
                continue
            out = self.outcomes[row["source_file"]]
            rr = RawRow(row["source_row"], row["_line"], row["_raw"])
            self._reject(out, rr, "field", f"value cannot be stored as {STAGED_SCHEMA.field(bad).type}", bad)
            out.rows_loaded -= 1
            del self.seen[row["contact_id"]]
        self.rows[:] = keep

    def quarantine_table(self) -> pa.Table:
        return pa.table(self.quarantine, schema=QUARANTINE_SCHEMA)


def _to_arrow(rows: list[dict[str, Any]]) -> pa.Table:
    columns = zip(*map(_STAGED_GETTER, rows))  # rows -> columns, in C
    return pa.table([pa.array(c, type=f.type) for c, f in zip(columns, STAGED_SCHEMA)], schema=STAGED_SCHEMA)


def _storable(value: Any, type_: pa.DataType) -> bool:
    try:
        pa.array([value], type=type_)
    except (pa.ArrowException, OverflowError, UnicodeError, TypeError, ValueError):
        return False
    return True


def _where(e: BaseException) -> str:
    """An exception as its type and the code line that raised it: enough to find the bug, and no value."""
    frames = traceback.extract_tb(e.__traceback__)
    last = frames[-1] if frames else None
    return type(e).__name__ + (f" at {Path(last.filename).name}:{last.lineno}" if last else "")
