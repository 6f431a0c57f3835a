"""Keeping ``monthly_rollup`` in step with expenses and income, and ``users.data_version`` with
everything a user's pages show.

The listeners below are plain functions; :func:`dashboard.services.hooks.install_session_hooks`
registers them (create_app calls it; a script that writes calls it too). Without it a write fails
(models.db.SessionHooksMissing) instead of leaving the roll-up and the data version stale.

Any commit of a session that added, changed or deleted an Expense or a Transaction recomputes the
roll-up rows of the touched (user, month) pairs from the raw tables, inside the same database
transaction. Bulk writes that bypass the ORM (the demo loader, imports) call ``refresh`` themselves.

The same hook bumps the data version (``UPDATE users SET data_version = data_version + 1``) of every
user whose rows the transaction changed: ORM objects with a ``user_id`` (transactions, expenses,
budgets, goals, contributions, accounts, the user's own categories, import rules), a change to the
user row itself (not a password rehash), ORM-enabled UPDATE/DELETE/INSERT statements on those tables
(the user is read from their ``user_id = ...`` criterion; when none can be found, every user is
bumped), and every ``refresh``. Cached reads are keyed by the version (dashboard/services/cache.py),
so nothing committed is ever answered from an older cache entry.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    inspect,
    literal,
    null,
    or_,
    select,
    text,
    union,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter

from models import (
    AmountRollup,
    DailyPayeeRollup,
    DailyRollup,
    Expense,
    MonthlyRollup,
    PayeeAmountRollup,
    PayeeName,
    PayeeRollup,
    Transaction,
    User,
    band_of,
)
from models.db import require_session_hooks

from . import fx_rollup
from .periods import month_end, month_start
from .sql import cents

_PENDING = "ledgerlens_rollup_pending"
_CHANGED = "ledgerlens_changed_users"  # user ids whose data version the commit bumps; ALL_USERS: all
ALL_USERS = "*"
# Tables whose rows carry no answer of their own: the derived roll-up, and users (handled apart).
_NOT_USER_DATA = {"monthly_rollup", "amount_rollup", "daily_rollup", "payee_rollup", "payee_amount_rollup",
                  "daily_payee_rollup", "payee_names",
                  "users", *fx_rollup.TABLES}
# Changes to the user row that change nothing a page shows.
_USER_QUIET_ATTRIBUTES = {"password_hash", "data_version"}


def month_of(session: Session, column):
    """A DATE expression: the first day of the month of ``column``."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, "start of month")
    return cast(func.date_trunc("month", column), Date)


def _in_months(column, months: list[date]):
    """``column`` (a day) falls in one of ``months``: one range per run of consecutive months (the same
    days as one range per month, but a rule's edit over ten years is one comparison per row instead of
    240: SQLite's fold of the daily roll-up took 2.5 s per statement with the 120-range OR)."""
    runs: list[list[date]] = []
    for m in sorted({month_start(m) for m in months}):
        if runs and runs[-1][1] + timedelta(days=1) == m:
            runs[-1][1] = month_end(m)
        else:
            runs.append([m, month_end(m)])
    return or_(*[and_(column >= start, column <= end) for start, end in runs])


