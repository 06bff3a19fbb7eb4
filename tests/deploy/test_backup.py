"""docker/backup.sh, run for real on a temporary data folder: one encrypted archive per zone, each under its own
passphrase, the key in neither, and a restore that gives back exactly that zone with its modes."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "docker" / "backup.sh"
PII = b"Betty Boo, 1952-04-01, 07700 900123"
PSEUDO = b"person_key=3f9a0c"
KEY = "a-pseudonymisation-key-0123456789"

RESTRICTED_FILES = ["exports/phone/2025-03-03/cdr.csv", "register/citizens.csv", "identity/identity.duckdb",
                    "lake/raw/phone/date=2025-03-03/part.parquet", "lake/quarantine/phone/q.parquet",
                    "lake/_audit/phone/date=2025-03-03/loads.jsonl"]
PSEUDONYMOUS_FILES = ["lake/linked/persons.parquet", "config/channels.yml"]
REBUILT_FILES = ["warehouse/joinedup.duckdb", "analytics/joinedup_analytics.duckdb", "reports/index.html"]


def _run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    data = tmp_path / "data"
    for rel in RESTRICTED_FILES:
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(PII)
    for rel in [*PSEUDONYMOUS_FILES, *REBUILT_FILES]:
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(PSEUDO)
    (data / "identity").chmod(0o700)
    (data / "identity" / "identity.duckdb").chmod(0o600)
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    paths = {"data": data, "out": tmp_path / "backups", "key": secrets / "pseudonym.key",
             "rpass": secrets / "restricted.pass", "ppass": secrets / "pseudonymous.pass"}
    for name, text in (("key", KEY), ("rpass", "restricted passphrase 1"), ("ppass", "pseudonymous passphrase 2")):
        paths[name].write_text(text)
        paths[name].chmod(0o600)
    return paths


def _backup(s: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    return _run("backup", s["data"], s["out"], s["rpass"], s["ppass"], env={"JOINEDUP_PSEUDONYM_KEY_PATH": str(s["key"])})


def _members(archive: Path, passfile: Path, tmp: Path) -> list[str]:
    plain = tmp / (archive.name + ".tgz")
    subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-iter", "600000", "-md", "sha256",
                    "-pass", f"file:{passfile}", "-in", str(archive), "-out", str(plain)], check=True)
    with tarfile.open(plain) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
        contents = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert KEY.encode() not in contents  # the key never travels with the data
    return names


def test_each_zone_is_encrypted_apart_and_the_key_in_neither(setup: dict[str, Path], tmp_path: Path) -> None:
    result = _backup(setup)
    assert result.returncode == 0, result.stderr
    restricted, = setup["out"].glob("joinedup-restricted-*.tar.gz.enc")
    pseudonymous, = setup["out"].glob("joinedup-pseudonymous-*.tar.gz.enc")
    assert sorted(p.name for p in setup["out"].iterdir()) == sorted(
        [restricted.name, restricted.name + ".sha256", pseudonymous.name, pseudonymous.name + ".sha256"])
    for archive in (restricted, pseudonymous):
        raw = archive.read_bytes()
        assert raw.startswith(b"Salted__") and PII not in raw and KEY.encode() not in raw
        assert archive.stat().st_mode & 0o077 == 0
    assert _members(restricted, setup["rpass"], tmp_path) == sorted(RESTRICTED_FILES)
    assert _members(pseudonymous, setup["ppass"], tmp_path) == sorted(PSEUDONYMOUS_FILES)


def test_restore_gives_back_the_zone_with_its_modes_and_only_with_its_passphrase(setup: dict[str, Path],
                                                                                  tmp_path: Path) -> None:
    assert _backup(setup).returncode == 0
    restricted, = setup["out"].glob("joinedup-restricted-*.tar.gz.enc")
    target = tmp_path / "restored"
    wrong = _run("restore", restricted, target, setup["ppass"])
    assert wrong.returncode != 0 and not any(target.rglob("*.csv"))  # the other zone's passphrase opens nothing
    ok = _run("restore", restricted, target, setup["rpass"])
    assert ok.returncode == 0, ok.stderr
    for rel in RESTRICTED_FILES:
        assert (target / rel).read_bytes() == PII
    assert (target / "identity").stat().st_mode & 0o777 == 0o700
    assert (target / "identity" / "identity.duckdb").stat().st_mode & 0o777 == 0o600
    assert not (target / "lake" / "linked").exists()


def test_a_damaged_archive_is_not_restored(setup: dict[str, Path], tmp_path: Path) -> None:
    assert _backup(setup).returncode == 0
    archive, = setup["out"].glob("joinedup-pseudonymous-*.tar.gz.enc")
    data = bytearray(archive.read_bytes())
    data[-5] ^= 0xFF
    archive.write_bytes(bytes(data))
    result = _run("restore", archive, tmp_path / "restored", setup["ppass"])
    assert result.returncode == 2 and ".sha256" in result.stderr
    assert not (tmp_path / "restored").exists()


def test_refuses_a_key_inside_the_data_and_one_passphrase_for_both_zones(setup: dict[str, Path]) -> None:
    same = _run("backup", setup["data"], setup["out"], setup["rpass"], setup["rpass"])
    assert same.returncode == 2 and "different passphrase" in same.stderr
    inside = setup["data"] / "pseudonym.key"
    inside.write_text(KEY)
    result = _run("backup", setup["data"], setup["out"], setup["rpass"], setup["ppass"],
                  env={"JOINEDUP_PSEUDONYM_KEY_PATH": str(inside)})
    assert result.returncode == 2 and "never be archived" in result.stderr
    setup["rpass"].chmod(0o644)
    loose = _run("backup", setup["data"], setup["out"], setup["rpass"], setup["ppass"])
    assert loose.returncode == 2 and "chmod 600" in loose.stderr
    assert not setup["out"].exists()
