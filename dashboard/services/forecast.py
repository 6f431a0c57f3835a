"""The cash-flow forecast: where the balance goes over the next 3, 6 or 12 months, with its uncertainty.

    balance(day) = balance today
                 + the schedules' occurrences up to the day, exactly (to the cent; occurrences already
                   paid or skipped are left out, unpaid ones of the last week are due today)
                 + the variable flow that no schedule covers, as a band.

The variable flow is read from the monthly roll-up for the last 12 whole months, one column per
category (spending negative, unscheduled income positive) and, for one account, the transfers in and
out. Rows whose payee a schedule covers are left out (they are in the schedules already). The band
comes from resampled months: 2,000 paths each draw whole past months (all categories of one month
together, so months that were expensive everywhere stay so) with a small kernel jitter (a smoothed
bootstrap: a plain one from 12 months is too narrow), spread each month's flow evenly over its days,
and take the 10th, 50th and 90th percentile of the running total day by day. Measured on a synthetic
series, the 10-90 band of the next month holds the actual month 77-81 % of the time
(tests/test_forecast_service.py). The random generator has a fixed seed: the same data, the same band.

Everything here reads; nothing is written. Money stays in integer cents; only the band is computed in
floats and rounded to cents at the end.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models import Account, MonthlyRollup, PayeeRollup, Schedule, to_cents

from . import fx
from .cache import cached, transaction_memo
from .errors import ServiceError
from .periods import add_months, month_start
from .schedules import OVERDUE_GRACE_DAYS, expand, occurrence_states, schedules_frame
from .sql import cents

HORIZONS = (3, 6, 12)
HISTORY_MONTHS = 12
PATHS = 2000
SEED = 20261202
QUANTILES = (10, 50, 90)
TRANSFERS = "Transfers"
UNCATEGORIZED = "Uncategorized"


@dataclass
class Forecast:
    days: list[date]
    start_cents: int
    scheduled_cents: np.ndarray        # running total of the scheduled items, per day (exact)
    p10: np.ndarray                    # balance per day, cents
    p50: np.ndarray
    p90: np.ndarray
    items: pd.DataFrame                # the scheduled items used: day, label, amount_cents, schedule_id
    components: pd.DataFrame           # variable flow per component: label, p10/p50/p90 monthly cents
    threshold_cents: int
    breach: date | None                # the first day the 10th percentile is below the threshold
    drivers: pd.DataFrame              # the biggest items up to the breach (or the end): label, cents
    history_months: int
    currency: str = ""                 # what every amount is in: the base currency, or the one account's
    # Accounts in other currencies than the base (all accounts): what was converted, what had no rate
    conversion: fx.Conversion | None = None

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"day": self.days, "p10": self.p10, "p50": self.p50, "p90": self.p90,
                             "scheduled": self.start_cents + self.scheduled_cents})


# ---------------------------------------------------------------------------------------------------
# The band (pure)
# ---------------------------------------------------------------------------------------------------

def _jitter_scale(totals: np.ndarray) -> float:
    """The normal-reference (Scott) bandwidth for the month totals, 1.06 * spread * n^(-1/5), with the
    spread the smaller of the standard deviation and IQR / 1.34 (0 when they never vary)."""
    n = len(totals)
    if n < 2:
        return 0.0
    sd = float(np.std(totals, ddof=1))
    q75, q25 = np.percentile(totals, [75, 25])
    spread = min(sd, float(q75 - q25) / 1.34) if q75 > q25 else sd
    return 1.06 * spread * n ** -0.2


def sample_months(matrix: np.ndarray, n_months: int, *, paths: int = PATHS, seed: int = SEED) -> np.ndarray:
    """(paths, n_months) totals of resampled past months (rows of ``matrix``: months x components),
    each with a Gaussian jitter of the normal-reference bandwidth."""
    totals = matrix.sum(axis=1) if matrix.ndim == 2 else matrix
    if len(totals) == 0 or n_months == 0:
        return np.zeros((paths, n_months))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(totals), size=(paths, n_months))
    sampled = totals[picks].astype("float64")
    scale = _jitter_scale(totals)
    if scale > 0:
        sampled += rng.normal(0.0, scale, size=sampled.shape)
    return sampled


def next_month_band(history: np.ndarray, *, paths: int = PATHS, seed: int = SEED) -> tuple[float, float, float]:
    """(p10, p50, p90) of next month's total from the past months' totals: the band the forecast uses."""
    sampled = sample_months(np.asarray(history, dtype="float64"), 1, paths=paths, seed=seed)[:, 0]
    p10, p50, p90 = np.percentile(sampled, QUANTILES)
    return float(p10), float(p50), float(p90)


def daily_paths(sampled: np.ndarray, days: list[date]) -> np.ndarray:
    """Running totals per day (paths x days) with each month's sampled flow spread evenly over its
    days; the first month counts only its days from the first forecast day on."""
    if not days:
        return np.zeros((sampled.shape[0], 0))
    index = pd.DatetimeIndex(days)
    column, _months = pd.factorize(index.to_period("M"), sort=True)
    per_day = 1.0 / index.days_in_month.to_numpy(dtype="float64")
    increments = sampled[:, column] * per_day
    return np.cumsum(increments, axis=1)


@lru_cache(maxsize=16)
def _band_of(matrix_bytes: bytes, shape: tuple[int, int], first: date, last: date) -> np.ndarray:
    """The 10th/50th/90th percentile of the variable flow's running total, day by day from ``first``
    (0) to ``last``: 3 x days. Pure, so kept for the same history and dates: a scenario that changes
    only scheduled items shares the band of the plain forecast instead of resampling it."""
    matrix = np.frombuffer(matrix_bytes, dtype="float64").reshape(shape)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    forecast_days = days[1:]   # the first day's own flow is mostly in the balance already
    n_months = len({month_start(d) for d in forecast_days})
    if not matrix.size or not np.any(matrix):
        band = np.zeros((3, len(days)))
    else:
        running = daily_paths(sample_months(matrix, n_months), forecast_days)
        running = np.concatenate([np.zeros((running.shape[0], 1)), running], axis=1)
        band = np.percentile(running, QUANTILES, axis=0)
    band = np.rint(band).astype("int64")
    band.setflags(write=False)
    return band


# ---------------------------------------------------------------------------------------------------
# The data
# ---------------------------------------------------------------------------------------------------

def _remembered(session: Session, key: tuple, compute):
    """``compute()``, remembered until the database transaction ends (services/cache.py:
    transaction_memo): the page draws the plain forecast and up to two scenarios in one update, and
    they share the balance, the schedules' occurrences, the history and the category names. Not
    remembered once the transaction has written. The value is shared: callers do not change it."""
    memo = transaction_memo(session)
    if memo is None:
        return compute()
    key = ("forecast", *key)
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def covered_payees(session: Session, user_id: int) -> list[str]:
    """The payees (clean names) the user's schedules cover."""
    return sorted({p.strip().lower() for p in session.scalars(
        select(Schedule.payee).where(Schedule.user_id == user_id, Schedule.payee != "")) if p.strip()})


