"""The spending page's callbacks, called as the browser (or an attacker) would: POST /_dash-update-component."""
from __future__ import annotations

import json

from conftest import login
from dash_client import call_callback
from test_spending_service import cats, world  # noqa: F401  (fixtures)

OUTPUTS = [("spending-state", "data"), ("spending-preset", "value"), ("spending-dates", "start_date"),
           ("spending-dates", "end_date"), ("spending-categories", "value"), ("spending-filter-error", "children"),
           ("spending-totals", "children"), ("spending-by-category", "figure"), ("spending-over-time", "figure"),
           ("spending-comparison", "figure"), ("spending-payees", "figure"), ("spending-breadcrumb", "children"),
           ("spending-grid-summary", "children"), ("spending-download", "href"), ("spending-grid-first", "data"),
           ("spending-address", "data")]
CONTROLS = ["preset", "dates.start_date", "dates.end_date", "accounts", "categories", "text", "min", "max",
            "flow", "grain", "tags"]
MARCH = {"preset": "custom", "from": "2026-03-01", "to": "2026-03-31"}


def update_call(client, values: dict | None = None, trigger: str = "spending-preset.value", *, category_click=None,
                time_click=None, view="treemap", state=None, error_shown=""):
    """The one server callback of the page, as the browser calls it after a change."""
    controls = {"preset": "custom", "dates.start_date": "2026-03-01", "dates.end_date": "2026-03-31",
                "accounts": [], "categories": [], "text": "", "min": "", "max": "", "flow": "spending",
                "grain": "auto", "tags": [], **(values or {})}
    inputs = []
    for key in CONTROLS:
        cid, _, prop = key.partition(".")
        inputs.append((f"spending-{cid}", prop or "value", controls[key]))
    inputs += [("spending-by-category", "clickData", category_click), ("spending-over-time", "clickData", time_click),
               ("spending-cat-view", "value", view)]
    return call_callback(client, OUTPUTS, inputs, [("spending-state", "data", state),
                                                   ("spending-filter-error", "children", error_shown)],
                         changed=[trigger] if trigger else [])


def views(client, state, view="treemap"):
    """The page drawn for a filter state (as on a first load of its link)."""
    state = dict(state)
    values = {"preset": state.get("preset", "this_month"), "dates.start_date": state.get("from"),
              "dates.end_date": state.get("to"), "accounts": state.get("accounts"),
              "categories": state.get("categories"), "text": state.get("q", ""), "flow": state.get("flow", "spending")}
    return update_call(client, values, trigger=None, view=view, state=state)


def test_anonymous_gets_401(client):
    status, _ = views(client, MARCH)
    assert status == 401


def test_views_render_the_users_spending(client, world):
    login(client, "alice@example.com")
    status, body = views(client, MARCH)
    assert status == 200
    assert body["spending-grid-summary"]["children"] == "6 rows · total $132.50"
    assert "from=2026-03-01" in body["spending-download"]["href"]
    treemap = body["spending-by-category"]["figure"]["data"][0]
    assert treemap["type"] == "treemap" and "Food" in treemap["labels"]
    status, body = views(client, MARCH, view="bars")
    assert body["spending-by-category"]["figure"]["data"][0]["type"] == "bar"


def test_forged_state_with_another_users_account_shows_nothing_of_theirs(client, world):
    login(client, "alice@example.com")
    forged = {**MARCH, "accounts": str(world["bob_account"].id)}
    status, body = views(client, forged)
    assert status == 200
    text = json.dumps(body)
    assert "999" not in text and "0 rows" in body["spending-grid-summary"]["children"]
    status, rows = call_callback(client, [("spending-grid", "getRowsResponse")],
                                 [("spending-grid", "getRowsRequest", {"startRow": 0, "endRow": 100})],
                                 [("spending-state", "data", forged)])
    assert status == 200 and rows["spending-grid"]["getRowsResponse"]["rowData"] == []
    # Garbage state is not an error: it falls back to the defaults.
    status, _ = views(client, {"accounts": "'; DROP TABLE users; --", "preset": ["x"]})
    assert status == 200


