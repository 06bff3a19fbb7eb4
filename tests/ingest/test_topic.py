"""Keyword routing of social posts to a service (channels.yml `as: topic`)."""

from __future__ import annotations

import pytest

from joinedup.channels import load_channels
from joinedup.ingest.fields import compile_field


@pytest.fixture(scope="module")
def route():
    ch = load_channels()["social"]
    f = compile_field("service", ch.fields["service"], ch.maps, ch.timezone)
    return lambda text: f({"Message": text}, {}, None)


@pytest.mark.parametrize(("text", "service"), [
    ("@RidingsCouncil bins not collected again on Flynn Road!!", "waste"),
    ("Rats in the alley behind Flynn Road", "environmental_health"),  # a street name is not a highways issue
    ("I need help with the COUNCIL TAX support form", "benefits"),  # specific before general
    ("Why has my council tax bill gone up?", "council_tax"),
    ("Huge pothole on Mill Lane", "highways"),
    ("Who do I speak to about a complaint?", "general"),
    ("=HYPERLINK(\"http://x\")", "general"),
    (None, "general"),
])
def test_posts_are_routed_by_keywords(route, text: str | None, service: str) -> None:
    assert route(text) == service


def test_keywords_match_at_word_starts_only(route) -> None:
    assert route("Cabinet meeting tonight?") == "general"  # "bin" inside a word is not waste
