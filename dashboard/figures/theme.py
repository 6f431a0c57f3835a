"""The one Plotly look of Ledgerlens: fonts, colours, margins, money hover text."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.formatting import plotly_money_format

PRIMARY = "#3459e6"
INCOME = "#2e9d5b"
SPENDING = "#e0565b"
MUTED = "#adb5bd"
COLORWAY = ["#3459e6", "#f0a030", "#17a2b8", "#e0457b", "#8e44ad", "#d35400", "#16a085", "#7f8c8d",
            "#c0392b", "#2e7d32", "#5d6d7e", "#b7950b"]
FONT = "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def user_text(value) -> str:
    """User text (an account, category, goal or payee name) made inert for Plotly, which renders a
    subset of HTML in every label, legend, hover and annotation (``<b>``, ``<a href>``, ``<br>``...):
    ``& < >`` become entities, which Plotly shows as the characters themselves. Every figure module
    passes user text through this (or :func:`user_labels`) and nothing else."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user_labels(values) -> list[str]:
    """:func:`user_text` for each of ``values`` (a list or a Series)."""
    return [user_text(v) for v in values]


def base_layout(title: str | None = None, *, height: int = 340, legend: bool = True) -> dict:
    return dict(
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=16)) if title else None,
        font=dict(family=FONT, size=13, color="#343a40"),
        colorway=COLORWAY,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin=dict(l=10, r=10, t=48 if title else 16, b=10),
        height=height,
        showlegend=legend,
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0),
        hoverlabel=dict(font=dict(family=FONT)),
        separators=".,",
    )


def money_axis(currency: str) -> dict:
    prefix, _fmt = plotly_money_format(currency)
    return dict(tickprefix=prefix.strip() if prefix.strip() else "", tickformat="~s",
                gridcolor="#eef0f3", zerolinecolor="#ced4da")


def money_hover(currency: str, value: str = "%{y}") -> str:
    """A hover fragment that shows ``value`` as money: ``$1,234.50``."""
    prefix, fmt = plotly_money_format(currency)
    field = value.strip("%{}")
    return f"{prefix}%{{{field}:{fmt}}}"


def to_units(cents: pd.Series) -> pd.Series:
    """Cents to currency units as floats: for drawing only, never for sums that are shown."""
    return cents.astype("float64") / 100.0


def empty_figure(message: str, *, title: str | None = None, height: int = 300) -> go.Figure:
    fig = go.Figure(layout=base_layout(title, height=height, legend=False))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=14, color="#6c757d"))
    return fig
