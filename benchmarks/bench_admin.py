"""The budget and category writes and reads that read rows by category or budget, at 1M transactions:
since migration 0022 no index of transactions or expense lines carries category_id or budget_id (so
that a bulk category edit's row updates are HOT on PostgreSQL), and these go by the user's date index.

    python benchmarks/bench_admin.py [--rows 1000000] [--dataset uniform|varied] [--runs 3]

Every write is rolled back after it is timed (flushed, so that the database did the work, including
its foreign-key checks): the data set is left as it was. Uniform set (the demo's budgets): a budget's
own total, the Budgets grid of the current month, deleting one budget. Varied set (the user's own
three-level tree): the Categories page's usage counts, a merge's plan, deleting a category with its
rows moved to another one.

    bench admin.<case> db=... rows=... dataset=... median_ms=... runs=...
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

from common import bench_app, db_kind, profile_statements


def _timed(fn, runs: int, rollback) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        rollback()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dataset", choices=("uniform", "varied"), default="uniform")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", type=float, metavar="S", help="print every statement over S seconds")
    parser.add_argument("--only", help="only this case")
    args = parser.parse_args()
    app, user_id = bench_app(args.rows, dataset=args.dataset)
    if args.profile is not None:
        profile_statements(app, args.profile)
    from sqlalchemy import func, select

    from dashboard.services import budgets, categories
    from models import Budget, Category, Transaction, db

    cases = {}
    with app.app_context():
        session = db.session
        today = date.today()
        if args.dataset == "uniform":
            budget = session.scalar(select(Budget).where(Budget.user_id == user_id).order_by(Budget.start_date.desc()))
            period = budgets.parse_period("monthly", budget.start_date.strftime("%Y-%m"), today)
            cases["budget_spent"] = lambda: budgets.spent_in_budget(session, user_id, budget.id)
            cases["budget_grid_month"] = lambda: budgets.budget_frame(session, user_id, period, today)

            def delete_budget():
                budgets.delete_budget(session, user_id, budget.id)
                session.flush()
            cases["budget_delete"] = delete_budget
        else:
            used = session.execute(select(Transaction.category_id, func.count()).join(
                Category, Category.id == Transaction.category_id).where(
                Transaction.user_id == user_id, Category.user_id == user_id, Category.kind == "expense")
                .group_by(Transaction.category_id).order_by(func.count().desc())).all()
            source, target = used[len(used) // 2][0], used[0][0]
            cases["category_usage"] = lambda: categories.usage(session, user_id)
            cases["category_merge_plan"] = lambda: categories.merge_plan(session, user_id, source, target)

            def delete_category():
                version = session.get(Category, source).version
                categories.delete_category(session, user_id, source, expected_version=version, move_to=target)
                session.flush()
            cases["category_delete_moving_rows"] = delete_category

            def merge_category():
                version = session.get(Category, source).version
                categories.merge_categories(session, user_id, source, target, expected_version=version)
                session.flush()
            cases["category_merge_moving_rows"] = merge_category
        for name, fn in cases.items():
            if args.only and name != args.only:
                continue
            ms = _timed(fn, args.runs, session.rollback)
            print(f"bench admin.{name} db={db_kind()} rows={args.rows} dataset={args.dataset} "
                  f"median_ms={ms:.0f} runs={args.runs}", flush=True)


if __name__ == "__main__":
    main()
