"""Every path of the explorer's aggregates (roll-ups, full-text index, amount bands, raw slivers) gives the
same answer as a plain recomputation in Python from the user's rows, for a grid of filters."""
from __future__ import annotations

import itertools
import random
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dashboard.services import spending as svc
from dashboard.services.transactions import Split, create_transaction, update_transaction
from models import Category, Expense, Transaction

TODAY = date(2026, 4, 20)
PAYEES = ("Blue Bottle Coffee", "Coffee Corner", "Market 42", "Café Olé", "Shell", "100% Pure", "Ab_cd")
DESCRIPTIONS = ("", "", "POS PURCHASE COFFEE", "weekly shop", "Online order #77", "50% off")
AMOUNTS = ("-0.99", "-1.00", "-1.99", "-2.00", "-19.99", "-20.00", "-20.01", "-25.00", "-199.99", "-200.00",
           "-200.01", "-333.33", "-12000.00", "7.50")


@pytest.fixture()
def seeded(db_session, make_user, make_account):
    cats = [c.id for c in db_session.scalars(select(Category).where(Category.user_id.is_(None),
                                                                    Category.kind == "expense"))]
    rng = random.Random(5)
    alice = make_user("alice@example.com")
    accounts = [make_account(alice, "Checking"), make_account(alice, "Card", "credit_card")]
    other = make_user("bob@example.com")
    bob_account = make_account(other, "Checking")
    made = []
    for i in range(160):
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(130))
        amount = Decimal(rng.choice(AMOUNTS))
        kwargs = dict(account_id=rng.choice(accounts).id, date=day, payee=rng.choice(PAYEES),
                      description=rng.choice(DESCRIPTIONS))
        if i % 9 == 0 and amount < 0 and amount <= Decimal("-2.00"):
            half = (-amount / 2).quantize(Decimal("0.01"))
            made.append(create_transaction(db_session, alice.id, amount=amount, **kwargs,
                                           splits=[Split(rng.choice(cats), half), Split(rng.choice(cats), -amount - half)]))
        else:
            made.append(create_transaction(db_session, alice.id, amount=amount, category_id=rng.choice(cats + [None]),
                                           **kwargs))
        if i % 11 == 0:
            create_transaction(db_session, alice.id, account_id=accounts[0].id, date=day, amount=Decimal("1500.00"),
                               kind="income", payee="Northwind Payroll", description="coffee money")
        create_transaction(db_session, other.id, account_id=bob_account.id, date=day, amount=Decimal("-20.00"),
                           category_id=cats[0], payee="Blue Bottle Coffee")
    db_session.commit()
    # Edits after the first commit: payees and descriptions move in and out of the text index.
    for tx in made[:12]:
        update_transaction(db_session, alice.id, tx.id, expected_version=tx.version,
                           payee=f"{tx.payee} Coffee" if "Coffee" not in tx.payee else "Renamed",
                           description="edited coffee" if tx.description == "" else "")
    db_session.commit()
    return alice.id, cats, [a.id for a in accounts]


def _reference(session, user_id, filters: svc.SpendingFilters, keys):
    """The answer from the rows themselves, grouped in Python."""
    categories = svc._category_ids(session, user_id, filters)
    if filters.flow == "income":
        rows = session.execute(select(Transaction.date, Transaction.account_id, Transaction.category_id,
                                      Transaction.amount, Transaction.payee, Transaction.description)
                               .where(Transaction.user_id == user_id, Transaction.kind == "income")).all()
    else:
        rows = session.execute(select(Expense.date, Expense.account_id, Expense.category_id, Expense.amount,
                                      Transaction.payee, Transaction.description)
                               .join(Transaction, Transaction.id == Expense.transaction_id)
                               .where(Expense.user_id == user_id)).all()
    out = defaultdict(lambda: [0, 0])
    text = filters.text.lower()
    for day, account_id, category_id, amount, payee, description in rows:
        if not filters.start <= day <= filters.end:
            continue
        if filters.account_ids and account_id not in filters.account_ids:
            continue
        if categories is not None:
            ids, wants_none = categories
            if not ((category_id in ids) or (category_id is None and wants_none)):
                continue
        if text and text not in payee.lower() and text not in description.lower():
            continue
        if filters.min_amount is not None and amount < filters.min_amount:
            continue
        if filters.max_amount is not None and amount > filters.max_amount:
            continue
        values = {"category_id": category_id if category_id is not None else svc.UNCATEGORIZED, "payee": payee,
                  "day": day, "account_id": account_id,
                  "bucket": day.replace(day=1) if filters.effective_grain == "month"
                  else day - timedelta(days=day.weekday())}
        key = tuple(values[k] for k in keys)
        out[key][0] += int(amount * 100)
        out[key][1] += 1
    return {k: tuple(v) for k, v in out.items()}


