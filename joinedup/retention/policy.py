"""The retention policy: days per zone, from joinedup/retention/retention.yml, your file or the environment.

One validated mapping, like the link settings: an unknown zone or a value that is not a whole number of days
is an error naming the file (or variable) and the key, so a typo never silently keeps data for ever.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

DEFAULTS_FILE = Path(__file__).with_name("retention.yml")
FILE_ENV = "JOINEDUP_RETENTION"
ENV_PREFIX = "JOINEDUP_RETENTION__"
ZONES = ("exports", "raw", "quarantine", "audit", "subject_access")


class RetentionConfigError(ValueError):
    pass


def _days(value: object, where: str) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none", "forever")):
        return None
    try:
        days = int(str(value).strip())
    except ValueError:
        raise RetentionConfigError(f"{where}: {value!r} is not a number of days (or null to keep for ever)") from None
    if days < 1:
        raise RetentionConfigError(f"{where}: retention must be at least 1 day, got {days}")
    return days


def _read(path: Path) -> dict[str, int | None]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RetentionConfigError(f"{path}: cannot read the retention policy: {exc}") from None
    if not isinstance(doc, dict):
        raise RetentionConfigError(f"{path}: expected zone: days mappings")
    out = {}
    for zone, value in doc.items():
        if zone not in ZONES:
            raise RetentionConfigError(f"{path}: unknown zone {zone!r}; the zones are {', '.join(ZONES)}")
        out[zone] = _days(value, f"{path}: {zone}")
    return out


def load_policy(path: Path | None = None) -> dict[str, int | None]:
    """Days to keep per zone (None: for ever): the defaults, then your file, then JOINEDUP_RETENTION__<ZONE>."""
    policy = _read(DEFAULTS_FILE)
    own = path or (Path(os.environ[FILE_ENV]) if os.environ.get(FILE_ENV) else None)
    if own is not None:
        policy.update(_read(own))
    for var, value in os.environ.items():
        if var.startswith(ENV_PREFIX):
            zone = var.removeprefix(ENV_PREFIX).lower()
            if zone not in ZONES:
                raise RetentionConfigError(f"{var}: unknown zone {zone!r}; the zones are {', '.join(ZONES)}")
            policy[zone] = _days(value, var)
    return policy