def test_grid_pages_and_ignores_unknown_sort_columns(client, world):
    login(client, "alice@example.com")
    request = {"startRow": 0, "endRow": 2, "sortModel": [{"colId": "amount_cents); DROP", "sort": "asc"},
                                                         {"colId": "amount_cents", "sort": "desc"}]}
    status, body = call_callback(client, [("spending-grid", "getRowsResponse")],
                                 [("spending-grid", "getRowsRequest", request)],
                                 [("spending-state", "data", MARCH)])
    assert status == 200
    response = body["spending-grid"]["getRowsResponse"]
    assert [r["amount_cents"] for r in response["rowData"]] == [6000, 4000]
    assert response["rowCount"] is None  # more rows follow


def filters_call(client, values: dict, trigger: str, *, category_click=None, time_click=None, view="treemap"):
    return update_call(client, values, trigger, category_click=category_click, time_click=time_click, view=view)


def test_bad_amount_filter_gets_a_message_and_no_state_change(client, world):
    login(client, "alice@example.com")
    status, body = filters_call(client, {"min": "abc"}, "spending-min.value")
    assert status == 200
    assert "not an amount" in body["spending-filter-error"]["children"]
    assert "spending-state" not in body


def test_clicks_drill_into_a_category_and_a_month(client, world, cats):
    login(client, "alice@example.com")
    status, body = filters_call(client, {}, "spending-by-category.clickData",
                                category_click={"points": [{"customdata": [cats["Food"], "x"]}]})
    assert status == 200
    assert body["spending-categories"]["value"] == [cats["Food"]]
    assert body["spending-state"]["data"]["categories"] == str(cats["Food"])
    status, body = filters_call(client, {"dates.start_date": "2026-01-01", "grain": "month"},
                                "spending-over-time.clickData",
                                time_click={"points": [{"customdata": ["2026-02-01", "$1"]}]})
    assert body["spending-state"]["data"]["from"] == "2026-02-01"
    assert body["spending-state"]["data"]["to"] == "2026-02-28"
    # A forged click payload is ignored, not an error.
    status, body = filters_call(client, {}, "spending-by-category.clickData",
                                category_click={"points": [{"customdata": {"evil": True}}]})
    assert status == 200 and "spending-categories" not in body   # the box already shows no category
    assert "categories" not in body["spending-state"]["data"]


def test_a_week_bar_never_zooms_outside_the_period(client, world):
    """March 2026 by week: the first bar is the week of Mon 23 Feb, which holds only 1 March of the
    period. Clicking it zooms to 1 March, not to 23 Feb - 1 Mar (which would add February's spending)."""
    login(client, "alice@example.com")
    status, body = filters_call(client, {"grain": "week"}, "spending-over-time.clickData",
                                time_click={"points": [{"customdata": ["2026-02-23", "$10.00"]}]})
    assert status == 200
    assert (body["spending-state"]["data"]["from"], body["spending-state"]["data"]["to"]) == ("2026-03-01", "2026-03-01")
    assert body["spending-grid-summary"]["children"] == "1 row · total $10.00"   # not the $1.00 of 28 Feb too
    # The last week (Mon 30 Mar - Sun 5 Apr) is cut at 31 March: April's rent stays out.
    status, body = filters_call(client, {"grain": "week"}, "spending-over-time.clickData",
                                time_click={"points": [{"customdata": ["2026-03-30", "$20.00"]}]})
    assert (body["spending-state"]["data"]["from"], body["spending-state"]["data"]["to"]) == ("2026-03-30", "2026-03-31")
    assert "$1,000" not in body["spending-grid-summary"]["children"]


def test_switching_the_chart_keeps_the_drill_and_redraws_only_that_chart(client, world, cats):
    """Toggling Bars once widened a drilled view back to all categories."""
    login(client, "alice@example.com")
    food = {"categories": [cats["Food"]]}
    state = {**MARCH, "categories": str(cats["Food"])}
    status, body = filters_call(client, food, "spending-cat-view.value", view="bars")
    status, body = update_call(client, food, "spending-cat-view.value", view="bars", state=state)
    assert status == 200
    assert "spending-state" not in body and "spending-address" not in body   # the filter state is unchanged
    bars = body["spending-by-category"]["figure"]["data"][0]
    assert bars["type"] == "bar" and sorted(bars["y"]) == ["Groceries", "Restaurants"]   # Food's children, not all categories
    # Nothing else is sent: the controls already show Food and March, the grid keeps its rows.
    assert set(body) == {"spending-by-category"}


