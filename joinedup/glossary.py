"""The glossary: dbt_project/seeds/glossary.csv defines every channel, outcome, switch trigger and response
target (code, label, definition), and is published as `mart_glossary` for the report and BI users.

The dbt column docs must say the same, so they are not written by hand: this module renders the seed into dbt
doc blocks, dbt_project/models/_glossary__docs.md (`{{ doc('glossary_switch_trigger') }}` in a column's
description), and tests/test_glossary.py fails when that file, a column's accepted_values or a quality suite's
value set differs from the seed. After editing the seed:

    uv run python -m joinedup.glossary
"""

from __future__ import annotations

import csv
from pathlib import Path

from joinedup.paths import PROJECT_ROOT

SEED = PROJECT_ROOT / "dbt_project" / "seeds" / "glossary.csv"
DOCS = PROJECT_ROOT / "dbt_project" / "models" / "_glossary__docs.md"
TERMS = {  # term -> what its codes are, the doc block's first line
    "channel": "The contact channel (joinedup/channels.yml), one of",
    "outcome": "What happened to the contact, one of",
    "switch_trigger": "What the earlier contact of the pair left undone, one of (tested in this order)",
    "sla_target": "The response target (seed sla_targets), one of",
}


def read(path: Path = SEED) -> list[dict[str, str]]:
    """The glossary's rows ordered by term (TERMS order) then display_order."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    unknown = sorted({r["term"] for r in rows} - set(TERMS))
    if unknown:
        raise ValueError(f"{path}: unknown term(s) {unknown}; known: {', '.join(TERMS)}")
    return sorted(rows, key=lambda r: (list(TERMS).index(r["term"]), int(r["display_order"])))


def codes(term: str, path: Path = SEED) -> list[str]:
    """The codes a term defines, in display order."""
    return [r["code"] for r in read(path) if r["term"] == term]


def doc_blocks(path: Path = SEED) -> str:
    rows = read(path)
    out = ["{#- Generated from seeds/glossary.csv by `python -m joinedup.glossary`: edit the seed, not this file. -#}"]
    for term, lead in TERMS.items():
        out += ["", f"{{% docs glossary_{term} %}}", f"{lead} (glossary term `{term}`, published as mart_glossary):", ""]
        out += [f"- `{r['code']}` ({r['label']}): {r['definition']}" for r in rows if r["term"] == term]
        out += ["{% enddocs %}"]
    return "\n".join(out) + "\n"


def main() -> int:
    DOCS.write_text(doc_blocks(), encoding="utf-8")
    print(f"wrote {DOCS} from {SEED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
