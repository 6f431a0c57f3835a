"""Which budget an expense line counts against: the one rule, as SQL.

Every write path (a transaction saved, a budget added or changed, a category merged or moved, the bulk
writer) ends by pointing the touched expense lines at the budget that covers them now. Below both
services.budgets and services.categories, so neither has to import the other for it.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Select, case, select, update
from sqlalchemy.orm import Session, aliased

from models import Budget, Category, Expense


def covering_budget_id(user_id_col, category_id_col, date_col):
    """Correlated scalar subquery: the budget covering an expense.

    The budget of the expense's own category wins over its parent category's; among several periods
    that contain the date, the shortest (latest start, earliest end) wins.
    """
    cat = aliased(Category)
    return (
        select(Budget.id)
        .select_from(Budget)
        .join(cat, cat.id == category_id_col)
        .where(
            Budget.user_id == user_id_col,
            Budget.start_date <= date_col,
            Budget.end_date >= date_col,
            (Budget.category_id == cat.id) | (Budget.category_id == cat.parent_id),
        )
        .order_by(case((Budget.category_id == cat.id, 0), else_=1),
                  Budget.start_date.desc(), Budget.end_date.asc(), Budget.id)
        .limit(1)
        .scalar_subquery()
    )


def assign_budgets(session: Session, user_id: int, *, transaction_ids=None,
                   date_from: date | None = None, date_to: date | None = None, category_ids=None) -> None:
    """Point each of the user's expenses (optionally only some transactions, a date range or some
    categories) at the budget that covers it now. One UPDATE, whatever the number of rows.
    ``transaction_ids`` may be a list or a SELECT of ids."""
    session.flush()
    stmt = (update(Expense)
            .where(Expense.user_id == user_id)
            .values(budget_id=covering_budget_id(Expense.user_id, Expense.category_id, Expense.date))
            .execution_options(synchronize_session=False))
    if transaction_ids is not None:
        ids = transaction_ids if isinstance(transaction_ids, Select) else list(transaction_ids)
        stmt = stmt.where(Expense.transaction_id.in_(ids))
    if category_ids is not None:
        stmt = stmt.where(Expense.category_id.in_(list(category_ids)))
    if date_from is not None:
        stmt = stmt.where(Expense.date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Expense.date <= date_to)
    session.execute(stmt)
    session.expire_all()


def covering_budget_case(session: Session, user_id: int, category_id: int | None, date_col):
    """The same rule as :func:`covering_budget_id` for lines that all sit in one category, as a
    plain CASE over that category's few budgets (and its parent's) instead of a subquery per line:
    what a bulk change to one category needs for 100,000 lines."""
    if category_id is None:
        return None
    parent_id = session.scalar(select(Category.parent_id).where(Category.id == category_id))
    owners = [category_id] + ([parent_id] if parent_id is not None else [])
    budgets = session.execute(
        select(Budget.id, Budget.category_id, Budget.start_date, Budget.end_date)
        .where(Budget.user_id == user_id, Budget.category_id.in_(owners))).all()
    budgets.sort(key=lambda b: (b.category_id != category_id, -b.start_date.toordinal(),
                                b.end_date.toordinal(), b.id))
    if not budgets:
        return None
    return case(*[((date_col >= b.start_date) & (date_col <= b.end_date), b.id) for b in budgets], else_=None)
