"""Accounts: every account with its current balance, create / rename / archive, net worth over time and
each account's balance history.

Callbacks unpack inputs, call dashboard.services.accounts (which checks every id against the logged-in
user) and dashboard.figures.accounts, and return. Writes commit here; a refused write rolls back and
shows its message next to where it was typed.
"""
from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.components import empty as empty_texts
from dashboard.components.cards import graph_card, page_header, stat_card
from dashboard.components.forms import form_field
from dashboard.components.grid import date_column, ledger_grid, money_column, text_column
from dashboard.context import current_viewer, require_viewer
from dashboard.figures.accounts import balance_history_figure, net_worth_figure
from dashboard.formatting import format_money
from dashboard.services import accounts as svc
from dashboard.services import fx
from dashboard.services.errors import ServiceError
from dashboard.services.periods import add_months, month_start
from dashboard.unit_of_work import grid_edits, problems_alert, unit_of_work
from models import ACCOUNT_TYPES, db

dash.register_page(__name__, path="/accounts", name="Accounts", title="Accounts · Ledgerlens", order=4)

P = "accounts"
RANGES = {"12": "12 months", "24": "24 months", "all": "All time"}
FORM_FIELDS = ("name", "type", "currency", "opening_balance")


# -- layout ----------------------------------------------------------------------------------------



def _form_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("New account")),
        dbc.ModalBody([
            html.Div(id=f"{P}-form-message"),
            form_field("Name", dbc.Input(id=f"{P}-form-name", maxlength=100, placeholder="e.g. Everyday checking"),
                   f"{P}-form-name"),
            form_field("Type", dbc.Select(id=f"{P}-form-type", value="checking",
                                      options=[{"label": svc.TYPE_LABELS[t], "value": t} for t in ACCOUNT_TYPES]),
                   f"{P}-form-type"),
            form_field("Currency", dbc.Select(id=f"{P}-form-currency-code", options=[]), f"{P}-form-currency",
                       "The account's amounts are in this currency; it cannot change later. Totals are shown "
                       "in your base currency, converted with the rates on the Rates page."),
            form_field("Opening balance", dbc.Input(id=f"{P}-form-opening", inputmode="decimal", placeholder="0.00"),
                       f"{P}-form-opening", "The balance before the first transaction you record here. "
                                            "Enter what you owe on a card or loan as a negative amount."),
        ]),
        dbc.ModalFooter([
            dbc.Button("Cancel", id=f"{P}-form-cancel", color="secondary", outline=True, n_clicks=0),
            dbc.Button("Create account", id=f"{P}-form-save", color="primary", n_clicks=0),
        ]),
    ], id=f"{P}-form-modal", is_open=False, centered=True)


def layout(**_query):
    """A data-free skeleton: every number arrives through the callbacks, for the logged-in user."""
    viewer = current_viewer()
    currency = viewer.currency if viewer else "USD"
    return html.Div([
        dcc.Store(id=f"{P}-refresh", data=0),
        dcc.Store(id=f"{P}-form-errors-store", data={}),
        page_header("Accounts", "Balances, net worth and how they moved",
                    actions=[dbc.Button("New account", id=f"{P}-new", color="primary", n_clicks=0)]),
        html.Div(id=f"{P}-message"),
        dcc.Loading(html.Div(id=f"{P}-stats", className="row g-3 mb-3"), type="dot", color="#3459e6",
                    delay_show=300),
        dbc.Card(dbc.CardBody([
            html.Div([
                html.H5("Your accounts", className="card-title mb-0"),
                dbc.Switch(id=f"{P}-show-archived", label="Show archived", value=False, class_name="mb-0"),
            ], className="d-flex justify-content-between align-items-center flex-wrap gap-2 mb-1"),
            html.P("Double-click a name or an opening balance to change it; tick Archived to hide an account "
                   "from new transactions and from net worth.", className="text-muted small mb-2"),
            html.Div(id=f"{P}-grid-message", role="status"),
            ledger_grid(f"{P}-grid", _grid_columns(currency), row_data=[], getRowId="'' + params.data.id",
                        empty=empty_texts.NO_ACCOUNTS,
                        style={}, grid_options={"domLayout": "autoHeight", "stopEditingWhenCellsLoseFocus": True}),
        ]), className="shadow-sm mb-3"),
        html.Div([
            dbc.RadioItems(id=f"{P}-range", value="12", inline=True, className="btn-group",
                           inputClassName="btn-check", labelClassName="btn btn-outline-primary btn-sm",
                           labelCheckedClassName="active",
                           options=[{"label": v, "value": k} for k, v in RANGES.items()]),
        ], className="mb-2"),
        dbc.Row([
            dbc.Col(graph_card(f"{P}-net-worth", height=360), lg=6),
            dbc.Col(graph_card(f"{P}-history", height=360), lg=6),
        ], className="g-3"),
        _form_modal(),
    ])


