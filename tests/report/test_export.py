"""`joinedup export-aggregates` on the test pipeline's analytics file: only the aggregate marts, no keys or
row-level data, nothing finer than month / weekday / hour, no count below k, and every value the mart's own
where it is not suppressed."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from joinedup.cli import main
from joinedup.report.disclosure import SECONDARY
from joinedup.report.export import AGGREGATES

pytestmark = pytest.mark.slow

K = 5
FORBIDDEN = {"person_key", "contact_key", "journey_id", "switch_id", "from_contact_key", "to_contact_key",
             "occurred_at_utc", "occurred_at_local", "first_response_at_utc", "resolved_at_utc", "started_at_utc",
             "last_contact_at_utc", "occurred_local_date", "occurred_iso_week"}


@pytest.fixture(scope="module")
def exported(pipeline, tmp_path_factory) -> dict[int, Path]:
    paths, _, _ = pipeline
    out = {}
    for k in (K, 1):
        folder = tmp_path_factory.mktemp(f"aggregates-k{k}")
        assert main(["export-aggregates", "--analytics", str(paths.analytics), "--out", str(folder),
                     "--min-cell", str(k)]) == 0
        out[k] = folder
    return out


def _read(folder: Path, mart: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{mart}.csv", dtype=str, keep_default_na=False)


def test_the_export_holds_only_the_aggregate_marts_at_their_grain(exported: dict[int, Path]) -> None:
    folder = exported[K]
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{a.mart}.csv" for a in AGGREGATES] + ["README.txt"])
    assert f"counts under {K} shown as <{K}" in (folder / "README.txt").read_text(encoding="utf-8")
    for agg in AGGREGATES:
        table = _read(folder, agg.mart)
        assert len(table) > 0, agg.mart
        assert not set(table.columns) & FORBIDDEN and not any(c.endswith(("_key", "_id", "_at", "_at_utc", "_at_local", "_date")) for c in table.columns)
        for column in table.columns:
            if column.endswith("month"):
                assert table[column].str.fullmatch(r"\d{4}-\d{2}").all(), (agg.mart, column)
            else:  # no timestamp or date anywhere else
                assert not table[column].str.contains(r"\d{4}-\d{2}-\d{2}").any(), (agg.mart, column)


def test_no_count_below_k_and_suppressed_cells_are_marked(exported: dict[int, Path]) -> None:
    marked = 0
    for agg in AGGREGATES:
        table = _read(exported[K], agg.mart)
        for count in agg.counts:
            values = table[count]
            hidden = values.isin([f"<{K}", SECONDARY])
            marked += int((values == f"<{K}").sum())
            exact = values[~hidden].astype(int)
            assert ((exact == 0) | (exact >= K)).all(), (agg.mart, count, sorted(set(exact[exact < K])))
            for derived in agg.counts[count]:  # a figure computed from a suppressed count is empty
                assert (table.loc[hidden, derived] == "").all(), (agg.mart, derived)
    assert marked >= 10  # the test data has small cells: this test is not vacuous


def test_values_equal_the_marts_where_not_suppressed(pipeline, exported: dict[int, Path]) -> None:
    paths, _, _ = pipeline
    small = 0
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        for agg in AGGREGATES:
            mart = con.execute(f"select * from {agg.mart} order by all").df()
            for column in agg.dimensions:
                if column.endswith("month"):
                    mart[column] = mart[column].dt.strftime("%Y-%m")
            for k, folder in exported.items():
                table = _read(folder, agg.mart)
                assert len(table) == len(mart), agg.mart  # one row per mart row, none dropped or added
                keys = mart[list(agg.dimensions)].astype(str).replace({"None": "", "nan": "", "<NA>": ""})
                joined = keys.merge(table, on=list(agg.dimensions), suffixes=("", "_export"), validate="one_to_one")
                assert len(joined) == len(mart), agg.mart
                for column in [c for c in mart.columns if c not in agg.dimensions]:
                    shown = joined[column]
                    kept = (shown != "") & ~shown.str.startswith("<") & (shown != SECONDARY)
                    if k == 1:  # k = 1: every value, exactly
                        assert (kept == mart[column].notna()).all(), (agg.mart, column)
                    pd.testing.assert_series_equal(
                        pd.to_numeric(shown[kept]), pd.to_numeric(mart.set_index(joined.index)[column][kept]),
                        check_names=False, rtol=1e-9, obj=f"{agg.mart}.{column}")
                    if k == 1 and column in agg.counts:
                        small += int(((pd.to_numeric(shown) > 0) & (pd.to_numeric(shown) < K)).sum())
    assert small >= 10  # with k = 1 the small counts are there, exactly


def test_a_column_nobody_classified_stops_the_export(pipeline, tmp_path: Path, capsys) -> None:
    paths, _, _ = pipeline
    copy = tmp_path / "analytics.duckdb"
    shutil.copy(paths.analytics, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("alter table mart_out_of_hours add column person_key varchar")
    capsys.readouterr()
    assert main(["export-aggregates", "--analytics", str(copy), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "person_key" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "mart_out_of_hours.csv").exists()


def test_user_mistakes_are_one_line_and_exit_two(pipeline, tmp_path: Path, capsys, monkeypatch) -> None:
    paths, _, _ = pipeline
    capsys.readouterr()
    assert main(["export-aggregates", "--analytics", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path)]) == 2
    assert main(["export-aggregates", "--analytics", str(paths.analytics), "--out", str(tmp_path),
                 "--min-cell", "0"]) == 2
    monkeypatch.setenv("JOINEDUP_REPORT_MIN_CELL", "five")
    assert main(["export-aggregates", "--analytics", str(paths.analytics), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "JOINEDUP_REPORT_MIN_CELL" in err[-1]
