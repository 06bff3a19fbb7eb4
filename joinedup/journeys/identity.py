"""The link step: give every landed contact a person, keep PII in the identity store, publish only keyed hashes.

Incremental: contacts already in the identity store keep their person; only new contact ids are linked, against
the register and the persons remembered from earlier runs. The outputs are rewritten whole from the store, sorted,
so re-running gives the same bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from joinedup.journeys.pseudonym import keyed_hashes
from linkage.dates import normalise_dob
from linkage.io import read_table
from linkage.pipeline import LinkStats, link
from linkage.postcodes import parse_postcode

# What linkage reads from a contact: the identity fields of the canonical contact, plus when and where.
LINK_COLUMNS = (
    "contact_id", "channel", "occurred_at", "given_name", "family_name", "full_name", "date_of_birth",
    "postcode", "address_line", "email", "phone", "handle", "display_name", "location", "message_text",
    "reference_id", "case_ref",
)
LINKS_COLUMNS = ("contact_id", "person_id", "citizen_id", "match_probability", "match_weight", "decision",
                 "explanation")
AGE_BANDS = ((16, "16-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65-74"),
             (75, "75+"))


@dataclass(frozen=True)
class LinkStepResult:
    contacts: int
    new_contacts: int
    persons: int
    registered_contacts: int
    review_contacts: int
    pairs: int


def raw_glob(lake: Path) -> str:
    return str(lake / "raw" / "*" / "*" / "*.parquet")


def read_lake_contacts(lake: Path, columns: tuple[str, ...] = LINK_COLUMNS) -> pd.DataFrame:
    """Every landed contact (all channels, all days), identity columns as strings, in contact_id order."""
    if not list((lake / "raw").glob("*/*/*.parquet")):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    cols = ", ".join(
        "strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') as occurred_at" if c == "occurred_at" else f"cast({c} as varchar) as {c}"
        for c in columns
    )
    with duckdb.connect() as con:
        df = con.execute(
            f"select {cols} from read_parquet(?, union_by_name = true) order by contact_id", [raw_glob(lake)]
        ).df()
    return df.astype(object).where(df.notna(), None)


def _band(dob: str | None, as_of: date) -> str | None:
    digits = normalise_dob(dob)
    if not digits:
        return None
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    label = None
    for lower, name in AGE_BANDS:
        if age >= lower:
            label = name
    return label


def _district(postcode: str | None) -> str | None:
    parsed = parse_postcode(postcode)
    return parsed[1] if parsed else None


def _modes(joined: pd.DataFrame, column: str) -> pd.Series:
    """Per person, the value their contacts gave most often (ties: the smallest), vectorised for millions."""
    vals = joined.loc[joined[column].notna() & (joined[column] != ""), ["person_id", column]]
    counts = vals.value_counts().rename("n").reset_index()
    counts = counts.sort_values(["person_id", "n", column], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates("person_id").set_index("person_id")[column]


def person_attributes(links: pd.DataFrame, contacts: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """Coarse attributes per person: the register's for citizens, else what their contacts said most often.

    Ages are taken at the latest contact in the data, not today, so a re-run gives the same bands.
    """
    as_of = pd.to_datetime(contacts["occurred_at"]).max()
    as_of = as_of.date() if pd.notna(as_of) else date(2000, 1, 1)
    joined = links[["contact_id", "person_id", "citizen_id"]].merge(
        contacts[["contact_id", "date_of_birth", "postcode"]], on="contact_id", how="left"
    )
    persons = joined.groupby("person_id", sort=True)["citizen_id"].first().rename("citizen_id").to_frame()
    reg_cols = [c for c in ("citizen_id", "date_of_birth", "postcode") if c in register]
    reg = register[reg_cols].drop_duplicates("citizen_id").set_index("citizen_id") \
        if "citizen_id" in register else pd.DataFrame(columns=["date_of_birth", "postcode"])
    persons = persons.join(reg, on="citizen_id")
    known = persons["citizen_id"].notna() & persons["citizen_id"].isin(reg.index)
    for col in ("date_of_birth", "postcode"):
        if col not in persons:
            persons[col] = None
        persons[col] = persons[col].where(known, persons.index.map(_modes(joined, col)))
    dob_band = {v: _band(v, as_of) for v in persons["date_of_birth"].dropna().unique()}
    district = {v: _district(v) for v in persons["postcode"].dropna().unique()}
    return pd.DataFrame({
        "person_id": persons.index,
        "is_registered": persons["citizen_id"].notna().to_numpy(),
        "age_band": persons["date_of_birth"].map(dob_band).astype(object).to_numpy(),
        "postcode_district": persons["postcode"].map(district).astype(object).to_numpy(),
    }).astype({"is_registered": bool}).pipe(lambda d: d.where(d.notna(), None))


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Atomic (write, then rename), so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


IDENTITY_DB = "identity.duckdb"


def write_identity_db(identity: Path, links: pd.DataFrame, key_map: pd.DataFrame) -> Path:
    """The restricted identity store as one DuckDB file, rebuilt beside the old one and swapped in.

    It holds what only a caseworker with access to PII may see: the contact -> person -> citizen links with
    their explanations, the linkage state (persons, identifiers, review decisions, rejected edges) and the
    person_id <-> person_key map that turns a pseudonymous key in the analytics file back into a person.
    """
    target = identity / IDENTITY_DB
    tmp = target.with_name(f".{IDENTITY_DB}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
        con.register("links_df", links)
        con.execute("create table contact_links as select * from links_df order by contact_id")
        con.register("key_df", key_map)
        con.execute("create table person_keys as select * from key_df order by person_id")
        for part in sorted((identity / "linkage").glob("*.parquet")):
            con.execute(f"create table linkage_{part.stem} as select * from read_parquet(?)", [str(part)])
        con.execute("checkpoint")
    os.replace(tmp, target)
    target.chmod(0o600)
    return target


def run_link_step(lake: Path, identity: Path, register_path: Path, key: bytes) -> LinkStepResult:
    """Link new contacts, then rewrite the restricted links table and the pseudonymous lake outputs."""
    state_dir = identity / "linkage"
    links_path = identity / "contact_links.parquet"
    contacts = read_lake_contacts(lake)
    register = read_table(register_path)
    previous = read_table(links_path) if links_path.exists() else pd.DataFrame(columns=LINKS_COLUMNS)
    new = contacts[~contacts["contact_id"].isin(previous["contact_id"])]
    stats = LinkStats()
    if len(new):
        linked = link(register, new.reset_index(drop=True), state_dir=state_dir, stats=stats)
        fresh = linked[list(LINKS_COLUMNS)]
        previous = pd.concat([previous, fresh], ignore_index=True) if len(previous) else fresh
    # person ids as the store knows them now (a pseudonymous person may since have proved a citizen)
    persons = read_table(state_dir / "persons.parquet")[["contact_id", "person_id", "citizen_id"]]
    links = (
        previous.drop(columns=["person_id", "citizen_id"])
        .merge(persons, on="contact_id", how="left")
        .loc[lambda d: d["contact_id"].isin(contacts["contact_id"])]
        .sort_values("contact_id", kind="stable")
        .reset_index(drop=True)[list(LINKS_COLUMNS)]
    )
    _write_parquet(links, links_path)

    attrs = person_attributes(links, contacts, register)
    contact_persons = pd.DataFrame({
        "contact_id": links["contact_id"],
        "contact_key": keyed_hashes(links["contact_id"], key, "contact"),
        "person_key": keyed_hashes(links["person_id"], key, "person"),
        "decision": links["decision"],
        "match_probability": pd.to_numeric(links["match_probability"], errors="coerce"),
    })
    person_table = pd.DataFrame({
        "person_key": keyed_hashes(attrs["person_id"], key, "person"),
        "is_registered": attrs["is_registered"].astype(bool),
        "age_band": attrs["age_band"],
        "postcode_district": attrs["postcode_district"],
    }).sort_values("person_key", kind="stable")
    _write_parquet(contact_persons, lake / "linked" / "contact_persons.parquet")
    _write_parquet(person_table, lake / "linked" / "persons.parquet")
    key_map = pd.DataFrame({"person_id": attrs["person_id"],
                            "person_key": keyed_hashes(attrs["person_id"], key, "person")})
    write_identity_db(identity, links, key_map)
    return LinkStepResult(
        contacts=len(links),
        new_contacts=len(new),
        persons=len(person_table),
        registered_contacts=int(links["citizen_id"].notna().sum()),
        review_contacts=int((links["decision"] == "review").sum()),
        pairs=stats.pairs,
    )
