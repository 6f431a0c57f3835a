"""The address bar as a callback output, for pages that keep their filters in the query string.

A page puts ``address_entry(query)`` into a ``dcc.Store``'s data when its filters change; the browser
takes it from the callback's answer as soon as it arrives (the Dash renderer's ``request_post`` hook,
dashboard/__init__.py, and ``ledgerlensHistory`` in assets/history.js) and adds a history entry with
that query string (none when the address already says the same, in any order). No callback runs for it,
and none runs after it: a filter change is one round trip and nothing else. Back and Forward go the
other way (assets/history.js: the page's popstate store)."""
from __future__ import annotations


def address_entry(query: dict) -> dict:
    """The history entry for ``query`` (the page's canonical filter state, str values)."""
    return {"ledgerlensAddress": {str(k): str(v) for k, v in query.items()}}
