"""The unit of work of a page callback: run the service calls, commit, or roll back and say why.

The commit rule (docs/architecture.md): services validate and write but never commit or roll back;
whoever starts the unit of work ends it. In a page that is :func:`unit_of_work`; in a CLI command or a
script, an explicit ``session.commit()`` (and ``rollback()`` on error).

    done = unit_of_work(svc.create_account, db.session, viewer.user_id, name=name)
    if not done.ok:
        return {done.field or "form": done.message}
    account = done.value

A :class:`~dashboard.services.errors.ServiceError` (bad input, not found, :class:`Conflict`) becomes a
failed :class:`Outcome` with the message the user sees, after a rollback: the database is unchanged.
Anything else is rolled back and raised (a bug, not the user's mistake). Read what the message needs
from the rows inside ``work``: after the commit they are expired.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from dashboard.services.errors import Conflict, ServiceError

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None = None
    error: ServiceError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def message(self) -> str | None:
        return self.error.message if self.error is not None else None

    @property
    def field(self) -> str | None:
        return self.error.field if self.error is not None else None

    @property
    def conflict(self) -> Conflict | None:
        """The Conflict (the row changed since the client read it; ``.current`` is the stored row)."""
        return self.error if isinstance(self.error, Conflict) else None


def unit_of_work(work: Callable[..., T], *args, **kwargs) -> Outcome[T]:
    """Run ``work(*args, **kwargs)`` on the app's scoped session, then commit; on a ServiceError roll
    back and return it; on anything else roll back and raise."""
    from models import db

    session = db.session
    try:
        value = work(*args, **kwargs)
        session.commit()
    except ServiceError as error:
        session.rollback()
        return Outcome(error=error)
    except BaseException:
        session.rollback()
        raise
    return Outcome(value=value)
