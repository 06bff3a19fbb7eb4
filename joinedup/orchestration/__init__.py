"""Airflow: the DAG factories behind the thin files in dags/, and the Assets that join them. No business logic."""
