"""The Categories, Rules and Transactions pages' new callbacks through Dash's HTTP route, as the browser
(or an attacker) calls them: create, merge with its dialog, delete; a rule previewed then applied to
existing rows and undone; a payee renamed; bulk edit on a filter with its preview and undo."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from test_transactions_callbacks import login, post, value

from dashboard.services.transactions import create_transaction
from models import Category, EditBatch, ImportRule, Transaction


def builtin(session, name):
    return session.scalar(select(Category.id).where(Category.user_id.is_(None), Category.name == name))


@pytest.fixture()
def world(db_session, make_user, make_account):
    alice = make_user("alice@example.com")
    acc = make_account(alice)
    for i in range(6):
        create_transaction(db_session, alice.id, account_id=acc.id, date=date(2026, 1 + i % 3, 5),
                           amount=Decimal(f"-{10 + i}.00"), payee="Tram" if i % 2 else "Kiosk")
    db_session.commit()
    return {"alice": alice, "account": acc}


def text(body) -> str:
    return json.dumps(body, ensure_ascii=False)


def test_create_merge_and_delete_through_the_page(client, app, db_session, world):
    login(client, "alice@example.com")
    uid = world["alice"].id
    status, body = post(client, app, [("categories-create", "n_clicks", 1)],
                        [("categories-new-name", "value", "Home"), ("categories-new-parent-category", "value", None),
                         ("categories-new-kind", "value", "expense"), ("categories-refresh", "data", 0)])
    assert status == 200 and "Created" in text(body)
    home = db_session.scalar(select(Category).where(Category.user_id == uid, Category.name == "Home"))
    status, body = post(client, app, [("categories-create", "n_clicks", 1)],
                        [("categories-new-name", "value", "x" * 10_000),
                         ("categories-new-parent-category", "value", home.id),
                         ("categories-new-kind", "value", "expense"), ("categories-refresh", "data", 1)])
    assert "at most 100" in text(body)
    for name in ("Rent", "Flat"):
        post(client, app, [("categories-create", "n_clicks", 1)],
             [("categories-new-name", "value", name), ("categories-new-parent-category", "value", home.id),
              ("categories-new-kind", "value", "expense"), ("categories-refresh", "data", 1)])
    rent, flat = (db_session.scalar(select(Category).where(Category.user_id == uid, Category.name == n))
                  for n in ("Rent", "Flat"))
    flat_id = flat.id
    status, body = post(client, app, [("categories-refresh", "data", 2)])
    assert "Home" in text(value(body, "categories-tree", "children"))
    # Merge: the dialog says what moves; the confirm does it.
    status, body = post(client, app, [("categories-merge", "n_clicks", 1), ("categories-merge-cancel", "n_clicks", 0)],
                        [("categories-selected-category", "value", flat.id),
                         ("categories-merge-target-category", "value", rent.id),
                         ("categories-selected-version", "data", flat.version)])
    assert value(body, "categories-merge-modal", "is_open") is True
    pending = value(body, "categories-pending-merge", "data")
    assert "Moves 0 transactions" in text(value(body, "categories-merge-summary", "children"))
    status, body = post(client, app, [("categories-merge-confirm", "n_clicks", 1)],
                        [("categories-pending-merge", "data", pending), ("categories-merge-budgets", "value", "sum"),
                         ("categories-refresh", "data", 3)])
    assert status == 200 and "Merged “Flat” into “Rent”" in text(body)
    assert db_session.scalar(select(func.count()).select_from(Category).where(Category.id == flat_id)) == 0
    # Merging into itself is refused with a message.
    status, body = post(client, app, [("categories-merge", "n_clicks", 1), ("categories-merge-cancel", "n_clicks", 0)],
                        [("categories-selected-category", "value", rent.id),
                         ("categories-merge-target-category", "value", rent.id),
                         ("categories-selected-version", "data", rent.version)])
    assert "itself" in text(body)
    # Delete: the dialog, then the confirm.
    db_session.expire_all()
    home = db_session.scalar(select(Category).where(Category.user_id == uid, Category.name == "Home"))
    status, body = post(client, app, [("categories-delete", "n_clicks", 1), ("categories-delete-cancel", "n_clicks", 0)],
                        [("categories-selected-category", "value", home.id),
                         ("categories-delete-target-category", "value", None),
                         ("categories-selected-version", "data", home.version)])
    pending = value(body, "categories-pending-delete", "data")
    assert "Delete “Home”" in text(body)
    status, body = post(client, app, [("categories-delete-confirm", "n_clicks", 1)],
                        [("categories-pending-delete", "data", pending), ("categories-refresh", "data", 4)])
    assert "Deleted" in text(body)
    assert db_session.scalar(select(Category.parent_id).where(Category.name == "Rent", Category.user_id == uid)) is None


def test_rule_preview_apply_undo_and_payee_rename(client, app, db_session, world):
    login(client, "alice@example.com")
    uid = world["alice"].id
    transit = builtin(db_session, "Public Transit")
    form = [("rules-form-field", "value", "payee"), ("rules-form-match", "value", "equals"),
            ("rules-form-pattern", "value", "tram"), ("rules-form-min", "value", ""), ("rules-form-max", "value", ""),
            ("rules-form-account", "value", None), ("rules-form-category", "value", transit),
            ("rules-form-tags", "value", []), ("rules-form-new-tags", "value", "commute"),
            ("rules-form-payee", "value", ""), ("rules-selected-rule", "value", None), ("rules-refresh", "data", 0)]
    status, body = post(client, app, [("rules-save", "n_clicks", 1), ("rules-delete", "n_clicks", 0)], form)
    assert status == 200 and "Rule saved" in text(body)
    rule_id = db_session.scalar(select(ImportRule.id).where(ImportRule.user_id == uid))
    status, body = post(client, app, [("rules-preview", "n_clicks", 1), ("rules-preview-cancel", "n_clicks", 0)],
                        [("rules-selected-rule", "value", rule_id)])
    assert value(body, "rules-modal", "is_open") is True
    assert "Changes 3 rows ($39.00)" in text(body)
    pending = value(body, "rules-pending-rule", "data")
    assert db_session.scalar(select(func.count()).select_from(EditBatch)) == 0   # a preview writes nothing
    status, body = post(client, app, [("rules-apply", "n_clicks", 1)],
                        [("rules-pending-rule", "data", pending), ("rules-refresh", "data", 1)])
    assert "changed 3 transactions" in text(body)
    batch_id = value(body, "rules-batch", "data")
    assert set(db_session.scalars(select(Transaction.category_id).where(Transaction.payee == "Tram"))) == {transit}
    status, body = post(client, app, [("rules-undo", "n_clicks", 1)],
                        [("rules-batch", "data", batch_id), ("rules-refresh", "data", 2)])
    assert "Undone" in text(body)
    db_session.expire_all()
    assert set(db_session.scalars(select(Transaction.category_id).where(Transaction.payee == "Tram"))) == {None}
    status, body = post(client, app, [("rules-rename", "n_clicks", 1)],
                        [("rules-payee", "value", "Kiosk"), ("rules-payee-name", "value", "Corner kiosk"),
                         ("rules-refresh", "data", 3)])
    assert "Renamed on 3 transactions" in text(body)
    renamed = value(body, "rules-renamed", "data")
    status, body = post(client, app, [("rules-payee-rule", "n_clicks", 1)],
                        [("rules-renamed", "data", renamed), ("rules-refresh", "data", 4)])
    assert "Rule saved" in text(body)


def test_bulk_edit_on_a_filter_preview_apply_undo(client, app, db_session, world):
    login(client, "alice@example.com")
    restaurants = builtin(db_session, "Restaurants")
    state = [("transactions-bulk-scope", "value", "filter"), ("transactions-bulk-category", "value", restaurants),
             ("transactions-bulk-tags", "value", []), ("transactions-bulk-new-tags", "value", ""),
             ("transactions-bulk-payee", "value", ""), ("transactions-grid", "selectedRows", []),
             ("transactions-state", "data", {"q": "kiosk"})]
    status, body = post(client, app, [("transactions-bulk-apply", "n_clicks", 1),
                                      ("transactions-bulk-cancel", "n_clicks", 0)], state)
    assert status == 200 and "Changes 3 rows" in text(body)
    pending = value(body, "transactions-bulk-pending", "data")
    status, body = post(client, app, [("transactions-bulk-confirm", "n_clicks", 1)],
                        [("transactions-bulk-pending", "data", pending)])
    assert "Changed 3 rows" in text(body)
    batch_id = value(body, "transactions-bulk-batch", "data")
    status, body = post(client, app, [("transactions-bulk-undo", "n_clicks", 1)],
                        [("transactions-bulk-batch", "data", batch_id)])
    assert "Undone" in text(body)
    # No filter: refused (every transaction at once is not offered).
    state[-1] = ("transactions-state", "data", {})
    status, body = post(client, app, [("transactions-bulk-apply", "n_clicks", 1),
                                      ("transactions-bulk-cancel", "n_clicks", 0)], state)
    assert "Set a filter first" in text(body)


def test_rules_page_offers_rule_actions_only_once_there_is_a_rule(client, app, db_session, world):
    """With no rule, the Rules page says what a rule does instead of offering "Choose a rule…", Apply and
    Delete with nothing to choose; the first saved rule brings them."""
    login(client, "alice@example.com")
    status, body = post(client, app, [("rules-refresh", "data", 0)], [])
    assert status == 200
    assert value(body, "rules-rule-actions", "hidden") is True
    assert "No rules yet" in json.dumps(value(body, "rules-list", "children"))
    db_session.add(ImportRule(user_id=world["alice"].id, pattern="tram", match_type="contains",
                              category_id=builtin(db_session, "Public Transit")))
    db_session.commit()
    status, body = post(client, app, [("rules-refresh", "data", 1)], [])
    assert value(body, "rules-rule-actions", "hidden") is False
    assert value(body, "rules-selected-rule", "options")[0]["value"] > 0