def lock_user(session: Session, user_id: int) -> None:
    """One writer of a user's roll-ups at a time, until this transaction ends: every :func:`refresh`,
    and a bulk edit or a category move from its start, before it reads the rows it will shift. Without it a bulk edit's fold and another
    transaction's refresh deleted the same roll-up rows in opposite orders (deadlock) or added the same
    money twice. FOR NO KEY UPDATE, not FOR UPDATE: the foreign-key checks of this transaction's own
    inserts (and of every other writer of this user) hold FOR KEY SHARE on the user row, which FOR
    UPDATE waits for: two writers of one user would deadlock. FOR NO KEY UPDATE still excludes the
    other roll-up writers, and is the lock the data-version bump at commit takes anyway.

    SQLite has no row locks: there the transaction takes the database's write lock now, by a write that
    changes nothing (waiting out the busy timeout for another writer, as any write does). An undo read
    its rows first and wrote to the main database only in the shift; when another connection had
    committed in between, SQLite refused to turn the read into a write at once ("database is locked")."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(User).where(User.id == user_id).values(data_version=User.data_version)
                        .execution_options(synchronize_session=False))
        return
    session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


def refresh(session: Session, user_id: int, months: Iterable[date] | None = None) -> None:
    """Recompute the user's roll-up rows (monthly, amount bands, daily, payee, payee by band, payee by
    day), for the given months or entirely."""
    require_session_hooks()  # the data-version bump below happens in the before_commit hook
    month_list = sorted({month_start(m) for m in months}) if months is not None else None
    if month_list == []:
        return
    mark_changed(session, user_id)
    lock_user(session, user_id)
    for table, period in ((MonthlyRollup, MonthlyRollup.month), (AmountRollup, AmountRollup.month),
                          (DailyRollup, DailyRollup.day),
                          (PayeeRollup, PayeeRollup.month), (PayeeAmountRollup, PayeeAmountRollup.month),
                          (DailyPayeeRollup, DailyPayeeRollup.day)):
        stmt = delete(table).where(table.user_id == user_id)
        if month_list is not None:
            stmt = stmt.where(_in_months(period, month_list) if table in _BY_DAY else period.in_(month_list))
        session.execute(stmt.execution_options(synchronize_session=False))

    def restricted(stmt, column):
        return stmt.where(_in_months(column, month_list)) if month_list is not None else stmt

    e_month, t_month = month_of(session, Expense.date), month_of(session, Transaction.date)
    e_cents, t_cents = cents(Expense.amount), cents(Transaction.amount)
    e_band, t_band = band_of(e_cents), band_of(t_cents)
    income_where = [Transaction.user_id == user_id, Transaction.kind == "income"]

    monthly_cols = ["user_id", "flow", "month", "account_id", "category_id", "total_cents", "row_count"]
    monthly = [
        select(Expense.user_id, literal("spending"), e_month, Expense.account_id, Expense.category_id,
               func.sum(e_cents), func.count())
        .where(Expense.user_id == user_id)
        .group_by(Expense.user_id, e_month, Expense.account_id, Expense.category_id),
        select(Transaction.user_id, literal("income"), t_month, Transaction.account_id, Transaction.category_id,
               func.sum(t_cents), func.count())
        .where(*income_where)
        .group_by(Transaction.user_id, t_month, Transaction.account_id, Transaction.category_id),
        select(Transaction.user_id, literal("net"), t_month, Transaction.account_id, null(),
               func.sum(t_cents), func.count())
        .where(Transaction.user_id == user_id)
        .group_by(Transaction.user_id, t_month, Transaction.account_id),
    ]
    amount_cols = ["user_id", "flow", "month", "band", "account_id", "category_id", "total_cents", "row_count"]
    amounts = [
        select(Expense.user_id, literal("spending"), e_month, e_band, Expense.account_id, Expense.category_id,
               func.sum(e_cents), func.count())
        .where(Expense.user_id == user_id)
        .group_by(Expense.user_id, e_month, e_band, Expense.account_id, Expense.category_id),
        select(Transaction.user_id, literal("income"), t_month, t_band, Transaction.account_id,
               Transaction.category_id, func.sum(t_cents), func.count())
        .where(*income_where)
        .group_by(Transaction.user_id, t_month, t_band, Transaction.account_id, Transaction.category_id),
    ]
    daily_cols = ["user_id", "flow", "day", "account_id", "category_id", "total_cents", "row_count"]
    daily = [
        select(Expense.user_id, literal("spending"), Expense.date, Expense.account_id, Expense.category_id,
               func.sum(e_cents), func.count())
        .where(Expense.user_id == user_id)
        .group_by(Expense.user_id, Expense.date, Expense.account_id, Expense.category_id),
        select(Transaction.user_id, literal("income"), Transaction.date, Transaction.account_id,
               Transaction.category_id, func.sum(t_cents), func.count())
        .where(*income_where)
        .group_by(Transaction.user_id, Transaction.date, Transaction.account_id, Transaction.category_id),
    ]
    payee_cols = ["user_id", "flow", "month", "payee", "account_id", "category_id", "total_cents", "row_count"]
    payees = [
        select(Expense.user_id, literal("spending"), e_month, Transaction.payee, Expense.account_id,
               Expense.category_id, func.sum(e_cents), func.count())
        .join(Transaction, and_(Transaction.id == Expense.transaction_id, Transaction.user_id == Expense.user_id))
        .where(Expense.user_id == user_id)
        .group_by(Expense.user_id, e_month, Transaction.payee, Expense.account_id, Expense.category_id),
        select(Transaction.user_id, literal("income"), t_month, Transaction.payee, Transaction.account_id,
               Transaction.category_id, func.sum(t_cents), func.count())
        .where(*income_where)
        .group_by(Transaction.user_id, t_month, Transaction.payee, Transaction.account_id, Transaction.category_id),
    ]
    payee_amount_cols = ["user_id", "flow", "month", "band", "payee", "total_cents", "row_count"]
    payee_amounts = [
        select(Expense.user_id, literal("spending"), e_month, e_band, Transaction.payee, func.sum(e_cents), func.count())
        .join(Transaction, and_(Transaction.id == Expense.transaction_id, Transaction.user_id == Expense.user_id))
        .where(Expense.user_id == user_id)
        .group_by(Expense.user_id, e_month, e_band, Transaction.payee),
        select(Transaction.user_id, literal("income"), t_month, t_band, Transaction.payee, func.sum(t_cents),
               func.count())
        .where(*income_where)
        .group_by(Transaction.user_id, t_month, t_band, Transaction.payee),
    ]
    daily_payee_cols = ["user_id", "flow", "day", "payee", "account_id", "category_id", "total_cents", "row_count"]
    daily_payees = [
        select(Expense.user_id, literal("spending"), Expense.date, Transaction.payee, Expense.account_id,
               Expense.category_id, func.sum(e_cents), func.count())
        .join(Transaction, and_(Transaction.id == Expense.transaction_id, Transaction.user_id == Expense.user_id))
        .where(Expense.user_id == user_id)
        .group_by(Expense.user_id, Expense.date, Transaction.payee, Expense.account_id, Expense.category_id),
        select(Transaction.user_id, literal("income"), Transaction.date, Transaction.payee, Transaction.account_id,
               Transaction.category_id, func.sum(t_cents), func.count())
        .where(*income_where)
        .group_by(Transaction.user_id, Transaction.date, Transaction.payee, Transaction.account_id,
                  Transaction.category_id),
    ]
    for table, cols, sources in ((MonthlyRollup, monthly_cols, monthly), (AmountRollup, amount_cols, amounts),
                                 (DailyRollup, daily_cols, daily),
                                 (PayeeRollup, payee_cols, payees),
                                 (PayeeAmountRollup, payee_amount_cols, payee_amounts),
                                 (DailyPayeeRollup, daily_payee_cols, daily_payees)):
        for source, date_col in zip(sources, (Expense.date, Transaction.date, Transaction.date)):
            session.execute(insert(table).from_select(cols, restricted(source, date_col)))
    _note_payees(session, user_id, month_list)
    # Accounts in other currencies: their converted totals for the same months (services/fx_rollup.py)
    fx_rollup.refresh(session, user_id, month_list)


def _add_names(session: Session, user_id: int, names) -> None:
    """The user's :class:`PayeeName` rows for the (flow, payee) rows of the subquery ``names`` that have
    none yet (the writers of one user's roll-ups take turns, :func:`lock_user`, so none adds one
    meanwhile)."""
    n = PayeeName
    unnamed = ~exists().where(n.user_id == user_id, n.flow == names.c.flow, n.payee == names.c.payee)
    session.execute(insert(PayeeName).from_select(
        ["user_id", "flow", "payee"], select(literal(user_id), names.c.flow, names.c.payee).where(unnamed)))


def _note_payees(session: Session, user_id: int, month_list: list[date] | None) -> None:
    """:class:`PayeeName` rows for the payees the refreshed months' payee roll-up holds (every month:
    the user's names rebuilt, dropping those no row has any more)."""
    r = PayeeRollup
    where = [r.user_id == user_id]
    if month_list is None:
        session.execute(delete(PayeeName).where(PayeeName.user_id == user_id)
                        .execution_options(synchronize_session=False))
    else:
        where.append(r.month.in_(month_list))
    _add_names(session, user_id, select(r.flow, r.payee).where(*where).distinct().subquery())


