"""Recurring: payments found in the history (confirm, edit, dismiss), the user's schedules (add, pause,
skip the next one, delete) and what subscriptions and bills cost a month and a year, with price changes.

Callbacks unpack inputs, call dashboard.services.recurring / schedules (which check every id and key
against the logged-in user), and return. Writes commit here; a refused one rolls back and says why.
"""
from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.components import empty
from dashboard.components.cards import page_header
from dashboard.components.forms import form_field
from dashboard.context import current_viewer, require_viewer
from dashboard.formatting import format_date, format_money, format_month, format_percent
from dashboard.services import recurring as rec
from dashboard.services import schedules as sched
from dashboard.services.accounts import list_accounts
from dashboard.services.categories import category_frame
from dashboard.services.errors import ServiceError
from dashboard.services.onboarding import first_run
from dashboard.unit_of_work import unit_of_work
from models import db, from_cents

dash.register_page(__name__, path="/recurring", name="Recurring", title="Recurring · Ledgerlens", order=5)

P = "recurring"
FORM = ("name", "payee", "kind", "amount", "account", "category", "cadence", "rrule", "start", "until", "tags")


def _options(user_id: int) -> tuple[list[dict], list[dict]]:
    accounts = list_accounts(db.session, user_id)
    # Values are text, as an HTML select's are (dbc.Select's option value is a string): the form is filled
    # with text ids too, so that the select always finds the option it is given.
    account_options = [{"label": r.name, "value": str(int(r.id))} for r in accounts.itertuples() if not r.archived]
    cats = category_frame(db.session, user_id)
    category_options = [{"label": f"{r.full_name} ({r.kind})", "value": str(int(r.id))} for r in cats.itertuples()]
    return account_options, category_options


def _form(account_options, category_options) -> dbc.Card:
    def field(label, control, name, help_text=None):
        return form_field(label, control, f"{P}-form-{name}", help_text, label_for=name != "kind")

    return dbc.Card(dbc.CardBody([
        html.H5("Add a schedule", className="card-title", id=f"{P}-form-title"),
        html.Div(id=f"{P}-form-message"),
        dbc.Row([
            dbc.Col(field("Name", dbc.Input(id=f"{P}-form-name", maxlength=100, placeholder="Rent"), "name"), md=4),
            dbc.Col(field("Payee (to match payments)", dbc.Input(id=f"{P}-form-payee", maxlength=200,
                                                                 placeholder="Maple Court Apartments"), "payee"), md=4),
            dbc.Col(field("Kind", dbc.RadioItems(id=f"{P}-form-kind", value="expense", inline=True,
                                                 options=[{"label": "Bill", "value": "expense"},
                                                          {"label": "Income", "value": "income"}]), "kind"), md=4),
        ]),
        dbc.Row([
            dbc.Col(field("Amount", dbc.Input(id=f"{P}-form-amount", inputmode="decimal", placeholder="1,850.00"),
                          "amount"), md=3),
            dbc.Col(field("Account", dbc.Select(id=f"{P}-form-account", options=account_options,
                                                value=account_options[0]["value"] if account_options else None),
                          "account"), md=3),
            dbc.Col(field("Category", dbc.Select(id=f"{P}-form-category",
                                                 options=[{"label": "None", "value": ""}, *category_options],
                                                 value=""), "category"), md=3),
            dbc.Col(field("Repeats", dbc.Select(id=f"{P}-form-cadence", value="monthly",
                                                options=[{"label": v, "value": k} for k, v in sched.CADENCES.items()]),
                          "cadence"), md=3),
        ]),
        dbc.Row([
            dbc.Col(field("First date", dbc.Input(id=f"{P}-form-start", type="date", value=date.today().isoformat()),
                          "start"), md=3),
            dbc.Col(field("Last date (optional)", dbc.Input(id=f"{P}-form-until", type="date"), "until"), md=3),
            dbc.Col(field("Or a recurrence rule (optional)",
                          dbc.Input(id=f"{P}-form-rrule", maxlength=500, placeholder="FREQ=MONTHLY;BYMONTHDAY=1"),
                          "rrule", "RFC 5545 RRULE without DTSTART/UNTIL/COUNT; it wins over “Repeats”."), md=6),
        ]),
        dbc.Row([
            dbc.Col(field("Tags (optional)", dbc.Input(id=f"{P}-form-tags", maxlength=500, placeholder="home, bills"),
                          "tags", "Names separated by commas; new ones are created."), md=6),
        ]),
        dbc.Button("Save schedule", id=f"{P}-form-save", color="primary", n_clicks=0, className="me-2"),
        dbc.Button("Clear", id=f"{P}-form-clear", color="secondary", outline=True, n_clicks=0),
    ]), className="shadow-sm mb-3")


