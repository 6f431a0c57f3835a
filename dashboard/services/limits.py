"""How many rows with money one user may hold, so that no sum can overflow (issue 13, item 10).

``models.db`` bounds each amount (``MAX_CENTS``) and the rows of one user (``MAX_USER_ROWS``
transactions and as many expense lines); their product, twice, stays below 2**63 (the reasoning is
beside the constants). Every write path goes through one of two checks:

- ORM writes (a transaction typed in, a transfer, a split, a grid edit, a small import): a
  ``before_flush`` listener (registered by :func:`dashboard.services.hooks.install_session_hooks`)
  counts the new Transaction and Expense objects per user and refuses the flush past the limit;
- the bulk writer (import, restore, demo) calls :func:`check_room` once per chunk.

The user's committed count is read from the monthly roll-up once per session transaction and then
kept up to date by what this session adds (deletes inside the same transaction are not subtracted: the check can
only be stricter than needed). The refusal is a ``ServiceError`` with the limit in words, rolled back by
the caller like any other.
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Expense, MonthlyRollup, Transaction
from models.db import MAX_USER_ROWS

from .errors import ServiceError

_KEY = "ledgerlens_row_counts"


def limit_message(table: str) -> str:
    what = "transactions" if table == "transactions" else "transaction lines (splits count one per line)"
    return (f"An account holder can keep at most {MAX_USER_ROWS:,} {what}; this would go past it. "
            "Delete old transactions (or ask whoever runs the server) before adding more.")


def _counts(session: Session) -> dict:
    return session.info.setdefault(_KEY, {})


def check_room(session: Session, user_id: int, *, transactions: int = 0, expenses: int = 0) -> None:
    """Raise ServiceError when adding this many transactions and expense lines would take the user
    past ``MAX_USER_ROWS``; otherwise count them as added."""
    counts = _counts(session)
    for table, adding in (("transactions", transactions), ("expenses", expenses)):
        if adding <= 0:
            continue
        key = (table, user_id)
        if key not in counts:
            counts[key] = _committed_count(session, user_id, table)
        if counts[key] + adding > MAX_USER_ROWS:
            raise ServiceError(limit_message(table), "amount")
        counts[key] += adding


def _committed_count(session: Session, user_id: int, table: str) -> int:
    """The user's committed rows, from the monthly roll-up (a few thousand rows at 1,000,000
    transactions, read through its covering index in about a millisecond; a COUNT over the raw table
    costs ~0.1 s of CPU there): its ``net`` rows count every transaction, its ``spending`` rows every
    expense line, and every commit keeps it exact (services/rollup.py)."""
    flow = "net" if table == "transactions" else "spending"
    return int(session.connection().execute(
        select(func.coalesce(func.sum(MonthlyRollup.row_count), 0))
        .where(MonthlyRollup.user_id == user_id, MonthlyRollup.flow == flow)).scalar_one())


def _check_flush(session: Session, _flush_context, _instances) -> None:
    new = Counter()
    for obj in session.new:
        if isinstance(obj, Transaction):
            new[("transactions", obj.user_id)] += 1
        elif isinstance(obj, Expense):
            new[("expenses", obj.user_id)] += 1
    for (table, user_id), adding in new.items():
        if user_id is not None:
            check_room(session, user_id, **{table: adding})


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEY, None)
