"""What the review pages show, computed from the queue's records (joinedup.review.queue) before the templates
draw it: the side-by-side rows with their differences marked, the waterfall chart's geometry, labels for the
reasons and the decisions' states. Kept out of the templates so that they only lay out values, and testable
without a browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from joinedup.review.queue import WaterfallStep

FIELD_LABELS = {"given_name": "Given name", "family_name": "Family name", "full_name": "Full name",
                "date_of_birth": "Date of birth", "address_line": "Address", "town": "Town", "postcode": "Postcode",
                "email": "Email", "phone": "Phone", "reference_id": "Reference", "case_ref": "Case reference",
                "handle": "Handle", "platform": "Platform", "display_name": "Display name", "location": "Location",
                "known_handles": "Known handles"}
# comparison names of the linker (linkage.compare) as a caseworker reads them
STEP_LABELS = {"prior": "Prior (before any evidence)", "final": "Final score"}


def label(name: str) -> str:
    return FIELD_LABELS.get(name) or STEP_LABELS.get(name) or name.replace("_", " ").capitalize()


def _norm(v: Any) -> str:
    """How two values compare for highlighting: case, spaces and punctuation do not make a difference."""
    return re.sub(r"[\s\-.,'/()]+", "", str(v)).casefold()


@dataclass(frozen=True)
class ComparedRow:
    field: str
    label: str
    contact: Any
    citizen: Any
    state: str  # "same", "differs" or "one-sided" (only one record states it)


def compared_rows(compared: list[tuple[str, Any, Any]]) -> list[ComparedRow]:
    out = []
    for field, a, b in compared:
        if a is None or b is None or a == "" or b == "":
            state = "one-sided"
        else:
            state = "same" if _norm(a) == _norm(b) else "differs"
        out.append(ComparedRow(field, label(field), a, b, state))
    return out


def reason_label(reason: str) -> str:
    """The queue's short form of why an item is in review."""
    if reason.startswith("refused: "):
        return "protection refused: " + reason[len("refused: "):].replace("_", " ")
    return reason.replace("_", " ")


def decision_state(d: dict[str, Any]) -> str:
    """pending / applied / undone (or what the link step found: nothing to undo, contact gone)."""
    if d.get("undone"):
        return "undone"
    outcome = d.get("outcome")
    if not outcome or outcome == "pending":
        return "pending"
    return outcome.replace("_", " ")


# -- the waterfall chart ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    x: float
    width: float
    kind: str  # "up" (evidence for), "down" (against), "prior", "final"
    weight: str  # the step's weight as shown, e.g. "+4.2"
    probability: str  # the pairwise probability after the step


@dataclass(frozen=True)
class Waterfall:
    width: int
    height: int
    left: int  # x of the plot area
    plot: int  # width of the plot area
    zero: float  # x of weight 0
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (x, label) of the weight axis
    row: int  # height of a row


def _pct(p: float) -> str:
    if p >= 0.9995:
        return ">99.9%"
    if p <= 0.0005:
        return "<0.1%"
    return f"{p:.1%}"


def waterfall_chart(steps: list[WaterfallStep], width: int = 760, row: int = 26) -> Waterfall | None:
    """Splink's waterfall chart, turned on its side so that long comparison names read: one row per step, each
    bar running from the score before it to the score after it (green adds evidence for a match, red against),
    then the final score from zero, with the pairwise probability each running total means."""
    if not steps:
        return None
    left, right = 200, 150
    plot = width - left - right
    total = steps[-1].cumulative
    lo = min(0.0, *(s.cumulative for s in steps), *(s.cumulative - s.weight for s in steps))
    hi = max(0.0, *(s.cumulative for s in steps), *(s.cumulative - s.weight for s in steps))
    if hi - lo < 1:
        hi = lo + 1
    span = hi - lo

    def x(v: float) -> float:
        return round(left + (v - lo) / span * plot, 1)

    bars = []
    for i, s in enumerate(steps):
        start = s.cumulative - s.weight
        a, b = sorted((x(start), x(s.cumulative)))
        kind = "prior" if s.label == "prior" else ("up" if s.weight >= 0 else "down")
        bars.append(Bar(label(s.label), i * row, a, max(b - a, 1.0), kind, f"{s.weight:+.1f}", _pct(s.probability)))
    a, b = sorted((x(0.0), x(total)))
    bars.append(Bar(label("final"), len(steps) * row, a, max(b - a, 1.0), "final", f"{total:+.1f}",
                    _pct(steps[-1].probability)))
    step = next(t for t in (1, 2, 5, 10, 20, 50) if span / t <= 8)
    first = int(lo // step) * step
    ticks = [(x(v), f"{v:+g}" if v else "0") for v in range(first, int(hi) + step, step) if lo <= v <= hi]
    return Waterfall(width, (len(steps) + 1) * row + 30, left, plot, x(0.0), bars, ticks, row)


__all__ = ["Bar", "ComparedRow", "Waterfall", "compared_rows", "decision_state", "label", "reason_label",
           "waterfall_chart"]
