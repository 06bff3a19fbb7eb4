"""The review pages on a copy of the session pipeline's identity store: the queue in list_queue's order with its
facets, an item with its reason, both sides, the waterfall and the context, deciding and undoing through the
forms (decided_by is the logged-in user), the decisions page, and an access log without ids."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from joinedup.identity.link_step import run_link_step
from joinedup.review.decisions import all_decisions
from joinedup.review.queue import PAGE, Store, item, list_queue, waiting
from tests.conftest import PIPELINE_KEY
from tests.review.conftest import USER, Stack, add_household_contact, client_for, csrf_of, login


def _text(page: str) -> str:
    """A page's visible text, tags dropped, entities decoded, spaces collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def _ids(page: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r'<tr data-contact="([^"]+)"', page)]


def _item(contact_id: str) -> str:
    """An item page's path, as the pages link it (contact ids may hold <, >, spaces: message ids)."""
    return "/item/" + quote(contact_id, safe=":@")


def _decide(client: TestClient, contact_id: str, citizen_id: str, decision: str, **filters: str):
    return client.post("/decide", data={"csrf_token": csrf_of(client, "/queue"), "contact_id": contact_id,
                                        "citizen_id": citizen_id, "decision": decision, **filters})


def test_the_queue_page_shows_the_queue_in_order_with_facets_and_filters(logged_in: TestClient,
                                                                         identity_copy: Path) -> None:
    store = Store(identity_copy)
    q = list_queue(store)
    assert q.total >= 20, "the pipeline fixture should leave a real review queue"
    page = logged_in.get("/queue")
    assert page.status_code == 200
    assert _ids(page.text) == [r.contact_id for r in q.rows]
    assert f"{q.total} items to review" in _text(page.text)
    for col, counts in q.facets.items():
        for value, n in counts.items():
            assert re.search(rf'data-facet="{col}" data-value="{re.escape(html.escape(value))}">[^<]*</a> '
                             rf'<span class="count">{n}</span>', page.text), (col, value)
    channel, n = next(iter(q.facets["channel"].items()))
    only = logged_in.get("/queue", params={"channel": channel})
    assert _ids(only.text) == [r.contact_id for r in list_queue(store, channel=channel).rows]
    assert f"{n} item" in _text(only.text)
    assert all(r.channel == channel for r in list_queue(store, channel=channel, limit=1000).rows)
    if q.total > PAGE:
        second = logged_in.get("/queue", params={"page": 2})
        assert _ids(second.text) == [r.contact_id for r in list_queue(store, offset=PAGE).rows]


def test_the_item_page_says_why_each_kind_of_item_is_in_review(stack: Stack) -> None:
    """A score-band item of the pipeline's own queue, and a merge protection refusal through the shared email
    of a household (a contact landed for it, then the link step as the journeys DAG runs it)."""
    contact, citizen = add_household_contact(stack)
    run_link_step(stack.lake, stack.identity, stack.register, PIPELINE_KEY.encode())
    client = client_for(stack.identity)
    assert login(client).status_code == 303
    store = Store(stack.identity)
    kinds = store.query("""select reason, first(contact_id order by contact_id) as contact_id,
                                  first(refused_identifier order by contact_id) as identifier
                           from review_queue group by reason order by reason""")
    reasons = set(kinds["reason"])
    assert "score_band" in reasons and "refused: different_person" in reasons, reasons
    for row in kinds.to_dict("records"):
        it = item(store, row["contact_id"])
        text = _text(client.get(_item(row["contact_id"])).text)
        assert f"Why it is in review: {it.reason_text}" in text, row
        if row["reason"].startswith("refused: "):
            assert it.reason_text.startswith(f"Merge protection refused the link through the shared "
                                             f"{row['identifier']}: "), it.reason_text
            assert f"identifier: {row['identifier']}" in text
        else:
            assert "Merge protection" not in text
    band = kinds.set_index("reason").loc["score_band", "contact_id"]
    assert ("Why it is in review: The match probability is between the review and the automatic thresholds."
            in _text(client.get(_item(band)).text))
    text = _text(client.get(_item(contact)).text)
    assert f"Is contact {contact} citizen {citizen} ?" in text
    assert ("Why it is in review: Merge protection refused the link through the shared email: a stated forename or "
            "date of birth clearly differs (another member of the household using the same identifier).") in text
    assert "(protection refused: different person; identifier: email)" in text
    # the side by side shows why: the forename differs, the email is the same
    page = client.get(_item(contact)).text
    assert re.search(r'<tr class="differs" data-field="given_name">\s*<th>Given name</th><td>Zebedee</td>', page)
    assert re.search(r'<tr class="same" data-field="email">', page)


