"""Outside the restricted zones the pipeline's files hold no PII, nothing that maps a source contact to a key,
and no identifier hash a dictionary reverses: the attack of joinedup.leakcheck, run on the test pipeline.

The restricted zones: the landed exports (the simulated source systems here), the lake's raw/, quarantine/ and
_staging/, the identity store and the key. Everything else the pipeline wrote (the pseudonymous lake, the audit,
the warehouse, the analytics file, the report, dbt's target and the Airflow logs and metadata DB) is attacked.
The same attack on the restricted zones is the control: it must find what they hold, or a clean result means
nothing. bench/privacy_attack.py runs it on a `make demo` folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest

from joinedup.leakcheck import attack, check_folders, dictionary
from linkage.phones import to_e164

pytestmark = pytest.mark.slow

RESTRICTED = ("lake/raw", "lake/quarantine", "lake/_staging", "identity", "sim", ".secrets")


def _library_text() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def test_the_attack_finds_no_person_and_reverses_no_hash_outside_the_restricted_zones(pipeline) -> None:
    paths, sim, _ = pipeline
    work = paths.lake.parent
    report = check_folders([(work, RESTRICTED), (Path(os.environ["AIRFLOW_HOME"]), ())],
                           sim / "register" / "citizens.csv", paths.lake / "raw", _library_text())
    assert report.files_scanned > 20 and report.values_searched > 10_000 and report.hashes_tried > 100_000
    assert report.clean, report.summary()


def test_the_attack_finds_what_the_restricted_zones_hold(pipeline, tmp_path: Path) -> None:
    """The control: the same attack re-identifies from the raw lake and the identity store, and reverses an
    unkeyed identifier hash the way it reversed the old identifiers.parquet."""
    paths, sim, _ = pipeline
    register = sim / "register" / "citizens.csv"
    words = dictionary(register, paths.lake / "raw", _library_text())
    raw = sorted((paths.lake / "raw").rglob("*.parquet"))[0]
    found = attack([raw, paths.identity / "identity.duckdb"], words)
    assert {"contact_id"} <= set(found.pii[str(raw)])
    assert "contact_id" in found.pii[str(paths.identity / "identity.duckdb")]  # the id -> key map lives there

    reg = pd.read_csv(register, dtype=str).dropna(subset=["phone", "email"])
    reg = reg[reg["phone"].map(to_e164).notna()].head(50)
    leaked = tmp_path / "identifiers.parquet"
    phones = {hashlib.sha256(f"phone:{to_e164(p)}".encode()).hexdigest()[:20] for p in reg["phone"]}
    emails = {hashlib.md5(e.lower().encode()).hexdigest() for e in reg["email"]}
    pd.DataFrame({"key_hash": sorted(phones) + sorted(emails)}).to_parquet(leaked)
    reversed_ = attack([leaked], words).reversed_hashes[str(leaked)]
    assert reversed_ == {"phone": len(phones), "email": len(emails)} and len(phones) > 40
