"""Exchange rates: import a rates file (the ECB's CSV or XML history, or date,currency,rate), enter one
by hand, see the latest rates and, per account currency, the days that still have no rate.

Thin callbacks: unpack the inputs, call dashboard.services.rates / fx through the unit of work, bump
``rates-refresh`` so the lists are read again. Nothing is fetched from the internet: the person
downloads the file and uploads it here.
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.cards import page_header
from dashboard.components.forms import form_field
from dashboard.context import require_viewer
from dashboard.services import fx
from dashboard.services import rates as svc
from dashboard.services.importer import decode_data_url
from dashboard.unit_of_work import unit_of_work
from models import db

dash.register_page(__name__, path="/rates", name="Rates", title="Exchange rates · Ledgerlens", order=8)

P = "rates"
FIELDS = ("day", "currency", "base", "rate")


def _alert(message, color: str = "success") -> dbc.Alert:
    return dbc.Alert(message, color=color, class_name="py-2 mb-2", dismissable=True)


def _bump(counter) -> int:
    return (counter if isinstance(counter, int) and not isinstance(counter, bool) else 0) + 1


def layout(**_query):
    """A data-free skeleton: the lists arrive through the refresh callback."""
    return html.Div([
        dcc.Store(id=f"{P}-refresh", data=0),
        page_header("Exchange rates", "Rates turn your accounts' currencies into your base currency"),
        html.Div(id=f"{P}-message", role="status"),
        dbc.Row([
            dbc.Col([
                dbc.Card(dbc.CardBody([
                    html.H5("Import a rates file", className="card-title"),
                    dcc.Upload(id=f"{P}-file", multiple=False, accept=".csv,.txt,.xml",
                               className="import-drop", max_size=svc.MAX_RATE_FILE_BYTES,
                               children=html.Div([html.Span("Drop a rates file here or "),
                                                  html.U("choose a file")])),
                    html.P(["The ECB's reference rates (eurofxref-hist.csv or .xml: 1 EUR = rate units of "
                            "each currency), or a CSV of ", html.Code("date,currency,rate"),
                            " lines (an optional ", html.Code("base"), " column; without one, 1 unit of your "
                            "base currency = rate units of the currency)."], className="small text-muted mt-2"),
                ]), className="shadow-sm mb-3"),
                dbc.Card(dbc.CardBody([
                    html.H5("Enter a rate", className="card-title"),
                    dbc.Row([
                        dbc.Col(form_field("Day", dbc.Input(id=f"{P}-day", type="date"), f"{P}-day"), md=6),
                        dbc.Col(form_field("Rate", dbc.Input(id=f"{P}-rate", inputmode="decimal",
                                                             placeholder="1.0876", maxlength=40),
                                           f"{P}-rate"), md=6),
                        dbc.Col(form_field("1 unit of", dbc.Input(id=f"{P}-base", maxlength=3, placeholder="EUR"),
                                           f"{P}-base"), md=6),
                        dbc.Col(form_field("is worth this many", dbc.Input(id=f"{P}-currency", maxlength=3,
                                                                          placeholder="USD"),
                                           f"{P}-currency"), md=6),
                    ]),
                    dbc.Button("Save rate", id=f"{P}-save", color="primary", n_clicks=0),
                ]), className="shadow-sm mb-3"),
            ], lg=5),
            dbc.Col([
                dbc.Card(dbc.CardBody([
                    html.H5("Coverage", className="card-title"),
                    html.Div(id=f"{P}-coverage"),
                ]), className="shadow-sm mb-3"),
                dbc.Card(dbc.CardBody([
                    html.H5("Your rates", className="card-title"),
                    html.Div(id=f"{P}-list"),
                ]), className="shadow-sm mb-3"),
            ], lg=7),
        ]),
    ])


# -- reads ------------------------------------------------------------------------------------------

def _coverage(report: dict):
    if not report["currencies"]:
        return html.P(f"All your accounts are in your base currency, {report['base']}.", className="text-muted")
    rows = []
    for c in report["currencies"]:
        if not c["days"]:
            status = html.Span("no transactions yet", className="text-muted")
        elif c["missing_days"]:
            status = html.Span(f"{c['missing_days']:,} days without a rate ({c['first_missing']} – "
                               f"{c['last_missing']})", className="text-danger")
        else:
            status = html.Span("every day has a rate", className="text-success")
        rows.append(html.Tr([html.Td(f"{c['currency']} → {report['base']}"), html.Td(f"{c['accounts']}"),
                             html.Td(f"{c['first_day']} – {c['last_day']}" if c["days"] else "–"), html.Td(status)]))
    return dbc.Table([html.Thead(html.Tr([html.Th("Currency"), html.Th("Accounts"), html.Th("Transactions"),
                                          html.Th("Rates")])), html.Tbody(rows)], size="sm", class_name="mb-0")


def _rate_list(pairs: list[dict]):
    if not pairs:
        return html.P("No rates yet.", className="text-muted")
    body = [html.Tr([html.Td(f"1 {r['base']} = {r['rate']} {r['currency']}", className="money"),
                     html.Td(str(r["last_day"])), html.Td(f"{r['first_day']} – {r['last_day']}"),
                     html.Td(f"{r['count']:,}")]) for r in pairs]
    return dbc.Table([html.Thead(html.Tr([html.Th("Latest rate"), html.Th("On"), html.Th("Rates from – to"),
                                          html.Th("Days")])), html.Tbody(body)],
                     size="sm", striped=True, class_name="mb-0")


@callback(Output(f"{P}-coverage", "children"), Output(f"{P}-list", "children"),
          Input(f"{P}-refresh", "data"))
def show_rates(_refresh):
    viewer = require_viewer()
    return (_coverage(fx.rate_coverage(db.session, viewer.user_id)),
            _rate_list(svc.rate_pairs(db.session, viewer.user_id)))


# -- writes -----------------------------------------------------------------------------------------

def _import(session, user_id: int, contents, default_base: str):
    data = decode_data_url(contents, svc.MAX_RATE_FILE_BYTES)
    parsed = svc.parse_rates(data, default_base)
    return parsed, svc.import_rates(session, user_id, parsed)


@callback(Output(f"{P}-message", "children"), Output(f"{P}-refresh", "data"),
          Input(f"{P}-file", "contents"), State(f"{P}-file", "filename"), State(f"{P}-refresh", "data"),
          prevent_initial_call=True)
def import_file(contents, _filename, refresh):
    viewer = require_viewer()
    if not contents:
        return no_update, no_update
    # The base currency is read again from the database, not taken from the client.
    base = fx.base_currency(db.session, viewer.user_id)
    done = unit_of_work(_import, db.session, viewer.user_id, contents, base)
    if not done.ok:
        return _alert(done.message, "danger"), no_update
    parsed, counts = done.value
    text = (f"{parsed.format}: {counts.added:,} rates added, {counts.changed:,} changed, "
            f"{counts.unchanged:,} already there ({parsed.first_day} – {parsed.last_day}).")
    problems = [html.Li(f"Line {line}: {reason}" if line else reason) for line, reason in parsed.errors[:10]]
    if problems:
        return _alert([text, html.Div(f"{len(parsed.errors):,} entries could not be read:"),
                       html.Ul(problems, className="mb-0")], "warning"), _bump(refresh)
    return _alert(text), _bump(refresh)


@callback(Output(f"{P}-message", "children", allow_duplicate=True),
          Output(f"{P}-refresh", "data", allow_duplicate=True),
          *[Output(f"{P}-{name}-feedback", "children") for name in FIELDS],
          Input(f"{P}-save", "n_clicks"),
          *[State(f"{P}-{name}", "value") for name in FIELDS], State(f"{P}-refresh", "data"),
          prevent_initial_call=True)
def save_rate(_clicks, day, currency, base, rate, refresh):
    viewer = require_viewer()
    done = unit_of_work(svc.enter_rate, db.session, viewer.user_id, day=day, currency=currency, base=base,
                        rate=rate)
    feedback = {name: None for name in FIELDS}
    if not done.ok:
        if done.field in feedback:
            feedback[done.field] = done.message
            return no_update, no_update, *feedback.values()
        return _alert(done.message, "danger"), no_update, *feedback.values()
    return (_alert(f"Saved: on {day}, 1 {str(base).strip().upper()} = {str(rate).strip()} "
                   f"{str(currency).strip().upper()}."), _bump(refresh), *feedback.values())
