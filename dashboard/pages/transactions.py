"""Transactions: every transaction of the user in one server-paged grid (fast at a million rows), filtered
on the server, edited inline, added, deleted with undo, split across categories, and transfers between
two accounts.

Callbacks unpack inputs, call dashboard.services.transaction_grid (which goes through services.transactions for
every write and re-checks every id against the logged-in user), commit or roll back, and return. After
a write the grid re-reads its rows from the server: an accepted edit shows its new version, a refused
one goes back to the stored value.
"""
from __future__ import annotations

import json
import time
from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from dashboard.components import empty as empty_texts
from dashboard.components.cards import page_header
from dashboard.components.forms import busy
from dashboard.components.grid import (
    date_column,
    infinite_response,
    infinite_window,
    ledger_grid,
    money_column,
    text_column,
)
from dashboard.context import current_viewer, require_viewer
from dashboard.formatting import (
    bcp47,
    currency_symbol,
    format_date,
    format_money,
    format_number,
    moment_date_format,
)
from dashboard.services import bulk_edit, fx
from dashboard.services import rules as rule_service
from dashboard.services import tags as tag_service
from dashboard.services import transaction_grid as svc
from dashboard.services import transactions as tx_service
from dashboard.services.accounts import list_accounts
from dashboard.services.errors import ServiceError
from dashboard.services.filters import MAX_TEXT
from dashboard.services.tokens import spend_token
from dashboard.unit_of_work import grid_edits, problems_alert, unit_of_work
from models import db

dash.register_page(__name__, path="/transactions", name="Transactions", title="Transactions · Ledgerlens",
                   order=5)

P = "transactions"
SPLIT_LINES = 6
UNDO_SECONDS = 10
UNDO_MAX_AGE = 300  # the signed undo token is refused after this many seconds
ADD_FIELDS = ("kind", "date", "account", "to_account", "amount", "category", "payee", "description", "to_amount")
KIND_OPTIONS = [{"label": "All kinds", "value": ""}, {"label": "Spending", "value": "expense"},
                {"label": "Income", "value": "income"}, {"label": "Transfers", "value": "transfer"}]


# -- layout ----------------------------------------------------------------------------------------

def _label(text: str, html_for: str) -> dbc.Label:
    return dbc.Label(text, html_for=html_for, className="small text-muted mb-1")


def _account_options(user_id: int, *, active_only: bool = False) -> list[dict]:
    accounts = list_accounts(db.session, user_id, include_archived=not active_only)
    return [{"label": r.name + (" (archived)" if r.archived else ""), "value": int(r.id)}
            for r in accounts.itertuples()]


def _category_options(choices: list[dict], kind: str | None = None) -> list[dict]:
    """Categories to choose from (hidden built-ins left out)."""
    return [{"label": c["label"], "value": c["id"]} for c in choices
            if (kind is None or c["kind"] == kind) and not c.get("hidden")]


def _filter_bar(filters: svc.LedgerFilters, accounts: list[dict], categories: list[dict],
                tags: list[dict] = ()) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([
                _label("Dates", f"{P}-dates"),
                dcc.DatePickerRange(id=f"{P}-dates", display_format=moment_date_format(), first_day_of_week=1,
                                    minimum_nights=0, clearable=True, className="w-100",
                                    start_date=filters.start.isoformat() if filters.start else None,
                                    end_date=filters.end.isoformat() if filters.end else None,
                                    start_date_placeholder_text="Start", end_date_placeholder_text="End"),
            ], xs=12, md=6, xl=3),
            dbc.Col([
                _label("Accounts", f"{P}-accounts"),
                dcc.Dropdown(id=f"{P}-accounts", options=accounts, value=list(filters.account_ids), multi=True,
                             placeholder="All accounts"),
            ], xs=12, md=6, xl=3),
            dbc.Col([
                _label("Categories", f"{P}-categories"),
                dcc.Dropdown(id=f"{P}-categories", multi=True, placeholder="All categories",
                             options=_category_options(categories) + [{"label": "Uncategorized",
                                                                        "value": svc.UNCATEGORIZED}],
                             value=list(filters.category_ids)),
            ], xs=12, md=5, xl=2),
            dbc.Col([
                _label("Kind", f"{P}-kind"),
                dcc.Dropdown(id=f"{P}-kind", options=KIND_OPTIONS, value=filters.kind, clearable=False,
                             searchable=False),
            ], xs=6, md=3, xl=2),
            dbc.Col([
                _label("Search payee or description", f"{P}-text"),
                dbc.Input(id=f"{P}-text", type="search", value=filters.text, debounce=True, maxLength=MAX_TEXT,
                          placeholder="e.g. coffee"),
            ], xs=6, md=4, xl=2),
            dbc.Col([
                _label("Tags", f"{P}-filter-tags"),
                dcc.Dropdown(id=f"{P}-filter-tags", options=list(tags), value=list(filters.tag_ids), multi=True,
                             placeholder="Any tags"),
            ], xs=12, md=4, xl=2),
        ], className="g-2"),
        html.Div(id=f"{P}-filter-error", className="text-danger small mt-2", role="alert"),
    ]), className="shadow-sm mb-3 filter-bar")


