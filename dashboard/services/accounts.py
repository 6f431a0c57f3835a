"""A user's accounts: reads (balances, monthly balance history, net worth over time) and writes
(create, rename, change the opening balance, archive).

Balances are the opening balance plus every transaction of the account, summed in SQL. History is one
``SUM(amount) GROUP BY account, month`` query; only the running total over at most
accounts x months rows is taken in pandas. Net worth counts the accounts that are not archived, as
the Overview does; debts are the balances of credit-card and loan accounts.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import ACCOUNT_TYPES, DEBT_TYPES, Account, Transaction

from . import fx
from .errors import Conflict, NotFound, ServiceError
from .filters import parse_ids
from .periods import add_months, month_end, month_start
from .sql import cents, cents_sum
from .validation import clean_name, parse_amount, parse_id

TYPE_LABELS = {"checking": "Checking", "savings": "Savings", "credit_card": "Credit card", "cash": "Cash",
               "investment": "Investment", "loan": "Loan"}
MAX_NAME = 100


def list_accounts(session: Session, user_id: int, *, include_archived: bool = True) -> pd.DataFrame:
    stmt = (select(Account.id, Account.name, Account.type, Account.archived)
            .where(Account.user_id == user_id).order_by(Account.archived, Account.name))
    if not include_archived:
        stmt = stmt.where(Account.archived.is_(False))
    return pd.DataFrame(session.execute(stmt).all(), columns=["id", "name", "type", "archived"])


# --- reads -----------------------------------------------------------------------------------------

SUMMARY_COLUMNS = ["id", "name", "type", "currency", "archived", "version", "opening_cents", "balance_cents",
                   "transaction_count", "last_date"]


def account_summaries(session: Session, user_id: int, *, include_archived: bool = True) -> pd.DataFrame:
    """One row per account: id, name, type, currency, archived, version, opening_cents, balance_cents
    (opening plus every transaction, in the account's currency), transaction_count, last_date (of its
    newest transaction, or None). Active accounts first, then by name."""
    moved = (select(Transaction.account_id, cents_sum(Transaction.amount).label("moved"),
                    func.count().label("n"), func.max(Transaction.date).label("last_date"))
             .where(Transaction.user_id == user_id).group_by(Transaction.account_id).subquery())
    stmt = (select(Account.id, Account.name, Account.type, Account.currency, Account.archived, Account.version,
                   cents(Account.opening_balance).label("opening_cents"),
                   (cents(Account.opening_balance) + func.coalesce(moved.c.moved, 0)).label("balance_cents"),
                   func.coalesce(moved.c.n, 0).label("transaction_count"), moved.c.last_date)
            .outerjoin(moved, moved.c.account_id == Account.id)
            .where(Account.user_id == user_id)
            .order_by(Account.archived, Account.name))
    if not include_archived:
        stmt = stmt.where(Account.archived.is_(False))
    frame = pd.DataFrame(session.execute(stmt).all(), columns=SUMMARY_COLUMNS)
    for column in ("opening_cents", "balance_cents", "transaction_count", "version", "id"):
        frame[column] = frame[column].astype("int64")
    frame["archived"] = frame["archived"].astype(bool)
    frame["last_date"] = [None if pd.isna(d) else _as_date(d) for d in frame["last_date"]]
    return frame


def _as_date(value) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def net_worth_now(summaries: pd.DataFrame) -> dict[str, int]:
    """assets_cents, debts_cents (negative: money owed), net_cents over the accounts not archived.
    All in one currency: give it accounts of one currency, or the frame of ``in_base_currency``."""
    active = summaries[~summaries["archived"]] if not summaries.empty else summaries
    is_debt = active["type"].isin(DEBT_TYPES) if not active.empty else pd.Series(dtype=bool)
    debts = int(active.loc[is_debt, "balance_cents"].sum()) if not active.empty else 0
    assets = int(active.loc[~is_debt, "balance_cents"].sum()) if not active.empty else 0
    return {"assets_cents": assets, "debts_cents": debts, "net_cents": assets + debts}


def in_base_currency(session: Session, user_id: int, summaries: pd.DataFrame, day: date
                     ) -> tuple[pd.DataFrame, str, tuple[fx.Missing, ...]]:
    """The summaries with each balance valued in the user's base currency at ``day``'s rate (rounded
    once per account, half-even; dashboard/services/fx.py), the base currency, and the accounts'
    currencies that have no rate on or before ``day``. Those accounts are left out of the frame: a net
    worth without them is shown *with* what is missing, never with a guessed rate."""
    base = fx.base_currency(session, user_id)
    if summaries.empty or (summaries["currency"] == base).all():
        return summaries, base, ()
    book = fx.load_rates(session, user_id, {*summaries["currency"], base}, day, day)
    keep, values, missing = [], [], set()
    for r in summaries.itertuples():
        factor = book.factor(r.currency, base, day)
        if factor is None:
            missing.add(fx.Missing(r.currency, base, day))
            keep.append(False)
            values.append(0)
            continue
        keep.append(True)
        values.append(fx.convert_cents(int(r.balance_cents), factor, base))
    frame = summaries.assign(balance_cents=pd.Series(values, index=summaries.index, dtype="int64"))[keep]
    return frame, base, tuple(sorted(missing))


def history_in_base_currency(session: Session, user_id: int, history: pd.DataFrame, end: date
                              ) -> tuple[pd.DataFrame, str, tuple[fx.Missing, ...]]:
    """:func:`balance_history` valued in the base currency: each account's month-end balance (the last
    month's at ``end``) converted at that day's rate (the latest on or before it), rounded once per
    account and month, half-even, like ``in_base_currency`` (dashboard/services/fx.py). Rows without a
    rate are left out and listed (currency, base, day): never zero, never a later rate (a zero balance
    needs none)."""
    currencies = fx.account_currencies(session, user_id)
    base, mapping = currencies.base, currencies.mapping
    if history.empty or all(mapping.get(int(a), base) == base for a in history["account_id"].unique()):
        return history, base, ()
    days = [min(month_end(m), end) for m in history["month"]]
    used = {mapping[int(a)] for a in history["account_id"].unique()}
    book = fx.load_rates(session, user_id, {*used, base}, min(days), end)
    factors: dict = {}
    keep, values, missing = [], [], set()
    for account_id, day, cents_value in zip(history["account_id"].tolist(), days, history["balance_cents"].tolist(),
                                            strict=True):
        currency = mapping[int(account_id)]
        if not cents_value:   # nothing to value: no rate needed
            keep.append(True)
            values.append(0)
            continue
        if (currency, day) not in factors:
            factors[(currency, day)] = book.factor(currency, base, day)
        factor = factors[(currency, day)]
        if factor is None:
            missing.add(fx.Missing(currency, base, day))
            keep.append(False)
            values.append(0)
            continue
        keep.append(True)
        values.append(fx.convert_cents(int(cents_value), factor, base))
    frame = history.assign(balance_cents=pd.Series(values, index=history.index, dtype="int64"))[keep]
    return frame, base, tuple(sorted(missing))


def months_between(start: date, end: date) -> list[date]:
    first, last = month_start(start), month_start(end)
    months = []
    while first <= last:
        months.append(first)
        first = add_months(first, 1)
    return months


HISTORY_COLUMNS = ["month", "account_id", "name", "type", "archived", "balance_cents"]


def balance_history(session: Session, user_id: int, start: date, end: date, *,
                    include_archived: bool = False, account_ids=None) -> pd.DataFrame:
    """Each account's balance at the end of every month from ``start``'s month to ``end``'s (the
    last one at ``end``): month (first day), account_id, name, type, archived, balance_cents.

    SQL sums the movements per account and day within the range, and everything before it per
    account; pandas folds days into months and adds them up. ``account_ids`` narrows to some accounts (ids that are not
    the user's simply match nothing)."""
    months = months_between(start, end)
    accounts_stmt = (select(Account.id, Account.name, Account.type, Account.archived,
                            cents(Account.opening_balance).label("opening"))
                     .where(Account.user_id == user_id).order_by(Account.archived, Account.name))
    if not include_archived:
        accounts_stmt = accounts_stmt.where(Account.archived.is_(False))
    if account_ids is not None:
        wanted = parse_ids(list(account_ids) if isinstance(account_ids, set) else account_ids)
        accounts_stmt = accounts_stmt.where(Account.id.in_(wanted))
    accounts = session.execute(accounts_stmt).all()
    if not months or not accounts:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c.endswith("cents") else object)
                             for c in HISTORY_COLUMNS})
    ids = [a.id for a in accounts]
    first = months[0]
    before = dict(session.execute(
        select(Transaction.account_id, cents_sum(Transaction.amount))
        .where(Transaction.user_id == user_id, Transaction.account_id.in_(ids), Transaction.date < first)
        .group_by(Transaction.account_id)).all())
    # Grouped by account and day: the (user_id, account_id, date, ...) index is in that order, so SQL
    # needs no sort (grouping by a month expression sorts every row: ~7x slower at 1M rows). The days
    # (at most accounts x days rows) are folded into months here.
    moved = session.execute(
        select(Transaction.account_id, Transaction.date, cents_sum(Transaction.amount).label("moved"))
        .where(Transaction.user_id == user_id, Transaction.account_id.in_(ids),
               Transaction.date >= first, Transaction.date <= end)
        .group_by(Transaction.account_id, Transaction.date)).all()
    moved_frame = pd.DataFrame(moved, columns=["account_id", "day", "moved"])
    if not moved_frame.empty:
        moved_frame["month"] = [month_start(_as_date(d)).isoformat() for d in moved_frame["day"]]
        moved_frame = moved_frame.groupby(["account_id", "month"], as_index=False)["moved"].sum()
    grid = pd.MultiIndex.from_product([ids, [m.isoformat() for m in months]], names=["account_id", "month"])
    per_month = (moved_frame.set_index(["account_id", "month"])["moved"].astype("int64")
                 .reindex(grid, fill_value=0) if not moved_frame.empty
                 else pd.Series(0, index=grid, dtype="int64"))
    running = per_month.groupby(level="account_id").cumsum()
    frame = running.rename("balance_cents").reset_index()
    meta = {a.id: a for a in accounts}
    frame["balance_cents"] = (frame["balance_cents"]
                              + frame["account_id"].map(lambda a: int(meta[a].opening) + int(before.get(a, 0))))
    frame["balance_cents"] = frame["balance_cents"].astype("int64")
    frame["month"] = frame["month"].map(date.fromisoformat)
    frame["name"] = frame["account_id"].map(lambda a: meta[a].name)
    frame["type"] = frame["account_id"].map(lambda a: meta[a].type)
    frame["archived"] = frame["account_id"].map(lambda a: bool(meta[a].archived))
    frame["account_id"] = frame["account_id"].astype("int64")
    return frame[HISTORY_COLUMNS]


