"""Every stored hash of an identifier is keyed, and the key can be rotated: the linkage state's identifier
hashes resist a dictionary attack, a rotated key is refused until `relink` rebuilds the state under it, and
after that every published pseudonym is re-keyed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from joinedup.identity.link_step import run_link_step
from joinedup.identity.relink import relink
from joinedup.identity.store import IDENTITY_DB
from linkage.cluster import identifier_hash
from linkage.phones import to_e164
from linkage.state import StateKeyError
from tests.conftest import PIPELINE_KEY

pytestmark = pytest.mark.slow
NEW_KEY = b"rotated-pseudonym-key-fedcba9876543210"


def _dictionary(register: Path) -> dict[str, list[str]]:
    """What an attacker holds: every register phone (E.164) and e-mail, as linkage standardises them."""
    reg = pd.read_csv(register, dtype=str)
    phones = sorted({p for p in (to_e164(v) for v in reg["phone"].dropna()) if p})
    emails = sorted({e.strip().lower() for e in reg["email"].dropna()})
    return {"phone": phones, "email": emails}


def _stored(identity: Path) -> set[str]:
    return set(pd.read_parquet(identity / "linkage" / "identifiers.parquet")["key_hash"])


def test_identifier_hashes_are_keyed_and_the_key_rotates(pipeline, tmp_path: Path) -> None:
    paths, sim, _ = pipeline
    lake, identity = tmp_path / "lake", tmp_path / "identity"
    shutil.copytree(paths.lake, lake)
    shutil.copytree(paths.identity, identity)
    register = sim / "register" / "citizens.csv"
    words = _dictionary(register)

    stored = _stored(identity)
    unkeyed = {hashlib.sha256(f"{k}:{v}".encode()).hexdigest()[:20] for k, vs in words.items() for v in vs}
    assert not stored & unkeyed  # the attack that reversed 5,994 of 6,067 phone hashes finds nothing
    keyed = {identifier_hash(k, v, PIPELINE_KEY.encode()) for k, vs in words.items() for v in vs}
    assert len(stored & keyed) > 100  # the hashes are of these values: only the key protects them

    with pytest.raises(StateKeyError, match="relink"):
        run_link_step(lake, identity, register, NEW_KEY)  # a rotated key never half-matches the old hashes

    with duckdb.connect(str(identity / IDENTITY_DB), read_only=True) as con:
        before = con.execute("select person_id, person_key from person_keys").df()
    done = relink(lake, identity, register, NEW_KEY)
    assert done.contacts == len(pd.read_parquet(lake / "linked" / "contacts.parquet"))

    rotated = _stored(identity)
    assert not rotated & keyed and len(rotated & {identifier_hash(k, v, NEW_KEY) for k, vs in words.items()
                                                   for v in vs}) > 100
    with duckdb.connect(str(identity / IDENTITY_DB), read_only=True) as con:
        after = con.execute("select person_id, person_key from person_keys").df()
    both = before.merge(after, on="person_id", suffixes=("_old", "_new"))
    assert len(both) > 100 and (both["person_key_old"] != both["person_key_new"]).all()  # every pseudonym re-keyed
    again = run_link_step(lake, identity, register, NEW_KEY)
    assert again.new_contacts == 0
