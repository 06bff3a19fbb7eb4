"""Authentication of the review UI: nothing but /login answers without a session, a wrong password or a POST
without the session's CSRF token is refused, failed logins are throttled, a new password ends old sessions, and
the users file and the session key are owner-only. The real app on an identity folder of its own (no store is
needed to be refused)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from typer.testing import CliRunner

from joinedup.review import app as review_app
from joinedup.review.auth import (
    SECRET_ENV,
    AuthSetupError,
    LoginThrottle,
    add_user,
    hash_password,
    session_secret,
    users_path,
    verify_password,
)
from tests.review.conftest import PASSWORD, USER, client_for, csrf_of, login


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x:1", path)


def test_every_route_but_login_refuses_without_a_session(tmp_path: Path) -> None:
    client = client_for(tmp_path / "identity")
    routes = [r for r in client.app.routes if isinstance(r, APIRoute)]
    assert {"/queue", "/item/{contact_id:path}", "/decisions", "/api/queue", "/api/decisions"} <= \
        {r.path for r in routes}
    for route in routes:
        for method in route.methods - {"HEAD"}:
            if route.path == "/login":
                continue
            path = _concrete(route.path)
            r = client.request(method, path, data={"csrf_token": "guess"} if method == "POST" else None)
            if path.startswith("/api/"):
                assert r.status_code == 401, (method, path, r.status_code)
                assert r.json() == {"detail": "not logged in"}
            else:
                assert r.status_code == 303, (method, path, r.status_code)
                assert r.headers["location"].startswith("/login"), (method, path)
    # a page that does not exist is refused the same way (nothing tells what exists)
    assert client.get("/nothing-here").status_code == 303
    assert client.get("/api/nothing").status_code == 401
    # the login page itself answers, and asks for nothing else
    page = client.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.text and 'type="password"' in page.text
    assert client.get("/queue").headers["location"] == "/login?next=%2Fqueue"


def test_a_wrong_password_or_an_unknown_user_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(review_app, "FAILED_LOGIN_DELAY", 0.0)
    client = client_for(tmp_path / "identity")
    for name, password in ((USER, "not the password"), ("nobody", PASSWORD), (USER, ""), ("", "")):
        r = login(client, name, password)
        assert r.status_code == 401, (name, r.status_code)
        assert "Wrong user name or password." in r.text
        assert "set-cookie" not in r.headers or "user" not in r.headers["set-cookie"]
        assert client.get("/queue").status_code == 303
    ok = login(client)
    assert ok.status_code == 303 and ok.headers["location"] == "/queue"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/queue").status_code == 200
    assert client.get("/api/queue").status_code == 200


def test_login_returns_to_the_page_asked_for_and_never_to_another_site(tmp_path: Path) -> None:
    client = client_for(tmp_path / "identity")
    token = csrf_of(client, "/login?next=%2Fdecisions")
    r = client.post("/login", data={"username": USER, "password": PASSWORD, "csrf_token": token,
                                    "next": "/decisions"})
    assert r.headers["location"] == "/decisions"
    client.post("/logout", data={"csrf_token": csrf_of(client, "/decisions")})
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = client.post("/login", data={"username": USER, "password": PASSWORD, "csrf_token": csrf_of(client),
                                        "next": evil})
        assert r.headers["location"] == "/queue", evil
        client.post("/logout", data={"csrf_token": csrf_of(client, "/queue")})


def test_a_post_without_the_sessions_csrf_token_is_refused(tmp_path: Path) -> None:
    client = client_for(tmp_path / "identity")
    # the login form itself carries a token of the anonymous session
    r = client.post("/login", data={"username": USER, "password": PASSWORD})
    assert r.status_code == 403
    assert login(client).status_code == 303
    token = csrf_of(client, "/queue")
    for data, headers in (({}, {}), ({"csrf_token": "forged"}, {}), ({}, {"X-CSRF-Token": "forged"})):
        for path in ("/logout", "/undo-last", "/decide", "/decisions/d-0/undo"):
            r = client.post(path, data=data | {"contact_id": "x", "citizen_id": "y", "decision": "accept"},
                            headers=headers)
            assert r.status_code == 403, (path, data, headers)
        r = client.post("/api/decisions", json={"contact_id": "x", "citizen_id": "y", "decision": "accept"},
                        headers=headers)
        assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert client.get("/queue").status_code == 200  # still logged in: the refused logout did nothing
    # with the token: the form field or the header
    r = client.post("/api/decisions", json={"contact_id": "x", "citizen_id": "y", "decision": "accept"},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 409  # past the guard: there is no queue in this folder
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/queue").status_code == 303
    # a token from another session is not this session's
    other = client_for(tmp_path / "identity")
    login(other)
    login(client)
    assert client.post("/logout", data={"csrf_token": csrf_of(other, "/queue")}).status_code == 403


def test_failed_logins_are_throttled_per_user_name(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(review_app, "FAILED_LOGIN_DELAY", 0.0)
    identity = tmp_path / "identity"
    client = client_for(identity, throttle=LoginThrottle(free=3, free_address=5, base=60))
    add_user(identity, "robin", "robin's long passphrase")
    for _ in range(3):
        assert login(client, USER, "a wrong guess").status_code == 401
    locked = login(client)  # even the right password, until the lock ends
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert "Too many failed attempts" in locked.text
    assert client.get("/queue").status_code == 303
    # another caseworker from the same address is still heard, until the address has failed too often
    assert login(client, "robin", "robin's long passphrase").status_code == 303
    client.post("/logout", data={"csrf_token": csrf_of(client, "/queue")})
    for _ in range(2):
        assert login(client, "robin", "a wrong guess").status_code == 401
    assert login(client, "robin", "robin's long passphrase").status_code == 429


def test_a_new_password_ends_the_users_sessions(tmp_path: Path) -> None:
    identity = tmp_path / "identity"
    client = client_for(identity)
    assert login(client).status_code == 303 and client.get("/queue").status_code == 200
    assert add_user(identity, USER, "another long passphrase") is False
    assert client.get("/queue").status_code == 303
    assert login(client).status_code == 401
    assert login(client, USER, "another long passphrase").status_code == 303


def test_users_file_and_session_key_are_owner_only(tmp_path: Path, monkeypatch) -> None:
    identity = tmp_path / "identity"
    umask = os.umask(0o022)  # the usual umask: the writers must not rely on a tighter one
    try:
        client_for(identity)
    finally:
        os.umask(umask)
    users = users_path(identity)
    assert _mode(users) == 0o600 and _mode(users.parent) == 0o700 and _mode(identity) == 0o700
    key = identity / "review" / "session.key"
    assert _mode(key) == 0o600 and len(key.read_text().strip()) >= 32
    assert session_secret(identity) == key.read_text().strip()  # generated once, then reused
    text = users.read_text()
    assert PASSWORD not in text and "scrypt$" in text
    # a secret file from the environment (a Docker secret) must be owner-only too, and long enough
    secret = tmp_path / "review.key"
    secret.write_text("s" * 40)
    monkeypatch.setenv(SECRET_ENV, str(secret))
    os.chmod(secret, 0o644)
    with pytest.raises(AuthSetupError, match="0644"):
        session_secret(identity)
    os.chmod(secret, 0o600)
    assert session_secret(identity) == "s" * 40
    secret.write_text("short")
    with pytest.raises(AuthSetupError, match="at least"):
        session_secret(identity)
    monkeypatch.setenv(SECRET_ENV, str(tmp_path / "missing.key"))
    with pytest.raises(AuthSetupError, match="no such file"):
        session_secret(identity)


def test_passwords_are_salted_scrypt_hashes() -> None:
    a, b = hash_password("the same password"), hash_password("the same password")
    assert a != b and a.startswith("scrypt$") and b.split("$")[4] != a.split("$")[4]
    assert verify_password(a, "the same password") and not verify_password(a, "the same passwore")
    assert not verify_password("md5$abc", "x") and not verify_password("scrypt$bad", "x")


def test_add_user_reads_the_password_from_a_file_or_a_prompt_never_an_argument(tmp_path: Path,
                                                                              monkeypatch) -> None:
    from joinedup.cli import app

    identity = tmp_path / "identity"
    monkeypatch.setenv("JOINEDUP_IDENTITY", str(identity))
    runner = CliRunner()
    pw = tmp_path / "pw"
    pw.write_text("a long enough passphrase\n")
    r = runner.invoke(app, ["review", "add-user", "--name", "robin", "--password-file", str(pw)])
    assert r.exit_code == 0, r.output
    assert "added robin" in r.output
    r = runner.invoke(app, ["review", "add-user", "--name", "sam"], input="prompted passphrase\nprompted passphrase\n")
    assert r.exit_code == 0, r.output
    assert "prompted passphrase" not in r.output
    users = users_path(identity).read_text()
    assert '"robin"' in users and '"sam"' in users
    # no option takes the password itself
    r = runner.invoke(app, ["review", "add-user", "--name", "kim", "--password", "on the command line"])
    assert r.exit_code == 2
    short = tmp_path / "short"
    short.write_text("short\n")
    r = runner.invoke(app, ["review", "add-user", "--name", "kim", "--password-file", str(short)])
    assert r.exit_code == 2 and "shorter than" in r.output
    r = runner.invoke(app, ["review", "add-user", "--name", "no spaces", "--password-file", str(pw)])
    assert r.exit_code == 2 and "user name" in r.output
    r = runner.invoke(app, ["review", "remove-user", "--name", "robin"])
    assert r.exit_code == 0 and '"robin"' not in users_path(identity).read_text()
    r = runner.invoke(app, ["review", "remove-user", "--name", "robin"])
    assert r.exit_code == 2


def test_serve_refuses_a_loose_or_short_session_secret(tmp_path: Path, monkeypatch) -> None:
    """`joinedup review serve` checks its secret before it listens: a user's mistake, one line, exit 2."""
    from joinedup.cli import app

    monkeypatch.setenv("JOINEDUP_IDENTITY", str(tmp_path / "identity"))
    secret = tmp_path / "review.key"
    secret.write_text("x" * 40)
    os.chmod(secret, 0o644)
    monkeypatch.setenv(SECRET_ENV, str(secret))
    r = CliRunner().invoke(app, ["review", "serve", "--port", "1"])
    assert r.exit_code == 2 and "0644" in r.output
    os.chmod(secret, 0o600)
    secret.write_text("CHANGE-ME")
    r = CliRunner().invoke(app, ["review", "serve", "--port", "1"])
    assert r.exit_code == 2 and "at least 32 characters" in r.output
