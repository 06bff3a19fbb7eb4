"""Plotly figures from the report's query results: DataFrames in, figures out (channel colours by the configured
channel order, joinedup.report.palette).

The frames arrive already through joinedup.report.disclosure (build.charts): a suppressed count is NaN with its
`<count>_label` ("<5"), and figures computed from it are NaN. Figures draw NaN as nothing (no bar, a blank
heatmap cell) and put the labels, never the exact small values, in hover text."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from joinedup.report.disclosure import LABEL_SUFFIX
from joinedup.report.palette import channel_colour

TRIGGER_COLOURS = {"unanswered": "#d62728", "abandoned": "#ff7f0e", "outside_sla": "#bcbd22",
                   "failed_self_service": "#9467bd", "none": "#7f7f7f",
                   "awaiting_response": "#17becf", "no_response_target": "#c7c7c7"}
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 30, "t": 40, "b": 50}, "height": 460}


def no_data(message: str = "No contacts of this kind in the selected service and period") -> go.Figure:
    """An empty chart that says so (plotly throws drawing some empty traces, a Sankey among them)."""
    fig = go.Figure()
    fig.update_layout(**{**LAYOUT, "height": 200}, xaxis={"visible": False}, yaxis={"visible": False},
                      annotations=[{"text": message, "showarrow": False, "font": {"size": 16, "color": "#666"}}])
    return fig


SUPPRESSED = "Every figure here comes from too few contacts to show (small cells suppressed)"


def _all_suppressed(df: pd.DataFrame) -> bool:
    """True when the frame has counts and every one of them was suppressed: nothing exact is left to draw."""
    counts = [c.removesuffix(LABEL_SUFFIX) for c in df.columns if c.endswith(LABEL_SUFFIX)]
    return bool(counts) and bool(df[counts].isna().all().all())


def _or_no_data(build: Callable[[pd.DataFrame], go.Figure]) -> Callable[[pd.DataFrame], go.Figure]:
    @wraps(build)
    def figure(df: pd.DataFrame) -> go.Figure:
        if df.empty:
            return no_data()
        return no_data(SUPPRESSED) if _all_suppressed(df) else build(df)
    return figure


def _sankey_trace(links: pd.DataFrame, visible: bool) -> go.Sankey:
    nodes: dict[tuple[int, str], int] = {}
    for row in links.itertuples():
        nodes.setdefault((row.step, row.source), len(nodes))
        nodes.setdefault((row.step + 1, row.target), len(nodes))
    labels = [f"{ch} ({step})" for step, ch in nodes]
    return go.Sankey(
        visible=visible, arrangement="snap",
        node={"label": labels, "color": [channel_colour(ch) for _, ch in nodes], "pad": 12, "thickness": 14},
        link={"source": [nodes[(r.step, r.source)] for r in links.itertuples()],
              "target": [nodes[(r.step + 1, r.target)] for r in links.itertuples()],
              "value": links["journeys"].tolist(),
              "customdata": links["journeys_label"].tolist(),
              "hovertemplate": "%{source.label} → %{target.label}: %{customdata} journeys<extra></extra>",
              "color": [channel_colour(s, 0.35) for s in links["source"]]},
    )


def sankey(collapsed: pd.DataFrame, uncollapsed: pd.DataFrame) -> go.Figure:
    """Both views, a button to switch; a view with no flows (no journey of two steps) is left out. A band can
    only be drawn at its width, so a suppressed flow (NaN journeys) is left out of the picture."""
    given = [(label, links) for label, links in (("repeats collapsed", collapsed), ("every contact", uncollapsed))
             if not links.empty]
    if not given:
        return no_data("No journey in the selected service and period has a second contact")
    views = [(label, kept) for label, links in given if not (kept := links[links["journeys"].notna()]).empty]
    if not views:
        return no_data(SUPPRESSED)
    fig = go.Figure([_sankey_trace(links, i == 0) for i, (_, links) in enumerate(views)])
    fig.update_layout(**{**LAYOUT, "height": 560}, updatemenus=[{
        "type": "buttons", "direction": "right", "x": 0, "y": 1.12, "xanchor": "left",
        "buttons": [{"label": label, "method": "update",
                     "args": [{"visible": [j == i for j in range(len(views))]}]}
                    for i, (label, _) in enumerate(views)],
    }])
    return fig


def _share(share: float, of: str) -> str:
    return "share withheld" if pd.isna(share) else f"{share:.0%} of {of}"


@_or_no_data
def transition_heatmap(matrix: pd.DataFrame) -> go.Figure:
    """Shares of each from channel's transitions (`share`, from the query); hover gives the count's label. A pair
    with no transition is a true 0; a suppressed one is a blank cell."""
    channels = sorted(set(matrix["from_channel"]) | set(matrix["to_channel"]))
    cells = matrix.set_index(["from_channel", "to_channel"]).reindex(
        pd.MultiIndex.from_product([channels, channels], names=["from_channel", "to_channel"]))
    absent = cells["transitions_label"].isna()
    share = cells["share"].mask(absent, 0.0)
    text = [f"{'0' if gone else n} transitions ({_share(0.0 if gone else s, f)})"
            for (f, _), n, s, gone in zip(cells.index, cells["transitions_label"], cells["share"], absent, strict=True)]
    size = len(channels)
    fig = go.Figure(go.Heatmap(
        z=share.to_numpy(dtype=float).reshape(size, size), x=channels, y=channels, colorscale="Blues", zmin=0,
        zmax=1, customdata=np.array(text, dtype=object).reshape(size, size), colorbar={"title": "share of from"},
        hovertemplate="%{y} → %{x}<br>%{customdata}<extra></extra>"))
    fig.update_layout(**LAYOUT, xaxis_title="next contact's channel", yaxis_title="contact's channel")
    return fig


@_or_no_data
def switch_time_bars(times: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for trigger, group in times.groupby("switch_trigger", sort=True):
        fig.add_bar(name=trigger, x=group["band"], y=group["share"], customdata=group["switches_label"],
                    marker_color=TRIGGER_COLOURS.get(trigger),
                    hovertemplate=f"{trigger}: %{{x}}<br>%{{customdata}} switches (%{{y:.0%}})<extra></extra>")
    order = times.sort_values("band_order")["band"].drop_duplicates().tolist()
    fig.update_layout(**LAYOUT, barmode="group", xaxis={"categoryorder": "array", "categoryarray": order,
                                                        "title": "time from the previous contact to the switch"},
                      yaxis={"title": "share of the trigger's switches", "tickformat": ".0%"})
    return fig


@_or_no_data
def switch_pairs(pairs: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    order = pairs.drop_duplicates("switch")["switch"].tolist()[::-1]
    for trigger, group in pairs.groupby("switch_trigger", sort=True):
        fig.add_bar(name=trigger, y=group["switch"], x=group["switches"], orientation="h",
                    marker_color=TRIGGER_COLOURS.get(trigger),
                    customdata=np.stack([group["switches_label"], [
                        "withheld" if pd.isna(m) else f"{m / 60:.1f} h" for m in group["median_minutes"]]], axis=-1),
                    hovertemplate=f"%{{y}} after {trigger}: %{{customdata[0]}}<br>median %{{customdata[1]}}"
                                  "<extra></extra>")
    fig.update_layout(**LAYOUT, barmode="stack", xaxis_title="switches",
                      yaxis={"categoryorder": "array", "categoryarray": order})
    return fig


@_or_no_data
def sla_lines(sla: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for target, group in sla.groupby("target", sort=True):
        minutes = group["target_minutes"].iloc[0]
        fig.add_scatter(x=group["hour"], y=group["attainment"], mode="lines+markers", name=target,
                        customdata=group["contacts_label"],
                        hovertemplate=f"{target} (target {minutes:g} min)<br>%{{x}}:00 local: %{{y:.0%}} "
                                      f"of %{{customdata}}<extra></extra>")
    fig.update_layout(**LAYOUT, xaxis={"title": "local hour the contact came in", "dtick": 2},
                      yaxis={"title": "answered within target", "tickformat": ".0%", "range": [0, 1.02]})
    return fig


def _weekday_hour(df: pd.DataFrame, value: str, title: str, hover: str, colorscale: str) -> go.Figure:
    """A local weekday × hour grid of `value`; `hover` is a column of ready-made hover text (labels, so a
    suppressed cell says "<5" and stays blank)."""
    cells = df.set_index(["weekday", "hour"]).reindex(
        pd.MultiIndex.from_product([range(1, 8), range(24)], names=["weekday", "hour"]))
    z = cells[value].to_numpy(dtype=float).reshape(7, 24)
    text = np.array(cells[hover].fillna("no contacts").tolist(), dtype=object).reshape(7, 24)
    fig = go.Figure(go.Heatmap(z=z, x=[f"{h:02d}" for h in range(24)], y=WEEKDAYS, customdata=text,
                               colorscale=colorscale, colorbar={"title": title},
                               hovertemplate="%{y} %{x}:00: %{customdata}<extra></extra>"))
    fig.update_layout(**LAYOUT, xaxis_title="local hour", yaxis={"autorange": "reversed"})
    return fig


@_or_no_data
def social_sla_heatmap(df: pd.DataFrame) -> go.Figure:
    text = [f"{n} posts (share answered withheld)" if pd.isna(a) else f"{a:.0%} of {n} posts answered"
            for a, n in zip(df["attainment"], df["contacts_label"], strict=True)]
    return _weekday_hour(df.assign(text=text), "attainment", "answered in 15 min", "text", "RdYlGn")


@_or_no_data
def out_of_hours_heatmap(df: pd.DataFrame) -> go.Figure:
    return _weekday_hour(df.assign(text=df["contacts_label"] + " contacts"), "contacts", "contacts", "text",
                         "Viridis")


@_or_no_data
def repeat_bars(df: pd.DataFrame) -> go.Figure:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=df["service"], y=df["first_contacts"], name="first contacts", marker_color="#9ecae1",
                customdata=df["first_contacts_label"], hovertemplate="%{x}: %{customdata} first contacts<extra></extra>")
    cost = ["withheld" if pd.isna(c) else f"£{c:,.0f}" for c in df["failure_demand_cost_gbp"]]
    fig.add_bar(x=df["service"], y=df["failure_demand_contacts"], name="failure demand (repeats)",
                marker_color="#d62728", customdata=np.stack([df["failure_demand_contacts_label"], cost], axis=-1),
                hovertemplate="%{x}: %{customdata[0]} repeats costing %{customdata[1]}<extra></extra>")
    fig.add_scatter(x=df["service"], y=df["failure_demand_rate"], name="failure demand rate", mode="markers",
                    marker={"color": "black", "size": 9}, secondary_y=True)
    fig.update_layout(**LAYOUT, barmode="stack")
    fig.update_yaxes(title_text="contacts", secondary_y=False)
    fig.update_yaxes(title_text="share that are repeats", tickformat=".0%", secondary_y=True, rangemode="tozero")
    return fig


@_or_no_data
def channel_shift_chart(df: pd.DataFrame) -> go.Figure:
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for channel, group in df.groupby("channel", sort=True):
        fig.add_bar(x=group["month"], y=group["channel_share"], name=channel, marker_color=channel_colour(channel),
                    customdata=group["contacts_label"],
                    hovertemplate=f"{channel}: %{{y:.1%}} (%{{customdata}} contacts)<extra></extra>")
    monthly = df.drop_duplicates("month")
    fig.add_scatter(x=monthly["month"], y=monthly["month_cost_per_contact_gbp"], name="cost per contact (£)",
                    mode="lines+markers", line={"color": "black", "dash": "dot"}, secondary_y=True,
                    marker={"color": "white", "line": {"color": "black", "width": 2}})  # visible on black bars
    fig.update_layout(**LAYOUT, barmode="stack",
                      xaxis={"title": "month", "tickformat": "%b %Y", "dtick": "M1", "type": "date"})
    fig.update_yaxes(title_text="share of contacts", tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title_text="£ per contact", secondary_y=True, rangemode="tozero")
    return fig
