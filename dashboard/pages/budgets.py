"""Budgets: a period's budgets in an editable grid that writes back at once, against what was spent.

The period lives in the URL (``?type=monthly&period=2026-11``). One read callback fills the grid, the
chart and the totals; one write callback takes every change (a grid edit, add, delete, copy, fill),
calls a service, commits, and bumps ``budgets-refresh`` so the read callback shows the stored state,
which also puts a refused cell back to its stored value. Nothing in the client's rows is trusted
beyond "this budget id, this column, this new value, the version I saw".
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.components.cards import graph_card, page_header, stat_card
from dashboard.components.grid import ledger_grid, money_column, text_column
from dashboard.context import current_viewer, require_viewer
from dashboard.figures.budgets import budget_vs_actual_figure
from dashboard.formatting import format_date_range, format_day, format_money, format_number, format_percent
from dashboard.services import budgets as svc
from dashboard.services.errors import NotFound, ServiceError
from dashboard.unit_of_work import unit_of_work
from models import db

dash.register_page(__name__, path="/budgets", name="Budgets", title="Budgets · Ledgerlens", order=2)

P = "budgets"
GRID = f"{P}-grid"
MAX_EDITS = 50  # cell changes handled per request; a real grid sends one or a few
TYPE_LABELS = {"monthly": "Monthly", "weekly": "Weekly", "yearly": "Yearly"}
HINT = html.Div("Click an amount and type a new one; Enter saves it at once.",
                className="budget-note budget-note-hint")


# -- layout -------------------------------------------------------------------------------------------

def _href(period: svc.Period) -> str:
    return "/budgets?" + urlencode({"type": period.type, "period": period.key})


def grid_columns(currency: str, *, editable: bool = True) -> list[dict]:
    """The grid's columns in ``currency``; ``editable`` False when the budgets are shown in another
    currency than the base one they are set in (amounts are edited in the base currency only)."""
    fixed = {"suppressSizeToFit": True}  # only the category column grows and shrinks with the grid
    return [
        text_column("category", "Category", minWidth=170, flex=1, pinned="left", cellRenderer="BudgetCategory",
                    wrapText=True, autoHeight=True),  # long names wrap, never cut
        money_column("budgeted", "Budgeted", currency, editable=editable, cellDataType="text",
                     cellEditor="agTextCellEditor", cellEditorParams={"maxLength": 64},
                     valueFormatter={"function": f"budgetAmountText(params.value, '{currency}')"},
                     comparator={"function": "budgetAmountCompare(valueA, valueB)"},
                     cellClass="money budget-editable" if editable else "money", width=104, minWidth=90,
                     headerTooltip=("Click and type a new amount; Enter saves it." if editable else
                                    "Shown in another currency: switch back to edit."), **fixed),
        money_column("carried_cents", "Carried in", currency, width=98, minWidth=90,
                     headerTooltip="Left over (or overspent) last period, carried in by rollover.", **fixed),
        money_column("spent_cents", "Spent", currency, width=98, minWidth=90, **fixed),
        money_column("remaining_cents", "Left", currency, width=98, minWidth=90,
                     cellClassRules={"budget-negative": {"function": "params.value < 0"}}, **fixed),
        {"field": "pct_used", "headerName": "Used", "cellRenderer": "BudgetUsedBar", "width": 108,
         "minWidth": 96, "filter": False, **fixed},
        {"field": "rollover", "headerName": "Rollover", "editable": True, "cellDataType": "boolean",
         "width": 84, "minWidth": 84, "filter": False, **fixed,
         "headerTooltip": "On: what is left (or overspent) carries into next period's budget."},
        {"colId": "delete", "headerName": "", "valueGetter": {"function": "'✕'"}, "width": 40, "minWidth": 40,
         "sortable": False, "resizable": False, "filter": False, **fixed,
         "cellClass": "budget-delete", "headerTooltip": "Delete a budget"},
    ]


def _period_nav(period: svc.Period, today: date) -> html.Div:
    current = svc.Period.containing(period.type, today)
    type_links = [
        dcc.Link(label, href=_href(svc.Period.containing(kind, today if kind != period.type else period.start)),
                 className="btn btn-sm btn-outline-primary" + (" active" if kind == period.type else ""),
                 id=f"{P}-type-{kind}")
        for kind, label in TYPE_LABELS.items()
    ]
    return html.Div([
        html.Div(type_links, className="btn-group", role="group", **{"aria-label": "Budget period type"}),
        html.Div([
            dcc.Link("‹", href=_href(period.shift(-1)), className="btn btn-sm btn-outline-secondary",
                     id=f"{P}-prev", title=f"Previous {period.noun}"),
            html.Span(period.label, id=f"{P}-period-label", className="budget-period-label"),
            dcc.Link("›", href=_href(period.shift(1)), className="btn btn-sm btn-outline-secondary",
                     id=f"{P}-next", title=f"Next {period.noun}"),
            dcc.Link(f"This {period.noun}", href=_href(current), id=f"{P}-today",
                     className="btn btn-sm btn-link" + (" invisible" if current == period else "")),
        ], className="d-flex align-items-center gap-1"),
    ], className="d-flex flex-wrap align-items-center gap-2")


def _show_in(currencies: list[str]) -> html.Div:
    """The currency the page is shown in (issue 17): the base one (where budgets are set) or another
    with a rate. Hidden when the user has only one currency."""
    return html.Div([
        dbc.Label("Show in", html_for=f"{P}-show-in", className="small text-muted mb-0"),
        dbc.Select(id=f"{P}-show-in", options=[{"label": c, "value": c} for c in currencies], value=currencies[0],
                   size="sm", className="budget-show-in", style={"width": "6rem"}),
    ], className="d-flex align-items-center gap-1", style=None if len(currencies) > 1 else {"display": "none"})


def _toolbar(period: svc.Period, currencies: list[str]) -> html.Div:
    noun = period.noun
    return html.Div([
        html.Div([
            dbc.Label("Category", html_for=f"{P}-add-category", className="visually-hidden"),
            dbc.Select(id=f"{P}-add-category", options=[], placeholder="Add a category…",
                       size="sm", className="budget-add-category"),
            dbc.Label("Amount", html_for=f"{P}-add-amount", className="visually-hidden"),
            dbc.Input(id=f"{P}-add-amount", type="text", inputmode="decimal", placeholder="Amount",
                      size="sm", className="budget-add-amount", maxlength=64),
            dbc.Button("Add budget", id=f"{P}-add", color="primary", size="sm", n_clicks=0),
        ], className="d-flex flex-wrap align-items-center gap-2"),
        html.Div([
            dbc.Button(f"Copy last {noun}", id=f"{P}-copy", color="secondary", outline=True, size="sm",
                       n_clicks=0, title=f"Budget each category of last {noun} that has no budget yet"),
            dbc.Button("Fill from average", id=f"{P}-fill", color="secondary", outline=True,
                       size="sm", n_clicks=0,
                       title=f"Budget the average spending of the last 3 {noun}s: new budgets for "
                             "categories with spending, and budgets that are zero. Typed amounts stay."),
            _show_in(currencies),
        ], className="d-flex flex-wrap gap-2"),
    ], className="d-flex flex-wrap justify-content-between align-items-center gap-2 mb-2")


def _delete_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Delete budget")),
        dbc.ModalBody(id=f"{P}-delete-body"),
        dbc.ModalFooter([
            dbc.Button("Cancel", id=f"{P}-delete-cancel", color="secondary", outline=True, n_clicks=0),
            dbc.Button("Delete", id=f"{P}-delete-confirm", color="danger", n_clicks=0),
        ]),
    ], id=f"{P}-delete-modal", is_open=False, centered=True)


def layout(**query):
    viewer = current_viewer()
    if viewer is None:
        return html.Div(page_header("Budgets"))
    today = date.today()
    period = svc.parse_period(query.get("type"), query.get("period"), today)
    return html.Div([
        dcc.Store(id=f"{P}-period", data={"type": period.type, "start": period.start.isoformat()}),
        dcc.Store(id=f"{P}-refresh", data=0),
        dcc.Store(id=f"{P}-pending-delete"),
        page_header("Budgets", "What each category was given, and how much of it is left.",
                    actions=_period_nav(period, today)),
        dcc.Loading(dbc.Row(id=f"{P}-stats", className="g-3 mb-3"), type="dot", color="#3459e6",
                    delay_show=300),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                _toolbar(period, svc.display_currencies(db.session, viewer.user_id)),
                html.Div(HINT, id=f"{P}-message", className="budget-message", role="status",
                         **{"aria-live": "polite"}),
                ledger_grid(
                    GRID, grid_columns(viewer.currency), row_data=[], getRowId="params.data.id",
                    style={"width": "100%"},
                    rowClassRules={"budget-row-over": {"function": "params.data.remaining_cents < 0"}},
                    grid_options={
                        "domLayout": "autoHeight", "singleClickEdit": True,
                        "stopEditingWhenCellsLoseFocus": True, "suppressMovableColumns": True,
                        "localeText": {"noRowsToShow": "No budgets in this period yet. Add one above, copy "
                                                       "the last period's, or fill from your average spending."},
                    },
                ),
            ]), className="shadow-sm h-100"), xl=8),
            dbc.Col(graph_card(f"{P}-chart", height=360), xl=4),
        ], className="g-3"),
        _delete_modal(),
    ])


# -- reading ------------------------------------------------------------------------------------------

def _period(data) -> svc.Period:
    data = data if isinstance(data, dict) else {}
    return svc.parse_period(data.get("type"), data.get("start"), date.today())


def grid_rows(frame) -> list[dict]:
    """Rows for the grid. ``budgeted`` is the plain amount the cell editor starts from: ``1234.50``."""
    return [{
        "id": str(int(row.id)),  # a string: AG Grid row ids are strings
        "category": row.category, "name": row.name, "parent": row.parent if isinstance(row.parent, str) else "",
        "budgeted": f"{Decimal(int(row.amount_cents)) / 100:.2f}",
        "carried_cents": int(row.carried_cents), "spent_cents": int(row.spent_cents),
        "remaining_cents": int(row.remaining_cents),
        "pct_used": None if row.pct_used is None or row.pct_used != row.pct_used else float(row.pct_used),
        "rollover": bool(row.rollover), "version": int(row.version),
    } for row in frame.itertuples()]


def stats_children(summary: svc.PeriodSummary, period: svc.Period, currency: str, today: date) -> list:
    money = lambda cents: format_money(cents, currency, cents=True)  # noqa: E731
    available = summary.budgeted_cents + summary.carried_cents
    budgeted_detail = (f"{format_money(summary.carried_cents, currency, cents=True, signed=True)} carried in"
                       if summary.carried_cents else f"{summary.count} budget{'s' if summary.count != 1 else ''}")
    spent_detail = (f"{format_percent(summary.spent_cents / available)} of the budget" if available > 0
                    else "nothing budgeted")
    if summary.outside_cents:
        spent_detail += f" · {money(summary.outside_cents)} not in these budgets"
    in_period = period.start <= today <= period.end
    # Days still to spend in, today included (spending today still comes out of what is left).
    spend_days = summary.days_left + 1 if in_period else 0
    if summary.left_cents < 0:
        left_detail = "over budget"
    elif in_period and summary.left_cents > 0:
        left_detail = f"{money(summary.left_cents // spend_days)} a day for {spend_days} day{'s' if spend_days != 1 else ''}"
    else:
        left_detail = ""
    unbudgeted = summary.unbudgeted_income_cents
    if summary.running:
        # A running period has not had all its income yet: show what came in so far against the
        # same days of the previous period, not "income minus budgets" (negative until payday).
        so_far = format_date_range(period.start, today, today=today)
        than = format_date_range(*summary.previous_range, today=today)
        income_card = stat_card(
            f"Income, {so_far}", money(summary.income_cents), id=f"{P}-unbudgeted-income",
            detail=f"{than}: {money(summary.previous_income_cents)} · {money(summary.budgeted_cents)} budgeted")
    else:
        income_card = stat_card(
            "Income not budgeted", money(unbudgeted), id=f"{P}-unbudgeted-income",
            tone="danger" if unbudgeted < 0 else None,
            detail=(f"of {money(summary.income_cents)} income" if unbudgeted >= 0
                    else f"more budgeted than the {money(summary.income_cents)} earned"))
    cards = [
        stat_card("Budgeted", money(summary.budgeted_cents), id=f"{P}-total-budgeted", detail=budgeted_detail),
        stat_card("Spent", money(summary.spent_cents), id=f"{P}-total-spent", detail=spent_detail),
        stat_card("Left to spend", money(summary.left_cents), id=f"{P}-left",
                  tone="danger" if summary.left_cents < 0 else None, detail=left_detail),
        stat_card("Days left", format_number(summary.days_left), id=f"{P}-days-left",
                  detail=f"of {summary.days_total} · ends {format_day(period.end)}"),
        income_card,
    ]
    return [dbc.Col(card, xs=6 if i < 4 else 12, lg=4, xl=True) for i, card in enumerate(cards)]


@callback(
    Output(GRID, "rowData"),
    Output(f"{P}-chart", "figure"),
    Output(f"{P}-stats", "children"),
    Output(f"{P}-add-category", "options"),
    Output(GRID, "columnDefs"),
    Input(f"{P}-period", "data"),
    Input(f"{P}-refresh", "data"),
    Input(f"{P}-show-in", "value"),
)
def load(period_data, _refresh, show_in=None):
    viewer = require_viewer()
    today = date.today()
    period = _period(period_data)
    frame = svc.budget_frame(db.session, viewer.user_id, period, today)
    summary = svc.period_summary(db.session, viewer.user_id, period, frame, today)
    free = svc.unbudgeted_categories(db.session, viewer.user_id, period)
    currency, note = viewer.currency, None
    if show_in and show_in != viewer.currency:
        # Shown in another currency: the base-currency amounts at one day's rate (services/budgets.shown_in)
        try:
            shown = svc.shown_in(db.session, viewer.user_id, show_in, period, frame, summary, today)
            frame, summary, currency = shown.frame, shown.summary, shown.currency
            note = html.Div(f"Shown in {currency} at the rate of {format_day(shown.day)} "
                            f"(1 {viewer.currency} = {shown.rate_text} {currency}); "
                            f"budgets are set and edited in {viewer.currency}.", className="small text-muted",
                            id=f"{P}-shown-in-note")
        except ServiceError as exc:
            note = dbc.Alert(f"{exc.message} Shown in {viewer.currency}.", color="warning", className="py-2 mb-0 small",
                             id=f"{P}-shown-in-note")
    stats = stats_children(summary, period, currency, today)
    if note is not None:
        stats.append(dbc.Col(note, xs=12))
    return (
        grid_rows(frame),
        budget_vs_actual_figure(frame, currency, period_label=period.label,
                                show_pace=period.start <= today <= period.end),
        stats,
        [{"label": name, "value": str(cid)} for cid, name in zip(free["id"], free["full_name"], strict=True)],
        grid_columns(currency, editable=currency == viewer.currency),
    )


# -- writing ------------------------------------------------------------------------------------------

def _alert(lines: list[str], tone: str) -> html.Div | None:
    """A message line above the grid. Its box keeps its height, so the grid does not jump."""
    if not lines:
        return None
    body = lines[0] if len(lines) == 1 else html.Ul([html.Li(line) for line in lines], className="mb-0 ps-3")
    return html.Div(body, className=f"budget-note budget-note-{tone}",
                    role="alert" if tone == "danger" else None)


def edit_from_event(event) -> dict:
    """What one ``cellValueChanged`` event asks for: budget id, column, new value, version seen.
    The row's other fields (category, owner, spent...) are never read."""
    if not isinstance(event, dict):
        raise ServiceError("That change could not be read.")
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    row_id = event.get("rowId", data.get("id"))
    if "id" in data and str(data.get("id")) != str(row_id):
        raise NotFound("Unknown budget.", "budget")
    value = event["value"] if "value" in event else event.get("newValue")
    return {"budget_id": row_id, "column": event.get("colId"), "value": value,
            "expected_version": data.get("version")}


