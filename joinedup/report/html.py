"""Assemble the report page: one self-contained HTML file, plotly.js inlined once (works offline, no CDN)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from joinedup.report.queries import Headline

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#12355b;color:#fff;padding:24px 40px}header h1{margin:0 0 4px}header p{margin:0;opacity:.85}
main{max-width:1200px;margin:0 auto;padding:16px 40px 60px}
.headline{display:flex;flex-wrap:wrap;gap:16px;margin:24px 0}
.stat{background:#fff;border:1px solid #ddd;border-radius:8px;padding:16px 20px;flex:1 1 200px}
.stat b{display:block;font-size:2em;color:#12355b}
section.chart{background:#fff;border:1px solid #ddd;border-radius:8px;margin:24px 0;padding:8px 20px 16px}
section.chart h2{font-size:1.15em;margin:12px 0 2px}.caption{margin:0;color:#444}.range{margin:0;color:#888;font-size:.85em}
footer{color:#777;font-size:.85em}
"""


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    caption: str  # one plain-English line saying what to see
    figure: go.Figure


def _pct(x: float) -> str:
    return f"{x:.0%}"


def page(head: Headline, charts: list[Chart], dbt_docs_href: str | None, scope: str = "all services") -> str:
    period = f"{head.first_day:%-d %b %Y} to {head.last_day:%-d %b %Y}"
    stats = [
        (_pct(head.switching_journey_share), "of journeys switch channel",
         f"{head.journeys:,} journeys from {head.contacts:,} contacts"),
        (_pct(head.unanswered_switch_share), "of channel switches follow an unanswered contact",
         f"{head.switches:,} switches"),
    ]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>joinedup: channel switching, {html.escape(scope)}, {html.escape(period)}</title><style>{STYLE}</style>",
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>",
        f"<header><h1>How people move between channels</h1><p>{html.escape(period)} · "
        f"<span id='scope'>{html.escape(scope)}</span> · pseudonymous data from "
        "the published analytics database</p></header><main>",
        "<div class='headline' id='headline'>",
        *(f"<div class='stat'><b data-figure='{i}'>{html.escape(v)}</b>{html.escape(label)}"
          f"<br><small>{html.escape(note)}</small></div>" for i, (v, label, note) in enumerate(stats)),
        "</div>",
    ]
    for c in charts:
        body = c.figure.to_html(full_html=False, include_plotlyjs=False, div_id=c.id,
                                config={"displaylogo": False, "responsive": True})
        parts.append(f"<section class='chart' id='section-{c.id}'><h2>{html.escape(c.title)}</h2>"
                     f"<p class='caption'>{html.escape(c.caption)}</p><p class='range'>{html.escape(period)} · "
                     f"{html.escape(scope)}</p>"
                     f"{body}</section>")
    docs = (f" · <a href='{html.escape(dbt_docs_href)}'>data dictionary (dbt docs)</a>" if dbt_docs_href else "")
    parts.append(f"<footer>Built by <code>joinedup report</code> from the marts; definitions in the "
                 f"README{docs}.</footer></main></body></html>")
    return "\n".join(parts)
