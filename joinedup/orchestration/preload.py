"""Import the tasks' heavy modules once, in the scheduler, before its LocalExecutor forks task processes.

Each Airflow task is a process forked from the scheduler's executor, which then parses the DAG file and imports
what the task needs: great-expectations alone takes ~7 s of CPU, in every `validate` and `quality_gate` task,
dbt ~3 s in every dbt task. Imported here first, the forked processes share them. The modules start no thread
at import (checked: `threading.active_count()` stays 1), so forking after them is safe; the link step still
runs in a spawned interpreter (joinedup/identity/worker.py).

Enabled by an `airflow_local_settings.py` that calls `preload_in_scheduler()`: the stack writes one into
$AIRFLOW_HOME/config (joinedup/orchestration/stack.py); a deployment can do the same.
"""

from __future__ import annotations

import importlib
import sys

MODULES = ("great_expectations", "joinedup.ingest.pipeline", "joinedup.ingest.validate", "joinedup.quality.gate",
           "joinedup.quality.suites", "joinedup.publish.publish", "cosmos", "cosmos.operators.watcher",
           "dbt.cli.main", "duckdb", "pyarrow.parquet")

LOCAL_SETTINGS = '''"""Written by joinedup.orchestration.stack: preload the tasks' modules in the scheduler (see that module)."""
from joinedup.orchestration.preload import preload_in_scheduler

preload_in_scheduler()
'''


def preload_in_scheduler() -> list[str]:
    """In the `airflow scheduler` process only (the api-server, dag-processor and triggerer do not need them)."""
    if sys.argv[1:2] != ["scheduler"]:
        return []
    for name in MODULES:
        importlib.import_module(name)
    return list(MODULES)
