#!/usr/bin/env bash
# One-shot set-up before the Airflow services start: data folders, metadata DB, admin user, the duckdb pool.
set -euo pipefail

: "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in .env}"
: "${JOINEDUP_PSEUDONYM_KEY:?set JOINEDUP_PSEUDONYM_KEY in .env}"

# Folders the DAGs read and write, owned by the user the services run as.
for d in exports register lake identity warehouse analytics reports; do
  mkdir -p "/opt/joinedup/data/$d"
done
chown -R "${AIRFLOW_UID:-50000}:0" /opt/joinedup/data/lake /opt/joinedup/data/identity \
  /opt/joinedup/data/warehouse /opt/joinedup/data/analytics /opt/joinedup/data/reports /opt/airflow/logs
chmod 700 /opt/joinedup/data/identity   # the restricted identity store

# The admin user of the simple auth manager, from .env.
mkdir -p /opt/airflow/auth
printf '{"%s": "%s"}\n' "${AIRFLOW_ADMIN_USER:-admin}" "${AIRFLOW_ADMIN_PASSWORD}" > /opt/airflow/auth/passwords.json
chown -R "${AIRFLOW_UID:-50000}:0" /opt/airflow/auth
chmod 600 /opt/airflow/auth/passwords.json

airflow db migrate
# DuckDB allows one process per file: every task that opens the warehouse runs in this 1-slot pool.
airflow pools set duckdb 1 "Single writer of the joinedup DuckDB warehouse"
