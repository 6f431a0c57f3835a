"""Converted roll-ups: the explorer's multi-currency totals as cheap as one-currency ones (issue 17).

For a user with accounts in another currency than the base, two derived tables hold what the
explorer's conversion (services/fx.py: ``converted_select``) gives, already summed per month:

- ``fx_month_rollup``: per (flow, month, account, category) of each foreign account, the sum of its
  daily roll-up rows (the (day, account, category) groups) each converted at its day's rate and rounded
  once, half-even, in the base currency's minor unit;
- ``fx_payee_rollup``: the same per payee, from the month's (payee, day, account, category) groups of
  the raw rows (the top payees' conversion unit).

So a whole-month view reads as many rows as with one currency, and gives the same integers as
converting at read time (the sum of integers per group does not depend on how they are grouped later).
A (month, account) with money no rate converts gets a ``missing`` marker row: the explorer then converts
from the daily roll-up for that range and reports the missing rate, as before.

When they are rebuilt: with the roll-ups (``rollup.refresh`` calls :func:`refresh` for the same months:
every commit that touches transactions, the bulk writer, the demo loader), after a bulk edit of
categories or payees, and after rates are imported, entered or deleted. ``fx_rollup_state`` keeps a
signature of what they were computed for (the base currency, each account's currency, the rates'
count, largest id and last day): a read whose signature differs (an account's or the base currency
changed, rates written by a path that did not rebuild) converts from the daily roll-up instead, and the
next refresh rebuilds everything. Nothing here commits.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

from sqlalchemy import Date, and_, cast, delete, func, insert, literal, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from models import (
    DailyRollup,
    ExchangeRate,
    Expense,
    FxAmountRollup,
    FxDailyRollup,
    FxMonthRollup,
    FxPayeeAmountRollup,
    FxPayeeRollup,
    FxRollupState,
    Transaction,
    band_of,
)

from . import fx
from .cache import transaction_memo
from .periods import month_end, month_start
from .sql import cents

TABLES = ("fx_month_rollup", "fx_payee_rollup", "fx_amount_rollup", "fx_payee_amount_rollup", "fx_daily_rollup",
          "fx_rollup_state")
ROLLUPS = (FxMonthRollup, FxPayeeRollup, FxAmountRollup, FxPayeeAmountRollup, FxDailyRollup)
# Part of the signature: what the tables hold (a new table or rule makes every stored state stale).
LAYOUT = "2: month, payee, amount band, payee by band, day"  # derived: no data-version bump of their own


def _month(session: Session, column):
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, "start of month")
    return cast(func.date_trunc("month", column), Date)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def signature(session: Session, user_id: int, currencies: fx.AccountCurrencies | None = None) -> str:
    """What converted totals depend on besides the rows: the base currency, each account's currency,
    and the rates (count, largest id, last day). A digest."""
    return _signature_and_stored(session, user_id, currencies)[0]


def _signature_and_stored(session: Session, user_id: int,
                          currencies: fx.AccountCurrencies | None = None) -> tuple[str, str | None]:
    """(the present signature, the stored one or None), in one read."""
    currencies = currencies or fx.account_currencies(session, user_id)
    stored = select(FxRollupState.signature).where(FxRollupState.user_id == user_id).scalar_subquery()
    count, last_id, last_day, kept = session.execute(
        select(func.count(), func.max(ExchangeRate.id), func.max(ExchangeRate.day), stored)
        .where(ExchangeRate.user_id == user_id)).one()
    text = f"{LAYOUT}|{currencies.base}|{currencies.of_account}|{count}|{last_id}|{_as_date(last_day) if last_day else None}"
    return hashlib.sha256(text.encode()).hexdigest(), kept


def invalidate(session: Session, user_id: int) -> None:
    """Forget the state: reads convert from the daily roll-up until the next :func:`refresh`."""
    session.execute(delete(FxRollupState).where(FxRollupState.user_id == user_id))


def _in_months(column, months: list[date]):
    return or_(*[and_(column >= m, column <= month_end(m)) for m in months])


def refresh(session: Session, user_id: int, months: Iterable[date] | None = None) -> None:
    """Rebuild the user's converted roll-ups for ``months`` (all when None; all as well when what they
    were computed for has changed). Costs two small queries for a user whose accounts are all in the
    base currency."""
    month_list = sorted({month_start(m) for m in months}) if months is not None else None
    if month_list == []:
        return
    currencies = fx.account_currencies(session, user_id)
    _, foreign = currencies.split()
    stored = session.scalar(select(FxRollupState.signature).where(FxRollupState.user_id == user_id))
    if not foreign:
        if stored is not None:
            for table in (*ROLLUPS, FxRollupState):
                session.execute(delete(table).where(table.user_id == user_id)
                                .execution_options(synchronize_session=False))
        return
    current = signature(session, user_id, currencies)
    if stored != current:
        month_list = None
    for table in ROLLUPS:
        stmt = delete(table).where(table.user_id == user_id)
        if month_list is not None:
            stmt = stmt.where(_in_months(table.day, month_list) if table is FxDailyRollup
                              else table.month.in_(month_list))
        session.execute(stmt.execution_options(synchronize_session=False))
    invalidate(session, user_id)
    d = DailyRollup
    if month_list is None:
        first, last = session.execute(select(func.min(d.day), func.max(d.day)).where(
            d.user_id == user_id, d.account_id.in_(foreign))).one()
        if first is None:
            session.execute(insert(FxRollupState).values(user_id=user_id, signature=current))
            return
        start, end = month_start(_as_date(first)), month_end(_as_date(last))
    else:
        start, end = month_list[0], month_end(month_list[-1])

    def within(column):
        return _in_months(column, month_list) if month_list is not None else column.between(start, end)

    mapping = currencies.mapping
    book = fx.load_rates(session, user_id, {currencies.base, *(mapping[a] for a in foreign)}, start, end)
    missing: set[tuple[int, date]] = set()   # (account, month) with money no rate converts

    # Per (flow, month, account, category): the daily roll-up's groups.
    m = _month(session, d.day)
    grouped = (select(d.flow.label("flow"), m.label("month"), d.day.label("day"), d.account_id.label("account_id"),
                      d.category_id.label("category_id"), func.sum(d.total_cents).label("total_cents"),
                      func.sum(d.row_count).label("row_count"))
               .where(d.user_id == user_id, d.flow.in_(("spending", "income")), d.account_id.in_(foreign),
                      within(d.day))
               .group_by(d.flow, m, d.day, d.account_id, d.category_id).subquery())
    month_rows = _converted(session, currencies, foreign, book, grouped, ["flow", "month", "account_id", "category_id"],
                            start, end, missing)
    day_rows = _converted(session, currencies, foreign, book, grouped,
                          ["flow", "month", "day", "account_id", "category_id"], start, end, missing)

    # Per (flow, month, payee, account, category): the raw rows' (payee, day, account, category) groups.
    e_month, t_month = _month(session, Expense.date), _month(session, Transaction.date)
    spending = (select(literal("spending").label("flow"), e_month.label("month"), Transaction.payee.label("payee"),
                       Expense.date.label("day"), Expense.account_id.label("account_id"),
                       Expense.category_id.label("category_id"), func.sum(cents(Expense.amount)).label("total_cents"),
                       func.count().label("row_count"))
                .join(Transaction, and_(Transaction.id == Expense.transaction_id, Transaction.user_id == Expense.user_id))
                .where(Expense.user_id == user_id, Expense.account_id.in_(foreign), within(Expense.date))
                .group_by(e_month, Transaction.payee, Expense.date, Expense.account_id, Expense.category_id))
    income = (select(literal("income").label("flow"), t_month.label("month"), Transaction.payee.label("payee"),
                     Transaction.date.label("day"), Transaction.account_id.label("account_id"),
                     Transaction.category_id.label("category_id"),
                     func.sum(cents(Transaction.amount)).label("total_cents"), func.count().label("row_count"))
              .where(Transaction.user_id == user_id, Transaction.kind == "income", Transaction.account_id.in_(foreign),
                     within(Transaction.date))
              .group_by(t_month, Transaction.payee, Transaction.date, Transaction.account_id, Transaction.category_id))
    payee_grouped = union_all(spending, income).subquery()
    payee_rows = _converted(session, currencies, foreign, book, payee_grouped,
                            ["flow", "month", "payee", "account_id", "category_id"], start, end, missing)

    # Per amount band (of the amount in the account's currency): the raw rows' (band, day, account,
    # category) groups, and (payee, band, day, account, category) for the top payees under an amount filter.
    def banded(with_payee: bool):
        e_band, t_band = band_of(cents(Expense.amount)), band_of(cents(Transaction.amount))
        e_keys = [e_month, e_band, *([Transaction.payee] if with_payee else []), Expense.date, Expense.account_id,
                  Expense.category_id]
        t_keys = [t_month, t_band, *([Transaction.payee] if with_payee else []), Transaction.date,
                  Transaction.account_id, Transaction.category_id]
        names = ["month", "band", *(["payee"] if with_payee else []), "day", "account_id", "category_id"]
        spent = select(literal("spending").label("flow"), *[k.label(n) for k, n in zip(e_keys, names)],
                       func.sum(cents(Expense.amount)).label("total_cents"), func.count().label("row_count"))
        if with_payee:
            spent = spent.join(Transaction, and_(Transaction.id == Expense.transaction_id,
                                                 Transaction.user_id == Expense.user_id))
        spent = (spent.where(Expense.user_id == user_id, Expense.account_id.in_(foreign), within(Expense.date))
                 .group_by(*e_keys))
        earned = (select(literal("income").label("flow"), *[k.label(n) for k, n in zip(t_keys, names)],
                         func.sum(cents(Transaction.amount)).label("total_cents"), func.count().label("row_count"))
                  .where(Transaction.user_id == user_id, Transaction.kind == "income",
                         Transaction.account_id.in_(foreign), within(Transaction.date))
                  .group_by(*t_keys))
        return union_all(spent, earned).subquery()

    band_rows = _converted(session, currencies, foreign, book, banded(False),
                           ["flow", "month", "band", "account_id", "category_id"], start, end, missing)
    payee_band_rows = _converted(session, currencies, foreign, book, banded(True),
                                 ["flow", "month", "band", "payee"], start, end, missing, by_account=False)
    if month_rows is None or day_rows is None or payee_rows is None or band_rows is None or payee_band_rows is None:
        return   # factors beyond SQLite's integers: no state, reads convert from the daily roll-up

    markers = [{"user_id": user_id, "flow": "spending", "month": month, "account_id": account, "category_id": None,
                "total_cents": 0, "row_count": 0, "missing": 1} for account, month in sorted(missing)]
    rows = [{"user_id": user_id, "flow": r[0], "month": _as_date(r[1]), "account_id": int(r[2]), "category_id": r[3],
             "total_cents": int(r[4] or 0), "row_count": int(r[5] or 0), "missing": 0} for r in month_rows]
    for chunk in _chunks(rows + markers):
        session.execute(insert(FxMonthRollup), chunk)
    days = [{"user_id": user_id, "flow": r[0], "day": _as_date(r[2]), "account_id": int(r[3]), "category_id": r[4],
             "total_cents": int(r[5] or 0), "row_count": int(r[6] or 0)} for r in day_rows]
    for chunk in _chunks(days):
        session.execute(insert(FxDailyRollup), chunk)
    payees = [{"user_id": user_id, "flow": r[0], "month": _as_date(r[1]), "payee": r[2], "account_id": int(r[3]),
               "category_id": r[4], "total_cents": int(r[5] or 0), "row_count": int(r[6] or 0)} for r in payee_rows]
    for chunk in _chunks(payees):
        session.execute(insert(FxPayeeRollup), chunk)
    bands = [{"user_id": user_id, "flow": r[0], "month": _as_date(r[1]), "band": int(r[2]), "account_id": int(r[3]),
              "category_id": r[4], "total_cents": int(r[5] or 0), "row_count": int(r[6] or 0)} for r in band_rows]
    for chunk in _chunks(bands):
        session.execute(insert(FxAmountRollup), chunk)
    payee_bands = [{"user_id": user_id, "flow": r[0], "month": _as_date(r[1]), "band": int(r[2]), "payee": r[3],
                    "total_cents": int(r[4] or 0), "row_count": int(r[5] or 0)} for r in payee_band_rows]
    for chunk in _chunks(payee_bands):
        session.execute(insert(FxPayeeAmountRollup), chunk)
    session.execute(insert(FxRollupState).values(user_id=user_id, signature=current))


def _chunks(rows: list[dict], size: int = 20_000):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _converted(session, currencies, foreign, book, grouped, keys, start, end, missing, *,
               by_account: bool = True) -> list | None:
    """The groups converted in SQL (fx.converted_select), grouped by ``keys``; the (account, month) pairs
    with a group no rate converts (or beyond SQLite's integers) added to ``missing``."""
    converted = fx.converted_select(session, currencies, foreign, book, grouped, keys, start, end)
    if converted is None:
        return None
    rows = session.execute(converted.select).all()
    conversion = fx.Conversion(currencies.base)
    converted.record(session, conversion)
    by_currency: dict[str, set[date]] = {}
    for currency, days in conversion.missing.items():
        by_currency.setdefault(currency, set()).update(month_start(day) for day in days)
    for account in foreign:
        for month in by_currency.get(currencies.mapping[account], ()):
            missing.add((account, month))
    at_month = keys.index("month")
    for row in rows:
        if row[-1]:   # overflow: converted exactly in Python by the read-time path
            month = month_start(_as_date(row[at_month]))
            if by_account:
                missing.add((int(row[keys.index("account_id")]), month))
            else:   # (no account in the keys: every foreign account's month)
                missing.update((account, month) for account in foreign)
    return [tuple(row[:-1]) for row in rows if not row[-1]]


def usable(session: Session, user_id: int, currencies: fx.AccountCurrencies, foreign: Iterable[int],
           start: date, end: date) -> bool:
    """Whether the converted roll-ups answer for these accounts and months: computed for the present
    currencies and rates (one read: the stored state and the signature), and no marker of money without
    a rate there (one read of the markers, through their partial index); both remembered until the
    transaction ends or writes, so an explorer update reads them once for all its ranges."""
    memo = transaction_memo(session)
    key = ("fx_rollup_state", user_id, currencies)
    state = memo.get(key) if memo is not None else None
    if state is None:
        present, stored = _signature_and_stored(session, user_id, currencies)
        markers: set[tuple[int, date]] = set()
        if stored is not None and stored == present:
            r = FxMonthRollup
            markers = {(int(a), _as_date(m)) for a, m in session.execute(
                select(r.account_id, r.month).where(r.user_id == user_id, r.missing > literal_column("0"),
                                                    r.month >= date(1, 1, 1)))}
            # (a literal 0, not a bound one: SQLite uses a partial index only when the WHERE visibly
            # implies the index's; the month bound makes it the better of the two indexes for the planner)
        state = (stored is not None and stored == present, markers)
        if memo is not None:
            memo[key] = state
    current, markers = state
    if not current:
        return False
    first, chosen = month_start(start), set(foreign)
    return not any(a in chosen and first <= m <= end for a, m in markers)
