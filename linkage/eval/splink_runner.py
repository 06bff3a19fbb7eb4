"""Splink 5 (DuckDB backend) on the same data, for comparison in link-eval.

Configured as Splink's tutorials advise: link_only, name comparisons with term-frequency
adjustment, DOB and postcode comparisons, u by random sampling, the random-match probability
from deterministic rules, m by EM on two blocking rules. Inputs are our standardised columns,
so the comparison is between the models, not the cleaning. Needs `uv run --group bench`.
"""

from __future__ import annotations

import logging

import pandas as pd

from linkage.standardise import standardise

SPLINK_COLUMNS = {"given": "first_name", "family": "surname", "dob": "dob", "postcode": "postcode",
                  "town": "city", "address": "address", "email": "email", "phone": "phone", "ref": "ref"}


def _frame(std: pd.DataFrame) -> pd.DataFrame:
    df = std[["id", *SPLINK_COLUMNS]].rename(columns={"id": "unique_id", **SPLINK_COLUMNS}).copy()
    d = df["dob"]
    df["dob"] = (d.str[:4] + "-" + d.str[4:6] + "-" + d.str[6:8]).where(d.notna(), None)
    return df.astype(object).where(df.notna(), None)


def splink_link(register: pd.DataFrame, contacts: pd.DataFrame, threshold: float = 0.98) -> pd.DataFrame:
    """contact_id, citizen_id (best candidate above threshold, else None), match_probability."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    reg = _frame(standardise(register, "citizen_id"))
    con = _frame(standardise(contacts, "contact_id"))
    present = [c for c in SPLINK_COLUMNS.values() if reg[c].notna().any() and con[c].notna().any()]
    comparisons = []
    if "first_name" in present:
        comparisons.append(cl.NameComparison("first_name").configure(term_frequency_adjustments=True))
    if "surname" in present:
        comparisons.append(cl.NameComparison("surname").configure(term_frequency_adjustments=True))
    if "dob" in present:
        comparisons.append(cl.DateOfBirthComparison("dob", input_is_string=True))
    if "postcode" in present:
        comparisons.append(cl.PostcodeComparison("postcode"))
    if "city" in present:
        comparisons.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
    if "address" in present:
        comparisons.append(cl.LevenshteinAtThresholds("address", [1, 3]))
    for col in ("email", "phone", "ref"):
        if col in present:
            comparisons.append(cl.ExactMatch(col))
    rules = [block_on("first_name", "surname"), block_on("dob"), block_on("postcode"), block_on("email"),
             block_on("phone"), block_on("ref"), block_on("surname", "dob")]
    rules = [r for r, cols in zip(rules, [("first_name", "surname"), ("dob",), ("postcode",), ("email",),
                                          ("phone",), ("ref",), ("surname", "dob")])
             if all(c in present for c in cols)]
    settings = SettingsCreator(link_type="link_only", comparisons=comparisons,
                               blocking_rules_to_generate_predictions=rules, retain_matching_columns=False)
    db = DuckDBAPI()
    linker = Linker([db.register(reg, table_name="register"), db.register(con, table_name="contacts")],
                    settings, log_level=logging.ERROR)
    det = [r for r, cols in zip([block_on("email"), block_on("phone"), block_on("first_name", "surname", "dob")],
                                [("email",), ("phone",), ("first_name", "surname", "dob")])
           if all(c in present for c in cols)]
    linker.training.estimate_probability_two_random_records_match(det, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    for rule in [block_on("first_name", "surname"), block_on("dob")]:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as exc:
            logging.getLogger(__name__).warning("Splink EM on %s skipped: %s", rule, exc)
    pred = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    left_is_reg = pred["source_dataset_l"].iloc[0] == "register" if len(pred) else True
    cid, rid = ("unique_id_r", "unique_id_l") if left_is_reg else ("unique_id_l", "unique_id_r")
    best = pred.sort_values("match_probability", ascending=False).drop_duplicates(cid)
    best = best[best["match_probability"] >= threshold]
    out = pd.DataFrame({"contact_id": contacts["contact_id"].astype(str)})
    m = best.set_index(cid)
    out["citizen_id"] = out["contact_id"].map(m[rid])
    out["match_probability"] = out["contact_id"].map(m["match_probability"]).fillna(0.0)
    out["decision"] = out["citizen_id"].notna().map({True: "matched", False: "unmatched"})
    return out
