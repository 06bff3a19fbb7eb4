"""Channel colours come from the Okabe–Ito palette in the configured channel order, so a channel added to
channels.yml gets its own colour with no code change."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from joinedup.channels import DEFAULT_CONFIG, channel_names
from joinedup.report import figures
from joinedup.report.palette import OKABE_ITO, UNKNOWN, channel_colour, channel_colours


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
    # the report's charts use it: the channel-shift bars of the new channel are drawn in its colour
    import pandas as pd

    from joinedup.report.disclosure import Suppression

    df = pd.DataFrame({"month": ["2025-03-01"] * 2, "channel": ["video_call", "phone"], "contacts": [3, 5],
                       "channel_share": [0.375, 0.625], "cost_per_contact_gbp": [1.0, 2.8],
                       "month_cost_per_contact_gbp": [2.1, 2.1]})
    shown = Suppression(1).apply(df, {"contacts": ("channel_share",)})  # figures take suppressed frames
    bars = {t.name: t.marker.color for t in figures.channel_shift_chart(shown).data if t.type == "bar"}
    assert bars["video_call"] == channel_colour("video_call") != channel_colour("phone") == bars["phone"]


def test_unconfigured_channels_are_grey() -> None:
    r, g, b = (int(UNKNOWN[i:i + 2], 16) for i in (1, 3, 5))
    assert channel_colour("carrier_pigeon", 0.5) == f"rgba({r},{g},{b},0.5)"
