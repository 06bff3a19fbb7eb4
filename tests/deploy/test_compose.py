"""docker-compose.yml, checked statically (no Docker engine exists on these machines): its services, its
variables against .env.example, its volumes against the paths joinedup's own config reads and writes under the
containers' environment, and its Airflow settings against what the DAGs use."""

from __future__ import annotations

import ast
import os
import re
import subprocess
from datetime import date
from pathlib import Path, PurePosixPath

import pytest

from tests.conftest import REPO
from tests.deploy.conftest import (
    AIRFLOW_SERVICES,
    DAG_SERVICES,
    Dockerfile,
    env_file,
    interpolate,
    mount_of,
    mounts,
    variables,
)

SECRET = re.compile(r"PASSWORD|SECRET|_KEY$")
PLACEHOLDER = "CHANGE-ME"
TASK_RUNNER = "airflow-scheduler"  # LocalExecutor: the tasks run in the scheduler's container
KEY_SECRET = "pseudonym_key"
# the restricted zones' host folders (docs/deployment.md): raw PII, or what maps it to the keys
RESTRICTED = {"exports": "./data/exports", "register": "./data/register", "lake": "./data/lake",
              "identity": "./data/identity", "spark": "./data/spark"}  # spark: shuffle files of the linker
# init: mkdir, chown, chmod; review: the review queue and the decisions inbox in the identity store; the Spark
# worker and Thrift Server (profile `spark`): the lake dbt reads, and Spark's warehouse, metastore and shuffle files
NEEDS_RESTRICTED = {TASK_RUNNER: set(RESTRICTED), "airflow-init": {"lake", "identity", "spark"},
                    "review": {"identity"}, "spark-worker": {"lake", "spark"}, "spark-thrift": {"lake", "spark"},
                    "airflow-triggerer": {"exports"}}  # the delivery sensors' trigger lists the day folders
SPARK_SERVICES = ("spark-master", "spark-worker", "spark-thrift")
# the official image (Docker Hub's apache/spark, built from apache/spark-docker), a pinned release tag
SPARK_IMAGE = re.compile(r"apache/spark:(?P<version>4\.\d+\.\d+)-scala2\.13-java17-ubuntu")
SPARK_MASTER_URL = "spark://spark-master:7077"
NEEDS_KEY = {TASK_RUNNER, "airflow-init"}
REVIEW, REVIEW_SECRET = "review", "review_session_key"


