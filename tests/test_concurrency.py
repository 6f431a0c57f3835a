"""Several writers at once, as several gunicorn workers are: no "database is locked", no lost write.

Each thread has its own app context, so its own session and its own database connection (the same as
a worker process at the database's level). On SQLite this leans on what models/db.py switches on for
every connection: WAL, a busy timeout, foreign keys. It runs on PostgreSQL too.
"""
from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from conftest import is_postgres
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from dashboard.services import budgets as budgets_svc
from dashboard.services.errors import Conflict
from dashboard.services.transactions import create_transaction
from models import Budget, Category, Expense, MonthlyRollup, Transaction, User, db

THREADS = 6
ROUNDS = 15


@pytest.fixture()
def cats(db_session):
    return {c.name: c.id for c in db_session.scalars(select(Category).where(Category.user_id.is_(None)))}


def test_sqlite_connections_get_wal_a_busy_timeout_and_foreign_keys(app):
    if is_postgres():
        pytest.skip("SQLite pragmas")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def _run(app, work) -> list[BaseException]:
    """``work(index)`` in THREADS threads at once, each in its own app context; the errors raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def target(index):
        with app.app_context():
            try:
                start.wait()
                work(index)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


def test_concurrent_budget_edits_and_new_transactions_lose_nothing(app, db_session, make_user, make_account,
                                                                    cats):
    alice = make_user("alice@example.com")
    account = make_account(alice)
    shared = budgets_svc.create_budget(db_session, alice.id, category_id=cats["Groceries"], amount="0.00",
                                       start_date=date(2026, 3, 1))
    own = [budgets_svc.create_budget(db_session, alice.id, category_id=cats[name], amount="0.00",
                                     start_date=date(2026, 3, 1))
           for name in ("Rent", "Coffee", "Fuel", "Pharmacy", "Clothing", "Flights")[:THREADS]]
    db_session.commit()
    shared_id, own_ids, user_id, account_id = shared.id, [b.id for b in own], alice.id, account.id
    version_before = db_session.scalar(select(User.data_version).where(User.id == user_id))
    conflicts = [0] * THREADS
    written: dict[int, Decimal] = {}

    def work(index):
        session = db.session
        for round_ in range(ROUNDS):
            # 1. Its own budget: read the version, write, commit (what one grid edit does).
            budget = budgets_svc.get_budget(session, user_id, own_ids[index])
            value = Decimal(f"{index + 1}{round_:02d}.25")
            budgets_svc.update_budget(session, user_id, budget.id, expected_version=budget.version, amount=value)
            session.commit()
            written[own_ids[index]] = value
            # 2. The shared budget: +0.01, again after a version conflict (as a user would retry).
            while True:
                budget = budgets_svc.get_budget(session, user_id, shared_id)
                try:
                    budgets_svc.update_budget(session, user_id, shared_id, expected_version=budget.version,
                                              amount=budget.amount + Decimal("0.01"))
                    session.commit()
                    break
                except Conflict:
                    session.rollback()
                    conflicts[index] += 1
            # 3. A new transaction (its expense line, its budget, the roll-up refresh).
            create_transaction(session, user_id, account_id=account_id, date=date(2026, 3, 1 + round_),
                               amount=Decimal("-1.00"), category_id=cats["Groceries"], payee=f"shop {index}")
            session.commit()

    errors = _run(app, work)
    assert not [e for e in errors if isinstance(e, OperationalError)], errors  # "database is locked"
    assert errors == []

    db_session.expire_all()
    stored = dict(db_session.execute(select(Budget.id, Budget.amount).where(Budget.id.in_(own_ids))).all())
    assert stored == written  # every thread's last edit of its own budget is there
    shared_row = db_session.get(Budget, shared_id)
    assert shared_row.amount == Decimal("0.01") * THREADS * ROUNDS  # no increment lost
    assert shared_row.version == 1 + THREADS * ROUNDS
    count = db_session.scalar(select(func.count()).select_from(Transaction).where(Transaction.user_id == user_id))
    assert count == THREADS * ROUNDS
    spent = db_session.scalar(select(func.sum(Expense.amount)).where(Expense.user_id == user_id))
    rolled = db_session.scalar(select(func.sum(MonthlyRollup.total_cents)).where(
        MonthlyRollup.user_id == user_id, MonthlyRollup.flow == "spending"))
    assert spent == Decimal(THREADS * ROUNDS) and rolled == THREADS * ROUNDS * 100  # the roll-up kept up
    # Every one of those commits moved the data version: no cached answer can predate any of them.
    version_after = db_session.scalar(select(User.data_version).where(User.id == user_id))
    assert version_after >= version_before + 3 * THREADS * ROUNDS
    print(f"version conflicts retried: {sum(conflicts)}")


def test_bulk_edits_category_merges_and_new_transactions_at_once_keep_the_rollups_exact(
        app, db_session, make_user, make_account, cats):
    """Bulk edits (and their undo), a category merge and new transactions of one user at the same time,
    all on the same roll-up keys (the same months, account and categories): every roll-up equals a
    recomputation from the rows afterwards. A bulk edit shifts and folds roll-up rows that another
    writer's commit may be recomputing; without one writer per user at a time the two add the same
    money twice."""
    from test_rollup import assert_exact, assert_folded

    from dashboard.services import bulk_edit
    from dashboard.services import categories as categories_svc
    alice = make_user("alice@example.com")
    account = make_account(alice)
    user_id, account_id = alice.id, account.id
    for index in range(THREADS):
        for day in range(1, 8):
            create_transaction(db_session, user_id, account_id=account_id, date=date(2026, 3, day),
                               amount=Decimal("-2.00"), category_id=cats["Groceries"], payee=f"shop {index}")
    mine = [categories_svc.create_category(db_session, user_id, name=f"Mine {i}") for i in range(2)]
    db_session.commit()
    mine_ids = [c.id for c in mine]

    def work(index):
        session = db.session
        for round_ in range(4):
            if index % 3 == 0:   # a bulk edit of its own payee's rows, then its undo
                where = [Transaction.payee == f"shop {index}"]
                actions = bulk_edit.make_actions(session, user_id, category_id=cats["Coffee"])
                batch = bulk_edit.apply(session, user_id, where, actions, label="race")
                session.commit()
                bulk_edit.undo(session, user_id, batch.id)
                session.commit()
            elif index % 3 == 1:   # new rows on the same keys
                create_transaction(session, user_id, account_id=account_id, date=date(2026, 3, 1 + round_),
                                   amount=Decimal("-1.00"), category_id=cats["Groceries"], payee=f"new {index}")
                session.commit()
            elif round_ == 0 and index == 2:   # one merge of a category with rows into another, and back
                source = categories_svc.get_category(session, user_id, mine_ids[0])
                create_transaction(session, user_id, account_id=account_id, date=date(2026, 3, 2),
                                   amount=Decimal("-4.00"), category_id=source.id, payee="shop 0")
                session.commit()
                categories_svc.merge_categories(session, user_id, source.id, mine_ids[1],
                                                expected_version=source.version)
                session.commit()

    errors = _run(app, work)
    assert errors == []
    db_session.expire_all()
    assert_exact(db_session, user_id)
    assert_folded(db_session, user_id)
