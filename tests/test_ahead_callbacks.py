"""The Recurring, Forecast and Cash flow callbacks and the Overview's upcoming list, through POST
/_dash-update-component: they answer for the logged-in user, write only after checking, and a refused
write leaves the database as it was."""
from __future__ import annotations

from datetime import date

import pytest
from ahead_data import history
from conftest import login
from seed_people import snapshot
from sqlalchemy import func, select
from test_goals_callbacks import _value, post

from dashboard.services import recurring as rec
from dashboard.services import scenarios as scen
from dashboard.services import schedules as sched
from models import DismissedRecurring, Scenario, Schedule

TODAY = date.today()
ACT = ["recurring-message.children", "recurring-refresh.data", "recurring-form-message.children",
       "recurring-form-suggestion.data", "recurring-form-schedule.data"]
FORM = ["recurring-form-suggestion", "recurring-form-schedule", "recurring-form-name", "recurring-form-payee", "recurring-form-kind",
        "recurring-form-amount", "recurring-form-account", "recurring-form-category", "recurring-form-cadence",
        "recurring-form-rrule", "recurring-form-start", "recurring-form-until", "recurring-form-tags"]
STORES = ("recurring-form-suggestion", "recurring-form-schedule")
FORECAST = ["forecast-chart.figure", "forecast-drivers.figure", "forecast-summary.children",
            "forecast-threshold-feedback.children"]
WRITE_SCENARIO = ["forecast-editor-message.children", "forecast-refresh.data", "forecast-edit-scenario.value"]


@pytest.fixture()
def alice(db_session, make_user, make_account, client):
    user = make_user("alice@example.com")
    account = make_account(user, opening="2500.00")
    history(db_session, user, account, today=TODAY, months=14)
    assert login(client, "alice@example.com").status_code == 302
    return {"id": user.id, "account": account.id}


def _act(client, app, trigger: str, index=None, form: dict | None = None):
    form = form or {}
    buttons = []
    for kind in ("confirm", "dismiss", "pause", "skip", "delete"):
        item = {"type": f"recurring-{kind}", "index": index if kind == trigger else "unused"}
        buttons.append([({**item}, "n_clicks", 1 if kind == trigger else 0)])
    inputs = [*buttons, ("recurring-form-save", "n_clicks", 1 if trigger == "save" else 0)]
    state = [(f, "data" if f in STORES else "value", form.get(f)) for f in FORM]
    state.append(("recurring-refresh", "data", 0))
    changed = ["recurring-form-save.n_clicks"] if trigger == "save" else None
    if trigger != "save":
        import json
        item = {"index": index, "type": f"recurring-{trigger}"}
        changed = [json.dumps(item, sort_keys=True, separators=(",", ":")) + ".n_clicks"]
    return post(client, app, ACT, inputs, state, changed=changed)


def test_recurring_page_lists_confirms_and_dismisses(app, client, db_session, alice):
    status, body = post(client, app, ["recurring-suggestions.children", "recurring-schedules.children",
                                      "recurring-subscriptions.children"], [("recurring-refresh", "data", 0)])
    assert status == 200
    assert "Netflix" in str(_value(body, "recurring-suggestions", "children"))
    keys = {s.payee_key: s.key for s in rec.find_recurring(db_session, alice["id"], TODAY)}
    status, body = _act(client, app, "confirm", keys["netflix"])
    assert status == 200 and "is now a schedule" in str(body)
    status, body = _act(client, app, "dismiss", keys["gym club"])
    assert status == 200 and "Dismissed" in str(body)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Schedule)) == 1
    assert db_session.scalar(select(DismissedRecurring.key)) == keys["gym club"]
    schedule_id = db_session.scalar(select(Schedule.id))
    status, body = _act(client, app, "skip", schedule_id)
    assert status == 200 and "Skipped the one on" in str(body)
    status, body = post(client, app, ["recurring-suggestions.children", "recurring-schedules.children",
                                      "recurring-subscriptions.children"], [("recurring-refresh", "data", 1)])
    assert "Gym Club" not in str(_value(body, "recurring-suggestions", "children"))
    subscriptions = str(_value(body, "recurring-subscriptions", "children"))
    assert "$15.49 → $17.99 since" in subscriptions   # Netflix's price change
    status, body = _act(client, app, "pause", schedule_id)
    assert "paused" in str(body)


