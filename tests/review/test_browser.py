"""A caseworker's session end to end, in headless Chromium against `joinedup review serve`: log in through the
form, decide 20 queue items with the keyboard alone (a, r, s), then the journeys DAG's link step applies them;
undo the last with `u` and the next link step puts that contact back in review with its earlier person.

The server runs as its own process (as in the stack) on a copy of the session pipeline's lake and identity
store; the link step runs here, as the journeys DAG's task calls it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd
import pytest

from joinedup.identity.link_step import run_link_step
from joinedup.report.chromium import Page, open_page
from joinedup.review.auth import add_user
from joinedup.review.decisions import all_decisions
from tests.conftest import PIPELINE_KEY, REPO
from tests.review.conftest import PASSWORD, USER, Stack

# the keys pressed on the items of the first pass through the queue: decisions and skips; the items skipped are
# decided on a second pass, from the queue page (Enter: its first item); the 20th decision is an accept
FIRST_PASS = "rasa" * 8
DECISIONS = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(identity: Path, log: Path) -> Iterator[str]:
    """`joinedup review serve` on a free port of 127.0.0.1, until the block ends; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOINEDUP_REVIEW_")}
    env.update(JOINEDUP_IDENTITY=str(identity), PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]))
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "joinedup.cli", "review", "serve", "--host", "127.0.0.1",
                                 "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(f"{base}/login", timeout=5).close()
                    break
                except (urllib.error.URLError, ConnectionError):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the review server did not start:\n{log.read_text()}") from None
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _path(contact_id: str) -> str:
    return "/item/" + quote(contact_id, safe=":@")


def _shown(page: Page) -> tuple[str, str, str]:
    """(path, contact, candidate citizen) of the page the browser shows."""
    return tuple(page.evaluate("""[location.pathname,
        (document.getElementById('contact-id') || {}).textContent || '',
        (document.getElementById('citizen-id') || {}).textContent || '']"""))


def _links(identity: Path) -> pd.DataFrame:
    with duckdb.connect(str(identity / "identity.duckdb"), read_only=True) as con:
        return con.execute("select contact_id, person_id, citizen_id, decision from contact_links").df() \
            .set_index("contact_id")


def _store(identity: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(identity / "identity.duckdb"), read_only=True) as con:
        return con.execute(sql).df()


