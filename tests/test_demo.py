"""The demo loader: what it builds, that it is deterministic, and that its bulk rows keep the invariants
the services rely on (checked in SQL against the database, not against the loader's own bookkeeping)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import commit_or_rollback
from sqlalchemy import func, select, text

from dashboard.demo import load_demo
from dashboard.demo_account import DEMO_EMAIL, DEMO_PASSWORD
from dashboard.services.budget_lines import covering_budget_id
from dashboard.services.sql import cents
from models import Account, Budget, Expense, Goal, GoalContribution, MonthlyRollup, Transaction, User

END = date(2026, 6, 15)


@pytest.fixture()
def demo(db_session):
    return commit_or_rollback(db_session, load_demo, end=END)


def _scalar(session, sql: str, **params):
    return session.execute(text(sql), params).scalar_one()


def _rows(session, sql: str, **params) -> list:
    return [tuple(row) for row in session.execute(text(sql), params)]


def assert_invariants(session, user_id: int) -> None:
    """Every rule of dashboard/services/transactions.py, each as one query that must find nothing."""
    # An expense-kind transaction has lines summing to -amount (none at all counts as a mismatch).
    assert _rows(session, """
        SELECT t.id FROM transactions t LEFT JOIN expenses e ON e.transaction_id = t.id
        WHERE t.user_id = :u AND t.kind = 'expense'
        GROUP BY t.id, t.amount HAVING COALESCE(SUM(e.amount), 0) <> -t.amount""", u=user_id) == []
    # Income and transfers have no lines.
    assert _scalar(session, """
        SELECT COUNT(*) FROM expenses e JOIN transactions t ON t.id = e.transaction_id
        WHERE e.user_id = :u AND t.kind <> 'expense'""", u=user_id) == 0
    # Each line copies its transaction's owner, date and account.
    assert _scalar(session, """
        SELECT COUNT(*) FROM expenses e JOIN transactions t ON t.id = e.transaction_id
        WHERE e.user_id = :u AND (e.date <> t.date OR e.account_id <> t.account_id OR e.user_id <> t.user_id)
        """, u=user_id) == 0
    # The header category is the single line's, NULL for a split.
    assert _rows(session, """
        SELECT t.id FROM transactions t JOIN expenses e ON e.transaction_id = t.id
        WHERE t.user_id = :u GROUP BY t.id, t.category_id
        HAVING (COUNT(*) = 1 AND (t.category_id IS NULL OR t.category_id <> MIN(e.category_id)))
            OR (COUNT(*) > 1 AND t.category_id IS NOT NULL)""", u=user_id) == []
    # Income is in an income category; expense lines in expense categories; transfers in none.
    assert _scalar(session, """
        SELECT COUNT(*) FROM transactions t LEFT JOIN categories c ON c.id = t.category_id
        WHERE t.user_id = :u AND ((t.kind = 'income' AND (c.kind IS NULL OR c.kind <> 'income'))
                                  OR (t.kind = 'transfer' AND t.category_id IS NOT NULL))""", u=user_id) == 0
    assert _scalar(session, """
        SELECT COUNT(*) FROM expenses e LEFT JOIN categories c ON c.id = e.category_id
        WHERE e.user_id = :u AND (c.kind IS NULL OR c.kind <> 'expense')""", u=user_id) == 0
    # Each line sits in the budget that covers it, by the services' own rule.
    wrong_budget = session.scalars(
        select(Expense.id).where(
            Expense.user_id == user_id,
            Expense.budget_id.is_distinct_from(
                covering_budget_id(Expense.user_id, Expense.category_id, Expense.date))).limit(5)).all()
    assert wrong_budget == []
    # Transfers: two legs on two accounts summing to zero, same date.
    assert _rows(session, """
        SELECT transfer_group FROM transactions WHERE user_id = :u AND kind = 'transfer'
        GROUP BY transfer_group
        HAVING COUNT(*) <> 2 OR SUM(amount) <> 0 OR COUNT(DISTINCT account_id) <> 2
            OR MIN(date) <> MAX(date) OR transfer_group IS NULL""", u=user_id) == []


def _fingerprint(session, user_id: int) -> dict:
    """Everything that should repeat for the same seed and end date, ids aside."""
    return {
        "by_kind": _rows(session, """SELECT kind, COUNT(*), SUM(amount) FROM transactions
                                     WHERE user_id = :u GROUP BY kind ORDER BY kind""", u=user_id),
        "by_category": _rows(session, """SELECT category_id, COUNT(*), SUM(amount) FROM expenses
                                         WHERE user_id = :u GROUP BY category_id ORDER BY category_id""",
                             u=user_id),
        "rows": _rows(session, """
            SELECT t.date, a.name, t.kind, t.amount, t.payee, t.description, t.category_id
            FROM transactions t JOIN accounts a ON a.id = t.account_id
            WHERE t.user_id = :u ORDER BY t.id""", u=user_id),
        "budgets": _rows(session, """SELECT category_id, start_date, end_date, amount, rollover FROM budgets
                                     WHERE user_id = :u ORDER BY start_date, category_id""", u=user_id),
        "goals": _rows(session, """SELECT name, kind, target_amount, saved_amount, target_date FROM goals
                                   WHERE user_id = :u ORDER BY name""", u=user_id),
    }


def test_demo_user_has_two_years_of_believable_data(db_session, demo):
    user = db_session.get(User, demo["user_id"])
    assert user.email == DEMO_EMAIL and user.currency == "USD" and user.display_name
    from dashboard.services.passwords import verify_password
    assert verify_password(user.password_hash, DEMO_PASSWORD)

    accounts = {a.name: a for a in db_session.scalars(select(Account).where(Account.user_id == user.id))}
    assert 3 <= len(accounts) <= 5
    assert accounts["Credit Card"].type == "credit_card" and accounts["Credit Card"].opening_balance <= 0
    assert {"Checking", "Savings"} <= accounts.keys()

    first, last = db_session.execute(select(func.min(Transaction.date), func.max(Transaction.date))
                                      .where(Transaction.user_id == user.id)).one()
    assert (first, last) == (demo["start"], END) == (date(2024, 7, 1), END)
    months = _scalar(db_session, "SELECT COUNT(DISTINCT substr(CAST(date AS TEXT), 1, 7)) FROM transactions "
                                 "WHERE user_id = :u", u=user.id)
    assert months == 24
    assert 1000 < demo["transactions"] < 4000

    def count(where: str) -> int:
        return _scalar(db_session, f"SELECT COUNT(*) FROM transactions t WHERE t.user_id = :u AND {where}",
                       u=user.id)
    assert count("kind = 'income'") >= 24                       # a salary a month, bonuses, interest
    assert count("kind = 'transfer'") >= 2 * 2 * 24             # savings and card payment every month
    assert count("kind = 'expense' AND amount > 0") >= 3        # refunds
    assert count("payee = 'Netflix'") >= 23 and count("payee = 'Costco'") >= 3
    splits = _rows(db_session, """SELECT transaction_id FROM expenses WHERE user_id = :u
                                  GROUP BY transaction_id HAVING COUNT(DISTINCT category_id) >= 2""",
                   u=user.id)
    assert len(splits) >= 3
    # Groceries swing with the season: December costs more than September.
    groceries = dict(_rows(db_session, """
        SELECT substr(CAST(e.date AS TEXT), 1, 7), SUM(e.amount) FROM expenses e
        JOIN categories c ON c.id = e.category_id
        WHERE e.user_id = :u AND c.name = 'Groceries' GROUP BY 1""", u=user.id))
    assert groceries["2025-12"] > groceries["2025-09"]

    budgets = db_session.scalars(select(Budget).where(Budget.user_id == user.id)).all()
    assert len(budgets) == demo["budgets"] and len({b.category_id for b in budgets}) >= 8
    assert {b.start_date for b in budgets} == {date(2026, m, 1) for m in range(1, 7)}
    assert any(b.rollover for b in budgets)
    assert any(b.category.parent_id is None for b in budgets)        # a parent category's budget
    assert _scalar(db_session, "SELECT COUNT(budget_id) FROM expenses WHERE user_id = :u", u=user.id) > 100

    goals = {g.name: g for g in db_session.scalars(select(Goal).where(Goal.user_id == user.id))}
    assert len(goals) == 3 == demo["goals"]
    assert goals["Emergency fund"].account_id == accounts["Savings"].id
    assert goals["Emergency fund"].target_amount == Decimal("10000.00")
    assert goals["Pay off credit card"].kind == "debt"
    assert goals["Pay off credit card"].account_id == accounts["Credit Card"].id
    vacation = goals["Vacation"]
    assert vacation.saved_amount > 0 and vacation.target_date > END
    deposits = db_session.scalar(select(func.sum(GoalContribution.amount))
                                 .where(GoalContribution.goal_id == vacation.id))
    assert deposits == vacation.saved_amount


def test_returned_totals_match_the_database(db_session, demo):
    user_id = demo["user_id"]
    by_kind = {kind: (n, total) for kind, n, total in db_session.execute(
        select(Transaction.kind, func.count(), func.sum(cents(Transaction.amount)))
        .where(Transaction.user_id == user_id).group_by(Transaction.kind))}
    assert by_kind == {kind: (v["count"], int(v["total"] * 100)) for kind, v in demo["by_kind"].items()}
    assert sum(n for n, _ in by_kind.values()) == demo["transactions"]
    assert by_kind["transfer"][1] == 0
    n_lines, spent = db_session.execute(select(func.count(), func.sum(cents(Expense.amount)))
                                        .where(Expense.user_id == user_id)).one()
    assert (n_lines, spent) == (demo["expenses"], int(demo["expense_total"] * 100))
    assert spent == -by_kind["expense"][1]
    assert isinstance(demo["expense_total"], Decimal)
    assert (demo["accounts"], demo["budgets"], demo["goals"]) == tuple(
        db_session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id))
        for model in (Account, Budget, Goal))


def test_invariants_hold(db_session, demo):
    assert_invariants(db_session, demo["user_id"])


def test_rollup_is_in_step(db_session, demo):
    user_id = demo["user_id"]
    spending = db_session.scalar(select(func.sum(MonthlyRollup.total_cents))
                                 .where(MonthlyRollup.user_id == user_id, MonthlyRollup.flow == "spending"))
    income = db_session.scalar(select(func.sum(MonthlyRollup.total_cents))
                               .where(MonthlyRollup.user_id == user_id, MonthlyRollup.flow == "income"))
    assert spending == int(demo["expense_total"] * 100)
    assert income == int(demo["by_kind"]["income"]["total"] * 100)


def test_same_seed_and_end_give_the_same_data(db_session):
    first = commit_or_rollback(db_session, load_demo, end=END, seed=7)
    before = _fingerprint(db_session, first["user_id"])
    second = commit_or_rollback(db_session, load_demo, end=END, seed=7, replace=True)
    # The first user and all their rows are gone (SQLite may hand the freed id out again).
    assert _scalar(db_session, "SELECT COUNT(*) FROM users") == 1
    assert _scalar(db_session, "SELECT COUNT(*) FROM transactions") == second["transactions"]
    assert _scalar(db_session, "SELECT COUNT(*) FROM budgets") == second["budgets"]
    assert _fingerprint(db_session, second["user_id"]) == before
    assert {k: v for k, v in second.items() if k not in ("user_id", "seconds")} == \
        {k: v for k, v in first.items() if k not in ("user_id", "seconds")}

    other = commit_or_rollback(db_session, load_demo, end=END, seed=8, email="other@example.com")
    assert _fingerprint(db_session, other["user_id"])["rows"] != before["rows"]


def test_an_existing_user_is_kept_unless_replace(db_session, demo):
    with pytest.raises(ValueError, match="already exists"):
        commit_or_rollback(db_session, load_demo, end=END, email=DEMO_EMAIL.upper())
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(User)) == 1
    assert _scalar(db_session, "SELECT COUNT(*) FROM transactions WHERE user_id = :u",
                   u=demo["user_id"]) == demo["transactions"]


def test_volume_run_has_exactly_the_asked_number_of_transactions(db_session):
    progress: list[str] = []
    stats = commit_or_rollback(db_session, load_demo, end=END, n_transactions=20_000, progress=progress.append)
    user_id = stats["user_id"]
    assert stats["transactions"] == 20_000
    assert _scalar(db_session, "SELECT COUNT(*) FROM transactions WHERE user_id = :u", u=user_id) == 20_000
    first, last = db_session.execute(select(func.min(Transaction.date), func.max(Transaction.date))
                                      .where(Transaction.user_id == user_id)).one()
    assert (first, last) == (date(2024, 7, 1), END)
    assert_invariants(db_session, user_id)
    assert any("20,000 / 20,000" in line for line in progress)
    with pytest.raises(ValueError, match="at least"):
        commit_or_rollback(db_session, load_demo, end=END, n_transactions=100, email="small@example.com")


def test_ids_continue_after_a_bulk_load(db_session, demo):
    """The loader gives ids itself; rows added the usual way afterwards must not collide."""
    from dashboard.services.transactions import create_transaction
    user = db_session.get(User, demo["user_id"])
    checking = db_session.scalar(select(Account).where(Account.user_id == user.id,
                                                       Account.name == "Checking"))
    tx = create_transaction(db_session, user.id, account_id=checking.id, date=END, amount="-12.34",
                            payee="After the demo")
    db_session.commit()
    assert tx.id > _scalar(db_session, "SELECT MAX(id) FROM transactions WHERE id <> :t", t=tx.id)


def test_cli_loads_the_demo(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--end-date", "2026-06-15"])
    assert result.exit_code == 0, result.output
    assert "Demo loaded" in result.output and DEMO_EMAIL in result.output
    result = runner.invoke(args=["demo", "--end-date", "2026-06-15", "--if-empty"])
    assert result.exit_code == 0 and "not loaded" in result.output
