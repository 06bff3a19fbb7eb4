"""The whole pipeline on a small simulation through Airflow `dag.test()`: every ingest DAG, then `journeys`
(link -> dbt build via cosmos -> GX gate -> publish). Checked against the simulator's truth, for PII in the
published file, for idempotency, and for a failed gate leaving the published file alone.

The journeys DAG runs four times here (~35 s each): first build, identical re-run, failing gate, failing
dbt test.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from joinedup.inprocess import PipelineFailed, pipeline_env, release_dbt_connection, run_journeys_dag
from joinedup.simulate.truth import score_journeys
from tests.conftest import PIPELINE_KEY as KEY

pytestmark = pytest.mark.slow


def _marts(analytics: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(analytics), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        return {n: con.execute(f"select * from {n} order by all").df() for n in names}


def test_every_dag_ran_and_published_every_mart(pipeline) -> None:
    paths, _, run = pipeline
    assert run.results["journeys"] == "success"
    assert all(state == "success" for state in run.results["ingest"].values())
    assert len(run.results["ingest"]) == 8
    marts = _marts(paths.analytics)
    assert set(marts) == {"dim_date", "dim_opening_hours", "dim_persons", "fct_channel_switches", "fct_contacts",
                          "fct_journeys", "mart_channel_shift", "mart_channel_transitions", "mart_journey_paths",
                          "mart_definitions", "mart_glossary", "mart_out_of_hours", "mart_repeat_contact",
                          "mart_response_sla"}
    assert all(len(df) > 0 for df in marts.values())


def test_journeys_and_switches_match_the_truth(pipeline) -> None:
    """Tolerances. Journeys split where linkage could not join a person's contacts (e.g. a withheld number
    and nothing else), so overall recall is bounded by linkage; over contacts the linkage put in one person
    the journey logic itself must be right, and what it joins must be truly joined."""
    paths, sim, _ = pipeline
    s = score_journeys(paths.analytics, sim / "truth", KEY.encode())
    assert s.contacts_matched == pd.read_csv(sim / "truth" / "contacts.csv").shape[0]  # every contact landed
    assert s.pair_precision >= 0.90
    assert s.pair_recall_same_person >= 0.85
    assert s.pair_recall >= 0.55
    assert s.switch_precision >= 0.85
    assert s.switch_recall_same_person >= 0.85
    assert 0.95 <= s.journey_count_ratio <= 1.35
    assert s.found_switching_share <= s.truth_switching_share + 0.02


def _pii_values(sim: Path) -> tuple[set[str], set[str]]:
    """(whole-value identifiers: names, dates of birth; token identifiers: emails, phones, postcodes, handles)"""
    reg = pd.read_csv(sim / "register" / "citizens.csv", dtype=str).fillna("")
    whole = {v.lower() for col in ("given_name", "family_name", "date_of_birth", "address_line")
             for v in reg[col] if v}
    whole |= {f"{g} {f}".lower() for g, f in zip(reg["given_name"], reg["family_name"], strict=True)}
    tokens = {v.lower() for v in reg["email"] if v}
    tokens |= {re.sub(r"\D", "", v)[-10:] for v in reg["phone"] if v}  # national significant number
    tokens |= {v.replace(" ", "").lower() for v in reg["postcode"] if v}
    for f in (sim / "exports" / "social").rglob("*.csv"):
        handles = pd.read_csv(f, dtype=str, encoding="utf-8-sig")["From Handle"].dropna()
        tokens |= {h.lstrip("@").lower() for h in handles}
    return whole, tokens


def test_no_pii_in_the_published_analytics_file(pipeline) -> None:
    paths, sim, _ = pipeline
    whole, tokens = _pii_values(sim)
    assert len(tokens) > 1000 and len(whole) > 1000
    scanned = 0
    for table, df in _marts(paths.analytics).items():
        for col in df.columns:
            for value in df[col].dropna().astype(str).unique():
                v = value.lower()
                scanned += 1
                assert v not in whole, f"{table}.{col} holds a register value: {value!r}"
                for tok in re.split(r"[\s,;:/|>()\[\]\"']+", v):
                    digits = re.sub(r"\D", "", tok)
                    assert tok.lstrip("@") not in tokens and tok.replace(" ", "") not in tokens, \
                        f"{table}.{col} holds an identifier: {value!r}"
                    assert len(digits) < 10 or digits[-10:] not in tokens, f"{table}.{col} holds a phone: {value!r}"
    assert scanned > 10_000


def test_rerun_gives_identical_marts(pipeline) -> None:
    paths, _, _ = pipeline
    before = _marts(paths.analytics)
    with pipeline_env(paths):
        assert run_journeys_dag() == "success"
    after = _marts(paths.analytics)
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_failed_gate_leaves_the_published_file_untouched(pipeline, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    paths, _, _ = pipeline
    suites = tmp_path / "expectations"
    shutil.copytree(Path(__file__).resolve().parents[2] / "expectations", suites)
    suite_file = suites / "marts" / "fct_contacts.json"
    suite = json.loads(suite_file.read_text())
    suite["expectations"].append({"type": "expect_table_row_count_to_be_between",
                                  "kwargs": {"min_value": 0, "max_value": 10}})
    suite_file.write_text(json.dumps(suite))
    monkeypatch.setenv("JOINEDUP_EXPECTATIONS", str(suites))
    published = paths.analytics.read_bytes()
    mtime = paths.analytics.stat().st_mtime_ns

    with pipeline_env(paths), pytest.raises(PipelineFailed, match="quality_gate") as err:
        run_journeys_dag()

    assert "publish" in str(err.value)  # never ran: upstream failed
    assert paths.analytics.read_bytes() == published
    assert paths.analytics.stat().st_mtime_ns == mtime
    assert not list(paths.analytics.parent.glob(".*.tmp"))


def test_failed_dbt_test_stops_the_run_before_the_gate(pipeline, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Watcher mode builds the models in one `dbt build`, then runs every dbt test in one `dbt test` task: a
    failing test must fail the run before the gate, and nothing is published."""
    from joinedup.inprocess import ensure_dbt_manifest

    paths, _, _ = pipeline
    project = tmp_path / "dbt_project"
    shutil.copytree(Path(__file__).resolve().parents[2] / "dbt_project", project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "every_journey_fails.sql").write_text(
        "-- fails on purpose: every journey is a failing row\nselect journey_id from {{ ref('fct_journeys') }}\n")
    monkeypatch.setenv("JOINEDUP_DBT_PROJECT", str(project))
    published = paths.analytics.read_bytes()

    try:
        with pipeline_env(paths), pytest.raises(PipelineFailed, match="dbt_build") as err:
            ensure_dbt_manifest()
            run_journeys_dag()
    finally:
        release_dbt_connection()  # dbt keeps its read-write handle after a failed in-process build

    assert "dbt_build.dbt_project_test" in str(err.value)  # the task that ran the tests is named
    assert "quality_gate" in str(err.value) and "publish" in str(err.value)  # never ran: upstream failed
    assert paths.analytics.read_bytes() == published


