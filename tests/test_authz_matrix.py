"""The authorization matrix, generated from the Dash app's callback map.

For every server callback the app has, a request is built from its declared inputs and state, the way
the browser would send it, but naming user A's ids wherever an id can go. Then:

(a) anonymous: every callback answers 401 and the database is unchanged;
(b) user B: every callback (once per input as the trigger) answers 200/204, nothing of A's (names,
    payees, amounts, email: unique marker strings) is in any answer, A's rows are unchanged, and none
    of B's rows ends up pointing at one of A's.

Values come from a generic rule (by property, or by the words in a component id: "...-account" gets A's
account id, "...-amount" an amount, ...) or from HINTS below. A callback with a slot that neither
covers fails test_every_callback_is_covered: a new callback must be thought about before it lands.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import pytest
from conftest import login
from seed_people import Seeded, foreign_links, seed_user_data, snapshot, whole_database

from dashboard.services.periods import add_months, month_start

MARK_A = "Zqx7Alpha"
MARK_B = "Wvk3Bravo"
B_AMOUNTS = {"opening": "271.50", "expense": "-33.10", "income": "905.00", "budget": "120.00",
             "contribution": "44.00", "card": "-77.70", "rate": "271.0303"}
PROBE_TEXT = "B probe text"
CSV_FILE = "Date,Amount,Payee\n{day},-12.34,B probe payee\n{day},56.78,B probe income\n"


@dataclass
class World:
    a: Seeded
    b: Seeded
    today: date
    # Pattern-matching ids the pages' layouts hold, by their "type" (e.g. the six split lines).
    layout_ids: dict[str, list[dict]] = field(default_factory=dict)

    def a_id(self, kind: str):
        return self.a.first(kind)


class Variants(list):
    """A hint that returns several values: the callback is called once with each."""


class Uncovered(Exception):
    pass


# -- generic values --------------------------------------------------------------------------------

# The words of a component id, read from the end ("transactions-add-account" -> "account"), say what
# kind of value it holds. Ids of user A's rows wherever a row id can go.
KIND_WORDS = {
    "account": "account", "accounts": "account", "category": "category", "categories": "category",
    "goal": "goal", "goals": "goal", "budget": "budget", "budgets": "budget", "contrib": "contribution",
    "contribution": "contribution", "transaction": "transaction", "transactions": "transaction",
    "rule": "rule", "rules": "rule", "expense": "expense",
    "schedule": "schedule", "schedules": "schedule", "scenario": "scenario", "scenarios": "scenario",
    "tag": "tag", "tags": "tag", "batch": "batch",
}
PLURAL = {"accounts", "categories", "goals", "budgets", "transactions", "rules", "schedules", "scenarios", "tags"}
AMOUNT_WORDS = {"amount", "target", "opening", "min", "max", "balance", "limit", "total"}
DATE_WORDS = {"date", "day", "start", "end", "from", "until"}
TEXT_WORDS = {"name", "payee", "description", "note", "notes", "memo", "text", "pattern", "search", "q",
              "label", "comment"}
BOOL_WORDS = {"archived", "rollover", "header", "invert", "show"}
COUNTER_WORDS = {"refresh", "reload", "version", "load", "done", "tick", "counter"}


def _words(component: str) -> list[str]:
    return list(reversed(component.split("-")))


def _by_words(component: str, world: World):
    for word in _words(component):
        if word in KIND_WORDS:
            value = world.a_id(KIND_WORDS[word])
            return [value] if word in PLURAL else value
        if word in AMOUNT_WORDS:
            return "12.34"
        if word in DATE_WORDS:
            return world.today.isoformat()
        if word in TEXT_WORDS:
            return PROBE_TEXT
        if word in BOOL_WORDS:
            return True
        if word in COUNTER_WORDS:
            return 1
        if word == "errors":
            return {"form": "probe"}
    raise Uncovered(f"{component}: no word in its id says what it holds")


def _row_kind(component: str) -> str:
    for word in _words(component):
        if word in KIND_WORDS:
            return KIND_WORDS[word]
    raise Uncovered(f"{component}: which kind of row does it hold?")


# Grid columns a cell edit may name; each change names one of A's rows (version 1, as A's rows have).
EDIT_COLUMNS = {"name": PROBE_TEXT, "payee": PROBE_TEXT, "description": PROBE_TEXT, "pattern": PROBE_TEXT,
                "amount": "1.00", "target": "1.00", "opening_balance": "1.00", "target_date": None,
                "date": None, "category": None, "category_id": None, "rollover": True, "archived": True,
                "type": "savings", "include": False}


def _cell_edits(component: str, world: World):
    row_id = world.a_id(_row_kind(component))
    changes = []
    for column, value in EDIT_COLUMNS.items():
        if column in ("date", "target_date"):
            value = add_months(world.today, 2).isoformat()
        elif column in ("category", "category_id"):
            value = world.a_id("category")
        row = {"id": row_id, "version": 1, "line": 1, column: value}
        changes.append({"rowIndex": 0, "rowId": str(row_id), "data": row, "colId": column,
                        "oldValue": None, "newValue": value, "value": value})
    return changes


def _grid_rows(component: str, world: World):
    row_id = world.a_id(_row_kind(component))
    return [{"id": row_id, "version": 1, "kind": "expense"}]


GENERIC_BY_PROPERTY = {
    "n_clicks": lambda c, w: 1,
    "n_submit": lambda c, w: 1,
    "n_clicks_timestamp": lambda c, w: 1,
    "n_intervals": lambda c, w: 1,
    "is_open": lambda c, w: True,
    "getRowsRequest": lambda c, w: {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}},
    "cellValueChanged": _cell_edits,
    "selectedRows": _grid_rows,
    "rowData": _grid_rows,
    "virtualRowData": _grid_rows,
    "cellClicked": lambda c, w: {"colId": "delete", "rowId": str(w.a_id(_row_kind(c))), "rowIndex": 0,
                                 "value": None},
    "clickData": lambda c, w: {"points": [{"customdata": [w.a_id("category")], "label": PROBE_TEXT,
                                           "x": w.today.isoformat(), "y": 1}]},
    "start_date": lambda c, w: add_months(w.today, -12).isoformat(),
    "end_date": lambda c, w: w.today.isoformat(),
    "date": lambda c, w: w.today.isoformat(),
    "filename": lambda c, w: "probe.csv",
    "value": _by_words,
    "data": _by_words,
}


# -- hints: slots where the generic values are not enough -------------------------------------------

def _period(world: World):
    return {"type": "monthly", "start": month_start(world.today).isoformat()}


def _filter_state(world: World):
    a = world.a
    return {"preset": "last_12_months", "accounts": str(a.first("account")), "categories": str(a.first("category")),
            "from": add_months(world.today, -12).isoformat(), "to": world.today.isoformat(), "flow": "spending",
            "grain": "month", "kind": "all", "q": ""}


def _page_paths(world: World):
    import dash
    return Variants(page["path"] for page in dash.page_registry.values())


def _page_query(world: World):
    a = world.a
    acc, cat, goal, tx = a.first("account"), a.first("category"), a.first("goal"), a.first("transaction")
    return (f"?accounts={acc}&account={acc}&categories={cat}&category={cat}&goal={goal}&id={tx}"
            f"&transaction={tx}&budget={a.first('budget')}&type=monthly&period={world.today:%Y-%m}"
            f"&a={a.ids.get('scenario', [0])[0]}&b={a.ids.get('scenario', [0])[0]}")


def _undo_token(world: World):
    """A genuine undo token, but minted for A's deleted transaction: B must not be able to replay it."""
    from dashboard.pages import transactions as page
    from dashboard.services.transactions import snapshot_transaction
    from models import db
    return page._undo_token(world.a.user_id, snapshot_transaction(db.session, world.a.user_id,
                                                                  world.a_id("transaction")))