def save_edits(user_id: int, currency: str, changes) -> list:
    """Apply the grid's cell changes one by one, each in its own commit. Returns message alerts."""
    events = changes if isinstance(changes, list) else [changes]
    saved, refused = [], []
    for event in events[:MAX_EDITS]:
        try:
            edit = edit_from_event(event)
        except ServiceError as exc:
            refused.append(exc.message)
            continue

        def work(edit=edit):
            budget = svc.apply_cell_edit(db.session, user_id, **edit)
            return budget.category.name, budget.amount, budget.rollover

        done = unit_of_work(work)
        if done.conflict:
            current = done.conflict.current
            now = (f"Rollover is {'on' if current.rollover else 'off'}." if edit["column"] == "rollover"
                   else f"It is now {format_money(current.amount, currency)}.")
            refused.append(f"{current.category.name}: {done.message} {now}")
        elif not done.ok:
            label = svc.budget_label(db.session, user_id, edit["budget_id"])
            refused.append(f"{label[0]}: {done.message} It stays at {format_money(label[1], currency)}."
                           if label else done.message)
        else:
            name, amount, rollover = done.value
            saved.append(f"{name}: budget {format_money(amount, currency)}, rollover {'on' if rollover else 'off'}."
                         if edit["column"] == "rollover" else f"{name} is now {format_money(amount, currency)}.")
    if len(events) > MAX_EDITS:
        refused.append(f"Only the first {MAX_EDITS} changes were handled.")
    return [a for a in (_alert(refused, "danger"), _alert(saved, "success")) if a is not None]


