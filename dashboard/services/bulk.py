"""The one bulk path for transactions: statement import, archive restore and the demo loader use it.

:func:`write_transactions` takes transactions (any iterable, consumed chunk by chunk) whose accounts
and categories the caller has already checked belong to the user, and writes them and their expense
lines with Core, bypassing the ORM:

- ids come from the tables' sequences on PostgreSQL (``nextval``, safe beside other writers; ids of
  rows deleted just before are never reused), after the largest id on SQLite (one writer at a time);
- rows go in by ``COPY`` on PostgreSQL and by the driver's ``executemany`` on SQLite;
- the first chunk is small and followed by ``ANALYZE`` on PostgreSQL (see :data:`FIRST_CHUNK`), and
  the tables are analysed again at the end when many rows were written;
- afterwards every expense line is put in the budget that covers it
  (:func:`dashboard.services.budget_lines.assign_budgets`, the same rule as every other write), and the
  monthly roll-up of the touched months is rebuilt (which also bumps the user's data version).

The invariants of :mod:`dashboard.services.transactions` hold: an expense-kind transaction has expense
lines summing to ``-amount`` with its date and account; income and transfers have none. Nothing is
committed here (the caller owns the commit: see docs/architecture.md).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from models import Account, Budget
from models.db import MAX_AMOUNT_TEXT, MAX_CENTS, require_session_hooks

from . import fx, limits, rollup
from .budget_lines import assign_budgets
from .errors import ServiceError
from .periods import month_start

FIRST_CHUNK = 1_000   # a small first chunk, after which PostgreSQL gets fresh statistics
CHUNK = 50_000        # transactions per COPY / executemany after that
PROGRESS_CHUNK = 10_000  # chunks of an import or restore someone watches: the progress bar moves often
ANALYZE_AFTER = 10_000  # analyse the tables again at the end when at least this many rows were written


@dataclass(frozen=True, slots=True)
class NewTransaction:
    """A transaction to write: amounts in cents (signed on the account); ``lines`` are the expense
    lines (category_id, cents spent, memo) of an expense, or None for one line of ``-cents`` in the
    transaction's category."""
    account_id: int
    date: date
    cents: int
    kind: str
    category_id: int | None
    payee: str
    description: str = ""
    notes: str = ""
    external_id: str | None = None
    transfer_group: str | None = None
    lines: tuple[tuple[int | None, int, str], ...] | None = None
    original_cents: int | None = None      # a card statement's foreign amount (hundredths), signed
    original_currency: str | None = None   # its currency (both or neither; see fx.check_original)


@dataclass
class BulkResult:
    """What was written: months touched, and counts and cents by kind (for the callers' summaries)."""
    months: set[date] = field(default_factory=set)
    count: Counter = field(default_factory=Counter)
    cents: Counter = field(default_factory=Counter)
    expense_count: int = 0
    expense_cents: int = 0

    @property
    def transactions(self) -> int:
        return sum(self.count.values())


TX_COLUMNS = ("id", "user_id", "account_id", "category_id", "date", "amount", "kind", "payee",
              "description", "notes", "transfer_group", "external_id", "original_amount", "original_currency")
EXPENSE_COLUMNS = ("id", "user_id", "transaction_id", "category_id", "account_id", "date", "amount", "memo")


def reserve_ids(session: Session, name: str, count: int) -> list[int]:
    """``count`` new primary keys for table ``name``: from its sequence on PostgreSQL, after the
    largest id on SQLite."""
    if count == 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return list(connection.execute(text(
            f"SELECT nextval(pg_get_serial_sequence('{name}', 'id')) FROM generate_series(1, :n)"),
            {"n": count}).scalars())
    start = connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {name}")).scalar_one() + 1
    return list(range(start, start + count))


