"""Declarative base, the Flask-SQLAlchemy handle, the Money column type and the database URL.

Money is stored as integer cents (BIGINT) and spoken as ``decimal.Decimal`` in Python. A float is
refused at bind time: it cannot represent most cent amounts exactly.
"""
from __future__ import annotations

import os
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, CheckConstraint, Integer, MetaData, String, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import Pool
from sqlalchemy.types import TypeDecorator

from settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CENT = Decimal("0.01")
# Sums cannot overflow (issue 13, item 10): every sum the app computes adds one user's amounts, from at
# most two tables that grow with the data (transactions and their expense lines, or transactions and
# the accounts' opening balances). With each amount at most MAX_CENTS and each user at most
# MAX_USER_ROWS transactions and MAX_USER_ROWS expense lines, such a sum stays below
# 2 * MAX_CENTS * MAX_USER_ROWS = 8e18 < 2**63 - 1 (a 64-bit integer: SQLite's SUM, PostgreSQL's
# BIGINT roll-ups, pandas' int64). Amounts are hundredths of the major unit in every currency, so the
# bound is ten billion yen, rupiah or dong as well as ten billion dollars (docs/security.md).
MAX_CENTS = 10**12            # 10,000,000,000.00 in currency units
MAX_USER_ROWS = 4_000_000     # transactions per user, and expense lines per user
MAX_AMOUNT_TEXT = "10,000,000,000.00"
assert 2 * MAX_CENTS * MAX_USER_ROWS < 2**63 - 1


# Ids that grow with the number of transactions (about one per transaction, or more) can pass 2**31 on
# a large shared PostgreSQL: BIGINT there. SQLite keeps INTEGER (its rowid is 64-bit anyway, and only an
# INTEGER PRIMARY KEY autoincrements). Migration 0006_bigint_ids.
BigId = BigInteger().with_variant(Integer, "sqlite")
# PostgreSQL: the share of each page of transactions and expense lines filled by new rows. The rest is
# room for the new version of a row that a bulk category edit writes (a HOT update: same page, no new
# index entry; migration 0022).
HOT_FILLFACTOR = 70


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def to_cents(value) -> int:
    """Exact conversion of a Decimal / int / numeric string to integer cents.

    A float is refused, and so is anything with more than two decimals, NaN or infinity.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, Decimal):
        dec = value
    elif isinstance(value, str):
        try:
            dec = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
    else:
        raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")
    if not dec.is_finite():
        raise ValueError("amount must be a finite number")
    # Size first, exactly: `dec * 100` rounds to the 28-digit context (1.000…0001 became 100 cents)
    # and overflows on huge exponents (decimal.Overflow instead of ValueError).
    if dec != 0 and dec.adjusted() > 15:
        raise ValueError(f"amount is too large (at most {MAX_AMOUNT_TEXT})")
    if dec != dec.quantize(CENT):
        raise ValueError("amount has more than two decimals")
    cents_int = int(dec.scaleb(2))
    if abs(cents_int) > MAX_CENTS:
        raise ValueError(f"amount is too large (at most {MAX_AMOUNT_TEXT})")
    return cents_int


def from_cents(cents: int | None) -> Decimal | None:
    if cents is None:
        return None
    return (Decimal(int(cents)) / 100).quantize(CENT, rounding=ROUND_HALF_EVEN)


class Money(TypeDecorator):
    """A Decimal amount with two decimals, stored as BIGINT cents."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return to_cents(value)

    def process_result_value(self, value, dialect):
        return from_cents(value)

    @property
    def python_type(self):
        return Decimal


RATE_DIGITS = 18  # significant digits an exchange rate may have (the ECB publishes at most 6)


def to_rate(value) -> Decimal:
    """An exchange rate as an exact, positive Decimal: from a Decimal, an int or a numeric string.

    A float is refused (1.0876 is not a float); so are zero, negatives, NaN, infinity, exponents
    beyond reason and more than RATE_DIGITS significant digits."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"a rate must be Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40:
            raise ValueError("not a rate: too long")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"not a rate: {value!r}") from exc
    elif isinstance(value, int):
        value = Decimal(value)
    elif not isinstance(value, Decimal):
        raise TypeError(f"a rate must be Decimal, int or str, not {type(value).__name__}")
    if not value.is_finite() or value <= 0:
        raise ValueError("a rate must be a positive number")
    value = value.normalize()
    if len(value.as_tuple().digits) > RATE_DIGITS or not -12 <= value.adjusted() <= 12:
        raise ValueError(f"a rate has at most {RATE_DIGITS} significant digits and lies within 1e-12..1e12")
    return value


class ExactDecimal(TypeDecorator):
    """A Decimal kept as its canonical text (``1.0876``), so SQLite, which stores NUMERIC as a binary
    float, gives back exactly what was written. Used for exchange rates (models.exchange_rate)."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return format(to_rate(value), "f")

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)

    @property
    def python_type(self):
        return Decimal


def currency_check(column: str, name: str) -> list[CheckConstraint]:
    """``column`` holds an ISO 4217 code: three upper-case ASCII letters (the same rule in both
    dialects' words; migrations/versions/0013_currencies.py builds it)."""
    return [
        CheckConstraint(f"{column} GLOB '[A-Z][A-Z][A-Z]'", name=name).ddl_if(dialect="sqlite"),
        CheckConstraint(f"{column} ~ '^[A-Z]{{3}}$'", name=name).ddl_if(dialect="postgresql"),
    ]


