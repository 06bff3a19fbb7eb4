"""Caseworkers' accounts, passwords, the session key and the login throttle of the review UI (joinedup.review.app).

The review UI is a service of its own with its own users (docs/review.md says why not an Airflow plugin): the
people who decide links are caseworkers, not Airflow users, and what they see is PII. So:

- users live in `review/users.json` inside the restricted identity folder (0600, rewritten atomically under a
  lock), one scrypt hash per user: salted, memory-hard, parameters stored with the hash so they can be raised;
  verified with `hmac.compare_digest`, and an unknown name costs the same scrypt as a wrong password, so the
  timing does not tell which names exist;
- the session cookie is signed (starlette's SessionMiddleware, itsdangerous) with a key read from
  JOINEDUP_REVIEW_SECRET_FILE (a Docker secret) or generated once, 0600, in the identity folder. A session names
  its user and a stamp of the user's password hash: resetting a password or removing a user ends their
  sessions at once, without a session table;
- failed logins are throttled per user name and per client address (LoginThrottle).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from joinedup.zones import OWNER_FILE, check_key_file, check_restricted, private_dir, write_private_text

USERS = Path("review") / "users.json"
SESSION_KEY = Path("review") / "session.key"
SECRET_ENV = "JOINEDUP_REVIEW_SECRET_FILE"
MIN_SECRET = 32  # characters of a session key
MIN_PASSWORD = 12
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# scrypt at OWASP's recommended cost (N=2^17, r=8, p=1: 128 MiB, a few hundred ms): a stolen users file
# resists offline guessing; the login throttle keeps the cost per attempt from being a denial of service.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**17, 8, 1, 32
SCRYPT_MAXMEM = 256 * 1024 * 1024
# password checks at once in one service: each takes 128 MiB, and a burst of logins must not take the memory
_HASHING = threading.BoundedSemaphore(2)


class AuthSetupError(ValueError):
    """The review service cannot authenticate anyone as configured (a missing or loose secret, a bad users
    file); the message says what to fix."""


class UserNameError(ValueError):
    """A user name or password that `add-user` refuses; says why."""


# -- passwords --------------------------------------------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash`, base64: everything needed to verify it later, whatever the defaults become."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                         maxmem=SCRYPT_MAXMEM, dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(stored: str, password: str) -> bool:
    """Whether `password` matches a hash_password result; a malformed hash matches nothing."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(key)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=SCRYPT_MAXMEM, dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


@functools.cache
def _dummy() -> str:
    """A hash of nothing anyone can type, checked when the name is unknown: the same work as a wrong password."""
    return hash_password(secrets.token_urlsafe(32))


def check_password(name: str, password: str) -> None:
    """Refuse a password a caseworker account should not have (UserNameError says why)."""
    if len(password) < MIN_PASSWORD:
        raise UserNameError(f"the password is shorter than {MIN_PASSWORD} characters")
    if password.strip().casefold() == name.casefold():
        raise UserNameError("the password is the user name")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise UserNameError(f"user name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-', starting with a "
                            "letter or digit (it is recorded with every decision)")
    return name


# -- the users file ---------------------------------------------------------------------------------------------

def users_path(identity: Path) -> Path:
    return identity / USERS


