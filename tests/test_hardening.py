"""Issue 13 items 9, 10, 13 and 14: formula cells in the spending CSV, totals that would overflow,
restored goals checked like live writes, look-alike names."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import login
from sqlalchemy import func, select
from test_archive import _zip
from test_transactions_callbacks import post

from dashboard.guard import TOO_LARGE
from dashboard.services import archive as ex
from dashboard.services import goals as goals_svc
from dashboard.services import limits
from dashboard.services.bulk import NewTransaction, write_transactions
from dashboard.services.errors import ServiceError
from dashboard.services.importer import ImportFileError
from dashboard.services.transactions import Split, create_transaction, create_transfer
from models import Account, Budget, Category, Expense, Goal, GoalContribution, Transaction
from models.db import MAX_CENTS, MAX_USER_ROWS

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


def _big_rows(account_id: int, count: int, cents: int) -> list[NewTransaction]:
    start = date.today() - timedelta(days=200)
    return [NewTransaction(account_id=account_id, date=start + timedelta(days=i % 200), cents=cents,
                           kind="income", category_id=None, payee=f"p{i}") for i in range(count)]


def test_limits_keep_every_sum_inside_64_bits():
    """Each sum adds one user's amounts from at most two growing tables (docs/security.md)."""
    assert 2 * MAX_CENTS * MAX_USER_ROWS < 2**63 - 1
    assert MAX_CENTS >= 10**12   # ten billion yen, rupiah or dong in one amount


def test_amounts_past_the_limit_are_refused_on_every_path(db_session, make_user, make_account):
    """Before: 10,000 rows of 10,000,000,000,000.00 were accepted, and Overview, Accounts and the
    Transactions summary answered 500 (SQLite: integer overflow) until they were deleted."""
    alice = make_user("alice@example.com")
    account = make_account(alice)
    old_limit = 10**15
    with pytest.raises(ServiceError, match="too large"):
        write_transactions(db_session, alice.id, _big_rows(account.id, 10_000, old_limit))
    db_session.rollback()
    with pytest.raises(ServiceError, match="too large"):
        create_transaction(db_session, alice.id, account_id=account.id, date=date.today(),
                           amount=str(Decimal(old_limit) / 100), kind="income")
    db_session.rollback()
    with pytest.raises(ServiceError, match="too large"):
        write_transactions(db_session, alice.id, [NewTransaction(
            account.id, date.today(), -5, "expense", None, "x", lines=((None, MAX_CENTS + 1, ""), (None, -MAX_CENTS - 1 + 5, "")))])
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Transaction)) == 0


