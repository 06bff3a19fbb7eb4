"""Each chart's caption, computed from its view's (suppressed) data: what to see, and the n it rests on.

Why computed: a fixed sentence ("abandoned calls turn into another channel within the hour") stays the same under
a filter and on other data, and can say what the chart does not show. These read only the view's suppressed
values, so a caption never states more than the chart does; where the data cannot support a statement the
caption says less rather than guessing. Pure functions: a chart's view data and the page's labels in, text out.
"""

from __future__ import annotations

from collections.abc import Callable

from joinedup.report.cells import STEPS
from joinedup.report.views import BANDS

SMALL_N = 30  # points and cells resting on fewer contacts are marked (hollow, †) in the page
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
Label = Callable[[str], str]


def n(value: int | str) -> str:
    return value if isinstance(value, str) else f"{value:,}"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def _exact(value: int | str) -> int | None:
    return value if isinstance(value, int) else None


def total(values: list, unit: str) -> str:
    """The sum of the counts shown, saying so when some are suppressed (their exact sum is not published: it
    would give a suppressed count away by subtraction)."""
    flat = [v for x in values for v in (x if isinstance(x, list) else [x])]
    shown = sum(v for v in flat if isinstance(v, int))
    return f"{shown:,} {unit}" + ("" if all(isinstance(v, int) for v in flat) else " in the cells large enough to show")


def sankey(data: dict, k: int) -> str:
    c, e = data["collapsed"], data["every"]
    total = _exact(c["journeys"])
    if not total:
        return "No journey in this view."
    single, one = _exact(c["single_contact"]), _exact(c["one_channel"])
    stay = f" ({(single + one) / total:.0%} of {total:,} journeys)" if single is not None and one is not None else ""
    return (f"Not drawn with repeats collapsed: {n(c['single_contact'])} journeys with a single contact and "
            f"{n(c['one_channel'])} that stayed in one channel{stay}; the steps after the {STEPS}th of "
            f"{n(c['longer'])} journeys; {c['hidden']} flows of fewer than {k} journeys (or hidden beside one). "
            f"With every contact shown, {n(e['single_contact'])} single-contact journeys, the steps after the "
            f"{STEPS}th of {n(e['longer'])} journeys and {e['hidden']} small flows are not drawn.")


def transitions(data: dict, channels: list[str], label: Label) -> str:
    rows = [_exact(r) for r in data["rows"]]
    if not any(rows) and not any(isinstance(r, str) for r in data["rows"]):
        return "No journey in this view has a second contact."
    best = None
    for i, f in enumerate(channels):
        for j, t in enumerate(channels):
            share, count = data["share"][i][j], data["n"][i][j]
            if i != j and share is not None and isinstance(count, int) and count > 0 and \
                    (best is None or share > best[0]):
                best = (share, f, t, rows[i])
    head = f"{total(data['rows'], 'consecutive contacts in a journey')}, each row with its n."
    if best is None:
        return head
    share, f, t, row = best
    return (f"{head} The likeliest switch: {share:.0%} of {label(f)} contacts (n = {n(row)}) are followed by a "
            f"{label(t)} contact.")


def _median_band(shares: list[float | None]) -> tuple[str, float | None] | None:
    """The band holding the median switch, and the share within an hour, from the band shares (None when a
    suppressed band comes first)."""
    cumulative = 0.0
    for band, share in zip(BANDS, shares, strict=True):
        if share is None:
            return None
        cumulative += share
        if cumulative >= 0.5:
            hour = shares[0] + shares[1] if shares[0] is not None and shares[1] is not None else None
            return band, hour
    return None


def switch_times(data: dict, label: Label) -> str:
    found = [(BANDS.index(m[0]), -(m[1] or 0), t, m, total) for t, shares, total in
             zip(data["triggers"], data["share"], data["n"], strict=True)
             if isinstance(total, int) and total >= SMALL_N and (m := _median_band(shares))]
    switches = total(data["n"], "switches")
    if not found:
        return f"{switches}: too few after each kind of contact to say when half of them happen."
    found.sort()
    _, _, fast, (band, hour), fast_n = found[0]
    text = (f"{switches}. Soonest after {label(fast).lower()}: half within {band}, {pct(hour)} within an "
            f"hour (n = {fast_n:,}).")
    if len(found) > 1:
        _, _, slow, (band, _), slow_n = found[-1]
        text += f" Latest after {label(slow).lower()}: half take {band} or longer (n = {slow_n:,})."
    return text


def switch_pairs(data: dict, label: Label, trigger_label: Label) -> str:
    if not data["pairs"]:
        return "No channel switch in this view."
    (f, t), total = data["pairs"][0], data["n"][0]
    by = [(c, tr) for c, tr in zip(data["by"][0], data["triggers"], strict=True) if isinstance(c, int) and c > 0]
    text = f"The commonest switch is {label(f)} → {label(t)} (n = {n(total)} switches)"
    if by:
        c, tr = max(by)
        text += f", most often after {trigger_label(tr).lower()} ({c:,})"
    return text + f"; the {len(data['pairs'])} commonest switches are shown."