def test_the_item_page_shows_both_sides_the_waterfall_and_the_context(logged_in: TestClient,
                                                                     identity_copy: Path) -> None:
    store = Store(identity_copy)
    first = list_queue(store).rows[0]
    it = item(store, first.contact_id)
    page = logged_in.get(_item(first.contact_id)).text
    rows = re.findall(r'<tr class="(same|differs|one-sided)" data-field="([^"]+)">\s*<th>[^<]*</th>'
                      r'<td>([^<]*)</td><td>([^<]*)</td>', page)
    assert [r[1] for r in rows] == [f for f, _, _ in it.compared] and rows
    for state, _field, a, b in rows:
        if state == "differs":
            assert a != b
    # the waterfall: the prior, one bar per comparison, then the final score
    steps = re.findall(r'<g class="step (prior|up|down|final)" data-label="([^"]+)">', page)
    assert [s[0] for s in steps][0] == "prior" and steps[-1] == ("final", "Final score")
    assert len(steps) == len(it.waterfall) + 1
    assert '<svg class="waterfall"' in page
    # the context: the person's other contacts and the candidate's, and the (empty) history
    assert 'id="person-contacts"' in page and 'id="citizen-contacts"' in page
    for other in it.citizen_contacts[:3]:
        assert html.escape(other["contact_id"]) in page
    assert "No decision on this item yet." in page
    assert "Keys:" in _text(page) and "<kbd>a</kbd> accept" in page
    # the JSON API says the same
    data = logged_in.get("/api" + _item(first.contact_id)).json()
    assert data["reason_text"] == it.reason_text and len(data["waterfall"]) == len(it.waterfall)


def test_deciding_records_the_user_moves_on_and_undo_brings_the_item_back(logged_in: TestClient,
                                                                          identity_copy: Path) -> None:
    store = Store(identity_copy)
    rows = list_queue(store).rows
    first, second, third = rows[0], rows[1], rows[2]
    r = _decide(logged_in, first.contact_id, first.citizen_id, "accept")
    assert r.status_code == 303 and r.headers["location"] == _item(second.contact_id)
    assert "Accepted" in _text(logged_in.get(r.headers["location"]).text)
    inbox = all_decisions(identity_copy)
    assert inbox[["contact_id", "citizen_id", "decision", "decided_by"]].values.tolist() == \
        [[first.contact_id, first.citizen_id, "accept", USER]]
    assert first.contact_id not in _ids(logged_in.get("/queue").text)  # decided: waiting for the link step
    assert first.contact_id in waiting(store)[0]
    # deciding it again, or for another citizen than the queue's, is refused with a message
    again = _decide(logged_in, first.contact_id, first.citizen_id, "reject")
    assert "decided already" in _text(logged_in.get(again.headers["location"]).text)
    other = _decide(logged_in, second.contact_id, "C-not-the-candidate", "accept")
    assert "another citizen" in _text(logged_in.get(other.headers["location"]).text)
    assert len(all_decisions(identity_copy)) == 1
    # skipping the second and rejecting the third: next after it is the fourth
    r = _decide(logged_in, third.contact_id, third.citizen_id, "reject")
    assert r.headers["location"] == _item(rows[3].contact_id)
    # u: undo the last decision of this session (the reject), then the one before it (the accept)
    token = csrf_of(logged_in, "/queue")
    r = logged_in.post("/undo-last", data={"csrf_token": token})
    assert r.headers["location"] == _item(third.contact_id)  # pending, so back in the queue at once
    r = logged_in.post("/undo-last", data={"csrf_token": token})
    assert r.headers["location"] == _item(first.contact_id)
    inbox = all_decisions(identity_copy)
    assert list(inbox["decision"]) == ["accept", "reject", "undo", "undo"]
    assert set(inbox["decided_by"]) == {USER}
    assert _ids(logged_in.get("/queue").text)[:3] == [first.contact_id, second.contact_id, third.contact_id]
    history = _text(logged_in.get(_item(first.contact_id)).text)
    assert "accept pending" in history and "undo pending" in history
    r = logged_in.post("/undo-last", data={"csrf_token": token, "back": "/queue"})
    assert r.headers["location"] == "/queue"
    assert "Nothing to undo" in _text(logged_in.get("/queue").text)


