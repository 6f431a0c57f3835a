"""The spending page's callbacks, called as the browser (or an attacker) would: POST /_dash-update-component."""
from __future__ import annotations

import json

from conftest import login
from dash_client import call_callback
from test_spending_service import cats, world  # noqa: F401  (fixtures)

VIEWS = [("spending-totals", "children"), ("spending-by-category", "figure"), ("spending-over-time", "figure"),
         ("spending-comparison", "figure"), ("spending-payees", "figure"), ("spending-breadcrumb", "children"),
         ("spending-grid-summary", "children"), ("spending-download", "href")]
MARCH = {"preset": "custom", "from": "2026-03-01", "to": "2026-03-31"}


def views(client, state, view="treemap"):
    return call_callback(client, VIEWS, [("spending-state", "data", state), ("spending-cat-view", "value", view)])


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


FILTER_INPUTS = ["preset", "dates.start_date", "dates.end_date", "accounts", "categories", "text", "min", "max",
                 "flow", "grain"]


def filters_call(client, values: dict, trigger: str, *, category_click=None, time_click=None):
    defaults = {"preset": "custom", "dates.start_date": "2026-03-01", "dates.end_date": "2026-03-31",
                "accounts": [], "categories": [], "text": "", "min": "", "max": "", "flow": "spending",
                "grain": "auto"}
    defaults.update(values)
    inputs = []
    for key in FILTER_INPUTS:
        cid, _, prop = key.partition(".")
        inputs.append((f"spending-{cid}", prop or "value", defaults[key]))
    inputs += [("spending-by-category", "clickData", category_click), ("spending-over-time", "clickData", time_click)]
    outputs = [("spending-state", "data"), ("spending-preset", "value"), ("spending-dates", "start_date"),
               ("spending-dates", "end_date"), ("spending-categories", "value"), ("spending-filter-error", "children")]
    payload = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        # The breadcrumb buttons are a pattern-matching (ALL) input and state: empty lists here.
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs] + [[]],
        "state": [[], {"id": "spending-state", "property": "data", "value": {}}],
        "changedPropIds": [trigger],
    }
    response = client.post("/_dash-update-component", json=payload)
    body = json.loads(response.data)["response"] if response.status_code == 200 else None
    return response.status_code, body


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
    status, body = filters_call(client, {"preset": "last_3_months", "grain": "month"}, "spending-over-time.clickData",
                                time_click={"points": [{"customdata": ["2026-02-01", "$1"]}]})
    assert body["spending-state"]["data"]["from"] == "2026-02-01"
    assert body["spending-state"]["data"]["to"] == "2026-02-28"
    # A forged click payload is ignored, not an error.
    status, body = filters_call(client, {}, "spending-by-category.clickData",
                                category_click={"points": [{"customdata": {"evil": True}}]})
    assert status == 200 and body["spending-categories"]["value"] == []
