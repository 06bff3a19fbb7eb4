"""The field mini-language of channels.yml, compiled once per channel into plain functions.

A compiled field is `fn(record, out, ctx) -> value`: `record` is the native row (dict; JSON may nest),
`out` the canonical values computed so far (so derived fields can refer to earlier ones), `ctx` the per-file
state (clock, row number). A bad value raises `FieldError`, naming the native field, which quarantines the row.

Messages name the field and the rule, never the value: they reach the audit, the quarantine's reason column,
XComs and task logs, which are outside the restricted zones, while the value itself stays in the quarantined raw
row. Where it helps, a message describes the value's shape (`shape`: length and kinds of character).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from joinedup.ingest.localtime import LocalClock


class FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field {field}: {message}")
        self.field = field
        self.message = message


def shape(value: str) -> str:
    """What a rejected value looks like without saying what it is: '11 characters: digits, spaces'."""
    kinds = [kind for kind, test in (("letters", str.isalpha), ("digits", str.isdigit), ("spaces", str.isspace))
             if any(test(c) for c in value)]
    if any(not (c.isalnum() or c.isspace()) for c in value):
        kinds.append("other characters")
    return f"{len(value)} character{'' if len(value) == 1 else 's'}: {', '.join(kinds) or 'none'}"


def not_in_map(mapping: dict[str, Any], map_name: str | None, value: str) -> str:
    """The reason for a value the field's map does not list; the map's keys are configuration, not data."""
    keys = sorted(map(str, mapping))
    listed = f": {', '.join(keys)}" if len(keys) <= 10 else ""
    where = f"map {map_name}" if map_name else "the field's map"
    return f"not one of the values {where} lists ({len(keys)} known{listed}; got {shape(value)})"


@dataclass
class RowContext:
    clock: LocalClock
    row: int = 0
    is_local: bool = True


Getter = Callable[[dict[str, Any]], Any]
Compiled = Callable[[dict[str, Any], dict[str, Any], RowContext], Any]

TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "dame", "lady", "lord", "revd"})
_PATH_PART = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<k>[^=\]]+)=(?P<v>[^\]]*)\])?$")


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_TIMEDELTA_SECONDS = 86_400 * 999_999_999  # Python's timedelta holds up to 999,999,999 days


def text(value: Any, field: str = "?") -> str | None:
    """Native value -> text exactly as captured; '' and JSON null mean 'not captured'.

    A JSON object or array where the contract has one value is refused (FieldError, so the row is quarantined
    with its raw bytes) rather than landed as a Python repr (`['Ann', 'Smith']`), which would change the value
    without a word."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise FieldError(field, f"a JSON {'object' if isinstance(value, dict) else 'array'} where the contract has "
                                "a single value (kept as delivered in quarantine)")
    return str(value)


def present(value: Any) -> bool:
    """Whether a native field was captured at all (any value but null and '')."""
    return value is not None and value != ""


def scalar(value: Any) -> str | None:
    """`text` for comparisons (`when`): a structured value matches nothing instead of failing the row here."""
    return None if isinstance(value, (dict, list)) else text(value)


def years_rule(years: tuple[int, int]) -> str:
    return f"outside the valid years {years[0]}-{years[1]} (valid_years in channels.yml)"


def getter(path: str) -> Getter:
    """`Col`, `a.b` or `list[key=value].field` (first matching item)."""
    if "." not in path and "[" not in path:
        return lambda rec: rec.get(path)
    parts = []
    for piece in path.split("."):
        m = _PATH_PART.match(piece)
        if not m:
            raise ValueError(f"bad field path {path!r}")
        parts.append((m["name"], m["k"], m["v"]))

    def get(rec: dict[str, Any]) -> Any:
        cur: Any = rec
        for name, k, v in parts:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(name)
            if k is not None:
                if not isinstance(cur, list):
                    return None
                cur = next((it for it in cur if isinstance(it, dict) and str(it.get(k)) == v), None)
        return cur

    return get


