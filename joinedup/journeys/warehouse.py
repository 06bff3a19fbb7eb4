"""Read access to the warehouse DuckDB file for the steps after dbt (gate, publish).

DuckDB refuses a second connection with a different configuration in the same process. When dbt runs
in-process (cosmos' DBT_RUNNER under `dag.test()`, as `make demo` does), dbt-duckdb keeps its read-write
handle open after the build, so it is released first. Under the scheduler every task is its own process and
this is a no-op.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb


def release_dbt_connection() -> None:
    mod = sys.modules.get("dbt.adapters.duckdb.connections")
    if mod is None:
        return
    manager = mod.DuckDBConnectionManager
    with manager._LOCK:  # dbt-duckdb has no public hook for this; close_all_connections() only drops the ref
        if manager._ENV is not None:
            manager._ENV.close()
            manager._ENV = None


def connect_readonly(warehouse: Path) -> duckdb.DuckDBPyConnection:
    release_dbt_connection()
    if not warehouse.exists():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist: has dbt build run?")
    return duckdb.connect(str(warehouse), read_only=True)
