"""Retention: each zone keeps data for `retention_days`, then a scheduled DAG removes it and audits what went."""