def insert_rows(session: Session, name: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Raw rows (cents, and ISO dates on SQLite) into ``name``, in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection   # psycopg 3: COPY is the fast path
        with driver.cursor() as cursor, cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.executemany(f"INSERT INTO {name} ({', '.join(columns)}) "
                               f"VALUES ({', '.join('?' * len(columns))})", rows)
        finally:
            cursor.close()


def analyze(session: Session) -> None:
    """Fresh planner statistics for the two big tables (PostgreSQL; ANALYZE sees this transaction's
    own rows)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for name in ("transactions", "expenses"):
            connection.execute(text(f"ANALYZE {name}"))


def _chunks(items: Iterable[NewTransaction], chunk_size: int = CHUNK) -> Iterator[list[NewTransaction]]:
    iterator = iter(items)
    size = min(FIRST_CHUNK, chunk_size)
    while part := list(islice(iterator, size)):
        yield part
        size = chunk_size


def write_transactions(session: Session, user_id: int, transactions: Iterable[NewTransaction], *,
                       progress: Callable[[int], None] | None = None, chunk_size: int = CHUNK) -> BulkResult:
    """Insert the transactions and their expense lines, assign budgets, refresh the roll-up of the
    touched months. ``progress`` gets the number written so far after each chunk (of ``chunk_size``
    transactions after a first small one). Does not commit."""
    require_session_hooks()   # Core inserts pass no ORM event: check here
    postgres = session.connection().dialect.name == "postgresql"
    result = BulkResult()
    first_expense = last_expense = None
    # The minor unit of each account's currency, in stored hundredths (100: whole yen): an amount
    # finer than it is refused, like every other write (fx.check_amount).
    currencies = {int(a): c for a, c in session.execute(
        select(Account.id, Account.currency).where(Account.user_id == user_id)).all()}
    steps = {a: fx.cents_step(c) for a, c in currencies.items()}
    for number, chunk in enumerate(_chunks(transactions, chunk_size)):
        tx_ids = reserve_ids(session, "transactions", len(chunk))
        line_count = sum(len(t.lines) if t.lines is not None else (1 if t.kind == "expense" else 0)
                         for t in chunk)
        limits.check_room(session, user_id, transactions=len(chunk), expenses=line_count)
        expense_ids = iter(reserve_ids(session, "expenses", line_count))
        tx_rows, expense_rows = [], []
        for tx_id, t in zip(tx_ids, chunk, strict=True):
            if abs(t.cents) > MAX_CENTS or any(abs(line[1]) > MAX_CENTS for line in t.lines or ()):
                raise ServiceError(f"An amount is too large: amounts go up to {MAX_AMOUNT_TEXT}.", "amount")
            _check_minor_unit(t, steps, currencies)
            day = t.date if postgres else t.date.isoformat()
            tx_rows.append((tx_id, user_id, t.account_id, t.category_id, day, t.cents, t.kind, t.payee,
                            t.description, t.notes, t.transfer_group, t.external_id, t.original_cents,
                            t.original_currency))
            result.months.add(month_start(t.date))
            result.count[t.kind] += 1
            result.cents[t.kind] += t.cents
            if t.kind == "expense":
                lines = t.lines if t.lines is not None else ((t.category_id, -t.cents, ""),)
                for category_id, cents, memo in lines:
                    expense_rows.append((next(expense_ids), user_id, tx_id, category_id, t.account_id, day,
                                         cents, memo))
                    result.expense_count += 1
                    result.expense_cents += cents
                if first_expense is None or t.date < first_expense:
                    first_expense = t.date
                if last_expense is None or t.date > last_expense:
                    last_expense = t.date
        insert_rows(session, "transactions", TX_COLUMNS, tx_rows)   # first: the expenses point at them
        insert_rows(session, "expenses", EXPENSE_COLUMNS, expense_rows)
        if number == 0 and postgres:
            # The statistics predate these rows: PostgreSQL may then plan the per-row foreign-key checks
            # (WHERE id = $1 AND user_id = $2) on a user_id index and rescan all of the user's new rows
            # for every row (quadratic: minutes for 50,000). Statistics taken after a small first
            # chunk make them use the primary key.
            analyze(session)
        if progress:
            progress(result.transactions)
    if result.transactions == 0:
        return result
    if first_expense is not None:
        _assign_budgets(session, user_id, first_expense, last_expense)
    if result.transactions >= ANALYZE_AFTER:
        analyze(session)   # for the roll-up refresh and the queries that follow
    rollup.refresh(session, user_id, result.months)
    return result


def _check_minor_unit(t: NewTransaction, steps: dict[int, int], currencies: dict[int, str]) -> None:
    """No amount finer than its currency's minor unit: no half yen in a JPY account (of the
    transaction, of its split lines, of its original foreign amount)."""
    step = steps.get(t.account_id, 1)
    if step > 1 and (t.cents % step or any(line[1] % step for line in t.lines or ())):
        currency = currencies[t.account_id]
        amount = next(c for c in (t.cents, *(line[1] for line in t.lines or ())) if c % step)
        raise ServiceError(f"{amount / 100:.2f} on {t.date.isoformat()} is finer than {currency} allows "
                           f"({fx.minor_digits(currency)} decimals): nothing was written.", "amount")
    if (t.original_cents is None) != (t.original_currency is None):
        raise ServiceError("An original amount needs its currency, and a currency its amount.", "original_amount")
    if t.original_cents is not None:
        original = fx.check_currency(t.original_currency, "original_currency")
        if abs(t.original_cents) > MAX_CENTS:
            raise ServiceError(f"An amount is too large: amounts go up to {MAX_AMOUNT_TEXT}.", "original_amount")
        if t.original_cents % fx.cents_step(original):
            raise ServiceError(f"The original amount {t.original_cents / 100:.2f} on {t.date.isoformat()} is finer "
                               f"than {original} allows ({fx.minor_digits(original)} decimals).", "original_amount")


def _assign_budgets(session: Session, user_id: int, first: date, last: date) -> None:
    """Budgets for the new expense lines: only over the days some budget of the user covers."""
    span = session.execute(select(func.min(Budget.start_date), func.max(Budget.end_date)).where(
        Budget.user_id == user_id, Budget.start_date <= last, Budget.end_date >= first)).one()
    if span[0] is not None:
        assign_budgets(session, user_id, date_from=max(first, span[0]), date_to=min(last, span[1]))
