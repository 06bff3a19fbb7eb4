"""Data quality: the great-expectations kernel (suites) that ingest and the marts' gate share, and the gate."""
