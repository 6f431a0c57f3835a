"""Figures for the spending explorer. Frames carry integer cents; hover text is money in the user's
currency; ``customdata`` carries the category id or the bucket date a click drills into.

These figures are plain Plotly JSON (``{"data": [...], "layout": {...}}``), which ``dcc.Graph`` takes as
it is: the explorer draws four of them on every filter change, and building them as ``go.Figure`` spent
most of the update's time validating (25 ms instead of under 1 ms for a 7-trace bar chart). They hold
only lists, strings and numbers; ``tests/test_spending_figures.py`` checks them against Plotly's own
validation. The frames are small (one row per category, bucket or payee): they are read as plain
Python lists, never reshaped with pandas.
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from dashboard.formatting import (
    as_date,
    format_date_range,
    format_day,
    format_money,
    format_month,
    format_number,
    format_percent,
)

from .theme import (
    COLORWAY,
    INCOME,
    MUTED,
    SPENDING,
    bar_labels,
    base_layout,
    date_ticks,
    empty_figure,
    fixed_margins,
    money_axis,
    user_text,
)

OTHER = -1
UNCATEGORIZED_NODE = 0
TREEMAP_DEPTH = 2       # levels of the category tree a treemap shows at once
AMOUNT_SHARE = 0.04     # a treemap box of at least this share of the total shows its amount


def _ints(series) -> list[int]:
    return [int(v) for v in series]


def _names(categories: pd.DataFrame) -> dict[int, str]:
    names = {int(c): user_text(n) for c, n in zip(categories["id"], categories["name"], strict=True)}
    names[0] = "Uncategorized"
    names[OTHER] = "Other"
    return names


def _colors(categories: pd.DataFrame) -> dict[int, str]:
    colors = {}
    for i, (cid, color) in enumerate(zip(categories["id"], categories["color"], strict=True)):
        colors[int(cid)] = color if isinstance(color, str) else COLORWAY[i % len(COLORWAY)]
    colors[0] = MUTED
    colors[OTHER] = "#ced4da"
    return colors


def _totals_by_node(by_category: pd.DataFrame, mapping: dict[int, int], value: str = "total_cents") -> dict[int, int]:
    """{display node: sum of ``value``} over the frame's categories, each under its node."""
    totals: dict[int, int] = {}
    for cid, cents in zip(_ints(by_category["category_id"]), _ints(by_category[value]), strict=True):
        node = mapping.get(cid, cid)
        totals[node] = totals.get(node, 0) + cents
    return totals


def _largest_first(totals: dict[int, int]) -> list[int]:
    return sorted(totals, key=lambda n: (-totals[n], n))


def node_colors(by_category: pd.DataFrame, categories: pd.DataFrame, mapping: dict[int, int], *,
                drilled: int | None = None) -> dict[int, str]:
    """One colour per node the charts show, the same in every chart. At the top level a category
    keeps its own colour; drilled into a category, its children (which inherit their parent's colour
    in the tree) get distinct colours from the palette, largest first."""
    colors = _colors(categories)
    if drilled is None or by_category.empty:
        return colors
    i = 0
    for node in _largest_first(_totals_by_node(by_category, mapping)):
        if node in (drilled, UNCATEGORIZED_NODE, OTHER):
            continue
        colors[node] = COLORWAY[i % len(COLORWAY)]
        i += 1
    colors[drilled] = MUTED  # spending booked on the drilled category itself
    return colors


def _figure(data: list[dict], layout: dict) -> dict:
    return {"data": data, "layout": layout}


