"""Overview: net worth, balances, this month against last, top categories, 12 months of cash flow."""
from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard.components.cards import conversion_note, graph_card, page_header, stat_card
from dashboard.components.empty import NEW_ACCOUNT, empty_state
from dashboard.components.goals import goals_summary
from dashboard.components.upcoming import upcoming_list
from dashboard.context import require_viewer
from dashboard.figures.overview import cashflow_figure, top_categories_figure
from dashboard.formatting import format_date_range, format_money, format_month, format_percent
from dashboard.services import goals as goals_svc
from dashboard.services import overview as svc
from dashboard.services import schedules as upcoming_svc
from dashboard.services.accounts import TYPE_LABELS, in_base_currency
from dashboard.services.periods import add_months, month_start
from models import DEBT_TYPES, db

dash.register_page(__name__, path="/", name="Overview", title="Overview · Ledgerlens", order=0)



def layout(**_query):
    return html.Div([
        dcc.Store(id="overview-load", data=0),
        page_header("Overview", "Where you stand today"),
        dcc.Loading(html.Div(id="overview-stats", className="row g-3 mb-3"), type="dot",
                    color="#3459e6"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                html.H5("Accounts", className="card-title"),
                dcc.Loading(html.Div(id="overview-accounts"), type="dot", color="#3459e6"),
            ]), className="shadow-sm h-100"), lg=5),
            dbc.Col(graph_card("overview-top-categories"), lg=7),
        ], className="g-3 mb-3"),
        dbc.Row([dbc.Col(graph_card("overview-cashflow", height=360))], className="g-3"),
        dbc.Row([dbc.Col(dbc.Card(dbc.CardBody([
            html.Div([html.H5("Upcoming, next 30 days", className="card-title mb-0"),
                      dcc.Link("Recurring →", href="/recurring", className="small")],
                     className="d-flex justify-content-between align-items-center mb-3"),
            dcc.Loading(html.Div(id="overview-upcoming"), type="dot", color="#3459e6"),
        ]), className="shadow-sm"))], className="g-3 mt-0"),
        dbc.Row([dbc.Col(dbc.Card(dbc.CardBody([
            html.Div([html.H5("Goals", className="card-title mb-0"),
                      dcc.Link("All goals →", href="/goals", className="small")],
                     className="d-flex justify-content-between align-items-center mb-3"),
            dcc.Loading(html.Div(id="overview-goals"), type="dot", color="#3459e6"),
        ]), className="shadow-sm"))], className="g-3 mt-0"),
    ])


def _change_detail(now: int, before: int, currency: str, *, good_when_up: bool, than: str):
    """"+12.3% vs Nov 1 – 2 ($1,234.00)": against the same days of last month."""
    if before == 0:
        return html.Span(f"nothing in {than}", className="text-muted")
    diff = now - before
    ratio = diff / abs(before)
    good = (diff >= 0) == good_when_up
    return html.Span([
        html.Span(format_percent(ratio, signed=True), className="text-success" if good else "text-danger"),
        f" vs {than} ({format_money(before, currency, cents=True)})",
    ])


def _missing_rates_detail(missing) -> str:
    return "without " + ", ".join(sorted({m.currency for m in missing})) + " (no rate: see Rates)"


