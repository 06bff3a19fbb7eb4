"""Assemble the report page: one self-contained HTML file, plotly.js and the page script inlined once (works
offline, no CDN), the views' data embedded as JSON.

The markup lives in jinja2 templates (joinedup/report/templates/, package data) with autoescaping on, so a
service name or a glossary definition can never break the page. The JSON goes into `<script
type="application/json">` elements, escaped so that no string in it can close the element.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from joinedup.report.disclosure import Suppression
from joinedup.report.headline import FIGURES
from joinedup.report.labels import TERM_TITLES, TERMS, Labels
from joinedup.report.periods import Period

TEMPLATE = "report.html.j2"
SCRIPT = "report.js"


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    note: str = ""  # a fixed line under the chart (what it measures against), if any


CHARTS = [
    Chart("sankey", "Journey paths, first four steps"),
    Chart("transitions", "From each channel, where the next contact goes"),
    Chart("switch-times", "How long before people switch, by what went wrong before"),
    Chart("switch-pairs", "The commonest switches and what went wrong before them"),
    Chart("sla-hour", "Response targets met, by the hour the contact came in"),
    Chart("social-sla", "Social media posts answered within 15 minutes, by weekday and hour"),
    Chart("repeat", "Repeat contacts and failure demand by service"),
    Chart("shift", "Channel mix and cost per contact, by month"),
    Chart("out-of-hours", "Contacts outside each channel's opening hours"),
    Chart("demand", "When the demand comes: contacts by weekday and hour"),
    Chart("journeys", "Example journeys"),
]
REPORT_TERMS = [
    ("Journey", "A person's contacts about one service, until a set number of days pass with no contact (the "
                "journey gap, dbt variable journey_gap_days, 7 by default)."),
    ("Channel switch", "Two consecutive contacts of a journey on different channels; the switch is dated by the later "
                       "one."),
    ("Failure demand", "A repeat contact about a need the council had not resolved: demand it causes by not "
                       "resolving it first time."),
    ("Out of hours", "A contact that came while its channel was closed: outside the channel's opening hours, at a "
                     "weekend it does not open, or on a bank holiday of England and Wales."),
    ("Partial period", "A month or quarter the data covers only in part, labelled with the days it covers (e.g. 1 of "
                       "31 days) and drawn lighter."),
    ("†", "A rate resting on fewer than 30 contacts: shown (when not suppressed) but hollow or marked, as it moves a "
          "lot by chance."),
    ("<k and suppressed", "A count under the threshold k is shown as <k; a second cell hidden so the first cannot be "
                          "worked out from a total is shown as suppressed; rates from either are withheld."),
]


@cache
def _template() -> Template:
    env = Environment(loader=PackageLoader("joinedup.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, keep_trailing_newline=False)
    return env.get_template(TEMPLATE)


@cache
def _script() -> str:
    return (files("joinedup.report") / "templates" / SCRIPT).read_text(encoding="utf-8")


def script_json(value: object) -> Markup:
    """JSON safe inside a script element: every "<" escaped (a "</script>" or "<!--" in a label cannot end or
    upset it; JSON.parse reads the escape back), and no NaN."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return Markup(text.replace("<", "\\u003c"))


def glossary(labels: Labels) -> list[dict]:
    return [{"title": TERM_TITLES[t], "entries": labels.terms[t]} for t in TERMS if labels.terms.get(t)]


def page(periods: list[Period], meta: dict, views: dict[str, dict], labels: Labels, dbt_docs_href: str | None,
         scope: str = "all services", sup: Suppression | None = None) -> str:
    sup = sup or Suppression()
    whole = periods[0]
    groups = [(name, [p for p in periods if p.kind == kind])
              for name, kind in (("Whole period", "all"), ("Quarters", "quarter"), ("Months", "month"))]
    return _template().render(
        period=whole.label, scope=scope, suppression=sup.note(),
        services=meta["services"], period_groups=[(g, ps) for g, ps in groups if ps],
        figure_labels={k: v[0] for k, v in FIGURES.items()}, charts=CHARTS, glossary=glossary(labels),
        report_terms=REPORT_TERMS, dbt_docs_href=dbt_docs_href,
        meta_json=script_json(meta), views_json=script_json(views),
        plotly_js=Markup(get_plotlyjs()), page_js=Markup(_script()),
    )