def test_one_call_draws_every_view(client, world, cats):
    login(client, "alice@example.com")
    status, body = filters_call(client, {"categories": [cats["Food"]]}, "spending-categories.value")
    assert status == 200
    for output in ("spending-state", "spending-totals", "spending-by-category", "spending-over-time",
                   "spending-comparison", "spending-payees", "spending-breadcrumb", "spending-grid-summary",
                   "spending-download"):
        assert output in body
    assert body["spending-state"]["data"]["categories"] == str(cats["Food"])
    crumbs = json.dumps(body["spending-breadcrumb"]["children"])
    assert "All categories" in crumbs and "Food" in crumbs
    assert body["spending-grid-summary"]["children"] == "4 rows · total $85.00"


def test_tags_filter_narrows_the_explorer_and_another_users_tag_shows_nothing(client, world, db_session):
    from sqlalchemy import select

    from dashboard.services import tags as tag_service
    from models import Transaction, TransactionTag
    alice, bob = world["alice"].id, world["bob"].id
    costco = db_session.scalar(select(Transaction.id).where(Transaction.user_id == alice,
                                                            Transaction.payee == "Costco"))
    trip = tag_service.find_or_create(db_session, alice, "trip")
    theirs = tag_service.find_or_create(db_session, bob, "trip")
    db_session.add(TransactionTag(transaction_id=costco, tag_id=trip.id, user_id=alice))
    db_session.commit()
    login(client, "alice@example.com")
    status, body = update_call(client, {"tags": [trip.id]})
    assert status == 200
    assert body["spending-grid-summary"]["children"] == "2 rows · total $100.00"   # a split: its two lines
    assert f"tags={trip.id}" in body["spending-download"]["href"]
    assert body["spending-state"]["data"]["tags"] == str(trip.id)
    csv_text = client.get(body["spending-download"]["href"], buffered=True).get_data(as_text=True)   # the CSV follows it
    lines = csv_text.strip().splitlines()
    assert lines[0].endswith(",tags") and len(lines) == 3 and all(line.endswith(",trip") for line in lines[1:])
    status, body = update_call(client, {"tags": [theirs.id]})   # bob's tag: matches none of alice's rows
    assert status == 200 and body["spending-grid-summary"]["children"].startswith("0 rows")


def test_a_filter_change_brings_the_grids_first_block_in_the_same_answer(client, world, cats):
    """One round trip: the grid's first rows come with the charts, the same rows its own request gets."""
    login(client, "alice@example.com")
    food = {"categories": [cats["Food"]]}
    status, body = update_call(client, food, "spending-categories.value", state=MARCH)
    assert status == 200
    first = body["spending-grid-first"]["data"]
    assert (first["ledgerlensFirstBlock"], first["startRow"], first["endRow"], first["sortModel"]) == (
        "spending-grid", 0, 100, [{"colId": "date", "sort": "desc"}])
    state = body["spending-state"]["data"]
    request = {"startRow": 0, "endRow": 100, "sortModel": first["sortModel"]}
    status, rows = call_callback(client, [("spending-grid", "getRowsResponse")],
                                 [("spending-grid", "getRowsRequest", request)], [("spending-state", "data", state)])
    assert rows["spending-grid"]["getRowsResponse"] == {"rowData": first["rowData"], "rowCount": first["rowCount"]}
    assert first["rowCount"] == 4 and {r["category"] for r in first["rowData"]} <= {"Food", "Food › Groceries",
                                                                                  "Food › Restaurants"}
    dates = [r["date"] for r in first["rowData"]]
    assert dates == sorted(dates, reverse=True)


