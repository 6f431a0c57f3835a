"""Looking ahead at 1,000,000 transactions: recurring detection, the forecast page's update, the Sankey and
"why a budget is off".

    python benchmarks/bench_ahead.py [--rows 1000000] [--runs 10]

The first run confirms every recurring payment found for the benchmark user as a schedule and saves two
scenarios (as benchmarks/ahead_demo.py does for the demo user). Callbacks are posted through the Flask
test client as the browser would, with the aggregate cache off: the numbers are what a new question
costs. Every case ends in one line:

    bench ahead.<case> db=<sqlite|postgresql> dataset=<uniform|varied> rows=<n> median_ms=<n> p95_ms=<n>
        cpu_ms=<n> peak_rss_mb=<n> load=<1-minute load average>
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import date

from common import bench_app, db_kind, measure_cpu, peak_rss_mb


def _say(text: str) -> None:
    """Progress on stderr (the `bench` lines alone go to stdout)."""
    print(text, file=sys.stderr, flush=True)


def _post(client, outputs: list[str], inputs: list[tuple[str, str, object]]):
    payload = {
        "output": ".." + "...".join(outputs) + ".." if len(outputs) > 1 else outputs[0],
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in outputs]
        if len(outputs) > 1 else {"id": outputs[0].split(".")[0], "property": outputs[0].split(".")[1]},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs], "state": [],
        "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"],
    }
    response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 200, response.data[:300]
    return response


def _food(session, user_id: int) -> int:
    """A top-level expense category of the user's (their own "Food..." in the varied set, else built-in)."""
    from sqlalchemy import or_, select

    from models import Category
    return session.scalar(select(Category.id).where(or_(Category.user_id == user_id, Category.user_id.is_(None)),
                                                    Category.parent_id.is_(None), Category.kind == "expense")
                          .order_by(Category.name.like("Food%").desc(), Category.user_id.is_(None), Category.id)
                          .limit(1))


def _setup(app, user_id: int, today: date) -> dict:
    from sqlalchemy import select

    from dashboard.services import recurring, scenarios
    from dashboard.services.periods import add_months, month_start
    from models import Account, Budget, Scenario, db
    with app.app_context():
        if not db.session.scalar(select(Scenario.id).where(Scenario.user_id == user_id)):
            # Each confirm runs the detection again (it re-finds the suggestion by its key): with a slow
            # detection this step alone once outlasted a locked run, which then ended before its first
            # line. It says what it does on stderr, so that a run cut short is never silent.
            started = time.perf_counter()
            confirmed = 0
            for suggestion in recurring.find_recurring(db.session, user_id, today):
                if suggestion.status == "suggested":
                    recurring.confirm(db.session, user_id, suggestion.key, today)
                    confirmed += 1
                    _say(f"setup: confirmed {suggestion.payee!r} ({time.perf_counter() - started:.1f} s)")
            food = _food(db.session, user_id)
            first = month_start(add_months(today, 1))
            scenarios.create_scenario(db.session, user_id, name="New car", items=[
                {"type": "one_off", "label": "Down payment", "date": first.isoformat(), "amount": "-6000"},
                {"type": "recurring", "label": "Car loan", "cadence": "monthly", "start": first.isoformat(),
                 "amount": "-420"}])
            scenarios.create_scenario(db.session, user_id, name="Eat in", items=[
                {"type": "budget", "category_id": food, "amount": "150"}])
            db.session.commit()
            _say(f"setup: {confirmed} schedules and two scenarios in {time.perf_counter() - started:.1f} s")
        ids = [str(i) for i in db.session.scalars(select(Scenario.id).where(Scenario.user_id == user_id)
                                                  .order_by(Scenario.id))]
        account = str(db.session.scalar(select(Account.id).where(Account.user_id == user_id).order_by(Account.id)))
        budget = db.session.scalar(select(Budget.id).where(Budget.user_id == user_id,
                                                           Budget.start_date == month_start(add_months(today, -1)))
                                   .order_by(Budget.id))
        food = _food(db.session, user_id)
    return {"scenarios": ids, "account": account, "budget": str(budget), "food": str(food)}


FORECAST = ["forecast-chart.figure", "forecast-drivers.figure", "forecast-summary.children",
            "forecast-threshold-feedback.children"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--dataset", choices=("uniform", "varied"), default="uniform")
    parser.add_argument("--label", default="ahead",
                        help="the benchmark writes schedules and scenarios: its own database (file/schema) name")
    args = parser.parse_args()

    app, user_id = bench_app(args.rows, dataset=args.dataset, label=args.label)
    today = date.today()
    ids = _setup(app, user_id, today)
    from dashboard.demo import DEMO_PASSWORD
    from dashboard.services import recurring
    from models import db

    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "bench@ledgerlens.local", "password": DEMO_PASSWORD, "csrf_token": token})
    kind = db_kind()

    def line(case: str, timing: tuple[float, float, float], extra: str = "") -> None:
        median, p95, cpu = timing
        load = open("/proc/loadavg").read().split()[0]
        print(f"bench ahead.{case} db={kind} dataset={args.dataset} rows={args.rows} median_ms={median:.0f} "
              f"p95_ms={p95:.0f} cpu_ms={cpu:.0f} peak_rss_mb={peak_rss_mb():.0f} load={load}{extra}", flush=True)

    def detect():
        with app.app_context():
            found = recurring.find_recurring(db.session, user_id, today)
            db.session.remove()
        return found

    _say("recurring detection: timing")
    found = detect()
    line("recurring_detection", measure_cpu(detect, runs=max(3, args.runs // 2), warmup=1), f" found={len(found)}")

    a, b = (ids["scenarios"] + ["none", "none"])[:2]
    cases = {
        "forecast_all_6m": ("all", 6, "0", "none", "none"),
        "forecast_all_12m_two_scenarios": ("all", 12, "5000", a, b),
        "forecast_one_account_12m": (ids["account"], 12, "0", "none", "none"),
        "forecast_one_account_3m_scenario": (ids["account"], 3, "0", a, "none"),
    }
    for case, (account, months, threshold, sa, sb) in cases.items():
        inputs = [("forecast-account", "value", account), ("forecast-months", "value", months),
                  ("forecast-threshold", "value", threshold), ("forecast-scenario-a", "value", sa),
                  ("forecast-scenario-b", "value", sb), ("forecast-refresh", "data", 0)]
        line(case, measure_cpu(lambda inputs=inputs: _post(client, FORECAST, inputs), runs=args.runs))

    for case, (preset, drill) in {"sankey_last_month": ("last_month", "none"),
                                  "sankey_last_12_months": ("last_12_months", "none"),
                                  "sankey_last_year_drilled": ("last_year", ids["food"])}.items():
        inputs = [("cashflow-preset", "value", preset), ("cashflow-drill-category", "value", drill)]
        line(case, measure_cpu(lambda inputs=inputs: _post(client, ["cashflow-sankey.figure",
                                                                     "cashflow-totals.children"], inputs),
                               runs=args.runs))

    for case, compare in {"why_budget_previous": "previous", "why_budget_average3": "average3"}.items():
        inputs = [("cashflow-budget", "value", ids["budget"]), ("cashflow-compare", "value", compare)]
        line(case, measure_cpu(lambda inputs=inputs: _post(client, ["cashflow-why.figure",
                                                                     "cashflow-why-parts.children"], inputs),
                               runs=args.runs))

    inputs = [("overview-load", "data", 0)]
    line("overview_upcoming", measure_cpu(lambda: _post(client, ["overview-upcoming.children"], inputs), runs=args.runs))


if __name__ == "__main__":
    main()
