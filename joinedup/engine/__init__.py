"""The engines joinedup runs on: DuckDB on one machine (the default), Spark beyond it (issue 20)."""
