"""Goals: a card per goal (progress gauge, projection, history), a grid to edit targets inline, and
forms to create, edit and delete goals and to record contributions or withdrawals.

Callbacks unpack inputs, call dashboard.services.goals (which checks every id against the logged-in
user) and dashboard.figures.goals, and return. Writes commit here; a refused write rolls back and
shows its message next to the field it is about.
"""
from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.components import empty as empty_texts
from dashboard.components.cards import page_header, stat_card
from dashboard.components.forms import form_field
from dashboard.components.goals import STATUS_BOOTSTRAP, short_date, status_badge
from dashboard.components.grid import date_column, ledger_grid, money_column, text_column
from dashboard.context import require_viewer
from dashboard.figures.goals import gauge_figure, history_figure, progress_word
from dashboard.formatting import currency_symbol, format_money, format_month
from dashboard.services import goals as svc
from dashboard.services.accounts import TYPE_LABELS
from dashboard.services.errors import ServiceError
from dashboard.services.periods import add_months
from dashboard.unit_of_work import grid_edits, problems_alert, unit_of_work
from models import db, to_cents

dash.register_page(__name__, path="/goals", name="Goals", title="Goals · Ledgerlens", order=3)

GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}
FORM_FIELDS = ("name", "kind", "target", "target_date", "account")
CONTRIB_FIELDS = ("amount", "date", "note")
NO_ACCOUNT = "none"


# -- layout ----------------------------------------------------------------------------------------

def _field(label: str, control, field_id: str, help_text: str | None = None) -> html.Div:
    # The kind is a radio group: its label names no single input.
    return form_field(label, control, field_id, help_text, label_for=not field_id.endswith("kind"))


def _form_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("New goal", id="goals-form-title")),
        dbc.ModalBody([
            html.Div(id="goals-form-message"),
            _field("Name", dbc.Input(id="goals-form-name", maxlength=100, placeholder="Emergency fund"),
                   "goals-form-name"),
            _field("Kind", dbc.RadioItems(
                id="goals-form-kind", inline=True, value="savings",
                options=[{"label": "Save toward a target", "value": "savings"},
                         {"label": "Pay off a debt", "value": "debt"}]), "goals-form-kind"),
            dbc.Row([
                dbc.Col(_field("Target amount", dbc.InputGroup([
                    dbc.InputGroupText("$", id="goals-form-currency"),
                    dbc.Input(id="goals-form-target", inputmode="decimal", placeholder="10,000.00"),
                ]), "goals-form-target"), sm=6),
                dbc.Col(_field("Target date", dbc.Input(id="goals-form-date", type="date"),
                               "goals-form-date"), sm=6),
            ]),
            _field("Progress comes from", dcc.Dropdown(id="goals-form-account", value=NO_ACCOUNT, options=[],
                                                                  clearable=False, searchable=False),
                   "goals-form-account",
                   "Record contributions yourself, or follow an account's balance. A debt goal follows a "
                   "credit card or loan down to zero."),
        ]),
        dbc.ModalFooter([
            dbc.Button("Cancel", id="goals-form-cancel", color="secondary", outline=True, n_clicks=0),
            dbc.Button("Save goal", id="goals-form-save", color="primary", n_clicks=0),
        ]),
    ], id="goals-form-modal", is_open=False, centered=True)


