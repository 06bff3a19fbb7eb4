"""Airflow DAG `retention`: remove expired data from every zone, daily. Built in joinedup.orchestration.retention_dag."""

from joinedup.orchestration.retention_dag import build_retention_dag

retention = build_retention_dag()
