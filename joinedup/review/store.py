"""The review tables of the identity store, written by the link step in the same transaction as the links.

review_decisions  every decision in the inbox, with when the link step applied it and what came of it
review_applied    decision_id -> applied_at, outcome, contacts moved, persons merged / split, rows a later run kept
review_changes    per decision, every row of the linkage state it changed, before and after (joinedup.review.apply)
review_queue      one row per contact in review: its candidate, score, why it is in review (the score band or
                  the protection that refused it, through which identifier), channel, service, when, its person,
                  and how many contacts a decision on it settles
review_contacts   the landed record (PII) of each queued contact, of its person's other contacts and of the
                  candidate citizens' contacts (the latest REVIEW_CONTEXT of each): what the caseworker compares
review_citizens   the register record (PII) of each candidate citizen

All of it is PII and stays in the restricted store; the review UI reads it there (joinedup.review.queue).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from joinedup.review.apply import APPLIED_COLUMNS, CHANGE_COLUMNS, pending, sync_state_decisions
from joinedup.review.decisions import COLUMNS as DECISION_COLUMNS
from joinedup.review.decisions import all_decisions, inbox_path
from joinedup.review.queue import attach_read_only
from linkage.io import private_file

LINK_COLUMNS_STORE = ("contact_id", "person_id", "citizen_id", "match_probability", "match_weight", "decision",
                      "explanation")
REVIEW_CONTEXT = 20  # other contacts shown per person or citizen: the latest ones
_TYPES = {"applied_at": "timestamp", "contacts_moved": "integer", "persons_merged": "integer",
          "persons_split": "integer", "rows_kept": "integer"}
STORE_DB = "identity.duckdb"


def _ddl(table: str, columns: tuple[str, ...]) -> str:
    return f"create table if not exists {table} (" + ", ".join(f"{c} {_TYPES.get(c, 'varchar')}"
                                                               for c in columns) + ")"


def _write(frame: pd.DataFrame, path: Path) -> None:
    frame = frame.astype(object).where(frame.notna(), None)
    frame.astype(str).where(frame.notna(), None).to_parquet(private_file(path), index=False)


def applied_ids(identity: Path) -> set[str]:
    store = identity / STORE_DB
    if not store.exists():
        return set()
    with attach_read_only(store) as con:  # the file as it is now, whatever else this process holds open
        if not con.execute("select count(*) from duckdb_tables() where table_name = 'review_applied'").fetchone()[0]:
            return set()
        return {r[0] for r in con.execute("select decision_id from review_applied").fetchall()}


def prepare_decisions(lake: Path, identity: Path, work: Path) -> Path | None:
    """The link step's first pass inputs in `work` (decisions, the decided contacts' landed rows and current links,
    the changes of the decisions being undone), or None when every decision is applied already. Brings the
    linkage state's decisions in line with the inbox first, so new contacts respect them too."""
    from joinedup.identity.link_step import LINK_COLUMNS, _raw_view, _select

    if not inbox_path(identity).exists():
        return None
    inbox = all_decisions(identity)
    sync_state_decisions(identity / "linkage", inbox)
    todo = pending(inbox, applied_ids(identity))
    if todo.empty:
        return None
    _write(todo, work / "decisions.parquet")
    store = identity / STORE_DB
    with duckdb.connect() as con:
        _raw_view(con, lake)
        con.register("todo", todo)
        con.execute(f"""copy (select {_select(LINK_COLUMNS)} from raw
                              where contact_id in (select contact_id from todo where decision <> 'undo')
                              order by contact_id)
                        to '{private_file(work / "contacts.parquet")}' (format parquet)""")
        tables: set[str] = set()
        if store.exists():
            con.execute(f"attach '{store}' as s (read_only)")
            tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where database_name = 's'")
                      .fetchall()}
        links = con.execute("""select contact_id, person_id, citizen_id, match_probability, match_weight, decision,
                                      explanation
                               from s.contact_links where contact_id in (select contact_id from todo)""").df() \
            if "contact_links" in tables else pd.DataFrame(columns=list(LINK_COLUMNS_STORE))
        earlier = con.execute("select * from s.review_changes where decision_id in (select undoes from todo)").df() \
            if "review_changes" in tables else pd.DataFrame(columns=list(CHANGE_COLUMNS))
    _write(links, work / "links_now.parquet")
    _write(earlier.reindex(columns=list(CHANGE_COLUMNS)), work / "earlier_changes.parquet")
    return work