def _contribution_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Add money", id="goals-contrib-title")),
        dbc.ModalBody([
            html.Div(id="goals-contrib-message"),
            dbc.RadioItems(id="goals-contrib-direction", inline=True, value="add", class_name="mb-3",
                           options=[{"label": "Add money", "value": "add"},
                                    {"label": "Withdraw", "value": "withdraw"}]),
            dbc.Row([
                dbc.Col(_field("Amount", dbc.InputGroup([
                    dbc.InputGroupText("$", id="goals-contrib-currency"),
                    dbc.Input(id="goals-contrib-amount", inputmode="decimal", placeholder="250.00"),
                ]), "goals-contrib-amount"), sm=6),
                dbc.Col(_field("Date", dbc.Input(id="goals-contrib-date", type="date"), "goals-contrib-date"),
                        sm=6),
            ]),
            _field("Note", dbc.Input(id="goals-contrib-note", maxlength=200, placeholder="optional"),
                   "goals-contrib-note"),
            html.Div(id="goals-contrib-recent"),
        ]),
        dbc.ModalFooter([
            dbc.Button("Cancel", id="goals-contrib-cancel", color="secondary", outline=True, n_clicks=0),
            dbc.Button("Save", id="goals-contrib-save", color="primary", n_clicks=0),
        ]),
    ], id="goals-contrib-modal", is_open=False, centered=True)


def _delete_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Delete goal")),
        dbc.ModalBody(html.Div(id="goals-delete-text")),
        dbc.ModalFooter([
            dbc.Button("Cancel", id="goals-delete-cancel", color="secondary", outline=True, n_clicks=0),
            dbc.Button("Delete", id="goals-delete-confirm", color="danger", n_clicks=0),
        ]),
    ], id="goals-delete-modal", is_open=False, centered=True)


def layout(**_query):
    return html.Div([
        dcc.Store(id="goals-refresh", data=0),
        dcc.Store(id="goals-form-goal", data=None),
        dcc.Store(id="goals-form-errors", data={}),
        dcc.Store(id="goals-contrib-goal", data=None),
        dcc.Store(id="goals-contrib-errors", data={}),
        dcc.Store(id="goals-delete-goal", data=None),
        page_header("Goals", "Save toward something, or pay a debt down to zero",
                    actions=[dbc.Button("New goal", id="goals-new", color="primary", n_clicks=0)]),
        html.Div(id="goals-message"),
        html.Div(id="goals-summary", className="row g-3 mb-3"),
        dcc.Loading(html.Div(id="goals-cards", className="row g-3 mb-4"), type="dot", color="#3459e6",
                    delay_show=300),
        dbc.Card(dbc.CardBody([
            html.H5("All goals", className="card-title"),
            html.P("Double-click a name, target or date to change it; Enter saves.",
                   className="text-muted small mb-2"),
            html.Div(id="goals-grid-message"),
            ledger_grid("goals-grid", [], row_data=[], getRowId="params.data.id", style={}, empty=empty_texts.NO_GOALS,
                        grid_options={"domLayout": "autoHeight", "stopEditingWhenCellsLoseFocus": True,
                                      "singleClickEdit": False}),
        ]), className="shadow-sm"),
        _form_modal(),
        _contribution_modal(),
        _delete_modal(),
    ])


# -- rendering helpers (layout from service rows) ---------------------------------------------------

def _money(cents, currency: str) -> str:
    return format_money(cents, currency, cents=True)


def _stat(label: str, value: str, *, id: str | None = None, tone: str | None = None) -> html.Div:
    return html.Div([
        html.Div(label, className="goal-stat-label"),
        html.Div(value, className="goal-stat-value money" + (f" text-{tone}" if tone else ""),
                 **({"id": id} if id else {})),
    ], className="goal-stat")


def _no_pace_line(goal: dict, today: date) -> str:
    """Why there is no projection, said truthfully: a goal whose money so far all came on its first day
    (a first contribution right after setting it up) has no pace yet; it did not get "no contributions"."""
    debt = goal["kind"] == "debt"
    count = int(goal["contributions"] or 0) if goal["source"] == "contributions" else 0
    start = goal["start_date"]
    young = isinstance(start, date) and start > add_months(today, -3)
    if count and young:
        what = "payment" if debt else "contribution"
        so_far = f"your first {what}" if count == 1 else f"all {count} {what}s so far"
        return (f"{so_far[0].upper()}{so_far[1:]} came on the goal's first day ({short_date(start)}): "
                "a projection shows once there is a pace over later days.")
    source = "no payments" if debt else "no contributions"
    if goal["source"] == "account":
        source = "the balance did not move" if not debt else "the debt did not go down"
    return f"Last 3 months: {source}, so no projection yet."