def net_worth_history(history: pd.DataFrame) -> pd.DataFrame:
    """From :func:`balance_history`: month, assets_cents, debts_cents (negative), net_cents."""
    if history.empty:
        return pd.DataFrame({"month": pd.Series(dtype=object), "assets_cents": pd.Series(dtype="int64"),
                             "debts_cents": pd.Series(dtype="int64"), "net_cents": pd.Series(dtype="int64")})
    data = history.assign(debt=history["type"].isin(DEBT_TYPES))
    assets = data[~data["debt"]].groupby("month")["balance_cents"].sum()
    debts = data[data["debt"]].groupby("month")["balance_cents"].sum()
    months = sorted(data["month"].unique())
    frame = pd.DataFrame({"month": months})
    frame["assets_cents"] = frame["month"].map(assets).fillna(0).astype("int64")
    frame["debts_cents"] = frame["month"].map(debts).fillna(0).astype("int64")
    frame["net_cents"] = frame["assets_cents"] + frame["debts_cents"]
    return frame


def first_activity(session: Session, user_id: int) -> date | None:
    """The date of the user's oldest transaction (served by the (user_id, date) index)."""
    value = session.scalar(select(func.min(Transaction.date)).where(Transaction.user_id == user_id))
    return None if value is None else _as_date(value)


