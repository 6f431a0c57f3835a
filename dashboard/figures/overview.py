"""Figures for the Overview page: frame in, figure out."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.formatting import format_money, format_month, format_percent

from .theme import (
    INCOME,
    MUTED,
    PRIMARY,
    SPENDING,
    base_layout,
    date_ticks,
    empty_figure,
    money_axis,
    to_units,
    user_labels,
)


def cashflow_figure(frame: pd.DataFrame, currency: str) -> go.Figure:
    """Income and spending bars per month with the net as a line."""
    title = "Income and spending, last 12 months"
    if frame.empty or (frame["income_cents"].eq(0).all() and frame["spending_cents"].eq(0).all()):
        return empty_figure("No income or spending yet. Add transactions or import a statement.",
                            title=title)
    months = pd.to_datetime(frame["month"])
    labels = [format_month(m) for m in frame["month"]]
    fig = go.Figure(layout=base_layout(title))
    for column, name, color in (("income_cents", "Income", INCOME), ("spending_cents", "Spending", SPENDING)):
        fig.add_trace(go.Bar(
            x=months, y=to_units(frame[column]), name=name, marker_color=color,
            customdata=[format_money(v, currency, cents=True) for v in frame[column]],
            hovertemplate=f"<b>{name}</b><br>%{{text}}: %{{customdata}}<extra></extra>", text=labels,
            textposition="none",
        ))
    fig.add_trace(go.Scatter(
        x=months, y=to_units(frame["net_cents"]), name="Net", mode="lines+markers",
        line=dict(color=PRIMARY, width=2),
        customdata=[format_money(v, currency, cents=True, signed=True) for v in frame["net_cents"]],
        text=labels, hovertemplate="<b>Net</b><br>%{text}: %{customdata}<extra></extra>",
    ))
    fig.update_layout(barmode="group", bargap=0.25)
    fig.update_yaxes(**money_axis(currency, [*to_units(frame["income_cents"]), *to_units(frame["spending_cents"]),
                                             *to_units(frame["net_cents"])]))
    fig.update_xaxes(showgrid=False, **date_ticks(list(months), "month"))
    return fig


def top_categories_figure(frame: pd.DataFrame, currency: str, *, period_label: str) -> go.Figure:
    """Horizontal bars of spending per top-level category, largest on top."""
    title = f"Top spending categories, {period_label}"
    positive = frame[frame["amount_cents"] > 0] if not frame.empty else frame
    if positive.empty:
        return empty_figure("No spending in this period.", title=title)
    ordered = positive.iloc[::-1]
    total = int(positive["amount_cents"].sum())
    shares = [f"{format_percent(v / total, digits=0)} of spending" if total else "" for v in ordered["amount_cents"]]
    fig = go.Figure(layout=base_layout(title, height=max(260, 48 + 34 * len(ordered)), legend=False))
    fig.add_trace(go.Bar(
        x=to_units(ordered["amount_cents"]), y=user_labels(ordered["name"]), orientation="h",
        marker_color=[c if isinstance(c, str) else MUTED for c in ordered["color"]],
        text=[format_money(v, currency, cents=True) for v in ordered["amount_cents"]],
        textposition="auto", customdata=shares,
        hovertemplate="<b>%{y}</b><br>%{text}<br>%{customdata}<extra></extra>",
    ))
    fig.update_xaxes(**money_axis(currency, to_units(ordered["amount_cents"])))
    fig.update_yaxes(automargin=True)
    return fig