def _plan_lines(goal: dict, currency: str, today: date) -> list:
    """What it takes and where the recent pace leads, in words."""
    lines = []
    remaining = goal["remaining_cents"]
    target_date = goal["target_date"]
    if goal["status"] == "achieved":
        lines.append(html.Strong("Reached — well done.", className="text-success"))
    elif target_date is not None and target_date < today:
        lines.append(html.Span([html.Strong(_money(remaining, currency)),
                                f" still to go; the target date was {short_date(target_date)}."]))
    elif target_date is not None and (goal["months_left"] or 0) >= 1:
        months = goal["months_left"]
        lines.append(html.Span(["Needs ", html.Strong(_money(goal["monthly_needed_cents"], currency)),
                                f" a month for {months} month{'s' if months != 1 else ''}."]))
    elif target_date is not None:
        lines.append(html.Span(["Needs ", html.Strong(_money(remaining, currency)),
                                " today." if target_date == today else f" by {short_date(target_date)}."]))
    if goal["status"] != "achieved":
        rate = goal["rate_cents"]
        debt = goal["kind"] == "debt"
        if rate is not None and rate > 0 and goal["projected_date"] is not None:
            when = goal["projected_date"]
            late = target_date is not None and when > target_date
            lines.append(html.Span([
                f"At the recent pace ({_money(rate, currency)} a month) it is reached by ",
                html.Strong(f"{format_month(when, long=True)}", className="text-danger" if late else None), "."]))
        elif rate is not None and rate < 0:
            what = "the debt grew by" if debt else "it fell by"
            lines.append(html.Span(f"Over the last 3 months {what} {_money(-rate, currency)} a month: "
                                   "not on course at this pace.", className="text-danger"))
        else:
            lines.append(html.Span(_no_pace_line(goal, today), className="text-muted"))
    return [html.Div(line, className="goal-plan-line") for line in lines]


def goal_card(goal: dict, history, currency: str, today: date) -> dbc.Col:
    gid = int(goal["id"])
    debt = goal["kind"] == "debt"
    follows = (f"Follows {goal['account_name']}" if goal["source"] == "account"
               else f"{goal['contributions'] or 0} contribution{'s' if goal['contributions'] != 1 else ''}")
    stats = [
        _stat(progress_word(goal["kind"]), _money(goal["saved_cents"], currency), id=f"goals-saved-{gid}"),
        _stat("Target", _money(goal["target_cents"], currency)),
        _stat("Remaining", _money(goal["remaining_cents"], currency), id=f"goals-remaining-{gid}"),
        _stat("Target date", short_date(goal["target_date"])),
    ]
    if goal["owed_cents"] is not None:
        stats.append(_stat("Owed now", _money(goal["owed_cents"], currency),
                           tone="danger" if goal["owed_cents"] else "success"))
    if goal["expected_cents"] is not None and goal["status"] != "achieved":
        stats.append(_stat("Plan for today", _money(goal["expected_cents"], currency)))
    actions = []
    if goal["source"] == "contributions":
        actions.append(dbc.Button("Add / withdraw", id={"type": "goals-contribute", "index": gid},
                                  color="primary", size="sm", n_clicks=0))
    actions += [
        dbc.Button("Edit", id={"type": "goals-edit", "index": gid}, color="secondary", outline=True,
                   size="sm", n_clicks=0),
        dbc.Button("Delete", id={"type": "goals-delete", "index": gid}, color="danger", outline=True,
                   size="sm", n_clicks=0),
    ]
    card = dbc.Card([
        dbc.CardHeader(html.Div([
            html.Div([
                html.H5(goal["name"], className="mb-0 goal-name text-truncate"),
                html.Small(f"{'Debt payoff' if debt else 'Savings'} · {follows}", className="text-muted"),
            ], className="min-w-0"),
            status_badge(goal["status"], id=f"goals-status-{gid}"),
        ], className="d-flex justify-content-between align-items-start gap-2")),
        dbc.CardBody([
            dbc.Row([
                dbc.Col(dcc.Graph(id=f"goals-gauge-{gid}", figure=gauge_figure(goal), config=GRAPH_CONFIG,
                                  className="goal-gauge", style={"height": "180px"}), xs=12, sm=6),
                dbc.Col(html.Div(stats, className="goal-stats"), xs=12, sm=6, class_name="align-self-center"),
            ], className="g-2 mb-2"),
            html.Div(_plan_lines(goal, currency, today), className="goal-plan mb-2 small"),
            dcc.Graph(id=f"goals-history-{gid}", figure=history_figure(history, goal, currency, today=today),
                      config=GRAPH_CONFIG, className="goal-history", style={"height": "230px"}),
        ]),
        dbc.CardFooter(html.Div(actions, className="d-flex gap-2 flex-wrap justify-content-end")),
    ], class_name=f"goal-card goal-{goal['status']} shadow-sm h-100")
    return dbc.Col(html.Div(card, id=f"goals-card-{gid}", className="h-100", **{"data-status": goal["status"]}),
                   xs=12, xl=6)