def _grid_columns(currency: str, categories: list[dict], *, originals: bool = True) -> list[dict]:
    """The grid's columns; ``originals``: show the "Original" column (a card statement's foreign
    amount), which only people with such rows need."""
    labels = {"": "Uncategorized", "split": "Split", "transfer": "—"}
    labels.update({str(c["id"]): c["label"] for c in categories})
    editable_money = {"function": "!!params.data && params.data.kind !== 'transfer' && params.data.lines <= 1"}
    # Amount third, so that a phone shows date, payee and amount without scrolling sideways.
    return [
        date_column("date", "Date", sort="desc", editable=True, cellEditor="agDateStringCellEditor",
                    cellDataType="dateString", cellClass="editable-cell", minWidth=104),
        text_column("payee", "Payee", editable=True, minWidth=100, flex=2, cellClass="editable-cell"),
        {"field": "amount", "headerName": "Amount", "editable": editable_money, "type": "rightAligned",
         "cellDataType": False, "cellEditor": "agTextCellEditor", "minWidth": 96,
         "cellClass": "money ag-right-aligned-cell",
         "cellClassRules": {"editable-cell": editable_money["function"], "amount-in": "Number(params.value) > 0"},
         # In the account's currency (each row carries it); the user's for a row without one.
         "valueFormatter": {"function": "formatCents(Math.round(Number(params.value) * 100), "
                                        f"(params.data && params.data.currency) || '{currency}')"}},
        # A card statement's foreign amount (issue 17), in its own currency; empty for most rows.
        money_column("original_cents", "Original", currency, currency_field="original_currency",
                     sortable=False, minWidth=100, hide=not originals,
                     valueFormatter={"function": "params.value == null ? '' : formatCents(params.value, "
                                                 f"params.data.original_currency, '{bcp47()}')"}),
        {"field": "category_id", "headerName": "Category", "editable": editable_money, "refData": labels,
         "cellEditor": "agSelectCellEditor", "cellDataType": False, "sortable": False, "minWidth": 170, "flex": 2,
         "cellEditorParams": {"values": [""] + [str(c["id"]) for c in categories if not c.get("hidden")]},
         "cellClassRules": {"editable-cell": editable_money["function"],
                            "text-muted": "params.value === '' || params.value === 'transfer'"}},
        text_column("description", "Description", editable=True, minWidth=150, flex=2, cellClass="editable-cell"),
        text_column("tags", "Tags", sortable=False, minWidth=100, flex=1, cellClass="tags-cell"),
        text_column("account", "Account", sortable=False, minWidth=110, flex=1),
        text_column("kind_label", "Kind", minWidth=95, maxWidth=120),
    ]


def _field(label: str, control, field_id: str, help_text=None, **div_props) -> html.Div:
    return html.Div([
        dbc.Label(label, html_for=field_id),
        control,
        html.Div(id=f"{field_id}-feedback", className="invalid-feedback d-block"),
        dbc.FormText(help_text, id=f"{field_id}-help") if help_text else None,
    ], className="mb-3", **div_props)


def _add_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Add a transaction")),
        dbc.ModalBody([
            html.Div(id=f"{P}-add-message"),
            dbc.RadioItems(id=f"{P}-add-kind", value="expense", inline=True, className="kind-switch mb-3",
                           inputClassName="btn-check", labelClassName="btn btn-outline-primary",
                           labelCheckedClassName="active",
                           options=[{"label": "Spending", "value": "expense"}, {"label": "Income", "value": "income"},
                                    {"label": "Transfer", "value": "transfer"}]),
            html.Div(id=f"{P}-add-kind-feedback", className="invalid-feedback d-block"),
            dbc.Row([
                dbc.Col(_field("Date", dbc.Input(id=f"{P}-add-date", type="date"), f"{P}-add-date"), sm=6),
                dbc.Col(_field("Amount", dbc.InputGroup([
                    dbc.InputGroupText("$", id=f"{P}-add-currency"),
                    dbc.Input(id=f"{P}-add-amount", inputmode="decimal", placeholder="0.00"),
                ]), f"{P}-add-amount", "What was spent. A negative amount records a refund."), sm=6),
            ]),
            dbc.Row([
                dbc.Col(_field("Account", dbc.Select(id=f"{P}-add-account", options=[]), f"{P}-add-account"),
                        sm=6, id=f"{P}-add-account-col"),
                dbc.Col([_field("To account", dbc.Select(id=f"{P}-add-to-account", options=[]),
                                f"{P}-add-to-account"),
                         _field("Amount arrived", dbc.Input(id=f"{P}-add-to-amount", inputmode="decimal",
                                                             placeholder="same amount"),
                                f"{P}-add-to-amount", "Only between accounts in two currencies: what the "
                                "second account received, in its currency.")],
                        sm=6, id=f"{P}-add-to-col", style={"display": "none"}),
                # A Dash dropdown, not a <select>: "No category" is its placeholder (clear it to get there),
                # shown once, with no blank option before it.
                dbc.Col(_field("Category", dcc.Dropdown(id=f"{P}-add-category", options=[], placeholder="No category",
                                                        clearable=True), f"{P}-add-category"),
                        sm=6, id=f"{P}-add-category-col"),
            ]),
            _field("Payee", dbc.Input(id=f"{P}-add-payee", maxlength=200, placeholder="e.g. Corner store"),
                   f"{P}-add-payee", id=f"{P}-add-payee-row"),
            _field("Description", dbc.Input(id=f"{P}-add-description", maxlength=500, placeholder="optional"),
                   f"{P}-add-description"),
        ]),
        dbc.ModalFooter([
            dbc.Button("Cancel", id=f"{P}-add-cancel", color="secondary", outline=True, n_clicks=0),
            dbc.Button("Add", id=f"{P}-add-save", color="primary", n_clicks=0),
        ]),
    ], id=f"{P}-add-modal", is_open=False, centered=True)


