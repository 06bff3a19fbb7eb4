"""A Spark session configured the way joinedup needs it, local or on a cluster.

Why one builder: every Spark entry point (dbt-spark's session mode, the linkage's ``mapInPandas`` path, the quality
gate, bench/scale_out.py and the tests) must agree on the settings that change results, not only speed:
- the session time zone is UTC, so naive lake timestamps mean the same instant on both engines;
- the workers run this interpreter (``PYSPARK_PYTHON``), or they lack pyarrow and our own modules;
- the warehouse and the Derby metastore live under the run's own directory, never in the CWD
  (../shared/notes/stack-pitfalls.md, section Spark).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pyspark is the optional `spark` group
    from pyspark.sql import DataFrame, SparkSession


def spark_conf(work: Path, *, master: str = "local[2]", shuffle_partitions: int = 4,
               hive: bool = False) -> dict[str, str]:
    """The session's settings. ``hive`` keeps tables between processes (an embedded Derby metastore under
    ``work``); without it the catalog is in memory and tables vanish with the session (fastest for tests)."""
    work = Path(work).resolve()
    conf = {
        "spark.master": master,
        "spark.app.name": "joinedup",
        "spark.ui.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.warehouse.dir": str(work / "warehouse"),
        # shuffle and spill files: what the linker shuffles is contacts and register rows (PII), so they stay
        # under the run's own owner-only folder, not in /tmp
        "spark.local.dir": str(work / "local"),
        # Hadoop's file system sets each file's mode itself (from this, default 022), ignoring the process umask
        "spark.hadoop.fs.permissions.umask-mode": "077",
        # C1 only (TieredStopAtLevel=1) starts the JVM faster, but also shrinks the code cache from 240 MB to 48 MB,
        # which a whole dbt build's generated code fills: the JVM then fails linking a method and Spark stops its
        # context mid-build ("Try increasing the code cache size"). Keep the usual size.
        "spark.driver.extraJavaOptions": (f"-Dderby.system.home={work / 'derby'} -XX:TieredStopAtLevel=1 "
                                          "-XX:ReservedCodeCacheSize=240m"),
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # Spark 4 turns ANSI mode on; dbt-spark forces it off in every session it joins (its credentials set
        # it), so a test order in which dbt ran first would change what the other entry points compute. Off
        # everywhere, from the start.
        "spark.sql.ansi.enabled": "false",
    }
    if hive:
        conf["spark.sql.catalogImplementation"] = "hive"
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={work / 'metastore_db'};create=true")
    else:
        conf["spark.sql.catalogImplementation"] = "in-memory"
    return conf


WORK_ENV = "JOINEDUP_SPARK_WORK"


def work_folder(default: Path) -> Path:
    """Spark's work folder: ``JOINEDUP_SPARK_WORK`` when set (dbt's Spark profile reads the same variable), else
    `default` (the link step passes a folder inside the restricted identity store). Either way a restricted zone,
    which spark_session creates owner-only."""
    return Path(os.environ[WORK_ENV]) if os.environ.get(WORK_ENV) else Path(default)


def prepare_environment() -> None:
    """Workers and the driver run this interpreter; local mode binds to the loopback address."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def spark_session(work: Path, **kwargs) -> SparkSession:
    """Get or create the process's session with :func:`spark_conf`. Settings that only apply when the JVM starts
    (the master, the catalog, driver options) are ignored if a session already runs in this process.

    The linker hands Spark PII (the register, raw contacts), which it shuffles, spills and checkpoints under
    ``work``. So ``work`` is a restricted zone: created owner-only, and the JVM (with the Python workers it
    forks) starts under umask 077, so everything it writes there is 0700/0600 whatever the caller's umask."""
    from pyspark.sql import SparkSession

    from joinedup.zones import check_restricted, private_dir

    work = Path(work).resolve()
    check_restricted(work)
    private_dir(work / "local", root=work)  # both owner-only when created here (without root, work came out 0755)
    prepare_environment()
    builder = SparkSession.builder
    for k, v in spark_conf(work, **kwargs).items():
        builder = builder.config(k, v)
    if kwargs.get("hive"):
        builder = builder.enableHiveSupport()
    previous = os.umask(0o077)  # inherited by the JVM if this call starts it; this process's umask comes back
    try:
        return builder.getOrCreate()
    finally:
        os.umask(previous)


def warehouse_tables(warehouse: Path, schema: str = "marts") -> dict[str, Path]:
    """`{"<schema>.<table>": folder}` for every table the Spark build left in `warehouse` (its
    spark.sql.warehouse.dir): Spark keeps a managed table's Parquet under `<schema>.db/<table>/`, partitions as
    `<column>=<value>/` folders. Read from the folders, not a catalog, because the catalog is not there to ask
    where the gate and publish run: `spark_ci`'s is in memory and gone with the dbt process, and the Thrift
    Server's Derby metastore admits one JVM. Raises when the schema folder is missing (nothing was built)."""
    root = Path(warehouse) / f"{schema}.db"
    if not root.is_dir():
        raise FileNotFoundError(f"no Spark tables of schema {schema!r} under {warehouse} (JOINEDUP_SPARK_WAREHOUSE): "
                                "has the dbt build on Spark run?")
    return {f"{schema}.{p.name}": p for p in sorted(root.iterdir())
            if p.is_dir() and not p.name.startswith(("_", ".")) and next(p.rglob("*.parquet"), None) is not None}


def warehouse_marts(spark: SparkSession, warehouse: Path) -> dict[str, DataFrame]:
    """The marts as Spark DataFrames read from their Parquet folders (`warehouse_tables`), keyed as the gate's
    suites name them (`marts.fct_contacts`). Partition columns come back typed (a month as a date) and last, as
    the table has them."""
    return {name: spark.read.parquet(str(folder)) for name, folder in warehouse_tables(warehouse).items()}