def test_rows_per_user_are_bounded_on_every_path(db_session, make_user, make_account, monkeypatch):
    monkeypatch.setattr(limits, "MAX_USER_ROWS", 4)
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    account, bobs = make_account(alice), make_account(bob)
    write_transactions(db_session, alice.id, _big_rows(account.id, 3, 100))
    db_session.commit()
    with pytest.raises(ServiceError, match="at most 4 transactions"):   # the bulk path: import, restore, demo
        write_transactions(db_session, alice.id, _big_rows(account.id, 2, 100))
    db_session.rollback()
    create_transaction(db_session, alice.id, account_id=account.id, date=date.today(), amount="1.00",
                       kind="income")   # the fourth fits
    db_session.commit()
    with pytest.raises(ServiceError, match="at most 4 transactions"):   # typed in, grid, small imports
        create_transaction(db_session, alice.id, account_id=account.id, date=date.today(), amount="1.00",
                           kind="income")
        db_session.flush()
    db_session.rollback()
    # Expense lines count too (a split is one line each).
    splits = [Split(None, Decimal("1.00")) for _ in range(5)]
    with pytest.raises(ServiceError, match="at most 4 transaction lines"):
        create_transaction(db_session, bob.id, account_id=bobs.id, date=date.today(), amount="-5.00",
                           kind="expense", splits=splits)
        db_session.flush()
    db_session.rollback()
    # Another user's rows do not count.
    write_transactions(db_session, bob.id, _big_rows(bobs.id, 4, 100))
    db_session.commit()
    # The committed counts come from the monthly roll-up: every transaction (income, spending, both
    # legs of a transfer), every expense line of a split.
    monkeypatch.setattr(limits, "MAX_USER_ROWS", 100)
    carol = make_user("carol@example.com")
    checking, savings = make_account(carol, "Checking"), make_account(carol, "Savings")
    create_transaction(db_session, carol.id, account_id=checking.id, date=date.today(), amount="-5.00",
                       kind="expense", splits=[Split(None, Decimal("2.00")), Split(None, Decimal("3.00"))])
    create_transaction(db_session, carol.id, account_id=checking.id, date=date.today(), amount="9.00", kind="income")
    create_transfer(db_session, carol.id, from_account_id=checking.id, to_account_id=savings.id,
                    date=date.today(), amount="1.00")
    db_session.commit()
    counted = {table: limits._committed_count(db_session, carol.id, table) for table in ("transactions", "expenses")}
    real = {"transactions": db_session.scalar(select(func.count()).select_from(Transaction)
                                              .where(Transaction.user_id == carol.id)),
            "expenses": db_session.scalar(select(func.count()).select_from(Expense).where(Expense.user_id == carol.id))}
    assert counted == real == {"transactions": 4, "expenses": 2}
    assert db_session.scalar(select(func.count()).select_from(Transaction).where(Transaction.user_id == alice.id)) == 4
    assert db_session.scalar(select(func.count()).select_from(Transaction).where(Transaction.user_id == bob.id)) == 4


def test_the_largest_totals_add_up(app, client, db_session, make_user, make_account):
    """10,000 rows at the per-amount limit: Overview, Accounts and the Transactions summary answer
    with the exact total, no message (before, at the old limit: 500, then a "too large" message)."""
    alice = make_user("alice@example.com")
    account = make_account(alice)
    write_transactions(db_session, alice.id, _big_rows(account.id, 10_000, MAX_CENTS))
    db_session.commit()
    login(client, "alice@example.com")
    calls = (([("overview-load", "data", 1)], (), "overview-stats"),
             ([("accounts-refresh", "data", 1), ("accounts-show-archived", "value", [])], (), "accounts-grid"),
             ([("transactions-state", "data", {}), ("transactions-reload", "data", None)], (), "transactions-summary"))
    real = client.post
    for inputs, state, output in calls:
        captured = {}

        def keep(*args, captured=captured, **kwargs):
            response = real(*args, **kwargs)
            captured["text"] = response.get_data(as_text=True)
            return response

        client.post = keep
        try:
            status, body = post(client, app, inputs, state, output_has=output)
        finally:
            client.post = real
        assert status == 200, (output, captured)
        assert TOO_LARGE not in captured["text"], output
        if output == "transactions-summary":
            assert "100,000,000,000,000.00" in json.dumps(body)   # 10,000 x 10,000,000,000.00, exact


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
    ("10.00", [("2026-01-01", "50.00"), ("2025-12-01", "-40.00")], "", "Only"),
    ("50.00", [("2026-01-01", "50.00")], "7", "follows an account"),
])
def test_restored_goals_are_checked_like_live_writes(db_session, make_user, saved, contributions, account_ref,
                                                     words):
    """Through the goals service (create_goal, record_contribution), all or nothing."""
    alice = make_user("alice@example.com")
    archive = ex.read_archive(_goal_archive(saved, contributions, account_ref))
    with pytest.raises(ImportFileError, match=words):
        ex.restore_archive(db_session, alice.id, archive)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Goal)) == 0