def _grid_columns(currency: str) -> list[dict]:
    return [
        text_column("name", "Account", editable=True, minWidth=130, flex=2, cellClass="editable-cell"),
        # Each account's amounts in its own currency (params.data.currency), the base one as a fallback.
        money_column("balance_cents", "Balance", currency, cellClassRules={"text-danger": "params.value < 0"},
                     valueFormatter={"function": f"formatCents(params.value, params.data.currency || '{currency}')"}),
        text_column("currency", "Currency", minWidth=90, maxWidth=110),
        text_column("type_label", "Type", minWidth=110),
        {"field": "opening", "headerName": "Opening balance", "editable": True, "type": "rightAligned",
         "cellClass": "money editable-cell ag-right-aligned-cell", "minWidth": 130, "cellDataType": False,
         "cellEditor": "agTextCellEditor",
         "valueFormatter": {"function": "formatCents(Math.round(Number(params.value) * 100), "
                                        f"params.data.currency || '{currency}')"}},
        {"field": "transaction_count", "headerName": "Transactions", "type": "rightAligned", "minWidth": 110,
         "valueFormatter": {"function": "params.value == null ? '' : Number(params.value).toLocaleString()"}},
        date_column("last_date", "Last activity"),
        {"field": "archived", "headerName": "Archived", "editable": True, "cellDataType": "boolean",
         "minWidth": 100, "maxWidth": 120},
        {"field": "link", "headerName": "", "cellRenderer": "markdown", "sortable": False, "minWidth": 120,
         "maxWidth": 150},
    ]


# -- rendering helpers -----------------------------------------------------------------------------

