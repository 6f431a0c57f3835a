"""The Goals callbacks through POST /_dash-update-component, as the browser (or an attacker) sends them:
every id from the client is re-checked against the logged-in user, bad input comes back as a message
for its field, and the database is unchanged when a write is refused."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from conftest import login
from sqlalchemy import func, select

from dashboard.services import goals as svc
from dashboard.services.periods import add_months
from models import Goal, GoalContribution

NEXT_YEAR = add_months(date.today(), 12)


def _key(app, outputs: list[str]) -> str:
    """The callback map key of the callback with exactly these outputs (allow_duplicate adds @hashes).
    Before the app's first request Dash still holds ``@callback`` registrations in its global map."""
    from dash import _callback

    for key in [*app.extensions["ledgerlens_dash"].callback_map, *_callback.GLOBAL_CALLBACK_MAP]:
        body = key[2:-2] if key.startswith("..") else key
        if [part.split("@")[0] for part in body.split("...")] == outputs:
            return key
    raise KeyError(outputs)


def _prop(component_id, prop: str) -> str:
    if isinstance(component_id, dict):
        component_id = json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return f"{component_id}.{prop}"


def post(client, app, outputs: list[str], inputs: list, state: list = (), changed: list | None = None):
    """One callback request. ``inputs``/``state`` items are (id, prop, value), or a list of those for
    a pattern-matching (ALL) dependency. Returns (status, response dict)."""
    def dep(item):
        if isinstance(item, list):
            return [dep(i) for i in item]
        component_id, prop, value = item
        return {"id": component_id, "property": prop, "value": value}

    if changed is None:
        first = inputs[0][0] if isinstance(inputs[0], list) else inputs[0]
        changed = [_prop(first[0], first[1])]
    outs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in outputs]
    payload = {"output": _key(app, outputs), "outputs": outs if len(outs) > 1 else outs[0],
               "inputs": [dep(i) for i in inputs], "state": [dep(s) for s in state],
               "changedPropIds": changed}
    response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    body = json.loads(response.data)["response"] if response.status_code == 200 else None
    return response.status_code, body


def _value(body, component_id: str, prop: str):
    return (body or {}).get(component_id, {}).get(prop)


RENDER = ["goals-cards.children", "goals-summary.children", "goals-grid.rowData", "goals-grid.columnDefs"]
SAVE_FORM = ["goals-form-modal.is_open", "goals-form-errors.data", "goals-refresh.data", "goals-message.children"]
OPEN_FORM = ["goals-form-modal.is_open", "goals-form-title.children", "goals-form-goal.data",
             "goals-form-name.value", "goals-form-kind.value", "goals-form-target.value", "goals-form-date.value",
             "goals-form-account.options", "goals-form-account.value", "goals-form-currency.children",
             "goals-form-errors.data"]
SAVE_CONTRIB = ["goals-contrib-modal.is_open", "goals-contrib-errors.data", "goals-refresh.data",
                "goals-message.children"]
REMOVE_CONTRIB = ["goals-contrib-recent.children", "goals-contrib-errors.data", "goals-refresh.data"]
GRID_EDIT = ["goals-grid-message.children", "goals-refresh.data"]
CONFIRM_DELETE = ["goals-delete-modal.is_open", "goals-refresh.data", "goals-message.children"]


@pytest.fixture()
def people(db_session, make_user, make_account):
    """Alice (logged in by the tests) and Bob, each with a savings account and a goal."""
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    alice_savings = make_account(alice, "Savings", "savings", opening="500.00")
    bob_savings = make_account(bob, "Bob savings", "savings", opening="900.00")
    alice_goal = svc.create_goal(db_session, alice.id, name="Alice trip", target_amount="2000",
                                 target_date=NEXT_YEAR)
    bob_goal = svc.create_goal(db_session, bob.id, name="Bob secret", target_amount="5000", target_date=NEXT_YEAR)
    db_session.commit()
    svc.record_contribution(db_session, bob.id, bob_goal.id, amount="123.45", date=date.today())
    db_session.commit()
    return dict(alice=alice.id, bob=bob.id, alice_savings=alice_savings.id, bob_savings=bob_savings.id,
                alice_goal=alice_goal.id, bob_goal=bob_goal.id)