def add_budget(user_id: int, currency: str, period: svc.Period, category, amount) -> tuple[list, bool]:
    def work():
        budget = svc.add_budget(db.session, user_id, period, category_id=category, amount=amount)
        return budget.category.name, budget.amount

    done = unit_of_work(work)
    if not done.ok:
        return [_alert([done.message], "danger")], False
    name, value = done.value
    return [_alert([f"Added a {format_money(value, currency)} budget for {name}."], "success")], True


def delete_budget(user_id: int, pending) -> list:
    label = svc.budget_label(db.session, user_id, pending)
    if label is None:
        return [_alert(["That budget no longer exists."], "warning")]
    done = unit_of_work(lambda: svc.delete_budget(db.session, user_id, pending))
    if not done.ok:
        return [_alert([done.message], "warning")]
    return [_alert([f"Deleted the {label[0]} budget. Its spending now counts against no budget "
                    "(or its parent category's)."], "success")]


def copy_budgets(user_id: int, period: svc.Period) -> list:
    added = unit_of_work(lambda: svc.copy_previous_period(db.session, user_id, period)).value
    previous = period.shift(-1).label
    if not added:
        return [_alert([f"Nothing to copy: {previous} has no budget that this {period.noun} lacks."], "info")]
    return [_alert([f"Copied {added} budget{'s' if added != 1 else ''} from {previous}."], "success")]