def category_treemap(by_category: pd.DataFrame, categories: pd.DataFrame, currency: str, *,
                     title: str, drilled: int | None = None, colors: dict[int, str] | None = None,
                     mapping: dict[int, int] | None = None) -> dict:
    """A treemap of the category tree at any depth: a box holds its children, and its value is its
    own spending plus theirs (own spending shows as "(general)" beside the children). Drilled into a
    category, that category is the one top box. Two levels show at once, and only those are sent (a click
    drills in through the server, which draws the next two). Boxes of at least ``AMOUNT_SHARE`` of the
    total show their amount under the name; smaller ones show the name (the hover has both): Plotly
    fits each box's text by measuring it, and the second line on every box cost a third of the chart's
    drawing time. Refund-heavy (net negative) categories are left out of the boxes."""
    leaves = [(cid, cents) for cid, cents in zip(_ints(by_category["category_id"]), _ints(by_category["total_cents"]),
                                                 strict=True) if cents > 0]
    if not leaves:
        return empty_figure("Nothing to show for these filters.", title=title, plain=True)
    names = _names(categories)
    colors = colors or _colors(categories)
    mapping = mapping or {}
    parents = {int(c): (int(p) if pd.notna(p) else None)
               for c, p in zip(categories["id"], categories["parent_id"], strict=True)}

    def path(cid: int) -> list[int]:
        chain, node, seen = [], cid, set()
        while node is not None and node not in seen:
            chain.append(node)
            seen.add(node)
            node = parents.get(node)
        chain.reverse()
        if drilled is not None and drilled in chain:
            chain = chain[chain.index(drilled):]
        return chain[:TREEMAP_DEPTH]

    totals: dict[int, int] = {}
    own: dict[int, int] = {}
    parent_of: dict[int, int | None] = {}
    has_children: set[int] = set()
    for cid, cents in leaves:
        chain = path(cid)
        for i, node in enumerate(chain):
            totals[node] = totals.get(node, 0) + cents
            parent_of[node] = chain[i - 1] if i else None
            if i < len(chain) - 1:
                has_children.add(node)
        own[cid] = own.get(cid, 0) + cents
    total = sum(own.values()) or 1

    def color(node: int) -> str:
        return colors.get(mapping.get(node, node), colors.get(node, MUTED))

    ids, labels, box_parents, values, box_colors, custom, texts = [], [], [], [], [], [], []

    def add(box_id, label, parent, cents, node):
        ids.append(box_id)
        labels.append(label)
        box_parents.append(parent)
        values.append(cents / 100)
        box_colors.append(color(node))
        amount = f"{format_money(cents, currency, cents=True)} · {format_percent(cents / total, digits=0)}"
        custom.append([node, amount])
        texts.append(f"<b>{label}</b><br>{amount}" if cents >= AMOUNT_SHARE * total else f"<b>{label}</b>")

    for node in sorted(totals, key=lambda n: (parent_of[n] is not None, -totals[n], n)):
        parent = parent_of[node]
        add(f"c{node}", names.get(node, "?"), f"c{parent}" if parent is not None else "", totals[node], node)
        if node in has_children and own.get(node, 0) > 0:
            add(f"c{node}-own", f"{names.get(node, '?')} (general)", f"c{node}", own[node], node)
    layout = base_layout(title, height=380, legend=False)
    layout["margin"] = dict(l=4, r=4, t=48, b=4)
    return _figure([dict(
        type="treemap", ids=ids, labels=labels, parents=box_parents, values=values, branchvalues="total",
        marker=dict(colors=box_colors, line=dict(width=1, color="white")),
        customdata=custom, text=texts, texttemplate="%{text}",
        hovertemplate="<b>%{label}</b><br>%{customdata[1]}<extra></extra>", maxdepth=TREEMAP_DEPTH,
        pathbar=dict(visible=False), tiling=dict(pad=2),
    )], layout)


def _hbar_layout(title: str, labels: list[str], axis: dict) -> dict:
    """A horizontal bar chart's layout: a bar per label (user text), money along the bottom; the margins
    sized for the labels here (theme.fixed_margins), long names shortened on the axis."""
    layout = base_layout(title, height=max(300, 60 + 30 * len(labels)), legend=False)
    layout["xaxis"] = axis
    layout["yaxis"] = bar_labels(labels)
    return fixed_margins(layout, left=layout["yaxis"].get("ticktext", labels))


