"""The small things of issue 15, each pinned by a test that fails if it comes back."""
from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import login
from dash_client import call_callback

ROOT = Path(__file__).resolve().parent.parent


def _find(node, component_id):
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        return next((f for v in node.values() if (f := _find(v, component_id))), None)
    if isinstance(node, list):
        return next((f for v in node if (f := _find(v, component_id))), None)
    if hasattr(node, "to_plotly_json"):
        return _find(json.loads(json.dumps(node.to_plotly_json(), default=_plain)), component_id)
    return None


def _plain(value):
    return value.to_plotly_json() if hasattr(value, "to_plotly_json") else str(value)


def test_accounts_open_with_show_archived_off(client, make_user):
    from dashboard.pages import accounts
    make_user("alice@example.com")
    login(client, "alice@example.com")
    with client.application.test_request_context():
        switch = _find(accounts.layout(), "accounts-show-archived")
    assert switch["props"]["value"] is False


def test_no_category_once_in_the_add_transaction_list(client, make_user, make_account):
    alice = make_user("alice@example.com")
    make_account(alice)
    login(client, "alice@example.com")
    status, body = call_callback(
        client, [("transactions-add-to-col", "style"), ("transactions-add-category-col", "style"),
                 ("transactions-add-payee-row", "style"), ("transactions-add-category", "options"),
                 ("transactions-add-category", "value"), ("transactions-add-amount-help", "children"),
                 ("transactions-add-save", "children")],
        [("transactions-add-kind", "value", "expense"), ("transactions-add-modal", "is_open", True)])
    assert status == 200
    labels = [o["label"] for o in body["transactions-add-category"]["options"]]
    from dashboard.pages import transactions
    select = _find(transactions._add_modal(), "transactions-add-category")
    shown = labels + [select["props"].get("placeholder")]
    assert shown.count("No category") == 1, shown
    assert select["type"] == "Dropdown"  # a <select> would add a hidden blank option before it


def test_goal_account_list_has_no_blank_first_option():
    from dashboard.pages import goals
    field = _find(goals._form_modal() if hasattr(goals, "_form_modal") else goals.layout(), "goals-form-account")
    assert field is not None and field["type"] == "Dropdown"
    assert field["props"]["clearable"] is False


def test_import_why_column_wraps_and_budget_names_wrap():
    from dashboard.pages import budgets, imports
    why = next(c for c in imports._preview_columns("USD") if c["field"] == "reason")
    assert why["wrapText"] and why["autoHeight"]
    category = next(c for c in budgets.grid_columns("USD") if c["field"] == "category")
    assert category["wrapText"] and category["autoHeight"]


def test_spending_grid_keeps_amount_visible_on_a_phone():
    from dashboard.pages import spending
    fields = [c["field"] for c in spending._grid_columns("USD")]
    assert fields.index("amount_cents") <= 2


def test_one_spelling_of_uncategorized_on_screen():
    shown = []
    for path in list((ROOT / "dashboard").rglob("*.py")) + list((ROOT / "dashboard" / "templates").glob("*.html")):
        for line in path.read_text().splitlines():
            # what people read: string literals, not comments or docstrings about the code
            for literal in re.findall(r'"([^"]*)"', line.split("#")[0]):
                if re.search(r"uncategoris", literal, re.I):
                    shown.append(f"{path.name}: {literal}")
    assert not shown, shown


def test_editable_cells_do_not_alternate_colours():
    css = (ROOT / "assets" / "zz-theme.css").read_text()
    assert ".ag-cell.editable-cell, .ag-cell.budget-editable { background: transparent;" in css


def test_split_dialog_has_no_blank_first_option(client, db_session, make_user, make_account):
    from datetime import date
    from decimal import Decimal

    from dashboard.pages import transactions
    from dashboard.services.transactions import create_transaction

    # A <select> (dbc.Select) always carries a hidden blank option first; a Dropdown has none.
    select = _find(transactions._split_modal(), {"type": "transactions-split-category", "index": 0})
    assert select["type"] == "Dropdown" and select["props"]["placeholder"] == "No category"
    alice = make_user("alice@example.com")
    account = make_account(alice)
    tx = create_transaction(db_session, alice.id, account_id=account.id, date=date(2026, 3, 2),
                            amount=Decimal("-20.00"), category_id=None, payee="Bistro")
    db_session.commit()
    login(client, "alice@example.com")
    dash_app = client.application.extensions["ledgerlens_dash"]
    client.get("/healthz")
    key = next(k for k, spec in dash_app.callback_map.items() if "transactions-split-modal.is_open" in k
               and [i["id"] for i in spec["inputs"]] == ["transactions-split", "transactions-split-cancel"])
    from dash._utils import split_callback_id
    outputs = []
    for part in split_callback_id(key):
        if part["id"].startswith("{"):
            kind = json.loads(part["id"])["type"]
            outputs.append([{"id": {"type": kind, "index": n}, "property": part["property"]}
                            for n in range(transactions.SPLIT_LINES)])
        else:
            outputs.append({"id": part["id"], "property": part["property"]})
    payload = {"output": key, "outputs": outputs, "changedPropIds": ["transactions-split.n_clicks"],
               "inputs": [{"id": "transactions-split", "property": "n_clicks", "value": 1},
                          {"id": "transactions-split-cancel", "property": "n_clicks", "value": 0}],
               "state": [{"id": "transactions-grid", "property": "selectedRows", "value": [{"id": tx.id}]}]}
    response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 200, response.data
    body = response.get_json()["response"]
    cid = json.dumps({"index": 0, "type": "transactions-split-category"}, separators=(",", ":"))
    options = body[cid]["options"]
    labels = [o["label"] for o in options]
    assert labels and "" not in labels and "No category" not in labels
    assert all(isinstance(o["value"], int) for o in options)
    assert body[cid]["value"] is None  # the uncategorized line shows the placeholder, not a blank option


def test_make_run_installs_only_what_the_app_needs_both_pinned():
    """`make run` installs requirements.txt (the app); `make test` adds requirements-dev.txt (test tools)."""
    tools = ("pytest", "selenium", "dash[testing]", "hypothesis", "ruff", "import-linter", "pytest-alembic")

    def pins(name):
        lines = [line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines()]
        return [line for line in lines if line and not line.startswith("-r")]

    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert not [line for line in runtime if line.split("==")[0].lower() in tools], runtime
    assert {line.split("==")[0].lower() for line in dev} >= set(tools) - {"selenium"}   # selenium comes with dash[testing]
    assert all("==" in line for line in runtime + dev), [line for line in runtime + dev if "==" not in line]
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: venv$", makefile, re.M) and re.search(r"^test: dev-venv$", makefile, re.M)
