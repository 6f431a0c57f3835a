"""The Transactions and Accounts pages' callbacks, called as the browser (or an attacker) would: POST
/_dash-update-component with forged payloads. Nothing forged may change a row or show another user's."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from conftest import login as _login
from flask import g
from sqlalchemy import func, select
from test_transaction_grid_service import cats, world  # noqa: F401  (fixtures)

from models import Account, Expense, Transaction


def _key(part: str) -> tuple[str, str]:
    ident, _, prop = part.rpartition(".")
    return ident.replace("\\.", "."), prop


def _fresh_g():
    """The tests run inside one app context, which Flask reuses for the test client's requests: forget
    what earlier requests cached in `g` (Flask-Login's user, the CSRF token), so that each request is
    judged by its own cookies, as on a real server."""
    for name in list(g):
        g.pop(name, None)


def post(client, app, inputs, state=(), *, output_has: str | None = None, changed=None):
    """Call the callback whose inputs are ``inputs`` [(id, prop, value)] (and whose output string
    contains ``output_has``), whatever its allow_duplicate suffixes. Returns (status, response)."""
    from dash import _callback

    dash_app = app.extensions["ledgerlens_dash"]
    wanted = [f"{i}.{p}" if isinstance(i, str) else None for i, p, _ in inputs]
    # Dash moves the registered callbacks into the app's map on its first request.
    for key, cb in {**_callback.GLOBAL_CALLBACK_MAP, **dash_app.callback_map}.items():
        have = [f"{x['id']}.{x['property']}" if isinstance(x["id"], str) else None for x in cb["inputs"]]
        if have == wanted and (output_has is None or output_has in key):
            break
    else:
        raise AssertionError(f"no callback for {wanted}")
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    outputs = []
    for part in parts:
        ident, prop = _key(part)
        outputs.append({"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop})

    def entry(item):
        if isinstance(item, list):
            return item
        i, p, v = item
        return {"id": i, "property": p, "value": v}

    payload = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [entry(x) for x in inputs],
        "state": [entry(x) for x in state],
        "changedPropIds": changed if changed is not None else [wanted[0]] if wanted[0] else [],
    }
    _fresh_g()
    response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    body = None
    if response.status_code == 200 and response.data:
        body = json.loads(response.data).get("response")
    return response.status_code, body


def login(client, email):
    _fresh_g()  # see post()
    response = _login(client, email)
    assert response.status_code == 302, response.status_code
    return response


def value(body, ident, prop):
    for key, props in (body or {}).items():
        if key == ident:
            for name, val in props.items():
                if name.split("@")[0] == prop:
                    return val
    raise KeyError((ident, prop))


def row_of(session, tx_id):
    session.expire_all()
    return session.execute(select(Transaction.__table__).where(Transaction.id == tx_id)).one_or_none()


def edit(client, app, tx, column, new, **row_extra):
    row = {"id": tx.id, "version": tx.version, "payee": tx.payee, **row_extra}
    return post(client, app, [("transactions-grid", "cellValueChanged",
                               [{"colId": column, "value": new, "oldValue": None, "data": row, "rowIndex": 0}])])


# -- the grid's reads -------------------------------------------------------------------------------

def test_anonymous_gets_401(client, app, world):
    status, _ = post(client, app, [("transactions-grid", "getRowsRequest", {"startRow": 0, "endRow": 100})],
                     [("transactions-state", "data", {})])
    assert status == 401
    market = world["market"]
    status, _ = edit(client, app, market, "payee", "Hacked")
    assert status == 401


def test_grid_pages_only_the_users_rows(client, app, world):
    login(client, "alice@example.com")
    status, body = post(client, app, [("transactions-grid", "getRowsRequest", {"startRow": 0, "endRow": 3})],
                        [("transactions-state", "data", {})])
    assert status == 200
    response = value(body, "transactions-grid", "getRowsResponse")
    assert [r["payee"] for r in response["rowData"]] == ["Costco", "Bistro", "Transfer from Checking"]
    assert response["rowCount"] is None  # more follow
    status, body = post(client, app, [("transactions-grid", "getRowsRequest", {"startRow": 0, "endRow": 100})],
                        [("transactions-state", "data", {"accounts": str(world["bob_account"].id)})])
    assert value(body, "transactions-grid", "getRowsResponse") == {"rowData": [], "rowCount": 0}
    # Garbage requests and states are not errors.
    for request, state in [({"startRow": "x"}, {}), ({"startRow": 0, "endRow": 5, "sortModel": "evil"},
                                                    {"q": {"$ne": 1}, "accounts": ["1 OR 1=1"]})]:
        status, _ = post(client, app, [("transactions-grid", "getRowsRequest", request)],
                         [("transactions-state", "data", state)])
        assert status == 200
    status, body = post(client, app, [("transactions-state", "data", {}), ("transactions-reload", "data", None)])
    assert value(body, "transactions-summary", "children")[0]["props"]["children"] == "7 transactions in all"


def test_bad_date_range_gets_a_message(client, app, world):
    login(client, "alice@example.com")
    status, body = post(client, app, [("transactions-dates", "start_date", "2026-03-05"),
                                      ("transactions-dates", "end_date", "2026-03-01"),
                                      ("transactions-accounts", "value", []),
                                      ("transactions-categories", "value", []),
                                      ("transactions-kind", "value", ""), ("transactions-text", "value", ""),
                                      ("transactions-filter-tags", "value", [])])
    assert status == 200
    assert "before the start" in value(body, "transactions-filter-error", "children")
    assert "transactions-state" not in body


# -- inline edits -----------------------------------------------------------------------------------

def test_an_inline_edit_is_saved_and_versioned(client, app, db_session, world):
    login(client, "alice@example.com")
    market = world["market"]
    version = market.version
    status, body = edit(client, app, market, "payee", "Corner store")
    assert status == 200 and "Saved" in json.dumps(value(body, "transactions-message", "children"))
    assert value(body, "transactions-reload", "data")["mode"] == "refresh"
    stored = row_of(db_session, market.id)
    assert stored.payee == "Corner store" and stored.version == version + 1
    status, body = edit(client, app, db_session.get(Transaction, market.id), "amount", "-12.34")
    assert "Saved" in json.dumps(value(body, "transactions-message", "children"))
    assert row_of(db_session, market.id).amount == Decimal("-12.34")
    assert db_session.scalar(select(func.sum(Expense.amount)).where(Expense.transaction_id == market.id)) == \
        Decimal("12.34")


@pytest.mark.parametrize("column,new,extra,message", [
    ("amount", "abc", {}, "not an amount"),
    ("amount", "", {}, "Enter an amount"),
    ("date", "31/12/2026", {}, "not a date"),
    ("user_id", 2, {}, "cannot be edited"),
    ("account_id", 1, {}, "cannot be edited"),
    ("version", 1, {}, "cannot be edited"),
    ("kind", "income", {}, "cannot be edited"),
    ("category_id", "999999", {}, "Unknown category"),
])
def test_refused_edits_change_nothing(client, app, db_session, world, column, new, extra, message):
    login(client, "alice@example.com")
    bistro = world["bistro"]
    before = row_of(db_session, bistro.id)
    status, body = edit(client, app, bistro, column, new, **extra)
    assert status == 200
    shown = json.dumps(value(body, "transactions-message", "children"))
    assert message in shown and "danger" in shown
    assert value(body, "transactions-reload", "data")["mode"] == "refresh"  # the cell goes back
    assert row_of(db_session, bistro.id) == before


def test_forged_rows_change_nothing(client, app, db_session, world):
    login(client, "alice@example.com")
    bob_tx = world["bob_tx"]
    before = row_of(db_session, bob_tx.id)
    status, body = edit(client, app, bob_tx, "payee", "Mine now")
    assert "Unknown transaction" in json.dumps(value(body, "transactions-message", "children"))
    assert row_of(db_session, bob_tx.id) == before
    # A stale version: a conflict message, and the row is re-read.
    bistro = world["bistro"]
    stale = {"id": bistro.id, "version": bistro.version + 3}
    before = row_of(db_session, bistro.id)
    status, body = post(client, app, [("transactions-grid", "cellValueChanged",
                                       [{"colId": "payee", "value": "X", "data": stale}])])
    assert "changed this transaction meanwhile" in json.dumps(value(body, "transactions-message", "children"))
    assert row_of(db_session, bistro.id) == before
    # Extra columns in the row data are ignored: only the edited column changes.
    forged = {"id": bistro.id, "version": bistro.version, "account_id": world["bob_account"].id,
              "amount": "-1", "kind": "income", "user_id": world["bob"].id, "category_id": "1"}
    status, body = post(client, app, [("transactions-grid", "cellValueChanged",
                                       [{"colId": "payee", "value": "Bistro 2", "data": forged}])])
    after = row_of(db_session, bistro.id)
    assert after.payee == "Bistro 2"
    assert (after.amount, after.account_id, after.kind, after.user_id, after.category_id) == (
        before.amount, before.account_id, before.kind, before.user_id, before.category_id)
    # Not a list, not dicts: nothing happens, no error.
    for junk in [{"colId": "payee"}, ["x"], [{"data": "x", "colId": "payee"}]]:
        status, _ = post(client, app, [("transactions-grid", "cellValueChanged", junk)])
        assert status == 200
    assert row_of(db_session, bistro.id) == after


# -- delete and undo --------------------------------------------------------------------------------

def test_delete_then_undo(client, app, db_session, world):
    login(client, "alice@example.com")
    costco_id = world["costco"].id   # the object is gone once the request deleted its row
    before = row_of(db_session, costco_id)
    status, body = post(client, app, [("transactions-delete", "n_clicks", 1)],
                        [("transactions-grid", "selectedRows", [{"id": costco_id, "version": 99}])])
    assert status == 200 and value(body, "transactions-undo-toast", "is_open") is True
    assert "Costco" in value(body, "transactions-undo-text", "children")
    token = value(body, "transactions-undo-token", "data")
    assert row_of(db_session, costco_id) is None
    # A forged or tampered token restores nothing.
    for forged in ["abc", token[:-2] + "xx", {"legs": []}, None]:
        status, body = post(client, app, [("transactions-undo", "n_clicks", 1)],
                            [("transactions-undo-token", "data", forged)])
        assert status == 200
        assert "undone" in json.dumps(body) or "nothing to undo" in json.dumps(body), body
    assert db_session.scalar(select(func.count()).select_from(Transaction).where(Transaction.payee == "Costco")) == 0
    status, body = post(client, app, [("transactions-undo", "n_clicks", 1)],
                        [("transactions-undo-token", "data", token)])
    assert "Restored" in json.dumps(value(body, "transactions-message", "children"))
    db_session.expire_all()
    restored = db_session.scalar(select(Transaction).where(Transaction.payee == "Costco"))
    assert (restored.amount, restored.date, restored.account_id, len(restored.expenses)) == (
        before.amount, before.date, before.account_id, 2)


def test_delete_of_another_users_row_and_replayed_token(client, app, db_session, world):
    login(client, "alice@example.com")
    status, body = post(client, app, [("transactions-delete", "n_clicks", 1)],
                        [("transactions-grid", "selectedRows", [{"id": world["bob_tx"].id}])])
    assert "Unknown transaction" in json.dumps(value(body, "transactions-message", "children"))
    assert row_of(db_session, world["bob_tx"].id) is not None
    # Alice's token is worthless to Bob.
    status, body = post(client, app, [("transactions-delete", "n_clicks", 1)],
                        [("transactions-grid", "selectedRows", [{"id": world["bistro"].id}])])
    token = value(body, "transactions-undo-token", "data")
    bob_client = app.test_client()
    login(bob_client, "bob@example.com")
    status, body = post(bob_client, app, [("transactions-undo", "n_clicks", 1)],
                        [("transactions-undo-token", "data", token)])
    assert "undone" in json.dumps(value(body, "transactions-message", "children"))
    assert db_session.scalar(select(func.count()).select_from(Transaction).where(Transaction.payee == "Bistro")) == 0


# -- add, transfer and split ------------------------------------------------------------------------

ADD_STATE = ["kind", "date", "account", "to-account", "amount", "category", "payee", "description", "to-amount"]


def add(client, app, **values):
    defaults = {"kind": "expense", "date": "2026-03-09", "account": None, "to-account": None, "amount": "",
                "category": "", "payee": "", "description": "", "to-amount": ""}
    defaults.update(values)
    return post(client, app, [("transactions-add-save", "n_clicks", 1)],
                [(f"transactions-add-{k}", "value", defaults[k]) for k in ADD_STATE])


def test_add_spending_and_a_transfer(client, app, db_session, world, cats):
    login(client, "alice@example.com")
    checking, savings = world["checking"], world["savings"]
    count = db_session.scalar(select(func.count(Transaction.id)))
    status, body = add(client, app, account=str(checking.id), amount="abc")
    assert "not an amount" in value(body, "transactions-add-errors", "data")["amount"]
    status, body = add(client, app, account=str(world["bob_account"].id), amount="5")
    assert value(body, "transactions-add-errors", "data") == {"account": "Unknown account."}
    status, body = add(client, app, kind="transfer", account=str(checking.id), **{"to-account": str(checking.id)},
                       amount="5")
    assert "to_account" in value(body, "transactions-add-errors", "data")
    assert db_session.scalar(select(func.count(Transaction.id))) == count
    status, body = add(client, app, account=str(checking.id), amount="45.10", category=str(cats["Coffee"]),
                       payee="Cafe")
    assert value(body, "transactions-add-modal", "is_open") is False
    status, body = add(client, app, kind="transfer", account=str(checking.id), **{"to-account": str(savings.id)},
                       amount="25", payee="ignored")
    db_session.expire_all()
    cafe = db_session.scalar(select(Transaction).where(Transaction.payee == "Cafe"))
    assert cafe.amount == Decimal("-45.10") and cafe.category_id == cats["Coffee"]
    legs = db_session.scalars(select(Transaction).where(Transaction.kind == "transfer",
                                                        Transaction.date == date(2026, 3, 9))).all()
    assert sorted(leg.amount for leg in legs) == [Decimal("-25.00"), Decimal("25.00")]
    assert not db_session.scalar(select(func.count(Expense.id)).where(Expense.transaction_id.in_([x.id for x in legs])))


def split_state(target, lines):
    def group(part, values):
        return [{"id": {"type": f"transactions-split-{part}", "index": i}, "property": "value", "value": v}
                for i, v in enumerate(values)]
    cats_, amounts, memos = zip(*lines, strict=True)
    return [("transactions-split-target", "data", target), group("category", cats_), group("amount", amounts),
            group("memo", memos)]


def test_split_through_the_callback(client, app, db_session, world, cats):
    login(client, "alice@example.com")
    bistro = world["bistro"]
    target = {"id": bistro.id, "version": bistro.version, "total_cents": 2000}
    status, body = post(client, app, [("transactions-split-save", "n_clicks", 1)],
                        split_state(target, [(str(cats["Restaurants"]), "15", ""), (str(cats["Coffee"]), "abc", "")]))
    assert "not an amount" in json.dumps(value(body, "transactions-split-message", "children"))
    status, body = post(client, app, [("transactions-split-save", "n_clicks", 1)],
                        split_state({**target, "id": world["bob_tx"].id},
                                    [(str(cats["Restaurants"]), "999", "")]))
    assert "Unknown transaction" in json.dumps(value(body, "transactions-split-message", "children"))
    status, body = post(client, app, [("transactions-split-save", "n_clicks", 1)],
                        split_state(target, [(str(cats["Restaurants"]), "15", "me"), (str(cats["Coffee"]), "5", "")]))
    assert value(body, "transactions-split-modal", "is_open") is False
    lines = db_session.execute(select(Expense.category_id, Expense.amount).where(Expense.transaction_id == bistro.id)
                               .order_by(Expense.amount)).all()
    assert [tuple(r) for r in lines] == [(cats["Coffee"], Decimal("5.00")), (cats["Restaurants"], Decimal("15.00"))]


# -- the Accounts page ------------------------------------------------------------------------------

def test_accounts_page_renders_and_edits(client, app, db_session, world):
    login(client, "alice@example.com")
    status, body = post(client, app, [("accounts-refresh", "data", 0), ("accounts-show-archived", "value", True)])
    assert status == 200
    rows = value(body, "accounts-grid", "rowData")
    assert {r["name"]: r["balance_cents"] for r in rows} == {"Checking": 100_00 + 3000_00 - 10_00 - 20_00 - 100_00
                                                             - 7_50 - 500_00, "Savings": 500_00}
    assert "$2,962.50" in json.dumps(value(body, "accounts-stats", "children"))
    status, body = post(client, app, [("accounts-refresh", "data", 0), ("accounts-range", "value", "all"),
                                      ("accounts-show-archived", "value", True)])
    figure = value(body, "accounts-net-worth", "figure")
    assert [t["name"] for t in figure["data"]] == ["Assets", "Debts", "Net worth"]
    checking, bob_account = world["checking"], world["bob_account"]
    version = checking.version  # the ORM object follows the database; the grid row keeps what it read

    def account_edit(row, column, new):
        return post(client, app, [("accounts-grid", "cellValueChanged",
                                   [{"colId": column, "value": new, "data": row}])],
                    [("accounts-refresh", "data", 0)])

    status, body = account_edit({"id": bob_account.id, "version": 1}, "name", "Stolen")
    assert "Unknown account" in json.dumps(value(body, "accounts-grid-message", "children"))
    status, body = account_edit({"id": checking.id, "version": version}, "opening", "abc")
    assert "not an amount" in json.dumps(value(body, "accounts-grid-message", "children"))
    status, body = account_edit({"id": checking.id, "version": version}, "user_id", world["bob"].id)
    assert "cannot be edited" in json.dumps(value(body, "accounts-grid-message", "children"))
    status, body = account_edit({"id": checking.id, "version": version + 1}, "name", "Stale")
    assert "meanwhile" in json.dumps(value(body, "accounts-grid-message", "children"))
    db_session.expire_all()
    assert db_session.get(Account, bob_account.id).name == "Checking"
    assert db_session.get(Account, checking.id).name == "Checking"
    status, body = account_edit({"id": checking.id, "version": version}, "name", "Everyday")
    status, body = account_edit({"id": checking.id, "version": version + 1}, "archived", True)
    assert "archived" in json.dumps(value(body, "accounts-grid-message", "children"))
    db_session.expire_all()
    stored = db_session.get(Account, checking.id)
    assert (stored.name, stored.archived) == ("Everyday", True)
    # The new-account form.
    status, body = post(client, app, [("accounts-form-save", "n_clicks", 1)],
                        [("accounts-form-name", "value", "Brokerage"), ("accounts-form-type", "value", "investment"),
                         ("accounts-form-opening", "value", "abc"), ("accounts-form-currency-code", "value", None),
                         ("accounts-refresh", "data", 0)])
    assert "opening_balance" in value(body, "accounts-form-errors-store", "data")
    status, body = post(client, app, [("accounts-form-save", "n_clicks", 1)],
                        [("accounts-form-name", "value", "Brokerage"), ("accounts-form-type", "value", "investment"),
                         ("accounts-form-opening", "value", "1,000"), ("accounts-form-currency-code", "value", None),
                         ("accounts-refresh", "data", 0)])
    assert value(body, "accounts-form-modal", "is_open") is False
    db_session.expire_all()
    assert db_session.scalar(select(Account.opening_balance).where(Account.name == "Brokerage")) == Decimal("1000.00")
    # In another currency: chosen in the form; whole yen only; three-decimal currencies not yet.
    form = [("accounts-form-name", "value", "Yen"), ("accounts-form-type", "value", "cash"),
            ("accounts-form-opening", "value", "1000.50"), ("accounts-form-currency-code", "value", "JPY"),
            ("accounts-refresh", "data", 0)]
    status, body = post(client, app, [("accounts-form-save", "n_clicks", 1)], form)
    assert "no decimals" in value(body, "accounts-form-errors-store", "data")["opening_balance"]
    form[2] = ("accounts-form-opening", "value", "1000")
    form[3] = ("accounts-form-currency-code", "value", "KWD")
    status, body = post(client, app, [("accounts-form-save", "n_clicks", 1)], form)
    assert "not supported" in value(body, "accounts-form-errors-store", "data")["currency"]
    form[3] = ("accounts-form-currency-code", "value", "jpy")
    status, body = post(client, app, [("accounts-form-save", "n_clicks", 1)], form)
    assert value(body, "accounts-form-modal", "is_open") is False
    db_session.expire_all()
    yen = db_session.scalars(select(Account).where(Account.name == "Yen")).one()
    assert (yen.currency, yen.opening_balance) == ("JPY", Decimal("1000"))
