"""services.transactions and services.budgets: writes keep every transaction's budget lines in step.

Example tests for each kind of write, then a hypothesis state machine that runs random sequences of
writes (expenses, splits, income, transfers, edits, deletes, budgets) and after every step checks the
invariants in SQL, compares the database with a plain-Python model of what each write should have
done, and recomputes every expense's budget independently.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import wipe_user_data
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text

from dashboard.services import budget_lines
from dashboard.services import budgets as budget_service
from dashboard.services import transactions as tx_service
from dashboard.services.errors import Conflict, NotFound, ServiceError
from dashboard.services.transactions import Split
from models import Account, Budget, Category, Expense, Transaction, User, db

D = Decimal
JAN, FEB = date(2026, 1, 15), date(2026, 2, 10)


# -- checks shared by the example tests and the state machine ---------------------------------------

def _violations(session, sql: str) -> list:
    return session.execute(text(sql)).all()


def expected_budget(expense, budgets, parent_of) -> int | None:
    """Independent of the service: own category's budget before the parent's (and theirs, at any depth), then the shortest
    period (latest start, earliest end), then the lowest id; only the expense owner's budgets."""
    if expense.category_id is None:
        return None
    wanted, current = {}, expense.category_id
    while current is not None and current not in wanted:     # the category and every ancestor
        wanted[current] = len(wanted)
        current = parent_of.get(current)
    candidates = [b for b in budgets if b.user_id == expense.user_id and b.category_id in wanted
                  and b.start_date <= expense.date <= b.end_date]
    if not candidates:
        return None
    best = min(candidates, key=lambda b: (wanted[b.category_id], -b.start_date.toordinal(),
                                          b.end_date.toordinal(), b.id))
    return best.id


def check_ledger(session) -> None:
    """The invariants of services.transactions, checked in SQL over every user's rows."""
    session.flush()
    # Every expense-kind transaction has lines, and they sum to -amount.
    assert _violations(session, """
        SELECT t.id, t.amount, sum(e.amount) FROM transactions t LEFT JOIN expenses e ON e.transaction_id = t.id
        WHERE t.kind = 'expense' GROUP BY t.id, t.amount
        HAVING count(e.id) = 0 OR sum(e.amount) <> -t.amount""") == []
    # Each line carries its transaction's user, date and account.
    assert _violations(session, """
        SELECT e.id FROM expenses e JOIN transactions t ON t.id = e.transaction_id
        WHERE e.user_id <> t.user_id OR e.date <> t.date OR e.account_id <> t.account_id""") == []
    # Income and transfers have no lines.
    assert _violations(session, """
        SELECT e.id FROM expenses e JOIN transactions t ON t.id = e.transaction_id
        WHERE t.kind <> 'expense'""") == []
    # Transfers: two legs of one user on two accounts, same day, summing to zero.
    assert _violations(session, """
        SELECT transfer_group FROM transactions WHERE kind = 'transfer' GROUP BY transfer_group
        HAVING count(*) <> 2 OR sum(amount) <> 0 OR count(DISTINCT account_id) <> 2
            OR count(DISTINCT user_id) <> 1 OR min(date) <> max(date)""") == []
    assert _violations(session, "SELECT id FROM transactions WHERE kind = 'transfer' "
                                "AND transfer_group IS NULL") == []
    # Lines sit in a budget of their own user, in an expense category they may use.
    assert _violations(session, """
        SELECT e.id FROM expenses e JOIN budgets b ON b.id = e.budget_id WHERE b.user_id <> e.user_id""") == []
    assert _violations(session, """
        SELECT e.id FROM expenses e JOIN categories c ON c.id = e.category_id
        WHERE c.kind <> 'expense' OR (c.user_id IS NOT NULL AND c.user_id <> e.user_id)""") == []
    # Each line's budget is the covering one: as the service computes it, in one SELECT ...
    covering = budget_lines.covering_budget_id(Expense.user_id, Expense.category_id, Expense.date)
    rows = session.execute(select(Expense.id, Expense.budget_id, covering.label("covering"))).all()
    assert [r for r in rows if r.budget_id != r.covering] == []
    # ... and as an independent Python computation says it should be.
    budgets = session.execute(select(Budget.id, Budget.user_id, Budget.category_id, Budget.start_date,
                                     Budget.end_date)).all()
    parent_of = dict(session.execute(select(Category.id, Category.parent_id)).all())
    expenses = session.execute(select(Expense.id, Expense.user_id, Expense.category_id, Expense.date,
                                      Expense.budget_id)).all()
    wrong = [(e.id, e.budget_id, expected_budget(e, budgets, parent_of)) for e in expenses
             if e.budget_id != expected_budget(e, budgets, parent_of)]
    assert wrong == []


def counts(session) -> dict[str, int]:
    return {t: session.scalar(text(f"SELECT count(*) FROM {t}")) for t in sorted(db.metadata.tables)}


def lines(session, tx_id) -> list[tuple]:
    """(category_id, amount, budget_id) of a transaction's expenses, sorted."""
    rows = session.execute(select(Expense.category_id, Expense.amount, Expense.budget_id)
                           .where(Expense.transaction_id == tx_id)).all()
    return sorted((tuple(r) for r in rows), key=repr)


