"""Figures for the spending explorer. Frames carry integer cents; hover text is money in the user's
currency; ``customdata`` carries the category id or the bucket date a click drills into."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go

from dashboard.formatting import (
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
    base_layout,
    date_ticks,
    empty_figure,
    money_axis,
    to_units,
    user_labels,
    user_text,
)

OTHER = -1


def _names(categories: pd.DataFrame) -> dict[int, str]:
    names = dict(zip(categories["id"].astype(int), user_labels(categories["name"])))
    names[0] = "Uncategorized"
    names[OTHER] = "Other"
    return names


def _colors(categories: pd.DataFrame) -> dict[int, str]:
    colors = {}
    for i, (cid, color) in enumerate(zip(categories["id"].astype(int), categories["color"])):
        colors[cid] = color if isinstance(color, str) else COLORWAY[i % len(COLORWAY)]
    colors[0] = MUTED
    colors[OTHER] = "#ced4da"
    return colors


def node_colors(by_category: pd.DataFrame, categories: pd.DataFrame, mapping: dict[int, int], *,
                drilled: int | None = None) -> dict[int, str]:
    """One colour per node the charts show, the same in every chart. At the top level a category
    keeps its own colour; drilled into a category, its children (which inherit their parent's colour
    in the tree) get distinct colours from the palette, largest first."""
    colors = _colors(categories)
    if drilled is None or by_category.empty:
        return colors
    ranking = _rolled(by_category, mapping).sort_values(["total_cents", "node"], ascending=[False, True])
    i = 0
    for node in ranking["node"]:
        node = int(node)
        if node in (drilled, UNCATEGORIZED_NODE, OTHER):
            continue
        colors[node] = COLORWAY[i % len(COLORWAY)]
        i += 1
    colors[drilled] = MUTED  # spending booked on the drilled category itself
    return colors


UNCATEGORIZED_NODE = 0


def _rolled(by_category: pd.DataFrame, mapping: dict[int, int], value: str = "total_cents") -> pd.DataFrame:
    frame = by_category.copy()
    frame["node"] = frame["category_id"].map(lambda c: mapping.get(int(c), int(c)))
    return frame.groupby("node", as_index=False)[value].sum()


def category_treemap(by_category: pd.DataFrame, categories: pd.DataFrame, currency: str, *,
                     title: str, drilled: int | None = None, colors: dict[int, str] | None = None,
                     mapping: dict[int, int] | None = None) -> go.Figure:
    """A treemap of the category tree at any depth: a box holds its children, and its value is its
    own spending plus theirs (own spending shows as "(general)" beside the children). Drilled into a
    category, that category is the one top box. Two levels show at once; a click drills in.
    Refund-heavy (net negative) categories are left out of the boxes."""
    positive = by_category[by_category["total_cents"] > 0]
    if positive.empty:
        return empty_figure("Nothing to show for these filters.", title=title)
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
        return chain

    totals: dict[int, int] = {}
    own: dict[int, int] = {}
    parent_of: dict[int, int | None] = {}
    has_children: set[int] = set()
    for row in positive.itertuples():
        cid, cents = int(row.category_id), int(row.total_cents)
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

    ids, labels, box_parents, values, node_colors_, custom = [], [], [], [], [], []

    def add(box_id, label, parent, cents, node):
        ids.append(box_id)
        labels.append(label)
        box_parents.append(parent)
        values.append(cents / 100)
        node_colors_.append(color(node))
        custom.append([node, f"{format_money(cents, currency, cents=True)} · {format_percent(cents / total, digits=0)}"])

    for node in sorted(totals, key=lambda n: (parent_of[n] is not None, -totals[n], n)):
        parent = parent_of[node]
        add(f"c{node}", names.get(node, "?"), f"c{parent}" if parent is not None else "", totals[node], node)
        if node in has_children and own.get(node, 0) > 0:
            add(f"c{node}-own", f"{names.get(node, '?')} (general)", f"c{node}", own[node], node)
    fig = go.Figure(go.Treemap(
        ids=ids, labels=labels, parents=box_parents, values=values, branchvalues="total",
        marker=dict(colors=node_colors_, line=dict(width=1, color="white")),
        customdata=custom, texttemplate="<b>%{label}</b><br>%{customdata[1]}",
        hovertemplate="<b>%{label}</b><br>%{customdata[1]}<extra></extra>", maxdepth=2,
        pathbar=dict(visible=False), tiling=dict(pad=2),
    ), layout=base_layout(title, height=380, legend=False))
    fig.update_layout(margin=dict(l=4, r=4, t=48, b=4))
    return fig


def category_bars(by_category: pd.DataFrame, categories: pd.DataFrame, mapping: dict[int, int],
                  currency: str, *, title: str, colors: dict[int, str] | None = None) -> go.Figure:
    """Horizontal bars at the explorer's display level, largest on top."""
    if by_category.empty:
        return empty_figure("Nothing to show for these filters.", title=title)
    rolled = _rolled(by_category, mapping).sort_values("total_cents")
    names, colors = _names(categories), colors or _colors(categories)
    total = int(rolled["total_cents"].sum()) or 1
    fig = go.Figure(go.Bar(
        x=to_units(rolled["total_cents"]), y=[names.get(int(n), "?") for n in rolled["node"]], orientation="h",
        marker_color=[colors.get(int(n), MUTED) for n in rolled["node"]],
        text=[format_money(v, currency, cents=True) for v in rolled["total_cents"]], textposition="auto",
        customdata=[[int(n), f"{format_percent(v / total, digits=0)} of the total"]
                    for n, v in zip(rolled["node"], rolled["total_cents"])],
        hovertemplate="<b>%{y}</b><br>%{text}<br>%{customdata[1]}<extra></extra>",
    ), layout=base_layout(title, height=max(300, 60 + 30 * len(rolled)), legend=False))
    fig.update_xaxes(**money_axis(currency, to_units(rolled["total_cents"])))
    fig.update_yaxes(automargin=True)
    return fig


