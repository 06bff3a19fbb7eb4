"""The restricted zones are owner-only whatever the umask: under umask 022 the real ingest and link step leave every
folder of lake/raw, lake/quarantine and the identity store 0700 and every file 0600; a folder someone loosened
makes the next run refuse, naming it; a key file others can read is refused too."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from joinedup.identity.link_step import run_link_step
from joinedup.identity.pseudonym import KEY_ENV, KEY_FILE_ENV, load_key
from joinedup.ingest.lake import clear_staging
from joinedup.ingest.pipeline import ingest, stage_day
from joinedup.simulate.run import simulate
from joinedup.zones import RestrictedZoneError
from tests.conftest import PIPELINE_KEY
from tests.ingest.bad_input import PHONE_HEADER

pytestmark = pytest.mark.slow

START, DAYS = date(2025, 3, 3), 3


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, str]:
    """Every folder and file under `root` (itself included) -> its mode in octal, for an assertion message."""
    return {str(p.relative_to(root.parent)): f"{stat.S_IMODE(p.lstat().st_mode):04o}"
            for p in [root, *sorted(root.rglob("*"))]}


def _assert_owner_only(root: Path) -> int:
    modes = _modes(root)
    wrong = {p: m for p, m in modes.items()
             if m != ("0700" if (root.parent / p).is_dir() else "0600")}
    assert wrong == {}, f"not owner-only under {root}: {wrong}"
    return sum(1 for p in modes if (root.parent / p).is_file())


def test_restricted_zones_are_owner_only_under_umask_022_and_a_loosened_one_is_refused(
        tmp_path: Path, umask_022: None) -> None:
    sim, lake, identity = tmp_path / "sim", tmp_path / "lake", tmp_path / "identity"
    simulate(sim, 300, DAYS, START, 5)
    days = [START + timedelta(days=i) for i in range(DAYS)]
    (sim / "exports" / "phone" / f"{START}" / f"cdr_{START:%Y%m%d}_late.csv").write_text(  # one row to quarantine
        f"{PHONE_HEADER}\n4000001,not a time,07700900001,01132224000,Council Tax,5,60,ANSWERED,A1,Ann,LS6 2AB,\n")
    register, key = sim / "register" / "citizens.csv", PIPELINE_KEY.encode()
    ingest(None, days, str(sim / "exports"), lake)
    run_link_step(lake, identity, register, key)

    assert _assert_owner_only(lake / "raw") >= 8 * DAYS  # a partition per channel and day
    assert _assert_owner_only(lake / "quarantine") >= 1
    files = _assert_owner_only(identity)
    for expected in ("identity.duckdb", "linkage/persons.parquet", "linkage/model.json",
                     "linkage/register.prepared/manifest.json", "linkage/register.prepared/std.arrow"):
        assert (identity / expected).is_file(), expected
    assert files >= 8
    stage_day("phone", days[0], str(sim / "exports"), lake, force=True)  # the DAG's staging files hold PII too
    assert _assert_owner_only(lake / "_staging") >= 3
    clear_staging(lake, "phone", days[0])

    # someone loosens a folder: the next run refuses and names it, before writing anything
    loose = lake / "raw" / "phone"
    loose.chmod(0o755)
    with pytest.raises(RestrictedZoneError, match=re.escape(f"{loose} is folder mode 0755")):
        ingest(["phone"], days, str(sim / "exports"), lake, force=True)
    loose.chmod(0o700)
    state = identity / "linkage"
    state.chmod(0o755)
    with pytest.raises(RestrictedZoneError, match=re.escape(f"{state} is folder mode 0755")):
        run_link_step(lake, identity, register, key)
    state.chmod(0o700)
    persons = state / "persons.parquet"
    persons.chmod(0o644)
    with pytest.raises(RestrictedZoneError, match=re.escape(f"{persons} is file mode 0644")):
        run_link_step(lake, identity, register, key)


def test_a_key_file_others_can_read_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text(PIPELINE_KEY)
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    key_file.chmod(0o644)
    with pytest.raises(RestrictedZoneError, match=re.escape(f"{key_file} is file mode 0644")):
        load_key()
    key_file.chmod(0o600)
    assert load_key() == PIPELINE_KEY.encode()
