"""services/fx_rollup.py: the converted roll-ups give exactly what converting at read time gives (the
explorer's by-category, by-month and top-payee totals, to the cent), are rebuilt when rates change, and
are not used when they do not fit (a missing rate, a changed base currency)."""
from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from test_fx_totals import JAN, RATES, _categories, _setup

from dashboard.services import fx, fx_rollup
from dashboard.services import spending as svc
from dashboard.services.transactions import create_transaction
from models import FxAmountRollup, FxDailyRollup, FxMonthRollup, FxPayeeAmountRollup, FxPayeeRollup

D = Decimal
TODAY = date(2026, 4, 10)


def _quarter(**query):
    return svc.parse_filters({"preset": "custom", "from": "2026-01-01", "to": "2026-03-31", "grain": "month",
                              **query}, TODAY)


def _both_ways(session, user_id, filters, keys, **kw):
    """(from the converted roll-ups, converted at read time) for the same question."""
    assert fx_rollup.usable(session, user_id, fx.account_currencies(session, user_id),
                            fx.account_currencies(session, user_id).split()[1], filters.start, filters.end)
    fast = svc.aggregate(session, user_id, filters, keys, **kw)
    fx_rollup.invalidate(session, user_id)
    slow = svc.aggregate(session, user_id, filters, keys, **kw)
    session.rollback()   # the state back
    return fast, slow


def _world(session, seed=3, descriptions=False):
    rates = RATES + [(date(2026, 2, d), "USD", "EUR", D(f"1.{(d * 37) % 90 + 10:02d}3")) for d in range(1, 28, 3)]
    user_id, accounts = _setup(session, rates=rates)
    cats = list(_categories(session).values())
    rnd = random.Random(seed)
    for _ in range(120):
        currency = rnd.choice(["EUR", "USD", "JPY"])
        day = date(2026, rnd.randint(1, 3), rnd.randint(2, 28))
        amount = D(rnd.randint(1, 30000)) if currency == "JPY" else D(rnd.randint(1, 20000)) / 100
        kind = "income" if rnd.random() < 0.1 else "expense"
        create_transaction(session, user_id, account_id=accounts[currency], date=day, kind=kind,
                           amount=amount if kind == "income" else -amount, payee=rnd.choice("ABCDEFG"),
                           description=rnd.choice(["", "coffee beans", "tea", "Bcoffee"]) if descriptions else "",
                           category_id=rnd.choice(cats) if kind == "expense" else None)
    session.commit()
    return user_id, accounts


def test_converted_rollups_equal_converting_at_read_time(db_session):
    user_id, accounts = _world(db_session)
    assert db_session.scalar(select(func.count()).select_from(FxMonthRollup)) > 0
    assert db_session.scalar(select(func.count()).select_from(FxPayeeRollup)) > 0
    for flow in ("spending", "income"):
        filters = _quarter(flow=flow)
        for keys, kw in ((["category_id"], {}), (["bucket", "category_id"], {}), ([], {}),
                         (["payee"], {"order_by_total": True, "limit": 5}), (["account_id"], {})):
            fast, slow = _both_ways(db_session, user_id, filters, keys, **kw)
            sort = keys or ["total_cents"]
            assert fast.sort_values(sort).reset_index(drop=True).equals(slow.sort_values(sort).reset_index(drop=True)), keys
    # Partial months at both ends: the whole months from the converted roll-ups, the edges at read time.
    edges = svc.parse_filters({"preset": "custom", "from": "2026-01-10", "to": "2026-03-20", "grain": "month"}, TODAY)
    for keys, kw in ((["category_id"], {}), (["bucket", "category_id"], {}), ([], {}),
                     (["payee"], {"order_by_total": True, "limit": 5})):
        fast, slow = _both_ways(db_session, user_id, edges, keys, **kw)
        sort = keys or ["total_cents"]
        assert fast.sort_values(sort).reset_index(drop=True).equals(slow.sort_values(sort).reset_index(drop=True)), keys
    one = _quarter(accounts=str(accounts["USD"]), categories=str(_categories(db_session)["Food"]))
    fast, slow = _both_ways(db_session, user_id, one, ["bucket"])
    assert fast.equals(slow)


def test_a_rate_entered_rebuilds_and_a_missing_rate_falls_back(db_session):
    from dashboard.services.rates import enter_rate

    user_id, accounts = _world(db_session)
    before = svc.aggregate(db_session, user_id, _quarter(), [])["total_cents"].iloc[0]
    enter_rate(db_session, user_id, day=JAN(2), currency="USD", base="EUR", rate="2")   # a correction in place
    db_session.commit()
    currencies = fx.account_currencies(db_session, user_id)
    assert fx_rollup.usable(db_session, user_id, currencies, currencies.split()[1], JAN(1), date(2026, 3, 31))
    after = svc.aggregate(db_session, user_id, _quarter(), [])["total_cents"].iloc[0]
    assert after != before
    fx_rollup.invalidate(db_session, user_id)
    assert svc.aggregate(db_session, user_id, _quarter(), [])["total_cents"].iloc[0] == after
    db_session.rollback()
    # A JPY expense on 1 January, before JPY's first rate: the month is marked, reads convert at read time
    create_transaction(db_session, user_id, account_id=accounts["JPY"], date=JAN(1), kind="expense",
                       amount=D("-500"), category_id=_categories(db_session)["Food"])
    db_session.commit()
    assert not fx_rollup.usable(db_session, user_id, currencies, currencies.split()[1], JAN(1), JAN(31))
    conversion = fx.Conversion("EUR")
    svc.aggregate(db_session, user_id, _quarter(), [], conversion=conversion)
    assert [(m.currency, m.day) for m in conversion.missing_rates] == [("JPY", JAN(1))]