def store_review_tables(con: duckdb.DuckDBPyConnection, identity: Path, work: Path | None,
                        register_path: Path) -> None:
    """Inside the link step's store transaction (the store attached as `store`, `raw` the landed contacts):
    record what the first pass applied, mirror the inbox, and rebuild the queue and its evidence."""
    con.execute(_ddl("store.review_applied", APPLIED_COLUMNS))
    con.execute(_ddl("store.review_changes", CHANGE_COLUMNS))
    if work is not None:
        con.execute(f"""insert into store.review_applied by name
                        select decision_id, cast(applied_at as timestamp) as applied_at, outcome,
                               cast(contacts_moved as integer) as contacts_moved,
                               cast(persons_merged as integer) as persons_merged,
                               cast(persons_split as integer) as persons_split, cast(rows_kept as integer) as rows_kept
                        from read_parquet('{work / "applied.out.parquet"}')
                        where decision_id not in (select decision_id from store.review_applied)""")
        con.execute(f"""insert into store.review_changes by name
                        select {', '.join(f'cast({c} as varchar) as {c}' for c in CHANGE_COLUMNS)}
                        from read_parquet('{work / "changes.out.parquet"}')""")
    inbox = all_decisions(identity)
    con.register("inbox_df", inbox.astype(object))
    con.execute("create or replace table store.review_decisions as select "
                + ", ".join(f"cast(i.{c} as varchar) as {c}" for c in DECISION_COLUMNS)
                + ", a.applied_at, a.outcome, a.contacts_moved, a.persons_merged, a.persons_split, a.rows_kept "
                  "from inbox_df i left join store.review_applied a using (decision_id) "
                  "order by i.decided_at, i.decision_id")
    con.unregister("inbox_df")
    build_queue(con, register_path)


def build_queue(con: duckdb.DuckDBPyConnection, register_path: Path) -> None:
    """review_queue, review_contacts and review_citizens (see the module docstring) from store.contact_links."""
    refused = ("(select contact_id, citizen_id, identifier, reason from store.linkage_rejected_edges "
               "where stage = 'score')" if con.execute(
                   "select count(*) from duckdb_tables() where database_name = 'store' "
                   "and table_name = 'linkage_rejected_edges'").fetchone()[0]
               else "(select null::varchar as contact_id, null::varchar as citizen_id, null::varchar as identifier, "
                    "null::varchar as reason where false)")
    has = {r[0] for r in con.execute("select column_name from (describe raw)").fetchall()}
    service = "r.service" if "service" in has else "null"
    con.execute(f"""create or replace table store.review_queue as
        with q as (
            select l.contact_id, l.person_id, l.match_probability, l.match_weight, l.explanation,
                   json_extract_string(l.explanation, '$.candidate') as citizen_id,
                   json_extract_string(l.explanation, '$.review_reason') as score_reason
            from store.contact_links l where l.decision = 'review'),
        persons as (select person_id, count(*) as contacts from store.contact_links
                    where person_id in (select person_id from q) group by person_id),
        refusals as (select contact_id, citizen_id, string_agg(distinct reason, ', ' order by reason) as reasons,
                            string_agg(distinct identifier, ', ' order by identifier) as identifiers
                     from {refused} group by all)
        select q.contact_id, q.citizen_id, q.person_id, q.match_probability, q.match_weight,
               case when f.reasons is not null then 'refused: ' || f.reasons
                    else coalesce(q.score_reason, 'score_band') end as reason,
               f.identifiers as refused_identifier, f.reasons as refused_reason,
               cast(r.channel as varchar) as channel, cast({service} as varchar) as service,
               r.occurred_at, coalesce(p.contacts, 1) as contacts_affected, q.explanation
        from q
        left join raw r using (contact_id)
        left join persons p using (person_id)
        left join refusals f on f.contact_id = q.contact_id and f.citizen_id = q.citizen_id
        order by contacts_affected desc, r.occurred_at, q.contact_id""")
    con.execute("""create or replace table store.review_contacts as
        with wanted as (
            select l.contact_id, l.person_id, l.citizen_id from store.contact_links l
            where l.person_id in (select person_id from store.review_queue)
               or l.citizen_id in (select citizen_id from store.review_queue)),
        -- the landed rows of the wanted contacts, read once (every landed file is scanned to find them)
        wanted_raw as materialized (select r.* from raw r where r.contact_id in (select contact_id from wanted)),
        ranked as (
            select w.*, r.occurred_at,
                   row_number() over (partition by coalesce(w.citizen_id, w.person_id)
                                      order by r.occurred_at desc, w.contact_id) as n
            from wanted w join wanted_raw r using (contact_id))
        select k.contact_id, k.person_id, k.citizen_id, r.* exclude (contact_id)
        from ranked k join wanted_raw r using (contact_id)
        where k.n <= ? or k.contact_id in (select contact_id from store.review_queue)""", [REVIEW_CONTEXT])
    p = str(register_path).replace("'", "''")
    source = f"read_parquet('{p}')" if register_path.suffix.lower() == ".parquet" \
        else f"read_csv('{p}', all_varchar = true, header = true)"
    con.execute(f"""create or replace table store.review_citizens as
        select * from {source} where citizen_id in (select citizen_id from store.review_queue)
        qualify row_number() over (partition by citizen_id) = 1""")
