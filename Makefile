# The two commands in the README. Everything else is a helper for them.
SHELL := /bin/bash

# Use uv from PATH, else the copy pip installs into this Python (bootstrap below).
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif

DEMO_DIR ?= demo
export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: bootstrap demo test lint clean

## bootstrap: install uv if it is missing, then the locked environment
bootstrap:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@$(UV) sync --frozen

## demo: run the main job on the embedded default (DuckDB, simulated data) and say where the results are
demo: bootstrap
	$(UV) run joinedup simulate --citizens 20000 --days 60 --start 2025-03-03 --seed 42 --out $(DEMO_DIR)

## test: the whole test suite (what CI runs)
test: bootstrap
	$(UV) run pytest

lint: bootstrap
	$(UV) run ruff check joinedup linkage dags tests bench

clean:
	rm -rf $(DEMO_DIR) .pytest_cache
