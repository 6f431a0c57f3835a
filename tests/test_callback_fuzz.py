"""Issue 13 item 12: every input of every server callback, with values of the wrong type, never gets a
5xx and never changes a row. Reuses the authorization matrix's callback map and request plans
(tests/test_authz_matrix.py): user B sends each planned request with one slot replaced by a value
hypothesis draws from a zoo of wrong types (None, booleans, huge and negative numbers, 1e19, floats,
strings, lists, dicts, nested ones). Plus the odd requests the issue lists: JSON Infinity, an unknown
callback, ``?next=`` with CR/LF, an unregistered component suite, and concurrent "copy last period"."""
from __future__ import annotations

import copy
import json
import threading

import pytest
from conftest import csrf_token, login
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seed_people import whole_database
from test_authz_matrix import _name, _post, plan, server_callbacks, world  # noqa: F401  (fixture)

BY_KIND = {
    "scalar": st.one_of(st.just(-1), st.just(1e19), st.just(10**19), st.integers(min_value=-2**70, max_value=2**70),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12), st.just("")),
    "flag": st.booleans(),   # (None is not drawn: it is what every empty field sends, so it is valid)
    "list": st.one_of(st.just([1]), st.just([{"colId": 1, "value": [1], "data": 1}]),
                      st.lists(st.one_of(st.integers(), st.text(max_size=4), st.none()), max_size=3)),
    "dict": st.one_of(st.just({"startRow": 1e19, "endRow": -1, "sortModel": [1], "filterModel": [1]}),
                      st.just({"a": {"b": {"c": [None]}}}),
                      st.dictionaries(st.text(max_size=6), st.one_of(st.integers(), st.text(max_size=4), st.none()),
                                      max_size=3)),
}


def wrong_for(planned) -> st.SearchStrategy:
    """Values of every type class but the planned (valid) value's."""
    return st.one_of(*[strategy for kind, strategy in BY_KIND.items() if kind != _kind(planned)])


def _kind(value) -> str:
    """The JSON type class of a value; str and numbers count as one (number inputs send numbers, text
    inputs strings, and both are valid for the same slot), so do bool and None (an unset switch)."""
    if isinstance(value, (list, dict)):
        return type(value).__name__
    if isinstance(value, (bool, type(None))):
        return "flag"
    return "scalar"


COUNTERS = ("refresh", "reload", "tick", "counter", "load", "done")


def _is_counter(payload: dict, slot) -> bool:
    group, i, j = slot
    entry = payload[group][i] if j is None else payload[group][i][j]
    ident = entry["id"] if isinstance(entry["id"], str) else str(entry["id"].get("type", ""))
    return entry["property"] == "data" and ident.rsplit("-", 1)[-1] in COUNTERS


def _slots(payload: dict) -> list[tuple[str, int, int | None]]:
    """(group, index, sub-index for pattern-matching lists) of every value in a request."""
    out = []
    for group in ("inputs", "state"):
        for i, entry in enumerate(payload[group]):
            if isinstance(entry, list):
                out += [(group, i, j) for j in range(len(entry))]
            else:
                out.append((group, i, None))
    return out


def _with(payload: dict, slot, value) -> dict:
    changed = copy.deepcopy(payload)
    group, i, j = slot
    target = changed[group][i] if j is None else changed[group][i][j]
    target["value"] = value
    return changed


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_wrong_types_in_every_callback_input_never_5xx_nor_change_a_row(app, client, db_session, world, data):
    callbacks = server_callbacks(app)
    db_session.rollback()
    before = whole_database(db_session)
    if not getattr(client, "fuzz_logged_in", False):   # once per test: hypothesis reruns this body
        assert login(client, world.b.email).status_code == 302
        client.fuzz_logged_in = True
    problems = []

    def send(spec, forged, slot, value) -> None:
        try:
            response = _post(app, client, forged)
        except Exception as exc:   # noqa: BLE001 - TESTING propagates: a 500 in production
            problems.append(f"{_name(spec)} {slot}={value!r}: raised {type(exc).__name__}: {str(exc)[:200]}")
            return
        if response.status_code >= 500:
            problems.append(f"{_name(spec)} {slot}={value!r}: {response.status_code}")

    def changed_since(before) -> tuple[dict, list[str]]:
        db_session.rollback()
        after = whole_database(db_session)
        return after, [t for t in after if after[t] != before.get(t)]

    for key, spec in callbacks.items():
        if spec.get("callback") is None:
            continue
        with app.app_context(), app.test_request_context():
            payload = plan(key, spec, world)[0]
        batch = []   # the callback's non-counter slots: sent together, the database compared once after them
        for slot in _slots(payload):
            group, i, j = slot
            planned = (payload[group][i] if j is None else payload[group][i][j])["value"]
            # A value of another type class than the planned (valid) one: a wrong type.
            value = data.draw(wrong_for(planned), label=f"{_name(spec)} {slot}")
            forged = _with(payload, slot, value)
            forged["changedPropIds"] = payload["changedPropIds"]
            if not _is_counter(forged, slot):
                batch.append((forged, slot, value))
                continue
            send(spec, forged, slot, value)
            # A refresh counter only numbers the answer: a write it repeats was valid.
            before, _ = changed_since(before)
        for forged, slot, value in batch:
            send(spec, forged, slot, value)
        after, changed = changed_since(before)
        if changed:   # the message names every wrong value sent to this callback; one of them wrote
            problems.append(f"{_name(spec)}: the wrong values {[(sl, v) for _, sl, v in batch]!r} changed rows in {changed}")
        before = after
    assert not problems, "\n".join(problems)