def _units(cents: int) -> str:
    """Integer cents as an exact plain amount string ("-4800.00"), for editing."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def _grid_rows(summaries) -> list[dict]:
    return [{
        "id": int(r.id), "version": int(r.version), "name": r.name, "type": r.type, "currency": r.currency,
        "type_label": svc.TYPE_LABELS.get(r.type, r.type), "balance_cents": int(r.balance_cents),
        "opening": _units(r.opening_cents), "transaction_count": int(r.transaction_count),
        "last_date": r.last_date.isoformat() if r.last_date else None, "archived": bool(r.archived),
        "link": f"[Transactions →](/transactions?accounts={int(r.id)})",
    } for r in summaries.itertuples()]


def _stats(summaries, converted, currency: str, missing) -> list:
    """The headline numbers in the base currency (``converted``: summaries valued at today's rates)."""
    totals = svc.net_worth_now(converted)
    active = int((~summaries["archived"]).sum()) if not summaries.empty else 0
    archived = len(summaries) - active
    money = lambda cents: format_money(cents, currency, cents=True)  # noqa: E731
    cards = [
        stat_card("Net worth", money(totals["net_cents"]), id=f"{P}-net-worth-value",
                  tone="danger" if totals["net_cents"] < 0 or missing else None,
                  detail=("without " + ", ".join(f"{m.currency} (no rate to {m.target} on or before {m.day})"
                                                 for m in missing)) if missing else "assets minus debts"),
        stat_card("Assets", money(totals["assets_cents"]), id=f"{P}-assets", tone="success",
                  detail="checking, savings, cash, investments"),
        stat_card("Debts", money(-totals["debts_cents"]), id=f"{P}-debts",
                  detail="owed on cards and loans"),
        stat_card("Accounts", f"{active}", id=f"{P}-count",
                  detail=f"{archived} archived, not counted" if archived else "all active"),
    ]
    return [dbc.Col(card, xs=6, xl=3) for card in cards]


def _range_start(value, user_id: int, today: date) -> date:
    if value == "all":
        first = svc.first_activity(db.session, user_id)
        return first if first is not None and first < today else month_start(today)
    months = 24 if value == "24" else 12
    return add_months(month_start(today), -(months - 1))


def _alert(message: str, color: str = "success", **props) -> dbc.Alert:
    return dbc.Alert(message, color=color, duration=5000 if color == "success" else None,
                     dismissable=True, class_name="py-2 mb-2", **props)


def _bump(counter) -> int:
    return (counter if isinstance(counter, int) else 0) + 1


# -- callbacks: reading ----------------------------------------------------------------------------

@callback(
    Output(f"{P}-stats", "children"),
    Output(f"{P}-grid", "rowData"),
    Input(f"{P}-refresh", "data"),
    Input(f"{P}-show-archived", "value"),
)
def render_accounts(_refresh, show_archived):
    viewer = require_viewer()
    summaries = svc.account_summaries(db.session, viewer.user_id)
    shown = summaries if show_archived is not False else summaries[~summaries["archived"]]
    converted, base, missing = svc.in_base_currency(db.session, viewer.user_id, summaries, date.today())
    return _stats(summaries, converted, base, missing), _grid_rows(shown)


@callback(
    Output(f"{P}-net-worth", "figure"),
    Output(f"{P}-history", "figure"),
    Input(f"{P}-refresh", "data"),
    Input(f"{P}-range", "value"),
    Input(f"{P}-show-archived", "value"),
)
def render_charts(_refresh, range_value, show_archived):
    viewer = require_viewer()
    today = date.today()
    start = _range_start(range_value if range_value in RANGES else "12", viewer.user_id, today)
    history = svc.balance_history(db.session, viewer.user_id, start, today, include_archived=True)
    # In the base currency: each month-end balance at that day's rate; months without a rate are left
    # out and named in the titles (never counted as zero).
    native = history
    history, base, missing = svc.history_in_base_currency(db.session, viewer.user_id, history, today)
    in_base = "" if history is native else f" in {base}"
    active = history[~history["archived"]] if not history.empty else history
    label = RANGES.get(range_value, RANGES["12"]).lower()
    without = ""
    if missing:
        currencies = sorted({m.currency for m in missing})
        without = f" (without {', '.join(currencies)} on {len(missing)} month-end(s): no rate to {base})"
    return (net_worth_figure(svc.net_worth_history(active), base,
                             title=f"Net worth{in_base}, {label}{without}"),
            balance_history_figure(history if show_archived is not False else active, base,
                                   title=f"Balances{in_base}, {label}{without}"))


# -- callbacks: the new-account form ---------------------------------------------------------------

@callback(
    Output(f"{P}-form-modal", "is_open"),
    Output(f"{P}-form-name", "value"),
    Output(f"{P}-form-type", "value"),
    Output(f"{P}-form-opening", "value"),
    Output(f"{P}-form-currency-code", "options"),
    Output(f"{P}-form-currency-code", "value"),
    Output(f"{P}-form-errors-store", "data"),
    Input(f"{P}-new", "n_clicks"),
    Input(f"{P}-form-cancel", "n_clicks"),
    prevent_initial_call=True,
)
def open_form(_new, _cancel):
    if not (ctx.triggered and ctx.triggered[0].get("value")):
        return (no_update,) * 7
    viewer = require_viewer()
    if ctx.triggered_id == f"{P}-form-cancel":
        return False, no_update, no_update, no_update, no_update, no_update, {}
    base = fx.base_currency(db.session, viewer.user_id)
    options = [{"label": label, "value": code} for code, label in fx.account_currency_choices(base)]
    return True, "", "checking", "", options, base, {}


@callback(
    Output(f"{P}-form-modal", "is_open", allow_duplicate=True),
    Output(f"{P}-form-errors-store", "data", allow_duplicate=True),
    Output(f"{P}-refresh", "data", allow_duplicate=True),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Input(f"{P}-form-save", "n_clicks"),
    State(f"{P}-form-name", "value"),
    State(f"{P}-form-type", "value"),
    State(f"{P}-form-opening", "value"),
    State(f"{P}-form-currency-code", "value"),
    State(f"{P}-refresh", "data"),
    prevent_initial_call=True,
)
def save_account(n_clicks, name, type_, opening, currency, refresh):
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    viewer = require_viewer()
    done = unit_of_work(lambda: svc.create_account(db.session, viewer.user_id, name=name, type=type_,
                                                   opening_balance=opening, currency=currency))
    if not done.ok:
        return no_update, {done.field if done.field in FORM_FIELDS else "form": done.message}, no_update, no_update
    account = done.value
    # No time-out here: the message carries the next step (links must not vanish while being read).
    message = dbc.Alert([f"Created “{account.name}”. Next, bring in its transactions: ",
                         dcc.Link("import a statement", href="/import", id=f"{P}-created-import"), " or ",
                         dcc.Link("add a transaction", href="/transactions#new", id=f"{P}-created-add"), "."],
                        color="success", dismissable=True, class_name="py-2 mb-2", id=f"{P}-created")
    return False, {}, _bump(refresh), message


@callback(
    Output(f"{P}-form-name-feedback", "children"),
    Output(f"{P}-form-type-feedback", "children"),
    Output(f"{P}-form-currency-feedback", "children"),
    Output(f"{P}-form-opening-feedback", "children"),
    Output(f"{P}-form-name", "invalid"),
    Output(f"{P}-form-type", "invalid"),
    Output(f"{P}-form-currency-code", "invalid"),
    Output(f"{P}-form-opening", "invalid"),
    Output(f"{P}-form-message", "children"),
    Input(f"{P}-form-errors-store", "data"),
)
def show_form_errors(errors):
    errors = errors if isinstance(errors, dict) else {}
    texts = [errors.get(f) for f in FORM_FIELDS]
    general = errors.get("form")
    return (*texts, *[bool(t) for t in texts],
            dbc.Alert(general, color="warning", class_name="py-2") if general else None)


# -- callbacks: inline edits in the grid -----------------------------------------------------------

_GRID_FIELDS = {"name": "name", "opening": "opening_balance", "archived": "archived"}
_GRID_LABELS = {"name": "name", "opening": "opening balance", "archived": "archived"}


@callback(
    Output(f"{P}-grid-message", "children"),
    Output(f"{P}-refresh", "data", allow_duplicate=True),
    Input(f"{P}-grid", "cellValueChanged"),
    State(f"{P}-refresh", "data"),
    prevent_initial_call=True,
)
def edit_in_grid(changes, refresh):
    if not changes:
        return no_update, no_update
    viewer = require_viewer()

    def edit(row, column, value):
        if column not in _GRID_FIELDS:
            raise ServiceError("That column cannot be edited.")
        account = svc.update_account(db.session, viewer.user_id, row.get("id"), expected_version=row.get("version"),
                                     **{_GRID_FIELDS[column]: value})
        return _done_text(column, account)   # read before the commit expires the row
    problems, saved = grid_edits(changes, edit, lambda _row, column: _GRID_LABELS.get(column, "").capitalize())
    if problems:
        message = problems_alert(problems, id=f"{P}-grid-error")
    else:
        message = _alert(" ".join(text for _column, text in saved) or "Saved.")
    # Always re-read: a refused edit goes back to the stored value, an accepted one gets its new version.
    return message, _bump(refresh)


def _done_text(column: str, account) -> str:
    if column == "archived":
        return (f"“{account.name}” is archived." if account.archived
                else f"“{account.name}” is active again.")
    return f"Saved “{account.name}”."
