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


# Cividis (Nuñez, Anderton & Renslow 2018): a sequential scale that reads the same under deuteranopia and
# protanopia and in greyscale. Sampled from 0 to 0.7 for ordinal categories (switch triggers): its bright
# yellow end is left out, where it would come close to the Okabe–Ito yellow a channel wears.
CIVIDIS = ((0.0, "#00224E"), (0.1, "#123570"), (0.2, "#3B496C"), (0.3, "#575D6D"), (0.4, "#707173"),
           (0.5, "#8A8779"), (0.6, "#A69D75"), (0.7, "#C4B56C"), (0.8, "#E4CF5B"), (0.9, "#F1D84E"),
           (1.0, "#FEE838"))
ORDINAL_TOP = 0.7
GREYS = ("#E6E6E6", "#CCCCCC", "#B0B0B0", "#939393", "#767676", "#595959", "#3D3D3D")  # none near black


def _mix(a: str, b: str, t: float) -> str:
    pa, pb = ([int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in (a, b))
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(pa, pb, strict=True))


def cividis(x: float) -> str:
    """The cividis colour at x in [0, 1] (linear between the stops above)."""
    x = min(max(x, 0.0), 1.0)
    for (x0, c0), (x1, c1) in zip(CIVIDIS, CIVIDIS[1:], strict=False):
        if x <= x1:
            return _mix(c0, c1, (x - x0) / (x1 - x0))
    return CIVIDIS[-1][1]


def ordinal(n: int) -> list[str]:
    """`n` ordered categories (switch triggers in glossary order) as cividis colours from dark to light."""
    return [cividis(ORDINAL_TOP * i / max(n - 1, 1)) for i in range(n)]


def greys(n: int) -> list[str]:
    """`n` ordered steps (time bands, fastest lightest) as greys: no hue, so never a channel's colour."""
    return [GREYS[round(i * (len(GREYS) - 1) / max(n - 1, 1))] for i in range(n)]


def cividis_scale() -> list[list[float | str]]:
    """The scale for plotly heatmaps (colorscale), the same stops."""
    return [[x, c] for x, c in CIVIDIS]