def row(session, tx_id):
    return session.execute(select(Transaction.__table__).where(Transaction.id == tx_id)).one_or_none()


# -- fixtures -----------------------------------------------------------------------------------

def _builtin(session, name: str) -> int:
    return session.scalar(select(Category.id).where(Category.name == name, Category.user_id.is_(None)))


@pytest.fixture()
def cats(db_session):
    names = ("Food", "Groceries", "Restaurants", "Coffee", "Transportation", "Fuel", "Income", "Salary")
    return {name.lower(): _builtin(db_session, name) for name in names}


@pytest.fixture()
def alice(make_user):
    return make_user("alice@example.com")


@pytest.fixture()
def accounts(alice, make_account):
    return make_account(alice, "Checking"), make_account(alice, "Card", type="credit_card")


def expense(session, user, account, amount, day=JAN, category=None, **kw) -> Transaction:
    tx = tx_service.create_transaction(session, user.id, account_id=account.id, date=day, amount=amount,
                                       category_id=category, **kw)
    session.commit()
    return tx


def budget(session, user, category, amount="100", day=JAN, **kw) -> Budget:
    created = budget_service.create_budget(session, user.id, category_id=category, amount=amount,
                                           start_date=day, **kw)
    session.commit()
    return created


def refused(session, call, exc_type=ServiceError, message=None):
    """``call`` raises ``exc_type``; after the caller's rollback the database is as it was."""
    session.commit()
    before = counts(session)
    snapshot = session.execute(text("SELECT * FROM transactions ORDER BY id")).all(), \
        session.execute(text("SELECT * FROM expenses ORDER BY id")).all()
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.message
    if message:
        assert message.lower() in info.value.message.lower()
    session.rollback()
    assert counts(session) == before
    assert (session.execute(text("SELECT * FROM transactions ORDER BY id")).all(),
            session.execute(text("SELECT * FROM expenses ORDER BY id")).all()) == snapshot
    check_ledger(session)
    return info.value


# -- creating -------------------------------------------------------------------------------------

def test_create_expense(db_session, alice, accounts, cats):
    checking, _ = accounts
    tx = expense(db_session, alice, checking, "-42.10", category=cats["groceries"], payee=" Market ")
    stored = row(db_session, tx.id)
    assert (stored.kind, stored.category_id, stored.payee) == ("expense", cats["groceries"], "Market")
    assert db_session.get(Transaction, tx.id).amount == D("-42.10")
    assert lines(db_session, tx.id) == [(cats["groceries"], D("42.10"), None)]
    e = db_session.scalar(select(Expense).where(Expense.transaction_id == tx.id))
    assert (e.date, e.account_id, e.user_id) == (JAN, checking.id, alice.id)
    check_ledger(db_session)


def test_create_expense_without_category(db_session, alice, accounts):
    tx = expense(db_session, alice, accounts[0], "-3.50")
    assert lines(db_session, tx.id) == [(None, D("3.50"), None)]
    check_ledger(db_session)


def test_create_refund(db_session, alice, accounts, cats):
    tx = expense(db_session, alice, accounts[1], "15.00", category=cats["restaurants"])
    assert lines(db_session, tx.id) == [(cats["restaurants"], D("-15.00"), None)]
    check_ledger(db_session)


def test_create_income(db_session, alice, accounts, cats):
    tx = expense(db_session, alice, accounts[0], "2500", kind="income", category=cats["salary"])
    assert db_session.get(Transaction, tx.id).amount == D("2500.00")
    assert lines(db_session, tx.id) == []
    refused(db_session, lambda: tx_service.create_transaction(
        db_session, alice.id, account_id=accounts[0].id, date=JAN, amount="10", kind="income",
        category_id=cats["groceries"]), message="expense category")
    refused(db_session, lambda: tx_service.create_transaction(
        db_session, alice.id, account_id=accounts[0].id, date=JAN, amount="-10",
        category_id=cats["salary"]), message="income category")
    refused(db_session, lambda: tx_service.create_transaction(
        db_session, alice.id, account_id=accounts[0].id, date=JAN, amount="10", kind="transfer"),
        message="transfer")
    check_ledger(db_session)


def test_create_split(db_session, alice, accounts, cats):
    tx = tx_service.create_transaction(
        db_session, alice.id, account_id=accounts[0].id, date=JAN, amount="-100.00",
        splits=[Split(cats["groceries"], D("70.00"), "food"), Split(cats["coffee"], D("45.00")),
                Split(None, D("-15.00"), "bottle deposit back")])
    db_session.commit()
    assert row(db_session, tx.id).category_id is None  # several categories: none on the header
    assert lines(db_session, tx.id) == sorted([(cats["groceries"], D("70.00"), None),
                                               (cats["coffee"], D("45.00"), None),
                                               (None, D("-15.00"), None)], key=repr)
    single = tx_service.create_transaction(db_session, alice.id, account_id=accounts[0].id, date=JAN,
                                           amount="-5", splits=[Split(cats["fuel"], D("5"))])
    db_session.commit()
    assert row(db_session, single.id).category_id == cats["fuel"]
    check_ledger(db_session)


