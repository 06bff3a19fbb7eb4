"""The prepared-register cache is data, not code: Arrow IPC files behind a JSON manifest whose fingerprint is read
first. It gives back exactly what was prepared, never unpickles anything (a planted pickle is not run), prepares
afresh when the fingerprint differs or the cache is damaged, and is owner-only whatever the umask."""

from __future__ import annotations

import json
import os
import pickle
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkage.eval.synthetic import make_register
from linkage.prepare import PreparedRegister, prepare_register
from linkage.register_cache import (
    CACHE_DIR,
    MANIFEST,
    OLD_PICKLE,
    fingerprint,
    load_prepared,
    load_prepared_register,
)
from linkage.settings import load_settings


class _Planted:
    """Unpickling this creates `marker`: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (Path.touch, (self.marker,))


def _same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for col in [c for c in a.columns if a[c].dtype.kind == "O"]:  # None stays None and NaN stays NaN
        assert [type(v) for v in a[col]] == [type(v) for v in b[col]], col


def _same(a: PreparedRegister, b: PreparedRegister) -> None:
    _same_frame(a.std, b.std)
    _same_frame(a.keys, b.keys)
    assert list(a.multi) == list(b.multi) and list(a.tf) == list(b.tf) and list(a.fanout) == list(b.fanout)
    for name in a.multi:
        _same_frame(a.multi[name], b.multi[name])
    for x, y in [(a.tf, b.tf), (a.fanout, b.fanout)]:
        for k in x:
            assert x[k].dtype == y[k].dtype and np.array_equal(x[k], y[k], equal_nan=True), k
    assert a.max_block == b.max_block


@pytest.fixture
def register_csv(tmp_path: Path) -> Path:
    path = tmp_path / "citizens.csv"
    make_register(400, seed=3).to_csv(path, index=False)
    return path


def test_the_cache_round_trips_exactly_and_is_owner_only(register_csv: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    old = os.umask(0o022)
    try:
        first = load_prepared_register(register_csv, state)
    finally:
        os.umask(old)
    folder = state / CACHE_DIR
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    assert {"manifest.json", "std.arrow", "keys.arrow", "tf.arrow", "fanout.arrow"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes
    key = fingerprint(register_csv, load_settings().blocking.max_block)
    assert json.loads((folder / MANIFEST).read_text())["fingerprint"] == key
    cached = load_prepared(folder, key)
    assert cached is not None
    _same(first, cached)
    _same(prepare_register(pd.read_csv(register_csv, dtype=str, keep_default_na=False, na_values=[""])), cached)


def test_a_planted_pickle_is_never_loaded(register_csv: Path, tmp_path: Path) -> None:
    state, marker = tmp_path / "state", tmp_path / "pickle-was-loaded"
    state.mkdir()
    key = fingerprint(register_csv, load_settings().blocking.max_block)
    (state / OLD_PICKLE).write_bytes(pickle.dumps((key, _Planted(marker))))
    load_prepared_register(register_csv, state)
    assert not marker.exists()
    assert not (state / OLD_PICKLE).exists()  # the former cache is removed, not left to be trusted later


def test_a_stale_or_damaged_cache_is_prepared_again(register_csv: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = load_prepared_register(register_csv, state)
    folder = state / CACHE_DIR
    manifest = json.loads((folder / MANIFEST).read_text())
    key = manifest["fingerprint"]

    (folder / "std.arrow").write_bytes(b"not arrow")  # damaged, fingerprint right
    assert load_prepared(folder, key) is None
    _same(first, load_prepared_register(register_csv, state))
    assert load_prepared(folder, key) is not None  # rewritten whole

    (folder / "std.arrow").write_bytes(b"not arrow")  # the cache of another register (or code version)
    (folder / MANIFEST).write_text(json.dumps({**manifest, "fingerprint": "another register"}))
    assert load_prepared(folder, key) is None
    _same(first, load_prepared_register(register_csv, state))
    assert json.loads((folder / MANIFEST).read_text())["fingerprint"] == key