# The roll-ups a bulk change of categories or payees touches, with their key columns (not the net rows:
# amounts, dates and accounts do not change there). Keep in step with refresh() above.
def _shift_specs(session: Session):
    e_month, t_month = month_of(session, Expense.date), month_of(session, Transaction.date)
    e_band, t_band = band_of(cents(Expense.amount)), band_of(cents(Transaction.amount))
    return [
        (MonthlyRollup, ["month"], [e_month], [t_month]),
        (AmountRollup, ["month", "band"], [e_month, e_band], [t_month, t_band]),
        (DailyRollup, ["day"], [Expense.date], [Transaction.date]),
        (PayeeRollup, ["month", "payee"], [e_month, Transaction.payee], [t_month, Transaction.payee]),
        (PayeeAmountRollup, ["month", "band", "payee"], [e_month, e_band, Transaction.payee],
         [t_month, t_band, Transaction.payee]),
        (DailyPayeeRollup, ["day", "payee"], [Expense.date, Transaction.payee], [Transaction.date, Transaction.payee]),
    ]


# The roll-ups keyed by day (the others by month).
_BY_DAY = (DailyRollup, DailyPayeeRollup)


def _by_account_category(table) -> bool:
    """Whether a roll-up is keyed by account and category too (the payee-by-band one is not)."""
    return table is not PayeeAmountRollup


