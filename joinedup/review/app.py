"""The caseworkers' review UI: a FastAPI app over the review queue (joinedup.review.queue) and the decisions inbox
(joinedup.review.decisions), served by `joinedup review serve`.

Pages: the queue (filters with counts, paged), an item (the contact beside the candidate citizen, the match
weights as a waterfall, why it is in review, both sides' other contacts, its history) decided with the keyboard
(a accept, r reject, s skip, u undo, j/k or arrows to move), and the decisions (with undo, and what each
changed). A decision goes to the inbox at once; the journeys DAG's next link step applies it. The JSON API
under /api/ does the same for scripts and the latency benchmark.

Everything but /login needs a session (joinedup.review.guard); decided_by is the logged-in user. Pages are
rendered by jinja2 with autoescaping; the CSS and JS are package files inlined with the response's CSP nonce,
so the pages load nothing from anywhere else.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from pydantic import BaseModel
from starlette.middleware.sessions import SessionMiddleware

from joinedup.review.apply import explain_change
from joinedup.review.auth import LoginThrottle, UserDirectory
from joinedup.review.decisions import DecisionError, get, record, undo
from joinedup.review.guard import Guard, new_token
from joinedup.review.queue import (
    PAGE,
    STORE_DB,
    NotInStore,
    Store,
    changes,
    item,
    list_queue,
    neighbours,
    recent_decisions,
    waiting,
)
from joinedup.review.views import compared_rows, decision_state, label, reason_label, waterfall_chart

SESSION_COOKIE = "joinedup_review"
IDLE_SECONDS = 2 * 3600  # the cookie is re-signed on every answer: two idle hours end a session
ABSOLUTE_SECONDS = 10 * 3600  # a working day, however active
FAILED_LOGIN_DELAY = 1.0  # seconds every wrong password costs, on top of scrypt
MINE = 50  # decision ids a session remembers for `u`
FILTERS = ("channel", "service", "reason")
log = logging.getLogger("joinedup.review")


@dataclass(frozen=True)
class ReviewConfig:
    """What a review service needs: the identity folder (the store and the inbox), the users file, the key that
    signs session cookies, and whether cookies are sent over HTTPS only (yes, unless it is a local trial)."""

    identity: Path
    users_file: Path
    secret: str
    secure_cookie: bool = True
    throttle: LoginThrottle | None = None


class DecideError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class DecisionIn(BaseModel):
    contact_id: str
    citizen_id: str
    decision: str


# -- rendering --------------------------------------------------------------------------------------------------

@cache
def _env() -> Environment:
    env = Environment(loader=PackageLoader("joinedup.review", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(label=label, reason_label=reason_label, state=decision_state, fmt=_fmt, url=_url)
    return env


@cache
def _asset(name: str) -> Markup:
    """A static file's text, inlined into the page under the response's nonce (CSP allows nothing else)."""
    return Markup(files("joinedup.review").joinpath("static", name).read_text(encoding="utf-8"))


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _url(path: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return path + (f"?{query}" if query else "")


def _item_url(contact_id: str, filters: dict[str, str | None]) -> str:
    return _url(f"/item/{quote(contact_id, safe=':@')}", **filters)


def _render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    session = request.session
    values = {"user": request.state.user, "csrf": session.get("csrf", ""), "nonce": request.state.nonce,
              "flash": session.pop("flash", None), "css": _asset("review.css"), "js": _asset("review.js"),
              **values}
    return HTMLResponse(_env().get_template(template).render(**values), status)


def _json(value: Any, status: int = 200) -> JSONResponse:
    def default(v: Any) -> Any:
        if isinstance(v, datetime | date):
            return v.isoformat()
        if hasattr(v, "item"):  # numpy scalars
            return v.item()
        return str(v)
    return JSONResponse(json.loads(json.dumps(value, default=default)), status)


def _flash(request: Request, text: str) -> None:
    request.session["flash"] = text


def _filters(channel: str | None, service: str | None, reason: str | None) -> dict[str, str | None]:
    return {"channel": channel or None, "service": service or None, "reason": reason or None}


def _local(target: str | None, default: str) -> str:
    """A redirect target from a form or query: a path on this site, never another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


