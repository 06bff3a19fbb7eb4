"""The link step on either engine leaves the same identity store and the same lake (issue 20, item 2's incremental
runs): `run_link_step` with JOINEDUP_ENGINE=duckdb (the linker in a fresh process) and JOINEDUP_ENGINE=spark
(blocking and scoring on the lane's shared local[2] session, the state settled by the same steps).

The lane's simulation's first days (tests/spark/conftest.py's landed_lake, about 40 contacts a day), landed one run
after another in two pipelines of their own: days 1-3 as a first load (in chunks of CHUNK contacts), then day 4,
then day 5. Before the third run a caseworker accepts one review item and rejects another
(joinedup.review.decisions.record, in the DuckDB pipeline's inbox; the Spark pipeline gets a copy of that inbox,
so the decisions are the same ones, with the same ids and times). After every run the two must hold the same
bytes in the lake's pseudonymous outputs and the linkage state (persons, identifiers, aliases, refused edges,
model), and the same rows in every table of identity.duckdb, explanations included; only the wall-clock times a
run stamps (when a decision was applied, when a relink ran) are left out. Then `joinedup relink` re-decides every contact on each engine, which scores the
decided contacts again under the decisions: on Spark, in the Spark workers.
"""

from __future__ import annotations

import json
import shutil
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from joinedup.identity.link_step import SPARK_WORK, run_link_step
from joinedup.identity.relink import relink
from joinedup.review.decisions import INBOX, record
from joinedup.review.queue import Store, list_queue
from joinedup.zones import private_dir
from tests.journeys.test_incremental_marts import _land
from tests.pipeline_sim import PIPELINE_KEY, PIPELINE_START

DAYS = 5
RUNS = [[0, 1, 2], [3], [4]]  # the days each run lands (first load, then one day a run)
DECIDE_BEFORE = 2  # the run before which the caseworker decides
CHUNK = 50  # contacts the linker takes at a time: the first load (about 120) goes in three chunks, each settled
# against the state the one before left
WALL_CLOCK = {"applied_at", "relinked_at"}  # stamped with the time a run happened: differs between any two runs
KEY = PIPELINE_KEY.encode()


@pytest.fixture(scope="module")
def source(landed_lake: Path) -> tuple[Path, Path]:
    """(the lane's landed lake, whose first DAYS days the runs land, the register file)."""
    return landed_lake / "lake", landed_lake / "sim" / "register" / "citizens.csv"


def _decide(identity: Path) -> list[tuple[str, str, str]]:
    """Accept the review item that settles most contacts, reject the next one."""
    queue = list_queue(Store(identity), limit=100).rows
    assert len(queue) >= 2, "too few review items in the first runs to test decisions"
    decided = [(queue[0].contact_id, queue[0].citizen_id, "accept"), (queue[1].contact_id, queue[1].citizen_id, "reject")]
    for contact_id, citizen_id, decision in decided:
        record(identity, contact_id, citizen_id, decision, "tester")
    return decided


def _snapshot(lake: Path, identity: Path) -> dict[str, Any]:
    """Everything a run leaves: file bytes of the lake outputs and the linkage state, and the rows of every table
    of the identity store (sorted, wall-clock columns left out)."""
    snap: dict[str, Any] = {}
    for path in sorted([*(lake / "linked").glob("*.parquet"), *(identity / "linkage").glob("*.parquet"),
                        identity / "linkage" / "model.json"]):
        snap[str(path.relative_to(path.parents[1]))] = path.read_bytes()
    with duckdb.connect(str(identity / "identity.duckdb"), read_only=True) as con:
        for (table,) in con.execute("select table_name from information_schema.tables where table_schema = 'main' "
                                    "order by 1").fetchall():
            cols = [c for (c,) in con.execute("select column_name from information_schema.columns where "
                                              "table_name = ? order by ordinal_position", [table]).fetchall()
                    if c not in WALL_CLOCK]
            snap[f"identity.duckdb:{table}"] = (cols, con.execute(
                f"select {', '.join(cols)} from {table} order by all").fetchall())
    return snap


