"""The page comes from the packaged jinja2 template with autoescaping: text from the data (a service name, a
caption) is shown, never interpreted, and only plotly's own markup is inserted as HTML."""

from __future__ import annotations

from datetime import date
from importlib.resources import files

import plotly.graph_objects as go

from joinedup.report.disclosure import Suppression
from joinedup.report.html import TEMPLATE, Chart, page
from joinedup.report.queries import Headline

HEAD = Headline(date(2025, 3, 3), date(2025, 3, 30), 1200, 850, 0.18, 190, 0.4)
HOSTILE = "<script>alert('x')</script> & co"


def test_the_template_is_package_data() -> None:
    template = files("joinedup.report") / "templates" / TEMPLATE
    assert template.is_file()
    assert "{{ scope }}" in template.read_text(encoding="utf-8")


def test_text_is_escaped_and_figures_are_not() -> None:
    figure = go.Figure(go.Bar(x=["phone"], y=[3]))
    text = page(HEAD, [Chart("bars", HOSTILE, HOSTILE, figure)], "dbt-docs/index.html", scope=HOSTILE)
    assert "<script>alert" not in text
    assert text.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co") == 5  # title, header, h2, caption, range
    assert "<div id=\"bars\" class=\"plotly-graph-div\"" in text  # plotly's markup, as HTML
    assert "<b data-figure='0'>18%</b>of journeys switch channel<br><small>850 journeys from 1,200 contacts</small>" \
        in text
    assert "<a href='dbt-docs/index.html'>data dictionary (dbt docs)</a>" in text
    assert "data dictionary" not in page(HEAD, [], None)


def test_small_headline_counts_are_suppressed_and_the_footer_says_so() -> None:
    small = Headline(date(2025, 3, 3), date(2025, 3, 9), 12, 4, 0.5, 3, 1.0)
    text = page(small, [], None, sup=Suppression(5))
    assert "&lt;5 journeys from 12 contacts" in text and "&lt;5 switches" in text
    assert "<b data-figure='0'>withheld</b>" in text and "<b data-figure='1'>withheld</b>" in text
    body = text.split("</head>", 1)[1]  # plotly.js and the CSS hold percentages of their own
    assert "4 journeys" not in body and "50%" not in body and "100%" not in body
    footer = body.split("<footer>", 1)[1]
    assert "counts under 5 shown as &lt;5" in footer and "pseudonymous personal data" in footer
    exact = page(small, [], None, sup=Suppression(1))
    assert "4 journeys from 12 contacts" in exact and "<b data-figure='0'>50%</b>" in exact
