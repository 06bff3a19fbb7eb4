#!/usr/bin/env bash
# airflow-init (docker-compose.yml): one-shot set-up before the other Airflow services start. Runs as root, like
# the official airflow-init, and without the image's entrypoint. Idempotent: safe on every `docker compose up`.
#   1. refuse placeholder or weak secrets from .env
#   2. the data folders the DAGs write, owned by the user the services run as (AIRFLOW_UID, group 0)
#   3. the metadata DB schema (airflow db migrate)
#   4. the admin user, from AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD
#   5. the 1-slot `duckdb` pool that every task opening the warehouse runs in
set -euo pipefail

uid="${AIRFLOW_UID:-50000}"
auth_file="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-${AIRFLOW_HOME}/auth/passwords.json}"
logs_dir="${AIRFLOW__LOGGING__BASE_LOG_FOLDER:-${AIRFLOW_HOME}/logs}"

# 1. Secrets: compose already refuses unset ones; refuse the .env.example placeholders and short keys too.
for var in POSTGRES_PASSWORD AIRFLOW_ADMIN_PASSWORD JOINEDUP_PSEUDONYM_KEY AIRFLOW__CORE__FERNET_KEY \
           AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY; do
  value="${!var:-}"
  if [[ -z "${value}" || "${value}" == *CHANGE-ME* ]]; then
    echo "airflow-init: ${var} is unset or still CHANGE-ME: set it in .env (see .env.example)" >&2
    exit 1
  fi
done
if (( ${#JOINEDUP_PSEUDONYM_KEY} < 16 )); then
  echo "airflow-init: JOINEDUP_PSEUDONYM_KEY must be at least 16 characters" >&2
  exit 1
fi
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
writable=("${JOINEDUP_LAKE}" "$(dirname "${JOINEDUP_WAREHOUSE}")" "$(dirname "${JOINEDUP_ANALYTICS}")"
          "${JOINEDUP_REPORTS}")
mkdir -p "${writable[@]}" "${JOINEDUP_IDENTITY}"
chown "${uid}:0" "${writable[@]}" "${JOINEDUP_IDENTITY}"
chmod 775 "${writable[@]}"
chmod 700 "${JOINEDUP_IDENTITY}"   # the restricted identity store (PII): its owner only

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

# Whatever the airflow commands above created as root belongs to the services' user.
chown -R "${uid}:0" "${logs_dir}" "$(dirname "${auth_file}")"
chmod -R go-rwx "$(dirname "${auth_file}")"
echo "airflow-init: done"