def _answer(frame, keys):
    return {tuple(row[k] for k in keys): (int(row["total_cents"]), int(row["row_count"]))
            for row in frame.to_dict("records") if int(row["row_count"])}


QUERIES = [
    {"preset": "custom", "from": "2026-01-01", "to": "2026-04-30"},
    {"preset": "custom", "from": "2026-01-10", "to": "2026-04-12"},
    {"preset": "custom", "from": "2026-02-03", "to": "2026-02-20"},
    {"preset": "last_3_months"},
    {"preset": "ytd"},
    {"preset": "ytd", "q": "coffee"},
    {"preset": "ytd", "q": "COF"},
    {"preset": "ytd", "q": "ab"},
    {"preset": "ytd", "q": "%"},
    {"preset": "ytd", "q": "_"},
    {"preset": "ytd", "q": "café"},
    {"preset": "ytd", "q": "order #7"},
    {"preset": "custom", "from": "2026-01-10", "to": "2026-04-12", "q": "coffee"},
    {"preset": "last_3_months", "q": "coffee"},
    {"preset": "ytd", "min": "20", "max": "200"},
    {"preset": "ytd", "min": "19.99", "max": "200.01"},
    {"preset": "ytd", "min": "1.50"},
    {"preset": "ytd", "max": "1.99"},
    {"preset": "ytd", "min": "-10", "max": "2"},
    {"preset": "ytd", "min": "21", "max": "24"},
    {"preset": "custom", "from": "2026-01-10", "to": "2026-04-12", "min": "20", "max": "250"},
    {"preset": "last_3_months", "min": "20", "max": "200"},
    {"preset": "ytd", "min": "20", "max": "200", "q": "coffee"},
    {"preset": "ytd", "q": "coffee", "flow": "income"},
    {"preset": "ytd", "min": "1000", "flow": "income"},
    {"preset": "ytd", "flow": "income"},
]


@pytest.mark.parametrize("fts", [True, False], ids=["index", "no-index"])
def test_aggregates_equal_a_recomputation_from_rows(db_session, seeded, fts, monkeypatch):
    if not fts:
        monkeypatch.setattr(svc, "_has_fts", lambda session: False)
    user_id, cats, accounts = seeded
    for query in QUERIES:
        for extra in ({}, {"accounts": str(accounts[1])}, {"categories": f"{cats[0]},{cats[3]},0"}):
            filters = svc.parse_filters({**query, **extra}, TODAY)
            for keys in (["bucket", "category_id"], ["payee"], ["category_id"], ["day", "category_id"], []):
                got = _answer(svc.aggregate(db_session, user_id, filters, keys), keys)
                assert got == _reference(db_session, user_id, filters, keys), (query, extra, keys)


