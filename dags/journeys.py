"""Airflow DAG `journeys`: link -> dbt build -> quality gate -> publish. Built in joinedup.journeys.airflow_dag."""

from joinedup.journeys.airflow_dag import build_journeys_dag

journeys = build_journeys_dag()
