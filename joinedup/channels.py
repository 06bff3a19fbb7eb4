"""The channel list: channels.yml, the one place a channel is defined.

Ingest reads each channel's delivery and field specs from it; dbt, the quality suites, the seeds check and the
report read the list and its order from here too (`channel_names`, `dbt_vars`), so adding a channel is adding
config. Another file can be named with JOINEDUP_CHANNELS.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG = Path(__file__).with_name("channels.yml")
BUSINESS_TZ = "Europe/London"  # export folders are named by the local business day (data contract)


def config_path() -> Path:
    return Path(os.environ.get("JOINEDUP_CHANNELS", str(DEFAULT_CONFIG)))


# Dates and times outside these years (inclusive) are quarantined, whatever the field: a year 0001 or 9999 is
# a broken export, and near the ends of Python's calendar a time-zone shift overflows. Kept a day inside the
# calendar (years 2..9998) so no conversion of an accepted value can overflow.
DEFAULT_VALID_YEARS = (1900, 2100)


def parse_valid_years(spec: Any, default: tuple[int, int], where: str) -> tuple[int, int]:
    if spec is None:
        return default
    if (not isinstance(spec, list) or len(spec) != 2 or not all(isinstance(y, int) for y in spec)
            or not 2 <= spec[0] <= spec[1] <= 9998):
        raise ValueError(f"{where}: valid_years must be [first, last], whole years with 2 <= first <= last <= 9998;"
                         f" got {spec!r}")
    return spec[0], spec[1]


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO order: mon = 1
_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")


@dataclass(frozen=True)
class OpeningHours:
    """When the council staffs a channel (local wall-clock time): a contact outside them, on a closed day or on a
    bank holiday (unless `bank_holidays` is "open") is out of hours."""

    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    opens: str = "08:30"
    closes: str = "17:00"
    bank_holidays: str = "closed"

    def dbt(self) -> dict[str, Any]:
        """As the dbt var `opening_hours` carries it per channel (macros/opening_hours.sql reads it)."""
        return {"iso_weekdays": sorted(WEEKDAYS.index(d) + 1 for d in self.days), "opens": self.opens,
                "closes": self.closes, "open_on_bank_holidays": self.bank_holidays == "open"}


def parse_opening_hours(spec: Any, default: OpeningHours, where: str) -> OpeningHours:
    """`spec` (a mapping from channels.yml) over `default`; every mistake names `where` and the key."""
    if spec is None:
        return default
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: opening_hours must be a mapping (days, opens, closes, bank_holidays)")
    unknown = sorted(set(spec) - {"days", "opens", "closes", "bank_holidays"})
    if unknown:
        raise ValueError(f"{where}: opening_hours has unknown key(s) {unknown} (days, opens, closes, bank_holidays)")
    values: dict[str, Any] = {"days": default.days, "opens": default.opens, "closes": default.closes,
                              "bank_holidays": default.bank_holidays}
    if "days" in spec:
        days = spec["days"]
        if not isinstance(days, list) or not all(isinstance(d, str) and d.lower() in WEEKDAYS for d in days):
            raise ValueError(f"{where}: opening_hours.days must be a list of {', '.join(WEEKDAYS)}; got {days!r}")
        values["days"] = tuple(sorted({d.lower() for d in days}, key=WEEKDAYS.index))
    for key in ("opens", "closes"):
        if key in spec:
            value = spec[key]
            if not isinstance(value, str) or not _HHMM.fullmatch(value):
                raise ValueError(f'{where}: opening_hours.{key} must be a quoted "HH:MM" time; got {value!r} '
                                 '(unquoted, YAML reads 08:30 as a number of minutes)')
            values[key] = value
    if "bank_holidays" in spec:
        if spec["bank_holidays"] not in ("closed", "open"):
            raise ValueError(f"{where}: opening_hours.bank_holidays must be closed or open; "
                             f"got {spec['bank_holidays']!r}")
        values["bank_holidays"] = spec["bank_holidays"]
    hours = OpeningHours(**values)
    if hours.days and hours.opens >= hours.closes:
        raise ValueError(f"{where}: opening_hours opens at {hours.opens}, not before it closes ({hours.closes})")
    return hours


@dataclass(frozen=True)
class Channel:
    """One channel's entry in channels.yml, with shared value maps resolved."""

    name: str
    source_system: str
    location: str
    day_folder: str
    pattern: str
    format: str
    encoding: str
    timezone: str
    required: tuple[str, ...]
    key: tuple[Any, ...]
    fields: dict[str, Any]
    columns: tuple[str, ...] = ()
    fallback_encoding: str | None = None
    delimiter: str = ","
    records: str | None = None
    delivery_timeout_hours: float = 6.0
    start_date: str = "2025-01-01"
    opening_hours: OpeningHours = OpeningHours()
    valid_years: tuple[int, int] = DEFAULT_VALID_YEARS
    maps: dict[str, dict[str, str]] = field(default_factory=dict)

    def day_url(self, day: date, exports: str | None = None) -> str:
        """URL of the folder holding `day`'s files (no trailing slash)."""
        from joinedup.paths import exports_root

        root = (exports if exports is not None else exports_root()).rstrip("/")
        base = self.location.format(exports=root).rstrip("/")
        return f"{base}/{self.day_folder.format(day=day)}"

    def file_glob(self, day: date) -> str:
        return self.pattern.format(day=day)


