"""Airflow DAGs: one daily ingest DAG per channel in joinedup/channels.yml.

Thin on purpose: the DAGs are built by joinedup.orchestration.ingest_dags and every task calls
joinedup.ingest.pipeline. Adding a channel means adding config, not editing this file.
"""

from joinedup.orchestration.ingest_dags import build_ingest_dags

globals().update(build_ingest_dags())
