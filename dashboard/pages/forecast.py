"""Forecast: the balance of one account or all of them over the next 3, 6 or 12 months, as a band, with
up to two saved scenarios beside the plain forecast; the date the 10th percentile first goes below a
threshold, and the biggest items behind it. Scenarios are made and edited here.

Callbacks unpack inputs, call dashboard.services.forecast / scenarios (every id re-checked against the
logged-in user) and dashboard.figures.forecast, and return.
"""
from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.components import empty
from dashboard.components.cards import conversion_note, graph_card, page_header
from dashboard.components.forms import form_field
from dashboard.context import current_viewer, require_viewer
from dashboard.figures.forecast import Series, drivers_figure, forecast_figure
from dashboard.formatting import format_date, format_money
from dashboard.services import forecast as svc
from dashboard.services import scenarios as scen
from dashboard.services.accounts import list_accounts
from dashboard.services.categories import category_frame
from dashboard.services.errors import ServiceError
from dashboard.services.onboarding import first_run
from dashboard.services.recurring import rule_label
from dashboard.services.schedules import CADENCES, schedules_frame
from dashboard.services.validation import parse_amount, parse_id
from dashboard.unit_of_work import unit_of_work
from models import db, to_cents

dash.register_page(__name__, path="/forecast", name="Forecast", title="Forecast · Ledgerlens", order=6)

P = "forecast"
ALL_ACCOUNTS = "all"
NONE = "none"


def _account_options(user_id: int) -> list[dict]:
    accounts = list_accounts(db.session, user_id)
    return [{"label": "All accounts", "value": ALL_ACCOUNTS}] + [
        {"label": r.name, "value": str(int(r.id))} for r in accounts.itertuples() if not r.archived]


def _scenario_options(user_id: int) -> list[dict]:
    frame = scen.scenarios_frame(db.session, user_id)
    return [{"label": "None", "value": NONE}] + [{"label": r.name, "value": str(int(r.id))}
                                                 for r in frame.itertuples()]


def _controls(user_id: int, query: dict) -> dbc.Card:
    scenarios = _scenario_options(user_id)
    return dbc.Card(dbc.CardBody(dbc.Row([
        dbc.Col([dbc.Label("Account", html_for=f"{P}-account"),
                 dbc.Select(id=f"{P}-account", options=_account_options(user_id),
                            value=str(query.get("account", ALL_ACCOUNTS)))], md=3),
        dbc.Col([dbc.Label("Months ahead"),
                 dbc.RadioItems(id=f"{P}-months", inline=True,
                                value=int(query["months"]) if str(query.get("months")) in ("3", "6", "12") else 6,
                                options=[{"label": str(m), "value": m} for m in svc.HORIZONS])], md=2),
        dbc.Col([dbc.Label("Warn below", html_for=f"{P}-threshold"),
                 dbc.Input(id=f"{P}-threshold", inputmode="decimal", debounce=True,
                           value=str(query.get("threshold", "0"))[:20]),
                 html.Div(id=f"{P}-threshold-feedback", className="invalid-feedback d-block")], md=2),
        dbc.Col([dbc.Label("Scenario", html_for=f"{P}-scenario-a"),
                 dbc.Select(id=f"{P}-scenario-a", options=scenarios, value=query.get("a", NONE))], md=2),
        dbc.Col([dbc.Label("Beside it", html_for=f"{P}-scenario-b"),
                 dbc.Select(id=f"{P}-scenario-b", options=scenarios, value=query.get("b", NONE))], md=3),
    ], className="g-3")), className="shadow-sm mb-3")


