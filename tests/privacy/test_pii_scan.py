"""Outside the restricted zones the pipeline's files hold no PII and nothing that maps a source contact to a key.

The restricted zones: the landed exports (the simulated source systems here), the lake's raw/ and quarantine/,
the identity store and the key. Everything else the test pipeline wrote (the pseudonymous lake, the audit, the
warehouse, the analytics file, the report, dbt's target and the Airflow logs and metadata DB) is read whole,
Parquet and DuckDB files through DuckDB (their pages are compressed, so their bytes say nothing), and searched
for every distinctive value the register and the simulated exports hold.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

RESTRICTED = ("lake/raw", "lake/quarantine", "identity", "sim")


def _needles(sim: Path) -> dict[str, set[str]]:
    """Distinctive PII and source ids: full names, e-mails, phones, full postcodes, addresses, dates of birth,
    handles, display names and message texts, and every source contact id (the join key of the attack)."""
    reg = pd.read_csv(sim / "register" / "citizens.csv", dtype=str)
    out: dict[str, set[str]] = {
        "name": set((reg["given_name"] + " " + reg["family_name"]).dropna()),
        "email": set(reg["email"].dropna()),
        "phone": {re.sub(r"\D", "", p)[-10:] for p in reg["phone"].dropna() if len(re.sub(r"\D", "", p)) >= 10},
        "postcode": set(reg["postcode"].dropna()),
        "address": set(reg["address_line"].dropna()),
        "date_of_birth": set(reg["date_of_birth"].dropna()),
        "contact_id": set(pd.read_csv(sim / "truth" / "contacts.csv", dtype=str)["contact_id"]),
    }
    landed = duckdb.sql(f"select * from read_parquet('{sim.parent}/lake/raw/*/*/*.parquet', union_by_name=true)").df()
    for col in ("handle", "display_name", "message_text"):
        if col in landed:
            out[col] = {v for v in landed[col].dropna().astype(str) if len(v) >= 6}
    # values a library ships in its own code (plotly.js holds dates such as 2000-01-01) are not the data's
    from plotly.offline import get_plotlyjs

    library = get_plotlyjs()
    return {kind: {v for v in values if v not in library} for kind, values in out.items()}


def _texts(path: Path) -> list[str]:
    """Every string a file holds, as a reader of that file would see it."""
    if path.suffix == ".parquet":
        df = duckdb.sql(f"select * from read_parquet('{path}')").df()
        return [str(v) for c in df.columns for v in df[c].dropna().unique()] + list(df.columns)
    if path.suffix == ".duckdb":
        out = []
        with duckdb.connect(str(path), read_only=True) as con:
            for db, schema, table in con.execute("select database_name, schema_name, table_name "
                                                 "from duckdb_tables()").fetchall():
                df = con.execute(f'select * from "{db}"."{schema}"."{table}"').df()
                out += [str(v) for c in df.columns for v in df[c].dropna().unique()]
        return out
    return [path.read_bytes().decode("utf-8", errors="replace")]


def test_no_pii_or_source_id_outside_the_restricted_zones(pipeline) -> None:
    paths, sim, _ = pipeline
    work = paths.lake.parent
    needles = _needles(sim)
    roots = [work, Path(os.environ["AIRFLOW_HOME"])]
    found: dict[str, list[str]] = {}
    scanned = 0
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            if root == work and rel.startswith(RESTRICTED):
                continue
            if path.suffix in (".wal", ".pyc") or path.name.endswith(".tmp"):
                continue
            text = "\n".join(_texts(path))
            scanned += 1
            for kind, values in needles.items():
                hits = [v for v in values if v in text]
                if hits:
                    found.setdefault(f"{root.name}/{rel}", []).append(f"{kind} ({len(hits)}, e.g. a value of "
                                                                      f"length {len(hits[0])})")
    assert scanned > 20
    assert not found, f"PII or source ids outside the restricted zones: {found}"