def category_bars(by_category: pd.DataFrame, categories: pd.DataFrame, mapping: dict[int, int],
                  currency: str, *, title: str, colors: dict[int, str] | None = None) -> dict:
    """Horizontal bars at the explorer's display level, largest on top."""
    if by_category.empty:
        return empty_figure("Nothing to show for these filters.", title=title, plain=True)
    totals = _totals_by_node(by_category, mapping)
    nodes = sorted(totals, key=lambda n: (totals[n], n))   # smallest first: Plotly draws bottom up
    cents = [totals[n] for n in nodes]
    names, colors = _names(categories), colors or _colors(categories)
    total = sum(cents) or 1
    units = [c / 100 for c in cents]
    labels = [names.get(n, "?") for n in nodes]
    return _figure([dict(
        type="bar", x=units, y=labels, orientation="h",
        marker=dict(color=[colors.get(n, MUTED) for n in nodes]),
        text=[format_money(v, currency, cents=True) for v in cents], textposition="auto",
        customdata=[[n, f"{format_percent(v / total, digits=0)} of the total"] for n, v in zip(nodes, cents, strict=True)],
        hovertemplate="<b>%{y}</b><br>%{text}<br>%{customdata[1]}<extra></extra>",
    )], _hbar_layout(title, labels, money_axis(currency, units)))


def over_time(frame: pd.DataFrame, categories: pd.DataFrame, mapping: dict[int, int], currency: str, *,
              grain: str, title: str, top_n: int = 6, colors: dict[int, str] | None = None,
              period: tuple | None = None) -> dict:
    """Stacked bars per month or week: the top categories by total, the rest as "Other"."""
    if frame.empty:
        return empty_figure("No transactions match these filters in this period.", title=title, plain=True)
    rows = [(as_date(b), mapping.get(c, c), v) for b, c, v in zip(
        frame["bucket"], _ints(frame["category_id"]), _ints(frame["total_cents"]), strict=True)]
    ranking: dict[int, int] = {}
    for _, node, cents in rows:
        ranking[node] = ranking.get(node, 0) + cents
    top = sorted(ranking, key=lambda n: -ranking[n])[:top_n]   # a stable sort: ties keep their first order
    shown = set(top)
    cells: dict[int, dict[date, int]] = {}
    for day, node, cents in rows:
        cell = cells.setdefault(node if node in shown else OTHER, {})
        cell[day] = cell.get(day, 0) + cents
    days = sorted({day for day, _, _ in rows})
    bucket_totals = {day: 0 for day in days}
    for cell in cells.values():
        for day, cents in cell.items():
            bucket_totals[day] += cents
    labels = [_bucket_label(d, grain, period) for d in days]
    iso = [d.isoformat() for d in days]
    total_text = [format_money(bucket_totals[d], currency, cents=True) for d in days]
    names, colors = _names(categories), colors or _colors(categories)
    money: dict[int, str] = {}   # a value's text, formatted once (zeros and repeats are common)

    def text_of(cents: int) -> str:
        if cents not in money:
            money[cents] = format_money(cents, currency, cents=True)
        return money[cents]

    data = []
    for node in [n for n in top if n in cells] + ([OTHER] if OTHER in cells else []):
        values = [cells[node].get(d, 0) for d in days]
        name = names.get(node, "?")
        data.append(dict(
            type="bar", x=iso, y=[v / 100 for v in values], name=name, marker=dict(color=colors.get(node, MUTED)),
            customdata=[[i, text_of(v), t, lbl] for i, v, t, lbl in zip(iso, values, total_text, labels, strict=True)],
            hovertemplate=(f"<b>{name}</b><br>%{{customdata[3]}}<br>%{{customdata[1]}}"
                           " of %{customdata[2]}<extra></extra>"),
        ))
    positives = [sum(max(0, cells[n].get(d, 0)) for n in cells) / 100 for d in days]
    negatives = [sum(min(0, cells[n].get(d, 0)) for n in cells) / 100 for d in days]
    ticks = date_ticks(days, grain)
    if grain == "week" and period is not None and ticks:  # a week cut by the period is labelled by its first day in it
        ticks["ticktext"] = [format_day(max(d, period[0])) for d in ticks["tickvals"]]
    if ticks:
        ticks["tickvals"] = [d.isoformat() for d in ticks["tickvals"]]
    layout = base_layout(title, height=360)
    layout.update(barmode="relative", bargap=0.2)
    if grain not in ("week", "day"):   # months on two lines (Dec / 2026, theme.date_ticks): the legend below them
        layout["legend"] = {**layout["legend"], "y": -0.2}
    layout["yaxis"] = money_axis(currency, [*positives, *negatives])
    layout["xaxis"] = dict(showgrid=False, **ticks)
    return _figure(data, fixed_margins(layout, left=layout["yaxis"].get("ticktext", [])))