_FMT_RE = {"%d": r"(?P<d>\d{1,2})", "%m": r"(?P<m>\d{1,2})", "%Y": r"(?P<Y>\d{4})", "%H": r"(?P<H>\d{1,2})",
           "%M": r"(?P<M>\d{2})", "%S": r"(?P<S>\d{2})"}


@lru_cache(maxsize=64)
def strptime_fast(fmt: str, years: tuple[int, int] | None = None) -> Callable[[str], datetime]:
    """A strict, fast parser for the numeric strftime formats exports use (strptime is ~5x slower). With `years`,
    a year outside them is refused before any arithmetic can overflow on it."""
    pattern = re.escape(fmt)
    for code, rx in _FMT_RE.items():
        pattern = pattern.replace(re.escape(code), rx)
    rx = re.compile(rf"^\s*{pattern}\s*$")

    def parse(s: str) -> datetime:
        m = rx.match(s)
        if not m:
            raise ValueError(f"does not match {fmt} (got {shape(s)})")
        g = m.groupdict()
        year = int(g["Y"])
        if years is not None and not years[0] <= year <= years[1]:
            raise ValueError(years_rule(years))
        try:
            return datetime(year, int(g["m"]), int(g["d"]), int(g.get("H") or 0), int(g.get("M") or 0),
                            int(g.get("S") or 0))
        except ValueError as e:
            raise ValueError(f"not a real date/time ({e})") from None

    return parse


