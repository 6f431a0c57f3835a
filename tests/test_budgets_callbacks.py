"""The Budgets page's callbacks through the Flask test client, as the browser (or an attacker) calls them.

Forged payloads: extra columns in the row, a changed id, another user's id, a forged old value
("data_previous"), a forged version, columns that are not editable, junk instead of a change list.
Nothing changes that should not; everything that is refused says so.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import flask
import flask_login
import pytest
from conftest import login
from dash_client import call_callback
from sqlalchemy import func, select

from dashboard.services import budgets as svc
from dashboard.services.transactions import create_transaction
from models import Budget, Category, db

D = Decimal
PERIOD = {"type": "monthly", "start": "2025-03-01"}

WRITE_OUTPUTS = [("budgets-message", "children"), ("budgets-refresh", "data"),
                 ("budgets-add-amount", "value"), ("budgets-add-category", "value")]
LOAD_OUTPUTS = [("budgets-grid", "rowData"), ("budgets-chart", "figure"), ("budgets-stats", "children"),
                ("budgets-add-category", "options"), ("budgets-grid", "columnDefs")]


def _cat(session, name: str) -> Category:
    return session.scalar(select(Category).where(Category.name == name, Category.user_id.is_(None)))


def _stored(budget_id: int) -> tuple[Decimal, bool, int, int, int]:
    """(amount, rollover, version, user_id, category_id) read on a separate connection."""
    with db.engine.connect() as conn:
        return tuple(conn.execute(select(Budget.amount, Budget.rollover, Budget.version, Budget.user_id,
                                         Budget.category_id).where(Budget.id == budget_id)).one())


def write(client, *, trigger: str, changes=None, clicks=1, period=PERIOD, category=None, amount=None,
          pending=None, refresh=3):
    inputs = [("budgets-grid", "cellValueChanged", changes), ("budgets-add", "n_clicks", clicks),
              ("budgets-add-amount", "n_submit", None), ("budgets-delete-confirm", "n_clicks", clicks),
              ("budgets-copy", "n_clicks", clicks), ("budgets-fill", "n_clicks", clicks)]
    state = [("budgets-period", "data", period), ("budgets-refresh", "data", refresh),
             ("budgets-add-category", "value", category), ("budgets-add-amount", "value", amount),
             ("budgets-pending-delete", "data", pending)]
    return call_callback(client, WRITE_OUTPUTS, inputs, state, changed=[trigger])


def edit(client, changes):
    return write(client, trigger="budgets-grid.cellValueChanged", changes=changes)


def load(client, period=PERIOD, show_in="USD"):
    return call_callback(client, LOAD_OUTPUTS, [("budgets-period", "data", period),
                                                ("budgets-refresh", "data", 0),
                                                ("budgets-show-in", "value", show_in)])


def sign_in(client, user) -> None:
    """Open a session the way the login form does (dashboard.auth.start_session), without paying for an
    Argon2 check in every test; the login form itself is tested in test_app.py."""
    try:
        from dashboard.auth import start_session
    except ImportError:  # pragma: no cover - the login module changed: go through the form
        login(client, user.email)
        return
    with client.session_transaction() as cookie_session, client.application.test_request_context():
        start_session(user)
        cookie_session.update(flask.session)
        flask.g.pop("_login_user", None)  # the test's app context outlives this request: forget the user


def message(body) -> str:
    return json.dumps(body["budgets-message"]["children"], ensure_ascii=False)


def row(budget: Budget, **changes) -> dict:
    """A grid row as the page sends it, with changes applied (as AG Grid mutates its row)."""
    data = {"id": budget.id, "category": "Food › Groceries", "budgeted": f"{budget.amount:.2f}",
            "carried_cents": 0, "spent_cents": 0, "remaining_cents": 0, "pct_used": 0.0,
            "rollover": budget.rollover, "version": budget.version}
    data.update(changes)
    return data


def change(budget: Budget, value, *, column="budgeted", row_id=None, data=None, old=None):
    return {"rowIndex": 0, "rowId": str(budget.id if row_id is None else row_id), "colId": column,
            "value": value, "oldValue": old if old is not None else f"{budget.amount:.2f}",
            "data": data if data is not None else row(budget, **({column: value} if isinstance(column, str) else {})),
            "timestamp": 1}


@pytest.fixture()
def setup(client, db_session, make_user, make_account):
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    account = make_account(alice)
    groceries = svc.create_budget(db_session, alice.id, category_id=_cat(db_session, "Groceries").id,
                                  amount="500.00", start_date=date(2025, 3, 1))
    rent = svc.create_budget(db_session, alice.id, category_id=_cat(db_session, "Rent").id,
                             amount="1200.00", start_date=date(2025, 3, 1))
    bobs = svc.create_budget(db_session, bob.id, category_id=_cat(db_session, "Groceries").id,
                             amount="300.00", start_date=date(2025, 3, 1))
    create_transaction(db_session, alice.id, account_id=account.id, date=date(2025, 3, 5), amount=D("-120.50"),
                       kind="expense", category_id=_cat(db_session, "Groceries").id, payee="Market")
    db_session.commit()
    sign_in(client, alice)
    return {"alice": alice, "bob": bob, "groceries": groceries, "rent": rent, "bobs": bobs}


# -- reading ------------------------------------------------------------------------------------------

def test_load_shows_the_users_budgets_against_spending(client, setup):
    status, body = load(client)
    assert status == 200
    rows = body["budgets-grid"]["rowData"]
    assert [(r["category"], r["budgeted"], r["spent_cents"], r["remaining_cents"]) for r in rows] == [
        ("Food › Groceries", "500.00", 12050, 37950), ("Housing › Rent", "1200.00", 0, 120000)]
    assert {r["id"] for r in rows} == {str(setup["groceries"].id), str(setup["rent"].id)}
    figure = body["budgets-chart"]["figure"]
    assert [t["name"] for t in figure["data"]] == ["Budgeted", "Spent"]  # March 2025 is over: no pace
    stats = json.dumps(body["budgets-stats"]["children"])
    assert "$1,700.00" in stats and "$120.50" in stats and "$1,579.50" in stats
    options = [o["label"] for o in body["budgets-add-category"]["options"]]
    assert "Food" in options and "Food › Groceries" not in options


@pytest.mark.parametrize("period", [None, "x", [], {"type": "daily", "start": "nope"},
                                    {"type": {"$ne": 1}, "start": 5}])
def test_load_survives_a_forged_period(client, setup, period):
    status, body = load(client, period)
    assert status == 200
    assert isinstance(body["budgets-grid"]["rowData"], list)


def test_anonymous_callers_get_401(app, db_session):
    anonymous = app.test_client()
    assert load(anonymous)[0] == 401
    assert edit(anonymous, [])[0] == 401


# -- grid edits ---------------------------------------------------------------------------------------

def test_an_edit_is_saved_and_the_grid_rereads(client, setup):
    groceries = setup["groceries"]
    status, body = edit(client, [change(groceries, "1,234.50")])
    assert status == 200
    assert body["budgets-refresh"]["data"] == 4
    assert "Groceries is now $1,234.50." in message(body)
    assert _stored(groceries.id)[:3] == (D("1234.50"), False, 2)
    rows = load(client)[1]["budgets-grid"]["rowData"]
    assert rows[0]["budgeted"] == "1234.50" and rows[0]["version"] == 2


@pytest.mark.parametrize("typed", ["abc", "-5", "1e308", "NaN", "", "12.345", None, "1 2 3"])
def test_a_refused_edit_says_why_and_the_grid_shows_the_stored_value(client, setup, typed):
    groceries = setup["groceries"]
    status, body = edit(client, [change(groceries, typed)])
    assert status == 200
    assert "Groceries:" in message(body) and "It stays at $500.00." in message(body)
    assert body["budgets-refresh"]["data"] == 4  # the read callback runs and puts the cell back
    assert _stored(groceries.id)[:3] == (D("500.00"), False, 1)


def test_extra_columns_in_the_row_change_nothing_else(client, setup):
    groceries, bob = setup["groceries"], setup["bob"]
    forged = row(groceries, budgeted="42", user_id=bob.id, category_id=_cat(db.session, "Rent").id,
                 category="Housing › Rent", spent_cents=-99999, start_date="1999-01-01", amount="1000000",
                 period_type="yearly", end_date="2099-01-01", carried_cents=10**9, rollover=True)
    status, body = edit(client, [change(groceries, "42", data=forged)])
    assert status == 200
    amount, rollover, version, user_id, category_id = _stored(groceries.id)
    assert (amount, rollover, version) == (D("42.00"), False, 2)  # rollover in the row was not the edit
    assert (user_id, category_id) == (setup["alice"].id, _cat(db.session, "Groceries").id)
    budget = db.session.get(Budget, groceries.id)
    db.session.refresh(budget)
    assert (budget.start_date, budget.end_date, budget.period_type) == (date(2025, 3, 1), date(2025, 3, 31),
                                                                         "monthly")


@pytest.mark.parametrize("column", ["category", "spent_cents", "id", "version", "user_id", "remaining_cents",
                                    "delete", "amount", None])
def test_a_non_editable_column_is_refused(client, setup, column):
    groceries = setup["groceries"]
    status, body = edit(client, [change(groceries, "1", column=column, data=row(groceries))])
    assert status == 200
    assert "Only the budgeted amount" in message(body)
    assert _stored(groceries.id)[:3] == (D("500.00"), False, 1)


def test_another_users_budget_id_changes_nothing(client, setup):
    bobs = setup["bobs"]
    # The id in both rowId and the row: the budget exists but is not Alice's.
    status, body = edit(client, [change(bobs, "1", data=row(bobs, budgeted="1"))])
    assert status == 200 and "Unknown budget." in message(body)
    # A changed id: Alice's own row, with rowId swapped for Bob's.
    groceries = setup["groceries"]
    status, body = edit(client, [change(groceries, "2", row_id=bobs.id)])
    assert "Unknown budget." in message(body)
    # Both swapped, with Alice's version.
    status, body = edit(client, [change(groceries, "3", row_id=bobs.id, data=row(groceries, id=bobs.id))])
    assert "Unknown budget." in message(body)
    assert _stored(bobs.id)[:3] == (D("300.00"), False, 1)
    assert _stored(groceries.id)[:3] == (D("500.00"), False, 1)


def test_a_row_whose_id_disagrees_with_the_row_id_is_refused(client, setup):
    groceries, rent = setup["groceries"], setup["rent"]
    status, body = edit(client, [change(groceries, "9", data=row(groceries, id=rent.id, budgeted="9"))])
    assert "Unknown budget." in message(body)
    assert _stored(groceries.id)[0] == D("500.00") and _stored(rent.id)[0] == D("1200.00")


def test_two_tabs_the_later_stale_save_is_refused_and_the_fresh_value_shown(client, setup):
    groceries = setup["groceries"]
    tab_a = change(groceries, "600")
    tab_b = change(groceries, "700")  # read the same version 1
    assert "Groceries is now $600.00." in message(edit(client, [tab_a])[1])
    status, body = edit(client, [tab_b])
    assert status == 200
    assert "changed this budget meanwhile" in message(body) and "It is now $600.00." in message(body)
    assert _stored(groceries.id)[:3] == (D("600.00"), False, 2)
    assert load(client)[1]["budgets-grid"]["rowData"][0]["budgeted"] == "600.00"


def test_a_forged_old_value_does_not_get_past_the_version(client, setup):
    """``oldValue`` (the grid's "data_previous") is never trusted: the stored version decides."""
    groceries = setup["groceries"]
    edit(client, [change(groceries, "600")])
    # Claims to have seen 600, but carries version 1.
    forged = change(groceries, "700", old="600.00", data=row(groceries, budgeted="700", version=1))
    assert "changed this budget meanwhile" in message(edit(client, [forged])[1])
    forged = change(groceries, "700", old="anything at all", data=row(groceries, budgeted="700", version=2))
    assert "Groceries is now $700.00." in message(edit(client, [forged])[1])  # right version: the old value is irrelevant
    assert _stored(groceries.id)[:3] == (D("700.00"), False, 3)


@pytest.mark.parametrize("version", [None, "x", True, 99, -1, [1]])
def test_a_forged_version_is_refused(client, setup, version):
    groceries = setup["groceries"]
    status, body = edit(client, [change(groceries, "9", data=row(groceries, budgeted="9", version=version))])
    assert status == 200
    assert "meanwhile" in message(body) or "out of date" in message(body)
    assert _stored(groceries.id)[:3] == (D("500.00"), False, 1)


def test_a_newValue_key_is_read_as_well(client, setup):
    groceries = setup["groceries"]
    event = change(groceries, "650")
    event["newValue"] = event.pop("value")  # the key the dash-ag-grid docs name
    edit(client, [event])
    assert _stored(groceries.id)[0] == D("650.00")


def test_rollover_switch_and_several_changes_in_one_request(client, setup):
    groceries, rent = setup["groceries"], setup["rent"]
    status, body = edit(client, [change(groceries, True, column="rollover"), change(rent, "1,300"),
                                 change(rent, "abc")])
    assert status == 200
    text = message(body)
    assert "Groceries: budget $500.00, rollover on." in text and "Rent is now $1,300.00." in text
    assert "changed this budget meanwhile" in text  # the third one carried the version the second replaced
    assert _stored(groceries.id)[:3] == (D("500.00"), True, 2)
    assert _stored(rent.id)[:3] == (D("1300.00"), False, 2)


@pytest.mark.parametrize("changes", [{"colId": "budgeted"}, "budgeted", 5, [None], [[]], ["x"],
                                     [{"rowId": None}], [{}], [{"data": "x", "colId": "budgeted", "value": "1"}]])
def test_junk_instead_of_changes_is_answered_not_crashed(client, setup, changes):
    status, body = edit(client, changes)
    # A string or a number where the grid sends a list is refused at dispatch (400, dashboard/guard.py);
    # a list of junk reaches the callback, which answers it (200). Either way nothing changes.
    assert status == (400 if not isinstance(changes, (list, dict)) else 200)
    assert _stored(setup["groceries"].id)[:3] == (D("500.00"), False, 1)


def test_a_flood_of_changes_is_capped(client, setup):
    groceries = setup["groceries"]
    events = [change(groceries, str(i), data=row(groceries, budgeted=str(i), version=i)) for i in range(1, 80)]
    status, body = edit(client, events)
    assert status == 200 and "Only the first 50 changes" in message(body)
    assert _stored(groceries.id)[:3] == (D("50.00"), False, 51)


# -- add, delete, copy, fill --------------------------------------------------------------------------

def test_add_a_budget_from_the_form(client, setup):
    fuel = _cat(db.session, "Fuel").id
    status, body = write(client, trigger="budgets-add.n_clicks", category=str(fuel), amount="$160")
    assert status == 200 and "Added a $160.00 budget for Fuel." in message(body)
    assert body["budgets-add-amount"]["value"] == "" and body["budgets-add-category"]["value"] is None
    budget = db.session.scalar(select(Budget).where(Budget.user_id == setup["alice"].id, Budget.category_id == fuel))
    assert (budget.amount, budget.rollover, budget.start_date) == (D("160.00"), False, date(2025, 3, 1))
    # Refusals keep what was typed and say why.
    for category, amount, why in ((str(fuel), "5", "already has a budget"), (None, "5", "Choose a category"),
                                  (str(_cat(db.session, "Rent").id), "abc", "not an amount"),
                                  (str(_cat(db.session, "Salary").id), "5", "income category"),
                                  ("999999", "5", "Unknown category")):
        status, body = write(client, trigger="budgets-add.n_clicks", category=category, amount=amount)
        assert status == 200 and why in message(body)
        assert "budgets-add-amount" not in body  # left as typed
    count = db.session.scalar(select(func.count()).select_from(Budget).where(Budget.user_id == setup["alice"].id))
    assert count == 3


def test_delete_asks_first_and_only_deletes_the_users_own(client, setup):
    groceries, bobs = setup["groceries"], setup["bobs"]
    groceries_id = groceries.id   # the object is gone once the request deleted its row
    ask_outputs = [("budgets-delete-modal", "is_open"), ("budgets-delete-body", "children"),
                   ("budgets-pending-delete", "data")]
    ask_inputs = lambda click: [("budgets-grid", "cellClicked", click),  # noqa: E731
                                ("budgets-delete-cancel", "n_clicks", 0), ("budgets-delete-confirm", "n_clicks", 0)]
    status, body = call_callback(client, ask_outputs, ask_inputs({"colId": "delete", "rowId": str(groceries.id)}))
    assert status == 200 and body["budgets-delete-modal"]["is_open"] is True
    assert "Groceries" in json.dumps(body["budgets-delete-body"]["children"])
    # Clicking another column, or naming Bob's budget, asks nothing.
    assert call_callback(client, ask_outputs, ask_inputs({"colId": "budgeted", "rowId": str(groceries.id)}))[0] == 204
    assert call_callback(client, ask_outputs, ask_inputs({"colId": "delete", "rowId": str(bobs.id)}))[0] == 204
    # A forged pending id for Bob's budget deletes nothing.
    status, body = write(client, trigger="budgets-delete-confirm.n_clicks", pending=str(bobs.id))
    assert status == 200 and "no longer exists" in message(body)
    assert _stored(bobs.id)[0] == D("300.00")
    status, body = write(client, trigger="budgets-delete-confirm.n_clicks", pending=str(groceries.id))
    assert "Deleted the Groceries budget." in message(body)
    assert db.session.get(Budget, groceries_id) is None


def test_copy_last_period_and_fill_from_average(client, setup, db_session):
    alice = setup["alice"]
    april = {"type": "monthly", "start": "2025-04-01"}
    status, body = write(client, trigger="budgets-copy.n_clicks", period=april)
    assert "Copied 2 budgets from March 2025." in message(body)
    assert "Nothing to copy" in message(write(client, trigger="budgets-copy.n_clicks", period=april)[1])
    status, body = write(client, trigger="budgets-fill.n_clicks", period=april)
    # Only Groceries had spending (120.50 over Jan-Mar: 40.17 a month), and it already has an amount.
    assert status == 200 and "Nothing to fill" in message(body)
    may = {"type": "monthly", "start": "2025-05-01"}
    status, body = write(client, trigger="budgets-fill.n_clicks", period=may)
    assert "added 1 budget, filled 0" in message(body)
    budgets = db_session.execute(select(Budget.category_id, Budget.amount).where(
        Budget.user_id == alice.id, Budget.start_date == date(2025, 5, 1))).all()
    assert budgets == [(_cat(db_session, "Food").id, D("40.00"))]


# -- layout -------------------------------------------------------------------------------------------

def test_layout_is_a_skeleton_without_a_user_and_reads_the_period_from_the_url(app, setup):
    from dashboard.pages import budgets as page

    with app.test_request_context():
        skeleton = json.dumps(page.layout(), cls=plotly_json())
        assert "budgets-grid" not in skeleton  # nobody logged in: no grid, no data
    with app.test_request_context():
        flask_login.login_user(setup["alice"])
        tree = json.dumps(page.layout(type="weekly", period="2026-11-18"), cls=plotly_json())
        assert '"start": "2026-11-16"' in tree and "Nov 16\\u2009\\u2013\\u200922, 2026" in tree
        assert "/budgets?type=weekly&period=2026-11-09" in tree  # previous week
        assert "/budgets?type=weekly&period=2026-11-23" in tree  # next week
        assert "Copy last week" in tree and "average spending of the last 3 weeks" in tree
        assert "500" not in tree.replace("2026", "")  # no budget amounts in the skeleton
        tree = json.dumps(page.layout(type="bogus", period="<script>"), cls=plotly_json())
        assert '"type": "monthly"' in tree and "<script>" not in tree
        flask.g.pop("_login_user", None)


def plotly_json():
    from plotly.utils import PlotlyJSONEncoder
    return PlotlyJSONEncoder


def test_add_cannot_use_another_users_own_category(client, setup, db_session):
    bob = setup["bob"]
    secret = Category(user_id=bob.id, name="Bob's hobby", kind="expense")
    db_session.add(secret)
    db_session.commit()
    status, body = write(client, trigger="budgets-add.n_clicks", category=str(secret.id), amount="5")
    assert status == 200 and "Unknown category" in message(body)
    assert db_session.scalar(select(func.count()).select_from(Budget).where(Budget.category_id == secret.id)) == 0
    options = [o["value"] for o in load(client)[1]["budgets-add-category"]["options"]]
    assert str(secret.id) not in options


# -- shown in another currency (issue 17) -------------------------------------------------------------

def test_budgets_are_shown_in_a_currency_the_user_picks_at_the_periods_rate(client, setup, db_session):
    """1 EUR = 1.25 USD from 1 March 2025 (the period's end is 31 March): 500.00 USD -> 400.00 EUR,
    120.50 -> 96.40, left 403.60 -> 500 - 96.40 ... recomputed from the converted amounts: 303.60."""
    from dashboard.services import fx
    fx.set_rate(db_session, setup["alice"].id, day=date(2025, 3, 1), currency="USD", base="EUR", rate="1.25")
    db_session.commit()
    assert svc.display_currencies(db_session, setup["alice"].id) == ["USD", "EUR"]
    status, body = load(client, show_in="EUR")
    assert status == 200
    groceries = next(r for r in body["budgets-grid"]["rowData"] if r["id"] == str(setup["groceries"].id))
    assert (groceries["budgeted"], groceries["spent_cents"], groceries["remaining_cents"]) == ("400.00", 9640, 30360)
    columns = body["budgets-grid"]["columnDefs"]
    budgeted = next(c for c in columns if c.get("field") == "budgeted")
    assert budgeted["editable"] is False and "EUR" in budgeted["valueFormatter"]["function"]
    text = json.dumps(body["budgets-stats"]["children"], ensure_ascii=False)
    assert "Shown in EUR" in text and "1 USD = 0.8 EUR" in text
    # In the base currency: editable, unconverted.
    rows = load(client, show_in="USD")[1]["budgets-grid"]["rowData"]
    assert next(r for r in rows if r["id"] == str(setup["groceries"].id))["budgeted"] == "500.00"


def test_a_currency_without_a_rate_is_said_and_the_base_is_shown(client, setup):
    status, body = load(client, show_in="JPY")
    assert status == 200
    text = json.dumps(body["budgets-stats"]["children"], ensure_ascii=False)
    assert "Exchange rates missing" in text and "Shown in USD" in text
    groceries = next(r for r in body["budgets-grid"]["rowData"] if r["id"] == str(setup["groceries"].id))
    assert groceries["budgeted"] == "500.00"