def test_only_what_changed_is_sent(client, world, cats):
    login(client, "alice@example.com")
    march_food = {**MARCH, "categories": str(cats["Food"])}
    food = {"categories": [cats["Food"]]}
    # Another period, the same drill: no new breadcrumb, the Categories box is left alone.
    status, body = update_call(client, {**food, "dates.start_date": "2026-02-01", "dates.end_date": "2026-02-28"},
                               "spending-dates.start_date", state=march_food)
    assert status == 200
    assert {"spending-breadcrumb", "spending-categories", "spending-filter-error"}.isdisjoint(body)
    assert {"spending-state", "spending-totals", "spending-by-category", "spending-over-time", "spending-comparison",
            "spending-payees", "spending-grid-summary", "spending-grid-first"} <= set(body)
    # Month or week: only the chart over time, and no new rows for the grid.
    status, body = update_call(client, {**food, "grain": "week"}, "spending-grain.value", state=march_food)
    assert set(body) == {"spending-state", "spending-over-time", "spending-address"}
    assert body["spending-state"]["data"]["grain"] == "week"
    assert body["spending-address"]["data"] == {"ledgerlensAddress": body["spending-state"]["data"]}
    assert "Spending by week" in json.dumps(body["spending-over-time"]["figure"]["layout"]["title"])
    # An error shown before is cleared once the filters are good again.
    status, body = update_call(client, food, "spending-min.value", state=march_food, error_shown="not an amount")
    assert body["spending-filter-error"]["children"] == ""


def test_the_speed_benchmark_posts_the_pages_callback_as_it_is(app, client):
    """benchmarks/bench_spending.py times the page's one callback by posting it as the browser does. It
    answered 400 for every case after the callback gained outputs and nobody noticed: its outputs and
    inputs must be the registered callback's, in order."""
    import sys
    from pathlib import Path

    from dash import _callback

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import bench_spending
    finally:
        sys.path.pop(0)
    client.get("/login")   # Dash moves the registered callbacks into the app's map on its first request
    dash_app = app.extensions["ledgerlens_dash"]
    key = ".." + "...".join(bench_spending.OUTPUTS) + ".."
    callbacks = {**_callback.GLOBAL_CALLBACK_MAP, **dash_app.callback_map}
    assert key in callbacks, f"no registered callback has the outputs {bench_spending.OUTPUTS}"
    from datetime import date
    inputs, state = bench_spending.update_payload({}, date(2026, 6, 15))   # bench_fx, bench_memory: the same
    assert [(i["id"], i["property"]) for i in inputs] == [(i["id"], i["property"]) for i in callbacks[key]["inputs"]]
    assert [(i["id"], i["property"]) for i in state] == [(i["id"], i["property"]) for i in callbacks[key]["state"]]


def test_a_search_without_matches_answers_an_empty_grid_without_reading_rows(client, world, cats, monkeypatch):
    """When the totals hold no row, the grid's first block is empty, and no page of rows is read for it
    (a search that matches nothing walked the whole period's rows for the first page)."""
    from dashboard.services import spending as svc
    login(client, "alice@example.com")
    pages = []
    original = svc.page_records
    monkeypatch.setattr(svc, "page_records", lambda *a, **k: pages.append(a) or original(*a, **k))
    status, body = update_call(client, {"categories": [cats["Food"]], "text": "no such payee"},
                               "spending-text.value", state=MARCH)
    assert status == 200
    first = body["spending-grid-first"]["data"]
    assert first["rowData"] == [] and first["rowCount"] == 0 and pages == []
    # The same page of the grid read by its own request is empty too: the shortcut says only what is so.
    request = {"startRow": 0, "endRow": 100, "sortModel": first["sortModel"]}
    status, rows = call_callback(client, [("spending-grid", "getRowsResponse")],
                                 [("spending-grid", "getRowsRequest", request)],
                                 [("spending-state", "data", body["spending-state"]["data"])])
    assert rows["spending-grid"]["getRowsResponse"] == {"rowData": [], "rowCount": 0}
    # A search that does match still reads its rows.
    status, body = update_call(client, {"categories": [cats["Food"]]}, "spending-categories.value", state=MARCH)
    assert body["spending-grid-first"]["data"]["rowCount"] == 4 and pages