@pytest.mark.parametrize("split_lines, message", [
    ([(None, "60.00"), (None, "30.00")], "add up to"),
    ([(None, "100.01")], "add up to"),
    ([(None, "100.00"), (None, "0")], "cannot be zero"),
    ([(None, "50.005"), (None, "49.995")], "two decimals"),
    ([(None, "abc"), (None, "100")], "not an amount"),
    ([("salary", "100.00")], "income category"),
])
def test_split_that_does_not_add_up_writes_nothing(db_session, alice, accounts, cats, split_lines, message):
    expense(db_session, alice, accounts[0], "-1.00")  # something already there, to stay unchanged
    splits = [Split(cats[c] if c else None, amount) for c, amount in split_lines]
    refused(db_session, lambda: tx_service.create_transaction(
        db_session, alice.id, account_id=accounts[0].id, date=JAN, amount="-100.00", splits=splits),
        message=message)


def test_create_transfer(db_session, alice, accounts):
    checking, card = accounts
    out_leg, in_leg = tx_service.create_transfer(db_session, alice.id, from_account_id=checking.id,
                                                 to_account_id=card.id, date=JAN, amount="250.00")
    db_session.commit()
    legs = db_session.scalars(select(Transaction).where(Transaction.transfer_group == out_leg.transfer_group)
                              .order_by(Transaction.amount)).all()
    assert [(t.account_id, t.amount, t.kind) for t in legs] == [
        (checking.id, D("-250.00"), "transfer"), (card.id, D("250.00"), "transfer")]
    assert lines(db_session, out_leg.id) == lines(db_session, in_leg.id) == []
    refused(db_session, lambda: tx_service.create_transfer(
        db_session, alice.id, from_account_id=checking.id, to_account_id=card.id, date=JAN, amount="-5"),
        message="negative")
    refused(db_session, lambda: tx_service.create_transfer(
        db_session, alice.id, from_account_id=checking.id, to_account_id=card.id, date=JAN, amount="0"),
        message="zero")
    check_ledger(db_session)


# -- updating -------------------------------------------------------------------------------------

def _update(session, user, tx_id, **changes) -> Transaction:
    version = session.get(Transaction, tx_id).version
    tx = tx_service.update_transaction(session, user.id, tx_id, expected_version=version, **changes)
    session.commit()
    assert session.get(Transaction, tx_id).version > version, "every change bumps the version"
    return tx


def test_update_amount(db_session, alice, accounts, cats):
    tx = expense(db_session, alice, accounts[0], "-42.10", category=cats["groceries"])
    _update(db_session, alice, tx.id, amount="-50")
    assert db_session.get(Transaction, tx.id).amount == D("-50.00")
    assert lines(db_session, tx.id) == [(cats["groceries"], D("50.00"), None)]
    _update(db_session, alice, tx.id, amount="12.00")  # now a refund
    assert lines(db_session, tx.id) == [(cats["groceries"], D("-12.00"), None)]
    refused(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, tx.id, expected_version=tx.version, amount="0"), message="zero")
    check_ledger(db_session)


def test_update_category_moves_budget(db_session, alice, accounts, cats):
    groceries_budget = budget(db_session, alice, cats["groceries"])
    fuel_budget = budget(db_session, alice, cats["fuel"])
    tx = expense(db_session, alice, accounts[0], "-20", category=cats["groceries"])
    assert lines(db_session, tx.id) == [(cats["groceries"], D("20.00"), groceries_budget.id)]
    _update(db_session, alice, tx.id, category_id=cats["fuel"])
    assert row(db_session, tx.id).category_id == cats["fuel"]
    assert lines(db_session, tx.id) == [(cats["fuel"], D("20.00"), fuel_budget.id)]
    _update(db_session, alice, tx.id, category_id=None)
    assert lines(db_session, tx.id) == [(None, D("20.00"), None)]
    refused(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, tx.id, expected_version=db_session.get(Transaction, tx.id).version,
        category_id=cats["salary"]), message="income category")
    check_ledger(db_session)


def test_update_date_and_account(db_session, alice, accounts, cats):
    checking, card = accounts
    jan_budget = budget(db_session, alice, cats["food"], day=JAN)
    feb_budget = budget(db_session, alice, cats["food"], day=FEB)
    tx = expense(db_session, alice, checking, "-9.99", category=cats["coffee"])
    assert lines(db_session, tx.id)[0][2] == jan_budget.id
    _update(db_session, alice, tx.id, date="2026-02-28")
    e = db_session.scalar(select(Expense).where(Expense.transaction_id == tx.id))
    assert (e.date, e.budget_id) == (date(2026, 2, 28), feb_budget.id)
    _update(db_session, alice, tx.id, account_id=card.id)
    db_session.expire_all()
    assert (e.account_id, row(db_session, tx.id).account_id) == (card.id, card.id)
    _update(db_session, alice, tx.id, date=date(2026, 3, 1), account_id=checking.id, amount="-1")
    assert lines(db_session, tx.id) == [(cats["coffee"], D("1.00"), None)]  # March has no Food budget
    assert db_session.execute(select(Expense.date, Expense.account_id)
                              .where(Expense.transaction_id == tx.id)).one() == (date(2026, 3, 1), checking.id)
    refused(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, tx.id, expected_version=db_session.get(Transaction, tx.id).version,
        date="March 1st"), message="not a date")
    check_ledger(db_session)