def _read_users(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    check_restricted(path, recursive=False)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        users = doc["users"]
        if not isinstance(users, dict):
            raise TypeError("users is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthSetupError(f"{path}: not a review users file ({exc}); restore it from the backup, or remove it "
                             "and add the users again with `joinedup review add-user`") from exc
    return users


def _write_users(path: Path, users: dict[str, dict[str, Any]]) -> None:
    write_private_text(path, json.dumps({"version": 1, "users": users}, indent=1, sort_keys=True) + "\n")


def _users_lock(path: Path) -> FileLock:
    return FileLock(path.with_name(f".{path.name}.lock"), mode=OWNER_FILE, is_singleton=True)


def add_user(identity: Path, name: str, password: str, path: Path | None = None) -> bool:
    """Add a caseworker, or set a new password for one (which ends their open sessions). Returns True when the
    user is new. The users file and its folder are created owner-only inside the identity folder."""
    check_name(name)
    check_password(name, password)
    check_restricted(identity)
    if path is None:
        path = users_path(identity)
        private_dir(path.parent, root=identity)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with _users_lock(path):
        users = _read_users(path)
        new = name not in users
        entry = {"hash": hash_password(password), "created_at": users.get(name, {}).get("created_at", now),
                 "password_set_at": now}
        users[name] = entry
        _write_users(path, users)
    return new


def remove_user(identity: Path, name: str, path: Path | None = None) -> bool:
    """Remove a caseworker (their open sessions end at once); returns whether they existed. Their decisions stay,
    recorded under their name."""
    path = path or users_path(identity)
    if not path.exists():
        return False
    with _users_lock(path):
        users = _read_users(path)
        if name not in users:
            return False
        del users[name]
        _write_users(path, users)
    return True


def _stamp(entry: dict[str, Any]) -> str:
    """A short fingerprint of the user's current hash, kept in the session: a new password ends old sessions."""
    return hashlib.sha256(entry["hash"].encode("ascii")).hexdigest()[:16]


class UserDirectory:
    """The users file as the running service sees it: re-read when it changes (add-user needs no restart)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._users: dict[str, dict[str, Any]] = {}
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def _current(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            try:
                st = os.stat(self.path)
                seen: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                seen = None
            if seen != self._seen:
                self._users = _read_users(self.path) if seen else {}
                self._seen = seen
            return self._users

    def __len__(self) -> int:
        return len(self._current())

    def authenticate(self, name: str, password: str) -> str | None:
        """The session stamp of `name` when the password is right, else None (in the same time either way)."""
        entry = self._current().get(name)
        with _HASHING:
            ok = verify_password(entry["hash"] if entry else _dummy(), password)
        return _stamp(entry) if entry and ok else None

    def valid(self, name: str, stamp: str) -> bool:
        """Whether a session's user still exists with the password the session was opened with."""
        entry = self._current().get(name)
        return entry is not None and hmac.compare_digest(_stamp(entry), stamp)


# -- the session key --------------------------------------------------------------------------------------------

def session_secret(identity: Path) -> str:
    """The key that signs session cookies: JOINEDUP_REVIEW_SECRET_FILE's content (a Docker secret: 0600, at least
    MIN_SECRET characters), else `review/session.key` in the identity folder, generated 0600 on first use.

    A generated key is created whole under a temporary name and hard-linked into place, so two services starting
    at once agree on one key and neither reads a half-written file."""
    named = os.environ.get(SECRET_ENV, "").strip()
    if named:
        path = Path(named)
        if not path.is_file():
            raise AuthSetupError(f"{SECRET_ENV}={path}: no such file (the review session secret, docs/review.md)")
    else:
        check_restricted(identity)
        path = identity / SESSION_KEY
        private_dir(path.parent, root=identity)
        if not path.exists():
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            write_private_text(tmp, secrets.token_urlsafe(48) + "\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
    try:
        check_key_file(path)
    except PermissionError as exc:
        raise AuthSetupError(str(exc)) from exc
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except PermissionError as exc:
        raise AuthSetupError(f"{path}: cannot be read by this user (uid {os.getuid()}): chown it to the user the "
                             "review service runs as") from exc
    if len(secret) < MIN_SECRET or "CHANGE-ME" in secret:
        raise AuthSetupError(f"{path}: the review session secret must be at least {MIN_SECRET} characters and not "
                             "CHANGE-ME (make one with `openssl rand -hex 32`)")
    return secret


# -- failed logins ----------------------------------------------------------------------------------------------

@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


class LoginThrottle:
    """Failed logins, counted per user name and per client address within `window` seconds.

    The first `free` failures for a name (`free_address` from an address, which many caseworkers behind one
    proxy or NAT may share) cost only the scrypt and a fixed delay (the endpoint's); after that the name (or
    address) is locked for `base` seconds, doubling with each further failure up to `window`. Counting the name
    stops guessing one caseworker's password from many addresses; counting the address stops trying one common
    password against every name. A success clears the name's count (not the address's)."""

    def __init__(self, free: int = 5, free_address: int = 20, base: float = 30.0, window: float = 900.0) -> None:
        self.free, self.free_address, self.base, self.window = free, free_address, base, window
        self._seen: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def _locked_for(self, key: str, free: int, now: float) -> float:
        f = self._seen.get(key)
        if f is None or now - f.last > self.window or f.count < free:
            return 0.0
        lock = min(self.base * 2 ** (f.count - free), self.window)
        return max(0.0, f.last + lock - now)

    def retry_after(self, name: str, client: str) -> float:
        """Seconds before another attempt for this name or from this address is heard (0: now)."""
        now = time.monotonic()
        with self._lock:
            return max(self._locked_for(f"user:{name.casefold()}", self.free, now),
                       self._locked_for(f"addr:{client}", self.free_address, now))

    def failed(self, name: str, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"user:{name.casefold()}", f"addr:{client}"):
                f = self._seen.get(key)
                if f is None or now - f.last > self.window:
                    f = self._seen[key] = _Failures()
                f.count += 1
                f.last = now
            if len(self._seen) > 10_000:  # forget what is past its window, so the table stays small
                self._seen = {k: v for k, v in self._seen.items() if now - v.last <= self.window}

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._seen.pop(f"user:{name.casefold()}", None)


__all__ = ["AuthSetupError", "LoginThrottle", "SECRET_ENV", "USERS", "UserDirectory", "UserNameError", "add_user",
           "check_name", "check_password", "hash_password", "remove_user", "session_secret", "users_path",
           "verify_password"]