def _snapshot(session):
    session.rollback()
    goals = session.execute(select(Goal.id, Goal.name, Goal.target_amount, Goal.saved_amount, Goal.target_date,
                                   Goal.account_id, Goal.version).order_by(Goal.id)).all()
    contributions = session.scalar(select(func.count()).select_from(GoalContribution))
    return goals, contributions


def _save_form(client, app, editing=None, **fields):
    values = dict(name="Emergency fund", kind="savings", target="10,000", date=NEXT_YEAR.isoformat(),
                  account="none")
    values.update(fields)
    return post(client, app, SAVE_FORM, [("goals-form-save", "n_clicks", 1)], [
        ("goals-form-goal", "data", editing), ("goals-form-name", "value", values["name"]),
        ("goals-form-kind", "value", values["kind"]), ("goals-form-target", "value", values["target"]),
        ("goals-form-date", "value", values["date"]), ("goals-form-account", "value", values["account"]),
        ("goals-refresh", "data", 3)])


def test_anonymous_callers_get_401(client, app, people):
    status, _ = _save_form(client, app)
    assert status == 401


def test_render_shows_only_the_users_goals(client, app, db_session, people):
    login(client, "alice@example.com")
    status, body = post(client, app, RENDER, [("goals-refresh", "data", 0)])
    assert status == 200
    text = json.dumps(body)
    assert "Alice trip" in text and "Bob secret" not in text and "123.45" not in text
    rows = _value(body, "goals-grid", "rowData")
    assert [r["id"] for r in rows] == [str(people["alice_goal"])]
    assert rows[0]["target"] == "2000.00"
    # The gauge and the history of the card are there.
    assert f"goals-gauge-{people['alice_goal']}" in text and "indicator" in text


def test_new_goal_form_validates_and_writes_nothing_on_error(client, app, db_session, people):
    login(client, "alice@example.com")
    before = _snapshot(db_session)
    cases = [
        (dict(target="-5"), {"target": "The target must be more than zero."}),
        (dict(target="0"), {"target": "The target must be more than zero."}),
        (dict(target="ten"), {"target": "“ten” is not an amount. Use digits like 1,234.50."}),
        (dict(date="2020-01-01"), {"target_date": "The target date cannot be in the past."}),
        (dict(date=""), {"target_date": "Enter a target date."}),
        (dict(name=""), {"name": "This cannot be empty."}),
        (dict(kind="crypto"), {"kind": "Choose savings or debt payoff."}),
        (dict(account=str(people["bob_savings"])), {"account": "Unknown account."}),
        (dict(account="' OR 1=1 --"), {"account": "Unknown item."}),
        (dict(kind="debt", account=str(people["alice_savings"])),
         {"account": "A debt goal follows a credit card or loan account."}),
    ]
    for fields, errors in cases:
        status, body = _save_form(client, app, **fields)
        assert status == 200, fields
        assert _value(body, "goals-form-errors", "data") == errors, fields
        assert _value(body, "goals-form-modal", "is_open") is None      # stays open
        assert _snapshot(db_session) == before, fields

    status, body = _save_form(client, app, account=str(people["alice_savings"]))
    assert _value(body, "goals-form-modal", "is_open") is False
    assert _value(body, "goals-form-errors", "data") == {}
    assert _value(body, "goals-refresh", "data") == 4
    goal = db_session.scalar(select(Goal).where(Goal.name == "Emergency fund"))
    assert (goal.user_id, goal.target_amount, goal.account_id) == (people["alice"], Decimal("10000.00"),
                                                                   people["alice_savings"])


def test_edit_form_rechecks_the_goal_and_its_version(client, app, db_session, people):
    login(client, "alice@example.com")
    before = _snapshot(db_session)
    status, body = _save_form(client, app, editing={"id": people["bob_goal"], "version": 1}, name="Mine now")
    assert _value(body, "goals-form-errors", "data") == {"form": "Unknown goal."}
    status, body = _save_form(client, app, editing={"id": people["alice_goal"], "version": 0}, name="Stale")
    assert "changed this goal meanwhile" in _value(body, "goals-form-errors", "data")["form"]
    assert _snapshot(db_session) == before

    status, body = _save_form(client, app, editing={"id": people["alice_goal"], "version": 1}, name="Alice's trip",
                              target="2,500.50")
    assert _value(body, "goals-form-modal", "is_open") is False
    goal = db_session.get(Goal, people["alice_goal"])
    assert (goal.name, goal.target_amount, goal.version) == ("Alice's trip", Decimal("2500.50"), 2)