def test_a_bad_schedule_is_refused_with_a_message_and_nothing_is_written(app, client, db_session, alice):
    before = snapshot(db_session, alice["id"])
    form = {"recurring-form-name": "Rent", "recurring-form-kind": "expense", "recurring-form-amount": "1e308",
            "recurring-form-account": alice["account"], "recurring-form-cadence": "monthly",
            "recurring-form-start": "2026-01-01"}
    status, body = _act(client, app, "save", form=form)
    assert status == 200 and "not an amount" in str(_value(body, "recurring-form-message", "children"))
    form.update({"recurring-form-amount": "1850", "recurring-form-start": "9999-01-01"})
    status, body = _act(client, app, "save", form=form)
    assert "between 1900 and 2199" in str(body)
    form.update({"recurring-form-start": "2026-01-01", "recurring-form-rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"})
    status, body = _act(client, app, "save", form=form)
    assert "never happens" in str(body)
    db_session.rollback()
    assert snapshot(db_session, alice["id"]) == before
    form.pop("recurring-form-rrule")
    status, body = _act(client, app, "save", form=form)
    assert "Saved “Rent”" in str(body)


def test_forecast_draws_the_band_and_scenarios(app, client, db_session, alice):
    rent = sched.create_schedule(db_session, alice["id"], name="Rent", kind="expense", amount="900",
                                 account_id=alice["account"], cadence="monthly", start_date="2026-01-01")
    scenario = scen.create_scenario(db_session, alice["id"], name="Move", items=[
        {"type": "change_schedule", "schedule_id": rent.id, "amount": "-1400"}])
    db_session.commit()
    inputs = [("forecast-account", "value", "all"), ("forecast-months", "value", 6),
              ("forecast-threshold", "value", "100"), ("forecast-scenario-a", "value", str(scenario.id)),
              ("forecast-scenario-b", "value", "none"), ("forecast-refresh", "data", 0)]
    status, body = post(client, app, FORECAST, inputs)
    assert status == 200
    names = [t.get("name") for t in _value(body, "forecast-chart", "figure")["data"]]
    assert "Forecast: median" in names and "Move: median" in names and "Move: 10–90 % band" in names
    assert "Move" in str(_value(body, "forecast-summary", "children"))
    inputs[2] = ("forecast-threshold", "value", "1e308")
    status, body = post(client, app, FORECAST, inputs)
    assert "not an amount" in str(_value(body, "forecast-threshold-feedback", "children"))