def _editor(user_id: int) -> dbc.Card:
    schedules = schedules_frame(db.session, user_id)
    cats = category_frame(db.session, user_id)
    schedule_options = [{"label": r.name, "value": str(int(r.id))} for r in schedules.itertuples()]
    category_options = [{"label": r.full_name, "value": str(int(r.id))} for r in cats.itertuples()
                        if r.kind == "expense"]

    def field(label, control, name, help_text=None):
        return form_field(label, control, f"{P}-item-{name}", help_text)

    return dbc.Card(dbc.CardBody([
        html.H5("Scenarios", className="card-title"),
        html.P("A scenario is a list of what-ifs: a one-off or recurring amount, a schedule stopped or changed, "
               "a category's spending set to a budget. Pick two above to see them side by side.",
               className="text-muted small"),
        html.Div(id=f"{P}-editor-message"),
        dbc.Row([
            dbc.Col([dbc.Label("Edit scenario", html_for=f"{P}-edit-scenario"),
                     dbc.Select(id=f"{P}-edit-scenario", options=_scenario_options(user_id)[1:],
                                placeholder="Pick a scenario")], md=4),
            dbc.Col([dbc.Label("Or a new one", html_for=f"{P}-new-name"),
                     dbc.InputGroup([dbc.Input(id=f"{P}-new-name", maxlength=100, placeholder="Move to a bigger flat"),
                                     dbc.Button("Create", id=f"{P}-new-save", color="primary", n_clicks=0)])], md=5),
            dbc.Col(dbc.Button("Delete scenario", id=f"{P}-delete-save", color="danger", outline=True, n_clicks=0,
                               className="mt-4"), md=3, className="text-md-end"),
        ], className="g-3 mb-3"),
        html.Div(id=f"{P}-items", className="mb-3"),
        dbc.Row([
            dbc.Col(field("What if", dbc.Select(id=f"{P}-item-type", value="one_off",
                                                options=[{"label": v, "value": k} for k, v in scen.ITEM_TYPES.items()]),
                          "type"), md=3),
            dbc.Col(field("Label", dbc.Input(id=f"{P}-item-label", maxlength=100, placeholder="New laptop"), "label"),
                    md=3),
            dbc.Col(field("Amount", dbc.Input(id=f"{P}-item-amount", inputmode="decimal", placeholder="-1,200.00"),
                          "amount", "Negative when money goes out; a budget is what you spend."), md=3),
            dbc.Col(field("Date (from)", dbc.Input(id=f"{P}-item-date", type="date"), "date"), md=3),
        ]),
        dbc.Row([
            dbc.Col(field("Repeats", dbc.Select(id=f"{P}-item-cadence", value="monthly",
                                                options=[{"label": v, "value": k} for k, v in CADENCES.items()]),
                          "cadence"), md=3),
            dbc.Col(field("Schedule", dbc.Select(id=f"{P}-item-schedule", options=schedule_options,
                                                 placeholder="Pick a schedule"), "schedule"), md=3),
            dbc.Col(field("Category", dbc.Select(id=f"{P}-item-category", options=category_options,
                                                 placeholder="Pick a category"), "category"), md=3),
            dbc.Col(dbc.Button("Add to scenario", id=f"{P}-item-save", color="primary", n_clicks=0, className="mt-4"),
                    md=3),
        ]),
    ]), className="shadow-sm mb-3")


def layout(**query):
    viewer = current_viewer()
    if viewer is None:
        return html.Div(page_header("Forecast"))
    start = first_run(db.session, viewer.user_id)
    if not start.done:
        return html.Div([page_header("Forecast"), empty.needs_data(
            "Nothing to forecast yet",
            "A forecast starts from your accounts' balances, your schedules and the spending in your history.",
            start.step, id=f"{P}-empty")])
    return html.Div([
        dcc.Store(id=f"{P}-refresh", data=0),
        page_header("Forecast", "Where your balance is heading: scheduled items exactly, everyday spending as a "
                                "band from the last 12 months."),
        _controls(viewer.user_id, query),
        html.Div(id=f"{P}-summary", className="mb-2"),
        dbc.Row([dbc.Col(graph_card(f"{P}-chart", height=420), lg=8),
                 dbc.Col(graph_card(f"{P}-drivers", height=300), lg=4)], className="g-3 mb-3"),
        _editor(viewer.user_id),
    ])


# -- the forecast ------------------------------------------------------------------------------------

def _plain(value) -> bool:
    """A form field's value as a browser sends it: text, a number, or nothing (never a list, a dict or a
    boolean)."""
    return value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))


def _scenario_id(value):
    if value in (None, "", NONE):
        return None
    return parse_id(value, field="scenario")


def describe(item: dict, names: dict[int, str], currency: str) -> str:
    """One line for people: "New laptop: -$1,200.00 on Mar 1, 2027" (a checked scenario item)."""
    kind = item.get("type")

    def money(key: str) -> str:
        return format_money(to_cents(item[key]), currency, cents=True)

    def day(key: str) -> str:
        return format_date(date.fromisoformat(item[key]))

    since = f" from {day('from')}" if item.get("from") else ""
    if kind == "one_off":
        return f"{item.get('label')}: {money('amount')} on {day('date')}"
    if kind == "recurring":
        end = f" until {day('until')}" if item.get("until") else ""
        return f"{item.get('label')}: {money('amount')} {rule_label(item['rrule']).lower()} from {day('start')}{end}"
    if kind == "remove_schedule":
        return f"Stop “{names.get(item.get('schedule_id'), 'a schedule')}”{since}"
    if kind == "change_schedule":
        return f"“{names.get(item.get('schedule_id'), 'a schedule')}” becomes {money('amount')}{since}"
    if kind == "budget":
        return f"Spend {money('amount')} a month on “{names.get(item.get('category_id'), 'a category')}”"
    return str(kind)


