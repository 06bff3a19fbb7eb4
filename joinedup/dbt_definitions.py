"""The definitions fingerprint: when to run dbt with `--full-refresh`.

The person-keyed marts are incremental (dbt_project/macros/incremental/person_incremental.sql): a daily run
rebuilds only the persons whose contacts changed. What that diff cannot see is a change of the *definitions*
every row was built with: a seed (channel costs, response targets, bank holidays), a var (the channels and
their opening hours from joinedup/channels.yml, the journey gap, the time zone in dbt_project.yml) or the SQL
of a model or macro. Any of those changes rows of persons whose contacts did not change, so the journeys DAG
compares this fingerprint with the one stored after the last successful build and passes `--full-refresh` to
the build when they differ (or when none is stored).

The model and macro files are hashed themselves rather than the manifest's node checksums: the manifest has
the models' checksums (a hash of the same file) but none for macros, and a changed macro (switch_trigger,
consecutive_contacts) changes the facts as surely as a changed model; the manifest can also be stale or absent
(cosmos falls back to `dbt ls`). The dbt, dbt-duckdb and DuckDB versions are part of it too: an upgrade may
change what the same SQL computes.

The stored fingerprint lives beside the warehouse (joinedup.paths.warehouse_path), which is not a restricted
zone: it holds hashes only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from joinedup.channels import dbt_vars

FINGERPRINT_FILE = "dbt-definitions.json"
# What the marts' rows are computed from; tests/ (dbt data tests) and target/ are not.
DEFINITION_DIRS = ("models", "macros", "seeds")
DEFINITION_FILES = ("dbt_project.yml",)
SKIPPED_SUFFIXES = (".md",)  # documentation only
VERSIONED = ("dbt-core", "dbt-duckdb", "duckdb")


def _definition_files(project: Path) -> list[Path]:
    found = [project / name for name in DEFINITION_FILES if (project / name).is_file()]
    for folder in DEFINITION_DIRS:
        found += [p for p in (project / folder).rglob("*") if p.is_file() and p.suffix not in SKIPPED_SUFFIXES]
    return sorted(found, key=lambda p: p.relative_to(project).as_posix())


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def definitions_fingerprint(project: Path, vars_: dict[str, Any] | None = None) -> str:
    """sha256 over the project's definition files (path and bytes), the dbt vars joinedup passes (`vars_`,
    by default joinedup.channels.dbt_vars()) and the dbt/DuckDB versions."""
    h = hashlib.sha256()
    for path in _definition_files(project):
        h.update(path.relative_to(project).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    h.update(json.dumps(dbt_vars() if vars_ is None else vars_, sort_keys=True, default=str).encode() + b"\0")
    for package in VERSIONED:
        h.update(f"{package}={_version(package)}\0".encode())
    return h.hexdigest()


def fingerprint_path(warehouse: Path) -> Path:
    """Beside the warehouse it describes: a new or moved warehouse has none, so it is built in full."""
    return warehouse.parent / FINGERPRINT_FILE


def stored_fingerprint(warehouse: Path) -> str | None:
    """The fingerprint recorded after the last successful build of `warehouse`, or None (never, or unreadable:
    either way the next build must be a full one)."""
    try:
        return json.loads(fingerprint_path(warehouse).read_text(encoding="utf-8"))["fingerprint"]
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def needs_full_refresh(project: Path, warehouse: Path) -> dict[str, Any]:
    """{"fingerprint": now, "full_refresh": whether the build must be a full one}: the definitions differ from
    those of the last successful build, none was recorded, or the warehouse is not there."""
    now = definitions_fingerprint(project)
    full = not warehouse.exists() or stored_fingerprint(warehouse) != now
    return {"fingerprint": now, "full_refresh": full}


def record_fingerprint(warehouse: Path, fingerprint: str) -> Path:
    """Store `fingerprint` (the one the successful build ran with) atomically: a killed write leaves the old
    one, which at worst causes one more full refresh."""
    target = fingerprint_path(warehouse)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps({"fingerprint": fingerprint}) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target


# What `dbt parse` and `dbt docs generate` read beyond the definitions: the data tests and every description
# (.md docs blocks included), the profiles, and the environment variables any of them names.
PROJECT_DIRS = (*DEFINITION_DIRS, "tests", "analyses", "snapshots")
PROJECT_FILES = (*DEFINITION_FILES, "profiles.yml", "packages.yml")
_ENV_VAR = re.compile(r"""env_var\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")


def project_stamp(project: Path, target: str | None = None) -> str:
    """sha256 over everything a dbt parse or docs run of `project` for `target` depends on: the definitions
    fingerprint, every other project file (tests, descriptions, profiles), the values of the environment
    variables those files read (the warehouse's path among them) and the target.

    Equal stamps mean a second `dbt parse` would write the same manifest and `dbt docs generate` the same page
    (on DuckDB the catalog has no row statistics, only names, types and descriptions): a daily run with nothing
    of the project changed skips both (5 s and 5 s on the council year)."""
    h = hashlib.sha256(definitions_fingerprint(project).encode())
    files = [project / name for name in PROJECT_FILES if (project / name).is_file()]
    for folder in PROJECT_DIRS:
        files += [p for p in (project / folder).rglob("*") if p.is_file()]
    names: set[str] = set()
    for path in sorted(files, key=lambda p: p.relative_to(project).as_posix()):
        data = path.read_bytes()
        h.update(path.relative_to(project).as_posix().encode() + b"\0" + hashlib.sha256(data).digest())
        names.update(_ENV_VAR.findall(data.decode("utf-8", "replace")))
    for name in sorted(names):
        h.update(f"{name}={os.environ.get(name)!r}\0".encode())
    h.update(f"target={target!r}".encode())
    return h.hexdigest()


def stamp_is_current(stamp_file: Path, stamp: str) -> bool:
    """Whether `stamp_file` records `stamp` (a missing or unreadable file is not current)."""
    try:
        return stamp_file.read_text(encoding="utf-8").strip() == stamp
    except (OSError, UnicodeDecodeError):
        return False


def record_stamp(stamp_file: Path, stamp: str) -> None:
    """Record `stamp` atomically, after the output it vouches for is complete."""
    tmp = stamp_file.with_name(f".{stamp_file.name}.tmp")
    tmp.write_text(stamp + "\n", encoding="utf-8")
    os.replace(tmp, stamp_file)