def _open_edit(client, app, index):
    edit_id = {"type": "goals-edit", "index": index}
    return post(client, app, OPEN_FORM, [
        ("goals-new", "n_clicks", 0), [(edit_id, "n_clicks", 1)], ("goals-form-cancel", "n_clicks", 0)],
        changed=[_prop(edit_id, "n_clicks")])


def test_opening_someone_elses_goal_shows_nothing(client, app, db_session, people):
    login(client, "alice@example.com")
    status, body = _open_edit(client, app, people["bob_goal"])
    assert status == 204 or _value(body, "goals-form-modal", "is_open") is None
    assert "Bob secret" not in json.dumps(body)
    status, body = _open_edit(client, app, people["alice_goal"])
    assert _value(body, "goals-form-modal", "is_open") is True
    assert _value(body, "goals-form-name", "value") == "Alice trip"
    assert _value(body, "goals-form-target", "value") == "2000.00"
    assert _value(body, "goals-form-goal", "data") == {"id": people["alice_goal"], "version": 1}
    labels = json.dumps(_value(body, "goals-form-account", "options"))
    assert "Savings" in labels and "Bob savings" not in labels


def _save_contribution(client, app, goal_id, amount="50", direction="add", day=None, note=""):
    return post(client, app, SAVE_CONTRIB, [("goals-contrib-save", "n_clicks", 1)], [
        ("goals-contrib-goal", "data", goal_id), ("goals-contrib-direction", "value", direction),
        ("goals-contrib-amount", "value", amount), ("goals-contrib-date", "value", day or date.today().isoformat()),
        ("goals-contrib-note", "value", note), ("goals-refresh", "data", 0)])


def test_contributions_through_the_form(client, app, db_session, people):
    login(client, "alice@example.com")
    before = _snapshot(db_session)
    status, body = _save_contribution(client, app, people["bob_goal"])
    assert _value(body, "goals-contrib-errors", "data") == {"form": "Unknown goal."}
    status, body = _save_contribution(client, app, people["alice_goal"], amount="-50")
    assert _value(body, "goals-contrib-errors", "data") == {"amount": "The amount cannot be negative."}
    status, body = _save_contribution(client, app, people["alice_goal"], amount="5", direction="withdraw")
    assert _value(body, "goals-contrib-errors", "data") == {"amount": "Only $0.00 is saved in this goal."}
    future = add_months(date.today(), 1).isoformat()
    status, body = _save_contribution(client, app, people["alice_goal"], day=future)
    assert _value(body, "goals-contrib-errors", "data") == {"date": "The date cannot be in the future."}
    assert _snapshot(db_session) == before

    status, body = _save_contribution(client, app, people["alice_goal"], amount="1,250.25", note="bonus")
    assert _value(body, "goals-contrib-modal", "is_open") is False
    assert "Recorded +$1,250.25." in json.dumps(body)
    assert db_session.get(Goal, people["alice_goal"]).saved_amount == Decimal("1250.25")

    # Removing a contribution: only one of the user's own.
    bob_contribution = db_session.scalar(select(GoalContribution.id).where(GoalContribution.user_id == people["bob"]))
    remove_id = {"type": "goals-contrib-remove", "index": bob_contribution}
    status, body = post(client, app, REMOVE_CONTRIB, [[(remove_id, "n_clicks", 1)]],
                        [("goals-contrib-goal", "data", people["alice_goal"]), ("goals-refresh", "data", 0)],
                        changed=[_prop(remove_id, "n_clicks")])
    assert _value(body, "goals-contrib-errors", "data") == {"form": "Unknown contribution."}
    assert db_session.get(Goal, people["bob_goal"]).saved_amount == Decimal("123.45")
    mine = db_session.scalar(select(GoalContribution.id).where(GoalContribution.user_id == people["alice"]))
    remove_id = {"type": "goals-contrib-remove", "index": mine}
    status, body = post(client, app, REMOVE_CONTRIB, [[(remove_id, "n_clicks", 1)]],
                        [("goals-contrib-goal", "data", people["alice_goal"]), ("goals-refresh", "data", 0)],
                        changed=[_prop(remove_id, "n_clicks")])
    assert _value(body, "goals-contrib-errors", "data") == {}
    db_session.rollback()
    assert db_session.get(Goal, people["alice_goal"]).saved_amount == Decimal("0.00")


