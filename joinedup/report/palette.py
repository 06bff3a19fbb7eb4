"""Channel colours for the report: the Okabe–Ito palette, assigned in the configured channel order.

Okabe and Ito's eight colours stay distinguishable under the common colour-vision deficiencies; assigning
them by `joinedup.channels.channel_names()` (channels.yml order) means a channel added to the config gets a
colour without a code change, and every chart gives one channel the same colour. Past the eighth channel the
palette repeats in ever lighter tints, so a colour is never reused.
"""

from __future__ import annotations

from joinedup.channels import channel_names

# Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, reddish purple, sky blue, vermillion,
# yellow, black. Yellow and black come last: yellow is the weakest on white, black reads as text.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
UNKNOWN = "#999999"  # a channel in the data that the configuration does not list


def _tint(hex_colour: str, towards_white: float) -> str:
    rgb = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * towards_white):02X}" for c in rgb)


def palette(n: int) -> list[str]:
    """`n` distinct colours: Okabe–Ito in order, then each further round of eight a lighter tint of it."""
    return [_tint(OKABE_ITO[i % len(OKABE_ITO)], 1 - 0.6 ** (i // len(OKABE_ITO))) for i in range(n)]


def channel_colours(channels: list[str] | None = None) -> dict[str, str]:
    """Channel -> colour, by the channels' configured order (channels.yml unless a list is given)."""
    names = channel_names() if channels is None else channels
    return dict(zip(names, palette(len(names)), strict=True))


def channel_colour(channel: str, alpha: float = 1.0) -> str:
    """A channel's colour as rgba(), grey for a channel the configuration does not list."""
    hex_colour = channel_colours().get(channel, UNKNOWN)
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