def test_scenarios_are_created_filled_and_bad_items_refused(app, client, db_session, alice):
    def write(trigger, **state):
        values = {"forecast-new-name": None, "forecast-edit-scenario": None, "forecast-item-type": "one_off",
                  "forecast-item-label": None, "forecast-item-amount": None, "forecast-item-date": None,
                  "forecast-item-cadence": "monthly", "forecast-item-schedule": None, "forecast-item-category": None}
        values.update(state)
        inputs = [("forecast-new-save", "n_clicks", 1 if trigger == "new" else 0),
                  ("forecast-item-save", "n_clicks", 1 if trigger == "add" else 0),
                  ("forecast-delete-save", "n_clicks", 1 if trigger == "delete" else 0), []]
        st = [(k, "value", v) for k, v in values.items()] + [("forecast-refresh", "data", 0)]
        changed = [{"new": "forecast-new-save", "add": "forecast-item-save",
                    "delete": "forecast-delete-save"}[trigger] + ".n_clicks"]
        return post(client, app, WRITE_SCENARIO, inputs, st, changed=changed)

    status, body = write("new", **{"forecast-new-name": "Sabbatical"})
    assert status == 200
    sid = _value(body, "forecast-edit-scenario", "value")
    status, body = write("add", **{"forecast-edit-scenario": sid, "forecast-item-label": "Trip",
                                   "forecast-item-amount": "-2500", "forecast-item-date": "2027-03-01"})
    assert "Added" in str(body)
    before = snapshot(db_session, alice["id"])
    status, body = write("add", **{"forecast-edit-scenario": sid, "forecast-item-amount": "-1",
                                   "forecast-item-date": "9999-03-01"})
    assert "between 1900 and 2199" in str(body)
    db_session.rollback()
    assert snapshot(db_session, alice["id"]) == before
    items = db_session.scalar(select(Scenario.items).where(Scenario.id == int(sid)))
    assert items == [{"type": "one_off", "label": "Trip", "amount": "-2500.00", "account_id": None,
                      "date": "2027-03-01"}]
    status, body = write("delete", **{"forecast-edit-scenario": sid})
    assert "deleted" in str(body)


def test_cashflow_and_why_and_upcoming_answer(app, client, db_session, alice):
    status, body = post(client, app, ["cashflow-sankey.figure", "cashflow-totals.children"],
                        [("cashflow-preset", "value", "last_12_months"), ("cashflow-drill-category", "value", "none")])
    assert status == 200
    assert _value(body, "cashflow-sankey", "figure")["data"][0]["type"] == "sankey"
    status, body = post(client, app, ["cashflow-why.figure", "cashflow-why-parts.children"],
                        [("cashflow-budget", "value", "12345"), ("cashflow-compare", "value", "previous")])
    assert status == 200 and "Unknown budget" in str(body)
    sched.create_schedule(db_session, alice["id"], name="Phone bill", kind="expense", amount="65",
                          account_id=alice["account"], cadence="weekly", start_date=TODAY.isoformat())
    db_session.commit()
    status, body = post(client, app, ["overview-upcoming.children"], [("overview-load", "data", 0)])
    assert status == 200 and "Phone bill" in str(body) and "Still to come" in str(body)


FILL = ["recurring-form-suggestion.data", "recurring-form-schedule.data", "recurring-form-title.children",
        *[f"{f}.value" for f in FORM if f not in STORES]]


def _fill(client, app, kind: str, index):
    import json
    inputs = [[({"type": "recurring-edit", "index": index if kind == "edit" else "unused"}, "n_clicks",
                1 if kind == "edit" else 0)],
              [({"type": "recurring-schedule-edit", "index": index if kind == "schedule-edit" else 0}, "n_clicks",
                1 if kind == "schedule-edit" else 0)],
              ("recurring-form-clear", "n_clicks", 1 if kind == "clear" else 0)]
    changed = (["recurring-form-clear.n_clicks"] if kind == "clear" else
               [json.dumps({"index": index, "type": f"recurring-{kind}"}, sort_keys=True, separators=(",", ":"))
                + ".n_clicks"])
    return post(client, app, FILL, inputs, [], changed=changed)