def _summary(goals: list[dict], currency: str) -> list:
    unfinished = [g for g in goals if g["status"] != "achieved"]
    saved = sum(g["saved_cents"] for g in goals if g["kind"] == "savings")
    paid = sum(max(0, g["saved_cents"]) for g in goals if g["kind"] == "debt")
    needed = sum(g["monthly_needed_cents"] or 0 for g in unfinished
                 if g["target_date"] is not None and (g["months_left"] or 0) >= 1)
    fine = sum(1 for g in goals if g["status"] in ("on_track", "achieved"))
    cards = [
        stat_card("Saved toward goals", _money(saved, currency), id="goals-total-saved",
                  detail=f"{_money(paid, currency)} of debt paid off" if paid else None),
        stat_card("Needed each month", _money(needed, currency), id="goals-total-needed",
                  detail="to reach every open goal on time"),
        stat_card("On track", f"{fine} of {len(goals)}", id="goals-on-track",
                  tone="success" if fine == len(goals) else None, detail="goals on track or achieved"),
    ]
    return [dbc.Col(card, xs=6 if i < 2 else 12, md=4) for i, card in enumerate(cards)]


def _grid_columns(currency: str) -> list[dict]:
    # The editable columns first, so that they are in view on a phone too.
    return [
        text_column("name", "Goal", editable=True, minWidth=160, flex=2, cellClass="editable-cell"),
        {"field": "target", "headerName": "Target", "editable": True, "type": "rightAligned",
         "cellClass": "money editable-cell ag-right-aligned-cell", "minWidth": 120, "cellDataType": False,
         "cellEditor": "agTextCellEditor",
         "valueFormatter": {"function": f"formatCents(Math.round(Number(params.value) * 100), '{currency}')"}},
        date_column("target_date", "Target date", editable=True, cellEditor="agDateStringCellEditor",
                    cellDataType="dateString", cellClass="editable-cell", maxWidth=170),
        text_column("status_label", "Status", minWidth=110,
                    cellClassRules={f"goal-cell-{s}": f"params.data.status == '{s}'" for s in STATUS_BOOTSTRAP}),
        money_column("saved_cents", "Saved / paid", currency),
        money_column("monthly_needed_cents", "Needed / month", currency),
        text_column("kind_label", "Kind", minWidth=110),
        text_column("follows", "Progress from", minWidth=140),
    ]


