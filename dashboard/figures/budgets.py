"""Figures for the Budgets page: frame in, figure out."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.formatting import format_money

from .theme import PRIMARY, SPENDING, base_layout, empty_figure, money_axis, to_units, user_labels

BUDGET_FILL = "#dbe3fb"
PACE = "#343a40"


def budget_vs_actual_figure(frame: pd.DataFrame, currency: str, *, period_label: str,
                            show_pace: bool) -> go.Figure:
    """Per category: the money available (a wide light bar), what was spent (a narrow bar inside it,
    red when over), and the pace mark: where spending would be today if spread evenly.

    ``frame`` is :func:`dashboard.services.budgets.budget_frame`'s (integer cents)."""
    title = f"Budget against actual, {period_label}"
    if frame.empty:
        return empty_figure("No budgets in this period yet.", title=title)
    ordered = frame.sort_values(["available_cents", "category"], ascending=[True, False])
    # Short names ("Groceries") where they are unambiguous, full ones ("Food › Groceries") otherwise.
    names = user_labels(ordered["name"] if ordered["name"].is_unique else ordered["category"])
    money = lambda column: [format_money(v, currency, cents=True) for v in ordered[column]]  # noqa: E731
    over = ordered["remaining_cents"] < 0
    fig = go.Figure(layout=base_layout(title, height=max(280, 90 + 34 * len(ordered))))
    fig.add_trace(go.Bar(
        y=names, x=to_units(ordered["available_cents"]), orientation="h", name="Budgeted",
        marker=dict(color=BUDGET_FILL, line=dict(width=0)), width=0.78,
        customdata=list(zip(money("amount_cents"), money("carried_cents"), strict=True)),
        hovertemplate="<b>%{y}</b><br>Available: %{text}<br>Budgeted %{customdata[0]}, "
                      "carried in %{customdata[1]}<extra></extra>",
        text=money("available_cents"), textposition="none",
    ))
    fig.add_trace(go.Bar(
        y=names, x=to_units(ordered["spent_cents"]), orientation="h", name="Spent",
        marker=dict(color=[SPENDING if o else PRIMARY for o in over], line=dict(width=0)), width=0.38,
        customdata=list(zip([format_money(abs(v), currency, cents=True) for v in ordered["remaining_cents"]],
                            ["Over by" if o else "Left:" for o in over], strict=True)),
        text=money("spent_cents"), textposition="none",
        hovertemplate="<b>%{y}</b><br>Spent: %{text}<br>%{customdata[1]} %{customdata[0]}<extra></extra>",
    ))
    if show_pace:
        fig.add_trace(go.Scatter(
            y=names, x=to_units(ordered["pace_cents"]), mode="markers", name="Pace today",
            marker=dict(symbol="line-ns", size=24, line=dict(width=3, color=PACE), color=PACE),
            text=money("pace_cents"),
            hovertemplate="<b>%{y}</b><br>Pace today: %{text}<extra></extra>",
        ))
    # A one-line key under the axis instead of a legend: Plotly's horizontal legend wraps in a narrow card.
    key = (f"<span style='color:{BUDGET_FILL}'>■</span> Budgeted  "
           f"<span style='color:{PRIMARY}'>■</span> Spent  "
           f"<span style='color:{SPENDING}'>■</span> Over")
    if show_pace:
        key += "  <b>|</b> Pace today"
    fig.add_annotation(text=key, xref="paper", yref="paper", x=1, xanchor="right", y=0, yanchor="top",
                       yshift=-26, showarrow=False, font=dict(size=11, color="#495057"))
    fig.update_layout(barmode="overlay", bargap=0.25, hovermode="closest", showlegend=False,
                      margin=dict(l=10, r=16, t=48, b=44))
    fig.update_xaxes(**money_axis(currency, [*to_units(ordered["available_cents"]), *to_units(ordered["spent_cents"])]),
                     rangemode="tozero")
    fig.update_yaxes(automargin=True, showgrid=False)
    return fig
