"""A ninth channel added through configuration only: an entry in a copy of channels.yml (its parser spec), its
ingest GX suite, two days of hand-written exports and its rows in the seeds. Nothing else names it, yet it reaches
fct_contacts, the marts (with its cost and response target) and the report, through the real DAGs
(`dag.test()`), real dbt and real DuckDB.

Then the guards: the same lake read with the packaged channel list fails a dbt test naming the channel (it
never silently vanishes), and a configured channel without seed rows fails a dbt test naming the seed file and
the channel. Kept cheap: 1,000 simulated citizens over four days, two ingest DAGs (phone and the new channel), one
journeys run (~80 s in all).
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from joinedup.channels import DEFAULT_CONFIG
from joinedup.inprocess import PipelinePaths, pipeline_env, release_dbt_connection, run_pipeline
from tests.conftest import PIPELINE_KEY

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NEW = "video_call"
START, DAYS = date(2025, 3, 3), 4

NEW_CHANNEL = {  # a video-appointment system's CSV export, in the channels.yml mini-language
    "source_system": "video-appointments",
    "location": "{exports}/video_call",
    "day_folder": "{day:%Y-%m-%d}",
    "pattern": "appointments_{day:%Y-%m-%d}*.csv",
    "format": "csv",
    "encoding": "utf-8",
    "timezone": "UTC",
    "columns": ["AppointmentID", "Joined", "AgentJoined", "Status", "Service", "Name", "Email"],
    "required": ["AppointmentID", "Joined", "Status"],
    "key": ["AppointmentID"],
    "fields": {
        "direction": {"const": "inbound"},
        "occurred_at": {"from": "Joined", "as": "utc_datetime", "required": True},
        "first_response_at": {"from": "AgentJoined", "as": "utc_datetime"},
        "service": {"from": "Service", "map": "queue_service"},
        "outcome": {"from": "Status", "map": {"completed": "answered", "abandoned": "abandoned"}},
        "full_name": "Name",
        "given_name": {"from": "Name", "split": "given"},
        "family_name": {"from": "Name", "split": "family"},
        "email": {"from": "Email", "as": "lower"},
    },
}
NEW_SUITE = {
    "name": NEW,
    "meta": {"notes": "ingestion suite for the test's ninth channel, run with the canonical `contact` suite."},
    "expectations": [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "channel", "value_set": [NEW]}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "outcome", "value_set": ["answered", "abandoned"]}},
    ],
}
STRANGERS = [  # (day offset, AppointmentID, Joined, AgentJoined, Status, Service, Name, Email)
    (0, "VA-1", "2025-03-03T09:00:00Z", "2025-03-03T09:03:00Z", "completed", "Parking", "Ann Example",
     "ann@example.net"),
    (0, "VA-2", "2025-03-03T19:30:00Z", "", "abandoned", "Housing Repairs", "Bob Sample", "bob@example.net"),
]


def export_rows(register: Path) -> list[tuple[str, ...]]:
    """Two strangers, and a register citizen (by name and e-mail) who calls twice about council tax: the
    second call makes a journey with a transition, which the marts' gate expects to find."""
    with register.open(encoding="utf-8", newline="") as f:
        citizen = next(r for r in csv.DictReader(f) if r["email"])
    name = f"{citizen['given_name']} {citizen['family_name']}"
    return [*STRANGERS,
            (0, "VA-3", "2025-03-03T14:00:00Z", "2025-03-03T14:20:00Z", "completed", "Council Tax", name,
             citizen["email"]),
            (1, "VA-4", "2025-03-04T10:00:00Z", "2025-03-04T10:03:00Z", "completed", "Council Tax", name,
             citizen["email"])]


COST, SLA = ("4.00", "test: the ninth channel's unit cost"), ("answer_5m", "5", "true", "test: 5 minutes")
GLOSSARY = [("channel", NEW, "9", "Video call", "test: a video appointment with an adviser."),
            ("sla_target", "answer_5m", "9", "Answered within 5 minutes", "test: an adviser joins within 5 minutes.")]


def write_config(folder: Path) -> Path:
    """channels.yml with the ninth channel appended (config order: last)."""
    doc = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    doc["channels"][NEW] = NEW_CHANNEL
    path = folder / "channels.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def write_suites(folder: Path) -> Path:
    """The packaged suites (their channel sets are placeholders) plus the new channel's ingest suite."""
    suites = folder / "expectations"
    shutil.copytree(REPO / "expectations", suites)
    (suites / f"{NEW}.json").write_text(json.dumps(NEW_SUITE, indent=2), encoding="utf-8")
    return suites


