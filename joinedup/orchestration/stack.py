"""A real Airflow stack as plain processes, without Docker: PostgreSQL from Debian's `postgresql` package on a
loopback port, the compose stack's one-shot set-up (`docker/airflow-init.sh`, the same script), then the
api-server, scheduler (LocalExecutor), dag-processor and triggerer, each its own process.

The stack test (tests/stack) drives the DAGs through it, and an operator can use it to try a deployment on one
machine: `python -m joinedup.orchestration.stack --home /srv/joinedup-airflow` starts it and prints the UI's
address (docs/deployment.md, "Run the stack without Docker").

Everything it starts is a child process recorded by pid; `stop()` stops those and nothing else. PostgreSQL
refuses to run as root: as root, its data folder belongs to the `postgres` user and `initdb`/`pg_ctl` run as it.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joinedup import paths
from joinedup.inprocess import QUIET_ENV

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
INIT_SCRIPT = paths.PROJECT_ROOT / "docker" / "airflow-init.sh"
PG_USER = "airflow"
PG_DB = "airflow"

# Scheduling latency dominates a small run: the defaults (5 s heartbeats, a 5-minute folder rescan, a 5-minute
# wait before a lost task is noticed) suit a production day, not a test of a few minutes.
FAST_SCHEDULING = {
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",  # the 1-slot pool runs ~60 short tasks a build
    "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "15",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "15",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "20",
    # the DAG files do not change during a run: parse them once, then seldom (the journeys file renders cosmos)
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "300",
    "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
    "AIRFLOW__API__WORKERS": "1",
}


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin() -> Path:
    """The newest PostgreSQL under /usr/lib/postgresql (Debian's layout); `initdb` is not on PATH there."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise StackError("PostgreSQL is not installed: `apt-get install -y postgresql` (Debian), or see "
                         "docs/deployment.md, 'Run the stack without Docker'")
    return found[-1].parent