def _import_file(world: World):
    import base64
    body = CSV_FILE.format(day=world.today.isoformat()).encode()
    return {"name": "probe.csv", "contents": "data:text/csv;base64," + base64.b64encode(body).decode(),
            "size": len(body)}


HINTS = {
    # spending
    ("spending-preset", "value"): lambda w: "last_12_months",
    ("spending-flow", "value"): lambda w: "spending",
    ("spending-grain", "value"): lambda w: "month",
    ("spending-cat-view", "value"): lambda w: "treemap",
    ("spending-state", "data"): _filter_state,
    ("spending-filter-error", "children"): lambda w: "",
    # transactions
    ("transactions-kind", "value"): lambda w: "all",
    ("transactions-state", "data"): _filter_state,
    ("transactions-undo-token", "data"): _undo_token,
    ("transactions-add-kind", "value"): lambda w: "expense",
    ("transactions-split-target", "data"): lambda w: {"id": w.a_id("transaction"), "version": 1,
                                                      "total_cents": 481793},
    # accounts
    ("accounts-range", "value"): lambda w: "12",
    ("accounts-form-type", "value"): lambda w: "checking",
    ("accounts-form-currency-code", "value"): lambda w: Variants(["EUR", None, "KWD"]),
    # budgets
    ("budgets-period", "data"): _period,
    ("budgets-pending-delete", "data"): lambda w: str(w.a_id("budget")),
    ("budgets-show-in", "value"): lambda w: Variants(["EUR", None, "KWD", "XX"]),   # a picked currency (issue 17)
    # goals
    ("goals-form-goal", "data"): lambda w: {"id": w.a_id("goal"), "version": 1},
    ("goals-form-kind", "value"): lambda w: "savings",
    ("goals-contrib-direction", "value"): lambda w: "withdraw",
    ("goals-delete-goal", "data"): lambda w: {"id": w.a_id("goal"), "version": 1},
    # import
    ("import-file", "data"): _import_file,
    ("import-map-date", "value"): lambda w: "Date",
    ("import-map-amount", "value"): lambda w: "Amount",
    ("import-map-payee", "value"): lambda w: "Payee",
    ("import-map-debit", "value"): lambda w: None,
    ("import-map-credit", "value"): lambda w: None,
    ("import-map-description", "value"): lambda w: None,
    ("import-map-category", "value"): lambda w: None,
    ("import-map-currency", "value"): lambda w: None,
    ("import-map-original_amount", "value"): lambda w: None,
    ("import-map-original_currency", "value"): lambda w: None,
    ("import-map-date-format", "value"): lambda w: "iso",
    ("import-map-decimal", "value"): lambda w: ".",
    ("import-map-delimiter", "value"): lambda w: ",",
    ("import-map-skip", "value"): lambda w: 0,
    ("import-map-mode", "value"): lambda w: "signed",
    ("import-map-header", "value"): lambda w: True,
    ("import-map-invert", "value"): lambda w: False,
    ("import-preview-id", "data"): lambda w: "probe-preview",
    ("import-decisions", "data"): lambda w: {"for": "probe-preview", "lines": {"1": True, "2": True}},
    ("import-rule-type", "value"): lambda w: "contains",
    # the preview grid's rows are lines of the uploaded file, not stored rows
    ("import-grid", "cellValueChanged"): lambda w: [{"rowIndex": 0, "rowId": "1", "colId": "include",
                                                     "data": {"line": 1, "include": False}, "value": False,
                                                     "oldValue": True, "newValue": False}],
    ("import-catmap", "value"): lambda w: w.a_id("category"),
    # transactions: bulk edit and the rule offer
    ("transactions-bulk-scope", "value"): lambda w: Variants(["selected", "filter"]),
    ("transactions-bulk-category", "value"): lambda w: w.a_id("category"),
    ("transactions-bulk-new-tags", "value"): lambda w: PROBE_TEXT,
    ("transactions-bulk-pending", "data"): lambda w: Variants([
        {"scope": "selected", "rows": [{"id": w.a_id("transaction"), "version": 1}], "category": w.a_id("category"),
         "tags": [w.a_id("tag")], "new_tags": "", "payee": PROBE_TEXT, "expected": 1},
        {"scope": "filter", "state": _filter_state(w), "rows": [], "category": "none", "tags": [],
         "new_tags": PROBE_TEXT, "payee": PROBE_TEXT, "expected": None}]),
    ("transactions-offer", "data"): lambda w: {"payee": PROBE_TEXT, "category_id": w.a_id("category"), "others": 1},
    # the navbar's theme toggle (a person's own preference; B's choice must not touch A)
    ("theme-choice", "data"): lambda w: Variants(["dark", "no-such-theme"]),
    # rules and payees
    ("rules-form-field", "value"): lambda w: Variants(["payee", "description"]),
    ("rules-form-match", "value"): lambda w: Variants(["contains", "regex"]),
    ("rules-form-new-tags", "value"): lambda w: PROBE_TEXT,
    ("rules-pending-rule", "data"): lambda w: {"rule": w.a_id("rule"), "expected": 1},
    ("rules-renamed", "data"): lambda w: {"old": f"{MARK_A} Payee", "new": PROBE_TEXT},
    ("rules-payee", "value"): lambda w: f"{MARK_A} Payee",
    ("first-run-seen", "data"): lambda w: Variants([True, None]),
    # categories
    ("categories-new-kind", "value"): lambda w: "expense",
    ("categories-merge-budgets", "value"): lambda w: "sum",
    ("categories-recolor-color", "value"): lambda w: "#123456",
    ("categories-pending-merge", "data"): lambda w: {"source": w.a.ids["category"][0],
                                                     "target": w.a.ids["category"][1], "version": 1},
    ("categories-pending-delete", "data"): lambda w: {"category": w.a_id("category"),
                                                      "move_to": w.a.ids["category"][1], "version": 1},
    # recurring
    ("recurring-form-kind", "value"): lambda w: "expense",
    ("recurring-form-cadence", "value"): lambda w: "monthly",
    ("recurring-form-rrule", "value"): lambda w: "FREQ=MONTHLY;BYMONTHDAY=1",
    ("recurring-form-suggestion", "data"): lambda w: Variants([None, _suggestion_key(w)]),
    # editing one of A's schedules: its id and version as the form keeps them
    ("recurring-form-schedule", "data"): lambda w: Variants([None, {"id": w.a_id("schedule"), "version": 1}]),
    ("recurring-form-tags", "value"): lambda w: "B probe tag",
    # forecast
    ("forecast-months", "value"): lambda w: 6,
    ("forecast-threshold", "value"): lambda w: Variants(["100.00", "1e308"]),
    ("forecast-item-type", "value"): lambda w: Variants(["one_off", "recurring", "remove_schedule",
                                                         "change_schedule", "budget"]),
    ("forecast-item-cadence", "value"): lambda w: "monthly",
    ("forecast-edit-scenario", "value"): lambda w: str(w.a_id("scenario")),
    # cash flow
    ("cashflow-preset", "value"): lambda w: "last_12_months",
    ("cashflow-compare", "value"): lambda w: Variants(["previous", "average3"]),
    ("cashflow-drill-category", "value"): lambda w: str(w.a_id("category")),
    ("cashflow-budget", "value"): lambda w: str(w.a_id("budget")),
    # exchange rates: B imports or enters B's own; A's rates must stay as they are
    ("rates-file", "contents"): lambda w: "data:text/csv;base64," + __import__("base64").b64encode(
        f"date,currency,rate\n{w.today.isoformat()},CHF,1.5\n".encode()).decode(),
    ("rates-currency", "value"): lambda w: Variants(["CHF", "usd", "XYZ"]),
    ("rates-base", "value"): lambda w: "EUR",
    ("rates-rate", "value"): lambda w: Variants(["1.0876", "-1"]),
    # Dash's own pages router: every page, with a query naming A's rows
    ("_pages_location", "pathname"): _page_paths,
    ("_pages_location", "search"): _page_query,
}