def parse_utc(s: str, years: tuple[int, int] | None = None) -> datetime:
    """ISO 8601 with Z or an offset -> naive UTC; a value without offset is taken as UTC. With `years`, an
    instant outside them is refused (and one whose offset would leave Python's calendar never crashes)."""
    try:
        dt = datetime.fromisoformat(s.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 timestamp (got {shape(s)})") from None
    if years is not None and not years[0] <= dt.year <= years[1]:
        raise ValueError(years_rule(years))
    if dt.tzinfo is not None:
        try:
            dt = dt.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # only reachable without `years`
            raise ValueError("the offset takes it outside the calendar") from None
    return dt


@lru_cache(maxsize=65536)
def split_name(full: str) -> tuple[str | None, str | None]:
    """'Mrs E. Boothroyd' -> ('E.', 'Boothroyd'); 'Young, Rebecca' -> ('Rebecca', 'Young'); titles dropped."""
    s = " ".join(full.split())
    if "," in s:
        family, given = (p.strip() for p in s.split(",", 1))
        return given or None, family or None
    tokens = s.split(" ")
    while len(tokens) > 1 and tokens[0].rstrip(".").lower() in TITLES:
        tokens = tokens[1:]
    if not tokens or tokens == [""]:
        return None, None
    if len(tokens) == 1:
        return tokens[0], None
    return " ".join(tokens[:-1]), tokens[-1]


def _topic(spec: dict[str, Any], maps: dict[str, Any]) -> Compiled:
    """Keyword routing of free text to a service, as councils route social inboxes: the first service in the
    map whose keywords occur (case-insensitive, at word starts) wins; else the default."""
    get = getter(spec["from"])
    rules = [(service, re.compile(r"\b(?:" + "|".join(words) + ")", re.IGNORECASE))
             for service, words in maps[spec["keywords"]].items()]
    default = spec.get("default")

    label = spec["from"]

    def topic(rec: dict, out: dict, ctx: RowContext) -> str | None:
        v = text(get(rec), label)
        if v:
            for service, rx in rules:
                if rx.search(v):
                    return service
        return default

    return topic


def compile_field(name: str, spec: Any, maps: dict[str, dict[str, str]], tz: str,
                  years: tuple[int, int] = (1900, 2100)) -> Compiled:
    """`years`: the channel's valid_years; every date and time the field yields lies inside them."""
    if isinstance(spec, str):
        spec = {"from": spec}
    spec = dict(spec)
    kind = spec.get("as", "text")
    if "const" in spec:
        const = spec["const"]
        return lambda rec, out, ctx: const
    if kind == "topic":
        return _topic(spec, maps)
    if "cases" in spec:
        cases = [(getter(c["present"]), c["present"], c["value"]) for c in spec["cases"]]
        default = spec.get("default")

        def by_cases(rec: dict, out: dict, ctx: RowContext) -> Any:
            for get, _, value in cases:
                if present(get(rec)):
                    return value
            return default

        return by_cases
    if kind == "seconds_between":
        a, b = spec["between"]

        def between(rec: dict, out: dict, ctx: RowContext) -> int | None:
            start, end = out.get(a), out.get(b)
            return int((end - start).total_seconds()) if start is not None and end is not None else None

        return between

    when = {k: frozenset(v) for k, v in spec.get("when", {}).items()}
    when_get = [(getter(k), vs) for k, vs in when.items()]

    if kind == "after_seconds":
        base, secs_field = spec["base"], spec["seconds"]
        get_secs = getter(secs_field)

        def after(rec: dict, out: dict, ctx: RowContext) -> datetime | None:
            if any(scalar(g(rec)) not in vs for g, vs in when_get):
                return None
            start, secs = out.get(base), text(get_secs(rec), secs_field)
            if start is None or secs is None:
                return None
            try:
                n = int(secs)
            except ValueError:
                raise FieldError(secs_field, f"not a whole number of seconds (got {shape(secs)})") from None
            if not -MAX_TIMEDELTA_SECONDS <= n <= MAX_TIMEDELTA_SECONDS:
                raise FieldError(secs_field, "too many seconds for a duration (more than 999,999,999 days)")
            try:
                end = start + timedelta(seconds=n)
            except OverflowError:
                end = None
            if end is None or not years[0] <= end.year <= years[1]:
                raise FieldError(secs_field, f"{base} plus these seconds falls {years_rule(years)}")
            return end

        return after

    sources = spec["from"] if isinstance(spec["from"], list) else [spec["from"]]
    gets = [getter(s) for s in sources]
    label = "+".join(sources)
    required = bool(spec.get("required"))
    null_if = frozenset(spec.get("null_if", ()))
    strip_prefix = spec.get("strip_prefix")
    match = re.compile(spec["match"]) if "match" in spec else None
    mapping = spec.get("map")
    map_name = mapping if isinstance(mapping, str) else None
    if isinstance(mapping, str):
        mapping = maps[mapping]
    has_default = "default" in spec
    default = spec.get("default")
    split = spec.get("split")
    fmt = spec.get("format")
    default_time = spec.get("default_time")
    ordered = bool(spec.get("order"))

    flat = len(sources) == 1 and "." not in sources[0] and "[" not in sources[0]
    col = sources[0]

    def raw_flat(rec: dict) -> str | None:
        v = rec.get(col)
        return (v or None) if v.__class__ is str else text(v, label)

    def raw_value(rec: dict) -> str | None:
        if len(gets) == 1:
            return text(gets[0](rec), label)
        parts = [text(g(rec), src) for g, src in zip(gets, sources, strict=True)]
        if parts[0] is None:
            return None
        if any(p is None for p in parts[1:]):
            if not default_time:
                return None  # e.g. a ticket never called: no time, so no instant
            parts = [parts[0], default_time]
        return " ".join(parts)  # type: ignore[arg-type]

    raw = raw_flat if flat else raw_value
    simple = not (required or null_if or strip_prefix or match or when_get)

    # The common shapes get lean closures: they run for most fields of every row.
    if simple and kind == "text" and not mapping and not split:
        if not flat:
            return lambda rec, out, ctx: raw(rec)

        def plain(rec: dict, out: dict, ctx: RowContext) -> str | None:
            v = rec.get(col)
            return (v or None) if v.__class__ is str else text(v, label)
        return plain
    if simple and mapping is not None and not split:
        def mapped(rec: dict, out: dict, ctx: RowContext) -> Any:
            v = rec.get(col) if flat else raw(rec)
            if v.__class__ is not str:
                v = text(v, label)
            if v is None:
                return None
            if not v:
                return None
            r = mapping.get(v)
            if r is not None:
                return r
            if has_default:
                return default
            raise FieldError(label, not_in_map(mapping, map_name, v))
        return mapped
    if simple and split:
        part = 0 if split == "given" else 1
        return lambda rec, out, ctx: split_name(v)[part] if (v := raw(rec)) is not None else None

    convert = _converter(kind, label, fmt, default_time, len(gets) == 1, ordered, name, years)

    def compiled(rec: dict, out: dict, ctx: RowContext) -> Any:
        if when_get and any(scalar(g(rec)) not in vs for g, vs in when_get):
            return None
        v = raw(rec)
        if v is not None and (v in null_if):
            v = None
        if v is None:
            if required:
                raise FieldError(label, "required value is missing")
            return None
        if strip_prefix and v.startswith(strip_prefix):
            v = v[len(strip_prefix):] or None
            if v is None:
                return None
        if match is not None and not match.search(v):
            return None
        if split:
            given, family = split_name(v)
            return given if split == "given" else family
        if mapping is not None:
            if v in mapping:
                return mapping[v]
            if has_default:
                return default
            raise FieldError(label, not_in_map(mapping, map_name, v))
        return convert(v, ctx)

    return compiled


def _converter(kind: str, label: str, fmt: str | None, default_time: str | None, single: bool, ordered: bool,
               name: str, years: tuple[int, int]) -> Callable[[str, RowContext], Any]:
    """Text -> typed value, chosen once per field. Whole numbers must fit the lake's int64 and dates the
    channel's valid years, so nothing downstream (time zones, Arrow, GX) can overflow on a delivered value."""
    if kind == "text":
        return lambda v, ctx: v
    if kind == "lower":
        return lambda v, ctx: v.lower()
    if kind == "int":
        def to_int(v: str, ctx: RowContext) -> int:
            try:
                n = int(v)
            except ValueError:
                raise FieldError(label, f"not a whole number (got {shape(v)})") from None
            if INT64_MIN <= n <= INT64_MAX:
                return n
            raise FieldError(label, "a whole number outside the 64-bit integer range")
        return to_int
    if kind == "date":
        parse_date = strptime_fast(fmt or "%Y-%m-%d", years)

        def to_date(v: str, ctx: RowContext) -> str:
            try:
                return parse_date(v).strftime("%Y-%m-%d")
            except ValueError as e:
                raise FieldError(label, str(e)) from None
        return to_date
    if kind == "utc_datetime":
        def to_utc(v: str, ctx: RowContext) -> datetime:
            try:
                return parse_utc(v, years)
            except ValueError as e:
                raise FieldError(label, str(e)) from None
        return to_utc
    if kind == "local_datetime":
        with_time = bool(default_time) and single
        parse_local = strptime_fast(f"{fmt} %H:%M" if with_time else fmt or "", years)

        def to_local(v: str, ctx: RowContext) -> datetime:
            try:
                local = parse_local(f"{v.strip()} {default_time}" if with_time else v)
            except ValueError as e:
                raise FieldError(label, str(e)) from None
            return local if ctx.clock is None else ctx.clock.to_utc(local, label, ctx.row, ordered)
        return to_local
    raise ValueError(f"unknown field kind {kind!r} for {name}")


def compile_key(parts: tuple[Any, ...], maps: dict[str, dict[str, str]], tz: str,
                years: tuple[int, int] = (1900, 2100)) -> list[tuple[str, Compiled]]:
    out = []
    for p in parts:
        spec = {"from": p} if isinstance(p, str) else dict(p)
        spec["required"] = True
        label = spec["from"] if isinstance(spec["from"], str) else "+".join(spec["from"])
        out.append((label, compile_field(f"key:{label}", spec, maps, tz, years)))
    return out
