"""Synthetic histories for the look-ahead tests: recurring payments with drift, noise, variable spending."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from dashboard.services.bulk import NewTransaction, write_transactions
from dashboard.services.periods import add_months, month_end
from dashboard.services.transactions import create_transaction

TODAY = date(2026, 6, 15)


def tx(session, user, account, day, cents, payee, *, category_id=None, kind=None):
    kind = kind or ("income" if cents > 0 else "expense")
    return create_transaction(session, user.id, account_id=account.id, date=day, kind=kind,
                              amount=Decimal(cents) / 100, payee=payee, category_id=category_id)


def history(session, user, account, *, seed: int = 3, today: date = TODAY, months: int = 18) -> dict:
    """A known set of recurring groups and noise; returns what should be found."""
    rng = random.Random(seed)
    rows: list[NewTransaction] = []

    def tx(session, user, account, day, cents, payee):   # collected, then written in one bulk call
        rows.append(NewTransaction(account_id=account.id, date=day, cents=cents,
                                   kind="income" if cents > 0 else "expense", category_id=None, payee=payee))

    start = add_months(today.replace(day=1), -months)
    # Netflix: monthly on the 9th with drift of up to 2 days, price change 15.49 -> 17.99 at month 10.
    for i in range(months):
        day = add_months(start, i).replace(day=9) + timedelta(days=rng.randint(-2, 2))
        if day <= today:
            tx(session, user, account, day, -1549 if i < 10 else -1799, "Netflix")
    # Salary: last weekday of each month.
    for i in range(months):
        day = month_end(add_months(start, i))
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        if day <= today:
            tx(session, user, account, day, 540000, "Northwind Payroll")
    # Gym: every two weeks on Mondays, one day of drift sometimes.
    monday = start + timedelta(days=(7 - start.weekday()) % 7)
    day = monday
    while day <= today:
        tx(session, user, account, day + timedelta(days=rng.choice((0, 0, 0, 1))), -2500, "Gym Club")
        day += timedelta(days=14)
    # Insurance: yearly.
    for year_back in (2, 1):
        tx(session, user, account, date(today.year - year_back, 8, 20) + timedelta(days=rng.randint(-3, 3)),
           -64000, "Acme Insurance")
    # Noise: one-off purchases at a shop, irregular, varied amounts.
    for _ in range(7):
        day = start + timedelta(days=rng.randint(0, (today - start).days))
        tx(session, user, account, day, -rng.randint(1500, 25000), "Best Buy")
    # A coffee shop, nearly daily: never a bill.
    day = start
    while day <= today:
        if rng.random() < 0.7:
            tx(session, user, account, day, -rng.randint(300, 700), "Corner Cafe")
        day += timedelta(days=1)
    write_transactions(session, user.id, rows)
    session.commit()
    return {
        "netflix": ("monthly", -1799),
        "northwind payroll": ("monthly", 540000),
        "gym club": ("biweekly", -2500),
        "acme insurance": ("yearly", -64000),
    }
