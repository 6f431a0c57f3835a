"""The import page's callbacks, called as the browser (or an attacker) would: POST /_dash-update-component."""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from conftest import login
from dash_client import call_callback
from sqlalchemy import func, select

from dashboard.services import archive as ex
from models import Category, ImportRule, Transaction

DATA = Path(__file__).resolve().parent / "data"
P = "import"
ROLES = ("date", "amount", "debit", "credit", "payee", "description", "category", "currency",
         "original_amount", "original_currency")
SETTINGS = ("date-format", "decimal", "delimiter", "header", "skip", "invert", "mode")
INSPECT_OUTPUTS = ([(f"{P}-file-info", "children"), (f"{P}-mapping-card", "style"), (f"{P}-help-card", "style"),
                    (f"{P}-account-block", "style")]
                   + [(f"{P}-map-{r}", "options") for r in ROLES] + [(f"{P}-map-{r}", "value") for r in ROLES]
                   + [(f"{P}-map-{s}", "value") for s in SETTINGS] + [(f"{P}-mapping-warnings", "children")])
PREVIEW_OUTPUTS = [(f"{P}-grid", "rowData"), (f"{P}-grid", "style"), (f"{P}-summary", "children"), (f"{P}-warnings", "children"),
                   (f"{P}-error", "children"), (f"{P}-run", "disabled"), (f"{P}-preview-id", "data"),
                   (f"{P}-map-debit-col", "style"), (f"{P}-map-credit-col", "style"), (f"{P}-map-amount-col", "style")]
CSV = (b"Date,Payee,Amount\n2024-03-01,Blue Bottle,-4.75\n2024-03-01,Blue Bottle,-4.75\n"
       b"2024-03-02,Payroll,2500.00\n2024-03-03,<img src=x onerror=alert(1)>,-1.00\n")
MAPPING = {"date": 0, "amount": 2, "debit": None, "credit": None, "payee": 1, "description": None, "category": None, "currency": None,
           "original_amount": None, "original_currency": None,
           "date-format": "iso", "decimal": ".", "delimiter": ",", "header": True, "skip": 0, "invert": False,
           "mode": "signed"}


def as_other_user(app, email: str):
    """A new client logged in as ``email``. The tests hold an app context that requests reuse, and
    Flask-Login caches the user in ``g``: forget it, or the next request is still the previous user."""
    # (Each test's db_session fixture keeps one app context open; requests reuse it, and its ``g``.)
    from flask import g
    g.pop("_login_user", None)
    g.pop("csrf_token", None)   # Flask-WTF caches the form token there too
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def upload(data: bytes, name: str = "statement.csv", mime: str = "text/csv") -> dict:
    return {"name": name, "contents": f"data:{mime};base64," + base64.b64encode(data).decode()}


def mapping_inputs(**changes) -> list[tuple]:
    values = {**MAPPING, **changes}
    return [(f"{P}-map-{key}", "value", values[key]) for key in (*ROLES, *SETTINGS)]


def inspect(client, file_data):
    return call_callback(client, INSPECT_OUTPUTS, [(f"{P}-file", "data", file_data)])


def preview(client, file_data, account_id, **changes):
    inputs = ([(f"{P}-file", "data", file_data), (f"{P}-account", "value", account_id)] + mapping_inputs(**changes)
              + [(f"{P}-rules-version", "data", 0), (f"{P}-done", "data", 0)])
    return call_callback(client, PREVIEW_OUTPUTS, inputs)


def run(client, file_data, account_id, decisions=None, preview_id=None, category_choices=None, **changes):
    pickers = [{"id": {"type": f"{P}-catmap", "index": name}, "property": "value", "value": value}
               for name, value in (category_choices or {}).items()]
    state = ([(f"{P}-file", "data", file_data), (f"{P}-account", "value", account_id)] + mapping_inputs(**changes)
             + [(f"{P}-decisions", "data", decisions), (f"{P}-preview-id", "data", preview_id),
                (f"{P}-done", "data", 0), pickers])
    return call_callback(client, [(f"{P}-result", "children"), (f"{P}-done", "data")],
                         [(f"{P}-run", "n_clicks", 1)], state)


