"""Coarse person attributes for the pseudonymous lake: registered or not, age band, postcode district.

Only these leave the restricted zone about a person. Citizens get the register's values; pseudonymous persons
what their own contacts said most often. Banding and districts use the same parsers as linkage.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from linkage.dates import normalise_dob
from linkage.postcodes import parse_postcode

AGE_BANDS = ((16, "16-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65-74"),
             (75, "75+"))


def age_band(dob: str | None, as_of: date) -> str | None:
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


def postcode_district(postcode: str | None) -> str | None:
    parsed = parse_postcode(postcode)
    return parsed[1] if parsed else None


def _mode_sql(column: str) -> str:
    """Per person, the value their contacts gave most often (ties: the smallest)."""
    return f"""select person_id, {column} from (
                   select person_id, {column}, count(*) as n from joined
                   where {column} is not null and {column} <> '' group by all)
               qualify row_number() over (partition by person_id order by n desc, {column}) = 1"""


def person_values_sql(links: str = "links", contacts: str = "contacts") -> str:
    """Per person the values their attributes are made of, from the relations `links` (contact_id, person_id,
    citizen_id) and `contacts` (contact_id, date_of_birth, postcode) name, and `register`."""
    return f"""
    with joined as (
        select l.contact_id, l.person_id, l.citizen_id, c.date_of_birth, c.postcode
        from {links} l left join {contacts} c using (contact_id)
    ),
    persons as (
        select person_id, arg_min(citizen_id, contact_id) filter (where citizen_id is not null) as citizen_id
        from joined group by person_id
    ),
    dob_mode as ({_mode_sql("date_of_birth")}),
    postcode_mode as ({_mode_sql("postcode")})
    select p.person_id,
           p.citizen_id is not null as is_registered,
           case when r.citizen_id is not null then r.date_of_birth else d.date_of_birth end as date_of_birth,
           case when r.citizen_id is not null then r.postcode else m.postcode end as postcode
    from persons p
    left join register r on p.citizen_id = r.citizen_id
    left join dob_mode d using (person_id)
    left join postcode_mode m using (person_id)
    order by p.person_id
"""


def person_values(con: duckdb.DuckDBPyConnection, links: str = "links", contacts: str = "contacts") -> pd.DataFrame:
    """Per person: is_registered, and the date of birth and postcode their attributes are made from (PII: the
    link step keeps them in the restricted store, so a daily run recomputes only the persons it touched)."""
    return con.execute(person_values_sql(links, contacts)).df()


def attributes_of(values: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """person_values banded at `as_of`: bands and districts are computed once per distinct value, in Python,
    with the same parsers linkage uses."""
    dob_band = {v: age_band(v, as_of) for v in values["date_of_birth"].dropna().unique()}
    district = {v: postcode_district(v) for v in values["postcode"].dropna().unique()}
    return pd.DataFrame({
        "person_id": values["person_id"].astype(object),
        "is_registered": values["is_registered"].astype(bool),
        "age_band": values["date_of_birth"].map(dob_band).astype(object),
        "postcode_district": values["postcode"].map(district).astype(object),
    }).pipe(lambda d: d.where(d.notna(), None))


def register_view(con: duckdb.DuckDBPyConnection, register_path: Path) -> None:
    """`register`: citizen_id, date_of_birth, postcode as text, one row per citizen (columns it lacks are null)."""
    p = str(register_path).replace("'", "''")
    source = f"read_parquet('{p}')" if register_path.suffix.lower() == ".parquet" \
        else f"read_csv('{p}', all_varchar = true, header = true)"
    have = {r[0] for r in con.execute(f"describe select * from {source}").fetchall()}
    cols = ", ".join(f"cast({c} as varchar) as {c}" if c in have else f"cast(null as varchar) as {c}"
                     for c in ("citizen_id", "date_of_birth", "postcode"))
    con.execute(f"""create view register as select * from (select {cols} from {source})
                    qualify row_number() over (partition by citizen_id order by date_of_birth, postcode) = 1""")
