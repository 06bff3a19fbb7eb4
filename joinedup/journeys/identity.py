"""The link step: give every landed contact a person, keep PII in the identity store, publish only keyed hashes.

Incremental: contacts already in the identity store keep their person; only new contact ids are linked, against
the register and the persons remembered from earlier runs. The outputs are rewritten whole from the store, sorted,
so re-running gives the same bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from joinedup.ingest.lake import write_parquet_atomic
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
LINKS_SCHEMA = pa.schema([("contact_id", pa.string()), ("person_id", pa.string()), ("citizen_id", pa.string()),
                          ("match_probability", pa.float64()), ("match_weight", pa.float64()),
                          ("decision", pa.string()), ("explanation", pa.string())])
ATTRIBUTE_COLUMNS = ("contact_id", "occurred_at", "date_of_birth", "postcode")
LINK_CHUNK = 1_000_000  # contacts per linkage call: ~5.5 GB peak (bench/linkage_scale.py), a year in 3 calls
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


def _select(columns: tuple[str, ...]) -> str:
    return ", ".join(
        "strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') as occurred_at" if c == "occurred_at"
        else f"cast({c} as varchar) as {c}" for c in columns
    )


def _raw_view(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """`raw`: every landed contact, all channels and days (an empty table before the first landing)."""
    if list((lake / "raw").glob("*/*/*.parquet")):
        con.execute(f"create view raw as select * from read_parquet('{raw_glob(lake)}', union_by_name = true)")
    else:
        cols = ", ".join(f"{c} {'timestamp' if c == 'occurred_at' else 'varchar'}" for c in LINK_COLUMNS)
        con.execute(f"create table raw ({cols})")


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
    write_parquet_atomic(pa.Table.from_pandas(df, preserve_index=False), path)


IDENTITY_DB = "identity.duckdb"


def write_identity_db(identity: Path, links: pa.Table, key_map: pd.DataFrame) -> Path:
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


def link_new_contacts(register_path: Path, new_path: Path, state_dir: Path, out_path: Path,
                      chunk_size: int) -> LinkStats:
    """In the linking process: link `new_path` chunk by chunk (each incrementally, against what the store holds
    after the previous chunk) and write the fresh links to `out_path`."""
    pa.set_cpu_count(1)  # no Arrow threads alive when the linker forks its workers
    pa.set_io_thread_count(1)
    register = read_table(register_path)
    stats = LinkStats()
    parts = [LINKS_SCHEMA.empty_table()]
    source = pq.ParquetFile(new_path)
    for batch in source.iter_batches(batch_size=chunk_size, use_threads=False):
        chunk = batch.to_pandas(use_threads=False)
        linked = link(register, chunk.astype(object).where(chunk.notna(), None), state_dir=state_dir, stats=stats)
        frame = linked[list(LINKS_COLUMNS)].astype({"match_probability": float, "match_weight": float})
        parts.append(pa.Table.from_pandas(frame, schema=LINKS_SCHEMA, preserve_index=False))
    stats.contacts = source.metadata.num_rows
    pq.write_table(pa.concat_tables(parts), out_path)
    return stats


def _link_in_fresh_process(register_path: Path, new_path: Path, state_dir: Path, out_path: Path,
                           chunk_size: int) -> LinkStats:
    """See joinedup.journeys.link_worker for why linking gets a process of its own."""
    job = out_path.with_suffix(".job.json")
    job.write_text(json.dumps({"register": str(register_path), "contacts": str(new_path),
                               "state_dir": str(state_dir), "out": str(out_path), "chunk_size": chunk_size}))
    done = subprocess.run([sys.executable, "-m", "joinedup.journeys.link_worker", str(job)], check=False)
    if done.returncode != 0:
        raise RuntimeError(f"linking failed (exit code {done.returncode}); its traceback is above in this log")
    return LinkStats(**json.loads(Path(str(out_path) + ".stats.json").read_text()))


def run_link_step(lake: Path, identity: Path, register_path: Path, key: bytes,
                  chunk_size: int = LINK_CHUNK) -> LinkStepResult:
    """Link new contacts, then rewrite the restricted links table and the pseudonymous lake outputs.

    New contacts go to the linker in time order, `chunk_size` at a time, each chunk linked incrementally
    against the register and the persons the store already holds: memory stays bounded by the chunk, not
    the year (a council year at once needed 15 GB), and a first load behaves like a run of daily loads.
    """
    state_dir = identity / "linkage"
    links_path = identity / "contact_links.parquet"
    work = identity / "_work"  # inside the restricted store: these files hold PII
    work.mkdir(parents=True, exist_ok=True)
    new_path, fresh_path = work / "new_contacts.parquet", work / "fresh_links.parquet"
    with duckdb.connect() as con:
        _raw_view(con, lake)
        if links_path.exists():
            con.execute(f"create view prev as select * from read_parquet('{links_path}')")
        else:
            con.register("prev", LINKS_SCHEMA.empty_table())
        con.execute(f"""copy (select {_select(LINK_COLUMNS)} from raw
                              where contact_id not in (select contact_id from prev)
                              order by occurred_at, contact_id)
                        to '{new_path}' (format parquet, row_group_size {min(chunk_size, 122_880)})""")
    stats = _link_in_fresh_process(register_path, new_path, state_dir, fresh_path, chunk_size)
    fresh = [pq.read_table(fresh_path, schema=LINKS_SCHEMA)]
    n_new = stats.contacts
    for f in work.iterdir():
        f.unlink()
    with duckdb.connect() as con:
        _raw_view(con, lake)
        con.register("prev", pq.read_table(links_path, schema=LINKS_SCHEMA) if links_path.exists()
                     else LINKS_SCHEMA.empty_table())
        con.register("fresh", pa.concat_tables([LINKS_SCHEMA.empty_table(), *fresh]))
        persons_file = state_dir / "persons.parquet"
        # person ids as the store knows them now (a pseudonymous person may since have proved a citizen)
        con.execute(f"create view store as select contact_id, person_id, citizen_id from read_parquet('{persons_file}')"
                    if persons_file.exists() else "create table store (contact_id varchar, person_id varchar, "
                    "citizen_id varchar)")
        links_arrow = con.sql("""
            with every_link as (select * from prev union all by name select * from fresh)
            select l.contact_id, s.person_id, s.citizen_id, l.match_probability, l.match_weight, l.decision,
                   l.explanation
            from every_link l
            left join store s using (contact_id)
            where l.contact_id in (select contact_id from raw)
            order by l.contact_id""").to_arrow_table().cast(LINKS_SCHEMA)
        contacts = con.execute(f"select {_select(ATTRIBUTE_COLUMNS)} from raw").df()
    write_parquet_atomic(links_arrow, links_path)
    links = links_arrow.select(["contact_id", "person_id", "citizen_id", "decision", "match_probability"]) \
        .to_pandas()
    contacts = contacts.astype(object).where(contacts.notna(), None)

    attrs = person_attributes(links, contacts, read_table(register_path))
    person_keys = keyed_hashes(attrs["person_id"], key, "person")  # each person once, then mapped
    key_of = dict(zip(attrs["person_id"], person_keys, strict=True))
    contact_persons = pd.DataFrame({
        "contact_id": links["contact_id"],
        "contact_key": keyed_hashes(links["contact_id"], key, "contact"),
        "person_key": links["person_id"].map(key_of),
        "decision": links["decision"],
        "match_probability": pd.to_numeric(links["match_probability"], errors="coerce"),
    })
    person_table = pd.DataFrame({
        "person_key": person_keys,
        "is_registered": attrs["is_registered"].astype(bool),
        "age_band": attrs["age_band"],
        "postcode_district": attrs["postcode_district"],
    }).sort_values("person_key", kind="stable")
    _write_parquet(contact_persons, lake / "linked" / "contact_persons.parquet")
    _write_parquet(person_table, lake / "linked" / "persons.parquet")
    key_map = pd.DataFrame({"person_id": attrs["person_id"], "person_key": person_keys})
    write_identity_db(identity, links_arrow, key_map)
    return LinkStepResult(
        contacts=len(links),
        new_contacts=n_new,
        persons=len(person_table),
        registered_contacts=int(links["citizen_id"].notna().sum()),
        review_contacts=int((links["decision"] == "review").sum()),
        pairs=stats.pairs,
    )
