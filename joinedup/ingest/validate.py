"""great-expectations validation of staged contacts (the suites and GX context: joinedup.quality.suites).

Strict row expectations are a
gate: the rows they flag are quarantined, named by the expectation. Expectations with `mostly` < 1 are
monitoring: when the share of misses crosses the threshold, a warning is recorded and the rows are kept.
Reasons and warnings name the column and the expectation (its kwargs are configuration), never a row's value:
they travel in XComs, the audit and the quarantine's reason column; the row itself is kept in the quarantine.
Several days of a channel can be validated in one batch, because each GX run has a fixed cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from joinedup.quality.suites import expectation_suite, gx_context, suite_columns, suite_doc

__all__ = ["CANONICAL_SUITE", "Rejection", "expectation_suite", "frame_for", "gx_context", "suite_columns",
           "suite_doc", "validate_frame"]

CANONICAL_SUITE = "contact"
DERIVED = "_occurred_day_lag"  # days between the contact's local date and its delivery day


@dataclass
class Rejection:
    index: int
    field: str
    reason: str


def frame_for(table: pa.Table, day_start_utc: list[Any], columns: list[str]) -> pd.DataFrame:
    """The columns the suites need, plus the derived day lag. `day_start_utc` is per row."""
    base = [c for c in columns if c in table.column_names]
    df = table.select(base).to_pandas()
    if DERIVED in columns:
        start = pd.to_datetime(pd.Series(day_start_utc, dtype="datetime64[us]"))
        df[DERIVED] = ((df["occurred_at"] - start).dt.total_seconds() // 86400).astype("Int64")
    return df.reset_index(drop=True)


def validate_frame(df: pd.DataFrame, suites: list[str]) -> tuple[list[Rejection], list[str], dict[str, Any]]:
    """-> (rows to quarantine, warnings, summary). Raises if a table-level expectation fails.

    Each suite first runs with BOOLEAN_ONLY (half the cost); only a failing suite is re-run with COMPLETE
    results to find the rows.
    """
    _, batch_def = gx_context()
    batch = batch_def.get_batch(batch_parameters={"dataframe": df})
    rejections: list[Rejection] = []
    warnings: list[str] = []
    summary: dict[str, Any] = {}
    for name in suites:
        quick = batch.validate(expectation_suite(name), result_format={"result_format": "BOOLEAN_ONLY"})
        summary[name] = {"success": bool(quick.success), "evaluated": len(quick.results),
                         "failed": sum(1 for r in quick.results if not r.success)}
        if quick.success:
            continue
        result = batch.validate(expectation_suite(name), result_format={"result_format": "COMPLETE"})
        for r in result.results:
            if r.success:
                continue
            cfg = r.expectation_config
            kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id", "result_format")}
            desc = f"{name}: {cfg.type}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
            res = r.result or {}
            if (kwargs.get("mostly") or 1) < 1:  # monitoring: warn, keep the rows
                warnings.append(f"{desc}: {res.get('unexpected_count')} of {res.get('element_count')} rows off, "
                                "more than `mostly` allows")
                continue
            if "unexpected_index_list" not in res:  # its observed value may be a row's value: not shown
                raise RuntimeError(f"GX table-level expectation failed: {desc}")
            for idx in res["unexpected_index_list"]:
                i = int(idx["index"]) if isinstance(idx, dict) else int(idx)
                column = kwargs.get("column", "")
                if column == DERIVED:  # a derived lag in days, not a delivered value
                    lag = df.at[i, column]
                    lag = lag.item() if hasattr(lag, "item") else lag
                    rejections.append(Rejection(i, "occurred_at", f"occurred_at is {lag} day(s) away from the "
                                                f"delivery day (failed {desc})"))
                else:
                    rejections.append(Rejection(i, column, f"failed {desc}"))
    return rejections, warnings, summary