# --- writes (do not commit) ------------------------------------------------------------------------

def get_account(session: Session, user_id: int, account_id) -> Account:
    aid = parse_id(account_id, field="account")
    account = session.scalar(select(Account).where(Account.id == aid, Account.user_id == user_id))
    if account is None:
        raise NotFound("Unknown account.", "account")
    return account


def _name(session: Session, user_id: int, value, account_id: int | None = None) -> str:
    name = clean_name(value, max_length=MAX_NAME)
    stmt = select(Account.id).where(Account.user_id == user_id, Account.name == name)
    if account_id is not None:
        stmt = stmt.where(Account.id != account_id)
    if session.scalar(stmt) is not None:
        raise ServiceError(f"You already have an account called “{name}”.", "name")
    return name


def _type(value) -> str:
    if value not in ACCOUNT_TYPES:
        raise ServiceError("Choose an account type.", "type")
    return value


def create_account(session: Session, user_id: int, *, name, type="checking", opening_balance="0",
                   currency=None) -> Account:
    """A new account. The opening balance is signed: negative for a card or loan that is owed. The
    currency is an ISO code (dashboard/services/fx.py: check_account_currency); without one, the
    user's base currency. It is fixed once the account exists: its amounts are in it."""
    currency = fx.base_currency(session, user_id) if currency in (None, "") else \
        fx.check_account_currency(currency, "currency")
    opening = parse_amount(opening_balance if opening_balance not in (None, "") else "0",
                           field="opening_balance", allow_negative=True)
    account = Account(user_id=user_id, name=_name(session, user_id, name), type=_type(type), currency=currency,
                      opening_balance=fx.check_amount(opening, currency, "opening_balance"))
    session.add(account)
    session.flush()
    return account


