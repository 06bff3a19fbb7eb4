"""What the page calls each code, and what colour it wears: the published glossary (`mart_glossary`) read once.

Why from the analytics file: the glossary seed is the one definition of every channel, outcome, switch trigger
and response target (joinedup/glossary.py), published with the marts so the report and BI users read the same
words. A code the glossary lacks (a new channel before the seed is updated) is shown as itself, humanised,
rather than breaking the page. Services are not in the glossary: their codes are humanised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from joinedup.channels import channel_names
from joinedup.report.cells import SWITCH_TIME_BANDS
from joinedup.report.palette import channel_colours, greys, ordinal, palette

TERMS = ("channel", "outcome", "switch_trigger", "sla_target")
TERM_TITLES = {"channel": "Channels", "outcome": "Outcomes", "switch_trigger": "What went wrong before a switch",
               "sla_target": "Response targets"}


def humanise(code: str) -> str:
    """`council_tax` -> "Council tax"."""
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Entry:
    code: str
    label: str
    definition: str


@dataclass(frozen=True)
class Labels:
    """The glossary by term, in display order."""

    terms: dict[str, list[Entry]] = field(default_factory=dict)

    def label(self, term: str, code: str) -> str:
        return next((e.label for e in self.terms.get(term, []) if e.code == code), humanise(code))

    def order(self, term: str, codes: list[str]) -> list[str]:
        """`codes` in the glossary's display order, codes it lacks after them (sorted)."""
        known = [e.code for e in self.terms.get(term, [])]
        return [c for c in known if c in codes] + sorted(set(codes) - set(known))


def read_labels(con: duckdb.DuckDBPyConnection) -> Labels:
    rows = con.execute("select term, code, label, definition from mart_glossary order by term, display_order"
                       ).fetchall()
    terms: dict[str, list[Entry]] = {}
    for term, code, label, definition in rows:
        terms.setdefault(term, []).append(Entry(code, label, definition))
    return Labels(terms)


def channel_order(present: list[str]) -> list[str]:
    """The channels in channels.yml order (the order of every chart and table), others after them."""
    configured = channel_names()
    return [c for c in configured if c in present] + sorted(set(present) - set(configured))


def meta(labels: Labels, channels: list[str], services: list[str], triggers: list[str]) -> dict:
    """The page's dictionary: labels and colours for every code the views use (one colour per channel, from
    palette.channel_colours, everywhere; triggers on an ordinal cividis scale and time bands in greys, so no
    other meaning wears a channel's colour)."""
    configured = channel_colours()
    extra = palette(len(configured) + len(channels))[len(configured):]
    colours = {c: configured.get(c) or extra.pop(0) for c in channels}
    trigger_codes = labels.order("switch_trigger", triggers)
    sla = {e.code: e.label for e in labels.terms.get("sla_target", [])}
    return {
        "channels": [{"code": c, "label": labels.label("channel", c), "colour": colours[c]} for c in channels],
        "services": [{"code": s, "label": humanise(s)} for s in services],
        "triggers": [{"code": t, "label": labels.label("switch_trigger", t), "colour": col}
                     for t, col in zip(trigger_codes, ordinal(len(trigger_codes)), strict=True)],
        "outcomes": {e.code: e.label for e in labels.terms.get("outcome", [])},
        "sla": sla,
        "bands": [{"label": label, "colour": col}
                  for (label, _), col in zip(SWITCH_TIME_BANDS, greys(len(SWITCH_TIME_BANDS)), strict=True)],
    }
