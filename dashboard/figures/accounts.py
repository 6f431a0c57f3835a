"""Figures for the Accounts page: net worth over time and each account's balance. Frame in, figure out."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.formatting import format_money

from .theme import (
    COLORWAY,
    INCOME,
    PRIMARY,
    SPENDING,
    base_layout,
    date_ticks,
    empty_figure,
    money_axis,
    to_units,
    user_text,
)


def net_worth_figure(frame: pd.DataFrame, currency: str, *, title: str = "Net worth by month") -> go.Figure:
    """Assets (up) and debts (down) as bars at each month's end, net worth as a line."""
    if frame.empty:
        return empty_figure("No accounts yet. Add one to see your net worth over time.", title=title)
    months = pd.to_datetime(frame["month"])
    fig = go.Figure(layout=base_layout(title, height=360))
    for column, name, color in (("assets_cents", "Assets", INCOME), ("debts_cents", "Debts", SPENDING)):
        fig.add_trace(go.Bar(
            x=months, y=to_units(frame[column]), name=name, marker_color=color, opacity=0.55,
            customdata=[format_money(v, currency, cents=True) for v in frame[column]],
            hovertemplate=f"{name}: %{{customdata}}<extra></extra>",
        ))
    fig.add_trace(go.Scatter(
        x=months, y=to_units(frame["net_cents"]), name="Net worth", mode="lines+markers",
        line=dict(color=PRIMARY, width=3), marker=dict(size=6),
        customdata=[format_money(v, currency, cents=True) for v in frame["net_cents"]],
        hovertemplate="<b>Net worth: %{customdata}</b><extra></extra>",
    ))
    fig.update_layout(barmode="relative", bargap=0.3, hovermode="x unified")
    fig.update_yaxes(**money_axis(currency, [*to_units(frame["assets_cents"]), *to_units(frame["debts_cents"]),
                                             *to_units(frame["net_cents"])]))
    fig.update_xaxes(showgrid=False, hoverformat="%B %Y", **date_ticks(list(frame["month"]), "month"))
    return fig


def balance_history_figure(history: pd.DataFrame, currency: str, *,
                           title: str = "Balance by account") -> go.Figure:
    """One line per account: its balance at the end of each month."""
    if history.empty:
        return empty_figure("No balances to show yet.", title=title)
    fig = go.Figure(layout=base_layout(title, height=360))
    for i, (account_id, rows) in enumerate(history.groupby("account_id", sort=False)):
        name = user_text(rows["name"].iloc[0]) + (" (archived)" if bool(rows["archived"].iloc[0]) else "")
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(rows["month"]), y=to_units(rows["balance_cents"]), name=name,
            mode="lines+markers", line=dict(width=2, color=COLORWAY[i % len(COLORWAY)],
                                            dash="dot" if bool(rows["archived"].iloc[0]) else None),
            marker=dict(size=5),
            customdata=[format_money(v, currency, cents=True) for v in rows["balance_cents"]],
            hovertemplate=f"{name}: %{{customdata}}<extra></extra>",
            meta=int(account_id),
        ))
    fig.update_yaxes(**money_axis(currency, to_units(history["balance_cents"])))
    fig.update_xaxes(showgrid=False, hoverformat="%B %Y",
                     **date_ticks(sorted(set(history["month"])), "month"))
    fig.update_layout(hovermode="x unified")
    return fig
