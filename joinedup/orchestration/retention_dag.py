"""Builds the `retention` DAG: once a day, remove what each zone keeps no longer (joinedup/retention/).

One task, in the single-writer `duckdb` pool because it rewrites the identity store. It returns (as XCom) and
audits counts, zones and partition days only, never a value from the data.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, dag, task

from joinedup import paths
from joinedup.orchestration.journeys_dag import DUCKDB_POOL


def build_retention_dag() -> DAG:
    @dag(
        dag_id="retention",
        schedule="@daily",
        catchup=False,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        tags=["joinedup", "privacy"],
        max_active_runs=1,
        description="Remove data older than each zone's retention_days, and audit what went",
        doc_md=__doc__,
    )
    def retention() -> None:
        @task(pool=DUCKDB_POOL, retries=1, retry_delay=timedelta(minutes=30))  # idempotent: safe to retry
        def remove_expired() -> dict[str, Any]:
            """Expire the landing zone, raw, quarantine, audit and old subject-access bundles; prune identity."""
            from joinedup.retention.apply import apply_retention

            done = apply_retention(paths.lake_root(), paths.identity_root(), paths.exports_root())
            return {"as_of": done["as_of"], "removed_anything": done["removed_anything"],
                    "partitions": {z: v.get("partitions", v.get("bundles", 0)) for z, v in done["zones"].items()
                                   if z != "identity"},
                    "identity_rows": sum(done["zones"].get("identity", {}).values())}

        remove_expired()

    return retention()