# The changes a bulk edit makes, one row per expense line (flow "spending") or income transaction
# (flow "income") whose category or payee it changes: the before and after of each. A temporary table,
# filled with INSERT ... SELECT by dashboard/services/bulk_edit.py (through :func:`stage_columns`) and
# read by :func:`shift`; it lives for one edit (created, used and dropped in its transaction).
CHANGES = Table(
    "ll_edit_changes", MetaData(),
    Column("transaction_id", BigInteger, nullable=False),
    Column("line_id", BigInteger),          # the expense line (spending); NULL for income
    Column("flow", String(10), nullable=False),
    Column("day", Date, nullable=False),
    Column("month", Date, nullable=False),
    Column("band", Integer, nullable=False),
    Column("account_id", BigInteger, nullable=False),
    Column("cents", BigInteger, nullable=False),
    Column("old_category", BigInteger),
    Column("new_category", BigInteger),
    Column("old_payee", String(200)),
    Column("new_payee", String(200)),
    prefixes=["TEMPORARY"],
)
# The same, summed by every key any roll-up needs: what shift() reads (several times fewer rows).
CHANGE_TOTALS = Table(
    "ll_edit_change_totals", MetaData(),
    *(Column(c.name, c.type) for c in CHANGES.c if c.name not in ("transaction_id", "line_id")),
    Column("row_count", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
)
_TOTAL_KEYS = ("flow", "day", "month", "band", "account_id", "old_category", "new_category", "old_payee",
               "new_payee")


def _shifted(table, names):
    """The rows of :data:`CHANGE_TOTALS` that :func:`shift` moves in ``table``: those whose category
    (when the roll-up has one) or payee (when it has one) the edit changes."""
    t = CHANGE_TOTALS.c
    category_moved = t.old_category.is_distinct_from(t.new_category)
    payee_moved = t.old_payee.is_distinct_from(t.new_payee)
    with_payee, by_category = "payee" in names, _by_account_category(table)
    return (category_moved | payee_moved) if with_payee and by_category else \
        payee_moved if with_payee else category_moved


def _shifted_keys(user_id: int, table, names):
    """The keys of ``table`` (by day) that :func:`shift` gave a row: its old and new keys, as a
    subquery (user_id, flow, day[, payee], account_id, category) with a NULL category as -1. The user
    is a column of it, not a constant on the roll-up: else SQLite reads all the user's roll-up rows
    (by the index on user_id) and looks each up in the keys, instead of the keys up in the index."""
    t = CHANGE_TOTALS.c
    changed = _shifted(table, names)
    none = literal(-1)
    with_payee = "payee" in names
    parts = [select(literal(user_id).label("user_id"), t.flow, t.day, *([payee.label("payee")] if with_payee else []),
                    t.account_id, func.coalesce(category, none).label("category")).where(changed)
             for category, payee in ((t.old_category, t.old_payee), (t.new_category, t.new_payee))]
    return union(*parts).subquery()


KEY_FOLD_RATIO = 2   # fold by keys when the months hold more than this many roll-up rows per shifted key


def _sparse(session: Session, table, names, scope) -> bool:
    """Whether the shifted keys are few against the roll-up rows of their months (a rule's rows spread
    over ten years), so that probing each key beats reading the months (a filter's newest weeks, where
    nearly every row of those days is touched). Counts at most KEY_FOLD_RATIO x keys rows + 1."""
    keys = 2 * (session.scalar(select(func.count()).select_from(CHANGE_TOTALS).where(_shifted(table, names))) or 0)
    if not keys:
        return False
    limit = KEY_FOLD_RATIO * keys + 1
    rows = session.scalar(select(func.count()).select_from(select(table.id).where(*scope).limit(limit).subquery()))
    return rows >= limit


def _fold_by_keys(session: Session, user_id: int, table, names) -> None:
    """:func:`compact` of a roll-up by day: only the keys the shift touched, joined from
    :data:`CHANGE_TOTALS` (one index probe each), never the touched months' days (ten years of rows
    for a rule over every month)."""
    keys = _shifted_keys(user_id, table, names)
    last = session.scalar(select(func.max(table.id)))
    if last is None:
        return
    none = literal(-1)

    def at_key(row):   # a row of the roll-up (or an alias of it) with one of the keys
        on = [row.user_id == keys.c.user_id, row.flow == keys.c.flow, row.day == keys.c.day,
              row.account_id == keys.c.account_id, func.coalesce(row.category_id, none) == keys.c.category]
        return and_(*on, *([row.payee == keys.c.payee] if "payee" in names else []))

    # Grouped by the keys' columns and ``id + 0``: no order or range of the roll-up's own for SQLite's
    # planner to prefer a walk of all its rows to one index probe per key.
    cols = [keys.c.user_id, keys.c.flow, *[getattr(keys.c, n) for n in names], keys.c.account_id,
            func.nullif(keys.c.category, none)]
    folded = (select(*cols, func.sum(table.total_cents), func.sum(table.row_count))
              .select_from(keys).join(table, at_key(table)).where(table.id + 0 <= last).group_by(*cols)
              .having(or_(func.sum(table.row_count) != 0, func.sum(table.total_cents) != 0)))
    session.execute(insert(table).from_select(
        ["user_id", "flow", *names, "account_id", "category_id", "total_cents", "row_count"], folded))
    old = aliased(table)
    session.execute(delete(table).where(table.id.in_(
        select(old.id).select_from(keys).join(old, at_key(old)).where(old.id + 0 <= last)))
        .execution_options(synchronize_session=False))


def create_changes(session: Session) -> Table:
    """A fresh, empty :data:`CHANGES` table for this session's transaction."""
    drop_changes(session)
    conn = session.connection()
    CHANGES.create(conn)
    CHANGE_TOTALS.create(conn)
    return CHANGES


def drop_changes(session: Session) -> None:
    conn = session.connection()
    for table in (CHANGES, CHANGE_TOTALS):
        conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))