# Pattern-matching ids whose "index" is not the id of one of A's rows.
INDEX_HINTS = {
    "spending-crumb": lambda w: str(w.a_id("category")),
    "transactions-split-amount": lambda w: 0,
    "transactions-split-category": lambda w: 0,
    "transactions-split-memo": lambda w: 0,
    "import-catmap": lambda w: "Food:Alcohol",
    # recurring: suggestions are keyed by payee, sign and amount band (A's payee here); schedules by id
    "recurring-confirm": lambda w: _suggestion_key(w),
    "recurring-edit": lambda w: _suggestion_key(w),
    "recurring-dismiss": lambda w: _suggestion_key(w),
    "recurring-pause": lambda w: w.a_id("schedule"),
    "recurring-skip": lambda w: w.a_id("schedule"),
    "recurring-delete": lambda w: w.a_id("schedule"),
    "recurring-schedule-edit": lambda w: w.a_id("schedule"),
    "forecast-item-remove": lambda w: 0,   # the first item of the scenario named by forecast-edit-scenario
}


def _suggestion_key(world: World) -> str:
    from dashboard.services.recurring import suggestion_key
    return suggestion_key(f"{MARK_A} Payee".lower(), -1, None)

# Callbacks that never run on the server (clientside) are listed by the map with callback=None.