def parse_channels(doc: dict[str, Any]) -> dict[str, Channel]:
    maps = doc.get("maps", {})
    default_hours = parse_opening_hours(doc.get("opening_hours"), OpeningHours(), "channels.yml")
    default_years = parse_valid_years(doc.get("valid_years"), DEFAULT_VALID_YEARS, "channels.yml")
    out: dict[str, Channel] = {}
    for name, c in doc["channels"].items():
        out[name] = Channel(
            name=name,
            source_system=c["source_system"],
            location=c["location"],
            day_folder=c.get("day_folder", "{day:%Y-%m-%d}"),
            pattern=c["pattern"],
            format=c["format"],
            encoding=c.get("encoding", "utf-8"),
            fallback_encoding=c.get("fallback_encoding"),
            delimiter=c.get("delimiter", ","),
            timezone=c.get("timezone", "UTC"),
            required=tuple(c.get("required", ())),
            columns=tuple(c.get("columns", ())),
            key=tuple(c["key"]),
            fields=dict(c["fields"]),
            records=c.get("records"),
            delivery_timeout_hours=float(c.get("delivery_timeout_hours", 6.0)),
            start_date=str(c.get("start_date", "2025-01-01")),
            opening_hours=parse_opening_hours(c.get("opening_hours"), default_hours, f"channels.yml: {name}"),
            valid_years=parse_valid_years(c.get("valid_years"), default_years, f"channels.yml: {name}"),
            maps=maps,
        )
    return out


@cache
def _load(path: str, mtime: float) -> dict[str, Channel]:
    with open(path, encoding="utf-8") as f:
        return parse_channels(yaml.safe_load(f))


def load_channels(path: Path | None = None) -> dict[str, Channel]:
    p = path or config_path()
    return _load(str(p), p.stat().st_mtime)


def channel_names(path: Path | None = None) -> list[str]:
    """The configured channels in the order channels.yml lists them: the order every chart and table uses."""
    return list(load_channels(path))


def dbt_vars(path: Path | None = None) -> dict[str, Any]:
    """The dbt vars derived from channels.yml, passed to every dbt invocation (cosmos `ProjectConfig(dbt_vars=)`,
    `--vars` on the CLI): the channel list and each channel's opening hours. dbt_project.yml holds neither and no
    default, so a dbt run without them fails ("Required var 'channels' not found") instead of silently building
    the marts from a stale list."""
    channels = load_channels(path)
    return {"channels": list(channels),
            "opening_hours": {name: ch.opening_hours.dbt() for name, ch in channels.items()}}


def dbt_vars_arg(path: Path | None = None) -> list[str]:
    """`--vars <json>` for a dbt command line (JSON is YAML, which is what --vars reads)."""
    return ["--vars", json.dumps(dbt_vars(path))]


if __name__ == "__main__":  # `python -m joinedup.channels` prints the dbt vars, for `dbt ... --vars "$(...)"`
    sys.stdout.write(json.dumps(dbt_vars()) + "\n")
