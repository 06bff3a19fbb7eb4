#!/usr/bin/env bash
# airflow-init (docker-compose.yml): one-shot set-up before the other Airflow services start. Runs as root, like
# the official airflow-init, and without the image's entrypoint. Idempotent: safe on every `docker compose up`.
# Outside Docker (joinedup/orchestration/stack.py, the stack test) the same script runs with the same environment;
# run by a user other than root it creates the folders as that user and changes no owner (it could not).
#   1. refuse placeholder or weak secrets from .env, and a pseudonymisation key file that is missing, short, or
#      open to anyone but AIRFLOW_UID
#   2. the data folders the DAGs write, owned by the user the services run as (AIRFLOW_UID, group 0)
#   3. the metadata DB schema (airflow db migrate)
#   4. the admin user, from AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD
#   5. the 1-slot `duckdb` pool that every task opening the warehouse runs in, and the 1-slot `spark` pool of the
#      tasks that drive Spark when JOINEDUP_ENGINE=spark
set -euo pipefail

uid="${AIRFLOW_UID:-50000}"
auth_file="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-${AIRFLOW_HOME}/auth/passwords.json}"
logs_dir="${AIRFLOW__LOGGING__BASE_LOG_FOLDER:-${AIRFLOW_HOME}/logs}"

# 1. Secrets: compose already refuses unset ones; refuse the .env.example placeholders and short keys too.
for var in POSTGRES_PASSWORD AIRFLOW_ADMIN_PASSWORD AIRFLOW__CORE__FERNET_KEY \
           AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY; do
  value="${!var:-}"
  if [[ -z "${value}" || "${value}" == *CHANGE-ME* ]]; then
    echo "airflow-init: ${var} is unset or still CHANGE-ME: set it in .env (see .env.example)" >&2
    exit 1
  fi
done
# The pseudonymisation key: a Docker secret (a bind-mounted host file, so its host owner and mode apply), never
# an environment value, which `docker inspect` and every child process would see.
if [[ -n "${JOINEDUP_PSEUDONYM_KEY:-}" ]]; then
  echo "airflow-init: JOINEDUP_PSEUDONYM_KEY is set in the environment: give the key as the pseudonym_key secret" \
       "file instead (docs/deployment.md) and remove it from .env" >&2
  exit 1
fi
key_file="${JOINEDUP_PSEUDONYM_KEY_FILE:?JOINEDUP_PSEUDONYM_KEY_FILE must name the key secret}"
if [[ ! -s "${key_file}" ]]; then
  echo "airflow-init: no pseudonymisation key at ${key_file}: create the file JOINEDUP_PSEUDONYM_KEY_PATH names" \
       "(default ./secrets/pseudonym.key, see docs/deployment.md)" >&2
  exit 1
fi
key_mode="$(stat -L -c %a "${key_file}")"
key_owner="$(stat -L -c %u "${key_file}")"
if (( 8#${key_mode} & 8#077 )); then
  echo "airflow-init: the key file is mode ${key_mode}: only its owner may read it (chmod 600 on the host)" >&2
  exit 1
fi
if [[ "${key_owner}" != "${uid}" ]]; then
  echo "airflow-init: the key file is owned by uid ${key_owner}, but the services run as AIRFLOW_UID=${uid}" \
       "and could not read it (chown ${uid} on the host)" >&2
  exit 1
fi
key="$(tr -d '[:space:]' < "${key_file}")"
if [[ "${key}" == *CHANGE-ME* ]] || (( ${#key} < 16 )); then
  echo "airflow-init: the pseudonymisation key must be at least 16 characters and not CHANGE-ME" >&2
  exit 1
fi
unset key
python - <<'PY'
import os
from cryptography.fernet import Fernet
try:
    Fernet(os.environ["AIRFLOW__CORE__FERNET_KEY"])
except ValueError:
    raise SystemExit("airflow-init: AIRFLOW_FERNET_KEY is not a Fernet key (see .env.example for how to make one)")
PY

# 2. Data folders (the paths joinedup's config reads, from the same environment as the services). Docker creates
# a missing bind-mounted folder as root: hand it to the services' user. Only the folder itself, not what is in
# it (the tasks create that as this user; a restore keeps owners, see docs/deployment.md). The landing zone, the
# register and config are read-only mounts, written only by people.
# The lake (raw contacts, quarantine) and the identity store are restricted zones: their owner only.
restricted=("${JOINEDUP_LAKE}" "${JOINEDUP_IDENTITY}")
# Spark's folder (JOINEDUP_SPARK_WORK, when set): its warehouse, metastore, and the shuffle and spill files of the
# linker, which are PII. Restricted too, and shared with the `spark` profile's services (they run as AIRFLOW_UID).
if [[ -n "${JOINEDUP_SPARK_WORK:-}" ]]; then restricted+=("${JOINEDUP_SPARK_WORK}"); fi
shared=("$(dirname "${JOINEDUP_WAREHOUSE}")" "$(dirname "${JOINEDUP_ANALYTICS}")" "${JOINEDUP_REPORTS}")
mkdir -p "${restricted[@]}" "${shared[@]}"
as_root() { [[ "$(id -u)" == 0 ]]; }
if as_root; then chown "${uid}:0" "${restricted[@]}" "${shared[@]}"; fi
chmod 700 "${restricted[@]}"
chmod 775 "${shared[@]}"

# 3. Metadata DB.
airflow db migrate

# 4. Admin user.
mkdir -p "$(dirname "${auth_file}")" "${logs_dir}"
if [[ "${AIRFLOW__CORE__AUTH_MANAGER:-}" == *FabAuthManager ]]; then
  airflow users create --role Admin --username "${AIRFLOW_ADMIN_USER:-admin}" --password "${AIRFLOW_ADMIN_PASSWORD}" \
    --firstname Admin --lastname User --email "${AIRFLOW_ADMIN_EMAIL:-admin@example.org}"
  airflow users reset-password --username "${AIRFLOW_ADMIN_USER:-admin}" --password "${AIRFLOW_ADMIN_PASSWORD}"
else
  # The simple auth manager reads {"user": "password"} from this file and generates no password for a user in it.
  AUTH_FILE="${auth_file}" python - <<'PY'
import json, os
path = os.environ["AUTH_FILE"]
with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    json.dump({os.environ.get("AIRFLOW_ADMIN_USER", "admin"): os.environ["AIRFLOW_ADMIN_PASSWORD"]}, f)
PY
fi

# 5. DuckDB allows one process per file: every task that opens the warehouse runs in this 1-slot pool.
airflow pools set duckdb 1 "Single writer of the joinedup DuckDB warehouse"
# One Spark driver at a time on this machine (JOINEDUP_ENGINE=spark): the dbt build, the gate, dbt docs, linking.
airflow pools set spark 1 "One Spark driver at a time (journeys DAG on JOINEDUP_ENGINE=spark)"

# Whatever the airflow commands above created as root belongs to the services' user.
if as_root; then chown -R "${uid}:0" "${logs_dir}" "$(dirname "${auth_file}")"; fi
chmod -R go-rwx "$(dirname "${auth_file}")"
echo "airflow-init: done"