def _pipeline(root: Path, source: tuple[Path, Path], engine: str, inbox_from: Path | None,
              monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The runs of RUNS on `engine`, the decisions recorded before run DECIDE_BEFORE (or the inbox copied from
    `inbox_from`), and a relink at the end. Returns each run's result and snapshot."""
    landed, register = source
    lake, identity = root / "lake", root / "identity"
    lake.mkdir(mode=0o700)
    monkeypatch.setenv("JOINEDUP_ENGINE", engine)
    monkeypatch.delenv("JOINEDUP_SPARK_WORK", raising=False)
    out: dict[str, Any] = {"results": [], "snapshots": [], "identity": identity}
    for i, days in enumerate(RUNS):
        if i == DECIDE_BEFORE:
            if inbox_from is None:
                out["decided"] = _decide(identity)
            else:
                private_dir((identity / INBOX).parent, root=identity)
                shutil.copy2(inbox_from / INBOX, identity / INBOX)  # owner-only, as copy2 keeps the mode
        _land(landed, lake, [PIPELINE_START + timedelta(days=d) for d in days])
        out["results"].append(run_link_step(lake, identity, register, KEY, chunk_size=CHUNK))
        out["snapshots"].append(_snapshot(lake, identity))
    out["relink"] = relink(lake, identity, register, KEY).link
    out["snapshots"].append(_snapshot(lake, identity))
    return out


@pytest.fixture(scope="module")
def engines(spark, source, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The same deliveries and decisions through the link step on each engine."""
    with pytest.MonkeyPatch.context() as mp:
        duck = _pipeline(tmp_path_factory.mktemp("engine-duckdb"), source, "duckdb", None, mp)
        on_spark = _pipeline(tmp_path_factory.mktemp("engine-spark"), source, "spark", duck["identity"], mp)
    return {"duckdb": duck, "spark": on_spark}


def _differences(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    return [name for name in sorted(expected.keys() | got.keys()) if expected.get(name) != got.get(name)]


@pytest.mark.parametrize("run", range(len(RUNS) + 1), ids=[*(f"run{i + 1}" for i in range(len(RUNS))), "relink"])
def test_both_engines_leave_the_same_store_and_lake(engines, run: int):
    expected, got = engines["duckdb"]["snapshots"][run], engines["spark"]["snapshots"][run]
    assert "identity.duckdb:contact_links" in expected and "linked/contacts.parquet" in expected
    assert not _differences(expected, got), f"differ after run {run + 1}: {_differences(expected, got)}"
    results = [*engines["duckdb"]["results"], engines["duckdb"]["relink"]], \
        [*engines["spark"]["results"], engines["spark"]["relink"]]
    assert results[0][run] == results[1][run]


def test_the_case_exercises_state_and_decisions(engines):
    """Not an easy case any path would pass: later runs join remembered persons, and the decisions changed links
    that the relink, scoring them again, keeps."""
    duck = engines["duckdb"]
    assert all(r.new_contacts > 0 for r in duck["results"])
    assert duck["results"][-1].contacts > duck["results"][-1].new_contacts  # the store held earlier days
    (accepted, citizen, _), (rejected, refused, _) = duck["decided"]
    for snapshot in duck["snapshots"][DECIDE_BEFORE:]:  # the runs after the decisions, and the relink
        links = _links(snapshot)
        assert links[accepted]["citizen_id"] == citizen
        assert json.loads(links[accepted]["explanation"])["via"] == "review:accept"
        assert links[rejected]["citizen_id"] != refused
    vias = {json.loads(row["explanation"])["via"].split(":")[0] for row in links.values()}
    assert {"score", "cluster", "review"} <= vias, vias
    store = engines["spark"]["identity"]
    assert stat.S_IMODE((store / SPARK_WORK).stat().st_mode) == 0o700  # Spark's work folder: a restricted zone
    assert not list((store / "_work").iterdir()) and not (store / ".relink").exists()


def _links(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """contact_id -> its row of the store's contact_links, by column name."""
    cols, rows = snapshot["identity.duckdb:contact_links"]
    return {row[cols.index("contact_id")]: dict(zip(cols, row)) for row in rows}