def over_time(frame: pd.DataFrame, categories: pd.DataFrame, mapping: dict[int, int], currency: str, *,
              grain: str, title: str, top_n: int = 6, colors: dict[int, str] | None = None,
              period: tuple | None = None) -> go.Figure:
    """Stacked bars per month or week: the top categories by total, the rest as "Other"."""
    if frame.empty:
        return empty_figure("No transactions in this period.", title=title)
    data = frame.copy()
    data["node"] = data["category_id"].map(lambda c: mapping.get(int(c), int(c)))
    ranking = data.groupby("node")["total_cents"].sum().sort_values(ascending=False)
    top = [int(n) for n in ranking.index[:top_n]]
    data["node"] = data["node"].where(data["node"].isin(top), OTHER)
    pivot = data.pivot_table(index="bucket", columns="node", values="total_cents", aggfunc="sum", fill_value=0)
    pivot = pivot.sort_index()
    buckets = pd.to_datetime(pd.Series(pivot.index))
    days = [b.date() for b in buckets]
    labels = [_bucket_label(d, grain, period) for d in days]
    names, colors = _names(categories), colors or _colors(categories)
    totals = pivot.sum(axis=1)
    fig = go.Figure(layout=base_layout(title, height=360))
    for node in [n for n in top if n in pivot.columns] + ([OTHER] if OTHER in pivot.columns else []):
        values = pivot[node]
        fig.add_trace(go.Bar(
            x=buckets, y=to_units(values), name=names.get(node, "?"), marker_color=colors.get(node, MUTED),
            customdata=[[b.date().isoformat(), format_money(v, currency, cents=True),
                         format_money(t, currency, cents=True), lbl]
                        for b, v, t, lbl in zip(buckets, values, totals, labels)],
            hovertemplate=(f"<b>{names.get(node, '?')}</b><br>%{{customdata[3]}}<br>%{{customdata[1]}}"
                           " of %{customdata[2]}<extra></extra>"),
        ))
    fig.update_layout(barmode="relative", bargap=0.2)
    positives = pivot.clip(lower=0).sum(axis=1) / 100
    negatives = pivot.clip(upper=0).sum(axis=1) / 100
    fig.update_yaxes(**money_axis(currency, [*positives, *negatives]))
    ticks = date_ticks(days, grain)
    if grain == "week" and period is not None and ticks:  # a week cut by the period is labelled by its first day in it
        ticks["ticktext"] = [format_day(max(d, period[0])) for d in ticks["tickvals"]]
    fig.update_xaxes(showgrid=False, **ticks)
    return fig


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