def layout(**_query):
    viewer = current_viewer()
    if viewer is None:
        return html.Div(page_header("Recurring"))
    start = first_run(db.session, viewer.user_id)
    if not start.done:
        return html.Div([page_header("Recurring"), empty.needs_data(
            "Nothing repeats yet", "Bills, income and subscriptions that repeat are found in your transactions.",
            start.step, id=f"{P}-empty")])
    account_options, category_options = _options(viewer.user_id)
    return html.Div([
        dcc.Store(id=f"{P}-refresh", data=0),
        dcc.Store(id=f"{P}-form-suggestion", data=None),
        dcc.Store(id=f"{P}-form-schedule", data=None),
        page_header("Recurring", "Bills, income and subscriptions that repeat: found in your history or "
                                 "scheduled by you."),
        html.Div(id=f"{P}-message"),
        dbc.Card(dbc.CardBody([
            html.H5("Found in your history", className="card-title"),
            html.P("Confirm one to make it a schedule; dismissed ones never come back.",
                   className="text-muted small"),
            dcc.Loading(html.Div(id=f"{P}-suggestions"), type="dot", color="#3459e6"),
        ]), className="shadow-sm mb-3"),
        dbc.Card(dbc.CardBody([
            html.H5("Your schedules", className="card-title"),
            dcc.Loading(html.Div(id=f"{P}-schedules"), type="dot", color="#3459e6"),
        ]), className="shadow-sm mb-3"),
        _form(account_options, category_options),
        dbc.Card(dbc.CardBody([
            html.H5("Subscriptions and bills", className="card-title"),
            dcc.Loading(html.Div(id=f"{P}-subscriptions"), type="dot", color="#3459e6"),
        ]), className="shadow-sm mb-3"),
    ])


# -- rendering ---------------------------------------------------------------------------------------

# The tables stack into blocks on a phone (assets/recurring.css): each cell says where it goes.
STACK = f"{P}-stack"


def _cell(area: str, classes: str = "") -> str:
    return f"{P}-cell-{area} {classes}".strip()


def _button(label: str, kind: str, index, color: str = "secondary") -> dbc.Button:
    return dbc.Button(label, id={"type": f"{P}-{kind}", "index": index}, size="sm", color=color, outline=True,
                      n_clicks=0, className="me-1")


