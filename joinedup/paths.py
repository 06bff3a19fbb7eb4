"""Where the pipeline reads and writes. Every location comes from the environment, with local defaults.

The identity store and the warehouse are restricted (they hold or can reach PII); the analytics file is what BI
users open, published only after the gate passes.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

__all__ = [
    "analytics_path", "dbt_execution_mode", "dbt_project_dir", "exports_root", "identity_root", "lake_root",
    "register_path", "reports_root", "warehouse_path",
]


def _path(var: str, default: str) -> Path:
    return Path(os.environ.get(var, default))


def exports_root() -> str:
    """The landing zone of the channels' exports: any fsspec URL or a local path (restricted: raw PII)."""
    return os.environ.get("JOINEDUP_EXPORTS", "data/exports")


def lake_root() -> Path:
    """The lake: landed contacts (raw, restricted), quarantine, audit and the link step's pseudonymous outputs."""
    return _path("JOINEDUP_LAKE", "data/lake")


def identity_root() -> Path:
    """Restricted identity store: linkage state, contact -> person mapping, review queue."""
    return _path("JOINEDUP_IDENTITY", "data/identity")


def register_path() -> Path:
    """The citizen register (CRM export) as delivered."""
    return _path("JOINEDUP_REGISTER", "data/register/citizens.csv")


def warehouse_path() -> Path:
    """The DuckDB file dbt builds into (restricted, single writer)."""
    return _path("JOINEDUP_WAREHOUSE", "data/warehouse/joinedup.duckdb")


def analytics_path() -> Path:
    """The published analytics DuckDB file BI users open read-only."""
    return _path("JOINEDUP_ANALYTICS", "data/analytics/joinedup_analytics.duckdb")


def reports_root() -> Path:
    return _path("JOINEDUP_REPORTS", "data/reports")


def dbt_project_dir() -> Path:
    return _path("JOINEDUP_DBT_PROJECT", str(PROJECT_ROOT / "dbt_project"))


DBT_EXECUTION_MODES = ("watcher", "local")


def dbt_execution_mode() -> str:
    """How cosmos runs dbt: `watcher` (default: one `dbt build`, a light task per model reporting its result)
    or `local` (one dbt invocation per model: per-model retries, about a second of dbt start-up each)."""
    mode = os.environ.get("JOINEDUP_DBT_EXECUTION_MODE", "watcher").strip().lower()
    if mode not in DBT_EXECUTION_MODES:
        raise ValueError(f"JOINEDUP_DBT_EXECUTION_MODE={mode!r}: expected one of {', '.join(DBT_EXECUTION_MODES)}")
    return mode
