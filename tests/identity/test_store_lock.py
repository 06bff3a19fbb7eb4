"""One writer of the identity store at a time: an erasure from the CLI waits while another writer (here the
test, as the scheduler's link step would) holds the store lock, changes nothing meanwhile, and completes once
the lock is released; the lock file is owner-only like the rest of the store."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from joinedup.identity.store import STORE_LOCK, store_lock
from tests.conftest import PIPELINE_KEY

pytestmark = pytest.mark.slow
JOINEDUP = str(Path(sys.executable).with_name("joinedup"))


def test_an_erasure_waits_for_the_writer_holding_the_store(pipeline, tmp_path: Path) -> None:
    paths, sim, _ = pipeline
    lake, identity = tmp_path / "lake", tmp_path / "identity"
    shutil.copytree(paths.lake, lake)
    shutil.copytree(paths.identity, identity)
    with duckdb.connect(str(identity / "identity.duckdb"), read_only=True) as con:
        (citizen,) = con.execute("select min(citizen_id) from contact_links where citizen_id is not null").fetchone()
    env = {**os.environ, "JOINEDUP_LAKE": str(lake), "JOINEDUP_IDENTITY": str(identity),
           "JOINEDUP_REGISTER": str(sim / "register" / "citizens.csv"), "JOINEDUP_EXPORTS": str(sim / "exports"),
           "JOINEDUP_PSEUDONYM_KEY": PIPELINE_KEY}
    store = identity / "identity.duckdb"
    before = store.stat().st_mtime_ns
    with store_lock(identity):
        mode = stat.S_IMODE((identity / STORE_LOCK).stat().st_mode)
        proc = subprocess.Popen([JOINEDUP, "erase", "--citizen", citizen, "--requested-by", "DSR-1",
                                 "--no-rebuild"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(8)  # unlocked, this erasure finished in 4.9 s end to end (console script start included)
        assert proc.poll() is None, proc.communicate()
        assert store.stat().st_mtime_ns == before
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "erased erasure-" in out and store.stat().st_mtime_ns != before
    assert mode == 0o600