def suggestions_table(frame, currency: str):
    frame = frame[frame["status"] == "suggested"] if not frame.empty else frame
    if frame.empty:
        return html.P("Nothing new found: every regular payment is scheduled or dismissed.",
                      className="text-muted mb-0")
    rows = []
    for r in frame.itertuples():
        rows.append(html.Tr([
            html.Td([html.Div(r.payee, className="fw-semibold"),
                     html.Small(f"{r.count} payments, last {format_date(r.last_date)}", className="text-muted")],
                    className=_cell("main")),
            html.Td(r.cadence_label, className=_cell("repeats")),
            html.Td(format_money(r.amount_cents, currency, cents=True, signed=r.amount_cents > 0),
                    className=_cell("amount", "text-end money")),
            html.Td(f"{format_date(r.next_date)}", className=_cell("next"), **{"data-label": "Next"}),
            html.Td(f"{format_percent(r.confidence, digits=0)}", className=_cell("extra", "text-end"),
                    **{"data-label": "Confidence"}),
            html.Td([_button("Confirm", "confirm", r.key, "primary"), _button("Edit", "edit", r.key),
                     _button("Dismiss", "dismiss", r.key, "danger")], className=_cell("actions", "text-nowrap")),
        ]))
    head = html.Thead(html.Tr([html.Th("Payee"), html.Th("Repeats"), html.Th("Amount", className="text-end"),
                               html.Th("Next"), html.Th("Confidence", className="text-end"), html.Th("")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True,
                     className=f"mb-0 {STACK}", id=f"{P}-suggestions-table")


def schedules_table(frame, nexts: dict, currency: str, tags: dict | None = None):
    if frame.empty:
        return html.P("No schedules yet. Confirm a suggestion above or add one below.", className="text-muted mb-0")
    rows = []
    for r in frame.itertuples():
        upcoming = nexts.get(int(r.id))
        rows.append(html.Tr([
            html.Td([html.Div(r.name, className="fw-semibold"), html.Small(r.account, className="text-muted"),
                     *[dbc.Badge(t, color="light", text_color="dark", className="ms-1 border")
                       for t in (tags or {}).get(int(r.id), [])]], className=_cell("main")),
            html.Td(rec.rule_label(r.rrule), className=_cell("repeats")),
            html.Td(format_money(r.amount_cents, currency, cents=True, signed=r.amount_cents > 0),
                    className=_cell("amount", "text-end money")),
            html.Td("paused" if r.paused else (f"{format_date(upcoming)}" if upcoming else "ended"),
                    className=_cell("next"), **({} if r.paused or not upcoming else {"data-label": "Next"})),
            html.Td([_button("Edit", "schedule-edit", int(r.id)),
                     _button("Resume" if r.paused else "Pause", "pause", int(r.id)),
                     _button("Skip next", "skip", int(r.id)),
                     _button("Delete", "delete", int(r.id), "danger")], className=_cell("actions", "text-nowrap")),
        ]))
    head = html.Thead(html.Tr([html.Th("Schedule"), html.Th("Repeats"), html.Th("Amount", className="text-end"),
                               html.Th("Next"), html.Th("")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True,
                     className=f"mb-0 {STACK}", id=f"{P}-schedules-table")


def price_change_text(changes, currency: str) -> str:
    """"15.49 → 17.99 since March 2026" (the latest change)."""
    if not changes:
        return ""
    since, old, new = changes[-1]
    return (f"{format_money(abs(old), currency, cents=True)} → {format_money(abs(new), currency, cents=True)} "
            f"since {format_month(since, long=True)}")


def subscriptions_table(frame, currency: str):
    if frame.empty:
        return html.P("No recurring expenses yet.", className="text-muted mb-0")
    # On a phone: the name with the amount per month beside it, then the cadence and the amount per year,
    # then a price change (the amount per payment is left out there: it is the cadence's share).
    rows = [html.Tr([
        html.Td([html.Div(r.name, className="fw-semibold"),
                 html.Small("scheduled" if r.source == "schedule" else "found in history", className="text-muted")],
                className=_cell("main")),
        html.Td(r.cadence, className=_cell("repeats")),
        html.Td(format_money(r.amount_cents, currency, cents=True), className="text-end money d-none d-sm-table-cell"),
        html.Td(format_money(r.monthly_cents, currency, cents=True), className=_cell("amount", "text-end money"),
                **{"data-label": "Per month"}),
        html.Td(format_money(r.yearly_cents, currency, cents=True), className=_cell("next", "text-end money"),
                **{"data-label": "Per year"}),
        html.Td(price_change_text(r.price_changes, currency), className=_cell("extra", "text-danger small")),
    ]) for r in frame.itertuples()]
    rows.append(html.Tr([html.Td("Total", className=_cell("main", "fw-bold")), html.Td(""),
                         html.Td("", className="d-none d-sm-table-cell"),
                         html.Td(format_money(int(frame["monthly_cents"].sum()), currency, cents=True),
                                 className=_cell("amount", "text-end fw-bold money"), id=f"{P}-per-month",
                                 **{"data-label": "Per month"}),
                         html.Td(format_money(int(frame["yearly_cents"].sum()), currency, cents=True),
                                 className=_cell("next", "text-end fw-bold money"), id=f"{P}-per-year",
                                 **{"data-label": "Per year"}),
                         html.Td("")], className="table-light"))
    head = html.Thead(html.Tr([html.Th("Name"), html.Th("Repeats"), html.Th("Amount", className="text-end"),
                               html.Th("Per month", className="text-end"), html.Th("Per year", className="text-end"),
                               html.Th("Price change")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True,
                     className=f"mb-0 {STACK}", id=f"{P}-subscriptions-table")


@callback(
    Output(f"{P}-suggestions", "children"),
    Output(f"{P}-schedules", "children"),
    Output(f"{P}-subscriptions", "children"),
    Input(f"{P}-refresh", "data"),
)
def render(_refresh):
    viewer = require_viewer()
    today = date.today()
    # Payments that arrived since the last look pay their occurrences (stored, so never counted twice).
    try:
        if sched.link_payments(db.session, viewer.user_id, today):
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    suggestions = rec.recurring_frame(db.session, viewer.user_id, today)
    frame = sched.schedules_frame(db.session, viewer.user_id)
    nexts = {int(r.id): sched.next_expected(db.session, viewer.user_id, int(r.id), today) for r in frame.itertuples()}
    subs = rec.subscriptions(db.session, viewer.user_id, today)
    tags = sched.tags_by_schedule(db.session, viewer.user_id)
    return (suggestions_table(suggestions, viewer.currency), schedules_table(frame, nexts, viewer.currency, tags),
            subscriptions_table(subs, viewer.currency))


# -- writes -------------------------------------------------------------------------------------------

def _alert(message: str, color: str = "success"):
    return dbc.Alert(message, color=color, dismissable=True, duration=6000, className="py-2")


def _clicked() -> bool:
    """Was the trigger a real click (not a button appearing with n_clicks 0)?"""
    return bool(ctx.triggered and ctx.triggered[0].get("value"))


@callback(
    Output(f"{P}-message", "children"),
    Output(f"{P}-refresh", "data"),
    Output(f"{P}-form-message", "children"),
    Output(f"{P}-form-suggestion", "data", allow_duplicate=True),
    Output(f"{P}-form-schedule", "data", allow_duplicate=True),
    Input({"type": f"{P}-confirm", "index": ALL}, "n_clicks"),
    Input({"type": f"{P}-dismiss", "index": ALL}, "n_clicks"),
    Input({"type": f"{P}-pause", "index": ALL}, "n_clicks"),
    Input({"type": f"{P}-skip", "index": ALL}, "n_clicks"),
    Input({"type": f"{P}-delete", "index": ALL}, "n_clicks"),
    Input(f"{P}-form-save", "n_clicks"),
    State(f"{P}-form-suggestion", "data"),
    State(f"{P}-form-schedule", "data"),
    *[State(f"{P}-form-{name}", "value") for name in FORM],
    State(f"{P}-refresh", "data"),
    prevent_initial_call=True,
)
def act(_confirm, _dismiss, _pause, _skip, _delete, _save, suggestion, editing, name, payee, kind, amount, account,
        category, cadence, rrule, start, until, tags, refresh):
    if not _clicked():
        return (no_update,) * 5
    viewer = require_viewer()
    today = date.today()
    trigger = ctx.triggered_id
    bump = (refresh or 0) + 1 if isinstance(refresh, int) else 1

    def work():
        if trigger == f"{P}-form-save":
            fields = dict(name=name, payee=payee or "", kind=kind, amount=amount, account_id=account,
                          category_id=category or None, start_date=start, until=until or None, tags=tags or "")
            fields.update(rrule=rrule) if rrule else fields.update(cadence=cadence)
            if isinstance(editing, dict) and editing.get("id") is not None:
                schedule = sched.update_schedule(db.session, viewer.user_id, editing.get("id"),
                                                 expected_version=editing.get("version"), **fields)
            elif isinstance(suggestion, str) and suggestion:
                changes = {k: v for k, v in fields.items() if k in ("name", "amount", "account_id", "category_id",
                                                                    "rrule", "cadence", "tags")}
                schedule = rec.confirm(db.session, viewer.user_id, suggestion, today, **changes)
            else:
                schedule = sched.create_schedule(db.session, viewer.user_id, **fields)
            return _alert(f"Saved “{schedule.name}”."), bump, None, None, None
        kind_of = trigger.get("type", "").removeprefix(f"{P}-") if isinstance(trigger, dict) else ""
        index = trigger.get("index") if isinstance(trigger, dict) else None
        if kind_of == "confirm":
            schedule = rec.confirm(db.session, viewer.user_id, index, today)
            message = f"“{schedule.name}” is now a schedule."
        elif kind_of == "dismiss":
            rec.dismiss(db.session, viewer.user_id, index, today)
            message = "Dismissed: it will not be suggested again."
        elif kind_of == "pause":
            schedule = sched.get_schedule(db.session, viewer.user_id, index)
            sched.set_paused(db.session, viewer.user_id, schedule.id, not schedule.paused)
            message = f"“{schedule.name}” {'paused' if schedule.paused else 'resumed'}."
        elif kind_of == "skip":
            skipped = sched.skip_next(db.session, viewer.user_id, index, today)
            message = f"Skipped the one on {format_date(skipped.occurs_on)}."
        elif kind_of == "delete":
            sched.delete_schedule(db.session, viewer.user_id, index)
            message = "Schedule deleted."
        else:
            return (no_update,) * 5
        return _alert(message), bump, no_update, no_update, no_update

    done = unit_of_work(work)
    if not done.ok:
        if trigger == f"{P}-form-save":
            return no_update, no_update, _alert(done.message, "danger"), no_update, no_update
        return _alert(done.message, "danger"), bump, no_update, no_update, no_update
    return done.value


@callback(
    Output(f"{P}-form-suggestion", "data"),
    Output(f"{P}-form-schedule", "data"),
    Output(f"{P}-form-title", "children"),
    *[Output(f"{P}-form-{name}", "value") for name in FORM],
    Input({"type": f"{P}-edit", "index": ALL}, "n_clicks"),
    Input({"type": f"{P}-schedule-edit", "index": ALL}, "n_clicks"),
    Input(f"{P}-form-clear", "n_clicks"),
    prevent_initial_call=True,
)
def fill_form(_edit_suggestion, _edit_schedule, _clear):
    """Fill the form from a suggestion (saving it then confirms the suggestion with the edits) or from
    one of the user's schedules (saving it then changes that schedule, if nobody changed it meanwhile);
    Clear empties it for a new schedule."""
    if not _clicked():
        return (no_update,) * (3 + len(FORM))
    viewer = require_viewer()
    trigger = ctx.triggered_id
    blank = (None, None, "Add a schedule", "", "", "expense", "", no_update, "", "monthly", "",
             date.today().isoformat(), None, "")
    if not isinstance(trigger, dict):
        return blank
    index = trigger.get("index")
    if trigger.get("type") == f"{P}-schedule-edit":
        try:
            schedule = sched.get_schedule(db.session, viewer.user_id, index)
        except ServiceError:
            return blank
        tags = sched.tags_by_schedule(db.session, viewer.user_id).get(schedule.id, [])
        return (None, {"id": schedule.id, "version": schedule.version}, f"Edit “{schedule.name}”", schedule.name,
                schedule.payee, schedule.kind, str(abs(schedule.amount)), str(schedule.account_id),
                "" if schedule.category_id is None else str(schedule.category_id), "monthly", schedule.rrule,
                schedule.start_date.isoformat(), schedule.until.isoformat() if schedule.until else None,
                ", ".join(tags))
    frame = rec.recurring_frame(db.session, viewer.user_id, date.today())
    match = frame[frame["key"] == index] if isinstance(index, str) and not frame.empty else frame.iloc[0:0]
    if match.empty:
        return blank
    r = match.iloc[0]
    amount = str(from_cents(abs(int(r["amount_cents"]))))
    return (r["key"], None, f"Confirm “{r['payee']}” as a schedule", r["payee"][:100], r["payee"],
            "income" if r["sign"] > 0 else "expense", amount, str(int(r["account_id"])),
            "" if r["category_id"] is None or r["category_id"] != r["category_id"] else str(int(r["category_id"])),
            "monthly", r["rrule"], r["start"].isoformat(), None, "")
