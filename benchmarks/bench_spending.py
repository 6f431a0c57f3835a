"""Spending explorer benchmark: the server time of the whole update at 1,000,000 transactions.

    python benchmarks/bench_spending.py [--rows 1000000] [--runs 20] [--dataset uniform|varied]

Each case posts the one callback a filter change costs (the filter state, all charts, totals and the
grid's first block of rows at once) through the Flask test client, as the browser would, and times it. The
naive case loads the filtered rows into pandas and groups there, for comparison. Every case ends in one line:

    bench spending.<dataset>.<case> db=<sqlite|postgresql> rows=<n> median_ms=<n> p95_ms=<n> peak_rss_mb=<n>
"""
from __future__ import annotations

import argparse
import json
import os
from datetime import date

from common import DATASETS, bench_app, db_kind, measure, measure_cpu, peak_rss_mb

CASES = {
    # name: filter query (as the URL carries it)
    "last_12_months": {"preset": "last_12_months"},
    "this_month": {},
    "last_3_months_weekly": {"preset": "last_3_months"},
    "last_12_months_one_account": {"preset": "last_12_months", "accounts": "ACCOUNT"},
    "last_12_months_food": {"preset": "last_12_months", "categories": "FOOD"},
    "last_12_months_text_search": {"preset": "last_12_months", "q": "coffee"},
    "last_12_months_amount_range": {"preset": "last_12_months", "min": "20", "max": "200"},
    "custom_partial_months": {"preset": "custom", "from": "START", "to": "END"},
    "last_year_drilled_groceries": {"preset": "last_year", "categories": "GROCERIES"},
}

# The page's one callback per filter change (pages/spending.py: update): controls in, state, totals,
# every chart, the breadcrumb, the grid summary, the grid's first block and the address out.
OUTPUTS = ["spending-state.data", "spending-preset.value", "spending-dates.start_date", "spending-dates.end_date",
           "spending-categories.value", "spending-filter-error.children", "spending-totals.children",
           "spending-by-category.figure", "spending-over-time.figure", "spending-comparison.figure",
           "spending-payees.figure", "spending-breadcrumb.children", "spending-grid-summary.children",
           "spending-download.href", "spending-grid-first.data", "spending-address.data"]


def _inputs(state: dict, today: date) -> list[dict]:
    """The controls as the browser sends them when the filters are ``state`` (a URL query)."""
    from dashboard.services import spending as svc

    f = svc.parse_filters(state, today)
    values = [("spending-preset", "value", f.preset), ("spending-dates", "start_date", f.start.isoformat()),
              ("spending-dates", "end_date", f.end.isoformat()), ("spending-accounts", "value", list(f.account_ids)),
              ("spending-categories", "value", list(f.category_ids)), ("spending-text", "value", f.text),
              ("spending-min", "value", state.get("min", "")), ("spending-max", "value", state.get("max", "")),
              ("spending-flow", "value", f.flow), ("spending-grain", "value", f.grain),
              ("spending-tags", "value", list(f.tag_ids)),
              ("spending-by-category", "clickData", None), ("spending-over-time", "clickData", None),
              ("spending-cat-view", "value", "treemap")]
    return [{"id": i, "property": p, "value": v} for i, p, v in values]


def _post(client, output_ids, inputs, state=(), changed=()):
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in output_ids]
    payload = {"output": ".." + "...".join(output_ids) + ".." if len(output_ids) > 1 else output_ids[0],
               "outputs": outputs if len(output_ids) > 1 else outputs[0],
               "inputs": inputs, "state": list(state), "changedPropIds": list(changed)}
    response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 200, response.data[:300]
    return response


def update_payload(state: dict, today: date) -> tuple[list[dict], list[dict]]:
    """(inputs, state) of the page's one callback for the filters ``state``, as the browser sends them
    (bench_fx.py and bench_memory.py post the same; tests/test_spending_callbacks.py checks it against
    the registered callback)."""
    return _inputs(state, today), [{"id": "spending-state", "property": "data", "value": {}},
                                   {"id": "spending-filter-error", "property": "children", "value": None}]


