"""Rules and payees: rules with conditions (payee or description contains / is / starts with / matches,
an amount range, an account) and actions (a category, tags, a clean payee name), applied at import
and, after a preview of how many rows and how much money they change, to the transactions already
there (one database transaction, one undo); and renaming or merging a payee across its transactions,
with the offer to make the rename a rule.

Thin callbacks over dashboard.services.rules / bulk_edit / tags: every id the browser sends is
checked against the logged-in user there; a pending store only says what the user looked at.
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.components.cards import page_header
from dashboard.components.forms import busy, form_field
from dashboard.context import require_viewer
from dashboard.formatting import format_money
from dashboard.services import bulk_edit, rules
from dashboard.services import tags as tag_service
from dashboard.services.accounts import list_accounts
from dashboard.services.categories import category_choices
from dashboard.services.errors import ServiceError
from dashboard.unit_of_work import alert, bump, form_write, unit_of_work
from models import db

dash.register_page(__name__, path="/rules", name="Rules", title="Rules and payees · Ledgerlens", order=8)

P = "rules"
FIELDS = [{"label": "Payee", "value": "payee"}, {"label": "Description", "value": "description"}]
MATCHES = [{"label": label, "value": value} for value, label in rules.MATCH_LABELS.items()]


def _undo_alert(text: str) -> dbc.Alert:
    return dbc.Alert([html.Span(text, className="me-2"),
                      dbc.Button("Undo", id=f"{P}-undo", size="sm", color="primary", outline=True, n_clicks=0)],
                     color="success", class_name="py-2 mb-2", dismissable=True, id=f"{P}-applied")


def layout(**_query):
    picker = {"options": [], "clearable": True}
    return html.Div([
        dcc.Store(id=f"{P}-refresh", data=0),
        dcc.Store(id=f"{P}-pending-rule", data=None),
        dcc.Store(id=f"{P}-batch", data=None),
        dcc.Store(id=f"{P}-renamed", data=None),
        page_header("Rules and payees", "Categorise, tag and clean up transactions by rule, at import and "
                    "on the rows already there"),
        html.Div(id=f"{P}-message", role="status"),
        dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                html.H5("New rule", className="card-title"),
                html.Div([
                    dbc.Label("Field", html_for=f"{P}-form-field", class_name="visually-hidden"),
                    dbc.Select(id=f"{P}-form-field", options=FIELDS, value="payee", style={"maxWidth": "9rem"}),
                    dbc.Label("How it matches", html_for=f"{P}-form-match", class_name="visually-hidden"),
                    dbc.Select(id=f"{P}-form-match", options=MATCHES, value="contains", style={"maxWidth": "9rem"}),
                    dbc.Input(id=f"{P}-form-pattern", maxlength=200, placeholder="e.g. tram"),
                ], className="d-flex gap-2 mb-2"),
                html.Div([
                    dbc.Input(id=f"{P}-form-min", inputmode="decimal", placeholder="Amount from"),
                    dbc.Input(id=f"{P}-form-max", inputmode="decimal", placeholder="to"),
                    dcc.Dropdown(id=f"{P}-form-account", placeholder="Any account", style={"minWidth": "10rem"},
                                 **picker),
                ], className="d-flex gap-2 mb-3"),
                form_field("Then set the category", dcc.Dropdown(id=f"{P}-form-category", placeholder="Keep it",
                                                                 **picker), f"{P}-form-category"),
                form_field("Add tags", html.Div([
                    dcc.Dropdown(id=f"{P}-form-tags", multi=True, placeholder="Existing tags", **picker),
                    dbc.Input(id=f"{P}-form-new-tags", maxlength=200, size="sm", class_name="mt-1",
                              placeholder="New tags, comma-separated")]), f"{P}-form-tags"),
                form_field("Rename the payee to", dbc.Input(id=f"{P}-form-payee", maxlength=200,
                                                            placeholder="Keep it"), f"{P}-form-payee"),
                dbc.Button("Save rule", id=f"{P}-save", color="primary", n_clicks=0),
            ]), className="shadow-sm mb-3"), lg=6),
            dbc.Col([
                dbc.Card(dbc.CardBody([
                    html.H5("Your rules", className="card-title"),
                    html.P("Tried in this order at import; the first that matches wins.",
                           className="text-muted small"),
                    html.Div(id=f"{P}-list", className="small mb-2"),
                    html.Div([   # shown once there is a rule to choose (render)
                        dcc.Dropdown(id=f"{P}-selected-rule", placeholder="Choose a rule…", **picker),
                        html.Div([
                            dbc.Button("Apply to existing transactions…", id=f"{P}-preview", color="primary",
                                       size="sm", n_clicks=0),
                            dbc.Button("Delete rule", id=f"{P}-delete", color="danger", outline=True,
                                       size="sm", n_clicks=0),
                        ], className="d-flex gap-2 mt-2"),
                    ], id=f"{P}-rule-actions", hidden=True),
                ]), className="shadow-sm mb-3"),
                dbc.Card(dbc.CardBody([
                    html.H5("Payees", className="card-title"),
                    html.P("Rename a payee on every transaction; a name that exists already merges the two.",
                           className="text-muted small"),
                    dcc.Dropdown(id=f"{P}-payee", placeholder="Choose a payee…", **picker),
                    html.Div([dbc.Input(id=f"{P}-payee-name", maxlength=200, placeholder="New name"),
                              dbc.Button("Rename", id=f"{P}-rename", color="secondary", n_clicks=0)],
                             className="d-flex gap-2 mt-2"),
                    html.Div(id=f"{P}-payee-message", role="status", className="mt-2"),
                ]), className="shadow-sm mb-3"),
            ], lg=6),
        ]),
        dbc.Modal([
            dbc.ModalHeader(dbc.ModalTitle("Apply the rule to existing transactions")),
            dbc.ModalBody(html.Div(id=f"{P}-preview-text")),
            dbc.ModalFooter([
                dbc.Button("Cancel", id=f"{P}-preview-cancel", color="secondary", outline=True, n_clicks=0),
                dbc.Button("Apply", id=f"{P}-apply", color="primary", n_clicks=0),
            ]),
        ], id=f"{P}-modal", is_open=False, centered=True),
    ])


# -- reads ----------------------------------------------------------------------------------------------

@callback(
    Output(f"{P}-list", "children"),
    Output(f"{P}-selected-rule", "options"),
    Output(f"{P}-form-category", "options"),
    Output(f"{P}-form-tags", "options"),
    Output(f"{P}-form-account", "options"),
    Output(f"{P}-payee", "options"),
    Output(f"{P}-rule-actions", "hidden"),
    Input(f"{P}-refresh", "data"),
)
def render(_refresh):
    viewer = require_viewer()
    frame = rules.rule_frame(db.session, viewer.user_id)
    listing = html.Ol([html.Li(r.text) for r in frame.itertuples()], className="ps-3 mb-0") if not frame.empty \
        else html.Div("No rules yet. A rule you save on the left runs at every import, and you can apply it "
                      "to the transactions already here.", className="text-muted")
    options = [{"label": f"{n + 1}. {r.text}", "value": int(r.id)} for n, r in enumerate(frame.itertuples())]
    cats = [{"label": c["label"], "value": c["id"]} for c in category_choices(db.session, viewer.user_id)]
    accounts = [{"label": r.name, "value": int(r.id)}
                for r in list_accounts(db.session, viewer.user_id, include_archived=False).itertuples()]
    payees = [{"label": f"{r.payee} ({r.count:,})", "value": r.payee}
              for r in rules.payee_frame(db.session, viewer.user_id).itertuples()]
    return (listing, options, cats, tag_service.tag_choices(db.session, viewer.user_id), accounts, payees,
            frame.empty)


# -- writes ---------------------------------------------------------------------------------------------

@callback(
    Output(f"{P}-message", "children"),
    Output(f"{P}-refresh", "data"),
    Input(f"{P}-save", "n_clicks"),
    Input(f"{P}-delete", "n_clicks"),
    State(f"{P}-form-field", "value"),
    State(f"{P}-form-match", "value"),
    State(f"{P}-form-pattern", "value"),
    State(f"{P}-form-min", "value"),
    State(f"{P}-form-max", "value"),
    State(f"{P}-form-account", "value"),
    State(f"{P}-form-category", "value"),
    State(f"{P}-form-tags", "value"),
    State(f"{P}-form-new-tags", "value"),
    State(f"{P}-form-payee", "value"),
    State(f"{P}-selected-rule", "value"),
    State(f"{P}-refresh", "data"),
    prevent_initial_call=True,
)
def save_or_delete(_save, _delete, field, match, pattern, low, high, account, category, tags, new_tags, payee,
                   rule_id, refresh):
    viewer = require_viewer()
    if ctx.triggered_id == f"{P}-delete":
        def work():
            return rules.delete_rule(db.session, viewer.user_id, rule_id)
        text = "Rule deleted."
    elif ctx.triggered_id == f"{P}-save":
        def work():
            return rules.create_rule(db.session, viewer.user_id, field=field, match_type=match, pattern=pattern,
                                     amount_min=low, amount_max=high, account_id=account, category_id=category,
                                     tag_ids=tags if isinstance(tags, list) else [],
                                     new_tags=new_tags if isinstance(new_tags, str) else None, set_payee=payee)
        text = "Rule saved. Choose it on the right to apply it to the transactions already there."
    else:
        return no_update, no_update
    message, done = form_write(work, lambda _rule: text, error_id=f"{P}-error", done_id=f"{P}-saved")
    return message, bump(refresh) if done.ok else no_update


@callback(
    Output(f"{P}-modal", "is_open"),
    Output(f"{P}-preview-text", "children"),
    Output(f"{P}-pending-rule", "data"),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Input(f"{P}-preview", "n_clicks"),
    Input(f"{P}-preview-cancel", "n_clicks"),
    State(f"{P}-selected-rule", "value"),
    prevent_initial_call=True,
)
def preview(_open, _cancel, rule_id):
    """First: how many rows and how much money the rule changes (nothing is written)."""
    viewer = require_viewer()
    if ctx.triggered_id != f"{P}-preview":
        return False, no_update, None, no_update
    try:
        if rule_id in (None, ""):
            raise ServiceError("Choose a rule first.")
        result = rules.preview_existing(db.session, viewer.user_id, rule_id)
    except ServiceError as exc:
        return False, no_update, None, alert(exc.message, "danger", id=f"{P}-error")
    finally:
        db.session.rollback()
    text = result.message(lambda c: format_money(c, viewer.currency, cents=True))
    if not result.rows:
        return False, no_update, None, alert(text, "info", id=f"{P}-nothing")
    return True, html.P(text, id=f"{P}-preview-summary"), {"rule": rule_id, "expected": result.rows}, no_update


@callback(
    Output(f"{P}-modal", "is_open", allow_duplicate=True),
    Output(f"{P}-message", "children", allow_duplicate=True),
    Output(f"{P}-batch", "data"),
    Output(f"{P}-refresh", "data", allow_duplicate=True),
    Input(f"{P}-apply", "n_clicks"),
    State(f"{P}-pending-rule", "data"),
    State(f"{P}-refresh", "data"),
    running=busy(f"{P}-apply", "Apply"),
    prevent_initial_call=True,
)
def apply(n_clicks, pending, refresh):
    """Then: do it, in one transaction, with one undo (refused when the rows changed since the preview)."""
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    viewer = require_viewer()
    pending = pending if isinstance(pending, dict) else {}
    expected = pending.get("expected")
    expected = expected if isinstance(expected, int) and not isinstance(expected, bool) else None

    def work():
        batch = rules.apply_existing(db.session, viewer.user_id, pending.get("rule"), expected_rows=expected)
        return batch.id, batch.row_count
    done = unit_of_work(work)
    if not done.ok:
        return False, alert(done.message, "danger", id=f"{P}-error"), no_update, no_update
    batch_id, count = done.value
    return False, _undo_alert(f"The rule changed {count:,} transaction{'s' if count != 1 else ''}."), batch_id, \
        bump(refresh)


@callback(
    Output(f"{P}-message", "children", allow_duplicate=True),
    Output(f"{P}-refresh", "data", allow_duplicate=True),
    Input(f"{P}-undo", "n_clicks"),
    State(f"{P}-batch", "data"),
    State(f"{P}-refresh", "data"),
    prevent_initial_call=True,
)
def undo(n_clicks, batch_id, refresh):
    if not n_clicks:
        return no_update, no_update
    viewer = require_viewer()
    message, done = form_write(lambda: bulk_edit.undo(db.session, viewer.user_id, batch_id).row_count,
                               lambda count: f"Undone: {count:,} transactions are as they were.",
                               error_id=f"{P}-error", done_id=f"{P}-undone")
    return message, bump(refresh) if done.ok else no_update


@callback(
    Output(f"{P}-payee-message", "children"),
    Output(f"{P}-renamed", "data"),
    Output(f"{P}-batch", "data", allow_duplicate=True),
    Output(f"{P}-refresh", "data", allow_duplicate=True),
    Input(f"{P}-rename", "n_clicks"),
    State(f"{P}-payee", "value"),
    State(f"{P}-payee-name", "value"),
    State(f"{P}-refresh", "data"),
    running=busy(f"{P}-rename", "Rename"),
    prevent_initial_call=True,
)
def rename_payee(n_clicks, old, new, refresh):
    """Rename (or merge) a payee everywhere: one batch with an undo; then offer to make it a rule."""
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    viewer = require_viewer()

    def work():
        batch = rules.rename_payee(db.session, viewer.user_id, old, new)
        return batch.id, batch.row_count
    done = unit_of_work(work)
    if not done.ok:
        return alert(done.message, "danger", id=f"{P}-payee-error"), None, no_update, no_update
    batch_id, count = done.value
    body = dbc.Alert([
        html.Div(f"Renamed on {count:,} transaction{'s' if count != 1 else ''}.", className="mb-2"),
        dbc.Button("Make it a rule for future imports", id=f"{P}-payee-rule", size="sm", color="primary",
                   outline=True, n_clicks=0, class_name="me-2"),
        dbc.Button("Undo", id=f"{P}-undo", size="sm", color="secondary", outline=True, n_clicks=0),
    ], color="success", class_name="py-2 mb-0", id=f"{P}-payee-done")
    return body, {"old": old, "new": new}, batch_id, bump(refresh)


@callback(
    Output(f"{P}-payee-message", "children", allow_duplicate=True),
    Output(f"{P}-refresh", "data", allow_duplicate=True),
    Input(f"{P}-payee-rule", "n_clicks"),
    State(f"{P}-renamed", "data"),
    State(f"{P}-refresh", "data"),
    prevent_initial_call=True,
)
def payee_rule(n_clicks, renamed, refresh):
    """The rule offer after a rename: the old name (as imports write it) becomes the new one."""
    if not n_clicks:
        return no_update, no_update
    viewer = require_viewer()
    renamed = renamed if isinstance(renamed, dict) else {}
    message, done = form_write(lambda: rules.create_rule(db.session, viewer.user_id, field="payee", match_type="equals",
                                                         pattern=renamed.get("old"), set_payee=renamed.get("new")),
                               lambda _rule: "Rule saved: imports rename this payee from now on.",
                               error_id=f"{P}-payee-error", done_id=f"{P}-payee-ruled")
    return message, bump(refresh) if done.ok else no_update
