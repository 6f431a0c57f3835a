"""Keeping ``monthly_rollup`` in step with expenses and income.

Any commit of a session that added, changed or deleted an Expense or a Transaction recomputes the
roll-up rows of the touched (user, month) pairs from the raw tables, inside the same database
transaction. Bulk writes that bypass the ORM (the demo loader, imports) call ``refresh`` themselves.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import Date, and_, cast, delete, event, func, insert, inspect, literal, null, or_, select
from sqlalchemy.orm import Session

from models import Expense, MonthlyRollup, Transaction, User

from .periods import month_end, month_start
from .sql import cents

_PENDING = "ledgerlens_rollup_pending"


def month_of(session: Session, column):
    """A DATE expression: the first day of the month of ``column``."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, "start of month")
    return cast(func.date_trunc("month", column), Date)


def _in_months(column, months: list[date]):
    return or_(*[and_(column >= month_start(m), column <= month_end(m)) for m in months])


def refresh(session: Session, user_id: int, months: Iterable[date] | None = None) -> None:
    """Recompute the user's roll-up rows, for the given months or entirely."""
    month_list = sorted({month_start(m) for m in months}) if months is not None else None
    if month_list == []:
        return
    # One refresh per user at a time (PostgreSQL); SQLite serialises writers anyway.
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    stmt = delete(MonthlyRollup).where(MonthlyRollup.user_id == user_id)
    if month_list is not None:
        stmt = stmt.where(MonthlyRollup.month.in_(month_list))
    session.execute(stmt)

    cols = [MonthlyRollup.user_id, MonthlyRollup.flow, MonthlyRollup.month, MonthlyRollup.account_id,
            MonthlyRollup.category_id, MonthlyRollup.payee, MonthlyRollup.total_cents, MonthlyRollup.row_count]
    e_month = month_of(session, Expense.date)
    spending = (
        select(Expense.user_id, literal("spending"), e_month, Expense.account_id, Expense.category_id,
               Transaction.payee, func.sum(cents(Expense.amount)), func.count())
        .join(Transaction, and_(Transaction.id == Expense.transaction_id, Transaction.user_id == Expense.user_id))
        .where(Expense.user_id == user_id)
        .group_by(Expense.user_id, e_month, Expense.account_id, Expense.category_id, Transaction.payee)
    )
    t_month = month_of(session, Transaction.date)
    income = (
        select(Transaction.user_id, literal("income"), t_month, Transaction.account_id,
               Transaction.category_id, Transaction.payee, func.sum(cents(Transaction.amount)),
               func.count())
        .where(Transaction.user_id == user_id, Transaction.kind == "income")
        .group_by(Transaction.user_id, t_month, Transaction.account_id, Transaction.category_id,
                  Transaction.payee)
    )
    net = (
        select(Transaction.user_id, literal("net"), t_month, Transaction.account_id, null(),
               literal(""), func.sum(cents(Transaction.amount)), func.count())
        .where(Transaction.user_id == user_id)
        .group_by(Transaction.user_id, t_month, Transaction.account_id)
    )
    if month_list is not None:
        spending = spending.where(_in_months(Expense.date, month_list))
        income = income.where(_in_months(Transaction.date, month_list))
        net = net.where(_in_months(Transaction.date, month_list))
    for source in (spending, income, net):
        session.execute(insert(MonthlyRollup).from_select([c.key for c in cols], source))


def _touched(obj) -> list[tuple[int, date]]:
    state = inspect(obj)
    if state.expired_attributes & {"user_id", "date"}:
        return []  # never loaded in this session, so never changed through it
    user_ids = {obj.user_id, *state.attrs.user_id.history.deleted}
    dates = {obj.date, *state.attrs.date.history.deleted}
    return [(u, month_start(d)) for u in user_ids for d in dates if u is not None and d is not None]


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush_context) -> None:
    pending = session.info.setdefault(_PENDING, defaultdict(set))
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, (Expense, Transaction)):
            for user_id, month in _touched(obj):
                pending[user_id].add(month)


@event.listens_for(Session, "before_commit")
def _apply(session: Session) -> None:
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    for user_id, months in pending.items():
        refresh(session, user_id, months)
    session.flush()


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous_transaction) -> None:
    session.info.pop(_PENDING, None)
