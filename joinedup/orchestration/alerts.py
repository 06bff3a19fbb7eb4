"""Alerts a monitor can watch: one JSON line per event in the alert log, and an ERROR on the `joinedup.alerts`
logger (which lands in the task's log in the Airflow UI).

Raised from Airflow callbacks: a quality gate that fails, a delivery that never came (the ingest sensor gave
up), any task of `journeys` that fails for good. The log is `JOINEDUP_ALERT_LOG`, by default
`joinedup-alerts.jsonl` in Airflow's log folder (the `airflow-logs` volume in compose, which every service
mounts). A line names the DAG, run, task, channel and day, and the error's type, with its first line when
joinedup raised it: never a value from the data (a library's message may quote one; it stays in the task log).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("joinedup.alerts")


def alert_log() -> Path:
    if os.environ.get("JOINEDUP_ALERT_LOG"):
        return Path(os.environ["JOINEDUP_ALERT_LOG"])
    home = os.environ.get("AIRFLOW_HOME", str(Path.home() / "airflow"))
    return Path(os.environ.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER", f"{home}/logs")) / "joinedup-alerts.jsonl"


def raise_alert(kind: str, message: str, **where: Any) -> dict[str, Any]:
    """Append one alert line (O_APPEND: lines from concurrent tasks do not interleave) and log it."""
    record = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "kind": kind, "message": message,
              **{k: v for k, v in where.items() if v is not None}}
    line = json.dumps(record, sort_keys=True, default=str)
    path = alert_log()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
    log.error("ALERT %s", line)
    return record


def read_alerts(path: Path | None = None) -> list[dict[str, Any]]:
    p = path or alert_log()
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def _where(context: dict[str, Any]) -> dict[str, Any]:
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    return {"dag_id": getattr(ti, "dag_id", None) or getattr(dag, "dag_id", None),
            "task_id": getattr(ti, "task_id", None), "run_id": context.get("run_id") or getattr(ti, "run_id", None),
            "try_number": getattr(ti, "try_number", None)}


OWN_MODULES = ("joinedup", "linkage")


def _first_line(exc: BaseException | None) -> str:
    """The error's type, and its first line only when joinedup or linkage raised it: our messages name files,
    rows, fields and counts, never a value. A library's may quote one (a conversion error quotes the string it
    could not read, which on the link step is raw PII), so theirs stays in the task's log, not the alert log."""
    if exc is None:
        return "no exception recorded"
    if not type(exc).__module__.startswith(OWN_MODULES):
        return f"{type(exc).__name__} (message in the task's log)"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"


def task_failed(context: dict[str, Any]) -> None:
    """on_failure_callback of the journeys tasks: after the last try (a retry has its own callback)."""
    where = _where(context)
    kind = "quality_gate_failed" if where["task_id"] == "quality_gate" else "task_failed"
    raise_alert(kind, _first_line(context.get("exception")), **where)


def missing_delivery(context: dict[str, Any], channel: str, days: list[str]) -> None:
    raise_alert("missing_delivery", f"no delivery for {channel} on {', '.join(days)} within the channel's "
                f"delivery_timeout_hours", channel=channel, days=days, **_where(context))
