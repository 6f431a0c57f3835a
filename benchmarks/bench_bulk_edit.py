"""Bulk edits at 1M transactions: "bulk set category on every row matching a filter" and "apply a rule
to existing transactions", each touching ~100,000 rows, then their undo; the roll-up is checked against
a recomputation from the raw rows after every run.

    python benchmarks/bench_bulk_edit.py --rows 1000000             # SQLite
    DATABASE_URL=postgresql://... python benchmarks/bench_bulk_edit.py --rows 1000000
    ... --dataset varied --label me     # the varied data; its own copy (label) of the shared database

``cpu_s`` is this process's CPU time: on SQLite the whole work, on PostgreSQL only the client's part.
``checkpoint_s`` (SQLite): the edit's WAL checkpoint, which the app runs after the response: not in
``median_s`` (the user's wait), but the worker's time.

Each timing is one whole user action: resolve the rows on the server, write the batch, update the
transactions, their expense lines and budgets, recompute the touched roll-up months, commit.
Prints ``bench bulk.<what> ...`` lines (see docs/benchmarks.md). Uses its own data (label bulkedit),
so it never changes another benchmark's database.
"""
from __future__ import annotations

import argparse
import statistics
import time

from common import DATA, DATASETS, bench_app, db_kind, profile_statements

TARGET = 100_000
UNDONE = {"bulk.undo_set_category": "bulk.set_category_filter", "bulk.undo_rule": "bulk.rule_apply_existing"}


