"""Categories: the built-in tree and the user's own, at any depth; create, rename, recolour, move,
hide a built-in one, merge one into another, delete with a choice of where its transactions go.

Thin callbacks: each one unpacks its inputs, calls dashboard.services.categories (which checks owner,
version and input), commits or rolls back, and bumps ``categories-refresh`` so the tree is re-read.
Merge and delete first show what they will do in a dialog; the dialog's confirm button re-checks
everything on the server (the pending store only says which ids the user looked at).
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.components.cards import page_header
from dashboard.components.forms import busy, form_field
from dashboard.context import require_viewer
from dashboard.formatting import format_date, format_money, format_number
from dashboard.services import categories as svc
from dashboard.services.errors import ServiceError
from dashboard.unit_of_work import alert, bump, form_write
from models import db

dash.register_page(__name__, path="/categories", name="Categories", title="Categories · Ledgerlens", order=7)

P = "categories"
NONE = "none"


def _merge_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Merge categories")),
        dbc.ModalBody([
            html.Div(id=f"{P}-merge-summary"),
            html.Div(id=f"{P}-merge-clashes"),
            dbc.RadioItems(id=f"{P}-merge-budgets", value="sum", className="mt-2", options=[
                {"label": "Add the two budgets of such a period together", "value": "sum"},
                {"label": "Keep only the target's budget", "value": "keep"}]),
        ]),
        dbc.ModalFooter([
            dbc.Button("Cancel", id=f"{P}-merge-cancel", color="secondary", outline=True, n_clicks=0),
            dbc.Button("Merge", id=f"{P}-merge-confirm", color="danger", n_clicks=0),
        ]),
    ], id=f"{P}-merge-modal", is_open=False, centered=True)


def _delete_modal() -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle("Delete category")),
        dbc.ModalBody(html.Div(id=f"{P}-delete-summary")),
        dbc.ModalFooter([
            dbc.Button("Cancel", id=f"{P}-delete-cancel", color="secondary", outline=True, n_clicks=0),
            dbc.Button("Delete", id=f"{P}-delete-confirm", color="danger", n_clicks=0),
        ]),
    ], id=f"{P}-delete-modal", is_open=False, centered=True)


def layout(**_query):
    """A data-free skeleton: the tree and the choices arrive through the callbacks."""
    picker = {"options": [], "clearable": True, "placeholder": "Choose…"}
    return html.Div([
        dcc.Store(id=f"{P}-refresh", data=0),
        dcc.Store(id=f"{P}-pending-merge", data=None),
        dcc.Store(id=f"{P}-pending-delete", data=None),
        page_header("Categories", "Your own categories and the built-in ones, at any depth"),
        html.Div(id=f"{P}-message", role="status"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                html.H5("Tree", className="card-title"),
                html.P("Click a category to change it. The number is how many transactions it holds; "
                       "“yours” marks your own; hidden built-in ones are struck through.",
                       className="text-muted small"),
                html.Div(id=f"{P}-tree", className="category-tree"),
            ]), className="shadow-sm mb-3"), lg=6),
            dbc.Col([
                dbc.Card(dbc.CardBody([
                    html.H5("New category", className="card-title"),
                    form_field("Name", dbc.Input(id=f"{P}-new-name", maxlength=100, placeholder="e.g. Rent"),
                               f"{P}-new-name"),
                    form_field("Inside", dcc.Dropdown(id=f"{P}-new-parent-category", **picker),
                               f"{P}-new-parent-category", "Leave empty for a top-level category."),
                    form_field("Kind (top level only)", dbc.Select(id=f"{P}-new-kind", value="expense", options=[
                        {"label": "Spending", "value": "expense"}, {"label": "Income", "value": "income"}]),
                        f"{P}-new-kind"),
                    dbc.Button("Create", id=f"{P}-create", color="primary", n_clicks=0),
                ]), className="shadow-sm mb-3"),
                dbc.Card(dbc.CardBody([
                    html.H5("Change a category", className="card-title"),
                    form_field("Category", dcc.Dropdown(id=f"{P}-selected-category", **picker),
                               f"{P}-selected-category"),
                    html.Div(id=f"{P}-selected-info", className="small text-muted mb-2"),
                    dcc.Store(id=f"{P}-selected-version", data=None),
                    dbc.InputGroup([dbc.Input(id=f"{P}-rename-name", maxlength=100, placeholder="New name"),
                                    dbc.Button("Rename", id=f"{P}-rename", n_clicks=0, color="secondary")],
                                   class_name="mb-2"),
                    dbc.Label("Colour", html_for=f"{P}-recolor-color", class_name="visually-hidden"),
                    dbc.InputGroup([dbc.Input(id=f"{P}-recolor-color", type="color", value="#3459e6",
                                              class_name="form-control-color", style={"maxWidth": "4rem"}),
                                    dbc.Button("Recolour", id=f"{P}-recolor", n_clicks=0, color="secondary")],
                                   class_name="mb-2"),
                    html.Div([dcc.Dropdown(id=f"{P}-move-parent-category", **{**picker,
                                           "placeholder": "Top level"}, style={"flex": 1}),
                              dbc.Button("Move", id=f"{P}-move", n_clicks=0, color="secondary")],
                             className="d-flex gap-2 mb-2"),
                    html.Div([dcc.Dropdown(id=f"{P}-merge-target-category", **{**picker,
                                           "placeholder": "Merge into…"}, style={"flex": 1}),
                              dbc.Button("Merge…", id=f"{P}-merge", n_clicks=0, color="warning")],
                             className="d-flex gap-2 mb-2"),
                    html.Div([dcc.Dropdown(id=f"{P}-delete-target-category", **{**picker,
                                           "placeholder": "Its transactions become uncategorized"},
                                           style={"flex": 1}),
                              dbc.Button("Delete…", id=f"{P}-delete", n_clicks=0, color="danger")],
                             className="d-flex gap-2 mb-2"),
                    dbc.Button("Hide / show this built-in category", id=f"{P}-hide", n_clicks=0,
                               color="secondary", outline=True, size="sm"),
                ]), className="shadow-sm mb-3"),
            ], lg=6),
        ]),
        _merge_modal(),
        _delete_modal(),
    ])


# -- reads --------------------------------------------------------------------------------------------

def _tree(frame, counts) -> html.Ul:
    items = []
    for r in frame.itertuples():
        label = [html.Span(className="category-swatch", style={"background": r.color or "#adb5bd"}),
                 html.Span(r.name, className="category-name" + (" text-decoration-line-through" if r.hidden else "")),
                 html.Span(f"{format_number(counts.get(int(r.id), 0))}", className="badge text-bg-light ms-2",
                           title="transactions"),
                 html.Span("yours", className="badge rounded-pill text-bg-primary ms-2 category-own") if r.own
                 else None]
        items.append(html.Li(html.Button(label, id={"type": f"{P}-pick", "index": int(r.id)}, n_clicks=0,
                                         className="btn btn-link category-pick text-start p-0"),
                             style={"paddingLeft": f"{1.25 * int(r.depth)}rem"}, className="category-row"))
    return html.Ul(items, className="list-unstyled mb-0")


@callback(
    Output(f"{P}-tree", "children"),
    Output(f"{P}-new-parent-category", "options"),
    Output(f"{P}-selected-category", "options"),
    Output(f"{P}-move-parent-category", "options"),
    Output(f"{P}-merge-target-category", "options"),
    Output(f"{P}-delete-target-category", "options"),
    Input(f"{P}-refresh", "data"),
)
def render(_refresh):
    viewer = require_viewer()
    frame = svc.category_frame(db.session, viewer.user_id)
    counts = svc.usage(db.session, viewer.user_id)
    every = [{"label": r.full_name + (" (hidden)" if r.hidden else ""), "value": int(r.id)}
             for r in frame.itertuples()]
    usable = [{"label": r.full_name, "value": int(r.id)} for r in frame.itertuples() if not r.hidden]
    return _tree(frame, counts), usable, every, usable, usable, usable


@callback(
    Output(f"{P}-selected-category", "value"),
    Input({"type": f"{P}-pick", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def pick(clicks):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(c for c in clicks or [] if c):
        return no_update
    return trigger.get("index")


@callback(
    Output(f"{P}-selected-info", "children"),
    Output(f"{P}-selected-version", "data"),
    Output(f"{P}-rename-name", "value"),
    Output(f"{P}-recolor-color", "value"),
    Output(f"{P}-move-parent-category", "value"),
    Input(f"{P}-selected-category", "value"),
    Input(f"{P}-refresh", "data"),
)
def show_selected(category_id, _refresh):
    viewer = require_viewer()
    if category_id in (None, ""):
        return "", None, "", "#3459e6", None
    try:
        category = svc.get_category(db.session, viewer.user_id, category_id)
    except ServiceError as exc:
        return exc.message, None, "", "#3459e6", None
    frame = svc.category_frame(db.session, viewer.user_id).set_index("id")
    row = frame.loc[category.id]
    count = svc.usage(db.session, viewer.user_id).get(category.id, 0)
    kind = "spending" if category.kind == "expense" else "income"
    owner = "your own" if category.user_id is not None else ("built in, hidden" if row["hidden"] else "built in")
    info = f"{row['full_name']}: {kind}, {owner}, {format_number(count)} transaction{'s' if count != 1 else ''}."
    return info, category.version, category.name, row["color"] or "#3459e6", \
        int(category.parent_id) if category.parent_id else None


# -- writes -------------------------------------------------------------------------------------------

def _run(write, success):
    """Run one service write as a unit of work; say what was done (read before the commit, which
    expires the rows, and a merged or deleted category is gone after it), or why it was refused."""
    message, done = form_write(write, success, error_id=f"{P}-error", done_id=f"{P}-done")
    return message, done.ok


@callback(
    Output(f"{P}-message", "children"),
    Output(f"{P}-refresh", "data"),
    Output(f"{P}-new-name", "value"),
    Input(f"{P}-create", "n_clicks"),
    State(f"{P}-new-name", "value"),
    State(f"{P}-new-parent-category", "value"),
    State(f"{P}-new-kind", "value"),
    State(f"{P}-refresh", "data"),
    prevent_initial_call=True,
)
def create(n_clicks, name, parent_id, kind, refresh):
    if not n_clicks:
        return no_update, no_update, no_update
    viewer = require_viewer()
    message, ok = _run(lambda: svc.create_category(db.session, viewer.user_id, name=name, parent_id=parent_id,
                                                   kind=kind),
                       lambda c: f"Created “{c.name}”.")
    return message, bump(refresh), "" if ok else no_update


@callback(
    Output(f"{P}-message", "children", allow_duplicate=True),
    Output(f"{P}-refresh", "data", allow_duplicate=True),
    Input(f"{P}-rename", "n_clicks"),
    Input(f"{P}-recolor", "n_clicks"),
    Input(f"{P}-move", "n_clicks"),
    Input(f"{P}-hide", "n_clicks"),
    State(f"{P}-selected-category", "value"),
    State(f"{P}-selected-version", "data"),
    State(f"{P}-rename-name", "value"),
    State(f"{P}-recolor-color", "value"),
    State(f"{P}-move-parent-category", "value"),
    State(f"{P}-refresh", "data"),
    prevent_initial_call=True,
)
def change(_rename, _recolor, _move, _hide, category_id, version, name, color, parent_id, refresh):
    viewer = require_viewer()
    trigger = ctx.triggered_id
    if category_id in (None, ""):
        return alert("Choose a category first.", "warning"), no_update
    uid = viewer.user_id
    if trigger == f"{P}-rename":
        message, _ok = _run(lambda: svc.rename_category(db.session, uid, category_id, expected_version=version,
                                                        name=name), lambda c: f"Renamed to “{c.name}”.")
    elif trigger == f"{P}-recolor":
        message, _ok = _run(lambda: svc.recolor_category(db.session, uid, category_id, expected_version=version,
                                                         color=color), lambda c: f"Recoloured “{c.name}”.")
    elif trigger == f"{P}-move":
        message, _ok = _run(lambda: svc.move_category(db.session, uid, category_id, expected_version=version,
                                                      parent_id=parent_id), lambda c: f"Moved “{c.name}”.")
    elif trigger == f"{P}-hide":
        def toggle():
            hidden = svc.hidden_ids(db.session, uid)
            category = svc.get_category(db.session, uid, category_id)
            return svc.set_hidden(db.session, uid, category.id, category.id not in hidden), \
                category.id not in hidden
        message, _ok = _run(toggle, lambda r: f"“{r[0].name}” is {'hidden' if r[1] else 'shown again'}.")
    else:
        return no_update, no_update
    return message, bump(refresh)


def _clash_table(clashes, currency: str):
    if not clashes:
        return html.P("No period has a budget in both.", className="text-muted small mb-0")
    rows = [html.Tr([html.Td(f"{format_date(c['start'])} – {format_date(c['end'])}"),
                     html.Td(format_money(c["source_cents"], currency, cents=True), className="text-end"),
                     html.Td(format_money(c["target_cents"], currency, cents=True), className="text-end")])
            for c in clashes]
    return html.Div([
        html.P("Both have a budget for these periods. Choose what to keep:", className="mb-1"),
        dbc.Table([html.Thead(html.Tr([html.Th("Period"), html.Th("Merged"), html.Th("Target")])),
                   html.Tbody(rows)], size="sm", class_name="mb-0"),
    ])


@callback(
    Output(f"{P}-merge-modal", "is_open"),
    Output(f"{P}-merge-summary", "children"),
    Output(f"{P}-merge-clashes", "children"),
    Output(f"{P}-pending-merge", "data"),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Input(f"{P}-merge", "n_clicks"),
    Input(f"{P}-merge-cancel", "n_clicks"),
    State(f"{P}-selected-category", "value"),
    State(f"{P}-merge-target-category", "value"),
    State(f"{P}-selected-version", "data"),
    prevent_initial_call=True,
)
def open_merge(_open, _cancel, source_id, target_id, version):
    viewer = require_viewer()
    if ctx.triggered_id != f"{P}-merge":
        return False, no_update, no_update, None, no_update
    try:
        if source_id in (None, "") or target_id in (None, ""):
            raise ServiceError("Choose the category to merge and the one to merge it into.")
        plan = svc.merge_plan(db.session, viewer.user_id, source_id, target_id, expected_version=version)
    except ServiceError as exc:
        db.session.rollback()
        return False, no_update, no_update, None, alert(exc.message, "danger", id=f"{P}-error")
    pending = {"source": plan.source.id, "target": plan.target.id, "version": plan.source.version}
    return True, html.P(plan.message), _clash_table(plan.clashes, viewer.currency), pending, no_update


@callback(
    Output(f"{P}-merge-modal", "is_open", allow_duplicate=True),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Output(f"{P}-refresh", "data", allow_duplicate=True),
    Output(f"{P}-selected-category", "value", allow_duplicate=True),
    Input(f"{P}-merge-confirm", "n_clicks"),
    State(f"{P}-pending-merge", "data"),
    State(f"{P}-merge-budgets", "value"),
    State(f"{P}-refresh", "data"),
    running=busy(f"{P}-merge-confirm", "Merge"),
    prevent_initial_call=True,
)
def confirm_merge(n_clicks, pending, budgets, refresh):
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    viewer = require_viewer()
    pending = pending if isinstance(pending, dict) else {}
    message, ok = _run(lambda: svc.merge_categories(db.session, viewer.user_id, pending.get("source"),
                                                    pending.get("target"), expected_version=pending.get("version"),
                                                    budgets=budgets),
                       lambda plan: f"Merged “{plan.source.name}” into “{plan.target.name}”: {plan.message[6:]}")
    return False, message, bump(refresh), pending.get("target") if ok else no_update


@callback(
    Output(f"{P}-delete-modal", "is_open"),
    Output(f"{P}-delete-summary", "children"),
    Output(f"{P}-pending-delete", "data"),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Input(f"{P}-delete", "n_clicks"),
    Input(f"{P}-delete-cancel", "n_clicks"),
    State(f"{P}-selected-category", "value"),
    State(f"{P}-delete-target-category", "value"),
    State(f"{P}-selected-version", "data"),
    prevent_initial_call=True,
)
def open_delete(_open, _cancel, category_id, move_to, version):
    viewer = require_viewer()
    if ctx.triggered_id != f"{P}-delete":
        return False, no_update, None, no_update
    try:
        if category_id in (None, ""):
            raise ServiceError("Choose a category first.")
        category = svc.own_category(db.session, viewer.user_id, category_id, expected_version=version,
                                    action="delete")
        target = svc.get_category(db.session, viewer.user_id, move_to) if move_to not in (None, "") else None
    except ServiceError as exc:
        db.session.rollback()
        return False, no_update, None, alert(exc.message, "danger", id=f"{P}-error")
    count = svc.usage(db.session, viewer.user_id).get(category.id, 0)
    where = f"move to “{target.name}”" if target else "become uncategorized"
    text = (f"Delete “{category.name}”? Its {format_number(count)} transaction{'s' if count != 1 else ''} {where}; its "
            "subcategories move up one level; its budgets and rules are deleted.")
    pending = {"category": category.id, "move_to": target.id if target else None, "version": category.version}
    return True, html.P(text), pending, no_update


@callback(
    Output(f"{P}-delete-modal", "is_open", allow_duplicate=True),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Output(f"{P}-refresh", "data", allow_duplicate=True),
    Output(f"{P}-selected-category", "value", allow_duplicate=True),
    Input(f"{P}-delete-confirm", "n_clicks"),
    State(f"{P}-pending-delete", "data"),
    State(f"{P}-refresh", "data"),
    running=busy(f"{P}-delete-confirm", "Delete"),
    prevent_initial_call=True,
)
def confirm_delete(n_clicks, pending, refresh):
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    viewer = require_viewer()
    pending = pending if isinstance(pending, dict) else {}
    message, ok = _run(lambda: svc.delete_category(db.session, viewer.user_id, pending.get("category"),
                                                   expected_version=pending.get("version"),
                                                   move_to=pending.get("move_to")),
                       lambda n: f"Deleted; {format_number(n)} transaction{'s' if n != 1 else ''} moved.")
    return False, message, bump(refresh), None if ok else no_update