_EDITABLE = {"name", "type", "opening_balance", "archived"}


def update_account(session: Session, user_id: int, account_id, *, expected_version, **changes) -> Account:
    """Rename, retype, change the opening balance or (un)archive an account the user owns, if nobody
    changed it since ``expected_version``."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ServiceError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    account = get_account(session, user_id, account_id)
    if isinstance(expected_version, bool) or not isinstance(expected_version, int) \
            or account.version != expected_version:
        raise Conflict("Someone changed this account meanwhile; the current values are shown.", account)
    if "name" in changes:
        account.name = _name(session, user_id, changes["name"], account.id)
    if "type" in changes:
        account.type = _type(changes["type"])
    if "opening_balance" in changes:
        account.opening_balance = fx.check_amount(
            parse_amount(changes["opening_balance"], field="opening_balance", allow_negative=True),
            account.currency, "opening_balance")
    if "archived" in changes:
        if not isinstance(changes["archived"], bool):
            raise ServiceError("Archived is yes or no.", "archived")
        account.archived = changes["archived"]
    session.flush()
    return account


def rename_account(session: Session, user_id: int, account_id, name, *, expected_version) -> Account:
    return update_account(session, user_id, account_id, expected_version=expected_version, name=name)


def set_archived(session: Session, user_id: int, account_id, archived: bool, *, expected_version) -> Account:
    return update_account(session, user_id, account_id, expected_version=expected_version,
                          archived=bool(archived))
