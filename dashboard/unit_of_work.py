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


# -- forms that write: one shape for the pages whose buttons write and answer with an alert -----------

def alert(message, color: str = "success", **props):
    """The dismissable alert a form answers with (success, or ``"danger"`` for a refusal)."""
    import dash_bootstrap_components as dbc
    return dbc.Alert(message, color=color, class_name="py-2 mb-2", dismissable=True, **props)


def bump(counter) -> int:
    """The next value of a page's refresh counter (a Store), whatever the client sent."""
    return (counter if isinstance(counter, int) and not isinstance(counter, bool) else 0) + 1


def form_write(work: Callable[[], T], say: Callable[[T], object], *, error_id: str, done_id: str | None = None):
    """Run ``work()`` as a unit of work and answer with an alert: ``say(value)`` (computed inside the
    unit of work, before the commit expires the rows) on success, the ServiceError's message on a
    refusal. Returns ``(alert, outcome)``; ``outcome.value`` is what ``say`` returned."""
    done = unit_of_work(lambda: say(work()))
    if not done.ok:
        return alert(done.message, "danger", id=error_id), done
    return (alert(done.value, id=done_id) if done_id else alert(done.value)), done


# -- grids that write: dash-ag-grid's cellValueChanged, one unit of work per edit --------------------

def cell_value(change: dict):
    """The edited value of a cellValueChanged event: dash-ag-grid 35 sends it as ``value`` (older
    versions and its prop types say ``newValue``)."""
    return change["value"] if "value" in change else change.get("newValue")


def grid_edits(changes, edit: Callable[[dict, object, object], T],
               label: Callable[[dict, object], str | None] = lambda _row, _column: None):
    """Apply a grid's edits (one event or a list of them, whatever the client sent), each its own unit
    of work: ``edit(row, column, value)`` with the event's row data (a dict), column id and new value.
    Returns ``(problems, saved)``: the messages of the refused edits (a Conflict's as it is, others
    after ``label(row, column)`` when it gives one) and ``(column, value)`` of the committed ones."""
    problems, saved = [], []
    for change in changes if isinstance(changes, list) else [changes]:
        change = change if isinstance(change, dict) else {}
        row = change.get("data") if isinstance(change.get("data"), dict) else {}
        column = change.get("colId")
        done = unit_of_work(edit, row, column, cell_value(change))
        if done.conflict:
            problems.append(done.message)
        elif not done.ok:
            prefix = label(row, column)
            problems.append(f"{prefix}: {done.message}" if prefix else done.message)
        else:
            saved.append((column, done.value))
    return problems, saved


def problems_alert(problems: list[str], **props):
    """The refused edits of a grid, one line each."""
    import dash_bootstrap_components as dbc
    from dash import html
    return dbc.Alert([html.Div(p) for p in problems], color="danger", class_name="py-2 mb-2", dismissable=True,
                     **props)
