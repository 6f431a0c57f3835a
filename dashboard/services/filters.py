"""The one parser of filter values (from a URL query or the filter controls) and the one text match,
shared by the Spending explorer (services/spending.py) and the Transactions grid (services/transaction_grid.py).

Nothing from the client is trusted: malformed values are dropped, never raised on, unless the caller
asks for ``strict`` checking of a range.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from .errors import ServiceError

MAX_TEXT = 100      # longest search text kept
MAX_ID = 2**62      # ids beyond this are not ids


def parse_ids(value) -> tuple[int, ...]:
    """Ids from ``"3,5"``, ``5`` or ``["3", 5]``: sorted, unique, non-negative; anything else dropped."""
    if value is None or value == "" or not isinstance(value, (str, int, list, tuple)) or isinstance(value, bool):
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    out = set()
    for item in items:
        if isinstance(item, bool):
            continue
        try:
            number = int(str(item).strip())
        except ValueError:
            continue
        if 0 <= number < MAX_ID:
            out.add(number)
    return tuple(sorted(out))


def parse_iso_date(value) -> date | None:
    """An ISO date (a longer timestamp is cut to its date), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def ordered_range(start: date | None, end: date | None, *, strict: bool = False) -> tuple:
    """(start, end), swapped when the end is before the start; with ``strict`` that raises instead."""
    if start and end and end < start:
        if strict:
            raise ServiceError("The end date is before the start date.", "to")
        return end, start
    return start, end


def search_text(value) -> str:
    return value.strip()[:MAX_TEXT] if isinstance(value, str) else ""


def ids_param(ids: tuple[int, ...]) -> str:
    """The query-string form of :func:`parse_ids`'s result."""
    return ",".join(map(str, ids))


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(session: Session, column, text: str):
    """Case-insensitive substring match. SQLite's LIKE already ignores ASCII case (and lower() on
    every row costs twice as much); PostgreSQL gets ILIKE."""
    pattern = f"%{escape_like(text)}%"
    if session.get_bind().dialect.name == "sqlite":
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")
