"""The one gate every request of the review UI passes (an ASGI middleware inside the session middleware).

Doing it once here, rather than per route, means a route added later cannot forget it:
- no session, no answer: pages redirect to /login, the JSON API answers 401, and /login is the only way in;
- every POST carries the session's CSRF token, in the form field `csrf_token` or the `X-CSRF-Token` header
  (the cookie is SameSite=strict too: two locks, since a browser without SameSite would otherwise be open);
- every answer says: do not cache (pages hold PII), no referrer, no framing, and scripts and styles only with
  this response's nonce (the pages inline their own; nothing is loaded from elsewhere);
- the access log names the route template (`/item/{contact_id}`), never the path or the query string, which
  hold contact ids: uvicorn's own access log is off (joinedup.review.cli serve).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from joinedup.review.auth import UserDirectory

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

LOGIN = "/login"
API = "/api/"
CSRF_FIELD, CSRF_HEADER = "csrf_token", "x-csrf-token"
MAX_BODY = 64 * 1024  # a decision or a login is a few hundred bytes
log = logging.getLogger("joinedup.review.access")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def security_headers(nonce: str) -> list[tuple[str, str]]:
    csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return [("content-security-policy", csp), ("cache-control", "no-store"), ("referrer-policy", "no-referrer"),
            ("x-content-type-options", "nosniff"), ("x-frame-options", "DENY")]


def session_user(session: dict[str, Any], users: UserDirectory, absolute_seconds: float) -> str | None:
    """The caseworker a session belongs to, or None (and the session is cleared) when it is not valid any more:
    older than `absolute_seconds` since login, or the user removed or given a new password since."""
    name, stamp, at = session.get("user"), session.get("stamp"), session.get("login_at")
    if not (isinstance(name, str) and isinstance(stamp, str) and isinstance(at, int | float)):
        return None
    if time.time() - at > absolute_seconds or not users.valid(name, stamp):
        session.clear()
        return None
    return name


class Guard:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], users: UserDirectory,
                 absolute_seconds: float) -> None:
        self.app, self.users, self.absolute_seconds = app, users, absolute_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [0]
        nonce = secrets.token_urlsafe(16)
        state = scope.setdefault("state", {})
        state["nonce"] = nonce
        session: dict[str, Any] = scope["session"]
        user = session_user(session, self.users, self.absolute_seconds)
        state["user"] = user

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = MutableHeaders(scope=message)
                for k, v in security_headers(nonce):
                    if k not in headers:
                        headers[k] = v
            await send(message)

        try:
            refused, receive = await self._check(scope, receive, session, user)
            if refused is not None:
                await refused(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or ("(refused)" if status[0] in (401, 403, 405, 413)
                                                        or (status[0] == 303 and user is None) else "(no route)")
            log.info("%s %s %s %.0fms%s", scope["method"], template, status[0],
                     (time.perf_counter() - started) * 1000, "" if user else " anonymous")

    async def _check(self, scope: Scope, receive: Receive, session: dict[str, Any],
                     user: str | None) -> tuple[Response | None, Receive]:
        """A refusal, or None and the `receive` to hand on (the body replayed after the CSRF check read it)."""
        method, path = scope["method"], scope["path"]
        if method not in ("GET", "HEAD", "POST"):
            return PlainTextResponse("method not allowed", 405), receive
        if user is None and path != LOGIN:
            if path.startswith(API):
                return JSONResponse({"detail": "not logged in"}, 401, headers={"www-authenticate": "Session"}), receive
            target = path + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
            wanted = f"?next={quote(target, safe='')}" if method == "GET" and path not in ("/", "/logout") else ""
            return RedirectResponse(LOGIN + wanted, 303), receive
        if method != "POST":
            return None, receive
        body = await _body(receive)
        if body is None:
            return PlainTextResponse("request too large", 413), receive
        if not _csrf_ok(scope, session, body):
            msg = "missing or wrong CSRF token: reload the page and try again"
            refusal = JSONResponse({"detail": msg}, 403) if path.startswith(API) else PlainTextResponse(msg, 403)
            return refusal, receive
        return None, _replay(body)


async def _body(receive: Receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return receive


def _csrf_ok(scope: Scope, session: dict[str, Any], body: bytes) -> bool:
    expected = session.get("csrf")
    if not isinstance(expected, str) or not expected:
        return False
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    given = headers.get(CSRF_HEADER)
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if given is None and kind == "application/x-www-form-urlencoded":
        given = (parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD) or [None])[0]
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


__all__ = ["CSRF_FIELD", "CSRF_HEADER", "Guard", "LOGIN", "new_token", "security_headers", "session_user"]