def _dom_id(component_id: dict) -> str:
    """The DOM id Dash gives a pattern-matching id (keys sorted, compact JSON), for a <label for>."""
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def _split_modal() -> dbc.Modal:
    rows = [dbc.Row([
        # A Dropdown, not a <select>: a select carries a hidden blank option before "No category"
        # (dbc.Select's placeholder), which some browsers show as an empty first choice.
        dbc.Col([html.Label(f"Category of line {i + 1}", className="visually-hidden",
                            htmlFor=_dom_id({"index": i, "type": f"{P}-split-category"})),
                 dcc.Dropdown(id={"type": f"{P}-split-category", "index": i}, options=[], value=None,
                              placeholder="No category", clearable=True, className="split-category")],
                xs=12, sm=5),
        dbc.Col(dbc.Input(id={"type": f"{P}-split-amount", "index": i}, inputmode="decimal", size="sm",
                          placeholder="0.00", debounce=300), xs=5, sm=3),
        dbc.Col(dbc.Input(id={"type": f"{P}-split-memo", "index": i}, maxlength=200, size="sm", placeholder="memo"),
                xs=7, sm=4),
    ], className="g-2 mb-2 split-line") for i in range(SPLIT_LINES)]
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Split across categories")),
        dbc.ModalBody([
            html.Div(id=f"{P}-split-info", className="mb-2"),
            html.Div(id=f"{P}-split-message"),
            dbc.Row([dbc.Col(html.Small("Category", className="text-muted"), xs=12, sm=5, className="d-none d-sm-block"),
                     dbc.Col(html.Small("Amount spent", className="text-muted"), sm=3, className="d-none d-sm-block"),
                     dbc.Col(html.Small("Memo", className="text-muted"), sm=4, className="d-none d-sm-block")],
                    className="g-2"),
            *rows,
            html.Div(id=f"{P}-split-remaining", className="small mt-2", role="status"),
        ]),
        dbc.ModalFooter([
            dbc.Button("Cancel", id=f"{P}-split-cancel", color="secondary", outline=True, n_clicks=0),
            dbc.Button("Save split", id=f"{P}-split-save", color="primary", n_clicks=0),
        ]),
    ], id=f"{P}-split-modal", is_open=False, centered=True, size="lg")


def _undo_toast() -> dbc.Toast:
    return dbc.Toast([
        html.Div(id=f"{P}-undo-text", className="mb-2"),
        dbc.Button("Undo", id=f"{P}-undo", color="primary", size="sm", n_clicks=0),
    ], id=f"{P}-undo-toast", header="Transaction deleted", is_open=False, dismissable=True,
        duration=UNDO_SECONDS * 1000, icon="secondary", className="undo-toast")


def _bulk_card(categories: list[dict], tags: list[dict]) -> dbc.Card:
    """Bulk edit: the selected rows, or every row matching the filter (resolved on the server)."""
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([
                _label("Change", f"{P}-bulk-scope"),
                dbc.RadioItems(id=f"{P}-bulk-scope", value="selected", options=[
                    {"label": "the selected rows", "value": "selected"},
                    {"label": html.Span("all rows matching the filter", id=f"{P}-bulk-scope-all"),
                     "value": "filter"}]),
            ], xs=12, md=3),
            dbc.Col([
                _label("Set category", f"{P}-bulk-category"),
                dcc.Dropdown(id=f"{P}-bulk-category", placeholder="Keep categories",
                             options=[{"label": "No category", "value": "none"}] + _category_options(categories)),
            ], xs=12, md=3),
            dbc.Col([
                _label("Add tags", f"{P}-bulk-tags"),
                dcc.Dropdown(id=f"{P}-bulk-tags", options=list(tags), multi=True, placeholder="Existing tags"),
                dbc.Input(id=f"{P}-bulk-new-tags", maxlength=200, size="sm", class_name="mt-1",
                          placeholder="New tags, comma-separated"),
            ], xs=12, md=3),
            dbc.Col([
                _label("Set payee", f"{P}-bulk-payee"),
                dbc.Input(id=f"{P}-bulk-payee", maxlength=200, placeholder="Keep payees"),
                dbc.Button("Apply…", id=f"{P}-bulk-apply", color="primary", size="sm", n_clicks=0,
                           class_name="mt-2"),
            ], xs=12, md=3),
        ], className="g-2"),
        html.Div(id=f"{P}-bulk-message", role="status", className="mt-2"),
    ]), className="shadow-sm mb-3 bulk-card")


def _bulk_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Change many transactions")),
        dbc.ModalBody(html.Div(id=f"{P}-bulk-preview")),
        dbc.ModalFooter([
            dbc.Button("Cancel", id=f"{P}-bulk-cancel", color="secondary", outline=True, n_clicks=0),
            dbc.Button("Change them", id=f"{P}-bulk-confirm", color="primary", n_clicks=0),
        ]),
    ], id=f"{P}-bulk-modal", is_open=False, centered=True)


def layout(**query):
    viewer = current_viewer()
    if viewer is None:
        return html.Div(page_header("Transactions"))
    filters = svc.parse_filters(query)
    categories = svc.category_choices(db.session, viewer.user_id)
    return html.Div([
        dcc.Store(id=f"{P}-state", data=svc.filters_to_query(filters)),
        dcc.Store(id=f"{P}-reload", data=None),
        dcc.Store(id=f"{P}-reloaded"),
        dcc.Store(id=f"{P}-undo-token", data=None),
        dcc.Store(id=f"{P}-add-errors", data={}),
        dcc.Store(id=f"{P}-split-target", data=None),
        dcc.Store(id=f"{P}-bulk-pending", data=None),
        dcc.Store(id=f"{P}-bulk-batch", data=None),
        dcc.Store(id=f"{P}-offer", data=None),
        page_header("Transactions", "Every transaction. Double-click a cell to change it; Enter saves.",
                    actions=[dbc.Button("Add transaction", id=f"{P}-add", color="primary", n_clicks=0)]),
        _filter_bar(filters, _account_options(viewer.user_id), categories,
                    tag_service.tag_choices(db.session, viewer.user_id)),
        _bulk_card(categories, tag_service.tag_choices(db.session, viewer.user_id)),
        dbc.Card(dbc.CardBody([
            html.Div([
                html.Div(id=f"{P}-summary", className="text-muted small", role="status"),
                html.Div([
                    dbc.Button("Split…", id=f"{P}-split", color="primary", outline=True, size="sm", n_clicks=0,
                               disabled=True, title="Select a spending row first"),
                    dbc.Button("Delete", id=f"{P}-delete", color="danger", outline=True, size="sm", n_clicks=0,
                               disabled=True, title="Select a row first"),
                ], className="d-flex gap-2"),
            ], className="d-flex justify-content-between align-items-center flex-wrap gap-2 mb-2"),
            html.Div(id=f"{P}-message", role="alert"),
            ledger_grid(f"{P}-grid", _grid_columns(viewer.currency, categories,
                                                   originals=svc.has_original_amounts(db.session, viewer.user_id)),
                        infinite=True, height="560px",
                        empty=empty_texts.NO_TRANSACTIONS,
                        getRowId="'' + params.data.id",
                        grid_options={"maxConcurrentDatasourceRequests": 1, "stopEditingWhenCellsLoseFocus": True,
                                      "rowSelection": {"mode": "multiRow", "checkboxes": True,
                                                       "headerCheckbox": False,
                                                       "enableClickSelection": True},
                                      "tooltipShowDelay": 600}),
        ]), className="shadow-sm"),
        _add_modal(),
        _split_modal(),
        _bulk_modal(),
        html.Div(_undo_toast(), className="undo-toast-holder"),
    ])


