"""The link step's context pass: re-decide the context joins (linkage.context) of the contacts a run touched.

Identity linkage decides who a contact is; this pass only decides which journey a contact nobody can identify
belongs to. Its decisions live in their own table of the linkage state, `context_links.parquet` (contact_id, the
anchor contact whose person it joins, probability, the explanation's context part), never in `persons` or
`identifiers`: a context join gives no citizen and carries no identifier to a later contact. The link step
publishes a joined contact under the anchor's person as it is at that moment (so a person renamed or merged
since takes its context contacts along), and the identity store shows the join in the contact's explanation.

Which contacts are re-decided: every orphan within `window_hours` of the earliest contact this run linked or
re-linked (a new contact can be the anchor of yesterday's unanswered post), against the contacts within twice
that; and every stored join whose contact is no longer an orphan (it proved a person since) is dropped. The rest
stand as decided, so a re-run with nothing new changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd

from linkage.context import ContextModel, context_frame, context_joins, with_context
from linkage.io import private_file
from linkage.postcodes import POSTCODE_IN_TEXT
from linkage.settings import LinkSettings
from linkage.state import State

CONTEXT_FILE = "context_links.parquet"
STORED_COLUMNS = ["contact_id", "anchor_contact_id", "probability", "context"]
_RAW_COLUMNS = ("contact_id", "channel", "service", "occurred_at", "outcome", "postcode", "message_text",
                "given_name", "family_name", "full_name", "display_name")


def _stored(path: Path) -> pd.DataFrame:
    if path.exists():
        return pd.read_parquet(path)[STORED_COLUMNS]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in STORED_COLUMNS})


def _write(path: Path, df: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.sort_values("contact_id", ignore_index=True).to_parquet(private_file(tmp), index=False)
    tmp.replace(path)


def register_forenames(con: duckdb.DuckDBPyConnection, register_path: Path) -> pd.DataFrame:
    """citizen_id, given_name of the register (CSV or Parquet), for the forename guard (linkage.context)."""
    p = str(register_path).replace("'", "''")
    source = f"read_parquet('{p}')" if register_path.suffix.lower() == ".parquet" \
        else f"read_csv('{p}', all_varchar = true, header = true)"
    return con.execute(f"select cast(citizen_id as varchar) as citizen_id, cast(given_name as varchar) as given_name "
                       f"from {source}").df()


def decide_context(con: duckdb.DuckDBPyConnection, state_dir: Path, fresh_links: Path, settings: LinkSettings,
                   forbidden: dict[str, frozenset[str]], register: pd.DataFrame | None = None,
                   model: ContextModel | None = None) -> pd.DataFrame:
    """Bring `state_dir/context_links.parquet` up to date after a run that (re-)linked the contacts of
    `fresh_links`; returns the table. `con` holds `raw` (every landed contact); `forbidden` the review rejections
    (contact id -> citizens); `register` citizen_id and given_name (register_forenames)."""
    path = state_dir / CONTEXT_FILE
    old = _stored(path)
    persons = state_dir / "persons.parquet"
    policy = settings.context
    if not persons.exists():
        return old
    con.execute(f"create or replace temp view ctx_persons as select contact_id, person_id, citizen_id, decision, "
                f"count(*) over (partition by person_id) as person_size from read_parquet('{persons}')")
    earliest = con.execute(f"""select min(r.occurred_at) from raw r
                               where r.contact_id in (select contact_id from read_parquet('{fresh_links}'))"""
                           ).fetchone()[0]
    # joins whose contact is no longer an orphan go, whatever their time
    still = con.execute("select contact_id from ctx_persons where decision = 'unmatched' and citizen_id is null "
                        "and person_size = 1").df()["contact_id"]
    kept = old[old["contact_id"].isin(set(still))]
    if earliest is None or not policy.enabled:
        out = kept if policy.enabled else kept.iloc[0:0]
        if len(out) != len(old):
            _write(path, out)
        return out
    window = timedelta(hours=policy.window_hours)
    # of a message, only the first thing that looks like a postcode (its district is evidence; the text is not)
    cols = ", ".join(f"regexp_extract(r.message_text, '{POSTCODE_IN_TEXT.pattern}', 0, 'i') as message_text"
                     if c == "message_text" else f"r.{c}" for c in _RAW_COLUMNS)
    rows = con.execute(f"""select {cols}, p.person_id, p.citizen_id, p.decision, p.person_size
                           from raw r join ctx_persons p using (contact_id)
                           where r.occurred_at >= ? order by r.occurred_at, r.contact_id""",
                       [earliest - 2 * window]).df()
    rows = rows.astype(object).where(rows.notna(), None)
    frame = context_frame(rows, rows, register).assign(person_size=rows["person_size"].astype(float).to_numpy())
    decide = (frame["occurred_at"] >= pd.Timestamp(earliest - window, tz="UTC")).to_numpy()
    joins = context_joins(frame, model or ContextModel.load(), policy, forbidden, decide)
    redecided = set(frame["contact_id"].to_numpy()[decide])
    parts = [x for x in (kept[~kept["contact_id"].isin(redecided)], joins[STORED_COLUMNS]) if len(x)]
    out = pd.concat(parts, ignore_index=True) if parts else old.iloc[0:0]
    out = out.sort_values("contact_id", ignore_index=True)
    if not out.equals(old.sort_values("contact_id", ignore_index=True)):
        _write(path, out)
    return out


def forbidden_of(state: State) -> dict[str, frozenset[str]]:
    """Review rejections in force: contact id -> the citizens it must never join, by identity or by context."""
    out: dict[str, set[str]] = {}
    for contact, citizen in state.cannot_link():
        out.setdefault(contact, set()).add(citizen)
    return {k: frozenset(v) for k, v in out.items()}


def store_context(con: duckdb.DuckDBPyConnection, state_dir: Path) -> None:
    """Inside the identity store's update (store attached as `store`): `store.context_links` as the state holds
    it, with the person each join names now, and every link's explanation carrying its context part, or none."""
    path = state_dir / CONTEXT_FILE
    ctx = _stored(path)
    con.register("ctx_df", ctx)
    persons = state_dir / "persons.parquet"
    con.execute(f"""create or replace table store.context_links as
                    select c.contact_id, a.person_id, c.anchor_contact_id, c.probability, c.context
                    from ctx_df c left join read_parquet('{persons}') a on a.contact_id = c.anchor_contact_id
                    order by c.contact_id""" if persons.exists() else
                "create or replace table store.context_links as select contact_id, null::varchar as person_id, "
                "anchor_contact_id, probability, context from ctx_df")
    touched = con.execute("""select l.contact_id, l.explanation, c.context from store.contact_links l
                             left join ctx_df c using (contact_id)
                             where c.contact_id is not null or l.explanation like '%"context":%'""").df()
    if touched.empty:
        return
    touched["new"] = [with_context(e, c if isinstance(c, str) else None)
                      for e, c in zip(touched["explanation"], touched["context"])]
    changed = touched[touched["new"].to_numpy() != touched["explanation"].to_numpy()]
    if len(changed):
        con.register("ctx_changed", changed[["contact_id", "new"]])
        con.execute("""update store.contact_links l set explanation = x.new from ctx_changed x
                       where l.contact_id = x.contact_id""")


PUBLISHED_PERSON_SQL = """
    select l.contact_id, coalesce(ap.person_id, s.person_id) as person_id, s.citizen_id,
           case when cx.contact_id is not null and ap.person_id is not null then 'context' else l.decision end
               as decision,
           l.match_probability
    from every_link l
    left join persons_now s using (contact_id)
    left join context_now cx using (contact_id)
    left join persons_now ap on ap.contact_id = cx.anchor_contact_id
"""


def context_view(con: duckdb.DuckDBPyConnection, state_dir: Path) -> None:
    """`context_now`: contact_id, anchor_contact_id of the joins in force (empty when there are none)."""
    path = state_dir / CONTEXT_FILE
    con.execute(f"create or replace view context_now as select contact_id, anchor_contact_id "
                f"from read_parquet('{path}')" if path.exists() else
                "create or replace table context_now (contact_id varchar, anchor_contact_id varchar)")

