"""The session hooks, registered in one place and on purpose.

Two facts are kept in step by listeners on SQLAlchemy's ``Session`` rather than by every write:

- ``monthly_rollup`` follows expenses and income, and ``users.data_version`` is bumped for every user
  whose data a commit changed (dashboard/services/rollup.py);
- the cache knows whether the session's transaction has written (dashboard/services/cache.py), so it
  never answers from, or stores, a state that is not committed;
- no user goes past ``MAX_USER_ROWS`` transactions or expense lines, so no sum can overflow
  (dashboard/services/limits.py).

:func:`install_session_hooks` registers all of them; ``create_app`` calls it, and so must a script that
writes through the services without the app. Until it has run, any ORM write (flush of new, changed
or deleted objects, an INSERT/UPDATE/DELETE statement through a session) and the bulk writer raise
:class:`models.db.SessionHooksMissing`: a forgotten call fails loudly instead of leaving the roll-up
and the cache key stale. Installing twice is harmless.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from models.db import set_session_hooks_installed

from . import cache, limits, rollup

# (event name, listener), in the order they are registered.
LISTENERS = (
    ("before_flush", rollup._collect_owners_before),
    ("after_flush", rollup._collect),
    ("do_orm_execute", rollup._collect_statement),
    ("before_commit", rollup._apply),
    ("after_soft_rollback", rollup._forget),
    ("after_flush", cache._mark_flush),
    ("do_orm_execute", cache._mark_dml),
    ("after_transaction_end", cache._forget),
    ("before_flush", limits._check_flush),
    ("after_transaction_end", limits._forget),
)


def install_session_hooks() -> None:
    """Register the roll-up, data-version and cache listeners on every Session (idempotent)."""
    for name, listener in LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    set_session_hooks_installed(True)


def uninstall_session_hooks() -> None:
    """Remove them again (tests use this to show that a write without them fails)."""
    for name, listener in LISTENERS:
        if event.contains(Session, name, listener):
            event.remove(Session, name, listener)
    set_session_hooks_installed(False)


def session_hooks_installed() -> bool:
    return all(event.contains(Session, name, listener) for name, listener in LISTENERS)