# -- small helpers ---------------------------------------------------------------------------------

def _reload(mode: str = "purge") -> dict:
    return {"mode": mode, "at": time.time()}


def _alert(message, color: str = "success", **props) -> dbc.Alert:
    return dbc.Alert(message, color=color, duration=5000 if color == "success" else None, dismissable=True,
                     class_name="py-2 mb-2", **props)


def _clicked() -> bool:
    return bool(ctx.triggered and ctx.triggered[0].get("value"))


def _selected_id(rows):
    """The id of the selected row as the client says (the service re-checks it)."""
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        return rows[0].get("id")
    return None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="ledgerlens.transactions.undo")


def _undo_token(user_id: int, snapshot: dict) -> str:
    return _serializer().dumps({"u": user_id, "s": snapshot})


def _undo_snapshot(token, user_id: int) -> dict:
    if not isinstance(token, str):
        raise ServiceError("There is nothing to undo.")
    try:
        data = _serializer().loads(token, max_age=UNDO_MAX_AGE)
    except BadSignature:
        raise ServiceError("This delete can no longer be undone.") from None
    if not isinstance(data, dict) or data.get("u") != user_id:
        raise ServiceError("This delete can no longer be undone.")
    return data.get("s")


def _describe_transfer(legs) -> str:
    """"transfer" or, across currencies, "transfer of €100.00 → $108.90 (1 EUR = 1.089 USD)"."""
    out_leg, in_leg = sorted(legs, key=lambda t: t.amount)
    source, target = out_leg.account.currency, in_leg.account.currency
    if source == target:
        return "transfer"
    rate = fx.implied_rate(out_leg.amount, in_leg.amount).normalize()
    return (f"transfer of {format_money(-out_leg.amount, source)} → {format_money(in_leg.amount, target)} "
            f"(1 {source} = {rate:f} {target})")


def _describe(tx, currency: str) -> str:
    payee = tx.payee or "(no payee)"
    return f"{payee}, {format_money(tx.amount, currency, signed=True)} on {format_date(tx.date)}"


# -- callbacks: filters and the grid's pages --------------------------------------------------------

@callback(
    Output(f"{P}-state", "data"),
    Output(f"{P}-filter-error", "children"),
    Input(f"{P}-dates", "start_date"),
    Input(f"{P}-dates", "end_date"),
    Input(f"{P}-accounts", "value"),
    Input(f"{P}-categories", "value"),
    Input(f"{P}-kind", "value"),
    Input(f"{P}-text", "value"),
    Input(f"{P}-filter-tags", "value"),
    prevent_initial_call=True,
)
def update_filters(start, end, accounts, categories, kind, text, tags=None):
    require_viewer()
    try:
        filters = svc.parse_filters({"from": start, "to": end, "accounts": accounts, "categories": categories,
                                     "kind": kind, "q": text, "tags": tags}, strict=True)
    except ServiceError as exc:
        return no_update, exc.message
    return svc.filters_to_query(filters), ""


@callback(
    Output(f"{P}-grid", "getRowsResponse"),
    Input(f"{P}-grid", "getRowsRequest"),
    State(f"{P}-state", "data"),
    prevent_initial_call=True,
)
def grid_rows(request, state):
    viewer = require_viewer()
    window = infinite_window(request)
    if window is None:
        return no_update
    start_row, end_row, sort_model = window
    page = svc.rows_page(db.session, viewer.user_id, svc.parse_filters(state), start_row, end_row, sort_model)
    return infinite_response(svc.grid_records(page), start_row, end_row)


@callback(
    Output(f"{P}-summary", "children"),
    Input(f"{P}-state", "data"),
    Input(f"{P}-reload", "data"),
)
def update_summary(state, _reload_token):
    viewer = require_viewer()
    filters = svc.parse_filters(state)
    totals = svc.summary(db.session, viewer.user_id, filters)
    noun = "transaction" if totals["count"] == 1 else "transactions"
    scope = "matching" if filters.active else "in all"
    if "by_currency" in totals:   # amounts in several currencies: one net per currency, never added up
        net = " · ".join(format_money(v, c, cents=True, signed=True) for c, v in totals["by_currency"].items())
    else:
        net = format_money(totals["total_cents"], viewer.currency, cents=True, signed=True)
    return [html.Span(f"{format_number(totals['count'])} {noun} {scope}", id=f"{P}-count"), " · net ",
            html.Span(net, className="money", id=f"{P}-net")]


# New filters: fetch the rows again from the top. After a write: reload the cached blocks (an edit keeps
# the scroll position; an add or delete starts again from the top).
clientside_callback(
    """
    function(state, reload) {
        const api = window.dash_ag_grid && window.dash_ag_grid.getApi ? (function() {
            try { return window.dash_ag_grid.getApi("transactions-grid"); } catch (e) { return null; }
        })() : null;
        if (!api) { return window.dash_clientside.no_update; }
        const trigger = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
        if (trigger.indexOf("reload") >= 0 && reload && reload.mode === "refresh") {
            api.refreshInfiniteCache();
        } else {
            api.purgeInfiniteCache();
        }
        return Date.now();
    }
    """,
    Output(f"{P}-reloaded", "data"),
    Input(f"{P}-state", "data"),
    Input(f"{P}-reload", "data"),
    prevent_initial_call=True,
)


