from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    case,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .db import BigId, db

# The roll-ups are derived rows, written by the thousand on every bulk edit, import and refresh: they
# keep one foreign key, user_id -> users ON DELETE CASCADE (deleting a user, by any path, deletes their
# roll-ups), and carry no key to accounts or categories (migration 0024), whose checks were most of the
# cost of writing them on PostgreSQL (1.35 s of a 3.2 s INSERT of 190,000 rows). What those keys did
# is done by the writers: accounts are never deleted alone (only with their user); a category is
# deleted after its rows have moved and the roll-ups of those months have been recomputed
# (services/categories.py).

# Amount bands (cents) of the monthly roll-up: band i holds the amounts in [BAND_EDGES[i-1],
# BAND_EDGES[i]) (band 0: below 0, i.e. refunds; the last band: BAND_EDGES[-1] and above). Edges sit
# on the round numbers people type into "min" / "max", so most amount filters are whole bands.
BAND_EDGES = (0, 1_00, 2_00, 5_00, 10_00, 15_00, 20_00, 25_00, 30_00, 40_00, 50_00, 75_00, 100_00,
              150_00, 200_00, 250_00, 300_00, 400_00, 500_00, 750_00, 1_000_00, 1_500_00, 2_000_00,
              2_500_00, 5_000_00, 10_000_00)


def band_of(cents_column):
    """SQL: the band number of an amount in cents (see BAND_EDGES)."""
    return case(*[(cents_column < edge, index) for index, edge in enumerate(BAND_EDGES)],
                else_=len(BAND_EDGES))


def band_bounds(band: int) -> tuple[int | None, int | None]:
    """[low, high) of a band in cents; None for an open end."""
    low = BAND_EDGES[band - 1] if band > 0 else None
    high = BAND_EDGES[band] if band < len(BAND_EDGES) else None
    return low, high


class MonthlyRollup(db.Model):
    """A derived table: a user's spending or income per month, account and category, and (flow 'net')
    every account's net movement per month, transfers included, for balances.

    Its size follows what the charts need (months x accounts x categories), not the number of payees:
    payees have their own roll-up (PayeeRollup), days theirs (DailyRollup), amount bands theirs
    (AmountRollup). Whole-month questions ("spending by category over the last 12 months") are
    answered from here in milliseconds instead of scanning every expense. It is never edited directly: every commit that touches expenses or transactions
    recomputes the affected (user, month) rows of the five roll-ups from the raw tables (see
    dashboard/services/rollup.py), so they are always in step with them.
    """

    __tablename__ = "monthly_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income','net')", name="flow_known"),
        Index("ix_monthly_rollup_user_flow_month", "user_id", "flow", "month", "account_id", "category_id",
              "total_cents", "row_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # rewritten on every refresh: ids run fast
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    month: Mapped[date]
    account_id: Mapped[int]
    category_id: Mapped[int | None] = mapped_column()
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)


class AmountRollup(db.Model):
    """Spending and income per user, month, account, category and amount band (BAND_EDGES): amount
    filters ("between $20 and $200") are answered from the whole bands inside the range, and only the
    rows of the partial bands at its ends are read (ix_expenses_user_amount). Kept apart from
    MonthlyRollup, which every view reads and which stays several times smaller without bands."""

    __tablename__ = "amount_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income')", name="flow_known"),
        Index("ix_amount_rollup_user_flow_month", "user_id", "flow", "month", "band", "account_id",
              "category_id", "total_cents", "row_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # rewritten on every refresh: ids run fast
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    month: Mapped[date]
    band: Mapped[int] = mapped_column(SmallInteger)
    account_id: Mapped[int]
    category_id: Mapped[int | None] = mapped_column()
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)


class DailyRollup(db.Model):
    """Spending and income per user, day, account and category: weekly charts and the partial months at
    the edges of a custom range are answered from here (a day holds a handful of rows, not hundreds)."""

    __tablename__ = "daily_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income')", name="flow_known"),
        Index("ix_daily_rollup_user_flow_day", "user_id", "flow", "day", "account_id", "category_id",
              "total_cents", "row_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # rewritten on every refresh: ids run fast
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    day: Mapped[date]
    account_id: Mapped[int]
    category_id: Mapped[int | None] = mapped_column()
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)


class PayeeRollup(db.Model):
    """Spending and income per user, month, payee, account and category: the top payees, the payee part
    of a text search, and the importer's category suggestions. A payee is nearly always paid from one
    or two accounts in one category, so this grows with (months x payees seen in a month)."""

    __tablename__ = "payee_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income')", name="flow_known"),
        Index("ix_payee_rollup_user_flow_month", "user_id", "flow", "month", "payee", "account_id",
              "category_id", "total_cents", "row_count"),
        # A text search's reads: the payees containing the text (from PayeeName), each one's months
        # found directly, not by reading every payee of the months and keeping a few (PostgreSQL,
        # varied set at 1M, 12 months, 166 payees: 4.3 -> 1.3 ms a read, three reads an update).
        Index("ix_payee_rollup_user_flow_payee", "user_id", "flow", "payee", "month", "account_id",
              "category_id", "total_cents", "row_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # rewritten on every refresh: ids run fast
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    month: Mapped[date]
    payee: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int]
    category_id: Mapped[int | None] = mapped_column()
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)


class PayeeName(db.Model):
    """Every payee a user's spending or income has had (one row per user, flow and name), kept by the
    roll-up writers (services/rollup.py) beside PayeeRollup: what a text search matches the text against
    (on PostgreSQL through a trigram index, migration 0025) before reading the roll-ups of those payees,
    and the names a rule's pattern is tried on. A name whose rows are all gone stays until the user's
    next full refresh: it only makes a list of names one longer, and its roll-up rows are none."""

    __tablename__ = "payee_names"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    flow: Mapped[str] = mapped_column(String(10), primary_key=True)
    payee: Mapped[str] = mapped_column(String(200), primary_key=True)