@pytest.mark.slow
def test_a_caseworker_decides_with_the_keyboard_and_the_link_step_applies_and_undoes(
        stack: Stack, chromium: str, tmp_path: Path) -> None:
    add_user(stack.identity, USER, PASSWORD)
    before = _links(stack.identity)
    queue_size = len(_store(stack.identity, "select contact_id from review_queue"))
    assert queue_size >= DECISIONS, f"the pipeline fixture's queue has {queue_size} items: too few for the test"
    log = tmp_path / "serve.log"
    with serve(stack.identity, log) as base, open_page(f"{base}/queue", chromium) as page:
        # no session: the login form; filled in and sent with the keyboard
        assert page.evaluate("location.pathname + location.search") == "/login?next=%2Fqueue"
        assert page.evaluate("document.activeElement.id") == "username"
        page.type(USER)
        page.press("Tab")
        page.type(PASSWORD)
        with page.loading():
            page.press("Enter")
        assert _shown(page)[0] == "/queue"
        decided: list[tuple[str, str, str]] = []
        skipped: list[str] = []
        keys, passes = iter(FIRST_PASS), 0
        while len(decided) < DECISIONS:
            path, contact, citizen = _shown(page)
            if path == "/queue":  # Enter: the first item; again at the end of the queue, for the skipped ones
                keys = keys if passes == 0 else iter(())
                passes += 1
                assert passes <= 2
                with page.loading():
                    page.press("Enter")
                continue
            assert path.startswith("/item/") and contact not in [c for c, _, _ in decided], (path, contact)
            key = next(keys, "a" if len(decided) % 3 else "r")
            if len(decided) == DECISIONS - 1:
                key = "a"
            with page.loading():
                page.press(key)
            if key == "s":
                skipped.append(contact)
            else:
                decided.append((contact, citizen, {"a": "accept", "r": "reject"}[key]))
        assert page.errors == []
        assert skipped and {d for _, _, d in decided} == {"accept", "reject"}
        skipped = [c for c in skipped if c not in {c for c, _, _ in decided}]

        inbox = all_decisions(stack.identity)
        assert len(inbox) == 20
        assert set(inbox["decided_by"]) == {USER}
        assert list(zip(inbox["contact_id"], inbox["citizen_id"], inbox["decision"])) == decided
        assert not set(skipped) & set(inbox["contact_id"])
        if queue_size == DECISIONS:  # every item decided: the queue page says so
            assert _shown(page)[0] == "/queue"
            assert "0 items to review" in page.evaluate("document.getElementById('summary').textContent")

        # the journeys DAG's link step applies them, while the service keeps the store open
        run_link_step(stack.lake, stack.identity, stack.register, PIPELINE_KEY.encode())
        applied = _store(stack.identity, "select * from review_applied").set_index("decision_id")
        assert set(applied.index) == set(inbox["decision_id"]) and set(applied["outcome"]) == {"applied"}
        after = _links(stack.identity)
        for d in inbox.to_dict("records"):
            contact, citizen, person = d["contact_id"], d["citizen_id"], before.loc[d["contact_id"], "person_id"]
            if d["decision"] == "accept":
                # the contact is the citizen's now, and so is every contact of its person: the person merged
                assert after.loc[contact, "citizen_id"] == citizen and after.loc[contact, "decision"] != "review"
                earlier = before.index[before["person_id"] == person]
                assert (after.loc[earlier, "citizen_id"] == citizen).all(), contact
                counts = applied.loc[d["decision_id"]]
                assert counts["contacts_moved"] >= len(earlier) and counts["persons_merged"] >= 1, counts
            else:
                assert after.loc[contact, "citizen_id"] != citizen, contact
        # none is in review for the same citizen again; a rejected one may be, for its next best candidate
        queue = _store(stack.identity, "select contact_id, citizen_id from review_queue").set_index("contact_id")
        for contact, citizen, decision in decided:
            if contact in queue.index:
                assert decision == "reject" and queue.loc[contact, "citizen_id"] != citizen, (contact, decision)
        assert set(skipped) <= set(queue.index)
        # the service reads the new store: every decision applied
        page.navigate(f"{base}/decisions")
        assert page.evaluate("document.querySelectorAll('tr[data-state=applied]').length") == 20
        # and what one of them changed: the contacts of the person it merged into the citizen
        accepted = inbox.loc[inbox["decision"] == "accept", "decision_id"].iloc[0]
        page.navigate(f"{base}/decisions/{accepted}")
        assert page.evaluate("document.getElementById('state').textContent") == "applied"
        lines = page.evaluate("[...document.querySelectorAll('#changes li')].map(li => li.textContent)")
        assert any(line.startswith("contact ") and " -> " in line for line in lines), lines

        # u (on the queue page, or an item's): the last decision of this session, an accept, is undone
        last_contact, last_citizen, last = decided[-1]
        assert last == "accept"
        page.navigate(f"{base}{_path(skipped[-1])}" if skipped else f"{base}/queue")
        with page.loading():
            page.press("u")
        assert _shown(page)[0] == "/decisions"
        assert "Undone" in page.evaluate("document.getElementById('flash').textContent")
        inbox = all_decisions(stack.identity)
        assert len(inbox) == 21 and inbox["decision"].iloc[-1] == "undo"
        assert inbox["undoes"].iloc[-1] == inbox["decision_id"].iloc[19]

        run_link_step(stack.lake, stack.identity, stack.register, PIPELINE_KEY.encode())
        again = _links(stack.identity)
        assert again.loc[last_contact, "decision"] == "review"
        assert again.loc[last_contact, "person_id"] == before.loc[last_contact, "person_id"]
        assert again.loc[last_contact, "citizen_id"] == before.loc[last_contact, "citizen_id"]
        queue = _store(stack.identity, "select contact_id, citizen_id from review_queue").set_index("contact_id")
        assert last_contact in queue.index and queue.loc[last_contact, "citizen_id"] == last_citizen
        page.navigate(f"{base}{_path(last_contact)}")
        assert _shown(page) == (_path(last_contact), last_contact, last_citizen)
        assert page.errors == []
    # the service's log names routes, never a contact or a citizen
    text = log.read_text()
    assert "POST /decide 303" in text and "POST /undo-last 303" in text
    assert "GET /item/{contact_id:path} 200" in text
    for contact, citizen, _ in decided:
        assert contact not in text and citizen not in text