def stats_children(user_id: int, currency: str, today: date, balances, missing=()) -> list:
    """``balances`` in the base currency (``accounts.in_base_currency``); ``missing``: the currencies
    of accounts left out of the net worth for want of a rate."""
    net_worth = int(balances["balance_cents"].sum())
    debts = int(balances.loc[balances["type"].isin(DEBT_TYPES), "balance_cents"].sum())
    this, last = svc.month_comparison(db.session, user_id, today)
    this_range, last_range = svc.month_ranges(today)
    than = format_date_range(*last_range, today=today)
    so_far = format_date_range(*this_range, today=today)
    cards = [
        stat_card("Net worth", format_money(net_worth, currency, cents=True), id="overview-net-worth",
                  tone="warning" if missing else None,
                  detail=_missing_rates_detail(missing) if missing else
                  f"{format_money(net_worth - debts, currency, cents=True)} assets · "
                  f"{format_money(-debts, currency, cents=True)} owed"),
        stat_card(f"Income, {so_far}", format_money(this.income_cents, currency, cents=True),
                  id="overview-income", tone="success",
                  detail=_change_detail(this.income_cents, last.income_cents, currency, good_when_up=True, than=than)),
        stat_card(f"Spending, {so_far}", format_money(this.spending_cents, currency, cents=True),
                  id="overview-spending",
                  detail=_change_detail(this.spending_cents, last.spending_cents, currency, good_when_up=False,
                                        than=than)),
        stat_card(f"Net, {so_far}", format_money(this.net_cents, currency, cents=True, signed=True),
                  id="overview-net", tone="success" if this.net_cents >= 0 else "danger",
                  detail=f"{than}: {format_money(last.net_cents, currency, cents=True, signed=True)}"),
    ]
    # Over everything the page totals: the 12 months of the cash-flow chart, this month included.
    note = conversion_note(svc.conversion_note(db.session, user_id, add_months(month_start(today), -11),
                                               this_range[1]), id="overview-conversion", what="Income and spending")
    return [dbc.Col(card, xs=12, sm=6, xl=3) for card in cards] + ([dbc.Col(note, xs=12)] if note else [])


def accounts_children(balances, currency: str, converted=None):
    """Each account's balance in its own currency; the net worth in ``currency`` (the base) from
    ``converted`` (the balances in the base currency; default: ``balances``, all in the base)."""
    if balances.empty:
        return empty_state("No accounts yet", "Add the account your money lives in, with today's balance.",
                           [("Add an account", NEW_ACCOUNT)], id="overview-accounts-empty")
    rows = [html.Tr([
        html.Td([html.Div(row.name, className="fw-semibold"),
                 html.Small(TYPE_LABELS.get(row.type, row.type), className="text-muted")]),
        html.Td(format_money(row.balance_cents, getattr(row, "currency", currency), cents=True),
                className="text-end money" + (" text-danger" if row.balance_cents < 0 else "")),
    ]) for row in balances.itertuples()]
    total = int((balances if converted is None else converted)["balance_cents"].sum())
    rows.append(html.Tr([html.Td("Net worth", className="fw-bold"),
                         html.Td(format_money(total, currency, cents=True), className="text-end fw-bold money")],
                        className="table-light"))
    return dbc.Table(html.Tbody(rows), borderless=False, hover=True, size="sm", className="mb-0",
                     id="overview-accounts-table")


@callback(
    Output("overview-stats", "children"),
    Output("overview-accounts", "children"),
    Output("overview-top-categories", "figure"),
    Output("overview-cashflow", "figure"),
    Input("overview-load", "data"),
)
def update_overview(_load):
    viewer = require_viewer()
    today = date.today()
    balances = svc.account_balances(db.session, viewer.user_id)
    converted, _, missing = in_base_currency(db.session, viewer.user_id, balances, today)
    top = svc.spending_by_top_category(db.session, viewer.user_id, month_start(today), today, limit=8)
    cashflow = svc.monthly_cashflow(db.session, viewer.user_id, today, months=12)
    return (
        stats_children(viewer.user_id, viewer.currency, today, converted, missing),
        accounts_children(balances, viewer.currency, converted),
        top_categories_figure(top, viewer.currency, period_label=format_month(today, long=True)),
        cashflow_figure(cashflow, viewer.currency),
    )


@callback(Output("overview-goals", "children"), Input("overview-load", "data"))
def update_overview_goals(_load):
    viewer = require_viewer()
    frame = goals_svc.goals_summary(db.session, viewer.user_id, date.today())
    return goals_summary(goals_svc.goal_records(frame), viewer.currency)


@callback(Output("overview-upcoming", "children"), Input("overview-load", "data"))
def update_overview_upcoming(_load):
    viewer = require_viewer()
    frame = upcoming_svc.upcoming(db.session, viewer.user_id, date.today(), days=30)
    return upcoming_list(frame, viewer.currency)