def top_payees(payees: pd.DataFrame, currency: str, *, title: str) -> go.Figure:
    if payees.empty:
        return empty_figure("No payees in this period.", title=title)
    ordered = payees.iloc[::-1]
    labels = [user_text(p) if p else "(no payee)" for p in ordered["payee"]]
    fig = go.Figure(go.Bar(
        x=to_units(ordered["total_cents"]), y=labels, orientation="h", marker_color="#3459e6",
        text=[format_money(v, currency, cents=True) for v in ordered["total_cents"]], textposition="auto",
        customdata=[f"{format_number(n)} transaction{'s' if n != 1 else ''}" for n in ordered["row_count"]],
        hovertemplate="<b>%{y}</b><br>%{text}<br>%{customdata}<extra></extra>",
    ), layout=base_layout(title, height=max(300, 60 + 30 * len(ordered)), legend=False))
    fig.update_xaxes(**money_axis(currency, to_units(ordered["total_cents"])))
    fig.update_yaxes(automargin=True)
    return fig


def comparison(current: pd.DataFrame, previous: pd.DataFrame, categories: pd.DataFrame,
               mapping: dict[int, int], currency: str, *, title: str, flow: str = "spending") -> go.Figure:
    """The change per category against the previous period: bars of the difference, with both
    amounts and the percentage in the hover."""
    if current.empty and previous.empty:
        return empty_figure("Nothing to compare.", title=title)
    cur = _rolled(current, mapping).rename(columns={"total_cents": "now"}) if not current.empty \
        else pd.DataFrame(columns=["node", "now"])
    prev = _rolled(previous, mapping).rename(columns={"total_cents": "before"}) if not previous.empty \
        else pd.DataFrame(columns=["node", "before"])
    merged = cur.merge(prev, on="node", how="outer").fillna(0)
    merged["now"] = merged["now"].astype("int64")
    merged["before"] = merged["before"].astype("int64")
    merged["change"] = merged["now"] - merged["before"]
    merged = merged[merged["change"] != 0].sort_values("change")
    if merged.empty:
        return empty_figure("No change from the previous period.", title=title)
    names = _names(categories)
    up_is_bad = flow == "spending"
    colors = [(SPENDING if up_is_bad else INCOME) if c > 0 else (INCOME if up_is_bad else SPENDING)
              for c in merged["change"]]
    pct = [format_percent(c / b, signed=True) if b else "new" for c, b in zip(merged["change"], merged["before"])]
    fig = go.Figure(go.Bar(
        x=to_units(merged["change"]), y=[names.get(int(n), "?") for n in merged["node"]], orientation="h",
        marker_color=colors,
        text=[f"{format_money(c, currency, cents=True, signed=True, compact=True)}" for c in merged["change"]],
        textposition="outside", cliponaxis=False,
        customdata=[[format_money(n, currency, cents=True), format_money(b, currency, cents=True), p]
                    for n, b, p in zip(merged["now"], merged["before"], pct)],
        hovertemplate="<b>%{y}</b><br>%{text} (%{customdata[2]})<br>Now %{customdata[0]}, before "
                      "%{customdata[1]}<extra></extra>",
    ), layout=base_layout(title, height=max(300, 60 + 30 * len(merged)), legend=False))
    # Room beside the longest bars for their labels.
    low, high = min(0, int(merged["change"].min())) / 100, max(0, int(merged["change"].max())) / 100
    pad = 0.45 * max(high - low, 1)
    fig.update_xaxes(**money_axis(currency, low=low, high=high),
                     range=[low - (pad if low < 0 else 0), high + (pad if high > 0 else 0)])
    fig.update_yaxes(automargin=True)
    return fig