# -- the app ----------------------------------------------------------------------------------------------------

def create_app(config: ReviewConfig) -> FastAPI:
    """The review UI over `config.identity`'s store and inbox."""
    store = Store(config.identity)
    users = UserDirectory(config.users_file)
    throttle = config.throttle or LoginThrottle()
    app = FastAPI(title="joinedup review", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(Guard, users=users, absolute_seconds=ABSOLUTE_SECONDS)
    app.add_middleware(SessionMiddleware, secret_key=config.secret, session_cookie=SESSION_COOKIE,
                       max_age=IDLE_SECONDS, same_site="strict", https_only=config.secure_cookie)

    def ready() -> bool:
        return (config.identity / STORE_DB).exists()

    def user(request: Request) -> str:
        name = request.state.user
        if not name:  # the guard lets no anonymous request reach a route that records a decision
            raise RuntimeError("no logged-in user")
        return name

    # -- login ------------------------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str | None = None) -> Response:
        if request.state.user:
            return RedirectResponse(_local(next, "/queue"), 303)
        request.session.setdefault("csrf", new_token())
        return _render(request, "login.html.j2", next=_local(next, ""), error=None, name="")

    @app.post("/login", response_class=HTMLResponse)
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              next: str = Form("")) -> Response:
        client = request.client.host if request.client else "unknown"
        name = username.strip()
        wait = throttle.retry_after(name, client)
        if wait > 0:
            log.warning("login refused: too many failed attempts (retry in %.0fs)", wait)
            response = _render(request, "login.html.j2", 429, next=_local(next, ""), name=name,
                               error=f"Too many failed attempts. Try again in {math.ceil(wait / 60)} minute(s).")
            response.headers["retry-after"] = str(math.ceil(wait))
            return response
        stamp = users.authenticate(name, password)
        if stamp is None:
            throttle.failed(name, client)
            time.sleep(FAILED_LOGIN_DELAY)
            log.warning("login failed")  # not the name typed: it is sometimes the password, in the wrong field
            return _render(request, "login.html.j2", 401, next=_local(next, ""), name=name,
                           error="Wrong user name or password.")
        throttle.succeeded(name)
        request.session.clear()  # nothing of the anonymous session carries over; a new CSRF token
        request.session.update(user=name, stamp=stamp, login_at=time.time(), csrf=new_token(), mine=[])
        log.info("login: %s", name)
        return RedirectResponse(_local(next, "/queue"), 303)

    @app.post("/logout")
    def logout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/login", 303)

    @app.get("/")
    def home() -> Response:
        return RedirectResponse("/queue", 303)

    # -- the queue and an item --------------------------------------------------------------------------------

    @app.get("/queue", response_class=HTMLResponse)
    def queue_page(request: Request, channel: str | None = None, service: str | None = None,
                   reason: str | None = None, page: int = 1) -> Response:
        filters = _filters(channel, service, reason)
        if not ready():
            return _render(request, "empty.html.j2", identity=str(config.identity))
        page = max(page, 1)
        q = list_queue(store, **filters, limit=PAGE, offset=(page - 1) * PAGE)
        pages = max(1, math.ceil(q.total / PAGE))
        return _render(request, "queue.html.j2", q=q, filters=filters, page=page, pages=pages, offset=(page - 1) * PAGE,
                       first=_item_url(q.rows[0].contact_id, filters) if q.rows else None,
                       item_url=lambda cid: _item_url(cid, filters), here=_url("/queue", page=page, **filters),
                       mine=bool(request.session.get("mine")))

    @app.get("/item/{contact_id:path}", response_class=HTMLResponse)
    def item_page(request: Request, contact_id: str, channel: str | None = None, service: str | None = None,
                  reason: str | None = None) -> Response:
        filters = _filters(channel, service, reason)
        if not ready():
            return _render(request, "empty.html.j2", identity=str(config.identity))
        try:
            it = item(store, contact_id)
        except NotInStore:
            return _render(request, "gone.html.j2", 404, queue=_url("/queue", **filters))
        waiting_ids = waiting(store)[0]
        prev, nxt = neighbours(store, contact_id, **filters, waiting_ids=waiting_ids)
        decided = contact_id in waiting_ids
        return _render(request, "item.html.j2", it=it, filters=filters, decided=decided,
                       rows=compared_rows(it.compared), chart=waterfall_chart(it.waterfall),
                       prev=_item_url(prev, filters) if prev else None,
                       next=_item_url(nxt, filters) if nxt else None, queue=_url("/queue", **filters),
                       here=_item_url(contact_id, filters),
                       mine=bool(request.session.get("mine")))

    def decide(request: Request, contact_id: str, citizen_id: str, decision: str,
               filters: dict[str, str | None]) -> tuple[str, str | None]:
        """Record `decision` on a queue item as the logged-in user; returns its id and the next item."""
        if decision not in ("accept", "reject"):
            raise DecideError(400, "a decision is accept or reject")
        if not ready():
            raise DecideError(409, "there is no review queue yet")
        q = store.query("select citizen_id from review_queue where contact_id = ?", [contact_id])
        if q.empty:
            raise DecideError(404, "that contact is not in the review queue any more")
        if q["citizen_id"].iloc[0] != citizen_id:
            raise DecideError(409, "the queue proposes another citizen for this contact now: look at it again")
        if contact_id in waiting(store)[0]:
            raise DecideError(409, "this item is decided already; the next link step applies it")
        try:
            d = record(config.identity, contact_id, citizen_id, decision, user(request))
        except DecisionError as exc:
            raise DecideError(400, str(exc)) from exc
        request.session["mine"] = [*request.session.get("mine", []), d.decision_id][-MINE:]
        log.info("decision recorded by %s: %s", d.decided_by, d.decision)
        return d.decision_id, neighbours(store, contact_id, **filters)[1]

    @app.post("/decide")
    def decide_form(request: Request, contact_id: str = Form(...), citizen_id: str = Form(...),
                    decision: str = Form(...), channel: str = Form(""), service: str = Form(""),
                    reason: str = Form("")) -> Response:
        filters = _filters(channel, service, reason)
        try:
            _, nxt = decide(request, contact_id, citizen_id, decision, filters)
        except DecideError as exc:
            _flash(request, exc.message)
            return RedirectResponse(_item_url(contact_id, filters), 303)
        done = ("Accepted" if decision == "accept" else "Rejected") + ": the next link step applies it. Press u to undo."
        if nxt is None:
            _flash(request, done + " That was the last item in this queue.")
            return RedirectResponse(_url("/queue", **filters), 303)
        _flash(request, done)
        return RedirectResponse(_item_url(nxt, filters), 303)

    def undo_decision(request: Request, decision_id: str) -> str:
        """Record an undo of `decision_id`; returns the contact it was about."""
        try:
            d = undo(config.identity, decision_id, user(request))
        except DecisionError as exc:
            raise DecideError(409, str(exc)) from exc
        log.info("undo recorded by %s", d.decided_by)
        return d.contact_id

    def back_to(contact_id: str, filters: dict[str, str | None]) -> str:
        """Where an undo leaves the caseworker: the item again if it is back in the queue (its decision was not
        applied yet), else the decisions page (the next link step puts it back)."""
        if ready() and contact_id not in waiting(store)[0] and len(
                store.query("select 1 from review_queue where contact_id = ?", [contact_id])):
            return _item_url(contact_id, filters)
        return "/decisions"

    @app.post("/undo-last")
    def undo_last(request: Request, channel: str = Form(""), service: str = Form(""), reason: str = Form(""),
                  back: str = Form("")) -> Response:
        filters = _filters(channel, service, reason)
        mine = list(request.session.get("mine", []))
        while mine:
            did = mine.pop()
            try:
                contact = undo_decision(request, did)
            except DecideError:
                continue  # undone already (on the decisions page): the one before it
            request.session["mine"] = mine
            _flash(request, "Undone. " + ("Decide it again." if back_to(contact, filters) != "/decisions" else
                                          "The next link step puts back what it changed."))
            return RedirectResponse(back_to(contact, filters), 303)
        request.session["mine"] = []
        _flash(request, "Nothing to undo: you have made no decision in this session.")
        return RedirectResponse(_local(back, "/queue"), 303)

    # -- decisions --------------------------------------------------------------------------------------------

    @app.get("/decisions", response_class=HTMLResponse)
    def decisions_page(request: Request, limit: int = 200) -> Response:
        if not ready():
            return _render(request, "empty.html.j2", identity=str(config.identity))
        return _render(request, "decisions.html.j2", decisions=recent_decisions(store, max(1, min(limit, 2000))))

    @app.get("/decisions/{decision_id}", response_class=HTMLResponse)
    def decision_page(request: Request, decision_id: str) -> Response:
        d = get(config.identity, decision_id)
        if d is None or not ready():
            return _render(request, "gone.html.j2", 404, queue="/decisions")
        found = [r for r in recent_decisions(store, 100_000) if r["decision_id"] == decision_id]
        rows = changes(store, decision_id)
        return _render(request, "decision.html.j2", d=found[0] if found else asdict(d), changes=rows,
                       lines=[explain_change(r) for r in rows])

    @app.post("/decisions/{decision_id}/undo")
    def undo_form(request: Request, decision_id: str) -> Response:
        try:
            contact = undo_decision(request, decision_id)
        except DecideError as exc:
            _flash(request, exc.message)
            return RedirectResponse("/decisions", 303)
        _flash(request, "Undone: the next link step puts back what it changed.")
        target = back_to(contact, _filters(None, None, None))
        return RedirectResponse(target, 303)

    # -- the JSON API -----------------------------------------------------------------------------------------

    @app.get("/api/queue")
    def api_queue(channel: str | None = None, service: str | None = None, reason: str | None = None,
                  limit: int = PAGE, offset: int = 0) -> Response:
        if not ready():
            return _json({"rows": [], "total": 0, "facets": {}, "pending": 0})
        return _json(asdict(list_queue(store, **_filters(channel, service, reason), limit=max(1, min(limit, 1000)),
                                       offset=max(offset, 0))))

    @app.get("/api/item/{contact_id:path}")
    def api_item(contact_id: str) -> Response:
        try:
            if not ready():
                raise NotInStore(contact_id)
            return _json(asdict(item(store, contact_id)))
        except NotInStore:
            return _json({"detail": "not in the review queue"}, 404)

    @app.get("/api/decisions")
    def api_decisions(limit: int = 50) -> Response:
        return _json(recent_decisions(store, max(1, min(limit, 2000))) if ready() else [])

    @app.post("/api/decisions")
    def api_decide(request: Request, body: DecisionIn) -> Response:
        try:
            did, nxt = decide(request, body.contact_id, body.citizen_id, body.decision, _filters(None, None, None))
        except DecideError as exc:
            return _json({"detail": exc.message}, exc.status)
        return _json({"decision_id": did, "next": nxt}, 201)

    @app.post("/api/decisions/{decision_id}/undo")
    def api_undo(request: Request, decision_id: str) -> Response:
        try:
            undo_decision(request, decision_id)
        except DecideError as exc:
            return _json({"detail": exc.message}, exc.status)
        return _json({"undone": decision_id}, 201)

    return app


__all__ = ["ReviewConfig", "create_app"]
