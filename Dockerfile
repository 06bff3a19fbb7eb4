# joinedup on the official Airflow image. The project and every dependency come from uv.lock, the same lock
# `make test` syncs (`uv sync --frozen`), into /opt/joinedup/.venv, which is first on PATH: `airflow` in the
# containers is the locked apache-airflow 3.3.2, with dbt, cosmos, great-expectations and joinedup beside it.
# The image's own environment (/home/airflow/.local) only provides uv; nothing is installed on top of it,
# so no package can drift from the lock.
FROM apache/airflow:3.3.2-python3.11

# uv from PyPI, pinned: the version that wrote uv.lock.
RUN pip install --no-cache-dir "uv==0.13.9"

# Group 0 may write, as in the rest of the official image: the services run as ${AIRFLOW_UID}:0, and
# AIRFLOW_UID need not be the image's 50000 (on Linux it is usually the host user's id).
USER 0
RUN mkdir -p /opt/joinedup/data && chown -R airflow:0 /opt/joinedup && chmod -R g+rwX /opt/joinedup
USER 50000
WORKDIR /opt/joinedup

# The JOINEDUP_* locations are the ones docker-compose.yml runs with (tests/deploy checks they match), so the
# dbt manifest parsed below renders the sources' lake paths the containers use.
ENV UV_PROJECT_ENVIRONMENT=/opt/joinedup/.venv \
    VIRTUAL_ENV=/opt/joinedup/.venv \
    UV_PYTHON=python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/joinedup/.venv/bin:$PATH \
    JOINEDUP_EXPORTS=/opt/joinedup/data/exports \
    JOINEDUP_LAKE=/opt/joinedup/data/lake \
    JOINEDUP_REGISTER=/opt/joinedup/data/register/citizens.csv \
    JOINEDUP_IDENTITY=/opt/joinedup/data/identity \
    JOINEDUP_WAREHOUSE=/opt/joinedup/data/warehouse/joinedup.duckdb \
    JOINEDUP_ANALYTICS=/opt/joinedup/data/analytics/joinedup_analytics.duckdb \
    JOINEDUP_REPORTS=/opt/joinedup/data/reports \
    JOINEDUP_DBT_PROJECT=/opt/joinedup/dbt_project \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/joinedup/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    GX_ANALYTICS_ENABLED=false \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False

# Dependencies first (this layer is reused while only the code changes), then the project itself, installed
# editable so that joinedup finds expectations/ and dbt_project/ beside it under /opt/joinedup.
COPY --chown=airflow:0 pyproject.toml uv.lock .python-version README.md ./
RUN uv sync --frozen --no-dev --group deploy --no-install-project
COPY --chown=airflow:0 joinedup ./joinedup
COPY --chown=airflow:0 linkage ./linkage
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 expectations ./expectations
COPY --chown=airflow:0 docker ./docker
RUN uv sync --frozen --no-dev --group deploy \
 && airflow version

# The dbt manifest, so cosmos renders the journeys DAG with LoadMode.DBT_MANIFEST (no `dbt ls` at every parse).
# The channel list comes from joinedup/channels.yml as vars (dbt_project.yml has none); at run time cosmos
# passes them again from the channels.yml the services read.
# dbt writes its logs (and the docs task its partial parse) under dbt_project/ at run time: keep it group-writable.
RUN dbt parse --project-dir dbt_project --profiles-dir dbt_project --vars "$(python -m joinedup.channels)" \
 && test -s dbt_project/target/manifest.json \
 && chmod -R g+rwX dbt_project
