"""Airflow DAG `journeys`: link -> dbt build -> quality gate -> publish. Built in joinedup.orchestration.journeys_dag."""

from joinedup.orchestration.journeys_dag import build_journeys_dag

journeys = build_journeys_dag()
