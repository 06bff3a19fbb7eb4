"""The great-expectations kernel that ingest and the marts' gate share: suites kept as JSON in expectations/,
one ephemeral GX context, and pandas DataFrame batches (GX 1.24's SQL datasource is broken on DuckDB).

A suite is loaded once per folder and process, because each GX suite build and run has a fixed cost.
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

from joinedup.paths import PROJECT_ROOT


def suites_dir() -> Path:
    env = os.environ.get("JOINEDUP_EXPECTATIONS")
    return Path(env) if env else PROJECT_ROOT / "expectations"


def suite_doc(name: str) -> dict[str, Any]:
    return _suite_doc(str(suites_dir()), name)


@cache
def _suite_doc(folder: str, name: str) -> dict[str, Any]:
    with open(Path(folder) / f"{name}.json", encoding="utf-8") as f:
        return json.load(f)


def suite_columns(names: list[str]) -> list[str]:
    cols: list[str] = []
    for n in names:
        for e in suite_doc(n)["expectations"]:
            for c in [e["kwargs"].get("column"), *e["kwargs"].get("column_list", [])]:
                if c and c not in cols:
                    cols.append(c)
    return cols


@cache
def gx_context() -> tuple[Any, Any]:
    """The ephemeral GX context and its one pandas DataFrame batch definition (GX runs on DataFrames here)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = {"globally": False}  # type: ignore[assignment]
    batch_def = ctx.data_sources.add_pandas("staged").add_dataframe_asset("contacts") \
        .add_batch_definition_whole_dataframe("frame")
    return ctx, batch_def


def expectation_suite(name: str) -> Any:
    """The suite expectations/<name>.json (from JOINEDUP_EXPECTATIONS when set), loaded once per folder."""
    return _suite_at(str(suites_dir()), name)


@cache
def _suite_at(folder: str, name: str) -> Any:
    import great_expectations as gx

    ctx, _ = gx_context()
    doc = _suite_doc(folder, name)
    return ctx.suites.add_or_update(gx.ExpectationSuite(name=doc["name"], expectations=doc["expectations"]))
