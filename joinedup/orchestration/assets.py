"""The Airflow Asset each channel's ingest DAG emits; downstream DAGs schedule on these."""

from __future__ import annotations

from typing import Any


def asset_uri(channel: str) -> str:
    return f"joinedup://lake/raw/{channel}"


def channel_asset(channel: str) -> Any:
    from airflow.sdk import Asset

    return Asset(name=f"joinedup_raw_{channel}", uri=asset_uri(channel), group="joinedup_raw")
