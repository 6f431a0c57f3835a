"""Figures for looking ahead: the forecast band (with scenarios side by side), the cash-flow Sankey and
why a budget is off (a waterfall). Frames in, figures out; money shown through dashboard.formatting."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.formatting import format_date, format_day, format_money

from .theme import (
    COLORWAY,
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
    user_text,
)

# Base, scenario A, scenario B: line colour and band fill.
SERIES_COLORS = ((PRIMARY, "rgba(52,89,230,0.16)"), ("#f0a030", "rgba(240,160,48,0.18)"),
                 ("#8e44ad", "rgba(142,68,173,0.15)"))


@dataclass
class Series:
    """One forecast to draw: its name, the daily frame (day, p10, p50, p90), and its breach date."""
    name: str
    frame: pd.DataFrame
    breach: date | None = None


def _money_list(values, currency: str) -> list[str]:
    return [format_money(int(v), currency, cents=True) for v in values]


def forecast_figure(series: list[Series], currency: str, *, threshold_cents: int = 0,
                    title: str = "Cash-flow forecast", height: int = 420) -> go.Figure:
    """The 10th-90th percentile band and the median line of each forecast, the threshold line, and a
    marker where each forecast's 10th percentile first goes below it."""
    if not series or all(s.frame.empty for s in series):
        return empty_figure("Nothing to forecast yet: add an account, a schedule or some history.", title=title)
    fig = go.Figure(layout=base_layout(title, height=height))
    day_labels: dict = {}
    for i, item in enumerate(series):
        line, fill = SERIES_COLORS[i % len(SERIES_COLORS)]
        frame = item.frame
        # numpy arrays, not lists or Series: Plotly checks a list element by element (most of the time
        # this figure took), an array in one step.
        days = pd.to_datetime(frame["day"]).to_numpy()
        labels = np.array([day_labels[d] if d in day_labels else day_labels.setdefault(d, format_date(d))
                           for d in frame["day"]], dtype=object)
        band_text = np.array([f"{lo} – {hi}" for lo, hi in zip(_money_list(frame["p10"], currency),
                                                                _money_list(frame["p90"], currency))], dtype=object)
        name = user_text(item.name)
        fig.add_trace(go.Scatter(x=days, y=to_units(frame["p90"]).to_numpy(), mode="lines",
                                 line=dict(width=0, color=line), hoverinfo="skip", showlegend=False,
                                 name=f"{name} 90th percentile"))
        fig.add_trace(go.Scatter(
            x=days, y=to_units(frame["p10"]).to_numpy(), mode="lines", line=dict(width=0, color=line), fill="tonexty",
            fillcolor=fill, name=f"{name}: 10–90 % band", customdata=band_text, text=labels,
            hovertemplate=f"<b>{name}</b> %{{text}}<br>80 % band: %{{customdata}}<extra></extra>"))
        fig.add_trace(go.Scatter(
            x=days, y=to_units(frame["p50"]).to_numpy(), mode="lines", line=dict(width=2.5, color=line),
            name=f"{name}: median", customdata=np.array(_money_list(frame["p50"], currency), dtype=object),
            text=labels, hovertemplate=f"<b>{name}</b> %{{text}}<br>Median balance: %{{customdata}}<extra></extra>"))
        if item.breach is not None:
            row = frame[frame["day"] == item.breach]
            if not row.empty:
                value = int(row["p10"].iloc[0])
                fig.add_trace(go.Scatter(
                    x=[pd.Timestamp(item.breach)], y=[value / 100], mode="markers",
                    marker=dict(symbol="x", size=12, color=SPENDING, line=dict(width=1, color="white")),
                    name=f"{user_text(item.name)}: below {format_money(threshold_cents, currency, cents=True)}",
                    customdata=[format_money(value, currency, cents=True)],
                    text=[f"{format_date(item.breach)}"],
                    hovertemplate=(f"<b>{user_text(item.name)}</b><br>10th percentile first below the line on %{{text}}"
                                   "<br>%{customdata}<extra></extra>")))
                fig.add_annotation(x=pd.Timestamp(item.breach), y=value / 100,
                                   text=f"{user_text(item.name)}: {format_day(item.breach)}", showarrow=True, arrowhead=2,
                                   ay=-30 - 22 * i, ax=0, font=dict(size=12, color=SPENDING),
                                   bgcolor="rgba(255,255,255,0.85)")
    first = min(s.frame["day"].iloc[0] for s in series if not s.frame.empty)
    last = max(s.frame["day"].iloc[-1] for s in series if not s.frame.empty)
    fig.add_trace(go.Scatter(
        x=[pd.Timestamp(first), pd.Timestamp(last)], y=[threshold_cents / 100] * 2, mode="lines",
        line=dict(color=SPENDING, width=1.5, dash="dash"),
        name=f"Threshold {format_money(threshold_cents, currency, cents=True)}", hoverinfo="skip"))
    shown = [s.frame for s in series if not s.frame.empty]
    low = min(min(int(f["p10"].min()) for f in shown), threshold_cents) / 100
    high = max(max(int(f["p90"].max()) for f in shown), threshold_cents) / 100
    fig.update_yaxes(**money_axis(currency, low=low, high=high))
    months = pd.date_range(pd.Timestamp(first).to_period("M").to_timestamp(), pd.Timestamp(last), freq="MS")
    months = [m for m in months if m >= pd.Timestamp(first)] or [pd.Timestamp(first)]
    fig.update_xaxes(showgrid=False, **date_ticks([m.date() for m in months], "month"))
    fig.update_layout(hovermode="x unified", legend=dict(orientation="h", y=-0.15))
    return fig