def test_a_schedule_is_edited_in_the_form_with_its_tags(app, client, db_session, alice, make_user, make_account):
    rent = sched.create_schedule(db_session, alice["id"], name="Rent", payee="Maple Court", kind="expense",
                                 amount="1850", account_id=alice["account"], cadence="monthly",
                                 start_date="2026-01-01", tags="home")
    db_session.commit()
    status, body = _fill(client, app, "schedule-edit", rent.id)
    assert status == 200
    target = _value(body, "recurring-form-schedule", "data")
    assert target == {"id": rent.id, "version": rent.version}
    assert _value(body, "recurring-form-title", "children") == "Edit “Rent”"
    assert _value(body, "recurring-form-tags", "value") == "home"
    assert _value(body, "recurring-form-amount", "value") == "1850.00"
    form = {"recurring-form-schedule": target, "recurring-form-name": "Rent", "recurring-form-payee": "Maple Court",
            "recurring-form-kind": "expense", "recurring-form-amount": "1900", "recurring-form-account": alice["account"],
            "recurring-form-rrule": "FREQ=MONTHLY;BYMONTHDAY=1", "recurring-form-start": "2026-01-01",
            "recurring-form-tags": "home, bills"}
    status, body = _act(client, app, "save", form=form)
    assert "Saved “Rent”" in str(body)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Schedule)) == 1
    assert str(db_session.get(Schedule, rent.id).amount) == "-1900.00"
    assert sched.tags_by_schedule(db_session, alice["id"]) == {rent.id: ["bills", "home"]}
    # The same form again carries the old version: refused, nothing changes.
    before = snapshot(db_session, alice["id"])
    status, body = _act(client, app, "save", form={**form, "recurring-form-amount": "5"})
    assert "changed this schedule meanwhile" in str(_value(body, "recurring-form-message", "children"))
    db_session.rollback()
    assert snapshot(db_session, alice["id"]) == before
    # Someone else's schedule cannot be opened or saved.
    bob = make_user("bob@example.com")
    theirs = sched.create_schedule(db_session, bob.id, name="Bob rent", kind="expense", amount="1",
                                   account_id=make_account(bob).id, cadence="monthly", start_date="2026-01-01")
    db_session.commit()
    status, body = _fill(client, app, "schedule-edit", theirs.id)
    assert "Bob rent" not in str(body) and _value(body, "recurring-form-schedule", "data") is None
    status, body = _act(client, app, "save", form={**form, "recurring-form-schedule": {"id": theirs.id, "version": 1}})
    assert "Unknown schedule" in str(body)
    db_session.rollback()
    assert db_session.get(Schedule, theirs.id).name == "Bob rent"
    status, body = _fill(client, app, "clear", None)
    assert _value(body, "recurring-form-title", "children") == "Add a schedule"


def test_scenario_items_are_described_with_the_apps_money_and_dates(app):
    from dashboard.pages.forecast import describe
    assert describe({"type": "one_off", "label": "Laptop", "date": "2027-03-01", "amount": "-1200.00"}, {},
                    "USD") == "Laptop: -$1,200.00 on Mar 1, 2027"
    assert describe({"type": "recurring", "label": "Car loan", "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
                     "start": "2027-01-01", "amount": "-420.00"}, {}, "USD") == \
        "Car loan: -$420.00 monthly on the 1st from Jan 1, 2027"
    assert describe({"type": "change_schedule", "schedule_id": 1, "amount": "-2200", "from": "2026-09-01"},
                    {1: "Rent"}, "EUR") == "“Rent” becomes -€2,200.00 from Sep 1, 2026"


def test_a_suggestion_fills_the_form_with_its_category(app, client, db_session, alice):
    """Edit on a suggestion whose payments have a category: the form's category is that category (one of
    the select's options, as the browser compares them: text), not blank."""
    from sqlalchemy import update

    from dashboard.pages.recurring import _options
    from dashboard.services.categories import category_frame
    from models import Transaction
    cats = category_frame(db_session, alice["id"])
    streaming = int(cats[cats["kind"] == "expense"]["id"].iloc[0])
    db_session.execute(update(Transaction).where(Transaction.user_id == alice["id"], Transaction.payee == "Netflix")
                       .values(category_id=streaming))
    db_session.commit()
    key = next(s.key for s in rec.find_recurring(db_session, alice["id"], TODAY) if s.payee == "Netflix")
    status, body = _fill(client, app, "edit", key)
    assert status == 200
    assert _value(body, "recurring-form-suggestion", "data") == key
    value = _value(body, "recurring-form-category", "value")
    with app.test_request_context():
        _accounts, options = _options(alice["id"])
    assert value == str(streaming) and value in {o["value"] for o in options}
    assert _value(body, "recurring-form-account", "value") == str(alice["account"])