def variable_history(session: Session, user_id: int, today: date, *, account_id: int | None = None,
                     months: int = HISTORY_MONTHS) -> pd.DataFrame:
    """Months x components of the flow no schedule covers, in cents (spending negative), over the last
    ``months`` whole months: columns are category ids (int), and "Transfers" for one account. One
    GROUP BY over the roll-up."""
    first = add_months(month_start(today), -months)
    last = month_start(today) - timedelta(days=1)
    # Spending and income by payee from the payee roll-up (a schedule's payee is left out), and for one
    # account its net movement from the monthly roll-up (what is neither is transfers).
    r = PayeeRollup
    covered = covered_payees(session, user_id)
    payee_key = func.lower(func.trim(r.payee))
    keys = [r.flow, r.month, r.category_id]
    if covered:
        keys.append(case((payee_key.in_(covered), 1), else_=0).label("covered"))
    stmt = (select(*keys, func.sum(r.total_cents))
            .where(r.user_id == user_id, r.month >= first, r.month <= last)
            .group_by(*keys))
    m = MonthlyRollup
    net_stmt = None
    if account_id is not None:
        stmt = stmt.where(r.account_id == account_id)
        net_stmt = (select(m.flow, m.month, m.category_id, func.sum(m.total_cents))
                    .where(m.user_id == user_id, m.flow == "net", m.month >= first, m.month <= last,
                           m.account_id == account_id)
                    .group_by(m.flow, m.month, m.category_id))
    else:
        # Over every account transfers cancel out; archived accounts are left out of the forecast.
        stmt = stmt.where(r.account_id.in_(
            select(Account.id).where(Account.user_id == user_id, Account.archived.is_(False))))
    month_list = [add_months(first, i) for i in range(months)]
    table: dict = {}
    net: dict = {}
    flows: dict = {}
    rows = session.execute(stmt).all() + (session.execute(net_stmt).all() if net_stmt is not None else [])
    for row in rows:
        flow, month, category_id, total = row[0], row[1], row[2], row[-1]
        cover = bool(covered) and flow != "net" and row[3]
        month = month if isinstance(month, date) else date.fromisoformat(str(month)[:10])
        total = int(total)
        if flow == "net":
            net[month] = net.get(month, 0) + total
            continue
        signed = -total if flow == "spending" else total
        flows[month] = flows.get(month, 0) + signed
        if cover:
            continue
        key = int(category_id) if category_id is not None else 0
        table.setdefault(key, {})
        table[key][month] = table[key].get(month, 0) + signed
    frame = pd.DataFrame({key: [values.get(m, 0) for m in month_list] for key, values in table.items()},
                         index=month_list, dtype="int64")
    if account_id is not None:
        transfers = [net.get(m, 0) - flows.get(m, 0) for m in month_list]
        if any(transfers):
            frame[TRANSFERS] = pd.Series(transfers, index=month_list, dtype="int64")
    return frame