# -- building requests -----------------------------------------------------------------------------

def _slot_value(component: str, prop: str, world: World):
    if (component, prop) in HINTS:
        return HINTS[(component, prop)](world)
    if prop == "id":
        return None  # filled in with the concrete id by the caller
    generic = GENERIC_BY_PROPERTY.get(prop)
    if generic is None:
        raise Uncovered(f"{component}.{prop}")
    return generic(component, world)


def _pattern_index(kind_name: str, world: World):
    if kind_name in INDEX_HINTS:
        return INDEX_HINTS[kind_name](world)
    return world.a_id(_row_kind(kind_name))


def _concrete_ids(raw: str, world: World):
    """A callback-map id (a plain string, or JSON with wildcards) as (concrete ids, wildcard or None).

    An ALL wildcard stands for every matching component: those the pages' layouts hold, or (for
    components that callbacks add later, like a goal's Edit button) one naming A's row."""
    if not raw.startswith("{"):
        return [raw], None
    pattern = json.loads(raw)
    wildcard = next((v[0] for v in pattern.values()
                     if isinstance(v, list) and v and v[0] in ("ALL", "MATCH", "ALLSMALLER")), None)
    fixed = {k: v for k, v in pattern.items() if not (isinstance(v, list) and v and v[0] == wildcard)}
    in_layout = [i for i in world.layout_ids.get(pattern.get("type", ""), [])
                 if all(i.get(k) == v for k, v in fixed.items())]
    if in_layout and wildcard in ("ALL", "ALLSMALLER"):
        return in_layout, wildcard
    concrete = {key: (_pattern_index(pattern.get("type", ""), world) if key not in fixed else value)
                for key, value in pattern.items()}
    return [concrete], wildcard


