"""Locust: people using Ledgerlens at once. Run by benchmarks/bench_load.py (which prepares the users,
starts gunicorn on 127.0.0.1 and checks the database afterwards); not meant to be run alone.

Each simulated person logs in as their own user (the login form, with its CSRF token), then, with 1-3 s
of thinking between steps, browses the spending explorer with changing filters (the three callbacks a
filter change costs the browser: the filter state, the charts and totals, the grid's first page),
edits a budget in the grid and reloads it, opens pages, and looks at the overview. Every callback is a
POST /_dash-update-component with JSON and a same-origin Origin header, as the browser sends it.

Every budget edit is appended to LOAD_EDIT_LOG (one JSON line: user, budget id, cents written, what the
app answered: saved, conflict or refused), so the database can be checked afterwards. Every request's
name, time and outcome go to LOAD_TIMINGS when the run ends.

Environment: LOAD_USERS (a JSON file: [{"email":..., "accounts": [ids]}, ...]), LOAD_PASSWORD,
LOAD_CATEGORIES (built-in category ids, comma-separated), LOAD_EDIT_LOG, LOAD_TIMINGS, and LOAD_THINK
("1,3": the seconds of thinking between steps; "0,0" finds the most the server can do).
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from datetime import date

from locust import HttpUser, between, events, task

USERS = json.loads(open(os.environ["LOAD_USERS"]).read())
PASSWORD = os.environ["LOAD_PASSWORD"]
CATEGORIES = [int(c) for c in os.environ["LOAD_CATEGORIES"].split(",")]
_edit_log = open(os.environ["LOAD_EDIT_LOG"], "a", buffering=1)
_next_user = itertools.count()
_timings: list[tuple[str, float, bool]] = []
_clock = {"start": None, "stop": None}

PRESETS = ["this_month", "last_month", "last_3_months", "last_6_months", "last_12_months", "ytd", "last_year"]
FILTER_OUTPUTS = [("spending-state", "data"), ("spending-preset", "value"), ("spending-dates", "start_date"),
                  ("spending-dates", "end_date"), ("spending-categories", "value"),
                  ("spending-filter-error", "children")]
VIEW_OUTPUTS = [("spending-totals", "children"), ("spending-by-category", "figure"),
                ("spending-over-time", "figure"), ("spending-comparison", "figure"), ("spending-payees", "figure"),
                ("spending-breadcrumb", "children"), ("spending-grid-summary", "children"),
                ("spending-download", "href")]
BUDGET_LOAD_OUTPUTS = [("budgets-grid", "rowData"), ("budgets-chart", "figure"), ("budgets-stats", "children"),
                       ("budgets-add-category", "options")]
BUDGET_WRITE_OUTPUTS = [("budgets-message", "children"), ("budgets-refresh", "data"),
                        ("budgets-add-amount", "value"), ("budgets-add-category", "value")]
OVERVIEW_OUTPUTS = [("overview-stats", "children"), ("overview-accounts", "children"),
                    ("overview-top-categories", "figure"), ("overview-cashflow", "figure")]


@events.test_start.add_listener
def _started(**_kwargs):
    _clock["start"] = time.time()


@events.request.add_listener
def _record(name, response_time, exception, **_kwargs):
    _timings.append((name, float(response_time), exception is None))


@events.test_stop.add_listener
def _stopped(**_kwargs):
    _clock["stop"] = time.time()
    with open(os.environ["LOAD_TIMINGS"], "w") as fh:
        json.dump({"start": _clock["start"], "stop": _clock["stop"], "requests": _timings}, fh)
    _edit_log.flush()


def _spec(items):
    return [{"id": i, "property": p, "value": v} for i, p, v in items]


_THINK = [float(x) for x in os.environ.get("LOAD_THINK", "1,3").split(",")]


class Person(HttpUser):
    wait_time = between(*_THINK)  # seconds of thinking between two steps (LOAD_THINK="min,max")

    def on_start(self):
        me = USERS[next(_next_user) % len(USERS)]
        self.email, self.accounts = me["email"], me["accounts"]
        self.sequence = 0
        self.state = {"preset": "last_3_months"}
        self.period = {"type": "monthly", "start": date.today().replace(day=1).isoformat()}
        form = self.client.get("/login", name="GET /login").text
        match = re.search(r'name="csrf_token" value="([^"]+)"', form)
        with self.client.post("/login", name="POST /login", allow_redirects=False, catch_response=True,
                              data={"email": self.email, "password": PASSWORD,
                                    "csrf_token": match.group(1) if match else ""}) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")
        self.page("/spending", "?preset=last_3_months")

    # -- the wire -------------------------------------------------------------------------------------

    def callback(self, name, outputs, inputs, state=(), changed=None):
        """POST one callback as the browser does; the decoded response, or None on a failure."""
        if len(outputs) == 1:  # a callback with one Output (not a list of one) is named without dots
            output, spec = f"{outputs[0][0]}.{outputs[0][1]}", {"id": outputs[0][0], "property": outputs[0][1]}
        else:
            output = ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
            spec = [{"id": i, "property": p} for i, p in outputs]
        payload = {
            "output": output, "outputs": spec, "inputs": inputs, "state": state,
            "changedPropIds": changed or [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        }
        with self.client.post("/_dash-update-component", json=payload, name=f"cb {name}", catch_response=True,
                              headers={"Origin": self.host, "Referer": f"{self.host}/"}) as response:
            if response.status_code == 204:  # PreventUpdate: nothing to change
                return {}
            if response.status_code != 200:
                response.failure(f"{name}: HTTP {response.status_code} {response.text[:200]}")
                return None
            try:
                return response.json()["response"]
            except (ValueError, KeyError):
                response.failure(f"{name}: not a callback answer")
                return None

    def page(self, path, search=""):
        """Navigating inside the app: Dash's page router callback renders the page's layout."""
        self.callback(f"page {path}", [("_pages_content", "children"), ("_pages_store", "data")],
                      _spec([("_pages_location", "pathname", path), ("_pages_location", "search", search)]))

    # -- what people do -------------------------------------------------------------------------------

    @task(6)
    def explore_spending(self):
        """One filter change: the filter state, then the charts and totals, then the grid's rows."""
        preset = random.choice(PRESETS)
        categories, text, low, high, flow = [], "", "", "", "spending"
        roll = random.random()
        if roll < 0.3:
            categories = [random.choice(CATEGORIES)]
        elif roll < 0.4:
            text = random.choice(["coffee", "market", "fuel", "amazon", "rent"])
        elif roll < 0.5:
            low, high = random.choice([("10", "100"), ("20", "200"), ("50", "")])
        elif roll < 0.6:
            flow = "income"
        accounts = random.sample(self.accounts, k=1) if self.accounts and random.random() < 0.2 else []
        inputs = _spec([
            ("spending-preset", "value", preset), ("spending-dates", "start_date", None),
            ("spending-dates", "end_date", None), ("spending-accounts", "value", accounts),
            ("spending-categories", "value", categories), ("spending-text", "value", text),
            ("spending-min", "value", low), ("spending-max", "value", high), ("spending-flow", "value", flow),
            ("spending-grain", "value", "auto"), ("spending-by-category", "clickData", None),
            ("spending-over-time", "clickData", None)]) + [[]]
        state = [[], {"id": "spending-state", "property": "data", "value": self.state}]
        body = self.callback("spending.filters", FILTER_OUTPUTS, inputs, state, changed=["spending-preset.value"])
        if not body:
            return
        self.state = body["spending-state"]["data"]
        self.callback("spending.views", VIEW_OUTPUTS, _spec([("spending-state", "data", self.state),
                                                             ("spending-cat-view", "value", "treemap")]))
        self.callback("spending.grid", [("spending-grid", "getRowsResponse")],
                      _spec([("spending-grid", "getRowsRequest",
                              {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}})]),
                      _spec([("spending-state", "data", self.state)]))

    @task(3)
    def edit_budget(self):
        """Type a new amount into a budget cell, then the grid reloads (as the page does)."""
        rows = self.load_budgets()
        if not rows:
            return
        row = random.choice(rows)
        cents = random.randint(5_000, 250_000)
        typed = f"{cents // 100:,}.{cents % 100:02d}"
        event = {"rowIndex": 0, "rowId": row["id"], "colId": "budgeted", "value": typed,
                 "oldValue": row["budgeted"], "data": {**row, "budgeted": typed}, "timestamp": int(time.time())}
        inputs = _spec([("budgets-grid", "cellValueChanged", [event]), ("budgets-add", "n_clicks", None),
                        ("budgets-add-amount", "n_submit", None), ("budgets-delete-confirm", "n_clicks", None),
                        ("budgets-copy", "n_clicks", None), ("budgets-fill", "n_clicks", None)])
        state = _spec([("budgets-period", "data", self.period), ("budgets-refresh", "data", 1),
                       ("budgets-add-category", "value", None), ("budgets-add-amount", "value", None),
                       ("budgets-pending-delete", "data", None)])
        self.sequence += 1
        record = {"email": self.email, "sequence": self.sequence, "budget_id": int(row["id"]), "cents": cents,
                  "version_seen": row["version"]}
        body = self.callback("budgets.write", BUDGET_WRITE_OUTPUTS, inputs, state,
                             changed=["budgets-grid.cellValueChanged"])
        if body is None:
            record["status"] = "failed"  # unknown outcome: the request itself failed
        else:
            message = json.dumps(body.get("budgets-message", {}).get("children"))
            # (A refusal says "... It is now $X.", so the conflict is recognised first.)
            if "changed this budget meanwhile" in message:
                record["status"] = "conflict"
            elif "budget-note-success" in message and "is now $" in message:
                record["status"] = "saved"
            else:
                record["status"] = "refused"
                record["message"] = message[:300]
        _edit_log.write(json.dumps(record) + "\n")
        if record["status"] == "saved":
            # Read-your-write through the (cached) read path: the reloaded grid must show the new amount.
            # (Another tab of the same user may have saved over it since: then the version is higher.)
            after = {r["id"]: r for r in self.load_budgets() or []}.get(row["id"])
            if after is not None:
                mine = row["version"] + 1
                stale = after["version"] < mine or (
                    after["version"] == mine and after["budgeted"] != f"{cents // 100}.{cents % 100:02d}")
                if stale:
                    events.request.fire(request_type="CHECK", name="stale read after a saved edit",
                                        response_time=0, response_length=0, context={},
                                        exception=AssertionError(f"{row['id']}: shown {after}, saved {cents}"))

    def load_budgets(self):
        body = self.callback("budgets.load", BUDGET_LOAD_OUTPUTS,
                             _spec([("budgets-period", "data", self.period), ("budgets-refresh", "data", 0)]))
        return (body or {}).get("budgets-grid", {}).get("rowData")

    @task(1)
    def overview(self):
        self.page("/")
        self.callback("overview", OVERVIEW_OUTPUTS, _spec([("overview-load", "data", 0)]))
        self.callback("overview.goals", [("overview-goals", "children")], _spec([("overview-load", "data", 0)]))

    @task(1)
    def open_pages(self):
        self.page(random.choice(["/spending", "/budgets"]),
                  random.choice(["", "?preset=last_12_months", "?preset=last_month"]))