def converted_history(session: Session, user_id: int, today: date, conversion: fx.Conversion, *,
                      months: int = HISTORY_MONTHS) -> pd.DataFrame:
    """:func:`variable_history` over every account (not archived) when they are in several currencies:
    the same months x categories, in the base currency, read through the explorer's aggregate (each
    (payee, day, account, category) group converted at its day's rate and rounded once, half-even),
    a schedule's payee left out. Money without a rate is left out and recorded in ``conversion``."""
    from .spending import SpendingFilters, aggregate
    first = add_months(month_start(today), -months)
    last = month_start(today) - timedelta(days=1)
    covered = set(covered_payees(session, user_id))
    active = tuple(int(i) for i in session.scalars(select(Account.id).where(
        Account.user_id == user_id, Account.archived.is_(False))))
    month_list = [add_months(first, i) for i in range(months)]
    table: dict = {}
    keys = ["bucket", "category_id", *(["payee"] if covered else [])]
    for flow in ("spending", "income"):
        filters = SpendingFilters(start=first, end=last, preset="custom", account_ids=active, flow=flow,
                                  grain="month")
        frame = aggregate(session, user_id, filters, keys, conversion=conversion) if active else pd.DataFrame()
        for row in frame.itertuples():
            if covered and str(row.payee or "").strip().lower() in covered:
                continue
            signed = -int(row.total_cents) if flow == "spending" else int(row.total_cents)
            key = int(row.category_id)
            table.setdefault(key, {})
            table[key][row.bucket] = table[key].get(row.bucket, 0) + signed
    return pd.DataFrame({key: [values.get(m, 0) for m in month_list] for key, values in table.items()},
                        index=month_list, dtype="int64")


def start_balance(session: Session, user_id: int, today: date, account_id: int | None,
                  conversion: fx.Conversion | None = None) -> int:
    """Today's balance: of one account (in its currency), or of every account; with ``conversion``
    (several currencies) each valued in the base currency at today's rate (accounts.in_base_currency),
    an account without a rate left out and recorded."""
    from .overview import account_balances
    balances = account_balances(session, user_id, as_of=today)
    if account_id is not None:
        row = balances[balances["id"] == account_id]
        if row.empty:
            raise ServiceError("Unknown account.", "account")
        return int(row["balance_cents"].iloc[0])
    if conversion is not None:
        from .accounts import in_base_currency
        native = balances
        balances, _, missing = in_base_currency(session, user_id, balances, today)
        conversion.converted_from |= set(balances["currency"]) - {conversion.base}
        lost = native[~native["id"].isin(balances["id"])]
        for currency, cents_value in zip(lost["currency"], lost["balance_cents"], strict=True):
            conversion.leave_out(currency, today, int(cents_value))
    return int(balances["balance_cents"].sum())


def _converted_items(session: Session, user_id: int, scheduled: pd.DataFrame, today: date, end: date,
                     currencies: fx.AccountCurrencies, conversion: fx.Conversion) -> pd.DataFrame:
    """Scheduled amounts (in their schedule's account currency) in the base currency, each at its day's
    rate (the latest on or before it: for a day ahead, the latest known), rounded once, half-even
    (fx.convert_frame). Scenario extras (no schedule) are in the base currency already. An amount
    without a rate is left out and recorded."""
    if scheduled.empty:
        return scheduled
    frame = schedules_frame(session, user_id, include_paused=True)
    account_of = dict(zip(frame["id"].astype(int), frame["account_id"].astype(int), strict=True))
    mapping = currencies.mapping
    accounts = [account_of.get(int(sid)) if pd.notna(sid) else None for sid in scheduled["schedule_id"]]
    foreign = [a is not None and mapping.get(a, currencies.base) != currencies.base for a in accounts]
    if not any(foreign):
        return scheduled
    rows = scheduled[foreign].assign(account_id=[a for a, f in zip(accounts, foreign, strict=True) if f],
                                     total_cents=scheduled.loc[foreign, "amount_cents"])
    used = {mapping[a] for a in rows["account_id"]}
    book = fx.load_rates(session, user_id, {currencies.base, *used}, today, end)
    converted = fx.convert_frame(rows, currencies, book, conversion)
    converted = converted.assign(amount_cents=converted["total_cents"]).drop(columns=["account_id", "total_cents"])
    out = pd.concat([scheduled[[not f for f in foreign]], converted])
    out["amount_cents"] = out["amount_cents"].astype("int64")
    return out.sort_values(["day", "label"], kind="stable").reset_index(drop=True)