def layout_pattern_ids(app, user_id: int) -> dict[str, list[dict]]:
    """Every dict id in every page's layout, rendered for the given user."""
    import dash
    from flask_login import login_user

    from models import User, db
    found: dict[str, list[dict]] = {}
    # A fresh app context: the request context would otherwise share flask.g (and the logged-in user
    # Flask-Login caches there) with the test's own app context and every test-client request in it.
    with app.app_context(), app.test_request_context():
        login_user(db.session.get(User, user_id))
        for page in dash.page_registry.values():
            layout = page["layout"]
            try:
                tree = layout() if callable(layout) else layout
            except Exception:  # a page that cannot render shows up in the matrix itself
                continue
            for component in [tree, *getattr(tree, "_traverse", lambda: [])()]:
                cid = getattr(component, "id", None)
                if isinstance(cid, dict) and "type" in cid and cid not in found.setdefault(cid["type"], []):
                    found[cid["type"]].append(cid)
    return found


def _prop_id(concrete, prop: str) -> str:
    from dash._utils import stringify_id
    return f"{stringify_id(concrete)}.{prop}"


def _entry(raw_id: str, prop: str, world: World):
    concretes, wildcard = _concrete_ids(raw_id, world)
    name = concretes[0]["type"] if isinstance(concretes[0], dict) else concretes[0]
    values = [c if prop == "id" else _slot_value(name, prop, world) for c in concretes]
    return concretes, wildcard, values


def _outputs(key: str, world: World):
    from dash._utils import split_callback_id
    parts = split_callback_id(key)
    parts = parts if isinstance(parts, list) else [parts]
    out = []
    for part in parts:
        concretes, wildcard = _concrete_ids(part["id"], world)
        items = [{"id": c, "property": part["property"]} for c in concretes]
        out.append(items if wildcard in ("ALL", "ALLSMALLER") else items[0])
    return out if key.startswith("..") else out[0]


def plan(key: str, spec: dict, world: World) -> list[dict]:
    """The request payloads for one callback: one per input as the trigger (and per hint variant).
    Raises Uncovered when a slot has no value."""
    entries = []
    for group in ("inputs", "state"):
        for item in spec[group]:
            entries.append((group, item["id"], item["property"], *_entry(item["id"], item["property"], world)))
    variant_count = max([len(v) for *_, values in entries for v in values if isinstance(v, Variants)] + [1])
    outputs = _outputs(key, world)
    payloads = []
    for variant in range(variant_count):
        body = {"output": key, "outputs": outputs, "inputs": [], "state": []}
        triggers = []
        for group, _raw, prop, concretes, wildcard, values in entries:
            items = [{"id": c, "property": prop,
                      "value": v[variant % len(v)] if isinstance(v, Variants) else v}
                     for c, v in zip(concretes, values)]
            body[group].append(items if wildcard in ("ALL", "ALLSMALLER") else items[0])
            if group == "inputs":
                triggers.append(_prop_id(concretes[0], prop))
        for trigger in triggers:
            payloads.append({**body, "changedPropIds": [trigger]})
    return payloads


def server_callbacks(app) -> dict:
    """The Dash app's callback map, after Dash moved every page's callbacks into it."""
    dash_app = app.extensions["ledgerlens_dash"]
    app.test_client().get("/healthz")  # the first request makes Dash set itself up
    return dash_app.callback_map


