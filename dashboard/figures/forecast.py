"""Figures for looking ahead: the forecast band (with scenarios side by side), the cash-flow Sankey and
why a budget is off (a waterfall). Frames in, figures out; money shown through dashboard.formatting. The forecast, its drivers and the Sankey are plain
Plotly JSON (dicts, as the spending explorer's figures: they are redrawn on every change of the controls); the
waterfall is a go.Figure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
    return [format_money(v, currency, cents=True) for v in values.tolist()]


def _figure(data: list[dict], layout: dict) -> dict:
    return {"data": data, "layout": layout}


def forecast_figure(series: list[Series], currency: str, *, threshold_cents: int = 0,
                    title: str = "Cash-flow forecast", height: int = 420) -> dict:
    """The 10th-90th percentile band and the median line of each forecast, the threshold line, and a
    marker where each forecast's 10th percentile first goes below it.

    Plain Plotly JSON (a dict of lists and strings, as the spending explorer's figures): go.Figure's
    validation of three forecasts' nine traces of 366 points cost more than the forecasts themselves."""
    if not series or all(s.frame.empty for s in series):
        return empty_figure("Nothing to forecast yet: add an account, a schedule or some history.", title=title,
                            plain=True)
    layout = base_layout(title, height=height)
    data: list[dict] = []
    annotations: list[dict] = []
    day_labels: dict = {}
    day_iso: dict = {}
    for i, item in enumerate(series):
        line, fill = SERIES_COLORS[i % len(SERIES_COLORS)]
        frame = item.frame
        if frame.empty:
            continue
        frame_days = frame["day"].tolist()
        days = [day_iso[d] if d in day_iso else day_iso.setdefault(d, d.isoformat()) for d in frame_days]
        labels = [day_labels[d] if d in day_labels else day_labels.setdefault(d, format_date(d)) for d in frame_days]
        p10, p50, p90 = (frame[c].to_numpy(dtype="int64") for c in ("p10", "p50", "p90"))
        band_text = [f"{lo} – {hi}" for lo, hi in zip(_money_list(p10, currency), _money_list(p90, currency))]
        name = user_text(item.name)
        data.append(dict(type="scatter", x=days, y=(p90 / 100).tolist(), mode="lines",
                         line=dict(width=0, color=line), hoverinfo="skip", showlegend=False,
                         name=f"{name} 90th percentile"))
        data.append(dict(type="scatter", x=days, y=(p10 / 100).tolist(), mode="lines", line=dict(width=0, color=line),
                         fill="tonexty", fillcolor=fill, name=f"{name}: 10–90 % band", customdata=band_text,
                         text=labels,
                         hovertemplate=f"<b>{name}</b> %{{text}}<br>80 % band: %{{customdata}}<extra></extra>"))
        data.append(dict(type="scatter", x=days, y=(p50 / 100).tolist(), mode="lines",
                         line=dict(width=2.5, color=line), name=f"{name}: median",
                         customdata=_money_list(p50, currency), text=labels,
                         hovertemplate=f"<b>{name}</b> %{{text}}<br>Median balance: %{{customdata}}<extra></extra>"))
        if item.breach is not None and item.breach in frame_days:
            value = int(p10[frame_days.index(item.breach)])
            data.append(dict(
                type="scatter", x=[item.breach.isoformat()], y=[value / 100], mode="markers",
                marker=dict(symbol="x", size=12, color=SPENDING, line=dict(width=1, color="white")),
                name=f"{name}: below {format_money(threshold_cents, currency, cents=True)}",
                customdata=[format_money(value, currency, cents=True)], text=[format_date(item.breach)],
                hovertemplate=(f"<b>{name}</b><br>10th percentile first below the line on %{{text}}"
                               "<br>%{customdata}<extra></extra>")))
            annotations.append(dict(x=item.breach.isoformat(), y=value / 100, text=f"{name}: {format_day(item.breach)}",
                                    showarrow=True, arrowhead=2, ay=-30 - 22 * i, ax=0,
                                    font=dict(size=12, color=SPENDING), bgcolor="rgba(255,255,255,0.85)"))
    shown = [s.frame for s in series if not s.frame.empty]
    first = min(f["day"].iloc[0] for f in shown)
    last = max(f["day"].iloc[-1] for f in shown)
    data.append(dict(type="scatter", x=[first.isoformat(), last.isoformat()], y=[threshold_cents / 100] * 2,
                     mode="lines", line=dict(color=SPENDING, width=1.5, dash="dash"),
                     name=f"Threshold {format_money(threshold_cents, currency, cents=True)}", hoverinfo="skip"))
    low = min(min(int(f["p10"].min()) for f in shown), threshold_cents) / 100
    high = max(max(int(f["p90"].max()) for f in shown), threshold_cents) / 100
    layout["yaxis"] = money_axis(currency, low=low, high=high)
    months = [m.date() for m in pd.date_range(pd.Timestamp(first).to_period("M").to_timestamp(), pd.Timestamp(last),
                                              freq="MS") if m >= pd.Timestamp(first)] or [first]
    layout["xaxis"] = dict(showgrid=False, type="date", **date_ticks(months, "month"))
    layout["hovermode"] = "x unified"
    layout["legend"] = {**layout["legend"], "orientation": "h", "y": -0.15}
    if annotations:
        layout["annotations"] = annotations
    return _figure(data, layout)


def drivers_figure(frame: pd.DataFrame, currency: str, *, until_label: str) -> dict:
    """The biggest outflows behind the forecast, as horizontal bars (plain Plotly JSON)."""
    title = f"Biggest items until {until_label}"
    if frame.empty:
        return empty_figure("No outflows in this forecast.", title=title, height=260, plain=True)
    ordered = frame.iloc[::-1]
    cents_out = [-int(v) for v in ordered["cents"]]
    units = [v / 100 for v in cents_out]
    layout = base_layout(title, height=max(240, 60 + 34 * len(ordered)), legend=False)
    layout["xaxis"] = money_axis(currency, units)
    layout["yaxis"] = dict(automargin=True)
    return _figure([dict(
        type="bar", x=units, y=user_labels(ordered["label"]), orientation="h",
        marker=dict(color=[SPENDING if s == "scheduled" else MUTED for s in ordered["source"]]),
        text=[format_money(v, currency, cents=True) for v in cents_out], textposition="auto",
        customdata=[str(s) for s in ordered["source"]],
        hovertemplate="<b>%{y}</b><br>%{text} (%{customdata})<extra></extra>")], layout)


def sankey_figure(labels: list[str], colors: list, sources: list[int], targets: list[int], values: list[int],
                  currency: str, *, title: str) -> dict:
    """Income sources -> Income -> categories and Saved, with money on every node and link (plain
    Plotly JSON)."""
    if not values:
        return empty_figure("No income or spending in this period.", title=title, height=420, plain=True)
    node_in = [0] * len(labels)
    node_out = [0] * len(labels)
    for s, t, v in zip(sources, targets, values):
        node_out[s] += v
        node_in[t] += v
    node_text = [format_money(max(a, b), currency, cents=True) for a, b in zip(node_in, node_out)]
    palette = [c if isinstance(c, str) else COLORWAY[i % len(COLORWAY)] for i, c in enumerate(colors)]
    link_colors = [_fade(palette[t]) for t in targets]
    return _figure([dict(
        type="sankey", arrangement="snap", valueformat=",.2f",
        node=dict(label=[f"{user_text(lab)}  {txt}" for lab, txt in zip(labels, node_text)], color=palette, pad=14,
                  thickness=16, customdata=node_text, line=dict(width=0),
                  hovertemplate="<b>%{label}</b><extra></extra>"),
        link=dict(source=[int(s) for s in sources], target=[int(t) for t in targets],
                  value=[int(v) / 100 for v in values], color=link_colors,
                  customdata=[format_money(v, currency, cents=True) for v in values],
                  hovertemplate="%{source.label} → %{target.label}<br><b>%{customdata}</b><extra></extra>"),
    )], base_layout(title, height=max(420, 28 * len(labels)), legend=False))


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
