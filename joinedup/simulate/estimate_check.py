"""The headline estimates (joinedup.report.estimate) against the simulator's truth, on small populations cut
from one run: bench/estimate.py and tests/report/test_estimate.py.

Why groups of one run stand in for separate small simulations: the simulator draws every person independently
(a household's members together), so the contacts of one group of households are a small simulation of their
own; each group is estimated as a report view would be, with the whole file's linked shares as the prior
(joinedup.report.estimate._retention). bench/estimate.py --sims runs genuinely separate seeded simulations too.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd

from joinedup.report.estimate import Estimate, HeadlineEstimates, headline_estimates, load_inputs
from joinedup.simulate.truth import TrueHeadline, published_attributes, true_headline, truth_contacts


def covered(e: Estimate, true: float) -> bool:
    """The estimate exists and its interval holds the true value."""
    return e.estimate is not None and e.low is not None and e.high is not None and e.low <= true <= e.high


def restrict_to(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame) -> None:
    """Shadow the facts with views holding only the contacts in `keys` (contact_key), their journeys (by first
    contact) and the switches into them: a small population's own analytics file, as the estimator reads it."""
    db = con.execute("select current_database()").fetchall()[0][0].replace('"', '""')
    con.register("keep_keys", keys[["contact_key"]])
    con.execute(f"""create or replace temp view fct_contacts as select * from "{db}".main.fct_contacts
                    where contact_key in (select contact_key from keep_keys)""")
    con.execute(f"""create or replace temp view fct_journeys as select * from "{db}".main.fct_journeys
                    where journey_id in (select journey_id from fct_contacts where contact_sequence = 1)""")
    con.execute(f"""create or replace temp view fct_channel_switches as select * from
                    "{db}".main.fct_channel_switches where to_contact_key in (select contact_key from keep_keys)""")


def household_groups(truth: pd.DataFrame, groups: int) -> pd.Series:
    """Group of each truth contact: its household (a person without one is their own), hashed into `groups`."""
    unit = truth["household_id"].where(truth["household_id"].fillna("0") != "0", "p" + truth["person_key"])
    return pd.Series(pd.util.hash_array(unit.to_numpy(dtype=str)) % groups, index=truth.index)


def group_estimates(analytics: Path, truth_dir: Path, key: bytes,
                    groups: int) -> list[tuple[HeadlineEstimates, TrueHeadline]]:
    """For each household group: the estimates from its contacts alone, and its truth."""
    truth = truth_contacts(truth_dir, key)
    published = published_attributes(analytics)
    truth["grp"] = household_groups(truth, groups)
    out = []
    with duckdb.connect(str(analytics), read_only=True) as con:
        prior = load_inputs(con).prior  # as a view of a report would have: the whole file's linked shares
        for g in range(groups):
            part = truth[truth["grp"] == g]
            restrict_to(con, part)
            out.append((headline_estimates(replace(load_inputs(con), prior=prior)), true_headline(part, published)))
    return out
