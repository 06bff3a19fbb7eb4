"""The stack tests' world: a small simulation whose days end yesterday (London), a channels.yml that starts every
channel on its first day, a pseudonymisation key file, and a real Airflow 3.3 stack on PostgreSQL
(joinedup.orchestration.stack) whose landing zone the tests fill one day at a time.

Not in `make test` (marker `stack`): `make test-stack` runs them, as a CI lane of its own. Without PostgreSQL
or psycopg2 they fail under CI and are skipped with the reason locally.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from joinedup.channels import DEFAULT_CONFIG
from tests.conftest import PIPELINE_KEY

REPO = Path(__file__).resolve().parents[2]

CITIZENS, DAYS, SEED = 8000, 4, 18  # ~120 contacts and ~10 channel switches a weekday
MAIN_DAYS = 3  # the first three days are dropped one at a time and compared with the in-process run
# Scheduling knobs for a run of minutes: the sensors look every few seconds, a retry waits seconds not minutes.
TEST_TUNING = {
    # a look in the triggerer, not a task process: the caught-up days' runs wait there at no cost, and a manual
    # re-run of a past day still finds one of the channel's JOINEDUP_INGEST_MAX_ACTIVE_RUNS (4) free
    "JOINEDUP_DELIVERY_POKE_SECONDS": "2",
    "JOINEDUP_SETTLE_POKE_SECONDS": "2",
    "JOINEDUP_SETTLE_MAX_SECONDS": "600",
    "JOINEDUP_RETRY_DELAY_SECONDS": "5",
}


def _need(what: str, hint: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: {hint}")
    pytest.skip(f"{what} is missing: {hint}")


def require_stack_prerequisites() -> None:
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _need("psycopg2", "`uv sync --group deploy` (make test-stack does it)")
    from joinedup.orchestration.stack import StackError, pg_bin

    try:
        pg_bin()
    except StackError:
        _need("PostgreSQL", "`apt-get install -y postgresql` (.ci/run installs it)")


def london_today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()


@dataclass
class World:
    """One simulation, the stack that ingests it, and what the tests have dropped so far."""

    root: Path
    sim: Path
    first: date
    env: dict[str, str]
    stack: Any = None
    started_in: float = 0.0
    dropped: set[tuple[str, date]] = field(default_factory=set)

    @property
    def exports(self) -> Path:
        return Path(self.env["JOINEDUP_EXPORTS"])

    @property
    def analytics(self) -> Path:
        return Path(self.env["JOINEDUP_ANALYTICS"])

    @property
    def lake(self) -> Path:
        return Path(self.env["JOINEDUP_LAKE"])

    def day(self, i: int) -> date:
        return self.first + timedelta(days=i)

    def drop(self, day: date, channels: list[str] | None = None) -> None:
        """Deliver `day` as the runbook says: copy into a hidden folder, then rename it into place."""
        for ch_dir in sorted((self.sim / "exports").iterdir()):
            if channels is not None and ch_dir.name not in channels:
                continue
            src = ch_dir / day.isoformat()
            if not src.exists():
                continue
            tmp = self.exports / ch_dir.name / f".{day}.tmp"
            shutil.copytree(src, tmp)
            tmp.rename(self.exports / ch_dir.name / day.isoformat())
            self.dropped.add((ch_dir.name, day))

    # -- what the metadata DB says --------------------------------------------------------------------

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        rows = self.stack.sql(
            "select run_id, run_type, state, data_interval_start, start_date, end_date, queued_at, conf "
            "from dag_run where dag_id = %s order by id", (dag_id,))
        keys = ("run_id", "run_type", "state", "data_interval_start", "start_date", "end_date", "queued_at", "conf")
        return [dict(zip(keys, r)) for r in rows]

    def ingest_run(self, channel: str, day: date) -> dict[str, Any] | None:
        """The scheduled run of `channel` for local day `day` (its data interval starts at that midnight)."""
        for r in self.runs(f"ingest_{channel}"):
            start = r["data_interval_start"]
            if r["run_type"] == "scheduled" and start is not None and \
                    start.astimezone(ZoneInfo("Europe/London")).date() == day:
                return r
        return None

    def wait_ingested(self, day: date, channels: list[str], timeout: float = 240) -> None:
        def done() -> bool:
            states = {c: (self.ingest_run(c, day) or {}).get("state") for c in channels}
            failed = [c for c, s in states.items() if s == "failed"]
            assert not failed, f"ingest runs failed for {day}: {failed} (logs under {self.stack.home}/logs)"
            return all(s == "success" for s in states.values())
        self.stack.wait_for(done, timeout, f"ingest runs of {day} for {', '.join(channels)}")

    def wait_journeys_idle(self, after: int, timeout: float = 300) -> list[dict[str, Any]]:
        """Wait until journeys has more than `after` runs and none is queued or running; its runs since then."""
        def busy() -> bool:
            # Airflow creates no Asset-triggered run while max_active_runs are active: the events wait in the
            # asset_dag_run_queue, and the next run appears only after the current one ends
            queued = self.stack.sql("select count(*) from asset_dag_run_queue where target_dag_id = 'journeys'")
            return queued[0][0] > 0 or any(r["state"] in ("queued", "running") for r in self.runs("journeys"))

        def idle() -> list[dict[str, Any]] | None:
            if len(self.runs("journeys")) <= after or busy():
                return None
            time.sleep(3)  # still idle a scheduler loop later
            runs = self.runs("journeys")
            return None if busy() else runs[after:]
        return self.stack.wait_for(idle, timeout, f"journeys to run after run #{after} and go idle")

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        rows = self.stack.sql("select state from task_instance where dag_id = %s and run_id = %s and task_id = %s",
                              (dag_id, run_id, task_id))
        return rows[0][0] if rows else None

    def full_runs(self, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Runs that published (their publish task succeeded), not those `check_inputs` stopped."""
        ids = {r[0] for r in self.stack.sql(
            "select run_id from task_instance where dag_id = 'journeys' and task_id = 'publish' "
            "and state = 'success'")}
        return [r for r in runs if r["run_id"] in ids]


