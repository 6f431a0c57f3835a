"""Timing of the Transactions grid's queries on the 1M-row benchmark database (opened read-only).

    .venv/bin/python benchmarks/bench_transactions.py [benchmarks/data/bench-1000000.sqlite3]
    .venv/bin/python benchmarks/bench_transactions.py 'postgresql://...?options=-csearch_path%3Dbench_1000000'

Prints SQLite's query plan of the first page (it must walk the (user_id, date) index backwards, with
no "USE TEMP B-TREE FOR ORDER BY" over the whole table) and the median time of each query.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dashboard.services import transaction_grid as ledger  # noqa: E402
from models import User  # noqa: E402

BENCH_EMAIL = "bench@ledgerlens.local"


def median_ms(fn, repeat: int = 7) -> float:
    fn()  # warm the page cache
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    where = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "benchmarks" / "data" / "bench-1000000.sqlite3")
    if where.startswith("postgresql"):
        engine = create_engine(where)
    else:
        engine = create_engine(f"sqlite:///file:{Path(where).resolve()}?mode=ro&uri=true")
    with Session(engine) as session:
        user_id = session.scalar(select(User.id).where(User.email == BENCH_EMAIL))
        rows = session.execute(text("SELECT count(*) FROM transactions WHERE user_id = :u"), {"u": user_id}).scalar()
        by_size = [row[0] for row in session.execute(text(
            "SELECT account_id FROM transactions WHERE user_id = :u GROUP BY account_id ORDER BY count(*)"),
            {"u": user_id})]
        smallest, largest = by_size[0], by_size[-1]
        print(f"user {user_id}: {rows:,} transactions")
        first = ledger.page_query(session, user_id, ledger.LedgerFilters(), 0, 100)
        compiled = first.compile(engine, compile_kwargs={"literal_binds": True})
        print("\nEXPLAIN QUERY PLAN (first page, newest first):")
        with engine.connect() as conn:
            explain = "EXPLAIN QUERY PLAN" if engine.dialect.name == "sqlite" else "EXPLAIN"
            for row in conn.exec_driver_sql(f"{explain} {compiled}"):
                print("  ", row[-1])
        # The user's most and least used categories (a category filter reads by category, issue 12's
        # migration 0022 took category_id out of every index of the two tables).
        by_use = [row[0] for row in session.execute(text(
            "SELECT category_id FROM transactions WHERE user_id = :u AND category_id IS NOT NULL "
            "GROUP BY category_id ORDER BY count(*)"), {"u": user_id})]
        rare, common = by_use[0], by_use[-1]
        cases = {
            "first page (rows 0-100), newest first": (ledger.LedgerFilters(), 0, None),
            "page at row 10,000": (ledger.LedgerFilters(), 10_000, None),
            "page at row 500,000": (ledger.LedgerFilters(), 500_000, None),
            "first page, smallest account": (ledger.LedgerFilters(account_ids=(smallest,)), 0, None),
            "first page, largest account": (ledger.LedgerFilters(account_ids=(largest,)), 0, None),
            "first page, two small accounts": (ledger.LedgerFilters(account_ids=tuple(by_size[:2])), 0, None),
            "first page, two large accounts": (ledger.LedgerFilters(account_ids=tuple(by_size[-2:])), 0, None),
            "first page, transfers": (ledger.LedgerFilters(kind="transfer"), 0, None),
            "first page, text matching nothing": (ledger.LedgerFilters(text="zzzz"), 0, None),
            "first page, text 'coffee'": (ledger.LedgerFilters(text="coffee"), 0, None),
            "first page, kind income": (ledger.LedgerFilters(kind="income"), 0, None),
            "first page, sorted by amount": (ledger.LedgerFilters(), 0, [{"colId": "amount", "sort": "asc"}]),
            "first page, most used category": (ledger.LedgerFilters(category_ids=(common,)), 0, None),
            "first page, least used category": (ledger.LedgerFilters(category_ids=(rare,)), 0, None),
        }
        print("\nmedian of 7 runs:")
        for name, (filters, start, sort) in cases.items():
            ms = median_ms(lambda f=filters, s=start, o=sort: ledger.rows_page(session, user_id, f, s, s + 100, o))
            print(f"  {name:<42} {ms:8.1f} ms")
        for name, filters in {"summary (count + net), no filter": ledger.LedgerFilters(),
                              "summary, text 'coffee'": ledger.LedgerFilters(text="coffee"),
                              "summary, most used category": ledger.LedgerFilters(category_ids=(common,)),
                              "summary, least used category": ledger.LedgerFilters(category_ids=(rare,))}.items():
            ms = median_ms(lambda f=filters: ledger.summary(session, user_id, f), repeat=3)
            print(f"  {name:<42} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
