"""Reads for the Overview page: balances, net worth, this month against last, top categories.

Every figure is computed in SQL for one user; frames carry money as integer cents.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from models import Account, MonthlyRollup, Transaction

from . import fx
from .cache import cached
from .periods import add_months, compare, month_end, month_start
from .sql import cents


def net_by_account(session: Session, user_id: int, as_of: date | None = None):
    """A subquery (account_id, moved): every account's net movement up to ``as_of`` (all time when
    None). Whole months come from the roll-up's 'net' rows; the part of ``as_of``'s month up to that
    day from the raw table. Answers in milliseconds at a million rows."""
    r = MonthlyRollup
    full = select(r.account_id.label("account_id"), func.sum(r.total_cents).label("moved")).where(
        r.user_id == user_id, r.flow == "net")
    parts = []
    if as_of is None:
        parts.append(full.group_by(r.account_id))
    else:
        parts.append(full.where(r.month < month_start(as_of)).group_by(r.account_id))
        parts.append(select(Transaction.account_id.label("account_id"),
                            func.sum(cents(Transaction.amount)).label("moved"))
                     .where(Transaction.user_id == user_id, Transaction.date >= month_start(as_of),
                            Transaction.date <= as_of)
                     .group_by(Transaction.account_id))
    combined = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return (select(combined.c.account_id, func.sum(combined.c.moved).label("moved"))
            .group_by(combined.c.account_id).subquery())


@cached
def account_balances(session: Session, user_id: int, *, as_of: date | None = None,
                     include_archived: bool = False) -> pd.DataFrame:
    """One row per account: id, name, type, archived, balance_cents (opening balance plus every
    transaction up to ``as_of``, in the account's currency), currency."""
    sums = net_by_account(session, user_id, as_of)
    stmt = (select(Account.id, Account.name, Account.type, Account.archived,
                   (cents(Account.opening_balance) + func.coalesce(sums.c.moved, 0)).label("balance_cents"),
                   Account.currency)
            .outerjoin(sums, sums.c.account_id == Account.id)
            .where(Account.user_id == user_id)
            .order_by(Account.archived, Account.name))
    if not include_archived:
        stmt = stmt.where(Account.archived.is_(False))
    frame = pd.DataFrame(session.execute(stmt).all(),
                         columns=["id", "name", "type", "archived", "balance_cents", "currency"])
    frame["balance_cents"] = pd.to_numeric(frame["balance_cents"]).astype("int64")
    return frame


@dataclass(frozen=True)
class PeriodTotals:
    income_cents: int
    spending_cents: int

    @property
    def net_cents(self) -> int:
        return self.income_cents - self.spending_cents


def _flow_filters(flow: str, start: date, end: date, grain: str = "month"):
    from .spending import SpendingFilters
    return SpendingFilters(start=start, end=end, preset="custom", flow=flow, grain=grain)


def period_totals(session: Session, user_id: int, start: date, end: date) -> PeriodTotals:
    """Income (income-kind transactions) and spending (expense lines, refunds netted) in [start, end],
    through the explorer's aggregate (roll-up for whole months)."""
    from .spending import aggregate
    income = aggregate(session, user_id, _flow_filters("income", start, end), [])
    spending = aggregate(session, user_id, _flow_filters("spending", start, end), [])
    return PeriodTotals(int(income["total_cents"].iloc[0]), int(spending["total_cents"].iloc[0]))


@cached
def conversion_note(session: Session, user_id: int, start: date, end: date):
    """What the totals of [start, end] converted into the base currency and what had no rate
    (services/fx.py: conversion_of); None when every account is in the base currency."""
    return fx.conversion_of(session, user_id, start, end)


@cached
def month_comparison(session: Session, user_id: int, today: date) -> tuple[PeriodTotals, PeriodTotals]:
    """This month so far, and the same days of last month (services/periods.compare: 1-2 Dec
    against 1-2 Nov, like with like)."""
    this, last = month_ranges(today)
    return period_totals(session, user_id, *this), period_totals(session, user_id, *last)


def month_ranges(today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """(this month up to today, the same days of last month)."""
    comparison = compare(month_start(today), month_end(today), today)
    return comparison.current, comparison.previous


@cached
def spending_by_top_category(session: Session, user_id: int, start: date, end: date,
                             limit: int | None = None) -> pd.DataFrame:
    """Spending per top-level category (children rolled into their parent): category_id, name, color,
    amount_cents, sorted largest first. Uncategorised spending is one row with category_id NA."""
    from .categories import category_frame
    from .spending import UNCATEGORIZED, aggregate
    by_leaf = aggregate(session, user_id, _flow_filters("spending", start, end), ["category_id"])
    columns = ["category_id", "amount_cents", "name", "color"]
    if by_leaf.empty:
        return pd.DataFrame(columns=columns)
    cats = category_frame(session, user_id).set_index("id")
    by_leaf["top"] = [int(cats["top_id"].get(c, c)) if c != UNCATEGORIZED else UNCATEGORIZED
                      for c in by_leaf["category_id"]]
    frame = by_leaf.groupby("top", as_index=False)["total_cents"].sum()
    frame = frame.rename(columns={"top": "category_id", "total_cents": "amount_cents"})
    frame["name"] = [cats["name"].get(c, "Uncategorized") if c != UNCATEGORIZED else "Uncategorized"
                     for c in frame["category_id"]]
    frame["color"] = [cats["color"].get(c) if c != UNCATEGORIZED else "#adb5bd" for c in frame["category_id"]]
    frame["category_id"] = frame["category_id"].astype("Int64").mask(frame["category_id"] == UNCATEGORIZED)
    frame = frame[frame["amount_cents"] != 0].sort_values("amount_cents", ascending=False)
    if limit:
        frame = frame.head(limit)
    return frame[columns].reset_index(drop=True)


@cached
def monthly_cashflow(session: Session, user_id: int, end: date, months: int = 12) -> pd.DataFrame:
    """Income and spending per month for the ``months`` months ending with ``end``'s month:
    month (date), income_cents, spending_cents, net_cents. Months without activity are zeros."""
    from .spending import aggregate
    start = add_months(month_start(end), -(months - 1))
    end = month_end(end)
    totals = {}
    for flow in ("income", "spending"):
        frame = aggregate(session, user_id, _flow_filters(flow, start, end), ["bucket"])
        totals[flow] = dict(zip(frame["bucket"], frame["total_cents"]))
    month_list = [add_months(start, i) for i in range(months)]
    frame = pd.DataFrame({
        "month": month_list,
        "income_cents": [int(totals["income"].get(m, 0)) for m in month_list],
        "spending_cents": [int(totals["spending"].get(m, 0)) for m in month_list],
    })
    frame["net_cents"] = frame["income_cents"] - frame["spending_cents"]
    return frame


def account_balances_on(session: Session, user_id: int, account_id: int, days) -> dict[date, int]:
    """One account's balance (cents) at the end of each of ``days``: opening balance plus every
    transaction dated on or before the day (whole months from the roll-up, the rest of the day's month
    from the raw table, as ``account_balances``). An account that is not the user's has no balances."""
    opening = session.scalar(select(cents(Account.opening_balance))
                             .where(Account.id == account_id, Account.user_id == user_id))
    if opening is None:
        return {}
    balances = {}
    for day in sorted(set(days)):
        sums = net_by_account(session, user_id, day)
        moved = session.scalar(select(sums.c.moved).where(sums.c.account_id == account_id))
        balances[day] = int(opening) + int(moved or 0)
    return balances