def stage_columns(session: Session, day, cents_value) -> list:
    """The (day, month, band, cents) part of a row of :data:`CHANGES`, as SQL over the source."""
    return [day, month_of(session, day), band_of(cents_value), cents_value]


def changed_months(session: Session) -> set[date]:
    return {v if isinstance(v, date) else date.fromisoformat(str(v)[:10])
            for (v,) in session.execute(select(CHANGE_TOTALS.c.month).distinct())}


# The columns a staged source SELECT gives, in order (:func:`stage_columns` is the day ... cents part).
STAGED_COLUMNS = ["transaction_id", "line_id", "flow", "day", "month", "band", "cents", "account_id", "old_category",
                  "new_category", "old_payee", "new_payee"]


def stage(session: Session, *sources) -> None:
    """A fresh :data:`CHANGES` table filled from ``sources`` (INSERT ... SELECT each; their columns are
    :data:`STAGED_COLUMNS`), for :func:`apply_changes`. PostgreSQL gets its statistics at once: the
    shift's and the UPDATEs' plans join it to 100,000s of rows."""
    changes = create_changes(session)
    conn = session.connection()
    for source in sources:
        conn.execute(insert(changes).from_select(STAGED_COLUMNS, source))
    if session.get_bind().dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {changes.name}"))


