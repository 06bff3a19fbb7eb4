"""The incremental publish (issue 20's daily run): the next analytics file starts as a copy of the last one, the
person-keyed facts get only the changed persons' rows replaced, and the copy is audited against the warehouse
before the rename. On a copy of the session pipeline's warehouse, through publish_analytics (what the journeys
DAG's publish task calls).

A person is "changed" as the dbt build marks it (joinedup.publish.changes): its state in
intermediate.int_contacts__state differs from the state the last publish recorded. The test changes that table
directly beside the person's rebuilt row, as an incremental build leaves them.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from joinedup.publish.publish import PUBLISHED_CONTACTS, PUBLISHED_STATE, publish_analytics

pytestmark = pytest.mark.slow


def _tables(db: Path, schema: str = "main") -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = ? "
                                           "order by 1", [schema]).fetchall()]
        return {n: con.execute(f"select * from {schema}.{n} order by all").df() for n in names}


def _assert_published(analytics: Path, warehouse: Path) -> None:
    published, built = _tables(analytics), _tables(warehouse, "marts")
    assert published.keys() == built.keys()
    for name in built:
        pd.testing.assert_frame_equal(published[name], built[name], obj=name)


@pytest.fixture
def warehouse(pipeline, tmp_path: Path) -> Path:
    paths, _, _ = pipeline
    folder = tmp_path / "warehouse"
    folder.mkdir(mode=0o700)
    shutil.copy(paths.warehouse, folder / paths.warehouse.name)
    return folder / paths.warehouse.name


def _rebuild(warehouse: Path, offset: int) -> str:
    """What an incremental build leaves for one person: their contacts' state moved on (its summed row hashes) and their
    rows rebuilt (here, one value of one of their contacts changed within its valid range)."""
    with duckdb.connect(str(warehouse)) as con:
        person = con.execute("select person_key from marts.fct_contacts group by person_key order by person_key "
                             "limit 1 offset ?", [offset]).fetchone()[0]
        con.execute("update intermediate.int_contacts__state set state_hash = state_hash + 1 where person_key = ?",
                    [person])
        con.execute("update marts.fct_contacts set cost_gbp = 42.5 where person_key = ?", [person])
    return person


def test_the_next_publish_replaces_only_changed_persons_rows(warehouse: Path, tmp_path: Path) -> None:
    analytics = tmp_path / "analytics" / "joinedup_analytics.duckdb"
    first = publish_analytics(warehouse, analytics)
    assert not first.incremental  # nothing published before: in full
    for name in (PUBLISHED_STATE, PUBLISHED_CONTACTS):  # beside the restricted warehouse, owner-only
        assert stat.S_IMODE((warehouse.parent / name).stat().st_mode) == 0o600
    _assert_published(analytics, warehouse)

    again = publish_analytics(warehouse, analytics)
    assert again.incremental and again.persons_replaced == 0
    assert again.tables == first.tables
    _assert_published(analytics, warehouse)

    _rebuild(warehouse, 0)
    _rebuild(warehouse, 1)
    changed = publish_analytics(warehouse, analytics)
    assert changed.incremental and changed.persons_replaced == 2
    _assert_published(analytics, warehouse)
    assert not [p for p in analytics.parent.iterdir() if p.name != analytics.name]  # no litter


def test_a_difference_the_changes_do_not_explain_publishes_in_full(warehouse: Path, tmp_path: Path) -> None:
    """The audit before the rename: a row that differs outside the changed persons (here edited behind the
    build's back) must not leave the published file stale; the file is rebuilt in full instead."""
    analytics = tmp_path / "analytics" / "joinedup_analytics.duckdb"
    publish_analytics(warehouse, analytics)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.fct_contacts set cost_gbp = 43.5 where contact_key = "
                    "(select max(contact_key) from marts.fct_contacts)")
    result = publish_analytics(warehouse, analytics)
    assert not result.incremental
    _assert_published(analytics, warehouse)


def test_a_replaced_published_file_is_published_in_full(warehouse: Path, tmp_path: Path) -> None:
    analytics = tmp_path / "analytics" / "joinedup_analytics.duckdb"
    publish_analytics(warehouse, analytics)
    os.utime(analytics)  # not the file the last publish wrote (a restore, a copy by hand)
    assert not publish_analytics(warehouse, analytics).incremental
    assert publish_analytics(warehouse, analytics).incremental
    assert not publish_analytics(warehouse, analytics, incremental=False).incremental
    _assert_published(analytics, warehouse)
