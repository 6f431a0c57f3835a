"""The spending explorer with accounts in three currencies against the same data in one (issue 17).

    python benchmarks/bench_fx.py [--rows 1000000] [--runs 10] [--only case,case] [--dataset uniform|varied]
                                  [--label fx]

Runs on its own copy of a data set (label "fx" unless --label says otherwise: benchmarks/data/fx-[varied-]<rows>.sqlite3, or schema
fx_[varied_]<rows> on PostgreSQL; built on first use like every benchmark set, or copied from a shared
bench-[varied-]<rows>.sqlite3 beforehand), because it changes the accounts' currencies and writes rates. Each
case of bench_spending.py is timed twice on the same rows, at the same load:

- one currency: every account in the user's currency (USD): the explorer's plain path;
- three currencies: the accounts in USD, EUR, GBP, EUR, USD, EUR, GBP, EUR (about three quarters of
  the rows in a currency other than the base), with ECB-style working-day rates (1 EUR = x USD, 1 EUR = y GBP: EUR converts by the
  inverse quote, GBP through the euro) for every day of the data.

    bench spending.<dataset>.fx1.<case> db=... median_ms=... cpu_median_ms=... load=...
    bench spending.<dataset>.fx3.<case> db=... median_ms=... cpu_median_ms=... load=... vs_one_currency=1.07
"""
from __future__ import annotations

import argparse
import math
import os
from datetime import date, timedelta

from bench_spending import CASES, OUTPUTS, _post, profile_update, update_payload
from common import DATASETS, bench_app, db_kind, measure_cpu

THREE = ("USD", "EUR", "GBP", "EUR")


def _set_currencies(app, user_id: int, three: bool) -> None:
    from sqlalchemy import delete, func, insert, select, update

    from models import Account, ExchangeRate, Transaction, db

    with app.app_context():
        ids = db.session.scalars(select(Account.id).where(Account.user_id == user_id).order_by(Account.id)).all()
        for i, account_id in enumerate(ids):
            currency = THREE[i % len(THREE)] if three else "USD"
            db.session.execute(update(Account).where(Account.id == account_id, Account.user_id == user_id)
                               .values(currency=currency))
        has_rates = db.session.scalar(select(func.count()).select_from(ExchangeRate)
                                      .where(ExchangeRate.user_id == user_id))
        if three and not has_rates:
            first, last = db.session.execute(select(func.min(Transaction.date), func.max(Transaction.date))
                                             .where(Transaction.user_id == user_id)).one()
            rows, day, i = [], first - timedelta(days=7), 0
            while day <= last + timedelta(days=400):
                if day.weekday() < 5:
                    usd = f"{1.08 + 0.04 * math.sin(i / 40):.4f}"
                    gbp = f"{0.86 + 0.02 * math.cos(i / 55):.5f}"
                    rows += [{"user_id": user_id, "day": day, "currency": "USD", "base": "EUR", "rate": usd},
                             {"user_id": user_id, "day": day, "currency": "GBP", "base": "EUR", "rate": gbp}]
                    i += 1
                day += timedelta(days=1)
            db.session.execute(insert(ExchangeRate), rows)
        if not three:
            db.session.execute(delete(ExchangeRate).where(ExchangeRate.user_id == user_id))
        db.session.commit()
        # The Core writes above pass no hook: rebuild the converted roll-ups as the app's writes do
        # (services/fx_rollup.py; with one currency this empties them).
        import time

        from dashboard.services import fx_rollup
        started = time.perf_counter()
        fx_rollup.refresh(db.session, user_id)
        db.session.commit()
        if three:
            print(f"  converted roll-ups rebuilt (every month) in {time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", default="", help="comma-separated case names (default: every case)")
    parser.add_argument("--dataset", choices=DATASETS, default="uniform")
    parser.add_argument("--label", default="fx", help="the data set's label: it writes, so never 'bench'")
    parser.add_argument("--profile", action="store_true",
                        help="after timing each three-currency case, profile one update: functions and statements")
    args = parser.parse_args()
    if args.label == "bench":
        parser.error("bench_fx.py changes the accounts' currencies: use a label of its own (fx)")

    app, user_id = bench_app(args.rows, args.dataset, label=args.label)
    import re

    from sqlalchemy import select

    from dashboard.demo_account import DEMO_PASSWORD
    from dashboard.services.periods import add_months
    from models import Account, Category, db

    with app.app_context():
        account = db.session.scalar(select(Account.id).where(Account.user_id == user_id).order_by(Account.id)
                                    .offset(1))   # the second account: EUR in the three-currency runs
        owner = Category.user_id.is_(None) if args.dataset == "uniform" else Category.user_id == user_id
        food = db.session.scalar(select(Category.id).where(Category.name == "Food", owner))
        groceries = db.session.scalar(select(Category.id).where(Category.name == "Groceries", owner))
    today = date.today()
    replacements = {"ACCOUNT": str(account), "FOOD": str(food), "GROCERIES": str(groceries),
                    "START": add_months(today, -7).replace(day=10).isoformat(),
                    "END": add_months(today, -1).replace(day=20).isoformat()}
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": "bench@ledgerlens.local", "password": DEMO_PASSWORD, "csrf_token": token})

    kind = db_kind()
    one: dict[str, float] = {}
    for label, three in (("fx1", False), ("fx3", True)):
        _set_currencies(app, user_id, three)
        for name, query in CASES.items():
            if args.only and name not in args.only.split(","):
                continue
            state = {k: replacements.get(v, v) for k, v in query.items()}

            def update(state=state):
                # One request, as the page sends it (the grid's first block comes in the same answer).
                _post(client, OUTPUTS, *update_payload(state, today), changed=["spending-preset.value"])

            median, p95, cpu = measure_cpu(update, runs=args.runs)
            if args.profile and three:
                profile_update(app, update)
            ratio = ""
            if three and name in one:
                ratio = f" vs_one_currency={median / one[name]:.2f}"
            else:
                one[name] = median
            print(f"bench spending.{args.dataset}.{label}.{name} db={kind} rows={args.rows} median_ms={median:.0f} "
                  f"p95_ms={p95:.0f} cpu_median_ms={cpu:.0f} load={os.getloadavg()[0]:.1f}{ratio}", flush=True)
    _set_currencies(app, user_id, False)


if __name__ == "__main__":
    main()