def write_project(folder: Path) -> Path:
    """The dbt project with one more row in each seed (its cost, its target, their definitions): the only dbt
    change a channel needs."""
    project = folder / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    with (project / "seeds" / "channel_costs.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow([NEW, *COST])
    with (project / "seeds" / "sla_targets.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow([NEW, "", *SLA])
    with (project / "seeds" / "glossary.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(GLOSSARY)
    return project


def write_exports(exports: Path, rows: list[tuple[str, ...]]) -> None:
    header = NEW_CHANNEL["columns"]
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        folder = exports / NEW / f"{day:%Y-%m-%d}"
        folder.mkdir(parents=True)
        with (folder / f"appointments_{day:%Y-%m-%d}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(r[1:] for r in rows if r[0] == offset)


def dbt_failures(args: list[str], project: Path) -> str:
    """Run dbt (with the configured channels' vars) expecting it to fail; returns every node's message."""
    from joinedup.dbt_cli import run_dbt

    try:
        res = run_dbt(args, project)
    finally:
        release_dbt_connection()
    assert not res.success, f"dbt {args} passed"
    results: list[Any] = list(getattr(res.result, "results", None) or [])
    return "\n".join([str(res.exception or "")] + [str(r.message) for r in results if r.status != "pass"])


@pytest.fixture(scope="module")
def ninth(airflow_db: str, tmp_path_factory: pytest.TempPathFactory):
    """The pipeline over four days with the ninth channel configured; yields (paths, work folder)."""
    from joinedup.simulate.run import simulate

    work = tmp_path_factory.mktemp("ninth")
    sim = work / "sim"
    simulate(sim, 1000, DAYS, START, 5)
    write_exports(sim / "exports", export_rows(sim / "register" / "citizens.csv"))
    env = {"JOINEDUP_CHANNELS": str(write_config(work)), "JOINEDUP_EXPECTATIONS": str(write_suites(work)),
           "JOINEDUP_DBT_PROJECT": str(write_project(work)), "JOINEDUP_PSEUDONYM_KEY": PIPELINE_KEY}
    paths = PipelinePaths.under(work, sim / "exports", sim / "register" / "citizens.csv")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        run = run_pipeline(paths, START, START + timedelta(days=DAYS - 1), channels=["phone", NEW], init_db=False)
        assert run.results["journeys"] == "success"
        yield paths, work


def test_a_channel_added_by_config_reaches_the_marts_and_the_report(ninth) -> None:
    paths, _ = ninth
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        contacts = con.execute(
            "select count(*), min(cost_gbp), min(sla_name), min(sla_target_minutes) from fct_contacts "
            "where channel = ?", [NEW]).fetchone()
        assert contacts == (4, float(COST[0]), SLA[0], float(SLA[1]))
        assert con.execute("select count(*) from fct_contacts where channel = 'phone'").fetchone()[0] > 0
        for mart in ("mart_channel_shift", "mart_out_of_hours", "mart_response_sla"):
            n = con.execute(f"select count(*) from {mart} where channel = ?", [NEW]).fetchone()[0]
            assert n > 0, f"{mart} has no {NEW} rows"
        assert con.execute("select count(*) from mart_channel_transitions where to_channel = ?", [NEW]).fetchone()[0]
        assert con.execute("select count(*) from fct_journeys where last_channel = ?", [NEW]).fetchone()[0]
        # the 19:30 appointment is out of hours; waits of 3, 20, 3 minutes and no answer: two meet 5 minutes
        assert con.execute("select count(*) filter (where is_out_of_hours), count(*) filter (where is_sla_met) "
                           "from fct_contacts where channel = ?", [NEW]).fetchone() == (1, 2)
    report = (paths.reports / "index.html").read_text(encoding="utf-8")
    assert NEW in report


def test_a_landed_channel_missing_from_config_fails_a_dbt_test(ninth, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pseudonymous lake now holds video_call contacts; with the packaged channels.yml (no video_call) its
    contacts source's accepted_channels test fails naming it, rather than the contacts silently dropping out of the marts."""
    paths, work = ninth
    monkeypatch.delenv("JOINEDUP_CHANNELS")
    with pipeline_env(paths):
        message = dbt_failures(["test", "--select", "source:linkage.contacts", "--target-path", str(work / "t1")],
                               work / "dbt_project")
    assert "holds channel(s) not configured in joinedup/channels.yml" in message
    assert f": {NEW}" in message


def test_a_configured_channel_without_seed_rows_fails_naming_file_and_channel(ninth, tmp_path: Path) -> None:
    """The repo's seeds have no video_call rows: with video_call configured, seeding them fails every check."""
    paths, _ = ninth
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(paths.warehouse, warehouse)
    with pipeline_env(replace(paths, warehouse=warehouse)):
        message = dbt_failures(["build", "--select", "channel_costs", "sla_targets", "glossary",
                                "glossary_defines_every_configured_channel", "--target-path",
                                str(tmp_path / "target")], REPO / "dbt_project")
    for seed in ("channel_costs", "sla_targets"):
        assert f"dbt_project/seeds/{seed}.csv has no row (field channel) for channel(s) configured in " \
               f"joinedup/channels.yml: {NEW}" in message
    assert f"dbt_project/seeds/glossary.csv has no row (term channel) for channel(s) configured in " \
           f"joinedup/channels.yml: {NEW}" in message