def test_a_consistent_restored_goal_is_accepted(db_session, make_user):
    alice = make_user("alice@example.com")
    archive = ex.read_archive(_goal_archive("10.00", [("2026-01-01", "50.00"), ("2026-02-01", "-40.00")]))
    ex.restore_archive(db_session, alice.id, archive)
    db_session.commit()
    goal = db_session.scalar(select(Goal).where(Goal.user_id == alice.id))
    assert goal.saved_amount == Decimal("10.00")
    # Removing the withdrawal is allowed, removing the deposit refused: as for a goal kept by hand.
    deposit, withdrawal = db_session.scalars(select(GoalContribution).where(GoalContribution.goal_id == goal.id)
                                             .order_by(GoalContribution.date)).all()
    with pytest.raises(ServiceError, match="less than nothing"):
        goals_svc.delete_contribution(db_session, alice.id, deposit.id)
    db_session.rollback()
    goals_svc.delete_contribution(db_session, alice.id, withdrawal.id)
    db_session.commit()
    assert db_session.get(Goal, goal.id).saved_amount == Decimal("50.00")


def _archive_with(**rows: str) -> bytes:
    import json
    members = {name: ",".join(columns) + "\n" for name, columns in ex.MEMBERS.items()}
    members["manifest.json"] = json.dumps({"format": ex.FORMAT, "version": ex.VERSION})
    for name, text in rows.items():
        members[name.replace("_csv", ".csv")] += text
    return _zip(members)


@pytest.mark.parametrize("rows, words", [
    ({"accounts_csv": "1,Yen,checking,JPY,0.50,0\n"}, "decimals"),            # half a yen (fx.check_amount)
    ({"accounts_csv": "1,Dinar,checking,KWD,1.00,0\n"}, "KWD"),               # 3-decimal currencies not yet
    ({"accounts_csv": "1,Odd,checking,ZZ1,1.00,0\n"}, "currency|code"),
    ({"categories_csv": "1,Pets,expense,red,,\n"}, "colou?r"),                # check_color
    ({"categories_csv": "1,Pets,expense,,,\n", "budgets_csv": "1,,-5.00,monthly,2026-01-01,2026-01-31,0\n"},
     "negative"),
    ({"categories_csv": "1,Pets,expense,,,\n", "budgets_csv": "1,,5.00,custom,2026-02-01,2026-01-01,0\n"},
     "end"),
    ({"categories_csv": "1,Pets,expense,,,\n", "budgets_csv": "1,,5.00,monthly,2026-01-05,2026-02-04,0\n"},
     "monthly budget cannot run"),
    ({"goals_csv": "1,Trip,savings,0.00,0.00,,\n"}, "more than zero"),
])
def test_restore_goes_through_the_services_validation(db_session, make_user, rows, words):
    """Accounts, categories, budgets and goals of an archive are written by the services' own create
    functions: what a live write refuses, a restore refuses, with the member and line, and nothing
    is written."""
    alice = make_user("alice@example.com")
    archive = ex.read_archive(_archive_with(**rows))
    with pytest.raises(ImportFileError, match=words) as refused:
        ex.restore_archive(db_session, alice.id, archive)
    assert refused.value.line == 2 or refused.value.line is None or refused.value.line >= 2
    db_session.rollback()
    for model in (Account, Category, Budget, Goal):
        assert db_session.scalar(select(func.count()).select_from(model).where(model.user_id == alice.id)) == 0


def test_a_restored_goal_keeps_a_past_or_missing_target_date(db_session, make_user):
    """A live write refuses a target date in the past; an archive records history, so the restore
    (create_goal(history=True)) keeps it, and keeps a goal that had none."""
    alice = make_user("alice@example.com")
    archive = ex.read_archive(_archive_with(goals_csv="1,Old trip,savings,100.00,0.00,2020-05-01,\n"
                                                      "2,Someday,savings,100.00,0.00,,\n"))
    ex.restore_archive(db_session, alice.id, archive)
    db_session.commit()
    dates = dict(db_session.execute(select(Goal.name, Goal.target_date).where(Goal.user_id == alice.id)).all())
    assert dates == {"Old trip": date(2020, 5, 1), "Someday": None}
    with pytest.raises(ServiceError, match="past"):
        goals_svc.create_goal(db_session, alice.id, name="New", target_amount="5", target_date="2020-05-01")
    db_session.rollback()


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