# The 31 callback/field pairs of issue 13 item 12 that answered 500, by kind (id, property, value):
# a value outside the list, a non-integer counter, a grid event of the wrong shape, a list for a radio,
# an infinite-model request past any row, a sort model of numbers.
ISSUE_CASES = [
    ("import-map-delimiter", "value", "not one of the options"),
    ("import-map-delimiter", "value", ["|"]),
    ("goals-refresh", "data", 1.5),
    ("goals-refresh", "data", "x"),
    ("goals-grid", "cellValueChanged", [1]),
    ("import-rules-grid", "selectedRows", -1),
    ("accounts-range", "value", ["12", "24"]),
    ("transactions-grid", "getRowsRequest", {"startRow": 1e19, "endRow": 1e19 + 100, "sortModel": [], "filterModel": {}}),
    ("transactions-grid", "getRowsRequest", {"startRow": 0, "endRow": 100, "sortModel": [1], "filterModel": {}}),
    ("transactions-grid", "getRowsRequest", {"startRow": -5, "endRow": "x", "sortModel": [{"colId": 1, "sort": []}]}),
]


@pytest.mark.parametrize("ident, prop, value", ISSUE_CASES)
def test_the_issues_wrong_inputs_never_5xx_nor_change_a_row(app, client, db_session, world, ident, prop, value):
    """Every callback that reads (ident, prop), with that slot replaced, once per trigger."""
    db_session.rollback()
    before = whole_database(db_session)
    assert login(client, world.b.email).status_code == 302
    tried = 0
    for key, spec in server_callbacks(app).items():
        if spec.get("callback") is None:
            continue
        slots = [(group, i) for group in ("inputs", "state") for i, item in enumerate(spec[group])
                 if item["id"] == ident and item["property"] == prop]
        if not slots:
            continue
        with app.app_context(), app.test_request_context():
            payloads = plan(key, spec, world)
        for payload in payloads:
            for group, i in slots:
                forged = _with(payload, (group, i, None), value)
                response = _post(app, client, forged)
                tried += 1
                assert response.status_code < 500, (_name(spec), response.status_code)
                db_session.rollback()
                assert whole_database(db_session) == before, _name(spec)
    assert tried, f"no callback reads {ident}.{prop}"


def test_infinity_inside_a_pattern_matching_id_gets_400(app, client, db_session, world):
    assert login(client, world.b.email).status_code == 302
    for key, spec in server_callbacks(app).items():
        if spec.get("callback") is None:
            continue
        with app.app_context(), app.test_request_context():
            payload = plan(key, spec, world)[0]
        body = json.dumps(payload)
        if '"index": ' not in body:
            continue
        for forged in (body.replace('"index": ', '"index": Infinity, "was": ', 1),
                       body.replace('"index": ', '"index": NaN, "was": ', 1)):
            with app.app_context():
                response = client.post("/_dash-update-component", data=forged, content_type="application/json")
            assert response.status_code == 400, (_name(spec), response.status_code)
        return
    pytest.fail("no callback with a pattern-matching id")


def test_json_infinity_and_forged_bodies_get_400(app, client, db_session, world):
    assert login(client, world.b.email).status_code == 302
    key = next(k for k, s in server_callbacks(app).items() if s.get("callback") is not None)
    for body in ('{"output": "KEY", "inputs": [{"id": "x", "property": "value", "value": Infinity}], "state": []}',
                 '{"output": "nobody.children", "inputs": [], "state": []}', "[1]", '{"output": 1}', "not json",
                 '{"output": "KEY", "inputs": [1], "state": []}',
                 '{"output": "KEY", "inputs": [], "state": [], "changedPropIds": [1]}'):
        body = body.replace("KEY", key)
        with app.app_context():
            response = client.post("/_dash-update-component", data=body, content_type="application/json")
        assert response.status_code == 400, body


def test_next_with_cr_lf_and_unregistered_component_suites(app, client, db_session, world):
    with app.app_context():
        response = client.post("/login?next=/%0d%0aSet-Cookie:%20x=1", data={
            "email": world.b.email, "password": "correct horse battery staple", "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "x=1" not in response.headers.get("Set-Cookie", "")
    for path in ("/_dash-component-suites/not_a_package/x.js", "/_dash-component-suites/os/x",
                 "/_dash-component-suites/dash/../../etc/passwd"):
        with app.app_context():
            assert client.get(path).status_code == 404, path


def test_four_concurrent_copy_last_period_add_each_budget_once(app, client, db_session, world):
    """Four "copy last period" at once: each of last period's budgets is copied once; the requests that
    lose the race get a message (200), none a 500."""
    from models import Budget
    callbacks = server_callbacks(app)
    key, spec = next((k, s) for k, s in callbacks.items() if s.get("callback") is not None
                     and any(i["id"] == "budgets-copy" for i in s["inputs"]))
    assert login(client, world.b.email).status_code == 302
    with app.app_context(), app.test_request_context():
        payload = next(p for p in plan(key, spec, world) if p["changedPropIds"][0].startswith("budgets-copy"))
    cookie = client.get_cookie("session").value
    answers = []
    start = threading.Barrier(4)

    def copy_once():
        other = app.test_client()
        other.set_cookie("session", cookie)
        start.wait()
        try:
            with app.app_context():
                response = other.post("/_dash-update-component", data=json.dumps(payload),
                                      content_type="application/json")
            answers.append(response.status_code)
        except Exception as exc:   # noqa: BLE001
            answers.append(f"raised {type(exc).__name__}: {exc}")

    before = db_session.query(Budget).filter(Budget.user_id == world.b.user_id).count()
    threads = [threading.Thread(target=copy_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(a in (200, 204) for a in answers), answers
    db_session.rollback()
    rows = db_session.query(Budget.category_id, Budget.start_date).filter(Budget.user_id == world.b.user_id).all()
    assert len(rows) == len(set(rows)) and len(rows) >= before