def stage_category_move(session: Session, user_id: int, source_id: int, target_id: int | None) -> None:
    """:func:`stage` every expense line and income row of the user in category ``source_id``, going to
    ``target_id`` (None: uncategorized)."""
    target = literal(target_id, BigInteger) if target_id is not None else null()
    # The lines first, their payee looked up per line (a join let SQLite walk every transaction of the
    # user and probe its lines: 2.7 s at 1M rows, against 0.1 s this way).
    payee = (select(Transaction.payee).where(Transaction.id == Expense.transaction_id)
             .correlate(Expense).scalar_subquery())
    lines = select(Expense.transaction_id, Expense.id.label("line_id"), Expense.date, cents(Expense.amount).label("cents"),
                   Expense.account_id, Expense.category_id, payee.label("payee")) \
        .where(Expense.user_id == user_id, Expense.category_id == source_id).subquery()
    stage(session,
          select(lines.c.transaction_id, lines.c.line_id, literal("spending"),
                 *stage_columns(session, lines.c.date, lines.c.cents), lines.c.account_id, lines.c.category_id,
                 target, lines.c.payee, lines.c.payee),
          select(Transaction.id, null(), literal("income"),
                 *stage_columns(session, Transaction.date, cents(Transaction.amount)),
                 Transaction.account_id, Transaction.category_id, target, Transaction.payee, Transaction.payee)
          .where(Transaction.user_id == user_id, Transaction.kind == "income", Transaction.category_id == source_id))


def apply_changes(session: Session, user_id: int) -> None:
    """Every roll-up moved as :data:`CHANGES` says (after a ``stage_*``, before the rows themselves
    change): :func:`shift`, then :func:`compact` of the keys it touched, then the converted roll-ups of
    those months recomputed (converted groups are not additive)."""
    shifted = shift(session, user_id)
    months = changed_months(session)
    compact(session, user_id, months, only_changed=True, tables=shifted)
    fx_rollup.refresh(session, user_id, months)


def shift(session: Session, user_id: int) -> set:
    """Move the contribution of the rows in :data:`CHANGES` from their old category and payee to their
    new ones, in every roll-up: the changed rows summed once by every key (:data:`CHANGE_TOTALS`), then
    per roll-up one INSERT of the aggregates (the old keys with sign -1, the new keys with sign +1),
    never one row per line. Then :func:`compact` the :func:`changed_months`. Costs the changed rows,
    not a recomputation of months. Returns the roll-ups it gave rows (a category edit moves nothing in
    the payee-by-band one, a payee edit nothing in those without a payee): only those need folding."""
    require_session_hooks()
    mark_changed(session, user_id)
    c, t = CHANGES.c, CHANGE_TOTALS.c
    moved = or_(c.old_category.is_distinct_from(c.new_category), c.old_payee.is_distinct_from(c.new_payee))
    keys = [getattr(c, k) for k in _TOTAL_KEYS]
    session.execute(insert(CHANGE_TOTALS).from_select(
        [*_TOTAL_KEYS, "cents", "row_count"], select(*keys, func.sum(c.cents), func.count()).where(moved)
        .group_by(*keys)))
    # The new payees' names (a rename to a payee the user never had).
    _add_names(session, user_id, select(t.flow, t.new_payee.label("payee")).where(
        t.old_payee.is_distinct_from(t.new_payee), t.new_payee.is_not(None)).distinct().subquery())
    shifted = set()
    for table, names, _e, _t in _shift_specs(session):
        by_category = _by_account_category(table)
        cols = ["user_id", "flow", *names, *(["account_id", "category_id"] if by_category else []),
                "total_cents", "row_count"]
        changed = _shifted(table, names)
        parts = []
        for sign, category, payee in ((-1, t.old_category, t.old_payee), (1, t.new_category, t.new_payee)):
            group = [t.flow, *[payee if n == "payee" else getattr(t, n) for n in names],
                     *([t.account_id, category] if by_category else [])]
            parts.append(select(literal(user_id), *group, sign * func.sum(t.cents), sign * func.sum(t.row_count))
                         .where(changed).group_by(*group))
        # (SQLAlchemy reports an INSERT's row count only when asked to keep it: else -1 on PostgreSQL.)
        inserted = session.execute(insert(table).from_select(cols, union_all(*parts))
                                   .execution_options(preserve_rowcount=True)).rowcount
        if inserted is None or inserted != 0:   # (-1: the driver did not say)
            shifted.add(table)
    return shifted


