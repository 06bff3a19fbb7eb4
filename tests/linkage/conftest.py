"""Shared fixtures: a small synthetic register/contacts set and a model trained on it once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from linkage.compare import NAMES
from linkage.eval.synthetic import make_contacts, make_register
from linkage.model import Model, pair_weights
from linkage.prepare import PreparedRegister, prepare_register
from linkage.standardise import standardise
from linkage.train import train

HOUSEHOLD = pd.DataFrame([
    # two people at one address sharing a mobile and an e-mail: neither identifies either of them
    {"citizen_id": "H1", "given_name": "Mary", "family_name": "Quennell", "date_of_birth": "1961-04-02",
     "address_line": "7 Tern Close", "town": "Leeds", "postcode": "LS6 2QT", "email": "quennells@example.net",
     "phone": "07700 900777"},
    {"citizen_id": "H2", "given_name": "Glen", "family_name": "Quennell", "date_of_birth": "1959-11-23",
     "address_line": "7 Tern Close", "town": "Leeds", "postcode": "LS6 2QT", "email": "quennells@example.net",
     "phone": "07700 900777"},
    {"citizen_id": "B1", "given_name": "Elizabeth", "family_name": "Boothroyd", "date_of_birth": "1952-03-12",
     "address_line": "4 Rose Street", "town": "Leeds", "postcode": "LS1 4AB", "email": "betty.b@example.net",
     "phone": "07700 900123", "known_handles": "BettyBoo52"},
    {"citizen_id": "J1", "given_name": "Test", "family_name": "Junk", "date_of_birth": "1970-01-01",
     "email": "test@test.com", "phone": "07000 000000"},
])


STATE_KEY = b"test-identifier-key-0123456789abcdef"  # what the pipeline's pseudonymisation key is to link()


@pytest.fixture(scope="session")
def register() -> pd.DataFrame:
    reg = make_register(1500, seed=3).drop(columns=["_handle"])
    return pd.concat([reg, HOUSEHOLD], ignore_index=True).astype(object).where(lambda d: d.notna(), None)


@pytest.fixture(scope="session")
def contacts_truth(register) -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_contacts(register.iloc[:1500].assign(_handle=make_register(1500, seed=3)["_handle"]), 3000, seed=4)


@pytest.fixture(scope="session")
def prepared(register) -> PreparedRegister:
    return prepare_register(register)


@pytest.fixture(scope="session")
def model(prepared, contacts_truth):
    con, _ = contacts_truth
    # other tests prepare small registers of their own: this one's names must teach the handle decomposer
    return train(prepared.teach_lexicon(), standardise(con, "contact_id"), n_random=50_000)


def common_and_rare_agreement(model: Model, prepared: PreparedRegister, column: str, comparison: str) -> np.ndarray:
    """Full-agreement weights on `comparison` with the register's commonest and its rarest `column` value."""
    values = prepared.std[column]
    counts = values.value_counts()
    rows = np.array([values[values == counts.index[0]].index[0], values[values == counts.index[-1]].index[0]])
    levels = np.full((2, len(NAMES)), -1, dtype=np.int8)
    levels[:, NAMES.index(comparison)] = 3
    return pair_weights(model, levels, rows, prepared.tf)[:, NAMES.index(comparison)]
