# The two commands in the README. Everything else is a helper for them.
SHELL := /bin/bash

# Use uv from PATH, else a private copy installed with pip by the bootstrap below.
UV_BOOT := .uv-bootstrap/bin/uv
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(UV_BOOT)
endif

DEMO_DIR ?= demo
export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: bootstrap demo test test-stack test-stack-late test-faults-scheduler test-faults test-spark test-spark-link lint clean screenshots

## bootstrap: install uv if it is missing, then the locked environment
bootstrap:
	@[ -x "$(UV)" ] || command -v "$(UV)" >/dev/null 2>&1 || $(MAKE) --no-print-directory $(UV_BOOT)
	@$(UV) sync --frozen

# A venv keeps uv away from a system Python that refuses pip installs (PEP 668); without the venv module,
# fall back to a user install.
$(UV_BOOT):
	@echo "uv not found: installing it with pip"
	@python3 -m venv .uv-bootstrap 2>/dev/null && .uv-bootstrap/bin/pip install --quiet uv \
	  || { rm -rf .uv-bootstrap; python3 -m pip install --quiet --user --break-system-packages uv \
	       && mkdir -p .uv-bootstrap/bin && ln -sf "$$(python3 -m site --user-base)/bin/uv" $(UV_BOOT); }

## demo: run the main job on the embedded default (DuckDB, simulated data) and say where the results are
demo: bootstrap
	$(UV) run joinedup demo --citizens 20000 --days 60 --start 2025-03-03 --seed 42 --out $(DEMO_DIR)

## test: the whole test suite (what CI runs)
test: bootstrap
	$(UV) run pytest

## Stack lanes: the pipeline under a real Airflow stack on PostgreSQL (tests/stack), one stack each, each a CI
## lane of its own (.ci/run). They need Debian's postgresql package (.ci/run installs it) and the `deploy` group
## (psycopg2, asyncpg), which `uv run --group deploy` syncs.
## test-stack: three days delivered one at a time, on schedule, equal to the in-process run
## test-stack-late: a channel's day arriving after the others published, then a re-delivered day
## test-faults-scheduler: the scheduler killed (SIGKILL) mid-build and restarted
## test-faults: PostgreSQL restarted mid-run, then the publish task killed mid-write
STACK_PYTEST = $(UV) run --frozen --group deploy pytest -m stack -p no:cacheprovider
test-stack: bootstrap
	$(STACK_PYTEST) tests/stack/test_stack.py

test-stack-late: bootstrap
	$(STACK_PYTEST) tests/stack/test_late_and_redelivered.py

test-faults-scheduler: bootstrap
	$(STACK_PYTEST) tests/stack/test_fault_scheduler.py

test-faults: bootstrap
	$(STACK_PYTEST) tests/stack/test_faults.py

## Spark lanes: the same pipeline on Spark in local mode (tests/spark), with the `spark` group (pyspark, dbt-spark);
## they need java (.ci/run installs a JRE when it is missing). Two lanes, each under CI's six minutes:
## test-spark: dbt's marts on both engines, the gate and publish from Spark, the session and profile settings
## test-spark-link: linkage on Spark, stateless and through the link step (both engines' stores equal)
SPARK_PYTEST = $(UV) run --frozen --group spark pytest -m spark -p no:cacheprovider
SPARK_LINK_TESTS = tests/spark/test_linkage_spark.py tests/spark/test_link_step_engines.py
test-spark: bootstrap
	$(SPARK_PYTEST) tests/spark $(foreach t,$(SPARK_LINK_TESTS),--ignore=$(t))

test-spark-link: bootstrap
	$(SPARK_PYTEST) $(SPARK_LINK_TESTS)

## screenshots: re-make the report screenshots in docs/img/report from the demo's analytics file (needs Chromium)
screenshots: bootstrap
	$(UV) run python -m joinedup.report.screenshots $(DEMO_DIR)/analytics/joinedup_analytics.duckdb --out docs/img/report

lint: bootstrap
	$(UV) run ruff check joinedup linkage dags tests bench

clean:
	rm -rf $(DEMO_DIR) .pytest_cache