def profile_update(app, update) -> None:
    """``update`` once more under cProfile (the 25 costliest calls), then its slowest eight SQL statements
    with their time and parameters (bench_fx.py --profile uses it too)."""
    import cProfile
    import pstats
    import time as clock

    from sqlalchemy import event

    from models import db

    slow = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["ll_started"] = clock.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        took = clock.perf_counter() - conn.info.pop("ll_started", clock.perf_counter())
        slow.append((took, " ".join(statement.split()), parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    profile = cProfile.Profile()
    profile.runcall(update)
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    # LEDGERLENS_PROFILE_SORT (cumulative, tottime, ...) and LEDGERLENS_PROFILE_LINES: what the table shows.
    pstats.Stats(profile).sort_stats(os.environ.get("LEDGERLENS_PROFILE_SORT", "cumulative")) \
        .print_stats(int(os.environ.get("LEDGERLENS_PROFILE_LINES", "25")))
    print(f"  {len(slow)} statements, {sum(t for t, _, _ in slow) * 1000:.1f} ms")
    for took, statement, parameters in sorted(slow, key=lambda x: x[0], reverse=True)[:8]:
        print(f"  {took * 1000:7.1f} ms  {statement[:400]}  {str(parameters)[:200]}")
    if os.environ.get("LEDGERLENS_PROFILE_SQL"):   # every statement whole, to EXPLAIN by hand
        with open(os.environ["LEDGERLENS_PROFILE_SQL"], "w") as out:
            for took, statement, parameters in slow:
                out.write(f"-- {took * 1000:.1f} ms\n{statement}\n-- {parameters!r}\n\n")


def _naive(app, user_id: int, query: dict, today: date) -> None:
    """The naive way: load the filtered rows into pandas and group there."""
    import pandas as pd
    from sqlalchemy import select

    from dashboard.services import spending as svc
    from models import Expense, Transaction, db

    filters = svc.parse_filters(query, today)
    with app.app_context():
        stmt = (select(Expense.date, Expense.account_id, Expense.category_id, Expense.amount, Transaction.payee)
                .join(Transaction, Transaction.id == Expense.transaction_id)
                .where(Expense.user_id == user_id, Expense.date >= filters.start, Expense.date <= filters.end))
        frame = pd.read_sql(stmt, db.session.connection())
        frame["amount"] = pd.to_numeric(frame["amount"])  # object dtype when the driver hands back Decimals
        frame["month"] = pd.to_datetime(frame["date"]).dt.to_period("M")
        frame.groupby(["month", "category_id"])["amount"].sum()
        frame.groupby("payee")["amount"].sum().astype("float64").nlargest(10)
        db.session.remove()


def _naive_in_child(app, user_id: int, query: dict, today: date, runs: int) -> float:
    """Measured in a child process, so its memory does not count against the real path's peak."""
    import multiprocessing

    from models import db

    with app.app_context():
        db.engine.dispose()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def child():
        median = float("nan")
        try:
            median, _ = measure(lambda: _naive(app, user_id, query, today), runs=max(3, runs // 4), warmup=1)
        finally:   # a failure must not leave the parent waiting for ever
            queue.put(median)

    process = ctx.Process(target=child)
    process.start()
    result = queue.get()
    process.join()
    return result


def case_states(app, user_id: int, dataset: str, today: date) -> dict[str, dict]:
    """Every case's filter query with the bench user's ids and today's dates put in."""
    from sqlalchemy import select

    from dashboard.services.periods import add_months
    from models import Account, Category, db

    with app.app_context():
        account = db.session.scalar(select(Account.id).where(Account.user_id == user_id).order_by(Account.id))
        # The uniform user has the built-in tree; the varied one its own (Food > Groceries > ...).
        owner = Category.user_id.is_(None) if dataset == "uniform" else Category.user_id == user_id
        food = db.session.scalar(select(Category.id).where(Category.name == "Food", owner))
        groceries = db.session.scalar(select(Category.id).where(Category.name == "Groceries", owner))
    replacements = {"ACCOUNT": str(account), "FOOD": str(food), "GROCERIES": str(groceries),
                    "START": add_months(today, -7).replace(day=10).isoformat(),
                    "END": add_months(today, -1).replace(day=20).isoformat()}
    return {name: {k: replacements.get(v, v) for k, v in query.items()} for name, query in CASES.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", default="", help="comma-separated case names (default: every case)")
    parser.add_argument("--dataset", choices=DATASETS, default="uniform",
                        help="uniform: the demo's volume mode; varied: benchmarks/varied.py (see common.bench_app)")
    parser.add_argument("--label", default="bench",
                        help="database file / schema prefix (common.bench_app): a branch with a migration uses its own")
    parser.add_argument("--profile", action="store_true",
                        help="after timing each case, run it once more under cProfile and print where the time went")
    args = parser.parse_args()

    app, user_id = bench_app(args.rows, args.dataset, label=args.label)
    from dashboard.demo_account import DEMO_PASSWORD

    today = date.today()
    states = case_states(app, user_id, args.dataset, today)

    client = app.test_client()
    import re
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "bench@ledgerlens.local", "password": DEMO_PASSWORD, "csrf_token": token})

    kind = db_kind()
    naive_ms = 0.0
    if not args.only:
        naive_ms = _naive_in_child(app, user_id, {"preset": "last_12_months"}, today, args.runs)
    for name in CASES:
        if args.only and name not in args.only.split(","):
            continue
        state = states[name]

        def update(state=state):
            # One request: the grid's first block comes in the same answer (spending-grid-first), the
            # browser's datasource answers the grid's first getRows from it.
            _post(client, OUTPUTS, *update_payload(state, today), changed=["spending-preset.value"])

        median, p95, cpu = measure_cpu(update, runs=args.runs)
        if args.profile:
            profile_update(app, update)
        extra = f" naive_median_ms={naive_ms:.0f}" if name == "last_12_months" and naive_ms else ""
        print(f"bench spending.{args.dataset}.{name} db={kind} rows={args.rows} median_ms={median:.0f} p95_ms={p95:.0f} "
              f"cpu_median_ms={cpu:.0f} load={os.getloadavg()[0]:.1f} peak_rss_mb={peak_rss_mb():.0f}{extra}", flush=True)


if __name__ == "__main__":
    main()