def summary_children(result: svc.Forecast, currency: str, name: str):
    threshold = format_money(result.threshold_cents, currency, cents=True)
    end = result.days[-1]
    text = [html.Strong(name + ": ")]
    if result.breach is not None:
        text += [html.Span(f"in a bad month your balance could go below {threshold} on ", className="text-danger"),
                 html.Strong(format_date(result.breach), className="text-danger"), "."]
    else:
        text += [f"even in a bad month (10th percentile) the balance stays above {threshold} until {format_date(end)}."]
    text += [f" Median on {format_date(end)}: {format_money(int(result.p50[-1]), currency, cents=True)} "
             f"(80 % band {format_money(int(result.p10[-1]), currency, cents=True)} – "
             f"{format_money(int(result.p90[-1]), currency, cents=True)}); "
             f"{len(result.items)} scheduled items, spending estimated from {result.history_months} months."]
    return html.P(text, className="mb-1")


@callback(
    Output(f"{P}-chart", "figure"),
    Output(f"{P}-drivers", "figure"),
    Output(f"{P}-summary", "children"),
    Output(f"{P}-threshold-feedback", "children"),
    Input(f"{P}-account", "value"),
    Input(f"{P}-months", "value"),
    Input(f"{P}-threshold", "value"),
    Input(f"{P}-scenario-a", "value"),
    Input(f"{P}-scenario-b", "value"),
    Input(f"{P}-refresh", "data"),
)
def update_forecast(account, months, threshold, scenario_a, scenario_b, _refresh):
    viewer = require_viewer()
    today = date.today()
    feedback = ""
    try:
        threshold_cents = to_cents(parse_amount(threshold or "0", field="threshold", allow_negative=True))
    except ServiceError as exc:
        threshold_cents, feedback = 0, exc.message
    months = months if months in svc.HORIZONS else 6
    try:
        account_id = None if account in (None, "", ALL_ACCOUNTS) else parse_id(account, field="account")
        wanted = [(None, "Forecast")]
        for value in (scenario_a, scenario_b):
            sid = _scenario_id(value)
            if sid is not None and sid not in [w[0] for w in wanted]:
                wanted.append((sid, scen.get_scenario(db.session, viewer.user_id, sid).name))
        results = [(name, svc.forecast_cached(db.session, viewer.user_id, today, months, account_id, threshold_cents,
                                              sid)) for sid, name in wanted]
    except ServiceError as exc:
        from dashboard.figures.theme import empty_figure
        return (empty_figure(exc.message, title="Cash-flow forecast"), empty_figure("", height=260),
                dbc.Alert(exc.message, color="warning", className="py-2"), feedback)
    series = [Series(name, r.frame(), r.breach) for name, r in results]
    # One account: its currency; every account: the base currency (other currencies converted)
    currency = results[0][1].currency or viewer.currency
    chart = forecast_figure(series, currency, threshold_cents=threshold_cents,
                            title=f"Balance forecast, next {months} months")
    # The biggest items of the first forecast that breaks the threshold, else of the first scenario.
    shown_name, shown = next(((n, r) for n, r in results if r.breach is not None), results[min(1, len(results) - 1)])
    until = shown.breach or shown.days[-1]
    drivers = drivers_figure(shown.drivers, currency, until_label=f"{format_date(until)}"
                             + (f" ({shown_name})" if len(results) > 1 else ""))
    summary = [summary_children(r, currency, name) for name, r in results]
    note = conversion_note(results[0][1].conversion, id=f"{P}-conversion", what="Balances and flows")
    if note is not None:
        summary.append(note)
    return chart, drivers, summary, feedback


# -- scenarios ---------------------------------------------------------------------------------------