# -- callbacks: inline edits -----------------------------------------------------------------------

@callback(
    Output(f"{P}-message", "children"),
    Output(f"{P}-reload", "data"),
    Output(f"{P}-offer", "data"),
    Input(f"{P}-grid", "cellValueChanged"),
    prevent_initial_call=True,
)
def edit_cells(changes):
    if not changes:
        return no_update, no_update, no_update
    viewer = require_viewer()

    def edit(row, column, value):
        tx = svc.edit_cell(db.session, viewer.user_id, row.get("id"), expected_version=row.get("version"),
                           column=column, value=value)
        # The offer to make it a rule, read before the commit expires the row.
        return rule_service.rule_offer(db.session, viewer.user_id, tx.id) if column == "category_id" else None

    def label(_row, column):
        return svc.COLUMN_LABELS.get(column, "This change") if isinstance(column, str) else "This change"
    problems, edits = grid_edits(changes, edit, label)
    saved = len(edits)
    offer = next((value for _column, value in reversed(edits) if value), None)
    if problems:
        message = problems_alert(problems, id=f"{P}-edit-error")
    elif offer is not None:
        message = _offer_alert(offer, viewer.user_id)
    else:
        message = _alert("Saved." if saved == 1 else f"Saved {saved} changes.", id=f"{P}-edit-saved")
    # Always re-read the rows: the stored values (and new versions) replace what the client holds.
    return message, _reload("refresh"), offer


def _offer_alert(offer: dict, user_id: int) -> dbc.Alert:
    """Saved; and the offer to make the hand edit a rule for this payee."""
    from dashboard.services.categories import get_category
    name = get_category(db.session, user_id, offer["category_id"]).name
    others = offer["others"]
    buttons = [dbc.Button("Make it a rule", id=f"{P}-offer-rule", size="sm", color="primary", outline=True,
                          n_clicks=0, class_name="me-2")]
    if others:
        buttons.append(dbc.Button(f"Make it a rule and apply it to the {others:,} other row{'s' if others != 1 else ''}",
                                  id=f"{P}-offer-apply", size="sm", color="primary", n_clicks=0))
    return dbc.Alert([html.Div(["Saved. Always put “", html.Strong(offer["payee"]), "” in “", html.Strong(name),
                                "”?"], className="mb-2"), html.Div(buttons)],
                     color="info", class_name="py-2 mb-2", dismissable=True, id=f"{P}-offer-alert")


@callback(
    Output(f"{P}-message", "children", allow_duplicate=True),
    Output(f"{P}-bulk-message", "children", allow_duplicate=True),
    Output(f"{P}-reload", "data", allow_duplicate=True),
    Output(f"{P}-bulk-batch", "data", allow_duplicate=True),
    Input(f"{P}-offer-rule", "n_clicks"),
    Input(f"{P}-offer-apply", "n_clicks"),
    State(f"{P}-offer", "data"),
    prevent_initial_call=True,
)
def accept_offer(_rule, _apply, offer):
    """Make the payee -> category of a hand edit a rule (and apply it to the other rows: one undo)."""
    if not _clicked():
        return no_update, no_update, no_update, no_update
    viewer = require_viewer()
    offer = offer if isinstance(offer, dict) else {}
    also_apply = ctx.triggered_id == f"{P}-offer-apply"

    def work():
        rule = rule_service.create_rule(db.session, viewer.user_id, field="payee", match_type="equals",
                                        pattern=offer.get("payee"), category_id=offer.get("category_id"))
        if not also_apply:
            return None
        batch = rule_service.apply_existing(db.session, viewer.user_id, rule.id)
        return batch.id, batch.row_count
    done = unit_of_work(work)
    if not done.ok:
        return _alert(done.message, "danger", id=f"{P}-offer-error"), no_update, no_update, no_update
    if done.value is None:
        return _alert("Rule saved: the next import puts this payee in that category.", id=f"{P}-offer-done"), \
            no_update, no_update, no_update
    batch_id, count = done.value
    return None, _batch_alert(f"Rule saved and applied to {count:,} rows.", batch_id), _reload(), batch_id


def _batch_alert(text: str, batch_id: int) -> dbc.Alert:
    return dbc.Alert([html.Span(text, className="me-2"),
                      dbc.Button("Undo", id=f"{P}-bulk-undo", size="sm", color="primary", outline=True, n_clicks=0)],
                     color="success", class_name="py-2 mb-2", dismissable=True, id=f"{P}-bulk-done")


# -- callbacks: bulk edit ---------------------------------------------------------------------------

def _bulk_scope(session, user_id: int, scope, rows, state) -> list:
    """WHERE for the edit: the selected rows (ids and versions checked here), or every row matching the
    filter the page shows (its values parsed and scoped here; no ids from the browser)."""
    if scope == "filter":
        return bulk_edit.filter_where(session, user_id, state if isinstance(state, dict) else {})
    rows = [{"id": r.get("id"), "version": r.get("version")} for r in (rows if isinstance(rows, list) else [])
            if isinstance(r, dict)]
    return bulk_edit.selection_where(session, user_id, rows)


def _bulk_actions(session, user_id: int, category, tags, new_tags, payee) -> bulk_edit.Actions:
    tag_ids = tag_service.resolve_tags(session, user_id, tags if isinstance(tags, list) else [], new_tags)
    return bulk_edit.make_actions(session, user_id,
                                  category_id=bulk_edit.UNSET if category in (None, "") else category,
                                  tag_ids=tag_ids, payee=payee if isinstance(payee, str) and payee.strip() else None)


