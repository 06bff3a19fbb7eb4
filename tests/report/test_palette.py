"""Channel colours come from the Okabe–Ito palette in the configured channel order, so a channel added to
channels.yml gets its own colour with no code change."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from joinedup.channels import DEFAULT_CONFIG, channel_names
from joinedup.report.labels import Labels, meta
from joinedup.report.palette import OKABE_ITO, UNKNOWN, channel_colour, channel_colours, greys, ordinal


def test_configured_channels_take_okabe_ito_in_config_order() -> None:
    colours = channel_colours()
    assert list(colours) == channel_names()
    assert list(colours.values()) == list(OKABE_ITO[:len(colours)])


def test_a_ninth_configured_channel_gets_its_own_colour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    assert len(doc["channels"]) == 8
    doc["channels"]["video_call"] = dict(doc["channels"]["webchat"], source_system="video")
    config = tmp_path / "channels.yml"
    config.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("JOINEDUP_CHANNELS", str(config))

    colours = channel_colours()
    assert list(colours)[-1] == "video_call"
    assert len(set(colours.values())) == 9  # no colour shared
    assert channel_colour("video_call") != channel_colour("not_configured") == channel_colour("x")
    # the report's page dictionary uses it: the new channel's colour in every chart
    page = meta(Labels(), ["phone", "video_call"], [], [])
    colour = {c["code"]: c["colour"] for c in page["channels"]}
    assert colour["video_call"] == colours["video_call"] != colour["phone"] == colours["phone"]


def _rgb(hex_colour: str) -> tuple[int, ...]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def test_no_other_meaning_wears_a_channels_colour() -> None:
    """Triggers take an ordinal cividis scale and time bands greys: none within a clear distance of any channel's
    Okabe–Ito colour, so a colour on the page means one channel everywhere."""
    page = meta(Labels(), list(channel_colours()), [], ["abandoned", "unanswered", "none", "failed_self_service",
                                                         "outside_sla", "awaiting_response", "no_response_target"])
    others = [t["colour"] for t in page["triggers"]] + [b["colour"] for b in page["bands"]]
    assert len(set(others)) == len(others) == 7 + 7
    for other in others:
        for channel in OKABE_ITO:
            distance = sum((a - b) ** 2 for a, b in zip(_rgb(other), _rgb(channel), strict=True)) ** 0.5
            assert distance > 60, (other, channel)
    assert greys(7)[0] != greys(7)[-1] and ordinal(1) == [ordinal(3)[0]]


def test_unconfigured_channels_are_grey() -> None:
    r, g, b = (int(UNKNOWN[i:i + 2], 16) for i in (1, 3, 5))
    assert channel_colour("carrier_pigeon", 0.5) == f"rgba({r},{g},{b},0.5)"
