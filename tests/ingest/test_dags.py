"""The Airflow side: every DAG imports, and one channel's DAG runs end to end with dag.test() on simulator
output and on the bad-input fixture. (~7 s per dag.test(): kept to two.)"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pendulum
import pyarrow.parquet as pq
import pytest

from joinedup.channels import load_channels
from joinedup.ingest import audit
from tests.conftest import REPO


@pytest.fixture(scope="module")
def dagbag():
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # pragma: no cover - older layout
        from airflow.models.dagbag import DagBag
    return DagBag(dag_folder=str(REPO / "dags"))


def test_every_dag_imports_and_is_built_from_config(dagbag) -> None:
    assert dagbag.import_errors == {}
    channels = load_channels()
    assert sorted(d for d in dagbag.dags if d.startswith("ingest_")) == sorted(f"ingest_{c}" for c in channels)
    for name in channels:
        dag = dagbag.dags[f"ingest_{name}"]
        assert dag.catchup is True
        assert [t.task_id for t in dag.topological_sort()] == ["wait_for_delivery", "stage", "validate", "publish"]
        (outlet,) = dag.get_task("publish").outlets
        assert outlet.uri == f"joinedup://lake/raw/{name}"
        assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"


def _run(dag_id: str, day: date, exports: Path, lake: Path, monkeypatch: pytest.MonkeyPatch):
    from joinedup.orchestration.ingest_dags import build_dag

    monkeypatch.setenv("JOINEDUP_EXPORTS", str(exports))
    monkeypatch.setenv("JOINEDUP_LAKE", str(lake))
    dag = build_dag(load_channels()[dag_id.removeprefix("ingest_")])
    # A run at local midnight after `day` covers the data interval [day 00:00, day+1 00:00) Europe/London.
    run_after = pendulum.datetime(day.year, day.month, day.day, tz="Europe/London").add(days=1)
    return dag.test(logical_date=run_after)


@pytest.mark.slow
def test_dag_on_simulator_output(airflow_db: str, simulated: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.utils.state import DagRunState

    day = date(2025, 10, 24)
    dr = _run("ingest_phone", day, simulated / "exports", tmp_path, monkeypatch)
    assert dr.state == DagRunState.SUCCESS
    (src,) = (simulated / "exports/phone" / f"{day}").glob("*.csv")
    n_rows = len(src.read_bytes().splitlines()) - 1
    assert pq.read_table(tmp_path / "raw/phone" / f"date={day}" / "part-0.parquet").num_rows == n_rows > 0
    (rec,) = audit.read(tmp_path, "phone", day)
    assert (rec["status"], rec["rows_read"], rec["rows_loaded"], rec["rows_quarantined"]) == \
        ("loaded", n_rows, n_rows, 0)
    assert rec["run"].startswith(("manual__", "scheduled__", "backfill"))  # the Airflow run id


@pytest.mark.slow
def test_dag_on_bad_input(airflow_db: str, bad_exports: Path, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.utils.state import DagRunState

    day = date(2025, 10, 26)
    dr = _run("ingest_phone", day, bad_exports, tmp_path, monkeypatch)
    assert dr.state == DagRunState.SUCCESS  # bad rows and a failed file do not fail the day
    records = [r for r in audit.read(tmp_path, "phone", day) if r.get("file")]
    assert len(records) == 6
    assert all(r["rows_read"] == r["rows_loaded"] + r["rows_quarantined"] for r in records)
    by_file = {r["file"].rsplit("/", 1)[-1]: r for r in records}
    assert by_file["cdr_20251026_c.csv"]["status"] == "failed"
    assert by_file["cdr_20251026.csv"]["rows_quarantined"] == 9
    loaded = pq.read_table(tmp_path / "raw/phone" / f"date={day}" / "part-0.parquet").num_rows
    assert loaded == sum(r["rows_loaded"] for r in records) == 9
    assert not (tmp_path / "_staging/phone" / f"date={day}").exists()
    json.dumps(records)  # the audit is plain JSON


def test_missing_delivery_check(bad_exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the sensor pokes, and what its failure callback records when it gives up."""
    from joinedup.ingest.pipeline import delivery_status
    from joinedup.orchestration.ingest_dags import _record_missing, build_dag

    monkeypatch.setenv("JOINEDUP_EXPORTS", str(bad_exports))
    monkeypatch.setenv("JOINEDUP_LAKE", str(tmp_path))
    monkeypatch.setenv("JOINEDUP_ALERT_LOG", str(tmp_path / "alerts.jsonl"))
    assert [delivery_status("phone", date.fromisoformat(d)) for d in ("2025-10-26", "2025-10-27", "2025-10-28")] \
        == ["present", "empty_day", "missing"]
    dag = build_dag(load_channels()["phone"])
    sensor = dag.get_task("wait_for_delivery")
    assert sensor.deferrable and sensor.timeout == 6 * 3600  # waits in the triggerer, not a worker
    _record_missing({"dag": dag, "params": {"day": "2025-10-28"}, "run_id": "scheduled__2025-10-28"})
    (rec,) = audit.read(tmp_path, "phone", date(2025, 10, 28))
    assert (rec["status"], rec["run"]) == ("missing_delivery", "scheduled__2025-10-28")
    assert "phone/2025-10-28 does not exist" in rec["errors"][0]
    from joinedup.orchestration.alerts import read_alerts

    (alert,) = read_alerts(tmp_path / "alerts.jsonl")  # what a monitor watching the alert log sees
    assert (alert["kind"], alert["channel"], alert["days"], alert["dag_id"]) == \
        ("missing_delivery", "phone", ["2025-10-28"], "ingest_phone")