@pytest.fixture()
def world(db_session, make_user, make_account):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    return {"alice": alice, "bob": bob, "account": make_account(alice, "Checking"),
            "bob_account": make_account(bob, "Checking")}


def count(db_session, user_id):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Transaction).where(Transaction.user_id == user_id))


def test_anonymous_gets_401(client, db_session, world):
    status, _ = inspect(client, upload(CSV))
    assert status == 401
    status, _ = run(client, upload(CSV), world["account"].id)
    assert status == 401
    assert count(db_session, world["alice"].id) == 0


def test_inspect_guesses_the_mapping(client, world):
    login(client, "alice@example.com")
    status, body = inspect(client, upload(CSV))
    assert status == 200
    assert body[f"{P}-map-date"]["value"] == 0 and body[f"{P}-map-amount"]["value"] == 2
    assert body[f"{P}-map-payee"]["value"] == 1 and body[f"{P}-map-mode"]["value"] == "signed"
    assert body[f"{P}-mapping-card"]["style"] == {}
    assert [o["label"] for o in body[f"{P}-map-date"]["options"]] == ["1: Date", "2: Payee", "3: Amount"]
    status, body = inspect(client, upload((DATA / "statement_v1.ofx").read_bytes(), "bank.ofx"))
    assert body[f"{P}-mapping-card"]["style"] == {"display": "none"}
    assert "OFX statement, 5 transactions" in json.dumps(body[f"{P}-file-info"]["children"])


def test_preview_marks_duplicates_and_renders_text_as_text(client, db_session, world):
    login(client, "alice@example.com")
    status, body = preview(client, upload(CSV), world["account"].id)
    assert status == 200
    rows = body[f"{P}-grid"]["rowData"]
    assert [(r["line"], r["status"], r["include"]) for r in rows] == [
        (2, "New", True), (3, "New", True), (4, "New", True), (5, "New", True)]
    assert rows[3]["payee"] == "<img src=x onerror=alert(1)>"   # a string in the grid, never markup
    assert body[f"{P}-run"]["disabled"] is False and body[f"{P}-preview-id"]["data"]
    # After importing, the same file is all duplicates.
    status, body = run(client, upload(CSV), world["account"].id)
    assert "Imported 4 transactions" in json.dumps(body[f"{P}-result"]["children"])
    assert count(db_session, world["alice"].id) == 4
    status, body = preview(client, upload(CSV), world["account"].id)
    assert {r["status"] for r in body[f"{P}-grid"]["rowData"]} == {"Duplicate"}
    assert body[f"{P}-run"]["disabled"] is True   # 0 rows to import: nothing to press
    status, body = run(client, upload(CSV), world["account"].id)
    assert "Nothing new" in json.dumps(body[f"{P}-result"]["children"])
    assert count(db_session, world["alice"].id) == 4


def test_ticks_apply_only_to_their_own_preview(client, db_session, world):
    login(client, "alice@example.com")
    _, body = preview(client, upload(CSV), world["account"].id)
    token = body[f"{P}-preview-id"]["data"]
    change = [{"colId": "include", "value": False, "data": {"line": 5}}]
    status, body = call_callback(client, [(f"{P}-decisions", "data")], [(f"{P}-grid", "cellValueChanged", change)],
                                 [(f"{P}-decisions", "data", {}), (f"{P}-preview-id", "data", token)])
    decisions = body[f"{P}-decisions"]["data"]
    assert decisions == {"for": token, "lines": {"5": False}}
    # A stale preview's ticks are ignored: everything new is imported.
    run(client, upload(CSV), world["account"].id, decisions=decisions, preview_id="another-preview")
    assert count(db_session, world["alice"].id) == 4


def test_left_out_rows_are_not_imported(client, db_session, world):
    login(client, "alice@example.com")
    decisions = {"for": "p1", "lines": {"5": False, "3": False}}
    status, body = run(client, upload(CSV), world["account"].id, decisions=decisions, preview_id="p1")
    assert "Imported 2 transactions" in json.dumps(body[f"{P}-result"]["children"])
    assert count(db_session, world["alice"].id) == 2