def assert_same_marts(got_path: Path, want_path: Path) -> None:
    """Every table, every row, in order; floats to 1e-9 relative (DuckDB's parallel sums may add in another
    order: 3.215909090909097 against 3.2159090909090957 was seen)."""
    got, want = read_marts(got_path), read_marts(want_path)
    assert sorted(got) == sorted(want)
    for table, rows in want.items():
        assert len(got[table]) == len(rows), f"{table}: {len(got[table])} rows, want {len(rows)}"
        for i, (a, b) in enumerate(zip(got[table], rows)):
            same = len(a) == len(b) and all(
                math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) if isinstance(x, float) and isinstance(y, float)
                else x == y for x, y in zip(a, b))
            assert same, f"{table} row {i}: {a} != {b} (the stack's against the in-process run's)"


def read_marts(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        return {n: con.execute(f"select * from {n} order by all").fetchall() for n in names}


@dataclass(frozen=True)
class Plan:
    """The simulation and its channels.yml (every channel starting on the first simulated day)."""

    sim: Path
    config: Path
    first: date

    def day(self, i: int) -> date:
        return self.first + timedelta(days=i)


def make_plan(root: Path) -> Plan:
    from joinedup.simulate.run import simulate

    first = london_today() - timedelta(days=DAYS)
    sim = root / "sim"
    simulate(sim, CITIZENS, DAYS, first, SEED)
    doc = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    for ch in doc["channels"].values():
        ch["start_date"] = first.isoformat()  # catch-up from the first simulated day, not 2025-01-01
    config = root / "config" / "channels.yml"
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return Plan(sim, config, first)


def make_world(plan: Plan, root: Path) -> World:
    """Empty data folders of its own (a landing zone with a folder per channel) over the plan's simulation."""
    from joinedup.inprocess import PipelinePaths

    exports = root / "data" / "exports"
    for ch_dir in (plan.sim / "exports").iterdir():
        (exports / ch_dir.name).mkdir(parents=True)
    paths = PipelinePaths.under(root / "data", exports, plan.sim / "register" / "citizens.csv")
    env = {**paths.env(), "JOINEDUP_CHANNELS": str(plan.config), **TEST_TUNING}
    return World(root=root, sim=plan.sim, first=plan.first, env=env)


def write_key(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PIPELINE_KEY + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="session")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """The simulation and the stack's configuration, once per session."""
    require_stack_prerequisites()
    return make_plan(tmp_path_factory.mktemp("plan"))


@dataclass(frozen=True)
class Reference:
    analytics: Path
    seconds: dict[str, float]


@dataclass
class PendingReference:
    """An in-process run going on in a process of its own (tests/stack/reference.py); `wait()` for it."""

    proc: subprocess.Popen[bytes]
    out: Path
    log: Path

    def wait(self, timeout: float = 900) -> Reference:
        if self.proc.wait(timeout=timeout):
            raise AssertionError(f"the in-process reference run failed: {self.log.read_text()[-3000:]}")
        got = json.loads(self.out.read_text())
        return Reference(Path(got["analytics"]), got["seconds"])


def start_reference(plan: Plan, work: Path, batches: list[tuple[int, int]]) -> PendingReference:
    """Start the in-process run over the plan's days (one `run_pipeline` per batch of day indexes), with the
    stack's key, in its own process."""
    work.mkdir(parents=True, exist_ok=True)
    out, log = work / "reference.json", work / "reference.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "JOINEDUP_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "tests.stack.reference", str(plan.sim), str(plan.config),
                                 plan.first.isoformat(), str(work / "data"), json.dumps(batches), str(out)],
                                cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
    return PendingReference(proc, out, log)