def test_identity_store_is_a_separate_restricted_file_that_resolves_keys(pipeline) -> None:
    """Only the identity store can turn a published person_key back into a citizen."""
    paths, sim, _ = pipeline
    store = paths.identity / "identity.duckdb"
    assert store.stat().st_mode & 0o077 == 0  # owner only
    with duckdb.connect(str(store), read_only=True) as con:
        con.execute(f"attach '{paths.analytics}' as bi (read_only)")
        resolved, registered = con.execute(
            """select count(*), count(l.citizen_id) from bi.dim_persons d
               join person_keys k using (person_key)
               join (select distinct person_id, citizen_id from contact_links) l using (person_id)""").fetchone()
        persons, = con.execute("select count(*) from bi.dim_persons").fetchone()
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where database_name = 'identity'")
                  .fetchall()}
    assert resolved == persons and registered > 0
    assert {"contact_links", "person_keys", "linkage_aliases"} <= tables


def test_every_model_and_column_built_is_documented(pipeline) -> None:
    paths, _, _ = pipeline
    manifest = json.loads((Path(__file__).resolve().parents[2] / "dbt_project/target/manifest.json").read_text())
    nodes = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")]
    assert len(nodes) >= 20  # 21 models and 4 seeds
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        for n in nodes:
            assert n["description"].strip(), n["name"]
            built = {r[0] for r in con.execute("select column_name from duckdb_columns() where table_name = ?",
                                               [n["alias"]]).fetchall()}
            assert built, f"{n['name']} was not built"
            undocumented = {c for c in built if not n["columns"].get(c, {}).get("description", "").strip()}
            assert not undocumented, f"{n['name']}: {sorted(undocumented)}"


def test_dbt_unit_tests_pass(pipeline) -> None:
    """Journey splitting, switch triggers (web forms, channels without a target, targets met and missed), local
    times, dates and ISO weeks across both clock changes, opening hours and bank holidays, SLA timing, repeat
    windows (dbt_project/models/intermediate/_intermediate__unit_tests.yml). cosmos does not render unit tests as
    tasks, so they run here, against the warehouse the pipeline built."""
    from joinedup.dbt_cli import run_dbt

    paths, _, _ = pipeline
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    with pipeline_env(paths):
        res = run_dbt(["test", "--select", "test_type:unit", "--target-path", str(paths.warehouse.parent /
                                                                                  "dbt-target")], project)
    release_dbt_connection()  # dbt-duckdb keeps its handle open in this process
    assert res.success, res.exception
    unit = [r for r in res.result.results if r.node.resource_type != "operation"]  # not the on-run-start hook
    assert len(unit) >= 7
    assert all(r.status == "pass" for r in unit)


def test_gate_reports_each_broken_expectation(pipeline, tmp_path: Path) -> None:
    """Bad values in a mart are caught (strings travel to GX as categoricals: the check must still see them)."""
    from joinedup.quality.gate import GateFailed, gate_marts

    paths, _, _ = pipeline
    broken = tmp_path / "warehouse.duckdb"
    shutil.copy(paths.warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("update marts.fct_contacts set channel = 'pigeon' where contact_key = "
                    "(select min(contact_key) from marts.fct_contacts)")
        con.execute("update marts.dim_persons set postcode_district = 'not a district' where person_key = "
                    "(select min(person_key) from marts.dim_persons)")
        # a row-conditioned expectation (engine-neutral condition objects, the same on pandas and Spark)
        con.execute("update marts.dim_date set bank_holiday_name = null where is_bank_holiday")
    with pytest.raises(GateFailed) as err:
        gate_marts(broken)
    message = str(err.value)
    assert "marts/fct_contacts: expect_column_values_to_be_in_set(column='channel'" in message
    assert "'pigeon'" in message
    assert "marts/dim_persons: expect_column_values_to_match_regex(column='postcode_district'" in message
    assert "marts/dim_date: expect_column_values_to_not_be_null(column='bank_holiday_name'" in message
