"""Reusable layout pieces: page headers and figure cards (no callbacks here)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.formatting import format_date, format_money


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


def conversion_note(conversion, *, id: str | None = None, what: str = "Totals"):
    """Under a converted total (``services.fx.Conversion``; None: one currency, nothing to say): which
    currencies were converted into the base, and, as a warning, the money no rate could convert, per
    currency with its days and amount (never counted as zero: left out and said so)."""
    if conversion is None or (conversion.complete and not conversion.converted_from):
        return None
    props = {"id": id} if id else {}
    base = conversion.base
    if conversion.complete:
        sources = ", ".join(sorted(conversion.converted_from))
        return html.Div(f"{what} in {base}: {sources} converted at each day's rate (Rates page).",
                        className="small text-muted", **props)
    lines = []
    for u in conversion.unconverted:
        days = (format_date(u.first_day) if u.days == 1
                else f"{u.days} days from {format_date(u.first_day)} to {format_date(u.last_day)}")
        lines.append(html.Li(f"{format_money(u.native_cents, u.currency, cents=True)} in {u.currency} "
                             f"({days}): no {u.currency}→{base} rate on or before "
                             f"{'that day' if u.days == 1 else 'those days'}."))
    return dbc.Alert([html.Strong(f"{what} in {base} leave out money without an exchange rate:"),
                      html.Ul(lines, className="mb-1"),
                      html.A("Add the rates on the Rates page", href="/rates", className="alert-link")],
                     color="warning", className="py-2 mb-0 small", **props)
