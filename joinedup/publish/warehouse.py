"""Opening the warehouse DuckDB file after dbt has built it: the gate, publish and dbt docs read it here.

DuckDB refuses a second connection with another configuration inside one process. Under the scheduler every
task is its own process and nothing needs doing; a runner that builds dbt in this same process (the in-process
runner, joinedup.inprocess) registers a hook that releases dbt's handle before the warehouse is opened again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

_BEFORE_OPEN: list[Callable[[], None]] = []


def on_open(hook: Callable[[], None]) -> None:
    """Run `hook` every time this process is about to open the warehouse (once per hook)."""
    if hook not in _BEFORE_OPEN:
        _BEFORE_OPEN.append(hook)


def before_open() -> None:
    for hook in _BEFORE_OPEN:
        hook()


def connect_readonly(warehouse: Path) -> duckdb.DuckDBPyConnection:
    before_open()
    if not warehouse.exists():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist: has dbt build run?")
    return duckdb.connect(str(warehouse), read_only=True)
