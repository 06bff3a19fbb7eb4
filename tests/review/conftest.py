"""The review UI's tests run the real app (FastAPI's TestClient, or `joinedup review serve` for the browser) on
a copy of the session pipeline's identity store (tests/conftest.py), so nothing they decide reaches the fixture
other tests read."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from joinedup.review.app import ReviewConfig, create_app
from joinedup.review.auth import LoginThrottle, add_user, session_secret, users_path

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