def test_update_split_lines(db_session, alice, accounts, cats):
    tx = tx_service.create_transaction(db_session, alice.id, account_id=accounts[0].id, date=JAN,
                                       amount="-30", splits=[Split(cats["groceries"], D("20")),
                                                             Split(cats["coffee"], D("10"))])
    db_session.commit()
    # The amount of a split cannot change alone: the lines would no longer add up.
    refused(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, tx.id, expected_version=db_session.get(Transaction, tx.id).version,
        amount="-40"), message="split")
    # New lines with the same total: the transaction row itself does not change, the version must.
    _update(db_session, alice, tx.id, splits=[Split(cats["fuel"], D("25")), Split(cats["coffee"], D("5"))])
    assert lines(db_session, tx.id) == sorted([(cats["fuel"], D("25.00"), None),
                                               (cats["coffee"], D("5.00"), None)], key=repr)
    _update(db_session, alice, tx.id, amount="-35", splits=[Split(cats["fuel"], D("35"))])
    assert lines(db_session, tx.id) == [(cats["fuel"], D("35.00"), None)]
    refused(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, tx.id, expected_version=db_session.get(Transaction, tx.id).version,
        splits=[Split(cats["fuel"], D("30")), Split(None, D("4"))]), message="add up to")
    # Choosing one category for a split collapses it into one line.
    tx2 = tx_service.create_transaction(db_session, alice.id, account_id=accounts[0].id, date=JAN,
                                        amount="-30", splits=[Split(cats["groceries"], D("20")),
                                                              Split(cats["coffee"], D("10"))])
    db_session.commit()
    _update(db_session, alice, tx2.id, category_id=cats["restaurants"])
    assert lines(db_session, tx2.id) == [(cats["restaurants"], D("30.00"), None)]
    check_ledger(db_session)


def test_update_kind(db_session, alice, accounts, cats):
    refund = expense(db_session, alice, accounts[0], "25", category=cats["groceries"])
    _update(db_session, alice, refund.id, kind="income")
    stored = row(db_session, refund.id)
    assert (stored.kind, stored.category_id) == ("income", None)  # an expense category does not stay
    assert lines(db_session, refund.id) == []
    _update(db_session, alice, refund.id, kind="expense")
    assert lines(db_session, refund.id) == [(None, D("-25.00"), None)]

    purchase = expense(db_session, alice, accounts[0], "-25", category=cats["groceries"])
    refused(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, purchase.id, expected_version=db_session.get(Transaction, purchase.id).version,
        kind="income"), message="positive")
    salary = expense(db_session, alice, accounts[0], "1000", kind="income", category=cats["salary"])
    refused(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, salary.id, expected_version=db_session.get(Transaction, salary.id).version,
        kind="expense"), message="income category")
    _update(db_session, alice, salary.id, kind="expense", category_id=cats["food"])
    assert lines(db_session, salary.id) == [(cats["food"], D("-1000.00"), None)]
    refused(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, salary.id, expected_version=db_session.get(Transaction, salary.id).version,
        kind="transfer"), message="transfer")
    check_ledger(db_session)


def test_update_transfer(db_session, alice, accounts):
    checking, card = accounts
    out_leg, in_leg = tx_service.create_transfer(db_session, alice.id, from_account_id=checking.id,
                                                 to_account_id=card.id, date=JAN, amount="80")
    db_session.commit()
    _update(db_session, alice, in_leg.id, date=FEB, description="card payment")
    assert row(db_session, out_leg.id).date == row(db_session, in_leg.id).date == FEB
    for change in ({"amount": "90"}, {"account_id": checking.id}, {"kind": "expense"}, {"category_id": 1}):
        refused(db_session, lambda change=change: tx_service.update_transaction(
            db_session, alice.id, out_leg.id, expected_version=db_session.get(Transaction, out_leg.id).version,
            **change), message="transfer")
    check_ledger(db_session)


def test_update_refuses_unknown_fields(db_session, alice, accounts):
    tx = expense(db_session, alice, accounts[0], "-5")
    refused(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, tx.id, expected_version=tx.version, external_id="x", version=99),
        message="cannot be changed")


def test_version_conflict_changes_nothing(db_session, alice, accounts, cats):
    tx = expense(db_session, alice, accounts[0], "-10", category=cats["groceries"])
    first_read = db_session.get(Transaction, tx.id).version
    _update(db_session, alice, tx.id, amount="-11")  # someone else saved meanwhile
    current = db_session.get(Transaction, tx.id).version
    assert current != first_read
    error = refused(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, tx.id, expected_version=first_read, amount="-99", category_id=cats["fuel"]),
        Conflict, message="changed")
    assert error.current is not None
    assert db_session.get(Transaction, tx.id).amount == D("-11.00")
    assert db_session.get(Transaction, tx.id).version == current
    assert lines(db_session, tx.id) == [(cats["groceries"], D("11.00"), None)]