def _copy_shared(rows: int, dataset: str, label: str) -> None:
    """SQLite: start from a copy of the shared built database (LEDGERLENS_BENCH_DATA) when there is
    one and this label has none yet; the shared file itself is never written."""
    if db_kind() != "sqlite":
        return
    import shutil
    import sqlite3
    suffix = f"varied-{rows}" if dataset == "varied" else f"{rows}"
    shared, own = DATA / f"bench-{suffix}.sqlite3", DATA / f"{label}-{suffix}.sqlite3"
    if own.exists() or not shared.exists():
        return
    source = sqlite3.connect(f"file:{shared}?mode=ro", uri=True)
    target = sqlite3.connect(own)
    source.backup(target)     # a consistent copy, WAL included
    target.close()
    source.close()
    shutil.copymode(shared, own)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print every statement over 0.1 s (or 0.03 s CPU)")
    parser.add_argument("--profile-min", type=float, default=0.1, help="--profile: the wall time shown (s)")
    parser.add_argument("--dataset", choices=DATASETS, default="uniform")
    parser.add_argument("--target", type=int, default=TARGET, help="rows each edit should touch")
    parser.add_argument("--label", default="bulkedit", help="its own database (it writes): files/schemas <label>-...")
    args = parser.parse_args()
    _copy_shared(args.rows, args.dataset, args.label)
    app, user_id = bench_app(args.rows, dataset=args.dataset, label=args.label)
    if args.profile:
        profile_statements(app, args.profile_min)

    from sqlalchemy import func, select

    from dashboard.services import bulk_edit, rules
    from dashboard.services.rollup import month_of
    from dashboard.services.sql import cents
    from models import Category, Expense, MonthlyRollup, Transaction, db

    with app.app_context():
        session = db.session
        # A date range ending at the newest row that holds ~100k spending rows.
        days = session.execute(select(Transaction.date, func.count()).where(
            Transaction.user_id == user_id, Transaction.kind == "expense")
            .group_by(Transaction.date).order_by(Transaction.date.desc())).all()
        total, start = 0, None
        for day, count in days:
            total += count
            start = day
            if total >= args.target:
                break
        query = {"from": start.isoformat(), "kind": "expense"}
        target = session.scalar(select(Category.id).where(Category.user_id.is_(None), Category.name == "Hobbies"))
        # A regex rule (RE2) on the payee whose matches add up to ~100k spending rows: the payees starting
        # with the letters whose counts sum closest to the target.
        from sqlalchemy import text
        letters = session.execute(select(func.substr(Transaction.payee, 1, 1), func.count()).where(
            Transaction.user_id == user_id, Transaction.kind == "expense")
            .group_by(text("1")).order_by(func.count().desc())).all()
        chosen, total = [], 0
        for letter, count in letters:
            if letter.isalpha() and total + count <= args.target * 1.1:
                chosen.append(letter)
                total += count
        pattern = "^(" + "|".join(chosen) + ")"
        session.rollback()

        def check_rollup() -> bool:
            m = month_of(session, Expense.date)
            raw = dict(((str(a)[:10], c), int(t)) for a, c, t in session.execute(
                select(m, Expense.category_id, func.sum(cents(Expense.amount)))
                .where(Expense.user_id == user_id).group_by(m, Expense.category_id)))
            rolled = dict(((str(a)[:10], c), int(t)) for a, c, t in session.execute(
                select(MonthlyRollup.month, MonthlyRollup.category_id, func.sum(MonthlyRollup.total_cents))
                .where(MonthlyRollup.user_id == user_id, MonthlyRollup.flow == "spending")
                .group_by(MonthlyRollup.month, MonthlyRollup.category_id)))
            session.rollback()
            return {k: v for k, v in raw.items() if v} == {k: v for k, v in rolled.items() if v}

        results: dict[str, list[float]] = {}
        touched: dict[str, int] = {}
        # SQLite: an edit's WAL checkpoint runs after the response (models.db.hold_checkpoint); here it
        # runs after the timed commit and is timed apart (checkpoint_s): the user's wait excludes it, the
        # worker's time includes it.
        from models.db import set_checkpoint_runner
        held: list = []
        set_checkpoint_runner(held.append)
        checkpoints: dict[str, list[float]] = {}

        cpu: dict[str, list[float]] = {}

        def timed(name, fn):
            if args.profile:
                print(f"-- {name}", flush=True)
            started, cpu_started = time.perf_counter(), time.process_time()
            out = fn()
            committing = time.perf_counter()
            session.commit()
            if args.profile:
                print(f"  {time.perf_counter() - committing:6.2f}s commit; {name} {time.perf_counter() - started:.2f}s",
                      flush=True)
            results.setdefault(name, []).append(time.perf_counter() - started)
            cpu.setdefault(name, []).append(time.process_time() - cpu_started)
            after = time.perf_counter()
            while held:
                held.pop()()
            checkpoints.setdefault(name, []).append(time.perf_counter() - after)
            if args.profile:
                print(f"  {checkpoints[name][-1]:6.2f}s checkpoint after the response", flush=True)
            return out

        # A run killed half-way leaves its edit in place (and the next edit would find nothing to
        # change): undo what such a run left, newest first, before timing anything.
        from models import EditBatch
        for left in session.scalars(select(EditBatch.id).where(EditBatch.user_id == user_id, ~EditBatch.undone)
                                    .order_by(EditBatch.id.desc())).all():
            bulk_edit.undo(session, user_id, left)
            session.commit()
        rule = rules.create_rule(session, user_id, field="payee", match_type="regex", pattern=pattern,
                                 category_id=target)
        session.commit()
        rule_id = rule.id
        ok = True
        for _ in range(args.runs):
            def edit():
                where = bulk_edit.filter_where(session, user_id, query)
                actions = bulk_edit.make_actions(session, user_id, category_id=target)
                return bulk_edit.apply(session, user_id, where, actions, label="bench")
            batch = timed("bulk.set_category_filter", edit)
            touched["bulk.set_category_filter"] = batch.row_count
            ok &= check_rollup()
            batch_id = batch.id
            timed("bulk.undo_set_category", lambda b=batch_id: bulk_edit.undo(session, user_id, b))
            ok &= check_rollup()

            preview = timed("bulk.rule_preview", lambda: rules.preview_existing(session, user_id, rule_id))
            batch = timed("bulk.rule_apply_existing", lambda: rules.apply_existing(session, user_id, rule_id))
            touched["bulk.rule_apply_existing"] = batch.row_count
            touched["bulk.rule_preview"] = preview.rows
            ok &= check_rollup()
            batch_id = batch.id
            timed("bulk.undo_rule", lambda b=batch_id: bulk_edit.undo(session, user_id, b))
            ok &= check_rollup()
        rules.delete_rule(session, user_id, rule_id)
        session.commit()

    with open("/proc/loadavg") as fh:
        load = fh.read().split()[0]
    for name, times in results.items():
        print(f"bench {name} db={db_kind()} rows={args.rows} touched={touched.get(name, touched.get(UNDONE.get(name, ''), 0))} "
              f"median_s={statistics.median(times):.2f} max_s={max(times):.2f} "
              f"cpu_s={statistics.median(cpu[name]):.2f} "
              f"checkpoint_s={statistics.median(checkpoints.get(name) or [0]):.2f} runs={len(times)} dataset={args.dataset} "
              f"rollup_ok={ok} load={load}", flush=True)


if __name__ == "__main__":
    main()