def sla(data: dict, target_label: Callable[[list[str]], str]) -> str:
    ranked = [(share, target_label(t), total) for t, share, total in
              zip(data["targets"], data["total_met"], data["total"], strict=True) if share is not None]
    if not ranked:
        return "No contact with a response target in this view."
    low, high = min(ranked), max(ranked)
    return (f"Lowest: {low[1]}, {pct(low[0])} of {n(low[2])} met; highest: {high[1]}, {pct(high[0])} of "
            f"{n(high[2])}. Points resting on fewer than {SMALL_N} contacts are hollow and marked †.")


def social(data: dict) -> str:
    total = data["total"]
    if not _exact(total):
        return "No social media post in this view."
    cells = [(share, d, h, c) for d, (shares, counts) in enumerate(zip(data["met"], data["n"], strict=True))
             for h, (share, c) in enumerate(zip(shares, counts, strict=True))
             if share is not None and isinstance(c, int) and c >= SMALL_N]
    text = f"{pct(data['total_met'])} of {n(total)} posts answered within 15 minutes."
    if cells:
        worst = min(cells)
        text += (f" Worst well-filled hour: {WEEKDAY_NAMES[worst[1]]} {worst[2]:02d}:00, {pct(worst[0])} of "
                 f"{worst[3]:,}.")
    return text + f" Cells resting on fewer than {SMALL_N} posts are marked †; blank cells are withheld."


def repeat(data: dict, label: Label) -> str:
    rows = [(f, s, r, c, m) for s, f, r, c, m in zip(data["services"], data["failure"], data["rate"],
                                                      data["cost"], data["n"], strict=True) if isinstance(f, int)]
    if not rows:
        return "No contact in this view."
    f, s, r, c, m = max(rows, key=lambda x: (x[0], x[1]))
    cost = "" if c is None else f", costing £{c:,.0f}"
    return (f"{total(data['n'], 'contacts')}. Most failure demand: {label(s)}, {f:,} repeat contacts about an "
            f"unresolved need ({pct(r)} of its {n(m)} contacts){cost}.")


def shift(data: dict, channels: list[str], label: Label, month_labels: dict[str, str], partial: set[str]) -> str:
    if not any(isinstance(x, int) and x for x in data["n"]):
        return "No contact in this view."
    whole = [i for i, m in enumerate(data["months"]) if m not in partial] or list(range(len(data["months"])))
    i = whole[-1]
    shares = [(s[i], ch) for ch, s in zip(channels, data["share"], strict=True) if s[i] is not None]
    text = f"{total(data['n'], 'contacts')} over {len(data['months'])} month(s)."
    if shares:
        share, ch = max(shares)
        cpc = data["cpc"][i]
        text += (f" In {month_labels[data['months'][i]]} {label(ch)} carried the most ({share:.0%} of "
                 f"{n(data['n'][i])} contacts){'' if cpc is None else f'; a contact cost £{cpc:.2f} on average'}.")
    if partial & set(data["months"]):
        text += " Lighter bars are partial months (days covered in the axis label)."
    return text


def out_of_hours(data: dict, channels: list[str], label: Label, bank_holidays: list[str]) -> str:
    rows = [(s, ch, c) for ch, s, c in zip(channels, data["share"], data["n"], strict=True) if s is not None]
    if not rows:
        return "No contact in this view."
    high, low = max(rows), min(rows)
    text = (f"Highest out-of-hours share: {label(high[1])}, {high[0]:.0%} of its {n(high[2])} contacts came while it "
            f"was closed; lowest: {label(low[1])}, {low[0]:.0%} of {n(low[2])}.")
    bh = [x for x in data["bh"] if isinstance(x, int)]
    if bank_holidays:
        text += (f" Bank holidays in the period ({', '.join(bank_holidays)}) count as closed"
                 f"{f': {sum(bh):,} contacts came on them (hatched)' if bh and sum(bh) else ''}.")
    return text


def examples(data: dict, k: int) -> str:
    if not data["journeys"]:
        return (f"No pattern of a switching journey is shared by at least {k} journeys in this view, so none is "
                "shown.")
    return (f"Switching journeys with two to five contacts, described by their pattern only (channel, outcome, time since the "
            f"step before): each pattern shown is shared by at least {k} journeys (of {n(data['eligible'])}); no "
            "dates, times or keys.")


def demand(data: dict) -> str:
    grid = data["grid"]
    cells = [(c, d, h) for d, row in enumerate(grid) for h, c in enumerate(row) if isinstance(c, int)]
    if not any(c for c, _, _ in cells):
        return "No contact in this view."
    busiest = max(cells)
    return (f"{total(grid, 'contacts')} by local weekday and hour, all channels. "
            f"Busiest: {WEEKDAY_NAMES[busiest[1]]} {busiest[2]:02d}:00, {busiest[0]:,} contacts.")