# -- deleting -------------------------------------------------------------------------------------

def test_delete(db_session, alice, accounts, cats, make_user, make_account):
    checking, card = accounts
    keep = expense(db_session, alice, checking, "-1", category=cats["fuel"])
    split = tx_service.create_transaction(db_session, alice.id, account_id=checking.id, date=JAN, amount="-3",
                                          splits=[Split(None, D("1")), Split(None, D("2"))])
    db_session.commit()
    assert tx_service.delete_transaction(db_session, alice.id, split.id) == [split.id]
    db_session.commit()
    assert row(db_session, split.id) is None and lines(db_session, split.id) == []
    out_leg, in_leg = tx_service.create_transfer(db_session, alice.id, from_account_id=checking.id,
                                                 to_account_id=card.id, date=JAN, amount="5")
    db_session.commit()
    assert sorted(tx_service.delete_transaction(db_session, alice.id, in_leg.id)) == sorted(
        [out_leg.id, in_leg.id])
    db_session.commit()
    assert row(db_session, out_leg.id) is None
    bob = make_user("bob@example.com")
    bobs = expense(db_session, bob, make_account(bob, "Bob's"), "-7")
    refused(db_session, lambda: tx_service.delete_transaction(db_session, alice.id, bobs.id), NotFound)
    refused(db_session, lambda: tx_service.delete_transaction(db_session, alice.id, "1; DROP TABLE x"),
            ServiceError)
    assert [t.id for t in db_session.scalars(select(Transaction).order_by(Transaction.id))] == [keep.id, bobs.id]
    check_ledger(db_session)


# -- budget assignment ----------------------------------------------------------------------------

def test_child_budget_wins_over_parent(db_session, alice, accounts, cats):
    food = budget(db_session, alice, cats["food"], "400")
    groceries = budget(db_session, alice, cats["groceries"], "250")
    in_groceries = expense(db_session, alice, accounts[0], "-30", category=cats["groceries"])
    in_coffee = expense(db_session, alice, accounts[0], "-4", category=cats["coffee"])
    in_food = expense(db_session, alice, accounts[0], "-6", category=cats["food"])
    assert lines(db_session, in_groceries.id)[0][2] == groceries.id
    assert lines(db_session, in_coffee.id)[0][2] == food.id  # no Coffee budget: the parent's covers it
    assert lines(db_session, in_food.id)[0][2] == food.id
    other_month = expense(db_session, alice, accounts[0], "-6", day=FEB, category=cats["groceries"])
    assert lines(db_session, other_month.id)[0][2] is None
    assert budget_service.spent_in_budget(db_session, alice.id, food.id) == D("10.00")
    assert budget_service.spent_in_budget(db_session, alice.id, groceries.id) == D("30.00")
    check_ledger(db_session)


def test_shortest_period_wins(db_session, alice, accounts, cats):
    year = budget(db_session, alice, cats["groceries"], "3000", period_type="yearly")
    month = budget(db_session, alice, cats["groceries"], "250", day=date(2026, 2, 1))
    week = budget(db_session, alice, cats["groceries"], "60", day=date(2026, 2, 11), period_type="weekly")
    assert (week.start_date, week.end_date) == (date(2026, 2, 9), date(2026, 2, 15))
    days = {date(2026, 1, 5): year.id, date(2026, 2, 1): month.id, date(2026, 2, 12): week.id}
    for day, expected in days.items():
        tx = expense(db_session, alice, accounts[0], "-2", day=day, category=cats["groceries"])
        assert lines(db_session, tx.id)[0][2] == expected, day
    check_ledger(db_session)


def test_budget_created_after_expenses_reassigns_them(db_session, alice, accounts, cats):
    coffee = expense(db_session, alice, accounts[0], "-4", category=cats["coffee"])
    groceries = expense(db_session, alice, accounts[0], "-40", category=cats["groceries"])
    later = expense(db_session, alice, accounts[0], "-40", day=FEB, category=cats["groceries"])
    food = budget(db_session, alice, cats["food"], "400")
    assert [lines(db_session, t.id)[0][2] for t in (coffee, groceries, later)] == [food.id, food.id, None]
    own = budget(db_session, alice, cats["groceries"], "100")
    assert [lines(db_session, t.id)[0][2] for t in (coffee, groceries, later)] == [food.id, own.id, None]
    # A custom period starting later is the shorter, more specific one where both cover the day.
    custom = budget(db_session, alice, cats["groceries"], "50", day=date(2026, 1, 10), period_type="custom",
                    end_date=date(2026, 2, 20))
    assert [lines(db_session, t.id)[0][2] for t in (coffee, groceries, later)] == [food.id, custom.id, custom.id]
    check_ledger(db_session)


def test_deleting_a_budget_reassigns(db_session, alice, accounts, cats):
    food = budget(db_session, alice, cats["food"], "400")
    groceries = budget(db_session, alice, cats["groceries"], "100")
    tx = expense(db_session, alice, accounts[0], "-40", category=cats["groceries"])
    assert lines(db_session, tx.id)[0][2] == groceries.id
    budget_service.delete_budget(db_session, alice.id, groceries.id)
    db_session.commit()
    assert lines(db_session, tx.id)[0][2] == food.id
    budget_service.delete_budget(db_session, alice.id, food.id)
    db_session.commit()
    assert lines(db_session, tx.id)[0][2] is None
    assert db_session.get(Transaction, tx.id) is not None
    refused(db_session, lambda: budget_service.delete_budget(db_session, alice.id, food.id), NotFound)
    check_ledger(db_session)