@callback(
    Output(f"{P}-bulk-modal", "is_open"),
    Output(f"{P}-bulk-preview", "children"),
    Output(f"{P}-bulk-pending", "data"),
    Output(f"{P}-bulk-message", "children"),
    Input(f"{P}-bulk-apply", "n_clicks"),
    Input(f"{P}-bulk-cancel", "n_clicks"),
    State(f"{P}-bulk-scope", "value"),
    State(f"{P}-bulk-category", "value"),
    State(f"{P}-bulk-tags", "value"),
    State(f"{P}-bulk-new-tags", "value"),
    State(f"{P}-bulk-payee", "value"),
    State(f"{P}-grid", "selectedRows"),
    State(f"{P}-state", "data"),
    prevent_initial_call=True,
)
def preview_bulk(_apply, _cancel, scope, category, tags, new_tags, payee, rows, state):
    """First say how many rows and how much money the edit changes (nothing is written)."""
    viewer = require_viewer()
    if ctx.triggered_id != f"{P}-bulk-apply" or not _clicked():
        return False, no_update, None, no_update
    try:
        where = _bulk_scope(db.session, viewer.user_id, scope, rows, state)
        actions = _bulk_actions(db.session, viewer.user_id, category, tags, new_tags, payee)
        result = bulk_edit.preview(db.session, viewer.user_id, where, actions)
    except ServiceError as exc:
        return False, no_update, None, _alert(exc.message, "danger", id=f"{P}-bulk-error")
    finally:
        db.session.rollback()   # a preview writes nothing (not even a new tag)
    text = result.message(lambda c: format_money(c, viewer.currency, cents=True))
    pending = {"scope": "filter" if scope == "filter" else "selected", "state": state,
               "rows": [{"id": r.get("id"), "version": r.get("version")} for r in rows or [] if isinstance(r, dict)]
               if scope != "filter" else [],
               "category": category, "tags": tags, "new_tags": new_tags, "payee": payee, "expected": result.rows}
    return bool(result.rows), html.P(text, id=f"{P}-bulk-preview-text"), pending, \
        (None if result.rows else _alert(text, "info", id=f"{P}-bulk-nothing"))


@callback(
    Output(f"{P}-bulk-modal", "is_open", allow_duplicate=True),
    Output(f"{P}-bulk-message", "children", allow_duplicate=True),
    Output(f"{P}-bulk-batch", "data"),
    Output(f"{P}-reload", "data", allow_duplicate=True),
    Input(f"{P}-bulk-confirm", "n_clicks"),
    State(f"{P}-bulk-pending", "data"),
    running=busy(f"{P}-bulk-confirm", "Change them"),
    prevent_initial_call=True,
)
def apply_bulk(n_clicks, pending):
    """Do it: all rows or none, in one transaction, with one undo."""
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    viewer = require_viewer()
    pending = pending if isinstance(pending, dict) else {}

    def work():
        where = _bulk_scope(db.session, viewer.user_id, pending.get("scope"), pending.get("rows"), pending.get("state"))
        actions = _bulk_actions(db.session, viewer.user_id, pending.get("category"), pending.get("tags"),
                                pending.get("new_tags"), pending.get("payee"))
        expected = pending.get("expected")
        batch = bulk_edit.apply(db.session, viewer.user_id, where, actions, label="Bulk edit",
                                expected_rows=expected if isinstance(expected, int) and not isinstance(expected, bool)
                                else None)
        return batch.id, batch.row_count
    done = unit_of_work(work)
    if not done.ok:
        return False, _alert(done.message, "danger", id=f"{P}-bulk-error"), no_update, no_update
    batch_id, count = done.value
    return False, _batch_alert(f"Changed {count:,} row{'s' if count != 1 else ''}.", batch_id), batch_id, _reload()


@callback(
    Output(f"{P}-bulk-message", "children", allow_duplicate=True),
    Output(f"{P}-reload", "data", allow_duplicate=True),
    Input(f"{P}-bulk-undo", "n_clicks"),
    State(f"{P}-bulk-batch", "data"),
    prevent_initial_call=True,
)
def undo_bulk(n_clicks, batch_id):
    if not n_clicks:
        return no_update, no_update
    viewer = require_viewer()
    done = unit_of_work(lambda: bulk_edit.undo(db.session, viewer.user_id, batch_id).row_count)
    if not done.ok:
        return _alert(done.message, "danger", id=f"{P}-bulk-error"), no_update
    return _alert(f"Undone: {done.value:,} rows are as they were.", id=f"{P}-bulk-undone"), _reload()


# -- callbacks: toolbar, delete and undo -----------------------------------------------------------

@callback(
    Output(f"{P}-split", "disabled"),
    Output(f"{P}-delete", "disabled"),
    Input(f"{P}-grid", "selectedRows"),
)
def toolbar(rows):
    row = rows[0] if isinstance(rows, list) and len(rows) == 1 and isinstance(rows[0], dict) else None
    if row is None:   # split and delete act on exactly one row
        return True, True
    return row.get("kind") != "expense", False


@callback(
    Output(f"{P}-undo-toast", "is_open"),
    Output(f"{P}-undo-text", "children"),
    Output(f"{P}-undo-token", "data"),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Output(f"{P}-reload", "data", allow_duplicate=True),
    Output(f"{P}-grid", "selectedRows"),
    Input(f"{P}-delete", "n_clicks"),
    State(f"{P}-grid", "selectedRows"),
    prevent_initial_call=True,
)
def delete_selected(n_clicks, rows):
    if not n_clicks:
        return (no_update,) * 6
    viewer = require_viewer()
    def work():
        snapshot = tx_service.snapshot_transaction(db.session, viewer.user_id, _selected_id(rows))
        tx = tx_service.get_transaction(db.session, viewer.user_id, _selected_id(rows))
        text = _describe(tx, viewer.currency)
        deleted = tx_service.delete_transaction(db.session, viewer.user_id, tx.id)
        return snapshot, text, deleted

    done = unit_of_work(work)
    if not done.ok:
        return (no_update, no_update, no_update,
                _alert(done.message, "warning", id=f"{P}-delete-error"), _reload(), [])
    snapshot, text, deleted = done.value
    if len(deleted) == 2:
        text += " (both legs of the transfer)"
    return True, f"Deleted {text}.", _undo_token(viewer.user_id, snapshot), None, _reload(), []


