"""The database and the services refuse bad data with a clear error, and leave the database unchanged.

Each refused write is followed by a rollback and a row count of every table: nothing was written.
The database rules are tried with raw ORM inserts (what a buggy service or a script could do), the
service rules through the service functions (what a page calls).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError

from dashboard.services import budgets as budget_service
from dashboard.services import transactions as tx_service
from dashboard.services.errors import NotFound, ServiceError
from models import Account, Budget, Category, Expense, Goal, Transaction, User, db

# Every table of the model (a table added later is counted too); the ones a user owns carry user_id.
TABLES = tuple(sorted(db.metadata.tables))
OWNED = tuple(t for t in TABLES if "user_id" in db.metadata.tables[t].c)
CORE = ("accounts", "categories", "budgets", "goals", "transactions", "expenses")
JAN = date(2026, 1, 15)


def counts(session) -> dict[str, int]:
    return {t: session.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}


def builtin(session, name: str) -> int:
    return session.scalar(select(Category.id).where(Category.name == name, Category.user_id.is_(None)))


def refused_by_db(session, *objects, match: tuple[str, ...] = ()) -> IntegrityError:
    """Add ``objects``, expect the flush to fail with IntegrityError; roll back; nothing changed."""
    session.commit()
    before = counts(session)
    session.add_all(objects)
    with pytest.raises(IntegrityError) as info:
        session.flush()
    session.rollback()
    assert counts(session) == before
    message = str(info.value.orig).lower()
    if match:
        assert any(m.lower() in message for m in match), message
    return info.value


def refused_by_service(session, call, exc_type=ServiceError, *, field=None, message=None) -> ServiceError:
    session.commit()
    before = counts(session)
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.message
    if field is not None:
        assert info.value.field == field
    if message is not None:
        assert message.lower() in info.value.message.lower()
    session.rollback()
    assert counts(session) == before
    return info.value


@pytest.fixture()
def alice(make_user):
    return make_user("alice@example.com")


@pytest.fixture()
def bob(make_user):
    return make_user("bob@example.com")


def expense_tx(session, user, account, amount="-10.00", day=JAN, category=None) -> Transaction:
    tx = tx_service.create_transaction(session, user.id, account_id=account.id, date=day, amount=amount,
                                       kind="expense", category_id=category)
    session.commit()
    return tx


# -- budgets ------------------------------------------------------------------------------------------

def test_negative_budget_amount(db_session, alice):
    groceries = builtin(db_session, "Groceries")
    refused_by_db(db_session, Budget(user_id=alice.id, category_id=groceries, amount=Decimal("-1.00"),
                                     start_date=date(2026, 1, 1), end_date=date(2026, 1, 31)),
                  match=("ck_budgets_amount_not_negative",))
    refused_by_service(db_session, lambda: budget_service.create_budget(
        db_session, alice.id, category_id=groceries, amount="-5", start_date=JAN),
        field="amount", message="negative")


def test_budget_end_before_start(db_session, alice):
    groceries = builtin(db_session, "Groceries")
    refused_by_db(db_session, Budget(user_id=alice.id, category_id=groceries, amount=Decimal("10"),
                                     period_type="custom", start_date=date(2026, 2, 1),
                                     end_date=date(2026, 1, 31)),
                  match=("ck_budgets_period_ordered",))
    refused_by_service(db_session, lambda: budget_service.create_budget(
        db_session, alice.id, category_id=groceries, amount="10", period_type="custom",
        start_date="2026-02-01", end_date="2026-01-31"), field="end_date", message="end on or after")


def test_duplicate_budget(db_session, alice, bob):
    groceries = builtin(db_session, "Groceries")
    budget_service.create_budget(db_session, alice.id, category_id=groceries, amount="100", start_date=JAN)
    db_session.commit()
    refused_by_db(db_session, Budget(user_id=alice.id, category_id=groceries, amount=Decimal("5"),
                                     period_type="custom", start_date=date(2026, 1, 1),
                                     end_date=date(2026, 1, 10)),
                  match=("uq_budgets_user_id_category_id_start_date", "unique constraint failed"))
    refused_by_service(db_session, lambda: budget_service.create_budget(
        db_session, alice.id, category_id=groceries, amount="50", start_date=date(2026, 1, 20)),
        field="category", message="already has a budget")
    # Another user may budget the same category for the same month.
    budget_service.create_budget(db_session, bob.id, category_id=groceries, amount="70", start_date=JAN)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Budget)) == 2


def test_budget_for_income_or_unknown_category_refused(db_session, alice, bob):
    refused_by_service(db_session, lambda: budget_service.create_budget(
        db_session, alice.id, category_id=builtin(db_session, "Salary"), amount="5", start_date=JAN),
        field="category", message="income category")
    bobs = Category(user_id=bob.id, name="Bob's hobby", kind="expense")
    db_session.add(bobs)
    db_session.commit()
    refused_by_service(db_session, lambda: budget_service.create_budget(
        db_session, alice.id, category_id=bobs.id, amount="5", start_date=JAN), NotFound, field="category")


# -- transactions ---------------------------------------------------------------------------------

def test_income_with_negative_amount(db_session, alice, make_account):
    account = make_account(alice)
    refused_by_db(db_session, Transaction(user_id=alice.id, account_id=account.id, date=JAN,
                                          amount=Decimal("-5.00"), kind="income"),
                  match=("ck_transactions_income_positive",))
    refused_by_service(db_session, lambda: tx_service.create_transaction(
        db_session, alice.id, account_id=account.id, date=JAN, amount="-5", kind="income"),
        field="amount", message="positive")


def test_zero_amounts(db_session, alice, make_account):
    account = make_account(alice)
    refused_by_db(db_session, Transaction(user_id=alice.id, account_id=account.id, date=JAN,
                                          amount=Decimal("0"), kind="expense"),
                  match=("ck_transactions_amount_nonzero",))
    for kind in ("expense", "income"):
        refused_by_service(db_session, lambda kind=kind: tx_service.create_transaction(
            db_session, alice.id, account_id=account.id, date=JAN, amount="0.00", kind=kind),
            field="amount", message="zero")
    refused_by_service(db_session, lambda: tx_service.create_transfer(
        db_session, alice.id, from_account_id=account.id, to_account_id=account.id, date=JAN,
        amount="5"), field="to_account")
    tx = expense_tx(db_session, alice, account)
    refused_by_db(db_session, Expense(user_id=alice.id, transaction_id=tx.id, account_id=account.id,
                                      date=JAN, amount=Decimal("0")),
                  match=("ck_expenses_amount_nonzero",))


def test_transaction_on_another_users_account(db_session, alice, bob, make_account):
    alices = make_account(alice, "Alice checking")
    bobs = make_account(bob, "Bob checking")
    refused_by_db(db_session, Transaction(user_id=alice.id, account_id=bobs.id, date=JAN,
                                          amount=Decimal("-5.00"), kind="expense"),
                  match=("fk_transactions_account_id_user_id_accounts", "foreign key constraint failed"))
    refused_by_service(db_session, lambda: tx_service.create_transaction(
        db_session, alice.id, account_id=bobs.id, date=JAN, amount="-5"), NotFound, field="account")
    refused_by_service(db_session, lambda: tx_service.create_transfer(
        db_session, alice.id, from_account_id=alices.id, to_account_id=bobs.id, date=JAN, amount="5"),
        NotFound, field="account")
    # Moving one of Alice's transactions onto Bob's account is refused too, and so is touching Bob's.
    tx = expense_tx(db_session, alice, alices)
    refused_by_service(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, tx.id, expected_version=tx.version, account_id=bobs.id), NotFound)
    bob_tx = expense_tx(db_session, bob, bobs)
    refused_by_service(db_session, lambda: tx_service.update_transaction(
        db_session, alice.id, bob_tx.id, expected_version=bob_tx.version, amount="-1"), NotFound)
    refused_by_service(db_session, lambda: tx_service.delete_transaction(db_session, alice.id, bob_tx.id),
                       NotFound)


def test_expense_on_another_users_transaction(db_session, alice, bob, make_account):
    alices = make_account(alice, "Alice checking")
    bob_tx = expense_tx(db_session, bob, make_account(bob, "Bob checking"))
    refused_by_db(db_session, Expense(user_id=alice.id, transaction_id=bob_tx.id, account_id=alices.id,
                                      date=JAN, amount=Decimal("10.00")),
                  match=("fk_expenses_transaction_id_user_id_transactions",
                         "foreign key constraint failed"))


def test_expense_only_ever_in_its_owners_budget(db_session, alice, bob, make_account):
    """The database does not pin ``expenses.budget_id`` to the owner (no composite key there: ON DELETE
    SET NULL would then null ``user_id`` too). The service never crosses users: the covering budget is
    looked up among the expense owner's budgets only, even when another user has a budget for the same
    category and period, or for its parent."""
    groceries, food = builtin(db_session, "Groceries"), builtin(db_session, "Food")
    alices, bobs = make_account(alice, "A"), make_account(bob, "B")
    bob_groceries = budget_service.create_budget(db_session, bob.id, category_id=groceries, amount="100",
                                                 start_date=JAN)
    bob_food = budget_service.create_budget(db_session, bob.id, category_id=food, amount="300",
                                            start_date=JAN)
    db_session.commit()
    alice_tx = expense_tx(db_session, alice, alices, category=groceries)
    bob_tx = expense_tx(db_session, bob, bobs, category=groceries)

    def budget_of(tx):
        return db_session.scalar(select(Expense.budget_id).where(Expense.transaction_id == tx.id))

    assert budget_of(alice_tx) is None  # Bob's budgets do not cover Alice's spending
    assert budget_of(bob_tx) == bob_groceries.id

    alice_budget = budget_service.create_budget(db_session, alice.id, category_id=groceries, amount="80",
                                                start_date=JAN)
    db_session.commit()
    assert budget_of(alice_tx) == alice_budget.id
    assert budget_of(bob_tx) == bob_groceries.id

    budget_service.assign_budgets(db_session, alice.id)
    budget_service.assign_budgets(db_session, bob.id)
    db_session.commit()
    assert budget_of(alice_tx) == alice_budget.id
    assert budget_of(bob_tx) == bob_groceries.id

    budget_service.delete_budget(db_session, alice.id, alice_budget.id)
    db_session.commit()
    assert budget_of(alice_tx) is None  # not Bob's Groceries, not Bob's Food
    budget_service.delete_budget(db_session, bob.id, bob_groceries.id)
    db_session.commit()
    assert budget_of(bob_tx) == bob_food.id
    # Nor may Alice delete Bob's budget.
    refused_by_service(db_session, lambda: budget_service.delete_budget(db_session, alice.id, bob_food.id),
                       NotFound, field="budget")
    # Every expense sits in a budget of its own user.
    crossed = db_session.scalar(text(
        "SELECT count(*) FROM expenses e JOIN budgets b ON b.id = e.budget_id WHERE b.user_id <> e.user_id"))
    assert crossed == 0


# -- users and accounts ---------------------------------------------------------------------------------

def test_duplicate_account_name_per_user(db_session, alice, bob, make_account):
    make_account(alice, "Checking")
    refused_by_db(db_session, Account(user_id=alice.id, name="Checking", type="savings"),
                  match=("uq_accounts_user_id_name", "unique constraint failed"))
    make_account(bob, "Checking")  # another user may use the same name


def test_email_is_stored_lowercase_and_unique(db_session, alice, password_hash):
    refused_by_db(db_session, User(email="Carol@Example.com", display_name="Carol",
                                   password_hash=password_hash),
                  match=("ck_users_email_lowercase",))
    refused_by_db(db_session, User(email="alice@example.com", display_name="Alice again",
                                   password_hash=password_hash),
                  match=("uq_users_email", "unique constraint failed"))
    # "ALICE@example.com" can only arrive lower-cased, and then it is the same address as Alice's.
    refused_by_db(db_session, User(email="ALICE@example.com".lower(), display_name="Alice shouting",
                                   password_hash=password_hash),
                  match=("uq_users_email", "unique constraint failed"))


@pytest.mark.parametrize("model, values, constraint", [
    (Transaction, dict(kind="loan", amount=Decimal("-1")), "ck_transactions_kind_known"),
    (Transaction, dict(kind="expense", amount=Decimal("-1"), transfer_group="x"),
     "ck_transactions_transfer_group_only"),
    (Account, dict(name="", type="checking"), "ck_accounts_name_not_empty"),
    (Account, dict(name="Gold", type="gold"), "ck_accounts_type_known"),
    (Goal, dict(name="Trip", target_amount=Decimal("0")), "ck_goals_target_positive"),
    (Goal, dict(name="Trip", target_amount=Decimal("5"), saved_amount=Decimal("-1")),
     "ck_goals_saved_not_negative"),
    (Category, dict(name="Oddity", kind="transfer"), "ck_categories_kind_known"),
    (User, dict(email="zed@example.com", display_name="Zed", currency="EU", password_hash="x"),
     "ck_users_currency_code"),
])
def test_check_constraints(db_session, alice, make_account, model, values, constraint):
    account = make_account(alice)
    owner = {} if model is User else {"user_id": alice.id}
    if model is Transaction:
        owner.update(account_id=account.id, date=JAN)
    refused_by_db(db_session, model(**owner, **values), match=(constraint,))


# -- deleting a user --------------------------------------------------------------------------------

def _populate(session, user, make_account, tag: str, *, nested: bool = False) -> None:
    """Some of everything for ``user``; ``nested`` adds an own category under an own category."""
    groceries, salary = builtin(session, "Groceries"), builtin(session, "Salary")
    checking = make_account(user, f"{tag} checking")
    savings = make_account(user, f"{tag} savings", type="savings")
    own = Category(user_id=user.id, name=f"{tag} projects", kind="expense")
    own_under_builtin = Category(user_id=user.id, parent_id=builtin(session, "Food"), name=f"{tag} snacks",
                                 kind="expense")
    session.add_all([own, own_under_builtin])
    session.flush()
    line_category = own.id
    if nested:
        own_child = Category(user_id=user.id, parent_id=own.id, name=f"{tag} tools", kind="expense")
        session.add(own_child)
        session.flush()
        line_category = own_child.id
    session.commit()
    budget_service.create_budget(session, user.id, category_id=groceries, amount="300", start_date=JAN)
    budget_service.create_budget(session, user.id, category_id=own.id, amount="50", start_date=JAN)
    tx_service.create_transaction(session, user.id, account_id=checking.id, date=JAN, amount="-42.10",
                                  category_id=groceries)
    tx_service.create_transaction(session, user.id, account_id=checking.id, date=JAN, amount="-30",
                                  splits=[tx_service.Split(line_category, Decimal("20")),
                                          tx_service.Split(own_under_builtin.id, Decimal("10"))])
    tx_service.create_transaction(session, user.id, account_id=checking.id, date=JAN, amount="1000",
                                  kind="income", category_id=salary)
    tx_service.create_transfer(session, user.id, from_account_id=checking.id, to_account_id=savings.id,
                               date=JAN, amount="100")
    session.add(Goal(user_id=user.id, account_id=savings.id, name=f"{tag} trip", target_amount=Decimal("900")))
    session.commit()


def _owned(session, user_id: int) -> dict[str, int]:
    rows = {t: session.scalar(text(f"SELECT count(*) FROM {t} WHERE user_id = :u").bindparams(u=user_id))
            for t in OWNED}
    rows["users"] = session.scalar(text("SELECT count(*) FROM users WHERE id = :u").bindparams(u=user_id))
    return rows


def _delete_user_and_check(session, alice, bob, how: str) -> None:
    bob_before = _owned(session, bob.id)
    assert all(bob_before[t] for t in CORE), bob_before  # Bob has rows in every table
    builtins_before = session.scalar(text("SELECT count(*) FROM categories WHERE user_id IS NULL"))
    alice_id = alice.id

    if how == "orm":
        session.delete(session.get(User, alice_id))
    else:
        session.execute(delete(User).where(User.id == alice_id))
    session.commit()
    session.expire_all()

    assert _owned(session, alice_id) == dict.fromkeys((*OWNED, "users"), 0)
    assert _owned(session, bob.id) == bob_before
    assert session.scalar(text("SELECT count(*) FROM categories WHERE user_id IS NULL")) == builtins_before
    # Bob's expenses still sit in Bob's budgets (Groceries, and his own category's).
    assert session.scalar(text(
        "SELECT count(*) FROM expenses e JOIN budgets b ON b.id = e.budget_id "
        "WHERE e.user_id = :u AND b.user_id = :u").bindparams(u=bob.id)) == 2


@pytest.mark.parametrize("how", ["orm", "sql"])
def test_deleting_a_user_removes_their_rows_only(db_session, alice, bob, make_account, how):
    _populate(db_session, alice, make_account, "A")
    _populate(db_session, bob, make_account, "B")
    _delete_user_and_check(db_session, alice, bob, how)


@pytest.mark.parametrize("how", ["orm", "sql"])
def test_deleting_a_user_with_nested_own_categories(db_session, alice, bob, make_account, how):
    _populate(db_session, alice, make_account, "A", nested=True)
    _populate(db_session, bob, make_account, "B")
    try:
        _delete_user_and_check(db_session, alice, bob, how)
    finally:
        # conftest.wipe_user_data deletes categories in one statement and trips over the same RESTRICT:
        # take the own sub-categories away first.
        db_session.rollback()
        db_session.execute(delete(Category).where(Category.user_id.is_not(None),
                                                  Category.parent_id.in_(
                                                      select(Category.id).where(Category.user_id.is_not(None))
                                                      .scalar_subquery())))
        db_session.commit()