# -- the state machine ----------------------------------------------------------------------------

_HOLDER: dict = {}  # the session-scoped Flask app, handed over by the test function below
DAY0 = date(2026, 1, 1)
# A small world (two months, a few categories) so that budgets and expenses collide often.
days = st.integers(0, 59).map(lambda n: DAY0 + timedelta(days=n))
cents = st.integers(-40000, 40000).filter(bool).map(lambda c: D(c).scaleb(-2))
positive = st.integers(1, 40000).map(lambda c: D(c).scaleb(-2))
EXPENSE_CATS = ("food", "groceries", "own", "transportation", "fuel")
maybe_expense_cat = st.sampled_from((None, *EXPENSE_CATS))
any_cat = st.sampled_from((None, *EXPENSE_CATS, "salary", "income"))


class LedgerMachine(RuleBasedStateMachine):
    """Random sequences of writes by Alice (Bob has his own budgets and spending, never touched).

    ``self.txs`` is the model: what each of Alice's transactions should look like after the writes,
    worked out here without the service. Every write that the model says is valid must succeed, and
    every write it says is invalid must fail with a ServiceError and change nothing.
    """

    def __init__(self):
        super().__init__()
        self.ctx = _HOLDER["app"].app_context()
        self.ctx.push()
        s = self.session = db.session
        assert s.scalar(select(func.count()).select_from(User)) == 0, "leftover users"
        alice = User(email="alice@example.com", display_name="Alice", password_hash="x")
        bob = User(email="bob@example.com", display_name="Bob", password_hash="x")
        s.add_all([alice, bob])
        s.flush()
        self.alice, self.bob = alice.id, bob.id
        accounts = [Account(user_id=alice.id, name=n) for n in ("Checking", "Card", "Cash")]
        bobs_account = Account(user_id=bob.id, name="Checking")
        s.add_all([*accounts, bobs_account])
        s.flush()
        self.accounts = [a.id for a in accounts]
        self.bobs_account = bobs_account.id
        names = ("Food", "Groceries", "Transportation", "Fuel", "Salary", "Income")
        self.cat = {n.lower(): _builtin(s, n) for n in names}
        own = Category(user_id=alice.id, parent_id=self.cat["food"], name="Snacks", kind="expense")
        s.add(own)
        s.flush()
        self.cat["own"] = own.id
        self.cat[None] = None
        self.kind_of = {c: ("income" if n in ("salary", "income") else "expense")
                        for n, c in self.cat.items() if c is not None}
        # Bob budgets the same categories for the same months and spends in them.
        for month in (1, 2, 3):
            for name in ("food", "groceries"):
                budget_service.create_budget(s, bob.id, category_id=self.cat[name], amount="100",
                                             start_date=date(2026, month, 1))
        tx_service.create_transaction(s, bob.id, account_id=bobs_account.id, date=date(2026, 2, 3),
                                      amount="-12.34", category_id=self.cat["groceries"])
        s.commit()
        self.txs: dict[int, dict] = {}
        self.budgets: dict[int, tuple] = {}  # id -> (category_id, start)
        # Alice starts with a parent and a child budget for January: deletes and edits then move lines
        # between them from the first steps on.
        for name in ("food", "groceries"):
            created = budget_service.create_budget(s, alice.id, category_id=self.cat[name], amount="200",
                                                   start_date=DAY0)
            self.budgets[created.id] = (self.cat[name], DAY0)
        s.commit()

    def teardown(self):
        try:
            self.session.rollback()
            wipe_user_data(self.session)
        finally:
            db.session.remove()
            self.ctx.pop()

    # -- helpers
    def _attempt(self, expect_ok: bool, call):
        """Run a write; it must succeed exactly when the model expects it to."""
        before = counts(self.session)
        try:
            result = call()
        except ServiceError as exc:
            self.session.rollback()
            assert not expect_ok, f"refused a valid write: {exc.message}"
            assert exc.message
            assert counts(self.session) == before
            return None
        assert expect_ok, "accepted an invalid write"
        self.session.commit()
        return result

    def _record(self, tx_id, kind, amount, day, account, category, lines_, group=None):
        self.txs[tx_id] = dict(kind=kind, amount=amount, date=day, account=account, category=category,
                               lines=Counter(lines_), group=group)

    # -- creating
    @rule(account=st.integers(0, 2), day=days, amount=cents, category=any_cat)
    def create_expense(self, account, day, amount, category):
        cid = self.cat[category]
        ok = cid is None or self.kind_of[cid] == "expense"
        tx = self._attempt(ok, lambda: tx_service.create_transaction(
            self.session, self.alice, account_id=self.accounts[account], date=day, amount=amount,
            category_id=cid))
        if tx is not None:
            self._record(tx.id, "expense", amount, day, self.accounts[account], cid, [(cid, -amount)])

    @rule(account=st.integers(0, 2), day=days,
          parts=st.lists(st.tuples(maybe_expense_cat, cents), min_size=1, max_size=3))
    def create_split(self, account, day, parts):
        total = sum((a for _, a in parts), D(0))
        splits = [Split(self.cat[c], a) for c, a in parts]
        tx = self._attempt(total != 0, lambda: tx_service.create_transaction(
            self.session, self.alice, account_id=self.accounts[account], date=day, amount=-total,
            splits=splits))
        if tx is not None:
            header = self.cat[parts[0][0]] if len(parts) == 1 else None
            self._record(tx.id, "expense", -total, day, self.accounts[account], header,
                         [(self.cat[c], a) for c, a in parts])

    @rule(account=st.integers(0, 2), day=days, amount=cents, category=st.sampled_from((None, "salary", "income")))
    def create_income(self, account, day, amount, category):
        cid = self.cat[category]
        tx = self._attempt(amount > 0, lambda: tx_service.create_transaction(
            self.session, self.alice, account_id=self.accounts[account], date=day, amount=amount,
            kind="income", category_id=cid))
        if tx is not None:
            self._record(tx.id, "income", amount, day, self.accounts[account], cid, [])

    @rule(source=st.integers(0, 2), dest=st.integers(0, 2), day=days, amount=positive)
    def create_transfer(self, source, dest, day, amount):
        legs = self._attempt(source != dest, lambda: tx_service.create_transfer(
            self.session, self.alice, from_account_id=self.accounts[source],
            to_account_id=self.accounts[dest], date=day, amount=amount))
        if legs is not None:
            out_leg, in_leg = legs
            group = self.session.get(Transaction, out_leg.id).transfer_group
            self._record(out_leg.id, "transfer", -amount, day, self.accounts[source], None, [], group)
            self._record(in_leg.id, "transfer", amount, day, self.accounts[dest], None, [], group)

    # -- editing
    def _pick(self, data):
        return data.draw(st.sampled_from(sorted(self.txs)), label="transaction")

    def _update(self, tx_id, expect_ok, changes_something=True, **changes):
        version = self.session.get(Transaction, tx_id).version
        tx = self._attempt(expect_ok, lambda: tx_service.update_transaction(
            self.session, self.alice, tx_id, expected_version=version, **changes))
        if tx is not None and changes_something:
            assert self.session.get(Transaction, tx_id).version > version, "a change must bump the version"
        return tx is not None

    @precondition(lambda self: self.txs)
    @rule(data=st.data(), amount=cents)
    def edit_amount(self, data, amount):
        tx_id = self._pick(data)
        m = self.txs[tx_id]
        ok = {"transfer": False, "income": amount > 0,
              "expense": sum(m["lines"].values()) <= 1}[m["kind"]]
        changes = m["kind"] == "expense" or amount != m["amount"]  # expense lines are rewritten
        if self._update(tx_id, ok, changes, amount=amount):
            m["amount"] = amount
            if m["kind"] == "expense":
                m["lines"] = Counter([(m["category"], -amount)])

    @precondition(lambda self: self.txs)
    @rule(data=st.data(), category=any_cat)
    def edit_category(self, data, category):
        tx_id = self._pick(data)
        m = self.txs[tx_id]
        cid = self.cat[category]
        ok = m["kind"] != "transfer" and (cid is None or self.kind_of[cid] == m["kind"])
        if self._update(tx_id, ok, m["kind"] == "expense" or cid != m["category"], category_id=cid):
            m["category"] = cid
            if m["kind"] == "expense":
                m["lines"] = Counter([(cid, -m["amount"])])

    @precondition(lambda self: self.txs)
    @rule(data=st.data(), day=days)
    def edit_date(self, data, day):
        tx_id = self._pick(data)
        if self._update(tx_id, True, day != self.txs[tx_id]["date"], date=day.isoformat()):
            group = self.txs[tx_id]["group"]
            for m in self.txs.values():
                if m is self.txs[tx_id] or (group is not None and m["group"] == group):
                    m["date"] = day

    @precondition(lambda self: self.txs)
    @rule(data=st.data(), account=st.integers(0, 3))
    def edit_account(self, data, account):
        tx_id = self._pick(data)
        m = self.txs[tx_id]
        if account == 3:  # Bob's account: never found, whatever the kind
            version = self.session.get(Transaction, tx_id).version
            before = counts(self.session)
            with pytest.raises((NotFound, ServiceError)):
                tx_service.update_transaction(self.session, self.alice, tx_id, expected_version=version,
                                              account_id=self.bobs_account)
            self.session.rollback()
            assert counts(self.session) == before
            return
        if self._update(tx_id, m["kind"] != "transfer", self.accounts[account] != m["account"],
                        account_id=self.accounts[account]):
            m["account"] = self.accounts[account]

    @precondition(lambda self: self.txs)
    @rule(data=st.data())
    def edit_kind(self, data):
        tx_id = self._pick(data)
        m = self.txs[tx_id]
        if m["kind"] == "transfer":
            self._update(tx_id, False, kind="expense")
            return
        new = "income" if m["kind"] == "expense" else "expense"
        if new == "income":
            ok = m["amount"] > 0
        else:
            ok = m["category"] is None  # an income category cannot stay on an expense
        if self._update(tx_id, ok, kind=new):
            m["kind"] = new
            if new == "income":
                m["category"], m["lines"] = None, Counter()
            else:
                m["lines"] = Counter([(None, -m["amount"])])

    @precondition(lambda self: any(m["kind"] == "expense" for m in self.txs.values()))
    @rule(data=st.data(), parts=st.lists(st.tuples(maybe_expense_cat, cents), min_size=1, max_size=3))
    def edit_splits(self, data, parts):
        tx_id = data.draw(st.sampled_from(sorted(t for t, m in self.txs.items() if m["kind"] == "expense")))
        m = self.txs[tx_id]
        total = sum((a for _, a in parts), D(0))
        if self._update(tx_id, total != 0, amount=-total, splits=[Split(self.cat[c], a) for c, a in parts]):
            m["amount"] = -total
            m["category"] = self.cat[parts[0][0]] if len(parts) == 1 else None
            m["lines"] = Counter((self.cat[c], a) for c, a in parts)

    @precondition(lambda self: self.txs)
    @rule(data=st.data(), ahead=st.booleans())
    def edit_with_stale_version(self, data, ahead):
        tx_id = self._pick(data)
        version = self.session.get(Transaction, tx_id).version
        before = counts(self.session)
        with pytest.raises(Conflict):
            tx_service.update_transaction(self.session, self.alice, tx_id,
                                          expected_version=version + (1 if ahead else -1), date=DAY0)
        self.session.rollback()
        assert counts(self.session) == before

    @precondition(lambda self: self.txs)
    @rule(data=st.data())
    def delete(self, data):
        tx_id = self._pick(data)
        group = self.txs[tx_id]["group"]
        doomed = {t for t, m in self.txs.items() if t == tx_id or (group is not None and m["group"] == group)}
        deleted = tx_service.delete_transaction(self.session, self.alice, tx_id)
        self.session.commit()
        assert set(deleted) == doomed
        for t in doomed:
            del self.txs[t]

    # -- budgets
    @rule(category=st.sampled_from(EXPENSE_CATS + ("salary",)), day=days,
          period=st.sampled_from(("monthly", "monthly", "weekly", "yearly", "custom")), length=st.integers(0, 40),
          amount=st.integers(0, 100000).map(lambda c: D(c).scaleb(-2)))
    def create_budget(self, category, day, period, length, amount):
        cid = self.cat[category]
        start = {"monthly": day.replace(day=1), "weekly": day - timedelta(days=day.weekday()),
                 "yearly": date(day.year, 1, 1), "custom": day}[period]
        ok = self.kind_of[cid] == "expense" and (cid, start) not in self.budgets.values()
        created = self._attempt(ok, lambda: budget_service.create_budget(
            self.session, self.alice, category_id=cid, amount=amount, period_type=period, start_date=day,
            end_date=day + timedelta(days=length)))
        if created is not None:
            self.budgets[created.id] = (cid, start)

    @precondition(lambda self: self.budgets)
    @rule(data=st.data())
    def delete_budget(self, data):
        budget_id = data.draw(st.sampled_from(sorted(self.budgets)))
        budget_service.delete_budget(self.session, self.alice, budget_id)
        self.session.commit()
        del self.budgets[budget_id]

    # -- after every step
    @invariant()
    def ledger_is_consistent(self):
        check_ledger(self.session)

    @invariant()
    def database_matches_model(self):
        s = self.session
        stored = {r.id: r for r in s.execute(select(
            Transaction.id, Transaction.kind, Transaction.amount, Transaction.date, Transaction.account_id,
            Transaction.category_id, Transaction.transfer_group).where(Transaction.user_id == self.alice))}
        assert set(stored) == set(self.txs)
        stored_lines: dict[int, Counter] = {t: Counter() for t in stored}
        for e in s.execute(select(Expense.transaction_id, Expense.category_id, Expense.amount)
                           .where(Expense.user_id == self.alice)):
            stored_lines[e.transaction_id][(e.category_id, e.amount)] += 1
        for tx_id, m in self.txs.items():
            r = stored[tx_id]
            assert (r.kind, r.amount, r.date, r.account_id, r.category_id) == (
                m["kind"], m["amount"], m["date"], m["account"], m["category"]), tx_id
            assert r.transfer_group == m["group"]
            assert stored_lines[tx_id] == m["lines"], tx_id
        assert set(s.scalars(select(Budget.id).where(Budget.user_id == self.alice))) == set(self.budgets)
        # Bob's rows are never touched by Alice's writes.
        assert s.scalar(select(func.count()).select_from(Budget).where(Budget.user_id == self.bob)) == 6
        assert s.scalar(select(func.count()).select_from(Expense).where(Expense.user_id == self.bob)) == 1


def test_ledger_state_machine(app, db_session):
    """db_session only guarantees a clean database before and after; the machine has its own context."""
    db_session.commit()
    _HOLDER["app"] = app
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=20, stateful_step_count=15, deadline=None))
