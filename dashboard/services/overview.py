"""Reads for the Overview page: balances, net worth, this month against last, top categories.

Every figure is computed in SQL for one user; frames carry money as integer cents.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from models import Account, Category, Expense, Transaction

from .periods import add_months, month_end, month_start
from .sql import cents, cents_sum, date_bucket


def account_balances(session: Session, user_id: int, *, as_of: date | None = None,
                     include_archived: bool = False) -> pd.DataFrame:
    """One row per account: id, name, type, archived, balance_cents (opening balance plus every
    transaction up to ``as_of``)."""
    tx_filter = [Transaction.user_id == user_id]
    if as_of is not None:
        tx_filter.append(Transaction.date <= as_of)
    sums = (select(Transaction.account_id, cents_sum(Transaction.amount).label("moved"))
            .where(*tx_filter).group_by(Transaction.account_id).subquery())
    stmt = (select(Account.id, Account.name, Account.type, Account.archived,
                   (cents(Account.opening_balance) + func.coalesce(sums.c.moved, 0)).label("balance_cents"))
            .outerjoin(sums, sums.c.account_id == Account.id)
            .where(Account.user_id == user_id)
            .order_by(Account.archived, Account.name))
    if not include_archived:
        stmt = stmt.where(Account.archived.is_(False))
    frame = pd.DataFrame(session.execute(stmt).all(),
                         columns=["id", "name", "type", "archived", "balance_cents"])
    frame["balance_cents"] = frame["balance_cents"].astype("int64")
    return frame


@dataclass(frozen=True)
class PeriodTotals:
    income_cents: int
    spending_cents: int

    @property
    def net_cents(self) -> int:
        return self.income_cents - self.spending_cents


def period_totals(session: Session, user_id: int, start: date, end: date) -> PeriodTotals:
    """Income (income-kind transactions) and spending (expense lines, refunds netted) in [start, end]."""
    income = session.scalar(select(cents_sum(Transaction.amount)).where(
        Transaction.user_id == user_id, Transaction.kind == "income",
        Transaction.date >= start, Transaction.date <= end))
    spending = session.scalar(select(cents_sum(Expense.amount)).where(
        Expense.user_id == user_id, Expense.date >= start, Expense.date <= end))
    return PeriodTotals(int(income or 0), int(spending or 0))


def month_comparison(session: Session, user_id: int, today: date) -> tuple[PeriodTotals, PeriodTotals]:
    """This month so far, and the whole of last month."""
    this_start = month_start(today)
    last_start = add_months(this_start, -1)
    return (period_totals(session, user_id, this_start, today),
            period_totals(session, user_id, last_start, month_end(last_start)))


def spending_by_top_category(session: Session, user_id: int, start: date, end: date,
                             limit: int | None = None) -> pd.DataFrame:
    """Spending per top-level category (children rolled into their parent): category_id, name, color,
    amount_cents, sorted largest first. Uncategorised spending is one row with category_id NA."""
    cat = aliased(Category)
    parent = aliased(Category)
    top_id = func.coalesce(cat.parent_id, cat.id)
    rows = session.execute(
        select(top_id.label("top_id"), cents_sum(Expense.amount).label("amount_cents"))
        .select_from(Expense)
        .outerjoin(cat, cat.id == Expense.category_id)
        .where(Expense.user_id == user_id, Expense.date >= start, Expense.date <= end)
        .group_by(top_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["category_id", "amount_cents"])
    if frame.empty:
        return frame.assign(name=pd.Series(dtype=str), color=pd.Series(dtype=str))
    ids = [int(i) for i in frame["category_id"].dropna()]
    names = dict(session.execute(select(parent.id, parent.name).where(parent.id.in_(ids))).all())
    colors = dict(session.execute(select(parent.id, parent.color).where(parent.id.in_(ids))).all())
    frame["category_id"] = frame["category_id"].astype("Int64")
    frame["name"] = [names.get(int(i), "Uncategorized") if pd.notna(i) else "Uncategorized"
                     for i in frame["category_id"]]
    frame["color"] = [colors.get(int(i)) if pd.notna(i) else "#adb5bd" for i in frame["category_id"]]
    frame["amount_cents"] = frame["amount_cents"].astype("int64")
    frame = frame[frame["amount_cents"] != 0].sort_values("amount_cents", ascending=False)
    if limit:
        frame = frame.head(limit)
    return frame.reset_index(drop=True)


def monthly_cashflow(session: Session, user_id: int, end: date, months: int = 12) -> pd.DataFrame:
    """Income and spending per month for the ``months`` months ending with ``end``'s month:
    month (date), income_cents, spending_cents, net_cents. Months without activity are zeros."""
    start = add_months(month_start(end), -(months - 1))
    end = month_end(end)
    income_bucket = date_bucket(session, Transaction.date, "month")
    income = dict(session.execute(
        select(income_bucket, cents_sum(Transaction.amount))
        .where(Transaction.user_id == user_id, Transaction.kind == "income",
               Transaction.date >= start, Transaction.date <= end)
        .group_by(income_bucket)).all())
    spend_bucket = date_bucket(session, Expense.date, "month")
    spending = dict(session.execute(
        select(spend_bucket, cents_sum(Expense.amount))
        .where(Expense.user_id == user_id, Expense.date >= start, Expense.date <= end)
        .group_by(spend_bucket)).all())
    month_list = [add_months(start, i) for i in range(months)]
    frame = pd.DataFrame({
        "month": month_list,
        "income_cents": [int(income.get(m.isoformat(), 0)) for m in month_list],
        "spending_cents": [int(spending.get(m.isoformat(), 0)) for m in month_list],
    })
    frame["net_cents"] = frame["income_cents"] - frame["spending_cents"]
    return frame