def test_the_decisions_page_lists_them_and_undoes_one(logged_in: TestClient, identity_copy: Path) -> None:
    store = Store(identity_copy)
    row = list_queue(store).rows[0]
    _decide(logged_in, row.contact_id, row.citizen_id, "reject")
    (did,) = all_decisions(identity_copy)["decision_id"]
    page = logged_in.get("/decisions").text
    assert f'data-decision="{did}" data-state="pending"' in page
    assert f'action="/decisions/{did}/undo"' in page
    detail = _text(logged_in.get(f"/decisions/{did}").text)
    assert f"Reject by {USER}" in detail and "Nothing yet: the next link step applies it." in detail
    r = logged_in.post(f"/decisions/{did}/undo", data={"csrf_token": csrf_of(logged_in, "/decisions")})
    assert r.headers["location"] == _item(row.contact_id)
    page = logged_in.get("/decisions").text
    assert f'data-decision="{did}" data-state="undone"' in page
    assert f'action="/decisions/{did}/undo"' not in page
    again = logged_in.post(f"/decisions/{did}/undo", data={"csrf_token": csrf_of(logged_in, "/decisions")})
    assert "already undone" in _text(logged_in.get(again.headers["location"]).text)
    api = logged_in.get("/api/decisions").json()
    assert [d["decision"] for d in api] == ["undo", "reject"]


def test_pages_are_not_cached_and_load_nothing_from_elsewhere(logged_in: TestClient, identity_copy: Path) -> None:
    row = list_queue(Store(identity_copy)).rows[0]
    r = logged_in.get(_item(row.contact_id))
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["referrer-policy"] == "no-referrer" and r.headers["x-frame-options"] == "DENY"
    csp = r.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert set(re.findall(r'<(?:script|style) nonce="([^"]+)"', r.text)) == {nonce}
    assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)="(?!data:)', r.text)
    assert not re.search(r"https?://", r.text)


def test_the_access_log_names_routes_not_contact_ids(logged_in: TestClient, identity_copy: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    row = list_queue(Store(identity_copy)).rows[0]
    with caplog.at_level(logging.INFO, logger="joinedup.review"):
        logged_in.get(_item(row.contact_id), params={"channel": row.channel})
        logged_in.get("/api" + _item(row.contact_id))
        _decide(logged_in, row.contact_id, row.citizen_id, "accept")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("joinedup.review")]
    assert any("GET /item/{contact_id:path} 200" in line for line in lines), lines
    assert any("POST /decide 303" in line for line in lines), lines
    for line in lines:
        assert row.contact_id not in line and str(row.citizen_id) not in line, line


def test_an_undo_before_the_link_step_cancels_the_decision(stack: Stack) -> None:
    """Undone while pending (the item is back in the queue at once), the link step applies the decision and its
    undo in one pass: the contact stays in review with its person, as if never decided; the other decision
    takes effect."""
    client = client_for(stack.identity)
    assert login(client).status_code == 303
    store = Store(stack.identity)
    first, second = list_queue(store).rows[:2]
    person = store.query("select person_id from contact_links where contact_id = ?", [first.contact_id])
    _decide(client, first.contact_id, first.citizen_id, "accept")
    _decide(client, second.contact_id, second.citizen_id, "accept")
    (mine, other) = all_decisions(stack.identity)["decision_id"]
    r = client.post(f"/decisions/{mine}/undo", data={"csrf_token": csrf_of(client, "/decisions")})
    assert r.headers["location"] == _item(first.contact_id)
    assert first.contact_id in _ids(client.get("/queue").text)
    run_link_step(stack.lake, stack.identity, stack.register, PIPELINE_KEY.encode())
    links = store.query("select contact_id, person_id, citizen_id, decision from contact_links "
                        "where contact_id in (?, ?)", [first.contact_id, second.contact_id]).set_index("contact_id")
    assert links.loc[first.contact_id, "decision"] == "review"
    assert links.loc[first.contact_id, "person_id"] == person["person_id"].iloc[0]
    assert links.loc[second.contact_id, "citizen_id"] == second.citizen_id
    assert first.contact_id in _ids(client.get("/queue").text)
    page = client.get("/decisions").text
    assert f'data-decision="{mine}" data-state="undone"' in page
    assert f'data-decision="{other}" data-state="applied"' in page
