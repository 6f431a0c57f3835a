"""Budgets: creating and changing them, keeping every expense in the budget that covers it, and
reading a period's budgets against what was spent.

Spending of a budget is ``SUM(expenses.amount)`` of the expenses whose ``budget_id`` is that budget
(:func:`assign_budgets` keeps that column right: a category's own budget wins, else the nearest
ancestor's, at any depth).
Frames carry money as integer cents. Writes flush and leave the commit to the caller.

Rollover: a budget whose ``rollover`` is on carries what is left of it (negative when overspent) into
the budget of the same category and period type in the period right after it. The carried amount
adds to that budget's available money and, if that one rolls over too, travels further.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pandas as pd
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from dashboard.formatting import format_date_range, format_month
from models import PERIOD_TYPES, Account, Budget, Category, ExchangeRate, Expense, Transaction

from . import fx
from .budget_lines import assign_budgets, detach_expenses
from .cache import cached
from .categories import category_frame, get_category, visible_to
from .errors import Conflict, NotFound, ServiceError
from .periods import add_months, compare, day_count, elapsed_days, period_bounds
from .sql import cents, cents_sum
from .validation import parse_amount, parse_date, parse_id


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
    detach_expenses(session, user_id, Budget.id == budget.id)
    session.execute(delete(Budget).where(Budget.id == budget.id, Budget.user_id == user_id))
    assign_budgets(session, user_id, date_from=start, date_to=end)


def spent_in_budget(session: Session, user_id: int, budget_id: int) -> Decimal:
    from sqlalchemy import func
    # The lines a budget covers lie in its period: read by the user's date index (budget_id has none).
    period = session.execute(select(Budget.start_date, Budget.end_date)
                             .where(Budget.id == budget_id, Budget.user_id == user_id)).first()
    if period is None:
        return Decimal(0)
    total = session.scalar(select(func.coalesce(func.sum(Expense.amount), 0))
                           .where(Expense.user_id == user_id, Expense.date >= period[0], Expense.date <= period[1],
                                  Expense.budget_id == budget_id))
    return total if isinstance(total, Decimal) else Decimal(total) / 100


# -- periods ------------------------------------------------------------------------------------------

PAGE_PERIOD_TYPES = ("monthly", "weekly", "yearly")
_MIN_YEAR, _MAX_YEAR = 1970, 2200


@dataclass(frozen=True)
class Period:
    """One budget period: a calendar month, a Monday-to-Sunday week or a calendar year."""

    type: str
    start: date
    end: date

    @classmethod
    def containing(cls, period_type: str, day: date) -> Period:
        start, end = period_bounds(period_type, day)
        return cls(period_type, start, end)

    @property
    def days(self) -> int:
        return day_count(self.start, self.end)

    @property
    def key(self) -> str:
        """How the period is written in the URL: ``2026-11``, ``2026-11-16`` (a week's Monday), ``2026``."""
        if self.type == "monthly":
            return f"{self.start:%Y-%m}"
        if self.type == "yearly":
            return f"{self.start:%Y}"
        return self.start.isoformat()

    @property
    def label(self) -> str:
        """``November 2026``, ``2026``, a week ``Nov 30 – Dec 6, 2026`` (in the user's locale)."""
        if self.type == "monthly":
            return format_month(self.start, long=True)
        if self.type == "yearly":
            return f"{self.start:%Y}"
        return format_date_range(self.start, self.end, year=True)

    @property
    def noun(self) -> str:
        return {"monthly": "month", "weekly": "week", "yearly": "year"}[self.type]

    def shift(self, count: int) -> Period:
        """The period ``count`` periods later (earlier when negative)."""
        if self.type == "monthly":
            return Period.containing("monthly", add_months(self.start, count))
        if self.type == "weekly":
            return Period.containing("weekly", self.start + timedelta(days=7 * count))
        return Period.containing("yearly", date(self.start.year + count, 1, 1))

    def elapsed_days(self, today: date) -> int:
        """Days of the period up to and including ``today`` (0 before it starts, all after it ends)."""
        return elapsed_days(self.start, self.end, today)


def parse_period(period_type, value, today: date) -> Period:
    """The period named by the URL (``?type=monthly&period=2026-11``); anything unreadable gives the
    period that contains ``today``. Never raises: a bad link shows the current period."""
    kind = period_type if isinstance(period_type, str) and period_type in PAGE_PERIOD_TYPES else "monthly"
    day = today
    text = value.strip() if isinstance(value, str) else ""
    try:
        if len(text) == 4 and text.isdigit():
            day = date(int(text), 1, 1)
        elif len(text) == 7 and text[4] == "-":
            day = date(int(text[:4]), int(text[5:7]), 1)
        elif len(text) == 10:
            day = date.fromisoformat(text)
    except ValueError:
        day = today
    if not _MIN_YEAR <= day.year <= _MAX_YEAR:
        day = today
    return Period.containing(kind, day)


# -- reading a period ---------------------------------------------------------------------------------

FRAME_COLUMNS = ["id", "category_id", "category", "name", "parent", "parent_id", "color", "amount_cents",
                 "carried_cents", "available_cents", "spent_cents", "remaining_cents", "pct_used", "pace_cents",
                 "rollover", "version"]


def rollover_carries(chain: Sequence[tuple[date, int, int, bool]], period_type: str) -> list[int]:
    """Carried-in cents of each budget of one category, oldest first.

    ``chain`` holds (start, amount_cents, spent_cents, rollover) of consecutive or gapped periods. A
    budget receives what was left of the budget right before it (same period type, the period just
    before) when that one rolls over; a gap or a budget without rollover breaks the chain.
    """
    carries: list[int] = []
    previous = None  # (start, left_cents, rollover)
    for start, amount, spent, rollover in chain:
        carried = 0
        follows = previous is not None and Period.containing(period_type, previous[0]).shift(1).start == start
        if follows and previous[2]:
            carried = previous[1]
        carries.append(carried)
        previous = (start, amount + carried - spent, rollover)
    return carries


def _spent_by_budget(user_id: int, start: date, end: date):
    """Subquery: budget_id, spent (cents) of the user's expenses dated in [start, end]."""
    return (select(Expense.budget_id.label("budget_id"), cents_sum(Expense.amount).label("spent"))
            .where(Expense.user_id == user_id, Expense.budget_id.is_not(None),
                   Expense.date >= start, Expense.date <= end)
            .group_by(Expense.budget_id)
            .subquery())


def _converted_spent(session: Session, user_id: int, start: date, end: date,
                     conversion: fx.Conversion | None = None) -> dict[int, int] | None:
    """{budget_id: spent} in the base currency when some account is in another currency (each
    (budget, day, account, category) group converted at its day's rate: services/fx.py); None when
    every account is in the base currency (then ``_spent_by_budget`` answers in SQL alone)."""
    currencies = fx.account_currencies(session, user_id)
    base_ids, foreign = currencies.split()
    if not foreign:
        return None
    where = [Expense.user_id == user_id, Expense.budget_id.is_not(None), Expense.date >= start, Expense.date <= end]
    rows = session.execute(
        select(Expense.budget_id, Expense.date, Expense.account_id, Expense.category_id, cents_sum(Expense.amount))
        .where(*where, Expense.account_id.in_(foreign))
        .group_by(Expense.budget_id, Expense.date, Expense.account_id, Expense.category_id)).all()
    spent = fx.converted_sums(session, user_id, currencies, rows, "budget_id", start, end, conversion)
    if base_ids:
        for budget_id, cents_ in session.execute(
                select(Expense.budget_id, cents_sum(Expense.amount))
                .where(*where, Expense.account_id.in_(base_ids)).group_by(Expense.budget_id)).all():
            spent[budget_id] = spent.get(budget_id, 0) + int(cents_ or 0)
    return spent


def carried_in(session: Session, user_id: int, period: Period, category_ids: Iterable[int]) -> dict[int, int]:
    """Cents carried into ``period``'s budgets of these categories by rollover from earlier periods."""
    ids = sorted({int(c) for c in category_ids})
    if not ids:
        return {}
    history_start = session.scalar(
        select(func.min(Budget.start_date)).where(
            Budget.user_id == user_id, Budget.period_type == period.type, Budget.category_id.in_(ids),
            Budget.start_date < period.start, Budget.rollover.is_(True)))
    if history_start is None:
        return {}  # nothing earlier rolls over
    spent = _spent_by_budget(user_id, history_start, period.start - timedelta(days=1))
    rows = session.execute(
        select(Budget.category_id, Budget.start_date, cents(Budget.amount), Budget.rollover,
               func.coalesce(spent.c.spent, 0), Budget.id)
        .outerjoin(spent, spent.c.budget_id == Budget.id)
        .where(Budget.user_id == user_id, Budget.period_type == period.type, Budget.category_id.in_(ids),
               Budget.start_date >= history_start, Budget.start_date < period.start)
        .order_by(Budget.category_id, Budget.start_date)
    ).all()
    converted = _converted_spent(session, user_id, history_start, period.start - timedelta(days=1))
    chains: dict[int, list[tuple[date, int, int, bool]]] = {}
    for category_id, start, amount, rollover, used, budget_id in rows:
        if converted is not None:
            used = converted.get(budget_id, 0)
        chains.setdefault(category_id, []).append((start, int(amount), int(used), bool(rollover)))
    result = {}
    for category_id, chain in chains.items():
        chain.append((period.start, 0, 0, False))  # the period asked about: only its carry-in matters
        result[category_id] = rollover_carries(chain, period.type)[-1]
    return result


@cached  # per (user, data version, period, today): see services/cache.py
def budget_frame(session: Session, user_id: int, period: Period, today: date) -> pd.DataFrame:
    """The period's budgets with what was spent against them, one row per budget (columns
    ``FRAME_COLUMNS``; ``category`` is "Food › Groceries", ``name`` "Groceries", ``parent`` "Food" or
    None), ordered by category. ``available`` = amount + carried in; ``remaining`` =
    available - spent; ``pace`` = where spending would be today if the available money were spent
    evenly over the period; ``pct_used`` = spent / available (None when nothing is available)."""
    cat = aliased(Category)
    parent = aliased(Category)
    spent = _spent_by_budget(user_id, period.start, period.end)
    rows = session.execute(
        select(Budget.id, Budget.category_id, cat.name, parent.name, cat.parent_id,
               func.coalesce(cat.color, parent.color),
               cents(Budget.amount), func.coalesce(spent.c.spent, 0), Budget.rollover, Budget.version)
        .join(cat, cat.id == Budget.category_id)
        .outerjoin(parent, parent.id == cat.parent_id)
        .outerjoin(spent, spent.c.budget_id == Budget.id)
        .where(Budget.user_id == user_id, Budget.period_type == period.type, Budget.start_date == period.start)
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "category_id", "name", "parent", "parent_id", "color",
                                        "amount_cents", "spent_cents", "rollover", "version"])
    # The whole path at any depth ("Home › Utilities › Power") from the one category tree, in path order.
    from .categories import category_records
    tree = category_records(session, user_id)
    paths = dict(zip(tree["id"], tree["full_name"], strict=True))
    frame.insert(2, "category", [paths[int(c)] for c in frame["category_id"]])
    frame = frame.sort_values("category", key=lambda labels: labels.astype(str).str.casefold(), kind="stable",
                              ignore_index=True)
    converted = _converted_spent(session, user_id, period.start, period.end)
    if converted is not None:
        frame["spent_cents"] = [converted.get(int(i), 0) for i in frame["id"]]
    carried = carried_in(session, user_id, period, frame["category_id"].tolist())
    frame["carried_cents"] = [int(carried.get(c, 0)) for c in frame["category_id"]]
    for column in ("amount_cents", "spent_cents", "carried_cents"):
        frame[column] = frame[column].astype("int64")
    frame["available_cents"] = frame["amount_cents"] + frame["carried_cents"]
    frame["remaining_cents"] = frame["available_cents"] - frame["spent_cents"]
    elapsed = period.elapsed_days(today)
    frame["pace_cents"] = [max(a, 0) * elapsed // period.days for a in frame["available_cents"]]
    frame["pct_used"] = [round(s * 100 / a, 1) if a > 0 else None
                         for s, a in zip(frame["spent_cents"], frame["available_cents"], strict=True)]
    frame["parent_id"] = frame["parent_id"].astype("Int64")
    frame["rollover"] = frame["rollover"].astype(bool)
    return frame[FRAME_COLUMNS]


@dataclass(frozen=True)
class PeriodSummary:
    budgeted_cents: int       # the amounts given this period
    carried_cents: int        # carried in by rollover
    spent_cents: int          # spent against these budgets
    left_cents: int           # budgeted + carried - spent
    outside_cents: int        # spending in the period that no budget of this period covers
    income_cents: int         # income received in the period (so far, when it is running)
    days_left: int
    days_total: int
    count: int
    running: bool = False     # the period contains today and has days to come
    # The same days of the previous period (services/periods.compare): for a running period, what
    # had come in by this day last time.
    previous_range: tuple[date, date] | None = None
    previous_income_cents: int = 0

    @property
    def unbudgeted_income_cents(self) -> int:
        """Income not yet given to a budget (negative: more is budgeted than came in)."""
        return self.income_cents - self.budgeted_cents


@cached
def period_flows(session: Session, user_id: int, start: date, end: date) -> tuple[int, int]:
    """(income, spending) in cents between two dates: income-kind transactions, expense lines; in
    the base currency (services/spending.aggregate converts when accounts are in other currencies)."""
    if not fx.account_currencies(session, user_id).single:
        from .spending import SpendingFilters, aggregate
        return tuple(int(aggregate(session, user_id, SpendingFilters(start=start, end=end, preset="custom", flow=f),
                                   [])["total_cents"].iloc[0]) for f in ("income", "spending"))
    income = session.scalar(select(cents_sum(Transaction.amount)).where(
        Transaction.user_id == user_id, Transaction.kind == "income",
        Transaction.date >= start, Transaction.date <= end))
    spending = session.scalar(select(cents_sum(Expense.amount)).where(
        Expense.user_id == user_id, Expense.date >= start, Expense.date <= end))
    return int(income or 0), int(spending or 0)


def period_summary(session: Session, user_id: int, period: Period, frame: pd.DataFrame,
                   today: date) -> PeriodSummary:
    """Totals of the period: the frame's sums plus the period's income and all its spending (SQL)."""
    income, spending = period_flows(session, user_id, period.start, period.end)
    comparison = compare(period.start, period.end, today)
    previous_income, _ = period_flows(session, user_id, *comparison.previous)
    budgeted = int(frame["amount_cents"].sum())
    carried = int(frame["carried_cents"].sum())
    spent = int(frame["spent_cents"].sum())
    return PeriodSummary(
        budgeted_cents=budgeted, carried_cents=carried, spent_cents=spent,
        left_cents=budgeted + carried - spent, outside_cents=int(spending or 0) - spent,
        income_cents=int(income or 0), days_left=period.days - period.elapsed_days(today),
        days_total=period.days, count=len(frame), running=comparison.partial,
        previous_range=comparison.previous, previous_income_cents=int(previous_income or 0))


def unbudgeted_categories(session: Session, user_id: int, period: Period) -> pd.DataFrame:
    """Expense categories the user can budget that have no budget in this period: id, full_name."""
    categories = category_frame(session, user_id)
    taken = set(session.scalars(select(Budget.category_id).where(
        Budget.user_id == user_id, Budget.period_type == period.type, Budget.start_date == period.start)))
    free = categories[(categories["kind"] == "expense") & ~categories["id"].isin(taken)].copy()
    names = dict(zip(categories["id"], categories["name"], strict=True))
    free["top_name"] = [names.get(int(t), "") for t in free["top_id"]]
    free["is_child"] = free["parent_id"].notna()
    free = free.sort_values(["top_name", "is_child", "name"])
    return free[["id", "full_name"]].reset_index(drop=True)


def budget_label(session: Session, user_id: int, budget_id) -> tuple[str, Decimal] | None:
    """(category name, amount) of one of the user's budgets, or None when it is not theirs."""
    try:
        budget = get_budget(session, user_id, budget_id)
    except ServiceError:
        return None
    return budget.category.name, budget.amount


# -- writing ------------------------------------------------------------------------------------------

_UNSET = object()
# Grid column -> budget attribute: the only things an edit may change.
EDITABLE_COLUMNS = {"budgeted": "amount", "rollover": "rollover"}


def _version(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ServiceError("This row is out of date. Reload the page.", "version")
    try:
        number = int(value)
    except ValueError:
        raise ServiceError("This row is out of date. Reload the page.", "version") from None
    if not 0 < number < 2**31:
        raise ServiceError("This row is out of date. Reload the page.", "version")
    return number


CONFLICT_MESSAGE = "Someone changed this budget meanwhile, so your change was not saved. The current value is shown."


def update_budget(session: Session, user_id: int, budget_id, *, expected_version, amount=_UNSET,
                  rollover=_UNSET) -> Budget:
    """Change the amount and/or the rollover of one of the user's budgets, if it is still at
    ``expected_version`` (the version the client read). Raises NotFound, ServiceError or Conflict;
    on any error nothing is changed. Does not commit."""
    budget = get_budget(session, user_id, budget_id)
    version = _version(expected_version)
    if budget.version != version:
        raise Conflict(CONFLICT_MESSAGE, current=budget)
    new_amount = parse_amount(amount, field="budgeted") if amount is not _UNSET else budget.amount
    if rollover is not _UNSET and not isinstance(rollover, bool):
        raise ServiceError("Rollover is on or off.", "rollover")
    budget.amount = new_amount
    if rollover is not _UNSET:
        budget.rollover = rollover
    try:
        session.flush()  # UPDATE ... WHERE id = :id AND version = :read_version
    except StaleDataError:
        # Changed by another request between our read and our write.
        session.rollback()
        raise Conflict(CONFLICT_MESSAGE, current=get_budget(session, user_id, budget_id)) from None
    return budget


def apply_cell_edit(session: Session, user_id: int, *, budget_id, column, value, expected_version) -> Budget:
    """One edited grid cell: only the editable columns, only the user's own budget, only if unchanged
    since the client read it."""
    attribute = EDITABLE_COLUMNS.get(column) if isinstance(column, str) else None
    if attribute is None:
        raise ServiceError("Only the budgeted amount and the rollover switch can be changed here.", "column")
    return update_budget(session, user_id, budget_id, expected_version=expected_version, **{attribute: value})


def _new_budgets(session: Session, user_id: int, period: Period, amounts: dict[int, tuple[Decimal, bool]]) -> int:
    """Insert budgets (category id -> (amount, rollover)) in the period and reassign its expenses once."""
    for category_id, (amount, rollover) in amounts.items():
        session.add(Budget(user_id=user_id, category_id=category_id, amount=amount, period_type=period.type,
                           start_date=period.start, end_date=period.end, rollover=rollover))
    if amounts:
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise ServiceError("Some of these budgets were just added elsewhere. Try again.") from None
        assign_budgets(session, user_id, date_from=period.start, date_to=period.end)
    return len(amounts)


def _budgeted_categories(session: Session, user_id: int, period: Period) -> set[int]:
    return set(session.scalars(select(Budget.category_id).where(
        Budget.user_id == user_id, Budget.period_type == period.type, Budget.start_date == period.start)))


def copy_previous_period(session: Session, user_id: int, period: Period) -> int:
    """Give every category budgeted in the period before and not yet in this one the same amount and
    rollover. Returns how many budgets were added. Does not commit."""
    previous = period.shift(-1)
    taken = _budgeted_categories(session, user_id, period)
    rows = session.execute(select(Budget.category_id, Budget.amount, Budget.rollover).where(
        Budget.user_id == user_id, Budget.period_type == period.type, Budget.start_date == previous.start)).all()
    return _new_budgets(session, user_id, period,
                        {c: (a, bool(r)) for c, a, r in rows if c not in taken})


def average_spending(session: Session, user_id: int, period: Period, periods: int = 3) -> dict[int, Decimal]:
    """Average spending per period over the ``periods`` periods before ``period``, keyed by the
    category whose budget would cover it: the category's own budget in ``period``, else the nearest
    ancestor's at any depth, else its top-level category (where a new budget would go). Whole currency units, rounded half up;
    categories whose spending nets to zero or less are left out."""
    window_start = period.shift(-periods).start
    rows = session.execute(
        select(Expense.category_id, cents_sum(Expense.amount))
        .where(Expense.user_id == user_id, Expense.category_id.is_not(None),
               Expense.date >= window_start, Expense.date < period.start)
        .group_by(Expense.category_id)).all()
    if not rows:
        return {}
    parents = dict(session.execute(select(Category.id, Category.parent_id).where(
        or_(Category.user_id.is_(None), Category.user_id == user_id))).all())
    budgeted = _budgeted_categories(session, user_id, period)
    totals: dict[int, int] = {}
    for category_id, total in rows:
        # The nearest budgeted category at or above it (any depth), else its top-level category.
        key, current, seen = None, category_id, set()
        while current is not None and current not in seen:
            seen.add(current)
            if current in budgeted:
                key = current
                break
            if parents.get(current) is None:
                key = current
            current = parents.get(current)
        totals[key] = totals.get(key, 0) + int(total)
    averages = {}
    for key, total in totals.items():
        average = (Decimal(total) / 100 / periods).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        if average > 0:
            averages[key] = average
    return averages


def fill_from_average(session: Session, user_id: int, period: Period, periods: int = 3) -> tuple[int, int]:
    """Budget the average spending of the last ``periods`` periods: add a budget for each category
    with spending and no budget yet, and fill the budgets of this period that are zero. Amounts
    already typed are never overwritten. Returns (added, filled). Does not commit."""
    averages = average_spending(session, user_id, period, periods)
    existing = {b.category_id: b for b in session.scalars(select(Budget).where(
        Budget.user_id == user_id, Budget.period_type == period.type, Budget.start_date == period.start))}
    filled = 0
    for category_id, average in averages.items():
        budget = existing.get(category_id)
        if budget is not None and budget.amount == 0:
            budget.amount = average
            filled += 1
    expense_ids = set(session.scalars(select(Category.id).where(
        Category.id.in_(list(averages)), Category.kind == "expense", visible_to(user_id))))
    added = _new_budgets(session, user_id, period, {
        c: (a, False) for c, a in averages.items() if c not in existing and c in expense_ids})
    session.flush()
    return added, filled


def add_budget(session: Session, user_id: int, period: Period, *, category_id, amount, rollover=False) -> Budget:
    """A new budget in ``period`` (the page's add form). Does not commit."""
    if category_id in (None, ""):
        raise ServiceError("Choose a category.", "category")
    if amount is None or (isinstance(amount, str) and not amount.strip()):
        raise ServiceError("Enter an amount.", "amount")
    return create_budget(session, user_id, category_id=category_id, amount=amount, period_type=period.type,
                         start_date=period.start, rollover=bool(rollover))


# -- shown in another currency (issue 17) ------------------------------------------------------------

MONEY_COLUMNS = ("amount_cents", "carried_cents", "spent_cents", "pace_cents")   # converted one by one
SUMMARY_MONEY = ("budgeted_cents", "carried_cents", "spent_cents", "outside_cents", "income_cents",
                 "previous_income_cents")


def display_currencies(session: Session, user_id: int) -> list[str]:
    """The currencies the Budgets page can be shown in: the base currency first, then every other one
    the user's accounts or rates name (at most two decimals, as stored amounts are)."""
    base = fx.base_currency(session, user_id)
    named = set(session.scalars(select(Account.currency).where(Account.user_id == user_id)))
    for currency, rate_base in session.execute(select(ExchangeRate.currency, ExchangeRate.base).where(
            ExchangeRate.user_id == user_id).distinct()):
        named |= {currency, rate_base}
    return [base] + sorted(c for c in named - {base} if fx.minor_digits(c) <= fx.STORED_DIGITS)


@dataclass(frozen=True)
class Shown:
    """A period's budgets in a currency the user picked: the frame and summary converted from the base
    currency at one day's rate (``day``: the period's end, or today while it runs; the latest rate on or
    before it), each amount rounded once, half-even, to the currency's minor unit."""

    currency: str
    day: date
    factor: Fraction
    frame: pd.DataFrame
    summary: PeriodSummary

    @property
    def rate_text(self) -> str:
        """1 base = this many of ``currency`` (six decimals, for the note beside the figures)."""
        return str(Decimal(round(self.factor * 10 ** 6)).scaleb(-6).normalize())


def shown_in(session: Session, user_id: int, currency: str, period: Period, frame: pd.DataFrame,
             summary: PeriodSummary, today: date) -> Shown:
    """The budgets (defined and totalled in the base currency) shown in ``currency``. A view, not a
    second set of budgets: editing stays in the base currency. ``fx.RatesMissing`` when there is no
    rate on or before the day (never a guessed one)."""
    base = fx.base_currency(session, user_id)
    currency = fx.check_currency(currency)
    if fx.minor_digits(currency) > fx.STORED_DIGITS:
        raise ServiceError(f"Budgets cannot be shown in {currency} (three decimals) yet.", "currency")
    day = min(period.end, today)
    if currency == base:
        return Shown(base, day, Fraction(1), frame, summary)
    factor = fx.load_rates(session, user_id, {base, currency}, day, day).factor(base, currency, day)
    if factor is None:
        raise fx.RatesMissing([fx.Missing(base, currency, day)])
    convert = lambda cents_value: fx.convert_cents(int(cents_value), factor, currency)  # noqa: E731
    shown = frame.copy()
    for column in MONEY_COLUMNS:
        shown[column] = shown[column].map(convert).astype("int64")
    # What is derived is derived again from the converted amounts, so that the page still adds up.
    shown["available_cents"] = shown["amount_cents"] + shown["carried_cents"]
    shown["remaining_cents"] = shown["available_cents"] - shown["spent_cents"]
    values = {name: convert(getattr(summary, name)) for name in SUMMARY_MONEY}
    values["left_cents"] = values["budgeted_cents"] + values["carried_cents"] - values["spent_cents"]
    return Shown(currency, day, factor, shown, replace(summary, **values))
