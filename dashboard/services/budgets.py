"""Budgets: creating and changing them, and keeping every expense in the budget that covers it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from models import PERIOD_TYPES, Budget, Category, Expense

from .categories import get_category
from .errors import NotFound, ServiceError
from .periods import period_bounds
from .validation import parse_amount, parse_date, parse_id


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
                   date_from: date | None = None, date_to: date | None = None) -> None:
    """Point each of the user's expenses (optionally only some transactions or a date range) at the
    budget that covers it now. One UPDATE, whatever the number of rows."""
    session.flush()
    stmt = (update(Expense)
            .where(Expense.user_id == user_id)
            .values(budget_id=covering_budget_id(Expense.user_id, Expense.category_id, Expense.date))
            .execution_options(synchronize_session=False))
    if transaction_ids is not None:
        stmt = stmt.where(Expense.transaction_id.in_(list(transaction_ids)))
    if date_from is not None:
        stmt = stmt.where(Expense.date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Expense.date <= date_to)
    session.execute(stmt)
    session.expire_all()


def create_budget(session: Session, user_id: int, *, category_id, amount, period_type: str = "monthly",
                  start_date, end_date=None, rollover: bool = False) -> Budget:
    category = get_category(session, user_id, category_id, kind="expense")
    value = parse_amount(amount, field="amount")
    if period_type not in PERIOD_TYPES:
        raise ServiceError("Unknown period type.", "period_type")
    start = parse_date(start_date, field="start_date")
    if period_type == "custom":
        end = parse_date(end_date, field="end_date")
        if end < start:
            raise ServiceError("The period must end on or after its start.", "end_date")
    else:
        start, end = period_bounds(period_type, start)
    exists = session.scalar(select(Budget.id).where(
        Budget.user_id == user_id, Budget.category_id == category.id, Budget.start_date == start))
    if exists:
        raise ServiceError(f"“{category.name}” already has a budget for this period.", "category")
    budget = Budget(user_id=user_id, category_id=category.id, amount=value, period_type=period_type,
                    start_date=start, end_date=end, rollover=bool(rollover))
    session.add(budget)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ServiceError(f"“{category.name}” already has a budget for this period.", "category") from None
    assign_budgets(session, user_id, date_from=start, date_to=end)
    return budget


def get_budget(session: Session, user_id: int, budget_id) -> Budget:
    bid = parse_id(budget_id, field="budget")
    budget = session.scalar(select(Budget).where(Budget.id == bid, Budget.user_id == user_id))
    if budget is None:
        raise NotFound("Unknown budget.", "budget")
    return budget


def delete_budget(session: Session, user_id: int, budget_id) -> None:
    budget = get_budget(session, user_id, budget_id)
    start, end = budget.start_date, budget.end_date
    session.execute(delete(Budget).where(Budget.id == budget.id, Budget.user_id == user_id))
    assign_budgets(session, user_id, date_from=start, date_to=end)


def spent_in_budget(session: Session, user_id: int, budget_id: int) -> Decimal:
    from sqlalchemy import func
    total = session.scalar(select(func.coalesce(func.sum(Expense.amount), 0))
                           .where(Expense.user_id == user_id, Expense.budget_id == budget_id))
    return total if isinstance(total, Decimal) else Decimal(total) / 100