def _grid_edit(client, app, goal_id, column, new_value, version=1, name="Alice trip"):
    # The shape dash-ag-grid 35 really sends (``value``, not the ``newValue`` of its prop types).
    change = {"rowIndex": 0, "rowId": str(goal_id), "colId": column, "oldValue": None, "value": new_value,
              "data": {"id": str(goal_id), "version": version, "name": name, column: new_value}}
    return post(client, app, GRID_EDIT, [("goals-grid", "cellValueChanged", [change])],
                [("goals-refresh", "data", 7)])


def test_inline_target_edit_validates_and_checks_owner_and_version(client, app, db_session, people):
    login(client, "alice@example.com")
    before = _snapshot(db_session)
    for goal_id, column, value, version, message in [
        (people["alice_goal"], "target", "-5", 1, "Alice trip, target: The target must be more than zero."),
        (people["alice_goal"], "target", "1.999", 1, "Alice trip, target: Use at most two decimals (cents)."),
        (people["alice_goal"], "target", None, 1, "Alice trip, target: Enter an amount."),
        (people["alice_goal"], "target_date", "2001-01-01", 1, "target date: The target date cannot be in the past."),
        (people["alice_goal"], "target", "3000", 0, "changed this goal meanwhile"),
        (people["bob_goal"], "target", "1", 1, "Unknown goal."),
        (people["alice_goal"], "saved_cents", 1, 1, "That column cannot be edited."),
    ]:
        status, body = _grid_edit(client, app, goal_id, column, value, version)
        assert status == 200
        assert message in json.dumps(_value(body, "goals-grid-message", "children"), ensure_ascii=False), message
        assert _value(body, "goals-refresh", "data") == 8   # the grid re-reads: the refused value goes back
        assert _snapshot(db_session) == before, message

    status, body = _grid_edit(client, app, people["alice_goal"], "target", "12,000")
    assert "Saved." in json.dumps(body)
    goal = db_session.get(Goal, people["alice_goal"])
    assert (goal.target_amount, goal.version) == (Decimal("12000.00"), 2)
    status, body = _grid_edit(client, app, people["alice_goal"], "target_date", NEXT_YEAR.replace(day=1).isoformat(),
                              version=2)
    db_session.rollback()
    assert db_session.get(Goal, people["alice_goal"]).target_date == NEXT_YEAR.replace(day=1)


def test_delete_rechecks_the_owner(client, app, db_session, people):
    login(client, "alice@example.com")
    status, body = post(client, app, CONFIRM_DELETE, [("goals-delete-confirm", "n_clicks", 1)],
                        [("goals-delete-goal", "data", {"id": people["bob_goal"], "version": 1}),
                         ("goals-refresh", "data", 0)])
    assert "Unknown goal." in json.dumps(body)
    assert db_session.get(Goal, people["bob_goal"]) is not None
    status, body = post(client, app, CONFIRM_DELETE, [("goals-delete-confirm", "n_clicks", 1)],
                        [("goals-delete-goal", "data", {"id": people["alice_goal"], "version": 1}),
                         ("goals-refresh", "data", 0)])
    assert "Goal deleted." in json.dumps(body)
    db_session.rollback()
    assert db_session.get(Goal, people["alice_goal"]) is None
    assert db_session.scalar(select(func.count()).select_from(GoalContribution)) == 1   # Bob's


def test_overview_summary_lists_the_users_goals(client, app, db_session, people):
    login(client, "alice@example.com")
    svc.record_contribution(db_session, people["alice"], people["alice_goal"], amount="500", date=date.today())
    db_session.commit()
    status, body = post(client, app, ["overview-goals.children"], [("overview-load", "data", 0)])
    assert status == 200
    text = json.dumps(body)
    assert "Alice trip" in text and "Bob secret" not in text
    assert "$500.00 saved of $2,000.00" in text