def test_a_changed_base_currency_is_not_answered_from_the_old_rollups(db_session):
    from models import User

    user_id, _ = _world(db_session)
    currencies = fx.account_currencies(db_session, user_id)
    db_session.get(User, user_id).currency = "USD"   # not through users.update_profile: no rebuild
    db_session.commit()
    now = fx.account_currencies(db_session, user_id)
    assert not fx_rollup.usable(db_session, user_id, now, now.split()[1], JAN(1), date(2026, 3, 31))
    assert currencies.base == "EUR"


def _same(fast, slow, keys):
    sort = keys or ["total_cents"]
    return fast.sort_values(sort).reset_index(drop=True).equals(slow.sort_values(sort).reset_index(drop=True))


def test_text_and_amount_filters_from_the_converted_rollups_equal_read_time(db_session):
    """A text search (payees containing it, plus description-only matches) and an amount range (whole
    bands, plus the slivers at its ends) give from the converted roll-ups exactly what converting at
    read time gives, whole months and partial-month edges, by category, month, payee, account."""
    user_id, accounts = _world(db_session, seed=5, descriptions=True)
    assert db_session.scalar(select(func.count()).select_from(FxAmountRollup)) > 0
    assert db_session.scalar(select(func.count()).select_from(FxPayeeAmountRollup)) > 0
    ranges = (("2026-01-01", "2026-03-31"), ("2026-01-10", "2026-03-20"))
    filters = [{"q": "coffee"}, {"q": "b"}, {"min": "20", "max": "200"}, {"min": "7.5", "max": "180"},
               {"min": "12"}, {"max": "40"}]
    for flow in ("spending", "income"):
        for a, b in ranges:
            for extra in filters:
                f = svc.parse_filters({"preset": "custom", "from": a, "to": b, "grain": "month", "flow": flow,
                                       **extra}, TODAY)
                for keys, kw in ((["category_id"], {}), (["bucket", "category_id"], {}), ([], {}),
                                 (["payee"], {"order_by_total": True, "limit": 5}), (["account_id"], {})):
                    fast, slow = _both_ways(db_session, user_id, f, keys, **kw)
                    assert _same(fast, slow, keys), (flow, a, extra, keys)
    one = _quarter(accounts=str(accounts["USD"]), min="20", max="200")
    fast, slow = _both_ways(db_session, user_id, one, ["payee"])
    assert _same(fast, slow, ["payee"])


def test_text_and_amount_filters_read_the_converted_rollups(db_session):
    """The fast answers come from the new tables: a changed row there changes them (and nothing else
    does), until the state is forgotten and the read converts the raw rows again."""
    from sqlalchemy import update

    user_id, _ = _world(db_session, seed=5, descriptions=True)
    amount = _quarter(min="20", max="200")
    text = _quarter(q="b")
    before_amount = svc.aggregate(db_session, user_id, amount, [])["total_cents"].iloc[0]
    before_payees = svc.aggregate(db_session, user_id, amount, ["payee"])["total_cents"].sum()
    before_text = svc.aggregate(db_session, user_id, text, [])["total_cents"].iloc[0]
    db_session.execute(update(FxAmountRollup).values(total_cents=FxAmountRollup.total_cents + 1))
    db_session.execute(update(FxPayeeAmountRollup).values(total_cents=FxPayeeAmountRollup.total_cents + 1))
    db_session.execute(update(FxPayeeRollup).values(total_cents=FxPayeeRollup.total_cents + 1))
    assert svc.aggregate(db_session, user_id, amount, [])["total_cents"].iloc[0] > before_amount
    assert svc.aggregate(db_session, user_id, amount, ["payee"])["total_cents"].sum() > before_payees
    assert svc.aggregate(db_session, user_id, text, [])["total_cents"].iloc[0] > before_text
    fx_rollup.invalidate(db_session, user_id)
    assert svc.aggregate(db_session, user_id, amount, [])["total_cents"].iloc[0] == before_amount
    assert svc.aggregate(db_session, user_id, text, [])["total_cents"].iloc[0] == before_text
    db_session.rollback()


def test_weekly_views_and_partial_months_from_the_converted_daily_groups(db_session):
    """Weeks, days and the partial-month edges of a range come from fx_daily_rollup (the daily groups
    converted ahead of time): the same integers as converting at read time, and that table is read."""
    from sqlalchemy import update

    user_id, _ = _world(db_session, seed=9)
    assert db_session.scalar(select(func.count()).select_from(FxDailyRollup)) > 0
    for a, b, grain in (("2026-01-10", "2026-03-20", "week"), ("2026-02-03", "2026-02-17", "auto"),
                        ("2026-01-10", "2026-03-20", "month")):
        f = svc.parse_filters({"preset": "custom", "from": a, "to": b, "grain": grain}, TODAY)
        for keys in (["bucket", "category_id"], ["day", "category_id"], ["category_id"], []):
            fast, slow = _both_ways(db_session, user_id, f, keys)
            assert _same(fast, slow, keys), (a, grain, keys)
    f = svc.parse_filters({"preset": "custom", "from": "2026-02-03", "to": "2026-02-17", "grain": "week"}, TODAY)
    before = svc.aggregate(db_session, user_id, f, [])["total_cents"].iloc[0]
    db_session.execute(update(FxDailyRollup).values(total_cents=FxDailyRollup.total_cents + 1))
    assert svc.aggregate(db_session, user_id, f, [])["total_cents"].iloc[0] > before
    db_session.rollback()