@dataclass
class Postgres:
    """A private PostgreSQL cluster on 127.0.0.1:`port`, its socket and data inside `root`."""

    root: Path
    port: int
    password: str
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "postgres.log"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{PG_USER}:{self.password}@127.0.0.1:{self.port}/{PG_DB}"

    def _run(self, args: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        """As the `postgres` user when we are root (PostgreSQL refuses root), as ourselves otherwise."""
        env = {"PATH": "/usr/bin:/bin", "PGPASSWORD": self.password, "LC_ALL": "C.UTF-8"}
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")

            def demote() -> None:
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
            kw["preexec_fn"] = demote
            env["HOME"] = str(self.root)
        return subprocess.run(args, env=env, capture_output=True, text=True, cwd=self.root, **kw)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.root.chmod(0o700)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
        pwfile.chmod(0o600)
        res = self._run([str(pg_bin() / "initdb"), "-D", str(self.data), "-U", PG_USER, f"--pwfile={pwfile}",
                         "--auth=scram-sha-256", "-E", "UTF8"])
        pwfile.unlink()
        if res.returncode:
            raise StackError(f"initdb failed in {self.data}: {res.stderr.strip()[-800:]}")
        self.start()
        res = self._run([str(pg_bin() / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                         "-U", PG_USER, PG_DB])
        if res.returncode:
            raise StackError(f"createdb {PG_DB} failed: {res.stderr.strip()}")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        res = self._run([str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts,
                         "-w", "-t", "60", "start"])
        if res.returncode:
            raise StackError(f"PostgreSQL did not start on port {self.port}: {res.stderr.strip()} "
                             f"(log: {self.log})")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Stack:
    """Airflow 3.3 on PostgreSQL as processes under `home` (AIRFLOW_HOME): logs, pid files, the pg cluster.

    `pipeline_env` holds the JOINEDUP_* locations and settings the DAGs read; `extra_env` anything else (test
    tuning). The secrets are generated per stack; the pseudonymisation key is a file, as in compose.
    """

    home: Path
    pipeline_env: dict[str, str]
    key_file: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    parallelism: int = 6
    api_port: int = field(default_factory=free_port)
    postgres: Postgres = field(init=False)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _secrets: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import tempfile

        from cryptography.fernet import Fernet

        self.home = self.home.resolve()
        self._secrets = {
            "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
            "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(24),
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        }
        # outside `home`, whose parents may be closed to the postgres user (pytest's tmp folders are 0700)
        pg_root = Path(tempfile.mkdtemp(prefix="joinedup-pg-"))
        self.postgres = Postgres(pg_root, free_port(), self._secrets["POSTGRES_PASSWORD"])

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self) -> dict[str, str]:
        """The environment of every Airflow process: compose's x-airflow-common, with local paths and ports."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AIRFLOW", "JOINEDUP_")) and k not in ("PYTEST_CURRENT_TEST",)}
        env.update(QUIET_ENV)
        env.update(self._secrets)
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW_UID": str(os.getuid()),
            "AIRFLOW_ADMIN_USER": "admin",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "auth" / "passwords.json"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.url,
            "AIRFLOW__API_AUTH__JWT_ISSUER": "joinedup",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__DAGS_FOLDER": str(paths.PROJECT_ROOT / "dags"),
            "JOINEDUP_PSEUDONYM_KEY_FILE": str(self.key_file),
            # the checkout first: its dags/ import joinedup from here, not from wherever the venv points
            "PYTHONPATH": os.pathsep.join([str(paths.PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        })
        env.update(self.pipeline_env)
        env.update(self.extra_env)
        env.pop("JOINEDUP_PSEUDONYM_KEY", None)  # the key is a file (airflow-init refuses it in the environment)
        return env

    # -- set-up -----------------------------------------------------------------------------------------

    def init(self) -> None:
        """PostgreSQL, then the compose stack's airflow-init steps (secrets and key checks, data folders,
        `airflow db migrate`, the admin user, the 1-slot `duckdb` pool): the same script, run here."""
        from joinedup.orchestration.preload import LOCAL_SETTINGS

        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "config").mkdir(exist_ok=True)
        (self.home / "config" / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
        self.postgres.init()
        res = subprocess.run(["bash", str(INIT_SCRIPT)], env=self.env(), capture_output=True, text=True,
                             timeout=300)
        (self.home / "airflow-init.log").write_text(res.stdout + res.stderr)
        if res.returncode:
            raise StackError(f"airflow-init failed ({self.home / 'airflow-init.log'}): {res.stderr.strip()[-1500:]}")
        # the image parses dbt at build time (Dockerfile): without a manifest cosmos runs `dbt ls` at every parse,
        # which is in every task process
        res = subprocess.run([sys.executable, "-c", "from joinedup.inprocess import ensure_dbt_manifest as m; m()"],
                             env=self.env(), capture_output=True, text=True, timeout=300)
        if res.returncode:
            raise StackError(f"dbt parse failed: {res.stderr.strip()[-1500:]}")

    def start(self, services: Iterable[str] = SERVICES) -> None:
        for name in services:
            self.start_service(name)
        self.wait_for(self._api_up, 120, "the api-server to answer")

    def start_service(self, name: str) -> None:
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}: one of {', '.join(SERVICES)}")
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            raise StackError(f"{name} is already running (pid {proc.pid})")
        log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        args = [str(Path(sys.executable).parent / "airflow"), name]
        if name == "api-server":
            args += ["--port", str(self.api_port), "--host", "127.0.0.1"]
        self.procs[name] = subprocess.Popen(args, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.home, start_new_session=True)
        log.close()

    def _api_up(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.api_url}/api/v2/monitor/health", timeout=3) as r:
                return r.status == 200
        except OSError:
            return False

    # -- running ----------------------------------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 120) -> str:
        """An `airflow` CLI command against this stack; its output, or StackError naming the command."""
        res = subprocess.run([str(Path(sys.executable).parent / "airflow"), *args], env=self.env(),
                             capture_output=True, text=True, timeout=timeout, cwd=self.home)
        if res.returncode:
            raise StackError(f"airflow {' '.join(args)} failed: {res.stderr.strip()[-1500:]}")
        return res.stdout

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the metadata DB directly: what the scheduler recorded, without the API's paging."""
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=self.postgres.port, user=PG_USER, dbname=PG_DB,
                               password=self.postgres.password, connect_timeout=5)
        try:
            with con.cursor() as cur:
                cur.execute(query, params)
                rows = cur.fetchall() if cur.description else []
            con.commit()
            return rows
        finally:
            con.close()

    @staticmethod
    def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 2.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                got = check()
            except Exception:  # noqa: BLE001 - the DB may be restarting; only the deadline decides
                got = None
            if got:
                return got
            if time.monotonic() > deadline:
                raise StackError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(every)

    # -- faults and shutdown ----------------------------------------------------------------------------

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal one service's process group (the scheduler's LocalExecutor workers and task processes are in
        it): `kill -9` of the service, as a crashed host or the OOM killer would."""
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)

    def revive(self) -> list[str]:
        """Start again every service whose process has exited (compose's `restart: always`); their names."""
        dead = [name for name, proc in self.procs.items() if proc.poll() is not None]
        for name in dead:
            self.start_service(name)
        return dead

    def stop(self) -> None:
        """Stop every service this stack started (by pid), then PostgreSQL; the api-server may need a second
        signal."""
        for name in reversed(SERVICES):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            for sig, wait in ((signal.SIGTERM, 20), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.postgres.stop()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.postgres.root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Start a stack on this machine for a trial; Ctrl-C stops it."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="AIRFLOW_HOME for this stack (logs, pid files)")
    ap.add_argument("--key-file", type=Path, required=True, help="the pseudonymisation key file (mode 600)")
    args = ap.parse_args(argv)
    env = {var: str(paths.location(name).resolve()) if name != "exports" else paths.exports_root()
           for name, (var, _, _) in paths.LOCATIONS.items()}
    stack = Stack(args.home, env, args.key_file.resolve())
    stack.init()
    stack.start()
    print(f"Airflow UI: {stack.api_url} (admin, password in {args.home}/auth/passwords.json); Ctrl-C stops")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stack.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
