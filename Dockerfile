# joinedup on the official Airflow image. The project and every dependency come from uv.lock, the same lock
# `make test` syncs, into /opt/joinedup/.venv, which is first on PATH (so `airflow` is the locked 3.3.2).
FROM apache/airflow:3.3.2-python3.11

USER root
RUN mkdir -p /opt/joinedup/data && chown -R airflow:0 /opt/joinedup
USER airflow
WORKDIR /opt/joinedup

ENV UV_PROJECT_ENVIRONMENT=/opt/joinedup/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/joinedup/.venv/bin:/home/airflow/.local/bin:$PATH \
    JOINEDUP_EXPORTS=/opt/joinedup/data/exports \
    JOINEDUP_LAKE=/opt/joinedup/data/lake \
    JOINEDUP_REGISTER=/opt/joinedup/data/register/citizens.csv \
    JOINEDUP_IDENTITY=/opt/joinedup/data/identity \
    JOINEDUP_WAREHOUSE=/opt/joinedup/data/warehouse/joinedup.duckdb \
    JOINEDUP_ANALYTICS=/opt/joinedup/data/analytics/joinedup_analytics.duckdb \
    JOINEDUP_REPORTS=/opt/joinedup/data/reports \
    JOINEDUP_DBT_PROJECT=/opt/joinedup/dbt_project \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/joinedup/dags \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    GX_ANALYTICS_ENABLED=false \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False

# Dependencies first (cached while only the code changes), then the project itself.
COPY --chown=airflow:0 pyproject.toml uv.lock .python-version README.md ./
RUN pip install --no-cache-dir "uv==0.13.9" \
 && uv sync --frozen --no-dev --group deploy --no-install-project
COPY --chown=airflow:0 joinedup ./joinedup
COPY --chown=airflow:0 linkage ./linkage
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 expectations ./expectations
COPY --chown=airflow:0 docker ./docker
RUN uv sync --frozen --no-dev --group deploy

# The dbt manifest, so cosmos renders the journeys DAG with LoadMode.DBT_MANIFEST (no `dbt ls` at every parse).
# The JOINEDUP_* paths above are the ones the containers run with, so the manifest matches run time.
RUN dbt parse --project-dir dbt_project --profiles-dir dbt_project \
 && test -s dbt_project/target/manifest.json
