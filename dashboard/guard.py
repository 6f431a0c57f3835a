"""One safety net for every Dash callback and Dash route (issue 13, item 12): bad input never becomes a
500, a half-done write never survives, and the user sees a message.

A callback can be called by anyone who can POST, with any JSON for any input. Callbacks validate what
they use (services raise ServiceError with a message); this layer catches what slips through, at one
place instead of in each of the callbacks:

- ``check_callback_body`` (before Dash reads the request): the body must be a JSON object naming a
  registered callback, with ``inputs``/``state`` lists of {id, property, value} objects whose values
  have the JSON type of their property (``PROP_TYPES``: a click count is an integer, selected rows a
  list, a ``value`` a scalar or a list of scalars...), and no non-finite numbers (NaN / Infinity)
  anywhere; else 400.
- ``on_callback_error`` (Dash's app-wide ``on_error``): an exception raised inside a callback that
  comes from its input (TypeError, ValueError, KeyError, IndexError, AttributeError, arithmetic and
  overflow errors, a database refusing a value, a unique key taken by a concurrent request) rolls the
  session back, shows a message in the page's alert area (``APP_ALERT_ID``) and leaves every output as
  it was (HTTP 200). Anything else is a bug and still answers 500. Each case is logged.
- Dash's component-suite route answers 404 for a package or file it does not serve (it raised).
"""
from __future__ import annotations

import functools
import json
import logging
import math
from decimal import DecimalException

from flask import Flask, abort, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

log = logging.getLogger("ledgerlens.callbacks")

APP_ALERT_ID = "app-alert"
TOO_LARGE = ("These totals are too large to add up. An amount somewhere is far larger than it should be: "
             "find it on the Transactions page (sort by amount) and correct or delete it.")
CHANGED_ELSEWHERE = "This was just changed elsewhere (another tab or device). Reload the page and try again."
BAD_INPUT = "That request could not be handled: the page may be out of date. Reload it and try again."

_INPUT_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError, DecimalException,
                 RecursionError, UnicodeError)


def _is_overflow(err: BaseException) -> bool:
    text = str(err).lower()
    return isinstance(err, OverflowError) or any(w in text for w in (
        "integer overflow", "out of range", "too large", "overflow"))


def message_for(err: BaseException) -> str | None:
    """The message for an error a callback's input caused, or None for a bug (re-raised)."""
    if isinstance(err, IntegrityError):
        return CHANGED_ELSEWHERE
    if isinstance(err, (DataError, OperationalError)):
        if _is_overflow(err):
            return TOO_LARGE
        if "locked" in str(err).lower() or "deadlock" in str(err).lower():
            return CHANGED_ELSEWHERE
        return None
    if isinstance(err, _INPUT_ERRORS):
        return TOO_LARGE if _is_overflow(err) else BAD_INPUT
    return None


def on_callback_error(err: Exception):
    from dash import set_props

    from models import db
    message = message_for(err)
    try:
        db.session.rollback()
    except Exception:   # noqa: BLE001 - the session is unusable; the next request gets a new one
        log.exception("rollback after a callback error failed")
    if message is None:
        raise err
    log.warning("callback refused its input (%s: %s)", type(err).__name__, str(err)[:300])
    set_props(APP_ALERT_ID, {"children": message, "is_open": True, "color": "warning"})
    return None


# -- the request body, before Dash reads it -----------------------------------------------------

def _finite(value, depth: int = 0) -> bool:
    if depth > 60:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v, depth + 1) for v in value)
    return True


_SCALAR = (str, int, float, bool, type(None))
# The JSON types a component property can carry, for the properties whose type does not depend on the
# component; a request with another type is refused before any callback sees it. ``value`` may be a
# scalar or a list of scalars (dropdowns, checklists), never an object.
PROP_TYPES: dict[str, tuple] = {
    "n_clicks": (int, type(None)), "n_submit": (int, type(None)), "n_blur": (int, type(None)),
    "is_open": (bool, type(None)), "checked": (bool, type(None)), "disabled": (bool, type(None)),
    "pathname": (str, type(None)), "search": (str, type(None)), "hash": (str, type(None)),
    "href": (str, type(None)), "contents": (str, type(None)), "filename": (str, type(None)),
    "active_tab": (str, type(None)), "date": (str, type(None)), "start_date": (str, type(None)),
    "end_date": (str, type(None)), "clickData": (dict, type(None)), "selectedData": (dict, type(None)),
    "relayoutData": (dict, type(None)), "getRowsRequest": (dict, type(None)),
    "selectedRows": (list, type(None)), "cellValueChanged": (list, dict, type(None)),
    "cellClicked": (dict, type(None)), "rowData": (list, type(None)),
}


def _value_ok(prop: str, value) -> bool:
    if prop == "value":
        return isinstance(value, _SCALAR) or (isinstance(value, list) and all(isinstance(v, _SCALAR) for v in value))
    wanted = PROP_TYPES.get(prop)
    if wanted is None:
        return True
    if bool not in wanted and isinstance(value, bool):   # JSON true is not a click count
        return False
    return isinstance(value, wanted)


def _entries_ok(entries) -> bool:
    if not isinstance(entries, list):
        return False
    for entry in entries:
        items = entry if isinstance(entry, list) else [entry]   # pattern-matching inputs are lists
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("property"), str) \
                    or not isinstance(item.get("id"), (str, dict)):
                return False
            if "value" in item and not _value_ok(item["property"], item["value"]):
                return False
    return True


def check_callback_body(dash_app) -> None:
    """400 for a callback request Dash would choke on (before any callback runs)."""
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):
        abort(400)
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        abort(400)
    if body["output"] not in dash_app.callback_map:
        abort(400)
    if not _entries_ok(body.get("inputs", [])) or not _entries_ok(body.get("state", [])):
        abort(400)
    outputs = body.get("outputs", [])
    if not isinstance(outputs, (list, dict)):
        abort(400)
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        abort(400)
    if not _finite(body):
        abort(400)


def guard_dash_routes(server: Flask, dash_app) -> None:
    """Wrap Dash's own views: the callback route (body check; anything Dash itself raises while
    unpacking a forged request is a 400) and the component-suite route (404 for what it does not serve)."""
    from dashboard.security import DASH_DISPATCH_VIEW

    for endpoint, view in list(server.view_functions.items()):
        if endpoint == DASH_DISPATCH_VIEW or endpoint.endswith("_dash-update-component"):
            server.view_functions[endpoint] = _dispatch_guard(view, dash_app)
        elif "_dash-component-suites" in endpoint:
            server.view_functions[endpoint] = _suites_guard(view)


def _dispatch_guard(view, dash_app):
    @functools.wraps(view)   # keeps the name CSRFProtect exempts (dash.dash.dispatch)
    def guarded(*args, **kwargs):
        check_callback_body(dash_app)
        try:
            return view(*args, **kwargs)
        except (KeyError, TypeError, IndexError, AttributeError, ValueError) as err:
            # Raised by Dash unpacking the request (callbacks' own errors went to on_callback_error).
            log.warning("callback request refused (%s: %s)", type(err).__name__, str(err)[:300])
            abort(400)
    return guarded


def _suites_guard(view):
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Exception:   # noqa: BLE001 - an unregistered package or path: nothing to serve
            abort(404)
    return guarded