@callback(
    Output(f"{P}-items", "children"),
    Output(f"{P}-edit-scenario", "options"),
    Output(f"{P}-scenario-a", "options"),
    Output(f"{P}-scenario-b", "options"),
    Input(f"{P}-edit-scenario", "value"),
    Input(f"{P}-refresh", "data"),
)
def show_scenario(scenario, _refresh):
    viewer = require_viewer()
    options = _scenario_options(viewer.user_id)
    items = html.P("Pick or create a scenario to add what-ifs to it.", className="text-muted small mb-0")
    try:
        sid = _scenario_id(scenario)
        if sid is not None:
            _name, checked = scen.scenario_items(db.session, viewer.user_id, sid)
            names = {int(r.id): r.name for r in schedules_frame(db.session, viewer.user_id).itertuples()}
            cats = category_frame(db.session, viewer.user_id)
            names.update({int(i): n for i, n in zip(cats["id"], cats["full_name"])})
            if checked:
                items = html.Ul([html.Li([describe(item, names, viewer.currency), " ",
                                          dbc.Button("Remove", id={"type": f"{P}-item-remove", "index": i}, size="sm",
                                                     color="link", n_clicks=0, className="p-0 ms-2")])
                                 for i, item in enumerate(checked)], className="mb-0", id=f"{P}-items-list")
            else:
                items = html.P("No items yet: add one below.", className="text-muted small mb-0")
    except ServiceError as exc:
        items = dbc.Alert(exc.message, color="warning", className="py-2")
    return items, options[1:], options, options


def _alert(message: str, color: str = "success"):
    return dbc.Alert(message, color=color, dismissable=True, duration=6000, className="py-2")


@callback(
    Output(f"{P}-editor-message", "children"),
    Output(f"{P}-refresh", "data"),
    Output(f"{P}-edit-scenario", "value"),
    Input(f"{P}-new-save", "n_clicks"),
    Input(f"{P}-item-save", "n_clicks"),
    Input(f"{P}-delete-save", "n_clicks"),
    Input({"type": f"{P}-item-remove", "index": ALL}, "n_clicks"),
    State(f"{P}-new-name", "value"),
    State(f"{P}-edit-scenario", "value"),
    State(f"{P}-item-type", "value"),
    State(f"{P}-item-label", "value"),
    State(f"{P}-item-amount", "value"),
    State(f"{P}-item-date", "value"),
    State(f"{P}-item-cadence", "value"),
    State(f"{P}-item-schedule", "value"),
    State(f"{P}-item-category", "value"),
    State(f"{P}-refresh", "data"),
    prevent_initial_call=True,
)
def write_scenario(_new, _add, _delete, _remove, name, scenario, kind, label, amount, day, cadence, schedule,
                   category, refresh):
    if not (ctx.triggered and ctx.triggered[0].get("value")):
        return no_update, no_update, no_update
    viewer = require_viewer()
    if not all(_plain(v) for v in (name, scenario, kind, label, amount, day, cadence, schedule, category)):
        # Every field is text, a number or empty: anything else is a forged request, refused whole.
        return _alert("That request was not understood: nothing was changed.", "warning"), no_update, no_update
    trigger = ctx.triggered_id
    bump = (refresh + 1) if isinstance(refresh, int) and not isinstance(refresh, bool) else 1

    def work():
        if trigger == f"{P}-new-save":
            created = scen.create_scenario(db.session, viewer.user_id, name=name)
            return _alert(f"Created “{created.name}”. Add what-ifs to it below."), bump, str(created.id)
        sid = _scenario_id(scenario)
        if sid is None:
            raise ServiceError("Pick a scenario first.", "scenario")
        if trigger == f"{P}-delete-save":
            scen.delete_scenario(db.session, viewer.user_id, sid)
            return _alert("Scenario deleted."), bump, None
        if isinstance(trigger, dict):
            scen.remove_item(db.session, viewer.user_id, sid, trigger.get("index"))
            return _alert("Item removed."), bump, no_update
        item = {"type": kind, "label": label, "amount": amount}
        if kind == "one_off":
            item["date"] = day
        elif kind == "recurring":
            item.update(start=day, cadence=cadence)
        elif kind in ("remove_schedule", "change_schedule"):
            item.update(schedule_id=schedule, **({"from": day} if day else {}))
        elif kind == "budget":
            item.update(category_id=category)
        scen.add_item(db.session, viewer.user_id, sid, item)
        return _alert("Added."), bump, no_update

    done = unit_of_work(work)
    if not done.ok:
        return _alert(done.message, "danger"), no_update, no_update
    return done.value
