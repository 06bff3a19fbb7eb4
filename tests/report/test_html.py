"""The page comes from the packaged jinja2 template with autoescaping: text from the data (a service name, a
glossary definition) is shown, never interpreted; the views' JSON cannot close its script element; the print
stylesheet shows the numbers and hides the controls."""

from __future__ import annotations

import json
import re
from datetime import date
from importlib.resources import files

from joinedup.report.disclosure import Suppression
from joinedup.report.html import SCRIPT, TEMPLATE, page, script_json
from joinedup.report.labels import Entry, Labels
from joinedup.report.periods import periods
from tests.report import page_data

HOSTILE = "<script>alert('x')</script> & co"
LABELS = Labels({"channel": [Entry("phone", "Phone", HOSTILE)]})


def _page(**kw) -> str:
    ps = periods(date(2025, 3, 3), date(2025, 4, 2))
    meta = {"services": [{"code": "tax", "label": HOSTILE}], "label": HOSTILE}
    views = {"*|all": {"captions": {"sankey": "</script><script>alert(1)</script>"}}}
    return page(ps, meta, views, LABELS, kw.get("docs", "dbt-docs/index.html"), scope=HOSTILE,
                sup=kw.get("sup", Suppression(5)))


def test_the_template_script_and_styles_are_package_data() -> None:
    for name in (TEMPLATE, SCRIPT, "report.css"):
        assert (files("joinedup.report") / "templates" / name).is_file()


def test_text_is_escaped_and_the_data_cannot_close_its_script() -> None:
    text = _page()
    assert "<script>alert" not in text
    assert text.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co") == 4  # title, header, option, dd
    views = page_data.views(text)  # the JSON reads back exactly, "<" escaped in the page
    assert views["*|all"]["captions"]["sankey"] == "</script><script>alert(1)</script>"
    assert page_data.meta(text)["label"] == HOSTILE
    assert "<a href='dbt-docs/index.html'>data dictionary (dbt docs)</a>" in text
    assert "data dictionary" not in _page(docs=None)
    assert json.loads(str(script_json({"a": "<!-- </script>"}))) == {"a": "<!-- </script>"}


def test_the_period_select_lists_whole_quarters_and_months_with_partial_ones_marked() -> None:
    text = _page()
    options = re.findall(r"<option value='([\w-]+)'>([^<]*)</option>", text.split("id='filter-period'")[1])
    assert options == [("all", "3 Mar 2025 to 2 Apr 2025"), ("2025-Q1", "Jan–Mar 2025 (29 of 90 days)"),
                       ("2025-Q2", "Apr–Jun 2025 (2 of 91 days)"), ("2025-03", "March 2025 (29 of 31 days)"),
                       ("2025-04", "April 2025 (2 of 30 days)")]


def test_the_footer_states_suppression_and_the_print_stylesheet_opens_the_tables() -> None:
    text = _page(sup=Suppression(5))
    footer = text.split("<footer>", 1)[1]
    assert "counts under 5 shown as &lt;5" in footer and "pseudonymous personal data" in footer
    assert "export-aggregates" in footer
    css = text.split("@media print", 1)[1]
    assert ".controls select" in css and "details.numbers::details-content" in css and "break-inside:avoid" in css
    assert "every count shown exactly" in _page(sup=Suppression(1))