def _grid_rows(goals: list[dict]) -> list[dict]:
    return [{
        "id": str(g["id"]), "version": g["version"], "name": g["name"], "status": g["status"],
        "kind_label": svc.KIND_LABELS.get(g["kind"], g["kind"]),
        "follows": g["account_name"] if g["source"] == "account" else "Contributions",
        "saved_cents": g["saved_cents"], "target": _units(g["target_cents"]),
        "target_date": g["target_date"].isoformat() if g["target_date"] else None,
        "monthly_needed_cents": g["monthly_needed_cents"] if g["status"] != "achieved" else 0,
        "status_label": svc.STATUS_LABELS.get(g["status"], g["status"]),
    } for g in goals]


def _units(cents: int) -> str:
    """Integer cents as an exact plain amount string ("10000.50"), for editing."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def _alert(message: str, color: str = "success") -> dbc.Alert:
    return dbc.Alert(message, color=color, duration=5000 if color == "success" else None,
                     dismissable=True, class_name="py-2")


def _bump(counter) -> int:
    return (counter or 0) + 1


def _clicked() -> bool:
    """Whether the callback was fired by a real click (not by buttons appearing in the layout)."""
    return bool(ctx.triggered and ctx.triggered[0].get("value"))


def _error_dict(exc: ServiceError, fields, default: str) -> dict:
    field = exc.field if exc.field in fields else default
    return {field: exc.message}


# -- callbacks: reading ----------------------------------------------------------------------------

@callback(
    Output("goals-cards", "children"),
    Output("goals-summary", "children"),
    Output("goals-grid", "rowData"),
    Output("goals-grid", "columnDefs"),
    Input("goals-refresh", "data"),
)
def render_goals(_refresh):
    viewer = require_viewer()
    today = date.today()
    goals = svc.goal_records(svc.goals_frame(db.session, viewer.user_id, today))
    if not goals:
        empty = dbc.Col(dbc.Card(dbc.CardBody([
            html.H5("No goals yet", className="card-title"),
            html.P("Set a goal — an emergency fund, a trip, paying off a card — and see how far along "
                   "it is and whether it will be reached in time.", className="text-muted mb-2"),
            dcc.Link("Set your first goal", href=empty_texts.NEW_GOAL, className="btn btn-primary btn-sm",
                     id="goals-empty-new"),
        ]), className="shadow-sm"), xs=12)
        return [empty], _summary([], viewer.currency), [], _grid_columns(viewer.currency)
    cards = [goal_card(goal, svc.goal_history(db.session, viewer.user_id, goal, today), viewer.currency, today)
             for goal in goals]
    return cards, _summary(goals, viewer.currency), _grid_rows(goals), _grid_columns(viewer.currency)


# -- callbacks: the goal form ----------------------------------------------------------------------

def _account_options(user_id: int) -> list[dict]:
    accounts = svc.account_choices(db.session, user_id)
    options = [{"label": "Contributions I record here", "value": NO_ACCOUNT}]
    options += [{"label": f"{row.name} ({TYPE_LABELS.get(row.type, row.type)})", "value": str(row.id)}
                for row in accounts.itertuples()]
    return options


@callback(
    Output("goals-form-modal", "is_open"),
    Output("goals-form-title", "children"),
    Output("goals-form-goal", "data"),
    Output("goals-form-name", "value"),
    Output("goals-form-kind", "value"),
    Output("goals-form-target", "value"),
    Output("goals-form-date", "value"),
    Output("goals-form-account", "options"),
    Output("goals-form-account", "value"),
    Output("goals-form-currency", "children"),
    Output("goals-form-errors", "data"),
    Input("goals-new", "n_clicks"),
    Input({"type": "goals-edit", "index": ALL}, "n_clicks"),
    Input("goals-form-cancel", "n_clicks"),
    prevent_initial_call=True,
)
def open_goal_form(_new, _edits, _cancel):
    if not _clicked():
        return (no_update,) * 11
    viewer = require_viewer()
    trigger = ctx.triggered_id
    symbol = currency_symbol(viewer.currency).strip()
    if trigger == "goals-form-cancel":
        return (False,) + (no_update,) * 9 + ({},)
    options = _account_options(viewer.user_id)
    if trigger == "goals-new":
        default_date = add_months(date.today(), 12).isoformat()
        return (True, "New goal", None, "", "savings", "", default_date, options, NO_ACCOUNT, symbol, {})
    try:
        goal = svc.get_goal(db.session, viewer.user_id, trigger["index"])
    except ServiceError:
        return (no_update,) * 11
    return (True, f"Edit “{goal.name}”", {"id": goal.id, "version": goal.version}, goal.name, goal.kind,
            _units(to_cents(goal.target_amount)), goal.target_date.isoformat() if goal.target_date else "",
            options, str(goal.account_id) if goal.account_id else NO_ACCOUNT, symbol, {})


@callback(
    Output("goals-form-modal", "is_open", allow_duplicate=True),
    Output("goals-form-errors", "data", allow_duplicate=True),
    Output("goals-refresh", "data", allow_duplicate=True),
    Output("goals-message", "children", allow_duplicate=True),
    Input("goals-form-save", "n_clicks"),
    State("goals-form-goal", "data"),
    State("goals-form-name", "value"),
    State("goals-form-kind", "value"),
    State("goals-form-target", "value"),
    State("goals-form-date", "value"),
    State("goals-form-account", "value"),
    State("goals-refresh", "data"),
    prevent_initial_call=True,
)
def save_goal(n_clicks, editing, name, kind, target, target_date, account, refresh):
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    viewer = require_viewer()
    values = dict(name=name, kind=kind, target_amount=target, target_date=target_date,
                  account_id=None if account in (None, "", NO_ACCOUNT) else account)
    if editing:
        done = unit_of_work(lambda: svc.update_goal(db.session, viewer.user_id, (editing or {}).get("id"),
                                                    expected_version=(editing or {}).get("version"), **values))
    else:
        done = unit_of_work(lambda: svc.create_goal(db.session, viewer.user_id, **values))
    if done.conflict:
        return no_update, {"form": done.message}, _bump(refresh), no_update
    if not done.ok:
        return no_update, _error_dict(done.error, FORM_FIELDS, "form"), no_update, no_update
    goal = done.value
    verb = "Saved" if editing else "Created"
    return False, {}, _bump(refresh), _alert(f"{verb} “{goal.name}”.")


_FORM_INPUTS = {"name": "goals-form-name", "target": "goals-form-target", "target_date": "goals-form-date",
                "account": "goals-form-account"}


@callback(
    Output("goals-form-name-feedback", "children"),
    Output("goals-form-kind-feedback", "children"),
    Output("goals-form-target-feedback", "children"),
    Output("goals-form-date-feedback", "children"),
    Output("goals-form-account-feedback", "children"),
    Output("goals-form-name", "invalid"),
    Output("goals-form-target", "invalid"),
    Output("goals-form-date", "invalid"),
    Output("goals-form-account", "invalid"),
    Output("goals-form-message", "children"),
    Input("goals-form-errors", "data"),
)
def show_goal_form_errors(errors):
    errors = errors if isinstance(errors, dict) else {}
    texts = [errors.get(f) for f in ("name", "kind", "target", "target_date", "account")]
    invalid = [bool(errors.get(f)) for f in ("name", "target", "target_date", "account")]
    general = errors.get("form")
    return (*texts, *invalid, dbc.Alert(general, color="warning", class_name="py-2") if general else None)


# -- callbacks: contributions ----------------------------------------------------------------------

def _recent_list(user_id: int, goal_id: int, currency: str):
    recent = svc.contributions_frame(db.session, user_id, goal_id, limit=5)
    if recent.empty:
        return html.P("Nothing recorded yet.", className="text-muted small mb-0")
    rows = [html.Tr([
        html.Td(short_date(row.date), className="text-nowrap"),
        html.Td(format_money(row.amount_cents, currency, cents=True, signed=True),
                className="text-end money" + (" text-danger" if row.amount_cents < 0 else "")),
        html.Td(row.note or "", className="text-muted text-truncate", style={"maxWidth": "10rem"}),
        html.Td(dbc.Button("Remove", id={"type": "goals-contrib-remove", "index": int(row.id)}, size="sm",
                           color="link", class_name="p-0 text-danger", n_clicks=0), className="text-end"),
    ]) for row in recent.itertuples()]
    return html.Div([html.H6("Latest", className="mt-2"),
                     dbc.Table(html.Tbody(rows), size="sm", class_name="mb-0", borderless=True)])


@callback(
    Output("goals-contrib-modal", "is_open"),
    Output("goals-contrib-title", "children"),
    Output("goals-contrib-goal", "data"),
    Output("goals-contrib-amount", "value"),
    Output("goals-contrib-date", "value"),
    Output("goals-contrib-note", "value"),
    Output("goals-contrib-direction", "value"),
    Output("goals-contrib-currency", "children"),
    Output("goals-contrib-recent", "children"),
    Output("goals-contrib-errors", "data"),
    Input({"type": "goals-contribute", "index": ALL}, "n_clicks"),
    Input("goals-contrib-cancel", "n_clicks"),
    prevent_initial_call=True,
)
def open_contribution_form(_clicks, _cancel):
    if not _clicked():
        return (no_update,) * 10
    viewer = require_viewer()
    if ctx.triggered_id == "goals-contrib-cancel":
        return (False,) + (no_update,) * 8 + ({},)
    try:
        goal = svc.get_goal(db.session, viewer.user_id, ctx.triggered_id["index"])
    except ServiceError:
        return (no_update,) * 10
    return (True, f"Add to or withdraw from “{goal.name}”", goal.id, "", date.today().isoformat(), "", "add",
            currency_symbol(viewer.currency).strip(), _recent_list(viewer.user_id, goal.id, viewer.currency), {})


@callback(
    Output("goals-contrib-modal", "is_open", allow_duplicate=True),
    Output("goals-contrib-errors", "data", allow_duplicate=True),
    Output("goals-refresh", "data", allow_duplicate=True),
    Output("goals-message", "children", allow_duplicate=True),
    Input("goals-contrib-save", "n_clicks"),
    State("goals-contrib-goal", "data"),
    State("goals-contrib-direction", "value"),
    State("goals-contrib-amount", "value"),
    State("goals-contrib-date", "value"),
    State("goals-contrib-note", "value"),
    State("goals-refresh", "data"),
    prevent_initial_call=True,
)
def save_contribution(n_clicks, goal_id, direction, amount, day, note, refresh):
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    viewer = require_viewer()
    done = unit_of_work(lambda: svc.record_contribution(db.session, viewer.user_id, goal_id, amount=amount,
                                                        date=day, note=note, withdrawal=direction == "withdraw"))
    if not done.ok:
        return no_update, _error_dict(done.error, CONTRIB_FIELDS, "form"), no_update, no_update
    shown = format_money(done.value.amount, viewer.currency, signed=True)
    return False, {}, _bump(refresh), _alert(f"Recorded {shown}.")


@callback(
    Output("goals-contrib-recent", "children", allow_duplicate=True),
    Output("goals-contrib-errors", "data", allow_duplicate=True),
    Output("goals-refresh", "data", allow_duplicate=True),
    Input({"type": "goals-contrib-remove", "index": ALL}, "n_clicks"),
    State("goals-contrib-goal", "data"),
    State("goals-refresh", "data"),
    prevent_initial_call=True,
)
def remove_contribution(_clicks, goal_id, refresh):
    if not _clicked():
        return no_update, no_update, no_update
    viewer = require_viewer()
    done = unit_of_work(lambda: svc.delete_contribution(db.session, viewer.user_id, ctx.triggered_id["index"]))
    if not done.ok:
        return no_update, {"form": done.message}, no_update
    try:
        recent = _recent_list(viewer.user_id, goal_id, viewer.currency)
    except ServiceError:
        recent = None
    return recent, {}, _bump(refresh)


@callback(
    Output("goals-contrib-amount-feedback", "children"),
    Output("goals-contrib-date-feedback", "children"),
    Output("goals-contrib-note-feedback", "children"),
    Output("goals-contrib-amount", "invalid"),
    Output("goals-contrib-date", "invalid"),
    Output("goals-contrib-note", "invalid"),
    Output("goals-contrib-message", "children"),
    Input("goals-contrib-errors", "data"),
)
def show_contribution_errors(errors):
    errors = errors if isinstance(errors, dict) else {}
    texts = [errors.get(f) for f in CONTRIB_FIELDS]
    general = errors.get("form")
    return (*texts, *[bool(t) for t in texts],
            dbc.Alert(general, color="warning", class_name="py-2") if general else None)


# -- callbacks: delete -----------------------------------------------------------------------------

@callback(
    Output("goals-delete-modal", "is_open"),
    Output("goals-delete-text", "children"),
    Output("goals-delete-goal", "data"),
    Input({"type": "goals-delete", "index": ALL}, "n_clicks"),
    Input("goals-delete-cancel", "n_clicks"),
    prevent_initial_call=True,
)
def open_delete(_clicks, _cancel):
    if not _clicked():
        return no_update, no_update, no_update
    if ctx.triggered_id == "goals-delete-cancel":
        return False, no_update, None
    viewer = require_viewer()
    try:
        goal = svc.get_goal(db.session, viewer.user_id, ctx.triggered_id["index"])
    except ServiceError:
        return no_update, no_update, no_update
    text = [f"Delete “{goal.name}”"]
    if goal.account_id is None:
        text.append(" and its recorded contributions")
    text.append("? This cannot be undone.")
    return True, "".join(text), {"id": goal.id, "version": goal.version}


@callback(
    Output("goals-delete-modal", "is_open", allow_duplicate=True),
    Output("goals-refresh", "data", allow_duplicate=True),
    Output("goals-message", "children", allow_duplicate=True),
    Input("goals-delete-confirm", "n_clicks"),
    State("goals-delete-goal", "data"),
    State("goals-refresh", "data"),
    prevent_initial_call=True,
)
def confirm_delete(n_clicks, target, refresh):
    if not n_clicks or not isinstance(target, dict):
        return no_update, no_update, no_update
    viewer = require_viewer()
    done = unit_of_work(lambda: svc.delete_goal(db.session, viewer.user_id, target.get("id"),
                                                expected_version=target.get("version")))
    if not done.ok:
        return False, _bump(refresh), _alert(done.message, "warning")
    return False, _bump(refresh), _alert("Goal deleted.")


# -- callbacks: inline edits in the grid -----------------------------------------------------------

_GRID_FIELDS = {"name": "name", "target": "target_amount", "target_date": "target_date"}
_GRID_LABELS = {"name": "name", "target": "target", "target_date": "target date"}


@callback(
    Output("goals-grid-message", "children"),
    Output("goals-refresh", "data", allow_duplicate=True),
    Input("goals-grid", "cellValueChanged"),
    State("goals-refresh", "data"),
    prevent_initial_call=True,
)
def edit_in_grid(changes, refresh):
    if not changes:
        return no_update, no_update
    viewer = require_viewer()

    def edit(row, column, value):
        if column not in _GRID_FIELDS:
            raise ServiceError("That column cannot be edited.")
        svc.update_goal(db.session, viewer.user_id, row.get("id"), expected_version=row.get("version"),
                        **{_GRID_FIELDS[column]: value})

    def label(row, column):
        name = row.get("name") if isinstance(row.get("name"), str) else "This goal"
        return f"{name}, {_GRID_LABELS[column]}" if column in _GRID_LABELS else None
    problems, _saved = grid_edits(changes, edit, label)
    message = problems_alert(problems, id="goals-grid-error") if problems else _alert("Saved.")
    # Always re-read: a refused edit goes back to the stored value, an accepted one gets its new version.
    return message, _bump(refresh)
