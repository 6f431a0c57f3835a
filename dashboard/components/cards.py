"""Reusable layout pieces: page headers and figure cards (no callbacks here)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html


def page_header(title: str, subtitle: str | None = None, actions=None) -> html.Div:
    return html.Div([
        html.Div([html.H1(title, className="mb-0 page-title"),
                  html.P(subtitle, className="text-muted mb-0") if subtitle else None]),
        html.Div(actions, className="d-flex gap-2 flex-wrap") if actions else None,
    ], className="d-flex justify-content-between align-items-end flex-wrap gap-2 mb-3")


def stat_card(label: str, value, *, detail=None, tone: str | None = None, id: str | None = None) -> dbc.Card:
    """A headline number: label, value, and a small line of context under it."""
    value_class = "stat-value" + (f" text-{tone}" if tone else "")
    body = [html.Div(label, className="stat-label"),
            html.Div(value, className=value_class, **({"id": id} if id else {})),
            html.Div(detail, className="stat-detail") if detail is not None else None]
    return dbc.Card(dbc.CardBody(body), className="stat-card h-100 shadow-sm")


def graph_card(graph_id: str, *, height: int = 340, config: dict | None = None) -> dbc.Card:
    """A card holding one graph, with a loading spinner while its callback runs."""
    return dbc.Card(dbc.CardBody(dcc.Loading(
        dcc.Graph(id=graph_id, config={"displaylogo": False, "displayModeBar": False, "responsive": True, **(config or {})},
                  style={"minHeight": f"{height}px"}),
        type="dot", color="#3459e6", delay_show=150,
    )), className="shadow-sm h-100")


def skeleton(message: str = "Loading…") -> html.Div:
    return html.Div(dbc.Spinner(color="primary", size="sm", spinner_class_name="me-2"),
                    className="text-muted py-4 text-center", title=message)