def _bucket_label(day, grain: str, period: tuple | None) -> str:
    """``Week of Oct 26`` (``Nov 1 – 1`` is never shown: a week cut by the period says its days),
    ``Dec 2026``."""
    if grain != "week":
        return format_month(day)
    start, end = day, day + timedelta(days=6)
    if period is not None:
        start, end = max(start, period[0]), min(end, period[1])
    if (start, end) == (day, day + timedelta(days=6)):
        return f"Week of {format_day(day)}"
    return format_date_range(start, end, today=period[1] if period else None)


def top_payees(payees: pd.DataFrame, currency: str, *, title: str) -> dict:
    if payees.empty:
        return empty_figure("No payees match these filters in this period.", title=title, plain=True)
    names = list(payees["payee"])[::-1]
    cents = _ints(payees["total_cents"])[::-1]
    counts = _ints(payees["row_count"])[::-1]
    units = [c / 100 for c in cents]
    labels = [user_text(p) if isinstance(p, str) and p else "(no payee)" for p in names]
    return _figure([dict(
        type="bar", x=units, y=labels, orientation="h",
        marker=dict(color="#3459e6"),
        text=[format_money(v, currency, cents=True) for v in cents], textposition="auto",
        customdata=[f"{format_number(n)} transaction{'s' if n != 1 else ''}" for n in counts],
        hovertemplate="<b>%{y}</b><br>%{text}<br>%{customdata}<extra></extra>",
    )], _hbar_layout(title, labels, money_axis(currency, units)))


def comparison(current: pd.DataFrame, previous: pd.DataFrame, categories: pd.DataFrame,
               mapping: dict[int, int], currency: str, *, title: str, flow: str = "spending") -> dict:
    """The change per category against the previous period: bars of the difference, with both
    amounts and the percentage in the hover."""
    if current.empty and previous.empty:
        return empty_figure("Nothing to compare.", title=title, plain=True)
    now = _totals_by_node(current, mapping) if not current.empty else {}
    before = _totals_by_node(previous, mapping) if not previous.empty else {}
    nodes = [n for n in set(now) | set(before) if now.get(n, 0) != before.get(n, 0)]
    if not nodes:
        return empty_figure("No change from the previous period.", title=title, plain=True)
    nodes.sort(key=lambda n: (now.get(n, 0) - before.get(n, 0), n))
    change = [now.get(n, 0) - before.get(n, 0) for n in nodes]
    names = _names(categories)
    up_is_bad = flow == "spending"
    colors = [(SPENDING if up_is_bad else INCOME) if c > 0 else (INCOME if up_is_bad else SPENDING) for c in change]
    pct = [format_percent(c / before[n], signed=True) if before.get(n) else "new"
           for n, c in zip(nodes, change, strict=True)]
    # Room beside the longest bars for their labels.
    low, high = min(0, min(change)) / 100, max(0, max(change)) / 100
    pad = 0.45 * max(high - low, 1)
    axis = money_axis(currency, low=low, high=high)
    axis["range"] = [low - (pad if low < 0 else 0), high + (pad if high > 0 else 0)]
    labels = [names.get(n, "?") for n in nodes]
    return _figure([dict(
        type="bar", x=[c / 100 for c in change], y=labels, orientation="h",
        marker=dict(color=colors),
        text=[format_money(c, currency, cents=True, signed=True, compact=True) for c in change],
        textposition="outside", cliponaxis=False,
        customdata=[[format_money(now.get(n, 0), currency, cents=True),
                     format_money(before.get(n, 0), currency, cents=True), p]
                    for n, p in zip(nodes, pct, strict=True)],
        hovertemplate="<b>%{y}</b><br>%{text} (%{customdata[2]})<br>Now %{customdata[0]}, before "
                      "%{customdata[1]}<extra></extra>",
    )], _hbar_layout(title, labels, axis))