def compact(session: Session, user_id: int, months: Iterable[date], *, only_changed: bool = False,
            tables: set | None = None) -> None:
    """Fold the user's spending and income rows of these months, in every roll-up, into one row per key
    (after :func:`shift`), dropping keys that sum to nothing. Costs the roll-up rows, not the raw rows.
    ``only_changed``: only the rows whose category and payee are among those of :data:`CHANGE_TOTALS`
    (the only keys a shift from it can have given a second row); in the roll-ups by day, only the very
    keys it shifted (:func:`_fold_by_keys`). ``tables``: only these roll-ups (what :func:`shift` returned)."""
    month_list = sorted({month_start(m) for m in months})
    if not month_list:
        return
    t = CHANGE_TOTALS.c
    none = literal(-1)
    categories = union_all(select(func.coalesce(t.old_category, none)), select(func.coalesce(t.new_category, none)))
    payees = union_all(select(t.old_payee), select(t.new_payee))
    for table, names, _e, _t in _shift_specs(session):
        if tables is not None and table not in tables:
            continue
        period = table.day if table in _BY_DAY else table.month
        in_months = _in_months(period, month_list) if table in _BY_DAY else period.in_(month_list)
        scope = [table.user_id == user_id, table.flow.in_(("spending", "income")), in_months]
        if only_changed and table in _BY_DAY and _sparse(session, table, names, scope):
            _fold_by_keys(session, user_id, table, names)
            continue
        if only_changed and _by_account_category(table):
            scope.append(func.coalesce(table.category_id, none).in_(categories))
        if only_changed and "payee" in names:
            scope.append(table.payee.in_(payees))
        # The rows before the fold's own: the table's largest id (one step down its primary key; the
        # largest id in the scope cost a read of the scope, 0.1 s a roll-up at 1M rows).
        last = session.scalar(select(func.max(table.id)))
        if last is None:
            continue
        dims = ["account_id", "category_id"] if _by_account_category(table) else []
        keys = [table.user_id, table.flow, *[getattr(table, n) for n in [*names, *dims]]]
        cols = ["user_id", "flow", *names, *dims, "total_cents", "row_count"]
        folded = (select(*keys, func.sum(table.total_cents), func.sum(table.row_count)).where(*scope, table.id <= last)
                  .group_by(*keys).having(or_(func.sum(table.row_count) != 0, func.sum(table.total_cents) != 0)))
        session.execute(insert(table).from_select(cols, folded))
        session.execute(delete(table).where(*scope, table.id <= last).execution_options(synchronize_session=False))

def stale(session: Session, user_id: int) -> bool:
    """Whether this session has flushed writes of the user's rows that its roll-ups do not show yet
    (they are refreshed at commit): reads inside such a transaction must use the raw rows."""
    pending = session.info.get(_PENDING)
    return bool(pending) and user_id in pending


