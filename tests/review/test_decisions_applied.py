"""Review decisions go through the pipeline's link step: the journeys DAG applies them, the identity store and
the published marts change accordingly, later deliveries respect them, and an undo puts back what was changed.

A pipeline of its own (the session simulation's first days), so deciding and undoing change nothing other tests
read: days 1-7 are delivered and published, caseworkers decide, the journeys DAG runs, days 8-10 arrive with an
undo, and the journeys DAG runs again.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import duckdb
import pytest

from joinedup.inprocess import PipelinePaths, pipeline_env, run_ingest_dags, run_journeys_dag, run_pipeline
from joinedup.review.decisions import record, undo
from joinedup.review.queue import Store, list_queue
from tests.conftest import PIPELINE_KEY

pytestmark = pytest.mark.slow
START = date(2025, 3, 3)
FIRST_DAYS, MORE_DAYS = 7, 3


def _store(paths: PipelinePaths, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(paths.identity / "identity.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _published(paths: PipelinePaths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        return con.execute(sql).fetchall()


def _links(paths: PipelinePaths, contact_ids: list[str]) -> dict[str, tuple]:
    rows = _store(paths, """select contact_id, person_id, citizen_id, decision, explanation from contact_links
                            where contact_id in (select unnest(?::varchar[]))""", [contact_ids])
    return {r[0]: r[1:] for r in rows}


def _person_key(paths: PipelinePaths, contact_id: str) -> str:
    return _store(paths, """select p.person_key from contact_links l join person_keys p using (person_id)
                            where l.contact_id = ?""", [contact_id])[0][0]


def _published_person(paths: PipelinePaths, contact_id: str) -> str:
    (key,) = _store(paths, "select contact_key from contact_keys where contact_id = ?", [contact_id])[0]
    return _published(paths, f"select person_key from fct_contacts where contact_key = '{key}'")[0][0]


@pytest.fixture(scope="module")
def world(pipeline: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    _, sim, _ = pipeline
    root = tmp_path_factory.mktemp("review-applied")
    exports = root / "exports"
    for channel in (sim / "exports").iterdir():  # deliveries so far: the first days only
        for d in range(FIRST_DAYS):
            day = (START + timedelta(days=d)).isoformat()
            if (channel / day).exists():
                (exports / channel.name).mkdir(parents=True, exist_ok=True)
                (exports / channel.name / day).symlink_to(channel / day)
    paths = PipelinePaths.under(root, exports, sim / "register" / "citizens.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JOINEDUP_PSEUDONYM_KEY", PIPELINE_KEY)
        run_pipeline(paths, START, START + timedelta(days=FIRST_DAYS - 1), init_db=False)
        yield {"paths": paths, "sim": sim, "exports": exports}


@pytest.fixture(scope="module")
def decided(world: dict[str, Any]) -> dict[str, Any]:
    """Accept the items whose person has other contacts (a merge), reject others; run the journeys DAG."""
    paths = world["paths"]
    queue = list_queue(Store(paths.identity), limit=1000).rows
    assert len(queue) >= 8, "too few review items in the simulation to test decisions"
    accepts = [r for r in queue if r.contacts_affected > 1][:3] + [r for r in queue if r.contacts_affected == 1][:2]
    rejects = [r for r in queue if r not in accepts][:3]
    before = _links(paths, [r.contact_id for r in queue])
    persons_before = _published(paths, "select count(*) from dim_persons")[0][0]
    review_before = _published(paths, "select count(*) from fct_contacts where link_decision = 'review'")[0][0]
    mates = {r.contact_id: [c for (c,) in _store(paths, "select contact_id from contact_links where person_id = ? "
                                                        "and contact_id <> ?", [before[r.contact_id][0], r.contact_id])]
             for r in accepts}
    made = {r.contact_id: record(paths.identity, r.contact_id, r.citizen_id, "accept", "caseworker.ann")
            for r in accepts}
    made |= {r.contact_id: record(paths.identity, r.contact_id, r.citizen_id, "reject", "caseworker.bob")
             for r in rejects}
    with pipeline_env(paths):
        assert run_journeys_dag() == "success"
    return {"accepts": accepts, "rejects": rejects, "before": before, "mates": mates, "made": made,
            "persons_before": persons_before, "review_before": review_before}


def test_accepts_join_the_citizen_with_their_persons_other_contacts(world, decided) -> None:
    paths = world["paths"]
    after = _links(paths, [r.contact_id for r in decided["accepts"]])
    for r in decided["accepts"]:
        person, citizen, decision, explanation = after[r.contact_id]
        assert (person, citizen, decision) == (r.citizen_id, r.citizen_id, "matched")
        assert json.loads(explanation)["via"] == "review:accept"
        for mate in decided["mates"][r.contact_id]:  # persons merged: the whole person moved
            assert _links(paths, [mate])[mate][0] == r.citizen_id
        # published: the contact is under the citizen's pseudonym in the marts
        assert _published_person(paths, r.contact_id) == _person_key(paths, r.contact_id)
    merged = _store(paths, """select sum(persons_merged), sum(contacts_moved) from review_applied
                               where decision_id in (select unnest(?::varchar[]))""",
                    [[decided["made"][r.contact_id].decision_id for r in decided["accepts"]]])[0]
    detail = _store(paths, "select * from review_applied")
    persons = {decided["before"][r.contact_id][0] for r in decided["accepts"]}
    assert merged[0] == len(persons), (detail, decided["before"])
    assert merged[1] >= len(decided["accepts"]) + sum(map(len, decided["mates"].values()))


def test_rejects_stay_apart_from_the_candidate(world, decided) -> None:
    paths = world["paths"]
    after = _links(paths, [r.contact_id for r in decided["rejects"]])
    for r in decided["rejects"]:
        assert after[r.contact_id][1] != r.citizen_id
        queued = {x.contact_id: x.citizen_id for x in list_queue(Store(paths.identity), limit=10_000).rows}
        assert queued.get(r.contact_id) != r.citizen_id


def test_the_marts_are_recomputed(world, decided) -> None:
    paths = world["paths"]
    review_after = _published(paths, "select count(*) from fct_contacts where link_decision = 'review'")[0][0]
    assert review_after <= decided["review_before"] - len(decided["accepts"])
    persons_after = _published(paths, "select count(*) from dim_persons")[0][0]
    assert persons_after < decided["persons_before"]  # pseudonymous persons merged into citizens
    # journeys reconcile with the contacts and switches they are built from (the singular dbt tests ran in the DAG)
    assert _published(paths, "select sum(contacts) from fct_journeys")[0][0] == \
        _published(paths, "select count(*) from fct_contacts")[0][0]


def test_every_decision_is_audited(world, decided) -> None:
    paths = world["paths"]
    rows = _store(paths, """select decision_id, decided_by, decision, outcome, applied_at from review_decisions
                            order by decided_at""")
    assert len(rows) == len(decided["made"])
    assert {r[1] for r in rows} == {"caseworker.ann", "caseworker.bob"}
    assert all(r[3] == "applied" and r[4] is not None for r in rows)
    for r in decided["accepts"]:
        did = decided["made"][r.contact_id].decision_id
        changes = _store(paths, "select table_name, row_key, person_id_before, person_id_after from review_changes "
                                "where decision_id = ?", [did])
        assert ("persons", r.contact_id, decided["before"][r.contact_id][0], r.citizen_id) in changes


@pytest.fixture(scope="module")
def later(world, decided) -> dict[str, Any]:
    """Days 8-10 arrive, one accept is undone; the ingest DAGs and the journeys DAG run."""
    paths, sim, exports = world["paths"], world["sim"], world["exports"]
    for channel in (sim / "exports").iterdir():
        for d in range(FIRST_DAYS, FIRST_DAYS + MORE_DAYS):
            day = (START + timedelta(days=d)).isoformat()
            if (channel / day).exists():
                (exports / channel.name).mkdir(parents=True, exist_ok=True)
                (exports / channel.name / day).symlink_to(channel / day)
    undone = decided["accepts"][0]
    u = undo(paths.identity, decided["made"][undone.contact_id].decision_id, "caseworker.ann")
    new_first = START + timedelta(days=FIRST_DAYS)
    with pipeline_env(paths):
        run_ingest_dags(new_first, new_first + timedelta(days=MORE_DAYS - 1))
        assert run_journeys_dag() == "success"
    return {"undone": undone, "undo": u}


def test_a_later_run_with_new_days_respects_every_decision(world, decided, later) -> None:
    paths = world["paths"]
    new = _store(paths, "select count(*) from contact_links l join contact_keys using (contact_id)")[0][0]
    assert new > len(decided["before"])
    kept = [r for r in decided["accepts"] if r is not later["undone"]]
    after = _links(paths, [r.contact_id for r in kept + decided["rejects"]])
    for r in kept:
        assert after[r.contact_id][1] == r.citizen_id
    for r in decided["rejects"]:
        assert after[r.contact_id][1] != r.citizen_id


def test_undo_restores_the_earlier_state(world, decided, later) -> None:
    paths = world["paths"]
    r = later["undone"]
    person, citizen, decision, explanation = _links(paths, [r.contact_id])[r.contact_id]
    was = decided["before"][r.contact_id]
    assert (person, citizen, decision) == was[:3] == (was[0], None, "review")
    for mate in decided["mates"][r.contact_id]:  # the person is split from the citizen again
        assert _links(paths, [mate])[mate][0] == was[0]
    assert r.contact_id in {x.contact_id for x in list_queue(Store(paths.identity), limit=10_000).rows}
    outcome = _store(paths, "select outcome, persons_split from review_decisions where decision_id = ?",
                     [later["undo"].decision_id])[0]
    assert outcome[0] == "applied"


def test_relinking_under_new_settings_respects_every_decision(world, decided, later) -> None:
    """`joinedup relink` re-decides every stored contact (here under a stricter review threshold) and keeps the
    decisions in force, and the record of them."""
    from joinedup.identity.relink import relink
    from linkage.settings import load_settings

    paths = world["paths"]
    applied = _store(paths, "select count(*) from review_applied")[0][0]
    settings = load_settings(thresholds={"review": 0.9})
    relink(paths.lake, paths.identity, paths.register, PIPELINE_KEY.encode(), settings)
    kept = [r for r in decided["accepts"] if r is not later["undone"]]
    after = _links(paths, [r.contact_id for r in kept + decided["rejects"]])
    for r in kept:
        assert after[r.contact_id][1:3] == (r.citizen_id, "matched")
    for r in decided["rejects"]:
        assert after[r.contact_id][1] != r.citizen_id
    assert _store(paths, "select count(*) from review_applied")[0][0] == applied
    assert (paths.identity / "review" / "decisions.sqlite").exists()
