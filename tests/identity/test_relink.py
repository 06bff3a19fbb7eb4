"""`joinedup relink` re-decides the stored contacts under changed settings, audits what changed, keeps review
decisions, and changes nothing when run again under the same settings. Run as a user would: the console
script, on a copy of the test pipeline's lake and identity store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from joinedup.identity.store import IDENTITY_DB
from linkage.review import import_decisions
from tests.conftest import PIPELINE_KEY

pytestmark = pytest.mark.slow


def _relink(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(Path(sys.executable).with_name("joinedup")), "relink", *args], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _links(identity: Path) -> pd.DataFrame:
    with duckdb.connect(str(identity / IDENTITY_DB), read_only=True) as con:
        return con.execute("select contact_id, person_id, citizen_id, decision from contact_links").df() \
            .set_index("contact_id").sort_index()


def test_relink_applies_a_one_line_threshold_change_and_audits_it(pipeline, tmp_path: Path) -> None:
    paths, sim, _ = pipeline
    lake, identity = tmp_path / "lake", tmp_path / "identity"
    shutil.copytree(paths.lake, lake)
    shutil.copytree(paths.identity, identity)
    env = {**os.environ, "JOINEDUP_LAKE": str(lake), "JOINEDUP_IDENTITY": str(identity),
           "JOINEDUP_REGISTER": str(sim / "register" / "citizens.csv"), "JOINEDUP_PSEUDONYM_KEY": PIPELINE_KEY}
    before = _links(identity)
    scored = before[(before["decision"] == "matched")]
    # a caseworker accepted one contact in review: no setting may undo that
    review = before[before["decision"] == "review"].head(1)
    with duckdb.connect(str(identity / IDENTITY_DB), read_only=True) as con:
        candidate = con.execute("select json_extract_string(explanation, '$.candidate') from contact_links "
                                "where contact_id = ?", [review.index[0]]).fetchone()[0]
    import_decisions(pd.DataFrame({"contact_id": review.index, "citizen_id": [candidate], "decision": ["accept"]}),
                     identity / "linkage", reviewer="caseworker-1")

    strict = tmp_path / "strict.yml"
    strict.write_text("thresholds: {auto: 0.9999}\n")  # the one line
    said = _relink(env, "--settings", str(strict))
    after = _links(identity)
    assert len(after) == len(before) and "changed" in said
    demoted = scored.index[(after.loc[scored.index, "decision"] != "matched").to_numpy()]
    assert len(demoted) > 0  # fewer automatic links under a stricter threshold
    assert after.at[review.index[0], "decision"] == "matched"  # the decision is respected
    assert after.at[review.index[0], "citizen_id"] == candidate
    with duckdb.connect(str(identity / IDENTITY_DB), read_only=True) as con:
        audit = con.execute("select * from relink_audit").df()
        settings_json, = con.execute("select settings_json from relink_settings").fetchone()
    was = before.reindex(after.index)
    changed = after.index[~(was.eq(after) | (was.isna() & after.isna())).all(axis=1)]
    assert set(audit["contact_id"]) == set(changed)  # exactly the contacts that changed, each once
    assert set(demoted) <= set(changed) and review.index[0] in set(changed) and audit["contact_id"].is_unique
    assert (audit.set_index("contact_id").loc[demoted, "decision_before"] == "matched").all()
    assert '"auto":0.9999' in settings_json.replace(" ", "")
    assert not (identity / ".relink").exists() and not (identity / ".relink-old").exists()

    # again, under the same settings: nothing changes, and the audit says so
    _relink(env, "--settings", str(strict))
    pd.testing.assert_frame_equal(_links(identity), after)
    with duckdb.connect(str(identity / IDENTITY_DB), read_only=True) as con:
        runs = con.execute("select count(distinct relinked_at), count(*) from relink_audit").fetchone()
    assert runs == (1, len(audit))
