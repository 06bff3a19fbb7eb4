"""Linking in a fresh interpreter, with its result returned as a value.

The linker forks worker processes. Forking an Airflow task process (with DuckDB, Arrow and Airflow threads
about) can copy a lock some thread holds and hang a worker, as a council-year run once did; so linking runs in
a spawned process whose only threads are its own, and hands its LinkStats back through the executor. The
inputs and outputs it names are files in the restricted identity store.
"""

from __future__ import annotations

import multiprocessing
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from joinedup.identity.store import LINKS_COLUMNS, LINKS_SCHEMA
from joinedup.review.apply import apply_in_state
from linkage.io import private_file
from linkage.pipeline import LinkStats, link
from linkage.prepare import PreparedRegister
from linkage.register_cache import load_prepared_register
from linkage.settings import LinkSettings


def _frame(path: Path) -> pd.DataFrame:
    df = pq.read_table(path).to_pandas()
    return df.astype(object).where(df.notna(), None)


def apply_decisions(register: PreparedRegister, folder: Path, state_dir: Path, settings: LinkSettings,
                    key: bytes) -> None:
    """The link step's first pass (joinedup.review.apply): inputs and outputs are Parquet files in `folder`."""
    done = apply_in_state(register, _frame(folder / "decisions.parquet"), _frame(folder / "contacts.parquet"),
                          _frame(folder / "links_now.parquet"), _frame(folder / "earlier_changes.parquet"),
                          state_dir, settings, key)
    for name, frame in (("applied", done.applied), ("changes", done.changes), ("links", done.links)):
        pq.write_table(pa.Table.from_pandas(frame.astype(object).where(frame.notna(), None), preserve_index=False),
                       private_file(folder / f"{name}.out.parquet"))


def link_new_contacts(register_path: Path, new_path: Path, state_dir: Path, out_path: Path,
                      chunk_size: int, settings: LinkSettings, key: bytes, decided: Path | None = None) -> LinkStats:
    """In the linking process: apply the caseworkers' pending decisions (when `decided` names their folder), then
    link `new_path` chunk by chunk (each incrementally, against what the store holds after the previous chunk)
    and write the fresh links to `out_path`."""
    pa.set_cpu_count(1)  # no Arrow threads alive when the linker forks its workers
    pa.set_io_thread_count(1)
    register = load_prepared_register(register_path, state_dir, settings)
    if decided is not None:
        apply_decisions(register, decided, state_dir, settings, key)
    stats = LinkStats()
    parts = [LINKS_SCHEMA.empty_table()]
    source = pq.ParquetFile(new_path)
    for batch in source.iter_batches(batch_size=chunk_size, use_threads=False):
        chunk = batch.to_pandas(use_threads=False)
        parts.append(_links_table(link(register, chunk.astype(object).where(chunk.notna(), None),
                                       state_dir=state_dir, stats=stats, settings=settings, identifier_key=key)))
    stats.contacts = source.metadata.num_rows
    pq.write_table(pa.concat_tables(parts), private_file(out_path))  # links hold PII: owner-only
    return stats


def _links_table(linked: pd.DataFrame) -> pa.Table:
    """The linker's rows as the identity store's links (LINKS_SCHEMA)."""
    frame = linked[list(LINKS_COLUMNS)].astype({"match_probability": float, "match_weight": float})
    return pa.Table.from_pandas(frame, schema=LINKS_SCHEMA, preserve_index=False)


def link_on_spark(register_path: Path, new_path: Path, state_dir: Path, out_path: Path, chunk_size: int,
                  settings: LinkSettings, key: bytes, decided: Path | None = None, *, work: Path) -> LinkStats:
    """The Spark engine's runner (JOINEDUP_ENGINE=spark): link_new_contacts' inputs and outputs, with blocking and
    scoring on Spark (linkage.spark.incremental) and the state settled chunk by chunk in this process, so the
    store ends as the DuckDB engine leaves it.

    In this process, not a spawned one: nothing here forks (Spark's workers are the JVM's processes), and the
    session is the process's own (joinedup.engine.spark.spark_session, its work folder `work` a restricted zone),
    kept for the process's later Spark work. The caseworkers' pending decisions are applied first, as on the
    DuckDB engine, by the same pandas pass: it relinks only the contacts decided on. A run without new contacts
    starts no JVM."""
    from joinedup.engine.spark import spark_session
    from linkage.spark.incremental import link_incremental

    register = load_prepared_register(register_path, state_dir, settings)
    if decided is not None:
        apply_decisions(register, decided, state_dir, settings, key)
    stats = LinkStats()
    order = pq.read_table(new_path, columns=["contact_id"]).column(0).to_pylist()  # the file's order is the input order
    table = LINKS_SCHEMA.empty_table()
    if order:
        spark = spark_session(work)
        table = _links_table(link_incremental(spark, register, spark.read.parquet(str(new_path)), state_dir, key,
                                              settings=settings, order=order, chunk_size=chunk_size, stats=stats))
    stats.contacts = len(order)
    pq.write_table(table, private_file(out_path))  # links hold PII: owner-only
    return stats


@contextmanager
def _bare_main() -> Iterator[None]:
    """Spawn re-runs the parent's `__main__` in the child. Under the scheduler that is the `airflow` command,
    and a task process's environment forbids Airflow its metadata DB (Airflow 3 sets an invalid
    SQL_ALCHEMY_CONN there), so the child died importing airflow before linking anything (found by the stack
    test, tests/stack). The worker needs nothing from `__main__`: the child gets an empty one."""
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def link_in_fresh_process(register_path: Path, new_path: Path, state_dir: Path, out_path: Path,
                          chunk_size: int, settings: LinkSettings, key: bytes,
                          decided: Path | None = None) -> LinkStats:
    """`link_new_contacts` in a spawned interpreter (see the module's docstring); its exception is raised here."""
    with _bare_main(), ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(link_new_contacts, register_path, new_path, state_dir, out_path, chunk_size,
                           settings, key, decided).result()
