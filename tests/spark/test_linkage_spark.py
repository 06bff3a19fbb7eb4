"""Linkage on Spark decides exactly what the DuckDB/pandas path decides (issue 20, items 2 and 6).

20,000 synthetic contacts against their 10,000-citizen register, plus one person no register knows whose twelve
contacts are chained by alternating shared e-mails and mobiles: the pandas path (linkage.pipeline.link) trains
and saves its model, the Spark path (linkage.spark.link) reads it, and every contact's person, citizen,
decision, explanation and probability must agree. One shared local[2] session (tests/spark/conftest.py).
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from linkage.eval.synthetic import make_contacts, make_register
from linkage.model import Model
from linkage.pipeline import OUTPUT_COLUMNS, link

CHAIN = 12  # contacts of the unregistered person, chained e-mail, mobile, e-mail, ...


def _chained_person() -> pd.DataFrame:
    """Contact i shares a mobile with i-1 or an e-mail with i+1, alternately: one person only through the chain.
    Their ids are shuffled so the smallest id sits mid-chain and labels must travel both ways."""
    ids = np.random.default_rng(7).permutation(CHAIN)
    return pd.DataFrame({
        "contact_id": [f"Z{ids[i]:03d}" for i in range(CHAIN)],
        "channel": "email",
        "occurred_at": [f"2025-02-{i + 1:02d} 09:00:00" for i in range(CHAIN)],
        "given_name": "Zebedee", "family_name": "Quackenbush", "date_of_birth": "1977-07-17",
        "email": [f"zq.{(i + 1) // 2}@mailbox.org" for i in range(CHAIN)],
        "phone": [f"07911 1234{i // 2:02d}" for i in range(CHAIN)],
    })


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    reg = make_register(10_000, seed=5)
    con, _ = make_contacts(reg, 20_000, seed=6)
    register = reg.drop(columns=["_handle"])
    contacts = pd.concat([con, _chained_person()], ignore_index=True)
    # the pandas path chains same-named carriers of a value in input order, the Spark path by contact id
    contacts = contacts.sort_values("contact_id", ignore_index=True).astype(object)
    return register, contacts.where(contacts.notna(), None)


@pytest.fixture(scope="module")
def both(spark, case, tmp_path_factory):
    """(pandas decisions, Spark steps), each contact once, by contact id."""
    from linkage.spark import link_steps

    register, contacts = case
    model_path = tmp_path_factory.mktemp("model") / "model.json"
    expected = link(register, contacts, model_out=model_path)
    steps = link_steps(spark, register, spark.createDataFrame(contacts), model=Model.load(model_path))
    got = steps.decisions.toPandas()
    return expected.set_index("contact_id").sort_index(), got.set_index("contact_id").sort_index(), steps, \
        Model.load(model_path)


def test_spark_decisions_equal_the_pandas_path(both):
    expected, got, _, _ = both
    assert len(expected) == 20_000 + CHAIN
    assert got.index.equals(expected.index)  # every contact, once
    assert list(got.reset_index().columns) == OUTPUT_COLUMNS
    for col in ("person_id", "citizen_id", "decision", "explanation"):
        differ = expected[col].fillna("<null>") != got[col].fillna("<null>")
        assert not differ.any(), f"{col} differs on {differ.sum()} contacts, e.g.\n" + \
            pd.concat({"pandas": expected.loc[differ, [col]], "spark": got.loc[differ, [col]]}, axis=1).head().to_string()
    for col in ("match_probability", "match_weight"):
        np.testing.assert_allclose(got[col].to_numpy(float), expected[col].to_numpy(float), rtol=0, atol=1e-9)

    # a case that exercises every kind of decision, not an easy one that any path would pass
    kinds = expected["decision"].value_counts()
    assert {"matched", "review", "unmatched"} <= set(kinds.index) and kinds.min() > 100
    vias = {json.loads(e)["via"].split(":")[0] for e in expected["explanation"]}
    assert {"score", "edge", "no_candidate", "cluster"} <= vias
    pseudonymous = expected.loc[expected["citizen_id"].isna(), "person_id"].value_counts()
    assert (pseudonymous > 1).sum() > 10  # persons made of several contacts by the clustering alone


def test_chained_person_is_one_person_and_one_component(both):
    expected, got, steps, _ = both
    chain = sorted(_chained_person()["contact_id"])
    for frame in (expected, got):
        persons = frame.loc[chain, "person_id"]
        assert persons.nunique() == 1 and persons.iloc[0].startswith("P")
        assert frame.loc[chain, "citizen_id"].isna().all()
    comps = steps.components.toPandas().set_index("node")["component"]
    assert set(comps.loc[chain]) == {chain[0]}  # the smallest id, found from the middle of the chain


def test_components_hold_whole_persons(both):
    """Merge protection only ever splits a connected component: each pseudonymous person of the pandas path's
    clustering lies in one Spark component; only a citizen, matched by score from several places, spans more."""
    expected, _, steps, _ = both
    comps = steps.components.toPandas().set_index("node")["component"]
    component = pd.Series(expected.index, index=expected.index).map(comps).fillna(
        pd.Series(expected.index, index=expected.index))
    per_person = component.groupby(expected["person_id"]).nunique()
    # a person spread over several components is a citizen matched by score on each side: no edge needed
    spread = per_person[per_person > 1].index
    assert expected.loc[expected["person_id"].isin(spread), "citizen_id"].notna().all()
    assert len(comps) > 100 and comps.groupby(comps).size().max() >= CHAIN


def test_spark_scores_are_predicts_own(spark, case, both):
    """What the stateful path settles (linkage.spark.incremental.predictions: the scored rows taken back in input
    order) is what linkage.pipeline.predict gives the pandas path: scores, what clustering compares, the pairs
    compared, and the scoring refusals in predict's order and types (the store keeps their bytes). The first 3,000
    contacts in batches of 700: refusals of several kinds, across several batches."""
    from linkage.pipeline import predict
    from linkage.prepare import prepare_register
    from linkage.settings import load_settings
    from linkage.spark.incremental import predictions, rows_in_order

    register, contacts = case
    settings = load_settings().model_copy(update={"batch_size": 700})
    first = contacts.iloc[:3000].reset_index(drop=True)
    expected = predict(prepare_register(register, settings), first, both[3], settings)
    got = predictions(rows_in_order(spark, both[2].scored, first["contact_id"].tolist()), settings.batch_size)

    assert got.pairs == expected.pairs > 0
    refused = expected.refusals
    assert refused["identifier"].nunique() > 1 and len(refused) > 20
    pd.testing.assert_frame_equal(got.refusals, refused, check_exact=True)
    for frame in ("scores", "standardised"):
        e, g = getattr(expected, frame), getattr(got, frame)
        assert list(g.columns) == list(e.columns)
        text = [c for c in e.columns if e[c].dtype == object]
        assert g[text].fillna("<null>").equals(e[text].fillna("<null>")), frame
    numbers = ["match_weight", "match_probability", "runner_up_weight"]
    np.testing.assert_allclose(got.scores[numbers].to_numpy(float), expected.scores[numbers].to_numpy(float),
                               rtol=0, atol=1e-9)


def _reference_components(edges: list[tuple[str, str]]) -> dict[str, str]:
    """Node -> smallest node reachable, by breadth-first search: the definition, in plain Python."""
    adj: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    out: dict[str, str] = {}
    for start in sorted(adj):
        if start in out:
            continue
        seen, todo = {start}, [start]
        while todo:
            for nxt in adj[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        for node in seen:
            out[node] = min(seen)
    return out


def test_connected_components_on_chains_cycles_and_stars(spark):
    from linkage.spark import connected_components

    rng = np.random.default_rng(11)
    names = [f"n{i:04d}" for i in rng.permutation(400)]
    edges = [(names[i], names[i + 1]) for i in range(199)]  # a 200-node path, labels shuffled along it
    edges += [(names[200 + i], names[200 + (i + 1) % 50]) for i in range(50)]  # a 50-cycle
    edges += [(names[250], names[251 + i]) for i in range(40)]  # a star
    edges += [(names[300 + 2 * i], names[301 + 2 * i]) for i in range(30)] + [(names[399], names[399])]
    got = connected_components(spark, spark.createDataFrame(edges, "a string, b string")).toPandas()
    assert dict(zip(got["node"], got["component"])) == _reference_components(edges)


def test_without_a_model_spark_trains_the_pandas_paths_model(spark):
    """No model given: EM runs on the driver over a sample of the contacts (all of them, up to 50,000), with the
    pandas path's own training, so the model is the one the pandas path would learn."""
    from linkage.pipeline import resolve_model
    from linkage.prepare import prepare_register
    from linkage.settings import load_settings
    from linkage.spark import train
    from linkage.state import load_state

    reg = make_register(1500, seed=8)
    contacts, _ = make_contacts(reg, 3000, seed=9)
    contacts = contacts.astype(object).where(contacts.notna(), None)
    settings = load_settings()
    prepared = prepare_register(reg.drop(columns=["_handle"]), settings)
    expected = resolve_model(prepared, contacts, None, load_state(None), settings)
    got = train(spark, prepared, spark.createDataFrame(contacts), None, settings)
    assert got.trained_on == expected.trained_on and got.trained_on
    for name in expected.m:
        np.testing.assert_allclose(got.m[name], expected.m[name], rtol=1e-9, atol=0)
        np.testing.assert_allclose(got.u[name], expected.u[name], rtol=1e-9, atol=0)
    assert got.p_in_register == pytest.approx(expected.p_in_register, rel=1e-9)