def test_forged_account_and_garbage_are_refused(client, db_session, world):
    login(client, "alice@example.com")
    status, body = preview(client, upload(CSV), world["bob_account"].id)
    assert status == 200 and body[f"{P}-grid"]["rowData"] == [] and "Unknown account" in body[f"{P}-error"]["children"]
    status, body = run(client, upload(CSV), world["bob_account"].id)
    assert "Unknown account" in json.dumps(body[f"{P}-result"]["children"])
    for account in ("1 OR 1=1", None):
        status, body = run(client, upload(CSV), account)
        assert status == 200 and "Nothing was imported" in json.dumps(body[f"{P}-result"]["children"])
    for account in ([1], {"id": 1}):   # not an account id at all: refused by the callback guard or the page
        status, body = run(client, upload(CSV), account)
        assert status == 400 or (status == 200 and
                                 "Nothing was imported" in json.dumps(body[f"{P}-result"]["children"])), account
    for file_data in ({"name": "x.csv", "contents": "data:text/csv;base64,!!!notbase64"}, {"contents": 42},
                      "not a dict", {"name": "x.csv", "contents": "javascript:alert(1)"}):
        status, body = run(client, file_data, world["account"].id)
        assert status == 400 or (status == 200 and
                                 "Nothing was imported" in json.dumps(body[f"{P}-result"]["children"])), file_data
    assert count(db_session, world["alice"].id) == 0
    status, body = run(client, upload(CSV), world["account"].id, date=99, amount="evil")
    assert "Nothing was imported" in json.dumps(body[f"{P}-result"]["children"])
    assert count(db_session, world["alice"].id) == 0 and count(db_session, world["bob"].id) == 0


def test_oversized_upload_is_refused_with_a_message(client, world, monkeypatch):
    from dashboard.services import importer
    login(client, "alice@example.com")
    monkeypatch.setattr(importer, "MAX_UPLOAD_BYTES", 1000)
    big = CSV + b"2024-03-04,Filler,-1.00\n" * 100
    status, body = run(client, upload(big), world["account"].id)
    assert "larger than" in json.dumps(body[f"{P}-result"]["children"])


def test_archive_restore_through_the_page(app, client, db_session, world):
    login(client, "alice@example.com")
    run(client, upload(CSV), world["account"].id)
    buffer = io.BytesIO()
    ex.write_archive(db_session, world["alice"].id, buffer)
    client = as_other_user(app, "bob@example.com")
    archive = upload(buffer.getvalue(), "export.zip", "application/zip")
    status, body = inspect(client, archive)
    assert "Ledgerlens export" in json.dumps(body[f"{P}-file-info"]["children"])
    # The preview describes the zip (not "Choose a file to see what will be imported"), and can run.
    status, body = preview(client, archive, None)
    assert "A Ledgerlens export" in json.dumps(body[f"{P}-warnings"]["children"])
    assert body[f"{P}-grid"]["style"] == {"display": "none"}
    assert "4 transactions" in json.dumps(body[f"{P}-summary"]["children"])
    assert body[f"{P}-run"]["disabled"] is False
    status, body = run(client, archive, None)
    assert "Restored" in json.dumps(body[f"{P}-result"]["children"])
    assert count(db_session, world["bob"].id) == 4


RULE_OUTPUTS = [(f"{P}-rules-grid", "rowData"), (f"{P}-rules-grid", "style"), (f"{P}-rule-message", "children"), (f"{P}-rules-version", "data"),
                (f"{P}-rule-pattern", "value")]


def rules_call(client, trigger, *, pattern=None, match_type="contains", category=None, selected=None, changes=None):
    inputs = [(f"{P}-rule-add", "n_clicks", 1 if trigger == "add" else None),
              (f"{P}-rule-delete", "n_clicks", 1 if trigger == "delete" else None),
              (f"{P}-rules-grid", "cellValueChanged", changes)]
    state = [(f"{P}-rule-pattern", "value", pattern), (f"{P}-rule-type", "value", match_type),
             (f"{P}-rule-category", "value", category), (f"{P}-rules-grid", "selectedRows", selected),
             (f"{P}-rules-version", "data", 0)]
    changed = {"add": f"{P}-rule-add.n_clicks", "delete": f"{P}-rule-delete.n_clicks",
               "edit": f"{P}-rules-grid.cellValueChanged"}[trigger]
    return call_callback(client, RULE_OUTPUTS, inputs, state, changed=[changed])


