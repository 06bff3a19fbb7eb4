"""Assemble the report page: one self-contained HTML file, plotly.js inlined once (works offline, no CDN).

The markup lives in jinja2 templates (joinedup/report/templates/, package data) with autoescaping on, so a
service name or caption can never break the page; only plotly.js and plotly's own figure HTML are passed as
trusted markup. This module turns the figures and the headline into the values the template shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from joinedup.report.disclosure import Suppression
from joinedup.report.queries import Headline

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    caption: str  # one plain-English line saying what to see
    figure: go.Figure


@dataclass(frozen=True)
class Stat:
    value: str
    label: str
    note: str


@cache
def _template() -> Template:
    env = Environment(loader=PackageLoader("joinedup.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, keep_trailing_newline=False)
    return env.get_template(TEMPLATE)


def _pct(x: float | None) -> str:
    return "withheld" if x is None else f"{x:.0%}"


def _figure_html(chart: Chart) -> Markup:
    """Plotly's div and script for one figure (plotly.js itself is inlined once, in the head)."""
    return Markup(chart.figure.to_html(full_html=False, include_plotlyjs=False, div_id=chart.id,
                                       config={"displaylogo": False, "responsive": True}))


def stats(head: Headline, sup: Suppression) -> list[Stat]:
    """The headline figures under the same suppression as the charts: a total under k shows as "<k", and a
    share whose numerator or denominator is suppressed is withheld."""
    switching = round(head.switching_journey_share * head.journeys)
    unanswered = round(head.unanswered_switch_share * head.switches)
    return [
        Stat(_pct(sup.share(switching, head.journeys)), "of journeys switch channel",
             f"{sup.label(head.journeys)} journeys from {sup.label(head.contacts)} contacts"),
        Stat(_pct(sup.share(unanswered, head.switches)), "of channel switches follow an unanswered contact",
             f"{sup.label(head.switches)} switches"),
    ]


def page(head: Headline, charts: list[Chart], dbt_docs_href: str | None, scope: str = "all services",
         sup: Suppression | None = None) -> str:
    sup = sup or Suppression()
    return _template().render(
        period=f"{head.first_day:%-d %b %Y} to {head.last_day:%-d %b %Y}",
        scope=scope,
        suppression=sup.note(),
        stats=stats(head, sup),
        charts=[{"id": c.id, "title": c.title, "caption": c.caption, "body": _figure_html(c)} for c in charts],
        dbt_docs_href=dbt_docs_href,
        plotly_js=Markup(get_plotlyjs()),
    )