def default_instance_path() -> str:
    """The instance folder: ``LEDGERLENS_INSTANCE`` or ./instance beside app.py."""
    return get_settings().instance_path


def database_url(instance_path: str | os.PathLike | None = None) -> str:
    """The one database URL, used by Flask-SQLAlchemy and by Alembic alike.

    ``DATABASE_URL`` wins; otherwise an absolute SQLite path in the instance folder.
    ``postgres://`` and ``postgresql://`` are mapped to the psycopg 3 driver.
    """
    url = get_settings().database_url
    if url:
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    if instance_path is None:
        instance_path = default_instance_path()
    path = Path(instance_path).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / 'ledgerlens.sqlite3'}"


# -- the write guard --------------------------------------------------------------------------------
# The roll-up and the per-user data version are kept right by session hooks that the services layer
# registers (dashboard/services/hooks.py: install_session_hooks, called by create_app). Writing
# without them would leave both silently stale, so until they are installed every ORM write fails.

_hooks = {"installed": False}


class SessionHooksMissing(RuntimeError):
    """A write through a session before the session hooks were installed."""

    def __init__(self):
        super().__init__("the session hooks are not installed: call "
                         "dashboard.services.hooks.install_session_hooks() (create_app does) before writing")


def set_session_hooks_installed(installed: bool) -> None:
    _hooks["installed"] = bool(installed)


def require_session_hooks() -> None:
    """Raise SessionHooksMissing unless the session hooks are installed (the bulk writer calls this:
    its Core inserts pass no ORM event)."""
    if not _hooks["installed"]:
        raise SessionHooksMissing()


@event.listens_for(Session, "before_flush")
def _guard_flush(session, _flush_context, _instances) -> None:
    if not _hooks["installed"] and (session.new or session.dirty or session.deleted):
        raise SessionHooksMissing()


@event.listens_for(Session, "do_orm_execute")
def _guard_statement(state) -> None:
    if not _hooks["installed"] and (state.is_insert or state.is_update or state.is_delete):
        raise SessionHooksMissing()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # pragma: no cover - trivial
    """Foreign keys on, WAL and a busy timeout for SQLite: several workers may write at once."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception:  # in-memory databases cannot use WAL
        pass
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "connect")
def _postgres_serial_reads(dbapi_connection, connection_record):  # pragma: no cover - trivial
    """No parallel workers for a PostgreSQL query: the app's reads are index probes and roll-up sums of
    a few ms, for which starting workers costs more than it saves, and takes cores from the other
    workers' requests. Measured: the explorer grid's first page of a text search (1M varied rows, two
    cores) waited ~10 ms for a Gather Merge's workers and took 20 ms, 5 ms serial; no case of
    ``bench_spending.py`` got slower (docs/benchmarks.md). INSERT ... SELECT never ran in parallel."""
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    dbapi_connection.commit()


# -- SQLite: a large write's WAL checkpoint after the response ---------------------------------------
# SQLite copies the WAL back into the database file ("checkpoint") inside the commit that takes the WAL
# past 1000 pages. After a bulk edit of ~100,000 rows that is 130-250 MB of WAL and ~1 s of the user's
# wait. hold_checkpoint() turns the automatic checkpoint off for one connection's next commit; when the
# connection goes back to the pool (the commit or rollback done) the automatic checkpoint is set back
# and one PASSIVE checkpoint of the file runs after the response is sent (Flask's call_on_close), or at
# once outside a request. Readers and writers of other workers are not blocked by it; a worker that
# commits before it has run may do the checkpoint itself (SQLite runs one at a time).

WAL_AUTOCHECKPOINT_PAGES = 1000   # SQLite's default
_HELD = "ll_checkpoint_held"
_checkpoint = {"runner": None}


def hold_checkpoint(connection) -> bool:
    """SQLite: no automatic WAL checkpoint in this connection's commit; the checkpoint runs after the
    response instead (see above). Returns whether it did anything (False on other databases)."""
    if connection.dialect.name != "sqlite":
        return False
    connection.exec_driver_sql("PRAGMA wal_autocheckpoint = 0")
    connection.info[_HELD] = True
    return True


def set_checkpoint_runner(runner) -> None:
    """Who runs a held checkpoint: ``runner(fn)`` (the benchmark times it apart); None: after the
    response inside a request, else at once."""
    _checkpoint["runner"] = runner


def checkpoint_file(path: str) -> None:
    """One PASSIVE checkpoint of a SQLite file's WAL on a connection of its own (never blocks readers
    or writers; what it cannot copy now the next automatic checkpoint copies)."""
    import sqlite3

    try:
        connection = sqlite3.connect(path, timeout=10)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()
    except sqlite3.Error as error:     # after the response: nobody to tell; the next commit checkpoints
        import logging
        logging.getLogger(__name__).warning("WAL checkpoint of %s after the response failed: %s", path, error)


def _run_after_response(fn) -> None:
    if _checkpoint["runner"] is not None:
        _checkpoint["runner"](fn)
        return
    from flask import after_this_request, has_request_context

    if has_request_context():
        def later(response):
            response.call_on_close(fn)
            return response
        after_this_request(later)
        return
    fn()


@event.listens_for(Pool, "checkin")
def _release_checkpoint(dbapi_connection, record) -> None:
    if record is None or not record.info.pop(_HELD, False) or dbapi_connection is None:
        return
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    path = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
    if path:     # "" for an in-memory database
        _run_after_response(lambda: checkpoint_file(path))