@pytest.fixture(scope="session")
def reference_daily(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PendingReference]:
    """The first MAIN_DAYS days in process, a day at a time as the stack test delivers them. The link step is
    incremental and its probabilistic model sees each batch, so a day-by-day run is compared with a day-by-day
    run (a one-shot run over the same days puts ~2% of persons together differently)."""
    pending = start_reference(plan, tmp_path_factory.mktemp("reference-daily"),
                              [(i, i) for i in range(MAIN_DAYS)])
    yield pending
    if pending.proc.poll() is None:
        pending.proc.kill()


@pytest.fixture(scope="session")
def reference_batch(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PendingReference]:
    """The first MAIN_DAYS days in process in one run, as the fault tests deliver them (all at once)."""
    pending = start_reference(plan, tmp_path_factory.mktemp("reference-batch"), [(0, MAIN_DAYS - 1)])
    yield pending
    if pending.proc.poll() is None:
        pending.proc.kill()


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


@pytest.fixture(scope="module")
def world(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A started stack over an empty landing zone of its own; the ingest DAGs and journeys unpaused."""
    from joinedup.orchestration.stack import FAST_SCHEDULING, Stack

    root = tmp_path_factory.mktemp("stack")
    w = make_world(plan, root)
    # a CI timeout or a Ctrl-C sends SIGTERM/SIGINT: stop the stack's own process groups and PostgreSQL on the way
    # out (the finally below), not leave them running
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    stack = Stack(root / "airflow", w.env, write_key(root / "secrets" / "pseudonym.key"), extra_env=FAST_SCHEDULING)
    w.stack = stack
    t0 = time.perf_counter()
    try:
        stack.init()
        stack.start()
        stack.wait_for(lambda: len(stack.sql("select dag_id from dag")) >= 10, 180,
                       "the dag-processor to serialise the DAGs")
        stack.airflow("dags", "unpause", "--treat-dag-id-as-regex", "^(ingest_.*|journeys)$", "-y")
        # unpaused, journeys runs its latest daily time slot at once (catchup=False): with nothing landed yet it
        # stops at check_inputs. The tests count runs from here.
        (first,) = w.wait_journeys_idle(0, timeout=180)
        assert first["run_type"] == "scheduled" and first["state"] == "success", first
        assert w.full_runs([first]) == []
        w.started_in = time.perf_counter() - t0
        yield w
    finally:
        stack.remove()
        signal.signal(signal.SIGTERM, previous)


def contacts_by_channel(analytics: Path) -> dict[str, int]:
    with duckdb.connect(str(analytics), read_only=True) as con:
        return dict(con.execute("select channel, count(*) from fct_contacts group by 1").fetchall())


def raw_by_channel(lake: Path) -> dict[str, int]:
    """Contacts landed per channel (channels with none yet left out, as fct_contacts leaves them out)."""
    with duckdb.connect() as con:
        got = dict(con.execute(f"select channel, count(*) from read_parquet('{lake}/raw/*/*/*.parquet', "
                               "union_by_name = true) group by 1").fetchall())
    return {k: v for k, v in got.items() if v}


def last_analytics_event(world: World) -> dict[str, Any]:
    (extra,), = world.stack.sql("""
        select e.extra from asset_event e join asset a on a.id = e.asset_id
        where a.uri = 'joinedup://published/analytics' order by e.id desc limit 1""")
    return extra if isinstance(extra, dict) else json.loads(extra)