def test_every_service_has_an_image_a_command_and_a_health_check(compose) -> None:
    services = compose["services"]
    assert set(AIRFLOW_SERVICES) | {"postgres", "report", REVIEW} <= set(services)
    for name, svc in services.items():
        assert svc.get("image") or svc.get("build"), f"{name}: no image or build"
        assert svc.get("command"), f"{name}: no command"
        test = svc.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: no health check"
        assert svc.get("restart") == ("no" if name == "airflow-init" else "always"), name
    for name in AIRFLOW_SERVICES:
        svc = services[name]
        assert svc["build"] == "." and svc["image"] == services["airflow-scheduler"]["image"], name
        assert svc["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
        if name != "airflow-init":
            assert svc["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}, name
            assert svc["user"] == "${AIRFLOW_UID:-50000}:0", name  # group 0, as the official image expects
    # airflow-init (root) hands the data folders to the user the other services run as
    assert services["airflow-init"]["user"] == "0:0"
    assert services["airflow-init"]["environment"]["AIRFLOW_UID"] == "${AIRFLOW_UID:-50000}"


def test_every_variable_has_a_default_or_an_env_example_entry(compose_text, env_example) -> None:
    used = variables(compose_text)
    assert used
    for name, op in used:
        assert op in (":-", "-") or name in env_example, f"${{{name}}} has no default and is not in .env.example"
        if SECRET.search(name):
            # a default would be a secret in the repository: compose must refuse to start without it
            assert op in (":?", "?"), f"${{{name}}} is a secret: use ${{{name}:?...}}, not a default"
            assert env_example[name] == PLACEHOLDER, f"{name} in .env.example must be {PLACEHOLDER}"
    assert set(env_example) <= {name for name, _ in used}, "an .env.example entry the stack does not use"
    # the placeholders are the only values a copied .env.example holds for secrets, and airflow-init refuses them
    init = (REPO / "docker" / "airflow-init.sh").read_text()
    assert PLACEHOLDER in init
    # .env.example's settings agree with the defaults, so an .env without them behaves the same
    for name in {name for name, _ in used}:
        defaults = set(re.findall(rf"\$\{{{name}:?-([^}}]*)\}}", compose_text))
        if defaults and name in env_example:
            assert defaults == {env_example[name]}, f"{name}: default {defaults} vs .env.example"


def test_no_real_secret_in_the_repository() -> None:
    gitignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO).returncode == 0
    assert gitignored, ".env must be git-ignored"
    assert ".env" in (REPO / ".dockerignore").read_text().split(), ".env must stay out of the build context"
    tracked = subprocess.run(["git", "ls-files", ".env"], cwd=REPO, capture_output=True, text=True).stdout
    assert not tracked.strip()


def test_volumes_cover_every_path_the_dags_read_and_write(compose, container_env, dockerfile: Dockerfile,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from joinedup import channels as channel_config
    from joinedup import paths
    from joinedup.orchestration.journeys_dag import docs_target

    services = compose["services"]
    report_root = mounts(services["report"])
    # the tasks run in the task runner, which reads and writes everything; airflow-init creates what they write;
    # the DAG parser needs only the DAG files' own config; the triggerer the exports too (test_restricted_...)
    for name in (*DAG_SERVICES, "airflow-init"):
        svc = services[name]
        env = container_env(name)
        for k in [*os.environ, *env]:  # exactly the container's JOINEDUP_* settings, none of this shell's
            if k.startswith("JOINEDUP_"):
                monkeypatch.delenv(k, raising=False)
                if k in env:
                    monkeypatch.setenv(k, env[k])
        # channels.yml is read by the DAG files themselves: in the image, or on a mount
        channels = PurePosixPath(str(channel_config.config_path()))
        in_image = dockerfile.image_to_repo(channels)
        parses = name in DAG_SERVICES
        assert in_image is not None or mount_of(svc, channels) or not parses, \
            f"{name}: {channels} is neither in the image nor mounted"
        assert mount_of(svc, "/opt/joinedup/data/config/channels.yml") or not parses, \
            f"{name}: a channels.yml of yours under config/ (docs/deployment.md) would not be there"
        if in_image is not None:
            assert in_image.is_file(), f"{name}: the image has no {channels}"
            monkeypatch.setenv("JOINEDUP_CHANNELS", str(in_image))  # read the same file from the repo

        written = [paths.lake_root(), paths.identity_root(), paths.warehouse_path().parent,
                   paths.analytics_path().parent, paths.reports_root(), docs_target(), paths.spark_work(),
                   paths.spark_warehouse()]
        read = [paths.exports_root(), paths.register_path(), paths.lake_root(), paths.identity_root()]
        read += [ch.day_url(date(2025, 1, 1)) for ch in channel_config.load_channels().values()]
        for p in written if name in (TASK_RUNNER, "airflow-init") else []:
            m = mount_of(svc, p)
            assert m and not m.read_only, f"{name}: {p} is written but not on a writable volume"
            # under the one host folder that docs/deployment.md backs up
            assert m.source.startswith("${JOINEDUP_DATA_DIR:-./data}/"), f"{name}: {p} is outside the data dir"
        for p in read if name == TASK_RUNNER else []:
            assert mount_of(svc, p), f"{name}: {p} is read but not mounted"

        # what the DAGs read from the image: the dbt project (and the manifest built into it), the suites
        project = paths.dbt_project_dir()
        assert dockerfile.image_to_repo(project) == REPO / "dbt_project", f"{name}: {project} is not in the image"
        assert mount_of(svc, project) is None, f"{name}: a volume would hide the image's dbt project and manifest"
        assert (REPO / "dbt_project" / "profiles.yml").is_file()
        # joinedup.ingest.validate reads its suites from PROJECT_ROOT/expectations (not imported here: it pulls
        # in pandas, +1.3 s); the editable install makes PROJECT_ROOT the image's WORKDIR
        assert dockerfile.image_to_repo(dockerfile.workdir / "joinedup") == paths.PROJECT_ROOT / "joinedup"
        assert dockerfile.image_to_repo(dockerfile.workdir / "expectations") == paths.PROJECT_ROOT / "expectations"

        # the report service serves the folder the journeys DAG writes the report into
        if name == "airflow-scheduler":
            served = next(m for m in report_root if m.target == PurePosixPath("/usr/share/nginx/html"))
            reports = mount_of(svc, paths.reports_root())
            assert reports.target == PurePosixPath(str(paths.reports_root()))  # the folder itself, not a parent
            assert served.read_only and served.source == reports.source


def test_every_airflow_service_mounts_the_same_host_folder_at_each_path(compose) -> None:
    seen: dict[PurePosixPath, str] = {}
    for name in AIRFLOW_SERVICES:
        for m in mounts(compose["services"][name]):
            assert seen.setdefault(m.target, m.source) == m.source, f"{name}: {m.target} from another source"


def test_airflow_settings_match_what_the_dags_need(compose, container_env, dockerfile: Dockerfile) -> None:
    from joinedup.orchestration.journeys_dag import DUCKDB_POOL, SPARK_POOL

    services = compose["services"]
    envs = {n: container_env(n) for n in AIRFLOW_SERVICES}
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__API_AUTH__JWT_ISSUER",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__CORE__AUTH_MANAGER"):
        values = {n: e.get(key) for n, e in envs.items()}
        assert len(set(values.values())) == 1 and None not in values.values(), f"{key} differs: {values}"
    for n, e in envs.items():
        assert e["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", n
        assert dockerfile.image_to_repo(e["AIRFLOW__CORE__DAGS_FOLDER"]) == REPO / "dags", n
        assert e["AIRFLOW__CORE__DAGS_FOLDER"] == dockerfile.env["AIRFLOW__CORE__DAGS_FOLDER"], n
    # the task runner (in the scheduler, LocalExecutor) reaches the API server by its service name and port
    url = envs["airflow-scheduler"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
    assert re.fullmatch(r"http://airflow-apiserver:8080/execution/", url)
    assert envs["airflow-scheduler"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"  # serves :8974/health
    assert "postgres:5432/" in envs["airflow-scheduler"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    # the key reaches the tasks as a file (a Docker secret), never as an environment value
    from joinedup.identity.pseudonym import KEY_ENV, KEY_FILE_ENV

    for n, e in envs.items():
        assert KEY_ENV not in e, f"{n}: the key must not be an environment value"
    assert envs[TASK_RUNNER][KEY_FILE_ENV] == f"/run/secrets/{KEY_SECRET}"
    # the admin user of the auth manager in use comes from .env, through airflow-init
    init_env = envs["airflow-init"]
    assert init_env["AIRFLOW_ADMIN_PASSWORD"] and envs["airflow-apiserver"]["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"]\
        .startswith(init_env["AIRFLOW_ADMIN_USER"] + ":admin")
    auth = PurePosixPath(envs["airflow-apiserver"]["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    for n in ("airflow-init", "airflow-apiserver"):
        m = mount_of(services[n], auth)
        assert m and not m.read_only and not m.source.startswith((".", "/", "$")), f"{n}: {auth} not on a volume"

    # the pools: those the journeys DAG's operators use are those airflow-init creates, with one slot each
    # (default_pool is Airflow's own: the link step's on DuckDB)
    assert _pools_in_dag_code() == {DUCKDB_POOL, SPARK_POOL, "default_pool"}
    command = services["airflow-init"]["command"]
    init = dockerfile.image_to_repo(command[-1])
    assert init is not None and init.is_file(), f"airflow-init runs {command}, which is not in the image"
    text = init.read_text()
    assert re.findall(r"^airflow pools set (\S+) (\d+)\b", text, re.M) == [(DUCKDB_POOL, "1"), (SPARK_POOL, "1")]
    assert re.search(r"^airflow db migrate\b", text, re.M) and "AIRFLOW_ADMIN_PASSWORD" in text
    assert services["airflow-init"]["healthcheck"]["test"][-1] == f"airflow pools get {SPARK_POOL}"  # the last
    # connections and variables: the DAGs use none, every location is a JOINEDUP_* path on a volume
    code = "".join(p.read_text() for p in _dag_code())
    assert not re.search(r"conn_id|get_connection|Variable\.get|Variable\(", code)


def _host(source: str, env: dict[str, str]) -> PurePosixPath | None:
    """A bind mount's host folder as compose resolves it from .env (None for a named volume)."""
    path = interpolate(source, env)
    return PurePosixPath(path) if path.startswith((".", "/")) else None


def test_restricted_zones_and_the_key_reach_only_the_services_that_use_them(compose, env_example) -> None:
    """A restricted folder (or a parent of it) is mounted only where it is used, and the key secret only into the
    task runner and airflow-init: not the UI/API, the DAG parser, the triggerer (which lists the exports' day
    folders, read-only), the report server, the review UI or Postgres."""
    services = compose["services"]
    assert set(NEEDS_RESTRICTED) < set(services)
    zones = {zone: PurePosixPath(p) for zone, p in RESTRICTED.items()}
    for name, svc in services.items():
        hosts = [h for m in mounts(svc) if (h := _host(m.source, env_example)) is not None]
        exposed = {zone for zone, z in zones.items() for h in hosts if h == z or h in z.parents or z in h.parents}
        assert exposed == NEEDS_RESTRICTED.get(name, set()), f"{name} mounts {sorted(exposed)}"
        secrets = [s if isinstance(s, str) else s["source"] for s in svc.get("secrets", [])]
        assert (KEY_SECRET in secrets) == (name in NEEDS_KEY), f"{name}: secrets {secrets}"
        assert (REVIEW_SECRET in secrets) == (name == REVIEW), f"{name}: secrets {secrets}"
        if KEY_SECRET in secrets:
            assert svc["environment"]["JOINEDUP_PSEUDONYM_KEY_FILE"] == f"/run/secrets/{KEY_SECRET}", name
    # the key file lives outside the data folder (no data backup holds it), in git and the build context never
    key_file = PurePosixPath(interpolate(compose["secrets"][KEY_SECRET]["file"], env_example))
    data = PurePosixPath(interpolate("${JOINEDUP_DATA_DIR:-./data}", env_example))
    assert data not in key_file.parents and key_file.parts[0] == "secrets", key_file
    probe = REPO / key_file.parent / "probe.key"
    assert subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=REPO).returncode == 0
    assert key_file.parts[0] in (REPO / ".dockerignore").read_text().split()


def test_the_review_service_runs_the_review_ui_on_the_identity_store_behind_a_login(
        compose, container_env, env_example, dockerfile: Dockerfile, monkeypatch: pytest.MonkeyPatch) -> None:
    """`review`: the same image running `joinedup review serve`, as the user that owns the identity store, with
    the store mounted where its JOINEDUP_IDENTITY points, the session key a Docker secret read from a file (never
    an environment value), HTTPS-only cookies, and published on this host only unless .env says otherwise."""
    from joinedup import paths
    from joinedup.review.auth import SECRET_ENV

    services = compose["services"]
    svc, env = services[REVIEW], container_env(REVIEW)
    assert svc["image"] == services[TASK_RUNNER]["image"] and svc["build"] == "."
    assert svc["user"] == services[TASK_RUNNER]["user"]  # the owner of the 0700 identity folder
    assert svc["command"][:3] == ["joinedup", "review", "serve"]
    assert svc["command"][svc["command"].index("--port") + 1] == "8765"
    assert dockerfile.env["PATH"].startswith("/opt/joinedup/.venv/bin:")  # `joinedup` is the locked venv's
    assert svc["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}
    # the identity store, where the service's JOINEDUP_IDENTITY says, writable (the decisions inbox)
    monkeypatch.setenv("JOINEDUP_IDENTITY", env["JOINEDUP_IDENTITY"])
    identity = mount_of(svc, paths.identity_root())
    assert identity is not None and not identity.read_only
    assert identity == mount_of(services[TASK_RUNNER], paths.identity_root())  # the store the link step writes
    # the session key: a file secret, the path in the environment, never the key itself
    assert env[SECRET_ENV] == f"/run/secrets/{REVIEW_SECRET}"
    assert not any(k in env for k in ("JOINEDUP_REVIEW_SECRET", "JOINEDUP_PSEUDONYM_KEY"))
    key_file = PurePosixPath(interpolate(compose["secrets"][REVIEW_SECRET]["file"], env_example))
    data = PurePosixPath(interpolate("${JOINEDUP_DATA_DIR:-./data}", env_example))
    assert data not in key_file.parents and key_file.parts[0] == "secrets", key_file
    assert subprocess.run(["git", "check-ignore", "-q", str(REPO / key_file)], cwd=REPO).returncode == 0
    assert env["JOINEDUP_REVIEW_SECURE_COOKIE"] == "true"
    assert "*" not in env["FORWARDED_ALLOW_IPS"]  # X-Forwarded-For trusted from the named proxy only
    # published on this host only (a TLS proxy shares it), like the Airflow UI and the report
    (port,) = svc["ports"]
    host, published, target = interpolate(port, env_example).rsplit(":", 2)
    assert host == "127.0.0.1" and target == "8765" and published == env_example["REVIEW_PORT"]
    assert port.startswith("${JOINEDUP_BIND_ADDRESS:-127.0.0.1}:")
    for other in ("airflow-apiserver", "report"):
        assert interpolate(services[other]["ports"][0], env_example).rsplit(":", 2)[1] != published
    # its health check asks the login page, the one page that answers without a session
    assert svc["healthcheck"]["test"][-1] == "http://localhost:8765/login"


def test_init_script_is_valid_bash() -> None:
    assert subprocess.run(["bash", "-n", str(REPO / "docker" / "airflow-init.sh")]).returncode == 0


def test_env_example_is_a_plain_env_file() -> None:
    lines = [ln for ln in (REPO / ".env.example").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*=\S*", ln) for ln in lines), "one KEY=value a line, no quotes or spaces"
    env = env_file(REPO / ".env.example")
    assert "JOINEDUP_PSEUDONYM_KEY" not in env and env["JOINEDUP_PSEUDONYM_KEY_PATH"] == "./secrets/pseudonym.key"


def test_compose_refuses_to_start_without_each_secret(compose_text, env_example) -> None:
    secrets = [k for k in env_example if SECRET.search(k)]
    assert len(secrets) >= 5
    for name in secrets:
        env = {k: v for k, v in env_example.items() if k != name}
        with pytest.raises(ValueError, match=name):
            interpolate(compose_text, env)


def _dag_code() -> list[Path]:
    return [*REPO.glob("dags/*.py"), *REPO.glob("joinedup/orchestration/*.py")]


def _pools_in_dag_code() -> set[str]:
    """Every pool the DAG code names: `pool=` arguments and `"pool":` keys, constants resolved."""
    pools: set[str] = set()
    trees = {path: ast.parse(path.read_text()) for path in _dag_code()}
    # module constants of every DAG file: a factory may name a pool another one defines (retention: DUCKDB_POOL)
    consts = {t.id: n.value.value for tree in trees.values() for n in ast.walk(tree) if isinstance(n, ast.Assign)
              and isinstance(n.value, ast.Constant) for t in n.targets if isinstance(t, ast.Name)}
    # and constant dicts, e.g. the pool per engine (ENGINE_POOLS[engine]): each of their values may be used
    tables = {t.id: n.value for tree in trees.values() for n in ast.walk(tree) if isinstance(n, ast.Assign)
              and isinstance(n.value, ast.Dict) for t in n.targets if isinstance(t, ast.Name)}
    for path, tree in trees.items():
        values = [k.value for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg == "pool"]
        values += [v for n in ast.walk(tree) if isinstance(n, ast.Dict) for k, v in zip(n.keys, n.values)
                   if isinstance(k, ast.Constant) and k.value == "pool"]
        for v in values:
            if isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and v.value.id in tables:
                pools.update(consts[e.id] if isinstance(e, ast.Name) else e.value for e in tables[v.value.id].values)
                continue
            assert isinstance(v, ast.Name | ast.Constant), f"{path}: a pool computed at run time"
            pools.add(consts[v.id] if isinstance(v, ast.Name) else v.value)
    return pools


def _spark_conf(command: list[str]) -> dict[str, str]:
    """The `--conf k=v` and `--hiveconf k=v` settings of a spark-submit command."""
    return dict(command[i + 1].split("=", 1) for i, a in enumerate(command) if a in ("--conf", "--hiveconf"))


def test_the_spark_profile_is_optional_and_runs_pinned_official_images(compose) -> None:
    """Profile `spark`: a master, a worker and a Thrift Server from one pinned apache/spark tag, none of which
    starts without `--profile spark` (nothing else has a profile, and no service outside it depends on one in
    it, which would start it), none published on the host."""
    services = compose["services"]
    assert {n for n, svc in services.items() if "profiles" in svc} == set(SPARK_SERVICES)
    images = set()
    for name in SPARK_SERVICES:
        svc = services[name]
        assert svc["profiles"] == ["spark"], name
        assert SPARK_IMAGE.fullmatch(svc["image"]) and "build" not in svc, f"{name}: {svc['image']}"
        assert "ports" not in svc, f"{name}: published on the host"
        images.add(svc["image"])
    assert len(images) == 1, images
    for name, svc in services.items():
        if name not in SPARK_SERVICES:
            assert not set(svc.get("depends_on", {})) & set(SPARK_SERVICES), f"{name} would start the profile"
    assert services["spark-worker"]["depends_on"]["spark-master"] == {"condition": "service_healthy"}
    assert services["spark-thrift"]["depends_on"] == {s: {"condition": "service_healthy"}
                                                      for s in ("spark-master", "spark-worker")}


def test_each_spark_service_checks_its_own_port(compose) -> None:
    """The master's RPC port, the worker's UI, the Thrift Server's port: healthy means that process listens."""
    services = compose["services"]
    master, worker = services["spark-master"]["command"], services["spark-worker"]["command"]
    assert master[1] == "org.apache.spark.deploy.master.Master"
    assert master[master.index("--port") + 1] == "7077" and SPARK_MASTER_URL in worker
    assert worker[worker.index("--webui-port") + 1] == "8081"
    thrift = _spark_conf(services["spark-thrift"]["command"])
    ports = {"spark-master": "7077", "spark-worker": "8081", "spark-thrift": thrift["hive.server2.thrift.port"]}
    for name, port in ports.items():
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD-SHELL" and test[-1] == f"bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}'", name


def test_the_thrift_server_is_where_the_dags_spark_target_and_gate_look(compose, container_env,
                                                                        env_example, monkeypatch) -> None:
    """The Airflow services reach the Thrift Server by its service name on port 10000, with DuckDB the engine
    unless .env says spark; the server runs in UTC on the cluster, reads the lake read-only at the pipeline's
    path, and keeps its warehouse (and metastore, shuffle files) in the restricted Spark folder the task runner
    reads the marts from, all as the user that owns those folders."""
    from joinedup import paths

    services = compose["services"]
    thrift = services["spark-thrift"]
    command, conf = thrift["command"], _spark_conf(thrift["command"])
    assert command[command.index("--class") + 1] == "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
    assert command[command.index("--master") + 1] == SPARK_MASTER_URL and command[-1] == "spark-internal"
    assert conf["spark.sql.session.timeZone"] == "UTC"  # macros/lake_sources.sql refuses any other
    assert conf["hive.server2.thrift.port"] == "10000" and thrift["expose"] == ["10000"]
    assert conf["spark.hadoop.fs.permissions.umask-mode"] == "077"
    # the Airflow side: every service the same settings, DuckDB unless .env chooses spark
    for name in AIRFLOW_SERVICES:
        env = container_env(name)
        assert (env["JOINEDUP_ENGINE"], env["JOINEDUP_SPARK_HOST"], env["JOINEDUP_SPARK_PORT"]) == \
            ("duckdb", "spark-thrift", "10000"), name
    raw = services[TASK_RUNNER]["environment"]
    assert interpolate(raw["JOINEDUP_ENGINE"], {**env_example, "JOINEDUP_ENGINE": "spark"}) == "spark"
    env = container_env(TASK_RUNNER)
    for k, v in env.items():
        if k.startswith("JOINEDUP_"):
            monkeypatch.setenv(k, v)
    assert paths.engine() == "duckdb" and paths.dbt_target() == "local"
    monkeypatch.setenv("JOINEDUP_ENGINE", "spark")
    assert paths.dbt_target() == "spark"
    assert thrift["hostname"] == env["JOINEDUP_SPARK_HOST"] == "spark-thrift"
    # the warehouse the server writes is the folder the gate and publish read, the same host folder
    warehouse = conf["spark.sql.warehouse.dir"]
    assert warehouse == str(paths.spark_warehouse())
    runner, worker = services[TASK_RUNNER], services["spark-worker"]
    for svc in (thrift, worker, runner):
        m = mount_of(svc, warehouse)
        assert m and not m.read_only and m == mount_of(runner, paths.spark_work()), m
    for setting in (conf["spark.local.dir"], conf["spark.driver.extraJavaOptions"].split("=", 1)[1],
                    conf["spark.hadoop.javax.jdo.option.ConnectionURL"].split("databaseName=")[1].split(";")[0],
                    worker["environment"]["SPARK_WORKER_DIR"], worker["environment"]["SPARK_LOCAL_DIRS"]):
        assert PurePosixPath(str(paths.spark_work())) in PurePosixPath(setting).parents, setting
    # the lake: read-only, at the pipeline's own path, the task runner's host folder
    lake = mount_of(runner, paths.lake_root())
    for svc in (thrift, worker):
        m = mount_of(svc, paths.lake_root())
        assert m and m.read_only and m.target == lake.target and m.source == lake.source
        assert svc["user"] == runner["user"]  # the owner of the 0700 lake and Spark folders