@callback(
    Output(f"{P}-undo-toast", "is_open", allow_duplicate=True),
    Output(f"{P}-undo-token", "data", allow_duplicate=True),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Output(f"{P}-reload", "data", allow_duplicate=True),
    Input(f"{P}-undo", "n_clicks"),
    State(f"{P}-undo-token", "data"),
    prevent_initial_call=True,
)
def undo_delete(n_clicks, token):
    if not n_clicks:
        return (no_update,) * 4
    viewer = require_viewer()
    def restore():
        snapshot = _undo_snapshot(token, viewer.user_id)
        # Once only: a second click, a replay, or two requests at once find the token spent.
        spend_token(db.session, viewer.user_id, token, lifetime_seconds=UNDO_MAX_AGE,
                    message="This delete has already been undone.")
        return tx_service.restore_transaction(db.session, viewer.user_id, snapshot)

    done = unit_of_work(restore)
    if not done.ok:
        return False, None, _alert(done.message, "warning", id=f"{P}-undo-error"), no_update
    restored = done.value
    return (False, None, _alert(f"Restored {_describe(restored[0], viewer.currency)}.", id=f"{P}-restored"),
            _reload())


# -- callbacks: the add form -----------------------------------------------------------------------

@callback(
    Output(f"{P}-add-modal", "is_open"),
    Output(f"{P}-add-date", "value"),
    Output(f"{P}-add-amount", "value"),
    Output(f"{P}-add-payee", "value"),
    Output(f"{P}-add-description", "value"),
    Output(f"{P}-add-account", "options"),
    Output(f"{P}-add-account", "value"),
    Output(f"{P}-add-to-account", "options"),
    Output(f"{P}-add-to-account", "value"),
    Output(f"{P}-add-currency", "children"),
    Output(f"{P}-add-errors", "data"),
    Output(f"{P}-add-to-amount", "value"),
    Input(f"{P}-add", "n_clicks"),
    Input(f"{P}-add-cancel", "n_clicks"),
    prevent_initial_call=True,
)
def open_add(_add, _cancel):
    if not _clicked():
        return (no_update,) * 12
    viewer = require_viewer()
    if ctx.triggered_id == f"{P}-add-cancel":
        return (False,) + (no_update,) * 9 + ({}, no_update)
    accounts = [{"label": o["label"], "value": str(o["value"])}
                for o in _account_options(viewer.user_id, active_only=True)]
    first = accounts[0]["value"] if accounts else None
    second = accounts[1]["value"] if len(accounts) > 1 else None
    return (True, date.today().isoformat(), "", "", "", accounts, first, accounts, second,
            currency_symbol(viewer.currency).strip(), {}, "")


@callback(
    Output(f"{P}-add-to-col", "style"),
    Output(f"{P}-add-category-col", "style"),
    Output(f"{P}-add-payee-row", "style"),
    Output(f"{P}-add-category", "options"),
    Output(f"{P}-add-category", "value"),
    Output(f"{P}-add-amount-help", "children"),
    Output(f"{P}-add-save", "children"),
    Input(f"{P}-add-kind", "value"),
    Input(f"{P}-add-modal", "is_open"),
)
def add_kind(kind, _open):
    viewer = require_viewer()
    hidden, shown = {"display": "none"}, {}
    if kind == "transfer":
        return shown, hidden, hidden, [], None, "Moved from the first account to the second.", "Add transfer"
    kind = "income" if kind == "income" else "expense"
    options = [{"label": o["label"], "value": str(o["value"])}
               for o in _category_options(svc.category_choices(db.session, viewer.user_id), kind)]
    help_text = ("What was received." if kind == "income"
                 else "What was spent. A negative amount records a refund.")
    return hidden, shown, shown, options, None, help_text, "Add"


@callback(
    Output(f"{P}-add-modal", "is_open", allow_duplicate=True),
    Output(f"{P}-add-errors", "data", allow_duplicate=True),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Output(f"{P}-reload", "data", allow_duplicate=True),
    Input(f"{P}-add-save", "n_clicks"),
    State(f"{P}-add-kind", "value"),
    State(f"{P}-add-date", "value"),
    State(f"{P}-add-account", "value"),
    State(f"{P}-add-to-account", "value"),
    State(f"{P}-add-amount", "value"),
    State(f"{P}-add-category", "value"),
    State(f"{P}-add-payee", "value"),
    State(f"{P}-add-description", "value"),
    State(f"{P}-add-to-amount", "value"),
    prevent_initial_call=True,
)
def save_add(n_clicks, kind, day, account, to_account, amount, category, payee, description, to_amount=None):
    if not n_clicks:
        return (no_update,) * 4
    viewer = require_viewer()
    def work():
        created = svc.create_entry(
            db.session, viewer.user_id, kind=kind, account_id=account, to_account_id=to_account, date=day,
            amount=amount, category_id=category, payee=payee if kind != "transfer" else "", description=description,
            to_amount=to_amount if kind == "transfer" else None)
        # Read inside the work: the commit expires the rows.
        return _describe_transfer(created) if kind == "transfer" else _describe(created[0], viewer.currency)

    done = unit_of_work(work)
    if not done.ok:
        return no_update, {done.field if done.field in ADD_FIELDS else "form": done.message}, no_update, no_update
    what = done.value
    # No time-out: the message carries a link (links must not vanish while being read).
    message = dbc.Alert([f"Added {what}. ", dcc.Link("See where your money goes →", href="/spending",
                                                      id=f"{P}-added-spending")],
                        color="success", dismissable=True, class_name="py-2 mb-2", id=f"{P}-added")
    return False, {}, message, _reload()