def scheduled_items(session: Session, user_id: int, today: date, end: date, *, account_id: int | None,
                    items: list[dict] | None = None) -> pd.DataFrame:
    """The scheduled amounts from tomorrow to ``end`` (today for unpaid ones of the last week and
    today's own): day, label, amount_cents, schedule_id, category_id. Paid and skipped occurrences are
    left out, so a real transaction is never counted next to the occurrence it paid. Scenario items
    change, stop or add to them."""
    items = items or []
    frame = _remembered(session, ("schedules", user_id, account_id),
                        lambda: schedules_frame(session, user_id, account_id=account_id, include_paused=False))
    rows = []
    stops = {i["schedule_id"]: date.fromisoformat(i["from"]) if i.get("from") else date.min
             for i in items if i["type"] == "remove_schedule"}
    changes = {i["schedule_id"]: (date.fromisoformat(i["from"]) if i.get("from") else date.min, to_cents(i["amount"]))
               for i in items if i["type"] == "change_schedule"}
    states = _remembered(session, ("states", user_id, today, end, account_id), lambda: occurrence_states(
        session, user_id, today - timedelta(days=OVERDUE_GRACE_DAYS), end, today=today, schedules=frame))
    for occ in states:
        if occ.status in ("paid", "skipped"):
            continue
        if occ.occurs_on < today and occ.status != "overdue":
            continue
        if occ.schedule_id in stops and occ.occurs_on >= stops[occ.schedule_id]:
            continue
        amount = occ.amount_cents
        if occ.schedule_id in changes and occ.occurs_on >= changes[occ.schedule_id][0]:
            amount = changes[occ.schedule_id][1]
        rows.append((max(occ.occurs_on, today), occ.name, amount, occ.schedule_id, occ.category_id))
    from .scenarios import extra_specs
    for label, when, amount, item_account in extra_specs(items):
        if account_id is not None and item_account not in (None, account_id):
            continue
        days = [when] if isinstance(when, date) else expand(when, today, end)
        rows += [(day, label, amount, None, None) for day in days if today <= day <= end]
    out = pd.DataFrame(rows, columns=["day", "label", "amount_cents", "schedule_id", "category_id"])
    out["amount_cents"] = out["amount_cents"].astype("int64")
    return out.sort_values(["day", "label"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------
# The forecast
# ---------------------------------------------------------------------------------------------------

def _budget_columns(history: pd.DataFrame, items: list[dict], session: Session, user_id: int) -> pd.DataFrame:
    """Scenario budgets: a category's spending (with its children) becomes the budget, every month."""
    budgets = [i for i in items if i["type"] == "budget"]
    if not budgets:
        return history
    from .categories import with_descendants
    history = history.copy()
    for item in budgets:
        ids = set(with_descendants(session, user_id, [item["category_id"]]))
        drop = [c for c in history.columns if isinstance(c, (int, np.integer)) and int(c) in ids]
        history = history.drop(columns=drop)
        history[f"budget:{item['category_id']}"] = -to_cents(item["amount"])
    return history


def forecast(session: Session, user_id: int, *, today: date, months: int = 6, account_id: int | None = None,
             threshold_cents: int = 0, items: list[dict] | None = None) -> Forecast:
    """The forecast from today to ``months`` months on (see the module docstring)."""
    if months not in HORIZONS:
        raise ServiceError("Forecast 3, 6 or 12 months.", "months")
    items = items or []
    end = add_months(today, months)
    days = [today + timedelta(days=i) for i in range((end - today).days + 1)]
    # One account: everything in its currency. Every account: in the base currency, converted the way
    # the explorer converts (services/fx.py), money without a rate left out and recorded.
    currencies = fx.account_currencies(session, user_id)
    if account_id is not None:
        currency, conversion = currencies.mapping.get(int(account_id), currencies.base), None
    else:
        currency = currencies.base
        conversion = None if currencies.single else fx.Conversion(currencies.base)
    if conversion is None:   # shared by the plain forecast and its scenarios (one read per update)
        start = _remembered(session, ("start", user_id, today, account_id),
                            lambda: start_balance(session, user_id, today, account_id, None))
    else:                    # a Conversion records the missing rates it meets: computed each time
        start = start_balance(session, user_id, today, account_id, conversion)
    scheduled = scheduled_items(session, user_id, today, end, account_id=account_id, items=items)
    if conversion is not None:
        scheduled = _converted_items(session, user_id, scheduled, today, end, currencies, conversion)
    by_day = scheduled.groupby("day")["amount_cents"].sum().to_dict() if not scheduled.empty else {}
    sched_running = np.cumsum(np.array([int(by_day.get(d, 0)) for d in days], dtype="int64"))

    history = (_remembered(session, ("history", user_id, today, account_id),
                           lambda: variable_history(session, user_id, today, account_id=account_id))
               if conversion is None else converted_history(session, user_id, today, conversion))
    history = _budget_columns(history, items, session, user_id)
    matrix = np.ascontiguousarray(history.to_numpy(dtype="float64") if not history.empty else np.zeros((0, 0)))
    band = _band_of(matrix.tobytes(), matrix.shape, today, end)
    base = start + sched_running
    p10, p50, p90 = (base + b for b in band)

    below = np.nonzero(p10 < threshold_cents)[0]
    breach = days[int(below[0])] if len(below) else None
    components = _components(history, session, user_id)
    drivers = _drivers(scheduled, components, today, breach or end)
    return Forecast(days, start, sched_running, p10, p50, p90, scheduled, components, threshold_cents, breach,
                    drivers, len(history.index), currency, conversion)


def _components(history: pd.DataFrame, session: Session, user_id: int) -> pd.DataFrame:
    columns = ["key", "label", "p10", "p50", "p90"]
    if history.empty:
        return pd.DataFrame(columns=columns)
    from .categories import category_frame

    def read_names() -> dict:
        categories = category_frame(session, user_id)
        return dict(zip(categories["id"].tolist(), categories["full_name"].tolist()))

    names = _remembered(session, ("names", user_id), read_names)
    rows = []
    for key in history.columns:
        values = history[key].to_numpy(dtype="float64")
        if not np.any(values):
            continue
        if isinstance(key, str) and key.startswith("budget:"):
            label = f"{names.get(int(key.split(':')[1]), 'Category')} (budget)"
        elif key == TRANSFERS:
            label = TRANSFERS
        else:
            label = names.get(int(key), UNCATEGORIZED) if int(key) else UNCATEGORIZED
        p10, p50, p90 = np.percentile(values, QUANTILES)
        rows.append((str(key), label, int(round(p10)), int(round(p50)), int(round(p90))))
    return pd.DataFrame(rows, columns=columns).sort_values("p50").reset_index(drop=True)


def _drivers(scheduled: pd.DataFrame, components: pd.DataFrame, today: date, until: date,
             limit: int = 6) -> pd.DataFrame:
    """The biggest outflows from today to ``until``: each schedule's occurrences together, and each
    category's typical (median) monthly spending times the months."""
    rows = []
    if not scheduled.empty:
        upto = scheduled[scheduled["day"] <= until]
        for label, total in upto.groupby("label")["amount_cents"].sum().items():
            rows.append((str(label), int(total), "scheduled"))
    months = max((until - today).days, 1) / 30.44
    for row in components.itertuples():
        rows.append((row.label, int(round(row.p50 * months)), "typical spending"))
    frame = pd.DataFrame(rows, columns=["label", "cents", "source"])
    frame = frame[frame["cents"] < 0].sort_values("cents").head(limit).reset_index(drop=True)
    return frame


@cached
def forecast_cached(session: Session, user_id: int, today: date, months: int, account_id: int | None,
                    threshold_cents: int, scenario_id: int | None) -> Forecast:
    """The forecast for the page: cached per (user, data version, arguments). A scenario is re-read
    and re-checked for its owner here."""
    items: list[dict] = []
    if scenario_id is not None:
        from .scenarios import scenario_items
        _name, items = scenario_items(session, user_id, scenario_id)
    return forecast(session, user_id, today=today, months=months, account_id=account_id,
                    threshold_cents=threshold_cents, items=items)


__all__ = ["HORIZONS", "Forecast", "forecast", "forecast_cached", "next_month_band", "sample_months",
           "scheduled_items", "variable_history", "cents"]
