"""Channel ingestion: each channel's native exports -> validated canonical contacts in the lake.

Pure per-file functions (read, normalise) sit around a thin I/O edge (fsspec reads, Parquet/JSONL writes),
so the same code runs from the `joinedup ingest` command, from the Airflow DAGs in dags/, and later per
file in a Spark job.
"""