@callback(
    Output(f"{P}-add-kind-feedback", "children"),
    Output(f"{P}-add-date-feedback", "children"),
    Output(f"{P}-add-account-feedback", "children"),
    Output(f"{P}-add-to-account-feedback", "children"),
    Output(f"{P}-add-amount-feedback", "children"),
    Output(f"{P}-add-category-feedback", "children"),
    Output(f"{P}-add-payee-feedback", "children"),
    Output(f"{P}-add-description-feedback", "children"),
    Output(f"{P}-add-to-amount-feedback", "children"),
    Output(f"{P}-add-date", "invalid"),
    Output(f"{P}-add-account", "invalid"),
    Output(f"{P}-add-to-account", "invalid"),
    Output(f"{P}-add-amount", "invalid"),
    Output(f"{P}-add-category", "invalid"),
    Output(f"{P}-add-payee", "invalid"),
    Output(f"{P}-add-description", "invalid"),
    Output(f"{P}-add-to-amount", "invalid"),
    Output(f"{P}-add-message", "children"),
    Input(f"{P}-add-errors", "data"),
)
def show_add_errors(errors):
    errors = errors if isinstance(errors, dict) else {}
    texts = [errors.get(f) for f in ADD_FIELDS]
    general = errors.get("form")
    return (*texts, *[bool(t) for t in texts[1:]],
            dbc.Alert(general, color="warning", class_name="py-2") if general else None)


# -- callbacks: the split editor -------------------------------------------------------------------

_LINE_OUTPUTS = [Output({"type": f"{P}-split-{part}", "index": ALL}, prop)
                 for part, prop in (("category", "options"), ("category", "value"), ("amount", "value"),
                                    ("memo", "value"))]


@callback(
    Output(f"{P}-split-modal", "is_open"),
    Output(f"{P}-split-info", "children"),
    Output(f"{P}-split-target", "data"),
    Output(f"{P}-split-message", "children"),
    *_LINE_OUTPUTS,
    Input(f"{P}-split", "n_clicks"),
    Input(f"{P}-split-cancel", "n_clicks"),
    State(f"{P}-grid", "selectedRows"),
    prevent_initial_call=True,
)
def open_split(_split, _cancel, rows):
    keep = [no_update] * SPLIT_LINES
    if not _clicked():
        return (no_update,) * 4 + (keep,) * 4
    viewer = require_viewer()
    if ctx.triggered_id == f"{P}-split-cancel":
        return (False, no_update, None, None) + (keep,) * 4
    try:
        detail = svc.transaction_detail(db.session, viewer.user_id, _selected_id(rows))
    except ServiceError as exc:
        return (no_update, no_update, no_update, _alert(exc.message, "warning")) + (keep,) * 4
    if detail["kind"] != "expense":
        return (True, no_update, None, _alert("Only spending can be split across categories.", "warning")) \
            + (keep,) * 4
    options = _category_options(svc.category_choices(db.session, viewer.user_id), "expense")
    lines = detail["lines"][:SPLIT_LINES]
    padded = lines + [None] * (SPLIT_LINES - len(lines))
    spent = -detail["amount_cents"]
    info = html.Div([
        html.Div(f"{detail['payee'] or '(no payee)'} · {format_date(detail['date'])} · {detail['account']}",
                 className="fw-semibold"),
        html.Div([f"{'Spent' if spent >= 0 else 'Refunded'} ",
                  html.Span(format_money(abs(spent), viewer.currency, cents=True), className="money fw-semibold"),
                  ". Give each category its part; the lines must add up to the total."], className="small"),
    ])
    target = {"id": detail["id"], "version": detail["version"], "total_cents": spent}
    return (True, info, target, None,
            [options] * SPLIT_LINES,
            [line["category_id"] if line and line["category_id"] else None for line in padded],
            [svc.units(line["amount_cents"]) if line else "" for line in padded],
            [line["memo"] if line else "" for line in padded])


@callback(
    Output(f"{P}-split-remaining", "children"),
    Input({"type": f"{P}-split-amount", "index": ALL}, "value"),
    State(f"{P}-split-target", "data"),
)
def split_remaining(amounts, target):
    viewer = require_viewer()
    if not isinstance(target, dict) or not isinstance(target.get("total_cents"), int):
        return None
    remaining, problem = svc.split_remaining(target["total_cents"], amounts)
    if problem:
        return html.Span(problem, className="text-danger")
    if remaining == 0:
        return html.Span("The lines add up to the total.", className="text-success")
    word = "left to assign" if remaining > 0 else "too much"
    return html.Span(f"{format_money(abs(remaining), viewer.currency, cents=True)} {word}.",
                     className="text-warning-emphasis")


@callback(
    Output(f"{P}-split-modal", "is_open", allow_duplicate=True),
    Output(f"{P}-split-message", "children", allow_duplicate=True),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Output(f"{P}-reload", "data", allow_duplicate=True),
    Input(f"{P}-split-save", "n_clicks"),
    State(f"{P}-split-target", "data"),
    State({"type": f"{P}-split-category", "index": ALL}, "value"),
    State({"type": f"{P}-split-amount", "index": ALL}, "value"),
    State({"type": f"{P}-split-memo", "index": ALL}, "value"),
    prevent_initial_call=True,
)
def save_split(n_clicks, target, categories, amounts, memos):
    if not n_clicks:
        return (no_update,) * 4
    viewer = require_viewer()
    target = target if isinstance(target, dict) else {}
    lines = [{"category_id": c, "amount": a, "memo": m}
             for c, a, m in zip(categories or [], amounts or [], memos or [], strict=False)]
    done = unit_of_work(lambda: svc.save_splits(db.session, viewer.user_id, target.get("id"),
                                                expected_version=target.get("version"), lines=lines))
    if done.conflict:
        return no_update, _alert(done.message + " Close and open the split again.", "warning"), no_update, _reload("refresh")
    if not done.ok:
        return no_update, _alert(done.message, "danger", id=f"{P}-split-error"), no_update, no_update
    tx = done.value
    parts = len(tx.expenses)
    return (False, None, _alert(f"Split {tx.payee or 'the transaction'} into {parts} "
                                f"categor{'y' if parts == 1 else 'ies'}.", id=f"{P}-split-saved"),
            _reload("refresh"))
