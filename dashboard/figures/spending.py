"""Figures for the spending explorer. Frames carry integer cents; hover text is money in the user's
currency; ``customdata`` carries the category id or the bucket date a click drills into."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.formatting import format_money, format_percent

from .theme import (COLORWAY, INCOME, MUTED, SPENDING, base_layout, empty_figure, money_axis, to_units,
                    user_labels, user_text)

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


def _rolled(by_category: pd.DataFrame, mapping: dict[int, int], value: str = "total_cents") -> pd.DataFrame:
    frame = by_category.copy()
    frame["node"] = frame["category_id"].map(lambda c: mapping.get(int(c), int(c)))
    return frame.groupby("node", as_index=False)[value].sum()


def category_treemap(by_category: pd.DataFrame, categories: pd.DataFrame, currency: str, *,
                     title: str) -> go.Figure:
    """A two-level treemap: parents contain their children; a parent's box is the sum of its own
    spending and its children's. Refund-heavy (net negative) categories are left out of the boxes."""
    positive = by_category[by_category["total_cents"] > 0]
    if positive.empty:
        return empty_figure("Nothing to show for these filters.", title=title)
    meta = categories.set_index("id")
    names, colors = _names(categories), _colors(categories)
    leaf_rows, parent_totals = [], {}
    for row in positive.itertuples():
        cid = int(row.category_id)
        parent = meta["parent_id"].get(cid) if cid in meta.index else None
        parent = int(parent) if parent is not None and pd.notna(parent) else None
        leaf_rows.append((cid, parent, int(row.total_cents)))
        if parent is not None:
            parent_totals[parent] = parent_totals.get(parent, 0) + int(row.total_cents)
    ids, labels, parents, values, hover, node_colors, custom = [], [], [], [], [], [], []
    own = {cid: cents for cid, parent, cents in leaf_rows if parent is None}
    total = sum(cents for _, _, cents in leaf_rows)
    for pid in sorted(set(parent_totals) | set(own), key=lambda p: -(parent_totals.get(p, 0) + own.get(p, 0))):
        value = parent_totals.get(pid, 0) + own.get(pid, 0)
        ids.append(f"c{pid}")
        labels.append(names.get(pid, "?"))
        parents.append("")
        values.append(value)
        node_colors.append(colors.get(pid, MUTED))
        custom.append(pid)
        hover.append(f"{format_money(value, currency, cents=True)} · {value / total:.0%}")
        if pid in own and pid in parent_totals:  # spending booked on the parent itself
            ids.append(f"c{pid}-own")
            labels.append(f"{names.get(pid, '?')} (general)")
            parents.append(f"c{pid}")
            values.append(own[pid])
            node_colors.append(colors.get(pid, MUTED))
            custom.append(pid)
            hover.append(f"{format_money(own[pid], currency, cents=True)} · {own[pid] / total:.0%}")
    for cid, parent, cents in leaf_rows:
        if parent is None:
            continue
        ids.append(f"c{cid}")
        labels.append(names.get(cid, "?"))
        parents.append(f"c{parent}")
        values.append(cents)
        node_colors.append(colors.get(parent, MUTED))
        custom.append(cid)
        hover.append(f"{format_money(cents, currency, cents=True)} · {cents / total:.0%}")
    fig = go.Figure(go.Treemap(
        ids=ids, labels=labels, parents=parents, values=[v / 100 for v in values], branchvalues="total",
        marker=dict(colors=node_colors, line=dict(width=1, color="white")),
        customdata=list(zip(custom, hover)), texttemplate="<b>%{label}</b><br>%{customdata[1]}",
        hovertemplate="<b>%{label}</b><br>%{customdata[1]}<extra></extra>", maxdepth=2,
        pathbar=dict(visible=False), tiling=dict(pad=2),
    ), layout=base_layout(title, height=380, legend=False))
    fig.update_layout(margin=dict(l=4, r=4, t=48, b=4))
    return fig


def category_bars(by_category: pd.DataFrame, categories: pd.DataFrame, mapping: dict[int, int],
                  currency: str, *, title: str) -> go.Figure:
    """Horizontal bars at the explorer's display level, largest on top."""
    if by_category.empty:
        return empty_figure("Nothing to show for these filters.", title=title)
    rolled = _rolled(by_category, mapping).sort_values("total_cents")
    names, colors = _names(categories), _colors(categories)
    total = int(rolled["total_cents"].sum()) or 1
    fig = go.Figure(go.Bar(
        x=to_units(rolled["total_cents"]), y=[names.get(int(n), "?") for n in rolled["node"]], orientation="h",
        marker_color=[colors.get(int(n), MUTED) for n in rolled["node"]],
        text=[format_money(v, currency, cents=True) for v in rolled["total_cents"]], textposition="auto",
        customdata=[[int(n), f"{v / total:.0%} of the total"] for n, v in zip(rolled["node"], rolled["total_cents"])],
        hovertemplate="<b>%{y}</b><br>%{text}<br>%{customdata[1]}<extra></extra>",
    ), layout=base_layout(title, height=max(300, 60 + 30 * len(rolled)), legend=False))
    fig.update_xaxes(**money_axis(currency))
    fig.update_yaxes(automargin=True)
    return fig


def over_time(frame: pd.DataFrame, categories: pd.DataFrame, mapping: dict[int, int], currency: str, *,
              grain: str, title: str, top_n: int = 6) -> go.Figure:
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
    label_fmt = "%d %b %Y" if grain == "week" else "%b %Y"
    labels = [("Week of " if grain == "week" else "") + b.strftime(label_fmt) for b in buckets]
    names, colors = _names(categories), _colors(categories)
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
    fig.update_yaxes(**money_axis(currency))
    fig.update_xaxes(showgrid=False, tickformat="%d %b" if grain == "week" else "%b\n%Y")
    return fig


def top_payees(payees: pd.DataFrame, currency: str, *, title: str) -> go.Figure:
    if payees.empty:
        return empty_figure("No payees in this period.", title=title)
    ordered = payees.iloc[::-1]
    labels = [user_text(p) if p else "(no payee)" for p in ordered["payee"]]
    fig = go.Figure(go.Bar(
        x=to_units(ordered["total_cents"]), y=labels, orientation="h", marker_color="#3459e6",
        text=[format_money(v, currency, cents=True) for v in ordered["total_cents"]], textposition="auto",
        customdata=[f"{n:,} transaction{'s' if n != 1 else ''}" for n in ordered["row_count"]],
        hovertemplate="<b>%{y}</b><br>%{text}<br>%{customdata}<extra></extra>",
    ), layout=base_layout(title, height=max(300, 60 + 30 * len(ordered)), legend=False))
    fig.update_xaxes(**money_axis(currency))
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
    fig.update_xaxes(**money_axis(currency), range=[low - (pad if low < 0 else 0), high + (pad if high > 0 else 0)])
    fig.update_yaxes(automargin=True)
    return fig