def fill_budgets(user_id: int, period: svc.Period) -> list:
    added, filled = unit_of_work(lambda: svc.fill_from_average(db.session, user_id, period)).value
    if not added and not filled:
        return [_alert([f"Nothing to fill: no spending in the last 3 {period.noun}s outside budgets "
                        "that already have an amount."], "info")]
    return [_alert([f"From the average of the last 3 {period.noun}s: added {added} budget"
                    f"{'s' if added != 1 else ''}, filled {filled}."], "success")]


def _next(token) -> int:
    return token + 1 if isinstance(token, int) and not isinstance(token, bool) and token < 2**31 else 1


@callback(
    Output(f"{P}-message", "children"),
    Output(f"{P}-refresh", "data"),
    Output(f"{P}-add-amount", "value"),
    Output(f"{P}-add-category", "value"),
    Input(GRID, "cellValueChanged"),
    Input(f"{P}-add", "n_clicks"),
    Input(f"{P}-add-amount", "n_submit"),
    Input(f"{P}-delete-confirm", "n_clicks"),
    Input(f"{P}-copy", "n_clicks"),
    Input(f"{P}-fill", "n_clicks"),
    State(f"{P}-period", "data"),
    State(f"{P}-refresh", "data"),
    State(f"{P}-add-category", "value"),
    State(f"{P}-add-amount", "value"),
    State(f"{P}-pending-delete", "data"),
    prevent_initial_call=True,
)
def write(changes, _add, _submit, _confirm, _copy, _fill, period_data, refresh, category, amount, pending):
    viewer = require_viewer()
    period = _period(period_data)
    trigger = ctx.triggered_id
    amount_out = category_out = no_update
    if trigger == GRID:
        if not changes:
            raise dash.exceptions.PreventUpdate
        message = save_edits(viewer.user_id, viewer.currency, changes)
    elif trigger in (f"{P}-add", f"{P}-add-amount"):
        message, added = add_budget(viewer.user_id, viewer.currency, period, category, amount)
        if added:
            amount_out, category_out = "", None
    elif trigger == f"{P}-delete-confirm":
        message = delete_budget(viewer.user_id, pending)
    elif trigger == f"{P}-copy":
        message = copy_budgets(viewer.user_id, period)
    elif trigger == f"{P}-fill":
        message = fill_budgets(viewer.user_id, period)
    else:
        raise dash.exceptions.PreventUpdate
    return message, _next(refresh), amount_out, category_out


@callback(
    Output(f"{P}-delete-modal", "is_open"),
    Output(f"{P}-delete-body", "children"),
    Output(f"{P}-pending-delete", "data"),
    Input(GRID, "cellClicked"),
    Input(f"{P}-delete-cancel", "n_clicks"),
    Input(f"{P}-delete-confirm", "n_clicks"),
    prevent_initial_call=True,
)
def ask_delete(click, _cancel, _confirm):
    if ctx.triggered_id != GRID:
        return False, no_update, no_update
    if not isinstance(click, dict) or click.get("colId") != "delete":
        raise dash.exceptions.PreventUpdate
    viewer = require_viewer()
    label = svc.budget_label(db.session, viewer.user_id, click.get("rowId"))
    if label is None:
        raise dash.exceptions.PreventUpdate
    name, amount = label
    body = [html.P(["Delete the ", html.B(name), f" budget of {format_money(amount, viewer.currency)}?"]),
            html.P("Its spending stays; it then counts against the parent category's budget, or none.",
                   className="text-muted small mb-0")]
    return True, body, str(click.get("rowId"))
