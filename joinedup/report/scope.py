"""Service and date filters for the report, computed with the marts' own definitions.

The report's queries read the marts by name. A filtered report shadows those names, on its own read-only
connection, with temporary views: the row-level facts filtered, and each aggregate mart re-derived from the
filtered contacts by running the mart's own SQL. That SQL is published in the analytics file (the
`mart_definitions` table): dbt renders it from the same macros the mart models call (dbt_project/macros/marts/),
with placeholder relations ("input:contacts", "input:journey_contacts") that `bind` replaces here. So every query
in `queries` runs unchanged, the published file is never written, and a filtered figure cannot be defined
differently from the mart. Unfiltered, the marts are read as published.

Why macros and a published table, not the dbt semantic layer: MetricFlow (dbt-metricflow 0.15, metricflow 0.213)
resolves with the lock, but it compiles queries through a dbt adapter connection at request time, so the report
would need dbt and the warehouse project (about 7 s to start) instead of the analytics file alone; it queries
tables by name, so it could not read this connection's temporary filtered views; and the marts' window shares,
medians and consecutive-contact pairs are not metrics it expresses, so the marts would stay SQL and the metrics
would be a second definition. The macros keep one definition in dbt and cost the report nothing.

What a filter keeps: contacts about the service whose local date is in the period; journeys about the service
that started in the period; switches and transitions whose later contact is kept (pairs are formed over whole
journeys, so a transition into the period from a contact before it counts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd


@dataclass(frozen=True)
class Scope:
    service: str | None = None
    start: date | None = None  # local (Europe/London) dates, inclusive
    end: date | None = None

    @property
    def is_everything(self) -> bool:
        return self.service is None and self.start is None and self.end is None

    def describe(self) -> str:
        return "all services" if self.service is None else f"service: {self.service.replace('_', ' ')}"

    def __str__(self) -> str:
        dates = [f"from {self.start:%-d %b %Y}" if self.start else "", f"to {self.end:%-d %b %Y}" if self.end else ""]
        return " ".join([self.describe(), *filter(None, dates)])


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def contact_filter(scope: Scope, date_column: str = "occurred_local_date") -> str:
    """A SQL condition on fct_contacts' columns keeping the scope's contacts."""
    conditions = ["true"]
    if scope.service is not None:
        conditions.append(f"service = {_literal(scope.service)}")
    if scope.start is not None:
        conditions.append(f"{date_column} >= date '{scope.start.isoformat()}'")
    if scope.end is not None:
        conditions.append(f"{date_column} <= date '{scope.end.isoformat()}'")
    return " and ".join(conditions)


DEFINITIONS = "mart_definitions"
_INPUT = re.compile(r'"input:(\w+)"')


def read_ordered(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """The result of `sql` in a fixed row order (by every column). DuckDB's grouped, parallel reads return rows
    in any order, and the page keeps the first of equal cells (the Sankey's ties, the complementary suppression
    rule's smallest other cell), so unordered reads made one file give two pages: and two pages that hide
    different secondary cells of one table reveal, compared, the cell both protect."""
    return con.execute(f"select * from ({sql}) order by all").df()


def bind(sql: str, inputs: dict[str, str]) -> str:
    """A published definition with its placeholder relations replaced by `inputs` (name -> relation). An input
    the report does not supply is an error: the definition would otherwise read a relation that is not there."""
    missing = sorted(set(_INPUT.findall(sql)) - set(inputs))
    if missing:
        raise ValueError(f"a mart definition reads inputs the report does not supply: {', '.join(missing)}")
    return _INPUT.sub(lambda m: inputs[m.group(1)], sql)


TRIGGER = "switch_trigger"  # the one published definition that is not a mart: the trigger over "input:pairs"


def published_definitions(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every published definition by name: the aggregate marts' and the switch trigger's."""
    found = con.execute("select count(*) from duckdb_tables() where table_name = ? and not temporary",
                        [DEFINITIONS]).fetchone()[0]
    if not found:
        raise ValueError(f"the analytics file has no {DEFINITIONS} table (published before filters used the "
                         "marts' own SQL): re-run the journeys DAG to publish it")
    return dict(con.execute(f"select mart_name, definition_sql from {DEFINITIONS} order by 1").fetchall())


def definitions(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The published SQL of each aggregate mart, by mart name."""
    return {name: sql for name, sql in published_definitions(con).items() if name != TRIGGER}


def _views(db: str, scope: Scope, marts: dict[str, str]) -> dict[str, str]:
    src = f'"{db.replace(chr(34), chr(34) * 2)}".main'
    keep = contact_filter(scope)
    # the aggregate marts read the filtered fct_contacts view by its unqualified name: it comes first
    inputs = {"contacts": "fct_contacts", "journey_contacts": f"{src}.fct_contacts"}
    return {
        "fct_contacts": f"select * from {src}.fct_contacts where {keep}",
        "fct_journeys": f"""select * from {src}.fct_journeys where journey_id in (
            select journey_id from {src}.fct_contacts where contact_sequence = 1 and {keep})""",
        "fct_channel_switches": f"""select * from {src}.fct_channel_switches
            where to_contact_key in (select contact_key from fct_contacts)""",
        **{name: bind(sql, inputs) for name, sql in marts.items()},
    }


def shadowed(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The published tables a filtered report replaces with views on this connection."""
    return list(_views("x", Scope(service="x"), definitions(con)))


def restrict(con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    """Shadow the marts on this connection with views over the scope's contacts (temporary: nothing is
    written to the file, which stays read-only). Raises ValueError when the scope keeps no contact."""
    if scope.is_everything:
        return
    if scope.service is not None:
        services = [r[0] for r in con.execute("select distinct service from fct_contacts order by 1").fetchall()]
        if scope.service not in services:
            raise ValueError(f"no contacts about service {scope.service!r}; services: {', '.join(services)}")
    db = con.execute("select current_database()").fetchone()[0]
    for name, sql in _views(db, scope, definitions(con)).items():
        con.execute(f"create or replace temp view {name} as {sql}")
    if con.execute("select count(*) from fct_contacts").fetchone()[0] == 0:
        raise ValueError(f"no contacts for {scope}")
