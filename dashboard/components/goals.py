"""Goal pieces shared by the Goals page and the Overview: status badges and the compact summary.
Layout only, no callbacks, no database: they take rows of dashboard.services.goals.goals_frame."""
from __future__ import annotations

from datetime import date

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.formatting import format_date, format_money

STATUS_LABELS = {"achieved": "Achieved", "on_track": "On track", "behind": "Behind", "overdue": "Overdue"}
# Bootstrap colour names: the same hues as dashboard.figures.goals.STATUS_COLORS in the Zephyr theme.
STATUS_BOOTSTRAP = {"achieved": "success", "on_track": "primary", "behind": "warning", "overdue": "danger"}


def short_date(day: date | None) -> str:
    return "no date" if day is None else format_date(day)


def status_badge(status: str, **props) -> dbc.Badge:
    return dbc.Badge(STATUS_LABELS.get(status, status), color=STATUS_BOOTSTRAP.get(status, "secondary"),
                     text_color="dark" if status == "behind" else None, pill=True,
                     class_name="goal-status-badge", **props)


def goals_summary(goals: list[dict], currency: str, *, limit: int = 4):
    """Up to ``limit`` goals (the ones needing attention first): name, status, a progress bar and
    saved of target, with a link to the Goals page."""
    if not goals:
        return html.P(["No goals yet. ", dcc.Link("Set one on the Goals page", href="/goals#new"), "."],
                      className="text-muted mb-0", id="overview-goals-empty")
    items = []
    for goal in goals[:limit]:
        percent = max(0.0, min(1.0, goal["progress"] or 0.0)) * 100
        word = "paid off" if goal["kind"] == "debt" else "saved"
        items.append(html.Div([
            html.Div([
                html.Span(goal["name"], className="fw-semibold text-truncate me-2"),
                status_badge(goal["status"]),
            ], className="d-flex justify-content-between align-items-center mb-1"),
            dbc.Progress(value=percent, color=STATUS_BOOTSTRAP.get(goal["status"], "primary"),
                         style={"height": "8px"}, class_name="mb-1"),
            html.Div([
                html.Span(f"{format_money(goal['saved_cents'], currency, cents=True)} {word} of "
                          f"{format_money(goal['target_cents'], currency, cents=True)}", className="money"),
                html.Span(f"by {short_date(goal['target_date'])}" if goal["target_date"] else "",
                          className="text-muted"),
            ], className="d-flex justify-content-between flex-wrap gap-1 small"),
        ], className="goal-summary-item", **{"data-status": goal["status"],
                                              "data-progress-label": f"{goal['name']}: {percent:.0f}% {word}"}))
    more = len(goals) - limit
    return html.Div([
        dbc.Row([dbc.Col(item, xs=12, md=6, xl=3) for item in items], className="g-3"),
        html.Div(dcc.Link(f"and {more} more goal{'s' if more > 1 else ''}", href="/goals"),
                 className="small mt-2") if more > 0 else None,
    ], id="overview-goals-list")
