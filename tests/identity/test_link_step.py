"""The link step run day after day: the identity store gains each day's links without rewriting the history,
stays in step with the linker's state, and a re-run with nothing new changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from joinedup.identity.link_step import run_link_step
from joinedup.identity.store import IDENTITY_DB
from tests.conftest import PIPELINE_KEY

pytestmark = pytest.mark.slow


def _land(source: Path, lake: Path, keep) -> None:
    """Copy the pipeline's landed partitions (raw/<channel>/date=YYYY-MM-DD/) whose day `keep` accepts."""
    for part in sorted((source / "raw").glob("*/date=*")):
        if keep(part.name.removeprefix("date=")):
            shutil.copytree(part, lake / "raw" / part.parent.name / part.name, dirs_exist_ok=True)


def _store(identity: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(identity / IDENTITY_DB), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        return {n: con.execute(f"select * from {n} order by all").fetchall() for n in names}


def test_the_identity_store_is_updated_day_by_day_in_step_with_the_linker(pipeline, tmp_path: Path) -> None:
    paths, sim, _ = pipeline
    lake, identity = tmp_path / "lake", tmp_path / "identity"
    register = sim / "register" / "citizens.csv"
    key = PIPELINE_KEY.encode()

    _land(paths.lake, lake, lambda day: day < "2025-03-17")
    first = run_link_step(lake, identity, register, key)
    _land(paths.lake, lake, lambda day: day >= "2025-03-17")
    second = run_link_step(lake, identity, register, key)

    with duckdb.connect() as con:
        landed, = con.execute(f"select count(*) from read_parquet('{lake}/raw/*/*/*.parquet', "
                              "union_by_name = true)").fetchone()
        assert first.contacts + second.new_contacts == landed == second.contacts  # only the new days linked
        con.execute(f"attach '{identity / IDENTITY_DB}' as store (read_only)")
        links, distinct = con.execute("select count(*), count(distinct contact_id) from store.contact_links"
                                      ).fetchone()
        assert links == distinct == landed
        # every link names the person and citizen the linker's state holds now (renames included)
        out_of_step, = con.execute(f"""
            select count(*) from store.contact_links l
            join read_parquet('{identity}/linkage/persons.parquet') s using (contact_id)
            where l.person_id is distinct from s.person_id or l.citizen_id is distinct from s.citizen_id
            """).fetchone()
        assert out_of_step == 0
        published, unkeyed = con.execute(f"""
            select count(*), count(*) filter (where k.person_key is null)
            from read_parquet('{lake}/linked/contacts.parquet') c
            left join store.person_keys k using (person_key)""").fetchone()
        assert published == landed and unkeyed == 0
        assert not con.execute("select count(*) from duckdb_tables() where database_name = 'store' "
                               "and table_name in ('linkage_persons', 'linkage_identifiers')").fetchone()[0]

    before = _store(identity)
    outputs = {p: p.read_bytes() for p in sorted((lake / "linked").glob("*.parquet"))}
    again = run_link_step(lake, identity, register, key)
    assert again.new_contacts == 0
    assert _store(identity) == before
    assert {p: p.read_bytes() for p in outputs} == outputs


def _age(lake: Path) -> None:
    """Date every landed file two hours back, as if landed days ago (derive.RELAND_MARGIN_NS is one hour): the
    next run then re-reads only what lands after this."""
    import os
    import time

    then = time.time_ns() - 2 * 3600 * 10**9
    for f in (lake / "raw").glob("*/*/*.parquet"):
        os.utime(f, ns=(then, then))


def _relanded(partition: Path) -> str:
    """Rewrite one landed file with its first contact's outcome changed, as a corrected re-delivery would;
    returns that contact's id."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = sorted(partition.glob("*.parquet"))[0]
    table = pq.read_table(path)
    outcome = table.column("outcome").to_pylist()
    outcome[0] = "corrected" if outcome[0] != "corrected" else "resolved"
    table = table.set_column(table.schema.get_field_index("outcome"), "outcome",
                             pa.array(outcome, table.schema.field("outcome").type))
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return table.column("contact_id")[0].as_py()


def test_daily_outputs_are_derived_for_what_changed_and_equal_a_full_derivation(pipeline, tmp_path: Path) -> None:
    """After a first run, each run re-derives only the contacts and persons that changed, and (audit) the outputs
    equal what deriving everything gives; a re-landed day is picked up, a contact gone makes it derive all."""
    paths, sim, _ = pipeline
    lake, identity = tmp_path / "lake", tmp_path / "identity"
    register = sim / "register" / "citizens.csv"
    key = PIPELINE_KEY.encode()

    _land(paths.lake, lake, lambda day: day < "2025-03-10")
    assert not run_link_step(lake, identity, register, key, audit=True).incremental  # nothing to start from
    for first, last in (("2025-03-10", "2025-03-16"), ("2025-03-17", "2025-03-17"), ("2025-03-18", "9999")):
        _age(lake)
        _land(paths.lake, lake, lambda day, first=first, last=last: first <= day <= last)
        assert run_link_step(lake, identity, register, key, audit=True).incremental

    _age(lake)
    changed = _relanded(sorted((lake / "raw").glob("*/date=2025-03-0*"))[0])
    assert run_link_step(lake, identity, register, key, audit=True).incremental
    with duckdb.connect() as con:
        con.execute(f"attach '{identity / IDENTITY_DB}' as store (read_only)")
        outcome, = con.execute(f"""select c.outcome from read_parquet('{lake}/linked/contacts.parquet') c
                                   join store.contact_keys k using (contact_key) where k.contact_id = ?""",
                               [changed]).fetchone()
        assert outcome in ("corrected", "resolved")
        relanded, = con.execute(f"select outcome from read_parquet('{lake}/raw/*/*/*.parquet', union_by_name = true) "
                                "where contact_id = ?", [changed]).fetchone()
        assert outcome == relanded

    shutil.rmtree(sorted((lake / "raw").glob("*/date=2025-03-0*"))[0])  # as retention would
    assert not run_link_step(lake, identity, register, key, audit=True).incremental
    (identity / "derived.json").unlink()  # a run killed before it left its mark
    assert not run_link_step(lake, identity, register, key).incremental