def drivers_figure(frame: pd.DataFrame, currency: str, *, until_label: str) -> go.Figure:
    """The biggest outflows behind the forecast, as horizontal bars."""
    title = f"Biggest items until {until_label}"
    if frame.empty:
        return empty_figure("No outflows in this forecast.", title=title, height=260)
    ordered = frame.iloc[::-1]
    fig = go.Figure(layout=base_layout(title, height=max(240, 60 + 34 * len(ordered)), legend=False))
    fig.add_trace(go.Bar(
        x=to_units(-ordered["cents"]), y=user_labels(ordered["label"]), orientation="h",
        marker_color=[SPENDING if s == "scheduled" else MUTED for s in ordered["source"]],
        text=[format_money(-v, currency, cents=True) for v in ordered["cents"]], textposition="auto",
        customdata=ordered["source"], hovertemplate="<b>%{y}</b><br>%{text} (%{customdata})<extra></extra>"))
    fig.update_xaxes(**money_axis(currency, to_units(-ordered["cents"])))
    fig.update_yaxes(automargin=True)
    return fig


def sankey_figure(labels: list[str], colors: list, sources: list[int], targets: list[int], values: list[int],
                  currency: str, *, title: str) -> go.Figure:
    """Income sources -> Income -> categories and Saved, with money on every node and link."""
    if not values:
        return empty_figure("No income or spending in this period.", title=title, height=420)
    node_in = [0] * len(labels)
    node_out = [0] * len(labels)
    for s, t, v in zip(sources, targets, values):
        node_out[s] += v
        node_in[t] += v
    node_text = [format_money(max(a, b), currency, cents=True) for a, b in zip(node_in, node_out)]
    palette = [c if isinstance(c, str) else COLORWAY[i % len(COLORWAY)] for i, c in enumerate(colors)]
    link_colors = [_fade(palette[t]) for t in targets]
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=",.2f",
        node=dict(label=[f"{user_text(lab)}  {txt}" for lab, txt in zip(labels, node_text)], color=palette, pad=14,
                  thickness=16, customdata=node_text, line=dict(width=0),
                  hovertemplate="<b>%{label}</b><extra></extra>"),
        link=dict(source=sources, target=targets, value=[v / 100 for v in values], color=link_colors,
                  customdata=[format_money(v, currency, cents=True) for v in values],
                  hovertemplate="%{source.label} → %{target.label}<br><b>%{customdata}</b><extra></extra>"),
    ), layout=base_layout(title, height=max(420, 28 * len(labels)), legend=False))
    return fig


def _fade(color: str) -> str:
    if isinstance(color, str) and color.startswith("#") and len(color) == 7:
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r},{g},{b},0.35)"
    return "rgba(173,181,189,0.35)"


def budget_off_figure(usual_cents: int, parts: pd.DataFrame, current_cents: int, currency: str, *,
                      title: str, usual_label: str) -> go.Figure:
    """A waterfall from the usual spending, through each part, to this period's spending."""
    if usual_cents == 0 and current_cents == 0:
        return empty_figure("No spending in this category in either period.", title=title)
    x = [usual_label, *parts["label"], "This period"]
    measure = ["absolute", *(["relative"] * len(parts)), "total"]
    cents_values = [usual_cents, *[int(v) for v in parts["cents"]], current_cents]
    text = [format_money(usual_cents, currency, cents=True),
            *[format_money(int(v), currency, cents=True, signed=True) for v in parts["cents"]],
            format_money(current_cents, currency, cents=True)]
    fig = go.Figure(go.Waterfall(
        x=x, y=[v / 100 for v in cents_values], measure=measure, text=text, textposition="outside",
        customdata=text, hovertemplate="<b>%{x}</b><br>%{customdata}<extra></extra>",
        increasing=dict(marker=dict(color=SPENDING)), decreasing=dict(marker=dict(color=INCOME)),
        totals=dict(marker=dict(color=PRIMARY)), connector=dict(line=dict(color="#ced4da"))),
        layout=base_layout(title, height=360, legend=False))
    running = [sum(cents_values[:i + 1]) for i in range(len(cents_values) - 1)] + [current_cents]
    fig.update_yaxes(**money_axis(currency, [v / 100 for v in running]))
    fig.update_xaxes(automargin=True)
    return fig