def _touched(obj) -> list[tuple[int, date]]:
    state = inspect(obj)
    if state.expired_attributes & {"user_id", "date"}:
        return []  # never loaded in this session, so never changed through it
    user_ids = {obj.user_id, *state.attrs.user_id.history.deleted}
    dates = {obj.date, *state.attrs.date.history.deleted}
    return [(u, month_start(d)) for u in user_ids for d in dates if u is not None and d is not None]


# -- the data version ------------------------------------------------------------------------------

def mark_changed(session: Session, user_id) -> None:
    """Have this transaction's commit bump the user's data version (ALL_USERS: every user's)."""
    if user_id is not None:
        session.info.setdefault(_CHANGED, set()).add(user_id if user_id == ALL_USERS else int(user_id))


def _owner(obj, *, load: bool):
    """The user whose data ``obj`` is, or None (built-in category, roll-up row, unknown)."""
    if isinstance(obj, (MonthlyRollup, AmountRollup, DailyRollup, PayeeRollup, PayeeAmountRollup, DailyPayeeRollup)):
        return None
    state = inspect(obj)
    if isinstance(obj, User):
        changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
        return state.dict.get("id") if (changed - _USER_QUIET_ATTRIBUTES or state.deleted) else None
    if "user_id" not in state.mapper.attrs:
        return None
    if "user_id" in state.dict:
        return state.dict["user_id"]
    if load and state.persistent:
        return obj.user_id  # expired: loaded now, before the flush (the row still exists)
    history = state.attrs.user_id.history
    values = [v for v in (*history.added, *history.unchanged, *history.deleted) if v is not None]
    return values[0] if values else None


def _collect_owners_before(session: Session, _flush_context, _instances) -> None:
    for obj in (*session.dirty, *session.deleted):
        mark_changed(session, _owner(obj, load=True))


def _criterion_user_ids(statement, table) -> set | None:
    """The user ids named by ``<table>.user_id = x`` / ``IN (...)`` in a DML statement's WHERE; None
    when it names none (then the statement may touch any user)."""
    where = getattr(statement, "whereclause", None)
    if where is None:
        return None
    found: set = set()
    for node in visitors.iterate(where):
        if not isinstance(node, BinaryExpression) or node.operator not in (operators.eq, operators.in_op):
            continue
        column, value = node.left, node.right
        if not isinstance(column, Column) or column.name != "user_id" or \
                getattr(column.table, "name", None) != table.name or not isinstance(value, BindParameter):
            continue
        bound = value.effective_value
        found.update(bound if isinstance(bound, (list, tuple, set)) else [bound])
    return found or None


def _collect_statement(state) -> None:
    """UPDATE / DELETE / INSERT statements run through the session (not only ORM objects)."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if table is None or getattr(table, "name", None) in _NOT_USER_DATA or "user_id" not in table.c:
        return
    if state.is_insert:
        rows = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
        user_ids = {row.get("user_id") for row in rows if isinstance(row, dict)} - {None} or None
    else:
        user_ids = _criterion_user_ids(state.statement, table)
    if user_ids is None:
        mark_changed(state.session, ALL_USERS)
        return
    for user_id in user_ids:
        mark_changed(state.session, user_id)


def _bump(session: Session, user_ids: set) -> None:
    users = User.__table__
    stmt = update(users).values(data_version=users.c.data_version + 1)
    if ALL_USERS not in user_ids:
        stmt = stmt.where(users.c.id.in_(sorted(user_ids)))  # one order: no deadlock between two commits
    session.execute(stmt)


# -- the hooks -------------------------------------------------------------------------------------

def _collect(session: Session, _flush_context) -> None:
    pending = session.info.setdefault(_PENDING, defaultdict(set))
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, (Expense, Transaction)):
            for user_id, month in _touched(obj):
                pending[user_id].add(month)
        mark_changed(session, _owner(obj, load=False))


def _apply(session: Session) -> None:
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if pending:
        for user_id, months in pending.items():
            refresh(session, user_id, months)
        session.flush()
    changed = session.info.pop(_CHANGED, None)
    if changed:
        _bump(session, changed)


def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:
        return  # a savepoint: the outer transaction goes on with what it changed before
    session.info.pop(_PENDING, None)
    session.info.pop(_CHANGED, None)