@pytest.mark.parametrize("fts", [True, False], ids=["index", "no-index"])
def test_remembered_text_matches_give_the_same_answers(db_session, seeded, fts, monkeypatch):
    """explore() reads a text search's matching payees (and, without the full-text index, the
    description-only matches) once for the period and the previous one; every read over a range inside
    it filters by those lists and must answer exactly as the text itself would."""
    from dashboard.services.cache import transaction_memo

    if not fts:
        monkeypatch.setattr(svc, "_has_fts", lambda session: False)
    user_id, cats, accounts = seeded
    for query in QUERIES:
        if "q" not in query:
            continue
        for extra in ({}, {"accounts": str(accounts[1])}, {"categories": f"{cats[0]},{cats[3]},0"}):
            filters = svc.parse_filters({**query, **extra}, TODAY)
            db_session.rollback()   # a new database transaction: nothing remembered yet
            svc.remember_text_matches(db_session, user_id, filters, filters.start - timedelta(days=40), filters.end)
            memo = transaction_memo(db_session)
            assert (("payees", user_id, filters.flow, filters.text) in memo) == (db_session.get_bind().dialect.name != "sqlite")
            assert (("description", user_id, filters.text) in memo) == (not svc._has_fts(db_session))
            for start, end in ((filters.start, filters.end), (filters.start - timedelta(days=40), filters.start)):
                part = replace(filters, start=start, end=end, grain=filters.effective_grain)
                for keys in (["bucket", "category_id"], ["payee"], ["category_id"], ["day", "category_id"], []):
                    got = _answer(svc.aggregate(db_session, user_id, part, keys), keys)
                    assert got == _reference(db_session, user_id, part, keys), (query, extra, keys, start, end)


# Few letters, both cases, an accent and LIKE's wildcards: payees run into the texts at their ends often.
_LETTERS = "abAé%"
_PEOPLE = itertools.count()   # one new person per example (the examples share the test's database)


@st.composite
def _payee_and_description(draw):
    payee = draw(st.text(_LETTERS, min_size=1, max_size=3))
    parts = draw(st.lists(st.one_of(st.just(payee), st.just(payee.upper()), st.text(_LETTERS, max_size=3)),
                          max_size=4))
    return payee, " ".join(parts) if draw(st.booleans()) else "".join(parts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(_payee_and_description(), min_size=1, max_size=8),
       st.lists(st.text(_LETTERS, min_size=1, max_size=4), min_size=1, max_size=5))
# The text hidden between two occurrences of the payee, found only through the both-ends payees.
@example([("ab", "abab"), ("ab", "AB x AB")], ["ba", "b x a", "B X"])
def test_description_only_matches_are_exactly_those_of_the_plain_test(db_session, rows, texts):
    """The description-only matches found through ix_transactions_rest_trgm (PostgreSQL: the description
    with its payee cut out, plus the payees that can hide the text between two of their occurrences)
    are exactly the rows of ``payee NOT ILIKE '%t%' AND description ILIKE '%t%'``, whatever the payees
    and descriptions (payees inside descriptions, runs of them, other cases, wildcards in the text)."""
    from models import Account, User

    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("the index is PostgreSQL's; SQLite answers from its full-text table")
    assert svc._has_rest_index(db_session)   # else this would test the plain path against itself
    user = User(email=f"rest{next(_PEOPLE)}@example.com", display_name="P", currency="USD", password_hash="x")
    db_session.add(user)
    db_session.flush()
    account = Account(user_id=user.id, name="Card", type="checking", opening_balance=Decimal("0"))
    db_session.add(account)
    db_session.flush()
    for payee, description in rows:
        create_transaction(db_session, user.id, account_id=account.id, date=date(2026, 1, 5),
                           amount=Decimal("-1.00"), payee=payee, description=description)
    db_session.commit()
    start, end = date(2026, 1, 1), date(2026, 1, 31)
    for text in texts:
        got = set(db_session.scalars(svc._description_only_ids(db_session, user.id, text, start, end)))
        pattern = f"%{svc.escape_like(text)}%"
        want = set(db_session.scalars(select(Transaction.id).where(
            Transaction.user_id == user.id, Transaction.payee.not_ilike(pattern, escape="\\"),
            Transaction.description.ilike(pattern, escape="\\"))))
        assert got == want, (text, db_session.execute(select(Transaction.payee, Transaction.description)
                                                      .where(Transaction.user_id == user.id)).all())
