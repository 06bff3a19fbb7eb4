"""The great-expectations kernel that ingest and the marts' gate share: suites kept as JSON in expectations/,
one ephemeral GX context, and pandas DataFrame batches (GX 1.24's SQL datasource is broken on DuckDB).

A suite is loaded once per folder, channel list and process, because each GX suite build and run has a fixed
cost.

Channel lists are never written into a suite. Where an expectation needs the configured channels, the suite
holds the placeholder object `{"$channels": "joinedup/channels.yml"}` instead of a list, e.g.

    {"type": "expect_column_values_to_be_in_set",
     "kwargs": {"column": "channel", "value_set": {"$channels": "joinedup/channels.yml"}}}

and `suite_doc` replaces it with `joinedup.channels.channel_names()` (config order) when the suite is loaded:
the one substitution point for ingest and the gate alike, so adding a channel to channels.yml (or pointing
JOINEDUP_CHANNELS at another file) changes every suite at once. Any other `$`-key object is an error naming
the suite file and field, so a typo cannot reach GX as a literal value set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

from joinedup.channels import channel_names
from joinedup.paths import PROJECT_ROOT


def suites_dir() -> Path:
    env = os.environ.get("JOINEDUP_EXPECTATIONS")
    return Path(env) if env else PROJECT_ROOT / "expectations"


CHANNELS_PLACEHOLDER = "$channels"


def suite_doc(name: str) -> dict[str, Any]:
    """The suite expectations/<name>.json with its `{"$channels": ...}` placeholders filled in."""
    return _suite_doc(str(suites_dir()), name, tuple(channel_names()))


@cache
def _suite_doc(folder: str, name: str, channels: tuple[str, ...]) -> dict[str, Any]:
    path = Path(folder) / f"{name}.json"
    with open(path, encoding="utf-8") as f:
        return fill_placeholders(json.load(f), list(channels), str(path))


def fill_placeholders(value: Any, channels: list[str], where: str) -> Any:
    """`value` with every `{"$channels": ...}` object replaced by `channels`; `where` names the spot in errors."""
    if isinstance(value, dict):
        if any(isinstance(k, str) and k.startswith("$") for k in value):
            if list(value) != [CHANNELS_PLACEHOLDER]:
                raise ValueError(f"{where}: unknown placeholder {sorted(value)} (only "
                                 f'{{"{CHANNELS_PLACEHOLDER}": "joinedup/channels.yml"}} is substituted)')
            return list(channels)
        return {k: fill_placeholders(v, channels, f"{where}: {k}") for k, v in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(v, channels, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


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


@cache
def gx_spark_batch_definition() -> Any:
    """A Spark DataFrame batch definition on the same context (so the same suite objects), for the marts built by
    the dbt `spark` target. No `spark_config`: GX would stop and restart a session whose static settings differ,
    killing the one dbt and the linker share; without it GX reuses the running session."""
    ctx, _ = gx_context()
    return ctx.data_sources.add_spark("marts_spark").add_dataframe_asset("marts") \
        .add_batch_definition_whole_dataframe("frame")


def expectation_suite(name: str) -> Any:
    """The suite expectations/<name>.json (from JOINEDUP_EXPECTATIONS when set), loaded once per folder and
    channel list."""
    return _suite_at(str(suites_dir()), name, tuple(channel_names()))


@cache
def _suite_at(folder: str, name: str, channels: tuple[str, ...]) -> Any:
    import great_expectations as gx

    ctx, _ = gx_context()
    doc = _suite_doc(folder, name, channels)
    return ctx.suites.add_or_update(gx.ExpectationSuite(name=doc["name"], expectations=doc["expectations"]))


def expectation_suite_part(name: str, expectations: list[dict[str, Any]]) -> Any:
    """Part of the suite `name` (the incremental gate's row-level or table-level expectations) as a GX suite of
    its own, named after the whole one and a digest of the part; made once per part."""
    text = json.dumps(expectations, sort_keys=True)
    return _suite_part(suite_doc(name)["name"], hashlib.sha256(text.encode()).hexdigest()[:12], text)


@cache
def _suite_part(suite: str, digest: str, expectations: str) -> Any:
    import great_expectations as gx

    ctx, _ = gx_context()
    return ctx.suites.add_or_update(gx.ExpectationSuite(name=f"{suite}#{digest}",
                                                        expectations=json.loads(expectations)))
