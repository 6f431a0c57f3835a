"""Issue 13 items 9, 10, 13 and 14: formula cells in the spending CSV, totals that would overflow,
restored goals checked like live writes, look-alike names."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import is_postgres, login
from test_archive import _zip
from test_transactions_callbacks import post

from dashboard.guard import TOO_LARGE
from dashboard.services import archive as ex
from dashboard.services import goals as goals_svc
from dashboard.services.bulk import NewTransaction, write_transactions
from dashboard.services.errors import ServiceError
from dashboard.services.importer import ImportFileError
from dashboard.services.transactions import create_transaction
from models import Category, Goal
from models.db import MAX_CENTS

FORMULA = '=HYPERLINK("https://example.com","x")'


# -- item 9 ----------------------------------------------------------------------------------------

def test_spending_csv_neutralises_every_column(app, client, db_session, make_user, make_account):
    alice = make_user("alice@example.com")
    account = make_account(alice, "+Account")
    category = Category(user_id=alice.id, name=FORMULA, kind="expense")
    db_session.add(category)
    db_session.flush()
    create_transaction(db_session, alice.id, account_id=account.id, date=date.today(), amount=Decimal("-5.00"),
                       category_id=category.id, payee="@payee", description="-description")
    db_session.commit()
    login(client, "alice@example.com")
    with app.app_context():   # its own context, as in production; the streamed answer read in the request
        response = client.get("/export/spending.csv", buffered=True)
        text = response.get_data(as_text=True)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "@")) and not (cell.startswith("-") and not cell[1:2].isdigit()), rows[1]
    assert any(cell.endswith(FORMULA) and cell.startswith("'") for cell in rows[1])


# -- item 10 ---------------------------------------------------------------------------------------

def test_a_goal_cannot_grow_past_the_largest_amount(db_session, make_user):
    alice = make_user("alice@example.com")
    goal = goals_svc.create_goal(db_session, alice.id, name="Huge", target_amount="1000",
                                 target_date=date.today() + timedelta(days=400))
    big = str(Decimal(MAX_CENTS) / 100)
    goals_svc.record_contribution(db_session, alice.id, goal.id, amount=big, date=date.today())
    db_session.commit()
    with pytest.raises(ServiceError, match="at most"):
        goals_svc.record_contribution(db_session, alice.id, goal.id, amount="1.00", date=date.today())
    db_session.rollback()
    assert db_session.get(Goal, goal.id).saved_amount == Decimal(big)


def test_totals_too_large_answer_with_a_message(app, client, db_session, make_user, make_account):
    """10,000 rows at the per-amount limit add up past what a 64-bit sum holds: the pages that add
    them up answer 200 with a message instead of 500 (before: 500 until the rows were deleted)."""
    alice = make_user("alice@example.com")
    account = make_account(alice)
    start = date.today() - timedelta(days=200)
    rows = [NewTransaction(account_id=account.id, date=start + timedelta(days=i % 200), cents=MAX_CENTS,
                           kind="income", category_id=None, payee=f"p{i}") for i in range(10_000)]
    write_transactions(db_session, alice.id, rows)
    db_session.commit()
    login(client, "alice@example.com")
    messages = []
    for inputs, output in (([("overview-load", "data", 1)], "overview-stats"),
                           ([("accounts-refresh", "data", 1), ("accounts-show-archived", "value", [])], "accounts-grid")):
        captured = {}
        real = client.post

        def keep(*args, real=real, captured=captured, **kwargs):
            response = real(*args, **kwargs)
            captured["text"] = response.get_data(as_text=True)
            return response

        client.post = keep
        status, _body = post(client, app, inputs, output_has=output)
        client.post = real
        assert status == 200
        messages.append(TOO_LARGE in captured["text"])
    if not is_postgres():   # SQLite refuses the sum (integer overflow); PostgreSQL sums bigints as numeric
        assert any(messages), "no page said the totals are too large"


# -- item 13 ---------------------------------------------------------------------------------------

def _goal_archive(saved: str, contributions: list[tuple[str, str]], account_ref: str = "") -> bytes:
    members = {name: ",".join(columns) + "\n" for name, columns in ex.MEMBERS.items()}
    import json
    members["manifest.json"] = json.dumps({"format": ex.FORMAT, "version": ex.VERSION})
    if account_ref:
        members["accounts.csv"] += f"{account_ref},Savings,savings,USD,0.00,0\n"
    members["goals.csv"] += f"1,Trip,savings,1000.00,{saved},,{account_ref}\n"
    for day, amount in contributions:
        members["goal_contributions.csv"] += f"1,{day},{amount},\n"
    return _zip(members)


@pytest.mark.parametrize("saved, contributions, account_ref, words", [
    ("100.00", [("2026-01-01", "50.00")], "", "not the sum"),
    ("10.00", [("2026-01-01", "50.00"), ("2025-12-01", "-40.00")], "", "take out more"),
    ("50.00", [("2026-01-01", "50.00")], "7", "follows an account"),
])
def test_restored_goals_are_checked_like_live_writes(saved, contributions, account_ref, words):
    with pytest.raises(ImportFileError, match=words):
        ex.read_archive(_goal_archive(saved, contributions, account_ref))


def test_a_consistent_restored_goal_is_accepted():
    archive = ex.read_archive(_goal_archive("10.00", [("2026-01-01", "50.00"), ("2026-02-01", "-40.00")]))
    assert archive.lines["goals"]["1"]["saved"] == 1000


# -- item 14 ---------------------------------------------------------------------------------------

LOOK_ALIKES = ["Savings\u200b", "\u200fSavings", "Sav\u00adings", "Ｓａｖｉｎｇｓ", "Savings\u00a0", "Sa\u2060vings",
               "\ufeffSavings", "Savings\u202e"]


def test_normalise_name():
    from dashboard.services.validation import normalise_name
    for name in LOOK_ALIKES:
        assert normalise_name(name) == "Savings", repr(name)
    assert normalise_name("  Day\u00a0\u00a0to  day ") == "Day to day"
    assert normalise_name("Café") == normalise_name("Cafe\u0301") == "Café"


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_look_alike_names_count_as_the_same_name(db_session, make_user, name):
    from dashboard.services import accounts as accounts_svc
    from dashboard.services import categories as categories_svc
    alice = make_user("alice@example.com")
    accounts_svc.create_account(db_session, alice.id, name="Savings", type="savings", opening_balance="0")
    goals_svc.create_goal(db_session, alice.id, name="Savings", target_amount="10",
                          target_date=date.today() + timedelta(days=30))
    categories_svc.create_category(db_session, alice.id, name="Savings")
    db_session.commit()
    with pytest.raises(ServiceError, match="already"):
        accounts_svc.create_account(db_session, alice.id, name=name, type="savings", opening_balance="0")
    db_session.rollback()
    with pytest.raises(ServiceError, match="already"):
        goals_svc.create_goal(db_session, alice.id, name=name, target_amount="10",
                              target_date=date.today() + timedelta(days=30))
    db_session.rollback()
    with pytest.raises(ServiceError, match="already"):
        categories_svc.create_category(db_session, alice.id, name=name)
    db_session.rollback()