def test_rules_editor(app, client, db_session, world):
    coffee = db_session.scalar(select(Category.id).where(Category.name == "Coffee", Category.user_id.is_(None)))
    bob_cat = Category(user_id=world["bob"].id, name="Bob only", kind="expense")
    db_session.add(bob_cat)
    db_session.commit()
    login(client, "alice@example.com")
    status, body = rules_call(client, "add", pattern="bottle", category=coffee)
    assert status == 200 and body[f"{P}-rules-grid"]["rowData"][0]["pattern"] == "bottle"
    assert body[f"{P}-rules-version"]["data"] == 1
    status, body = rules_call(client, "add", pattern="x", category=bob_cat.id)
    assert "Unknown category" in json.dumps(body[f"{P}-rule-message"]["children"])
    status, body = rules_call(client, "add", pattern="(a", match_type="regex", category=coffee)
    assert "Not a valid pattern" in json.dumps(body[f"{P}-rule-message"]["children"])
    rule_id = body[f"{P}-rules-grid"]["rowData"][0]["id"]
    status, body = rules_call(client, "edit", changes=[{"colId": "pattern", "value": "blue bottle",
                                                        "data": {"id": rule_id}}])
    assert body[f"{P}-rules-grid"]["rowData"][0]["pattern"] == "blue bottle"
    # The preview now files the coffees under Coffee, by rule.
    _, body = preview(client, upload(CSV), world["account"].id)
    assert body[f"{P}-grid"]["rowData"][0]["category"] == "Food › Coffee (rule)"
    # Bob cannot touch Alice's rule.
    client = as_other_user(app, "bob@example.com")
    status, body = rules_call(client, "delete", selected=[{"id": rule_id}])
    assert "Unknown rule" in json.dumps(body[f"{P}-rule-message"]["children"])
    status, body = rules_call(client, "edit", changes=[{"colId": "pattern", "value": "pwned", "data": {"id": rule_id}}])
    db_session.expire_all()
    assert db_session.get(ImportRule, rule_id).pattern == "blue bottle"
    client = as_other_user(app, "alice@example.com")
    status, body = rules_call(client, "delete", selected=[{"id": rule_id}])
    assert body[f"{P}-rules-grid"]["rowData"] == []


def test_unknown_categories_are_offered_and_the_choice_is_used(client, world):
    """The preview lists the file's unknown category names; the run creates what the user chose."""
    from models import Category, db
    login(client, "alice@example.com")
    account_id, user_id = world["account"].id, world["alice"].id
    body = b"Date,Amount,Payee,Category\n2026-01-02,-1450.00,Landlord,Home:Rent\n2026-01-05,-3.20,Tram,Transport:Tram\n"
    file_data = upload(body)
    status, out = call_callback(client, [(f"{P}-catmap-card", "children")],
                                [(f"{P}-file", "data", file_data), (f"{P}-account", "value", account_id)]
                                + mapping_inputs(date=0, amount=1, payee=2, category=3) + [(f"{P}-done", "data", 0)])
    assert status == 200
    text = json.dumps(out)
    assert "Home:Rent" in text and "Transport:Tram" in text and "$1,450.00" in text
    status, out = run(client, file_data, account_id, date=0, amount=1, payee=2, category=3,
                      category_choices={"Home:Rent": "create", "Transport:Tram": "none"})
    assert status == 200 and "Imported 2" in json.dumps(out), out
    rows = dict(db.session.execute(select(Transaction.payee, Category.name).outerjoin(
        Category, Category.id == Transaction.category_id).where(Transaction.user_id == user_id)).all())
    assert rows == {"Landlord": "Rent", "Tram": None}