class DailyPayeeRollup(db.Model):
    """Spending and income per user, day, payee, account and category: the top payees (and the payee
    part of a text search) over the partial months at the edges of a custom range, which PayeeRollup
    (whole months) cannot answer. Without it those days' expense lines were joined to their
    transactions for the payee: ~30,000 lines for three weeks at 1M, ten times that at 10M. It grows with
    (days x payees seen on a day), not with the number of lines a day holds."""

    __tablename__ = "daily_payee_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income')", name="flow_known"),
        Index("ix_daily_payee_rollup_user_flow_day", "user_id", "flow", "day", "payee", "account_id",
              "category_id", "total_cents", "row_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # rewritten on every refresh: ids run fast
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    day: Mapped[date]
    payee: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int]
    category_id: Mapped[int | None] = mapped_column()
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)


class PayeeAmountRollup(db.Model):
    """Spending and income per user, month, amount band and payee (no account or category): the top
    payees under an amount filter, from the whole bands inside it (the slivers at its ends are read
    raw). Queried only with an amount filter and no account or category filter."""

    __tablename__ = "payee_amount_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income')", name="flow_known"),
        Index("ix_payee_amount_rollup_user_flow_month", "user_id", "flow", "month", "band", "payee",
              "total_cents", "row_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # rewritten on every refresh: ids run fast
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    month: Mapped[date]
    band: Mapped[int] = mapped_column(SmallInteger)
    payee: Mapped[str] = mapped_column(String(200))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)


class FxMonthRollup(db.Model):
    """Derived, for a user whose accounts are in more than one currency (issue 17): the spending and
    income of each account in another currency than the base, per month, account and category, in the
    base currency: the sum over the month of the daily roll-up's (day, account, category) groups, each
    converted at its day's rate and rounded once, half-even (dashboard/services/fx.py), i.e. exactly
    what the explorer's conversion gives. Rebuilt with the roll-ups (dashboard/services/fx_rollup.py);
    ``missing`` marks a (month, account) with money no rate converts (the explorer then converts from
    the daily roll-up and reports it)."""

    __tablename__ = "fx_month_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income')", name="flow_known"),
        Index("ix_fx_month_rollup_user_flow_month", "user_id", "flow", "month", "account_id", "category_id",
              "total_cents", "row_count", "missing"),
        # Only the markers of money no rate converts: a read checks for them in one step (0020).
        Index("ix_fx_month_rollup_missing", "user_id", "month", "account_id", sqlite_where=text("missing > 0"),
              postgresql_where=text("missing > 0")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    month: Mapped[date]
    account_id: Mapped[int]
    category_id: Mapped[int | None] = mapped_column()
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)
    missing: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")


class FxPayeeRollup(db.Model):
    """Like FxMonthRollup per payee: the month's (payee, day, account, category) groups of the raw rows,
    each converted at its day's rate and rounded once, half-even (the explorer's top payees)."""

    __tablename__ = "fx_payee_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income')", name="flow_known"),
        Index("ix_fx_payee_rollup_user_flow_month", "user_id", "flow", "month", "payee", "account_id",
              "category_id", "total_cents", "row_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    month: Mapped[date]
    payee: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int]
    category_id: Mapped[int | None] = mapped_column()
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)


class FxDailyRollup(db.Model):
    """Like FxMonthRollup per day: each of the daily roll-up's (day, account, category) groups of an account
    in another currency than the base, converted at its day's rate and rounded once, half-even (weekly
    and daily views, and the partial-month edges of a range, without converting at read time)."""

    __tablename__ = "fx_daily_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income')", name="flow_known"),
        Index("ix_fx_daily_rollup_user_flow_day", "user_id", "flow", "day", "account_id", "category_id",
              "total_cents", "row_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    day: Mapped[date]
    account_id: Mapped[int]
    category_id: Mapped[int | None] = mapped_column()
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)


class FxAmountRollup(db.Model):
    """Like FxMonthRollup per amount band (BAND_EDGES, of the amount in the account's own currency): the
    month's (band, day, account, category) groups of the raw rows, each converted at its day's rate and
    rounded once, half-even (the explorer's amount filters with several currencies)."""

    __tablename__ = "fx_amount_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income')", name="flow_known"),
        Index("ix_fx_amount_rollup_user_flow_month", "user_id", "flow", "month", "band", "account_id",
              "category_id", "total_cents", "row_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    month: Mapped[date]
    band: Mapped[int] = mapped_column(SmallInteger)
    account_id: Mapped[int]
    category_id: Mapped[int | None] = mapped_column()
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)


class FxPayeeAmountRollup(db.Model):
    """Like PayeeAmountRollup for every account in another currency than the base together: per month,
    band and payee, the sum of the (payee, band, day, account, category) groups of the raw rows, each
    converted at its day's rate and rounded once, half-even (top payees under an amount filter)."""

    __tablename__ = "fx_payee_amount_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income')", name="flow_known"),
        Index("ix_fx_payee_amount_rollup_user_flow_month", "user_id", "flow", "month", "band", "payee",
              "total_cents", "row_count"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    month: Mapped[date]
    band: Mapped[int] = mapped_column(SmallInteger)
    payee: Mapped[str] = mapped_column(String(200))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)


class FxRollupState(db.Model):
    """What the user's converted roll-ups were computed for: the base currency, each account's
    currency and the rates (a signature). A read compares it with the present one and converts from
    the daily roll-up when they differ (a rate or a currency changed by a path that did not rebuild)."""

    __tablename__ = "fx_rollup_state"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    signature: Mapped[str] = mapped_column(String(4000))