def _post(app, client, payload):
    # Its own app context, as in production: a fresh flask.g (Flask-Login reloads the user from the
    # session cookie) and a fresh database session (one request's failure cannot leak into the next).
    with app.app_context():
        return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture()
def world(app, db_session, make_user) -> World:
    alice = make_user(f"{MARK_A.lower()}@example.com", name=f"{MARK_A} Person")
    bob = make_user(f"{MARK_B.lower()}@example.com", name=f"{MARK_B} Person")
    a = seed_user_data(db_session, alice, MARK_A)
    a.secrets.append(f"{MARK_A} Person")
    b = seed_user_data(db_session, bob, MARK_B, amounts=B_AMOUNTS)
    return World(a, b, date.today(), layout_pattern_ids(app, bob.id))


# -- the tests -------------------------------------------------------------------------------------

def test_every_callback_is_covered(app, world):
    """Every server callback in the map gets a request for every slot; a new one without a generic
    value or a hint fails here, naming what to add to HINTS."""
    missing = []
    with app.app_context(), app.test_request_context():
        for key, spec in server_callbacks(app).items():
            if spec.get("callback") is None:
                continue  # clientside: nothing reaches the server
            try:
                assert plan(key, spec, world)
            except Uncovered as exc:
                missing.append(f"{_name(spec)}: no value for {exc}")
    assert not missing, "add HINTS for:\n" + "\n".join(missing)


def test_a_callback_nobody_covered_fails_the_plan(world):
    spec = {"inputs": [{"id": "reports-frobnicate", "property": "value"}], "state": []}
    with pytest.raises(Uncovered):
        plan("reports-out.children", spec, world)
    spec = {"inputs": [{"id": "reports-grid", "property": "someNewEvent"}], "state": []}
    with pytest.raises(Uncovered):
        plan("reports-out.children", spec, world)


def test_anonymous_gets_401_from_every_callback_and_changes_nothing(app, client, db_session, world):
    callbacks = server_callbacks(app)
    before = whole_database(db_session)
    wrong = []
    with app.app_context(), app.test_request_context():
        payloads = [(spec, p) for key, spec in callbacks.items() for p in _plan_or_empty(key, spec, world)]
    for spec, payload in payloads:
        response = _post(app, client, payload)
        if response.status_code != 401:
            wrong.append(f"{_name(spec)}: {response.status_code}")
    db_session.rollback()
    assert not wrong, wrong
    assert whole_database(db_session) == before
    assert len(callbacks) > 10


def test_user_b_gets_nothing_of_a_and_changes_nothing_of_a(app, client, db_session, world):
    callbacks = server_callbacks(app)
    a_before = snapshot(db_session, world.a.user_id)
    assert login(client, world.b.email).status_code == 302
    problems = []
    calls = 0
    for key, spec in callbacks.items():
        if spec.get("callback") is None:
            continue  # clientside: runs in the browser, never on the server
        with app.app_context(), app.test_request_context():
            payloads = plan(key, spec, world)
        for payload in payloads:
            name = f"{_name(spec)} (trigger {payload['changedPropIds'][0]})"
            calls += 1
            try:
                response = _post(app, client, payload)
            except Exception as exc:  # TESTING propagates a callback's exception: not a handled error
                problems.append(f"{name}: raised {type(exc).__name__}: {str(exc)[:300]}")
            else:
                if response.status_code not in (200, 204):
                    problems.append(f"{name}: status {response.status_code}")
                leaked = [s for s in world.a.secrets if s in response.get_data(as_text=True)]
                if leaked:
                    problems.append(f"{name}: answer holds A's {leaked}")
            db_session.rollback()
            if snapshot(db_session, world.a.user_id) != a_before:
                problems.append(f"{name}: changed A's rows")
                a_before = snapshot(db_session, world.a.user_id)
    # Nor did B attach anything of B's to A's rows (a budget on A's category, a goal on A's account...).
    problems += [f"B's row points at A's: {link}" for link in foreign_links(db_session, world.b.user_id)]
    assert not problems, "\n".join(problems)
    assert calls > 40


def _plan_or_empty(key, spec, world):
    try:
        return plan(key, spec, world)
    except Uncovered:
        # Anonymous requests are refused before any value is read; still send one.
        return [{"output": key, "outputs": [], "inputs": [], "state": [], "changedPropIds": []}]


def _name(spec) -> str:
    func = spec.get("callback")
    if func is None:
        return f"clientside callback -> {spec.get('output')}"
    func = getattr(func, "__wrapped__", func)
    return f"{func.__module__}.{func.__name__}"
