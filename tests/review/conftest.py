"""The review UI's tests run the real app (FastAPI's TestClient, or `joinedup review serve` for the browser) on
a copy of the session pipeline's identity store (tests/conftest.py), so nothing they decide reaches the fixture
other tests read."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from starlette.testclient import TestClient

from joinedup.review.app import ReviewConfig, create_app
from joinedup.review.auth import LoginThrottle, add_user, session_secret, users_path
from joinedup.zones import make_private, private_dir

USER, PASSWORD = "casey", "a caseworker's long passphrase"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Stack:
    """A copy of the pipeline's lake and identity store, with the register they were linked against."""

    lake: Path
    identity: Path
    register: Path


@pytest.fixture
def stack(pipeline, tmp_path: Path) -> Stack:
    paths, _, _ = pipeline
    lake, identity = tmp_path / "lake", tmp_path / "identity"
    shutil.copytree(paths.identity, identity, ignore=shutil.ignore_patterns(".writer.lock", "_work"))
    shutil.copytree(paths.lake, lake)
    return Stack(lake, identity, paths.register)


@pytest.fixture
def identity_copy(pipeline, tmp_path: Path) -> Path:
    """The pipeline's identity folder alone (the pages read nothing else)."""
    paths, _, _ = pipeline
    identity = tmp_path / "identity"
    shutil.copytree(paths.identity, identity, ignore=shutil.ignore_patterns(".writer.lock", "_work"))
    return identity


HOUSEHOLD_CONTACT = "forms:F-9000001"


def add_household_contact(stack: Stack) -> tuple[str, str]:
    """Land a web form from someone else in a register citizen's household: the citizen's surname, address,
    postcode and email, another forename. Returns (contact, citizen).

    The linker refuses the shared email as an edge (a stated forename clearly differs: another member of the
    household) and, as the rest agrees, sends the contact to review with that citizen as the candidate: a merge
    protection refusal through an identifier, as households make them. Landed the day after the simulated
    period, in a partition of its own, so no landed day is changed."""
    reg = pd.read_csv(stack.register, dtype=str)
    citizen = reg.dropna(subset=["email", "family_name", "postcode", "address_line"]).iloc[0]
    template = sorted((stack.lake / "raw" / "web_form").glob("*/*.parquet"))[0]
    folder = private_dir(stack.lake / "raw" / "web_form" / "date=2025-03-31", root=stack.lake / "raw")
    with duckdb.connect() as con:
        row = con.execute("select * exclude (date) from read_parquet(?) limit 1", [str(template)]).df()
        row.loc[0, ["contact_id", "source_row", "given_name", "family_name", "postcode", "address_line", "email",
                    "phone", "date_of_birth", "full_name"]] = [
            HOUSEHOLD_CONTACT, 9_000_001, "Zebedee", citizen["family_name"], citizen["postcode"],
            citizen["address_line"], citizen["email"], None, None, None]
        row["occurred_at"] = pd.Timestamp("2025-03-31 10:00")
        con.register("row_df", row)
        con.execute(f"""copy (select * replace (cast(occurred_at as timestamp) as occurred_at) from row_df)
                        to '{folder / "part-0.parquet"}' (format parquet)""")
    make_private(folder / "part-0.parquet")
    return HOUSEHOLD_CONTACT, citizen["citizen_id"]


def client_for(identity: Path, throttle: LoginThrottle | None = None) -> TestClient:
    """The review app over `identity` with the user USER, as `joinedup review serve` builds it."""
    if not users_path(identity).exists():
        add_user(identity, USER, PASSWORD)
    app = create_app(ReviewConfig(identity, users_path(identity), session_secret(identity), secure_cookie=False,
                                  throttle=throttle))
    return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)


def csrf_of(client: TestClient, path: str = "/login") -> str:
    m = CSRF.search(client.get(path).text)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def login(client: TestClient, name: str = USER, password: str = PASSWORD):
    return client.post("/login", data={"username": name, "password": password, "csrf_token": csrf_of(client)})


@pytest.fixture
def logged_in(identity_copy: Path) -> TestClient:
    client = client_for(identity_copy)
    assert login(client).status_code == 303
    return client
