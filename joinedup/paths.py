"""Where the pipeline reads and writes. Every location comes from the environment, with local defaults.

The identity store and the warehouse are restricted (they hold or can reach PII); the analytics file is what BI
users open, published only after the gate passes.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

__all__ = [
    "DBT_TARGETS", "ENGINES", "LOCATIONS", "analytics_path", "dbt_execution_mode", "dbt_project_dir", "dbt_target",
    "engine", "exports_root", "identity_root", "lake_root", "location", "register_path", "reports_root",
    "spark_warehouse", "spark_work", "warehouse_path",
]


# The pipeline's locations: name -> (environment variable, local default, what lives there). The one list: the
# accessors below, the in-process runner (joinedup.inprocess.PipelinePaths) and the docs' table read it.
LOCATIONS: dict[str, tuple[str, str, str]] = {
    "exports": ("JOINEDUP_EXPORTS", "data/exports",
                "landing zone of the channels' exports, any fsspec URL or a local path (restricted: raw PII)"),
    "lake": ("JOINEDUP_LAKE", "data/lake",
             "landed contacts (restricted), quarantine, audit and the link step's pseudonymous outputs"),
    "register": ("JOINEDUP_REGISTER", "data/register/citizens.csv", "the citizen register (CRM export) as delivered"),
    "identity": ("JOINEDUP_IDENTITY", "data/identity",
                 "restricted identity store: linkage state, contact -> person mapping, review queue"),
    "warehouse": ("JOINEDUP_WAREHOUSE", "data/warehouse/joinedup.duckdb",
                  "the DuckDB file dbt builds into (restricted, single writer)"),
    "analytics": ("JOINEDUP_ANALYTICS", "data/analytics/joinedup_analytics.duckdb",
                  "the published analytics DuckDB file BI users open read-only"),
    "reports": ("JOINEDUP_REPORTS", "data/reports", "the report folder"),
}


def location(name: str) -> Path:
    """The configured path of LOCATIONS[name]."""
    var, default, _ = LOCATIONS[name]
    return Path(os.environ.get(var, default))


def exports_root() -> str:
    """A URL as well as a path: fsspec reads exports from wherever they land."""
    var, default, _ = LOCATIONS["exports"]
    return os.environ.get(var, default)


def lake_root() -> Path:
    return location("lake")


def identity_root() -> Path:
    return location("identity")


def register_path() -> Path:
    return location("register")


def warehouse_path() -> Path:
    return location("warehouse")


def analytics_path() -> Path:
    return location("analytics")


def reports_root() -> Path:
    return location("reports")


def dbt_project_dir() -> Path:
    return Path(os.environ.get("JOINEDUP_DBT_PROJECT", str(PROJECT_ROOT / "dbt_project")))


DBT_EXECUTION_MODES = ("watcher", "local")


def dbt_execution_mode() -> str:
    """How cosmos runs dbt: `watcher` (default: one `dbt build`, a light task per model reporting its result)
    or `local` (one dbt invocation per model: per-model retries, about a second of dbt start-up each)."""
    mode = os.environ.get("JOINEDUP_DBT_EXECUTION_MODE", "watcher").strip().lower()
    if mode not in DBT_EXECUTION_MODES:
        raise ValueError(f"JOINEDUP_DBT_EXECUTION_MODE={mode!r}: expected one of {', '.join(DBT_EXECUTION_MODES)}")
    return mode


ENGINES = ("duckdb", "spark")


def engine() -> str:
    """The engine the journeys DAG runs on, one setting for every stage (issue 20): `duckdb` (default: one machine,
    dbt's `local` target, the linker in a forked process) or `spark` (dbt's Spark target, the linker's Spark path,
    the gate on Spark DataFrames). Ingest is the same on both: it lands Parquet either engine reads."""
    name = os.environ.get("JOINEDUP_ENGINE", "duckdb").strip().lower()
    if name not in ENGINES:
        raise ValueError(f"JOINEDUP_ENGINE={name!r}: expected one of {', '.join(ENGINES)}")
    return name


# The dbt targets (dbt_project/profiles.yml) each engine may build with; the first is the engine's default.
DBT_TARGETS: dict[str, tuple[str, ...]] = {"duckdb": ("local",), "spark": ("spark", "spark_ci")}


def dbt_target() -> str:
    """The dbt target the DAGs build with: the engine's own (`local` on DuckDB, `spark`, the Thrift Server, on
    Spark) unless JOINEDUP_DBT_TARGET names another target of the same engine (`spark_ci`: Spark inside the dbt
    process, for tests). A target of the other engine is refused: the gate and publish would read marts the build
    never wrote."""
    name = engine()
    allowed = DBT_TARGETS[name]
    target = os.environ.get("JOINEDUP_DBT_TARGET", "").strip() or allowed[0]
    if target not in allowed:
        raise ValueError(f"JOINEDUP_DBT_TARGET={target!r}: with JOINEDUP_ENGINE={name!r} expected one of "
                         f"{', '.join(allowed)}")
    return target


def spark_work() -> Path:
    """Spark's own folder on this machine (restricted: the linker shuffles and spills PII there): the `spark_ci`
    target's warehouse and metastore, and the local session of the Spark gate. The profile's default too."""
    return Path(os.environ.get("JOINEDUP_SPARK_WORK", "/tmp/joinedup-spark"))


def spark_warehouse() -> Path:
    """Where the Spark build's tables are, as this machine sees them (`<schema>.db/<table>/` Parquet folders): the
    Thrift Server's spark.sql.warehouse.dir on a shared volume, or the `spark_ci` target's, under spark_work().
    The Spark gate and publish read the marts from here."""
    return Path(os.environ.get("JOINEDUP_SPARK_WAREHOUSE", str(spark_work() / "warehouse")))
