"""Figures for the Goals page: a progress gauge and a history chart per goal (row in, figure out)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from dashboard.formatting import format_date, format_money

from .theme import INCOME, MUTED, PRIMARY, SPENDING, base_layout, empty_figure, money_axis, to_units

AMBER = "#f0a030"
STATUS_COLORS = {"achieved": INCOME, "on_track": PRIMARY, "behind": AMBER, "overdue": SPENDING}
MARKER = "#343a40"


def progress_word(kind: str) -> str:
    return "Paid off" if kind == "debt" else "Saved"


def gauge_figure(goal: Mapping, *, height: int = 180) -> go.Figure:
    """Progress as a percentage of the target, coloured by status, with a marker where the goal
    should be today to arrive on time (the straight line from its start to the target date)."""
    percent = max(0.0, float(goal["progress"] or 0.0)) * 100
    expected = goal.get("expected_progress")
    gauge = dict(
        shape="angular",
        axis=dict(range=[0, 100], tickvals=[0, 25, 50, 75, 100], ticksuffix="%", tickwidth=1,
                  tickfont=dict(size=11)),
        bar=dict(color=STATUS_COLORS.get(goal["status"], PRIMARY), thickness=0.75),
        borderwidth=0,
    )
    if expected is not None and not pd.isna(expected) and goal["status"] != "achieved":
        gauge["threshold"] = dict(line=dict(color=MARKER, width=4), thickness=0.95,
                                  value=min(100.0, float(expected) * 100))
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=min(percent, 999.0),
        number=dict(suffix="%", valueformat=".0f", font=dict(size=30)),
        gauge=gauge, domain=dict(x=[0, 1], y=[0, 1]),
    ), layout=base_layout(None, height=height, legend=False))
    fig.update_layout(margin=dict(l=28, r=28, t=14, b=4))
    return fig


def history_figure(history: pd.DataFrame, goal: Mapping, currency: str, *, today: date | None = None,
                   height: int = 230) -> go.Figure:
    """Progress over time (a step line for contributions, month-end points for an account) against
    the straight line from the goal's start to its target on the target date."""
    word = progress_word(goal["kind"])
    if history.empty:
        return empty_figure("No history yet.", height=height)
    color = STATUS_COLORS.get(goal["status"], PRIMARY)
    fig = go.Figure(layout=base_layout(None, height=height))
    dates = pd.to_datetime(history["date"])
    fig.add_trace(go.Scatter(
        x=dates, y=to_units(history["saved_cents"]), name=word, mode="lines+markers",
        line=dict(color=color, width=2.5, shape="hv" if goal["source"] == "contributions" else "linear"),
        marker=dict(size=5), fill="tozeroy", fillcolor=_fade(color),
        customdata=[[format_money(v, currency, cents=True), format_date(pd.Timestamp(d).date())]
                    for v, d in zip(history["saved_cents"], dates)],
        hovertemplate=f"%{{customdata[1]}}<br>{word}: %{{customdata[0]}}<extra></extra>",
    ))
    target_date = goal.get("target_date")
    if target_date is not None and not pd.isna(target_date):
        start, start_cents = goal["start_date"], int(goal["start_cents"])
        plan = [start_cents, int(goal["target_cents"])]
        fig.add_trace(go.Scatter(
            x=pd.to_datetime([start, target_date]), y=[c / 100 for c in plan], name="Plan",
            mode="lines+markers", line=dict(color=MUTED, width=2, dash="dash"),
            marker=dict(size=[0, 9], symbol="star", color=MUTED),
            customdata=[[format_money(c, currency, cents=True), format_date(pd.Timestamp(d).date())]
                        for c, d in zip(plan, [start, target_date])],
            hovertemplate="Plan, %{customdata[1]}: %{customdata[0]}<extra></extra>",
        ))
    extent = [*to_units(history["saved_cents"])]
    if target_date is not None and not pd.isna(target_date):
        extent += [int(goal["target_cents"]) / 100]
    fig.update_yaxes(**money_axis(currency, extent), rangemode="tozero")
    fig.update_xaxes(showgrid=False, tickformat="%b\n%Y")
    fig.update_layout(margin=dict(l=8, r=8, t=28, b=8), hovermode="closest",
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0))
    return fig


def _fade(hex_color: str, alpha: float = 0.12) -> str:
    red, green, blue = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"
