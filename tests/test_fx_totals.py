"""Totals in the base currency (issue 17): the explorer and the Overview convert accounts in other
currencies at each day's rate, round once per (day, account, category) group, half-even, and report a
missing rate instead of counting it as zero. Known answers worked by hand; the group rule checked
against a per-transaction computation; a property over random rows in random order."""
from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dashboard.services import fx
from dashboard.services import overview as overview_svc
from dashboard.services import spending as svc
from dashboard.services.accounts import create_account
from dashboard.services.transactions import create_transaction
from dashboard.services.users import delete_user
from models import Category, User

D = Decimal
JAN = lambda day: date(2026, 1, day)  # noqa: E731
TODAY = date(2026, 2, 10)

# The ECB's way round: 1 EUR = rate units of the currency. USD changes on 15 January.
RATES = [
    (JAN(2), "USD", "EUR", D("1.0876")),
    (JAN(15), "USD", "EUR", D("1.1000")),
    (JAN(2), "JPY", "EUR", D("157.12")),
]


def _categories(session):
    rows = session.execute(select(Category.name, Category.id).where(
        Category.user_id.is_(None), Category.name.in_(["Food", "Housing", "Shopping"]))).all()
    return dict(rows)


def _setup(session, email="fx@example.com", base="EUR", currencies=("EUR", "USD", "JPY"), rates=RATES, user=None):
    if user is None:
        user = User(email=email, display_name="Fx", currency=base, password_hash="x")
        session.add(user)
        session.flush()
    accounts = {c: create_account(session, user.id, name=f"In {c}", currency=c).id for c in currencies}
    for day, currency, rate_base, rate in rates:
        fx.set_rate(session, user.id, day=day, currency=currency, base=rate_base, rate=rate)
    session.commit()
    return user.id, accounts


def _spend(session, user_id, accounts, rows, category_id):
    for day, currency, amount in rows:
        create_transaction(session, user_id, account_id=accounts[currency], date=day, kind="expense",
                           amount=-D(amount), category_id=category_id)
    session.commit()


def _january(**query):
    return svc.parse_filters({"preset": "custom", "from": "2026-01-01", "to": "2026-01-31", **query}, TODAY)


# The month, by hand (EUR base):
#   EUR  3 Jan  12.34                        -> 12.34
#   EUR 20 Jan  40.00                        -> 40.00
#   USD 10 Jan 100.00 / 1.0876 = 91.9455...  -> 91.95  (the rate of 2 Jan)
#   USD 20 Jan  50.00 / 1.1000 = 45.4545...  -> 45.45  (the rate of 15 Jan)
#   JPY  5 Jan   1234 / 157.12 =  7.8538...  ->  7.85
#   total                                      197.59
MONTH = [(JAN(3), "EUR", "12.34"), (JAN(20), "EUR", "40.00"), (JAN(10), "USD", "100.00"),
         (JAN(20), "USD", "50.00"), (JAN(5), "JPY", "1234")]


@pytest.mark.parametrize("grain", ["auto", "week", "month"])
def test_a_month_in_eur_usd_and_jpy_totals_to_the_cent_what_the_hand_calculation_gives(db_session, grain):
    user_id, accounts = _setup(db_session)
    _spend(db_session, user_id, accounts, MONTH, _categories(db_session)["Food"])
    result = svc.explore(db_session, user_id, _january(grain=grain), today=TODAY)
    assert result.total_cents == 19759
    assert result.row_count == 5
    assert result.conversion.base == "EUR" and result.conversion.complete
    assert result.conversion.converted_from == {"USD", "JPY"}
    assert int(result.over_time["total_cents"].sum()) == 19759
    # One account alone: its own share, converted.
    usd_only = svc.explore(db_session, user_id, _january(accounts=str(accounts["USD"]), grain=grain), today=TODAY)
    assert usd_only.total_cents == 9195 + 4545
    # The euro account alone needs no conversion at all.
    eur_only = svc.explore(db_session, user_id, _january(accounts=str(accounts["EUR"]), grain=grain), today=TODAY)
    assert eur_only.total_cents == 5234 and eur_only.conversion is None


def test_a_text_search_over_several_currencies_totals_what_the_hand_calculation_gives(db_session, monkeypatch):
    """A search for "coffee" in a month with EUR, USD and JPY accounts: the payees containing it and a
    row whose description only does, each converted with its day's rate; the matches remembered for
    the update (payee names, description-only ids) answer exactly as matching the text in every read."""
    user_id, accounts = _setup(db_session)
    for day, currency, amount, payee, description in (
            (JAN(3), "EUR", "12.34", "Coffee Corner", "card 1234"),      # 12.34
            (JAN(10), "USD", "100.00", "Market", "COFFEE beans"),        # 100 / 1.0876 -> 91.95
            (JAN(20), "USD", "50.00", "coffee cart", "coffee cart 20/01"),  # 50 / 1.1 -> 45.45
            (JAN(5), "JPY", "1234", "Book Shop", "paperback")):          # no match
        create_transaction(db_session, user_id, account_id=accounts[currency], date=day, kind="expense",
                           amount=-D(amount), payee=payee, description=description)
    db_session.commit()
    remembered = svc.explore(db_session, user_id, _january(q="coffee"), today=TODAY)
    assert remembered.total_cents == 1234 + 9195 + 4545
    assert sorted(remembered.payees["payee"]) == ["Coffee Corner", "Market", "coffee cart"]
    db_session.rollback()
    monkeypatch.setattr(svc, "remember_text_matches", lambda *args, **kwargs: None)
    plain = svc.explore.__wrapped__(db_session, user_id, _january(q="coffee"), today=TODAY)   # (not the cache)
    assert plain.total_cents == remembered.total_cents
    assert plain.payees.sort_values("payee").to_dict("records") == remembered.payees.sort_values("payee").to_dict("records")


def test_the_overview_totals_in_the_base_currency(db_session):
    user_id, accounts = _setup(db_session)
    food, housing = _categories(db_session)["Food"], _categories(db_session)["Housing"]
    _spend(db_session, user_id, accounts, MONTH[:3], food)
    _spend(db_session, user_id, accounts, MONTH[3:], housing)
    totals = overview_svc.period_totals(db_session, user_id, JAN(1), JAN(31))
    assert totals.spending_cents == 19759
    top = overview_svc.spending_by_top_category(db_session, user_id, JAN(1), JAN(31))
    assert dict(zip(top["name"], top["amount_cents"])) == {"Food": 1234 + 4000 + 9195, "Housing": 4545 + 785}
    cashflow = overview_svc.monthly_cashflow(db_session, user_id, JAN(31), months=2)
    assert cashflow["spending_cents"].tolist() == [0, 19759]
    note = overview_svc.conversion_note(db_session, user_id, JAN(1), JAN(31))
    assert note.converted_from == {"USD", "JPY"} and note.complete


def test_a_rate_change_mid_month_applies_from_its_own_day(db_session):
    user_id, accounts = _setup(db_session)
    _spend(db_session, user_id, accounts, [(JAN(14), "USD", "1000.00"), (JAN(15), "USD", "1000.00")],
           _categories(db_session)["Food"])
    result = svc.explore(db_session, user_id, _january(grain="week"), today=TODAY)
    by_day = svc.aggregate(db_session, user_id, _january(), ["day"])
    assert dict(zip(by_day["day"], by_day["total_cents"])) == {JAN(14): 91946, JAN(15): 90909}
    assert result.total_cents == 91946 + 90909  # 1000 / 1.0876 = 919.4556..., 1000 / 1.1 = 909.0909...


def test_a_missing_rate_is_reported_with_its_currency_days_and_amount_never_as_zero(db_session):
    user_id, accounts = _setup(db_session)
    food = _categories(db_session)["Food"]
    # 1 January: before the first USD rate; nothing may be guessed from the rate of 2 January.
    _spend(db_session, user_id, accounts, MONTH + [(JAN(1), "USD", "7.00"), (JAN(1), "USD", "3.00")], food)
    result = svc.explore(db_session, user_id, _january(), today=TODAY)
    assert result.total_cents == 19759  # the converted part, shown with what is missing
    assert not result.conversion.complete
    assert result.conversion.unconverted == (fx.Unconverted("USD", JAN(1), JAN(1), 1, 1000),)
    assert result.conversion.missing_rates == (fx.Missing("USD", "EUR", JAN(1)),)
    note = overview_svc.conversion_note(db_session, user_id, JAN(1), JAN(31))
    assert note.unconverted == (fx.Unconverted("USD", JAN(1), JAN(1), 1, 1000),)
    # With the rate entered, the same view is complete and counts the 10 dollars.
    fx.set_rate(db_session, user_id, day=JAN(1), currency="USD", base="EUR", rate="1.25")
    db_session.commit()
    result = svc.explore(db_session, user_id, _january(), today=TODAY)
    assert result.conversion.complete and result.total_cents == 19759 + 800


def test_a_single_currency_user_gets_no_conversion(db_session):
    user_id, accounts = _setup(db_session, currencies=("EUR",), rates=())
    _spend(db_session, user_id, accounts, MONTH[:2], _categories(db_session)["Food"])
    result = svc.explore(db_session, user_id, _january(), today=TODAY)
    assert result.total_cents == 5234 and result.conversion is None
    assert overview_svc.conversion_note(db_session, user_id, JAN(1), JAN(31)) is None


def test_the_group_rule_against_rounding_each_transaction(db_session):
    """Two transactions on one day, one account, one category are one group, converted together. With
    1 EUR = 2 USD: 0.05 USD is 0.025 EUR, 0.02 alone (half-even); two of them on one day in one
    category are 0.10 USD = 0.05 EUR as a group, where rounding each would give 0.04. The difference is
    at most (n + 1) / 2 minor units for a group of n >= 2, and none for a group of one."""
    rates = [(JAN(1), "USD", "EUR", D("2"))]
    user_id, accounts = _setup(db_session, currencies=("EUR", "USD"), rates=rates)
    food, housing = _categories(db_session)["Food"], _categories(db_session)["Housing"]
    _spend(db_session, user_id, accounts, [(JAN(5), "USD", "0.05"), (JAN(5), "USD", "0.05")], food)
    _spend(db_session, user_id, accounts, [(JAN(6), "USD", "0.05")], housing)
    by_category = svc.aggregate(db_session, user_id, _january(), ["category_id"])
    got = dict(zip(by_category["category_id"], by_category["total_cents"]))
    assert got == {food: 5, housing: 2}   # group of two: round(10 / 2) = 5; alone: round(2.5) = 2
    per_transaction = 3 * fx.convert_cents(5, Fraction(1, 2), "EUR")
    assert per_transaction == 6 and abs(sum(got.values()) - per_transaction) <= 1


# -- properties ------------------------------------------------------------------------------------

BOOK = fx.RateBook.from_rows(RATES)
CURRENCIES = fx.AccountCurrencies("EUR", ((1, "EUR"), (2, "USD"), (3, "JPY")))


def _minor(currency: str, n: int) -> int:
    """n minor units of ``currency`` as stored hundredths (a yen is 100)."""
    return n * 10 ** (2 - fx.minor_digits(currency))


transactions = st.lists(st.tuples(st.integers(2, 31).map(JAN), st.sampled_from([1, 2, 3]),
                                  st.integers(-10**9, 10**9)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(transactions, st.randoms(use_true_random=False))
def test_converting_then_summing_equals_summing_each_transaction_in_integers_in_any_order(rows, rnd):
    """A frame of single transactions through convert_frame totals exactly the per-transaction sum
    (fx.convert_rows), whatever the order of the rows."""
    rows = [(day, account, _minor(CURRENCIES.mapping[account], n)) for day, account, n in rows]
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    frame = pd.DataFrame(shuffled, columns=["day", "account_id", "total_cents"])
    converted = int(fx.convert_frame(frame, CURRENCIES, BOOK)["total_cents"].sum()) if rows else 0
    per_transaction = fx.convert_rows([(d, CURRENCIES.mapping[a], Decimal(c).scaleb(-2)) for d, a, c in rows],
                                      "EUR", BOOK)
    assert converted == int(per_transaction.amount * 100)


def _group_rule(rows, book=BOOK, mapping=CURRENCIES.mapping, base="EUR"):
    """The documented rule, computed independently: sum each (day, account, category) group, convert
    with Fractions, round half-even to cents; then the integer sum."""
    groups: dict = {}
    for day, account, category, cents in rows:
        groups[(day, account, category)] = groups.get((day, account, category), 0) + cents
    total = 0
    for (day, account, _), cents in groups.items():
        total += round(Fraction(cents, 100) * book.factor(mapping[account], base, day) * 100)
    return total, len(groups)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(2, 28).map(JAN), st.sampled_from(["EUR", "USD", "JPY"]),
                          st.sampled_from(["Food", "Housing"]), st.integers(1, 10**6)), min_size=1, max_size=25),
       st.integers(0, 2**32))
def test_the_explorer_total_is_the_group_rule_whatever_the_order_of_rows(db_session, rows, seed):
    """Written to the database in a random order, the explorer's total is the group rule computed here
    by hand, and within the stated bound of rounding each transaction."""
    user_id, accounts = _setup(db_session, email=f"p{seed}@example.com")
    try:
        cats = _categories(db_session)
        ordered = list(rows)
        random.Random(seed).shuffle(ordered)
        for day, currency, category, n in ordered:
            amount = Decimal(n).scaleb(-fx.minor_digits(currency))
            create_transaction(db_session, user_id, account_id=accounts[currency], date=day, kind="expense",
                               amount=-amount, category_id=cats[category])
        db_session.commit()
        mapping = {v: k for k, v in accounts.items()}
        as_rows = [(day, accounts[currency], category, _minor(currency, n)) for day, currency, category, n in rows]
        expected, groups = _group_rule(as_rows, mapping=mapping)
        for grain in ("week", "month"):
            assert svc.explore(db_session, user_id, _january(grain=grain), today=TODAY).total_cents == expected
        per_transaction = sum(round(Fraction(c, 100) * BOOK.factor(mapping[a], "EUR", d) * 100)
                              for d, a, _, c in as_rows)
        sizes: dict = {}
        for day, account, category, _ in as_rows:
            sizes[(day, account, category)] = sizes.get((day, account, category), 0) + 1
        bound = sum(Fraction(n + 1, 2) for n in sizes.values() if n > 1)  # cents; 0 for groups of one
        assert abs(expected - per_transaction) <= bound
        assert len(sizes) == groups
    finally:
        db_session.rollback()
        delete_user(db_session, user_id)
        db_session.commit()


# -- the pages -------------------------------------------------------------------------------------

def _text(component) -> str:
    import json
    return json.dumps(component)


def test_the_explorer_and_overview_show_converted_totals_and_what_is_missing(client, db_session, make_user):
    from conftest import login
    from dash_client import call_callback
    from test_spending_callbacks import views

    user = make_user("fxpage@example.com", currency="EUR")
    user_id, accounts = _setup(db_session, user=user)
    _spend(db_session, user_id, accounts, MONTH + [(JAN(1), "USD", "10.00")], _categories(db_session)["Food"])
    login(client, "fxpage@example.com")
    status, body = views(client, {"preset": "custom", "from": "2026-01-01", "to": "2026-01-31"})
    assert status == 200
    totals = _text(body["spending-totals"]["children"])
    assert "197.59" in totals and "spending-conversion" in totals
    assert "$10.00 in USD (Jan 1, 2026): no USD\\u2192EUR rate on or before that day." in totals
    # The euro account alone: no conversion, no note.
    status, body = views(client, {"preset": "custom", "from": "2026-01-01", "to": "2026-01-31",
                                  "accounts": str(accounts["EUR"])})
    assert "spending-conversion" not in _text(body["spending-totals"]["children"])

    status, body = call_callback(client, [("overview-stats", "children"), ("overview-accounts", "children"),
                                          ("overview-top-categories", "figure"), ("overview-cashflow", "figure")],
                                 [("overview-load", "data", 0)])
    assert status == 200
    accounts_text = _text(body["overview-accounts"]["children"])
    # Each account in its own currency; the net worth in euros at today's rates:
    # -52.34 EUR, -160.00 USD / 1.1 = -145.45, -1234 JPY / 157.12 = -7.85: -205.64.
    assert "-\\u00a51,234" in accounts_text and "-$160.00" in accounts_text
    assert "-\\u20ac205.64" in accounts_text
    stats = _text(body["overview-stats"]["children"])
    assert "-\\u20ac205.64" in stats
    if date.today() < date(2027, 1, 1):   # January 2026 is within the Overview's 12 months
        assert "overview-conversion" in stats and "$10.00 in USD (Jan 1, 2026)" in stats


def test_budgets_count_spending_in_the_base_currency_and_roll_over_converted(db_session):
    from dashboard.services import budgets as budgets_svc

    user_id, accounts = _setup(db_session)
    food = _categories(db_session)["Food"]
    budgets_svc.create_budget(db_session, user_id, category_id=food, amount="150.00", start_date=JAN(1),
                              rollover=True)
    budgets_svc.create_budget(db_session, user_id, category_id=food, amount="100.00", start_date=date(2026, 2, 1))
    db_session.commit()
    _spend(db_session, user_id, accounts, MONTH, food)
    january = budgets_svc.Period.containing("monthly", JAN(1))
    frame = budgets_svc.budget_frame(db_session, user_id, january, TODAY)
    assert frame["spent_cents"].tolist() == [19759]
    assert budgets_svc.period_flows(db_session, user_id, JAN(1), JAN(31)) == (0, 19759)
    february = budgets_svc.Period.containing("monthly", date(2026, 2, 1))
    frame = budgets_svc.budget_frame(db_session, user_id, february, TODAY)
    assert frame["carried_cents"].tolist() == [15000 - 19759]


def test_the_sql_conversion_is_the_python_conversion_and_falls_back_beyond_64_bits(db_session, monkeypatch):
    """The groups are converted in SQL (exact integers; NUMERIC on PostgreSQL); a Python reference
    (fx.convert_frame) gives the same frames for every key the pages ask for. On SQLite a product beyond
    64 bits is detected and the aggregate is recomputed in Python, exactly."""
    user_id, accounts = _setup(db_session)
    cats = _categories(db_session)
    _spend(db_session, user_id, accounts, MONTH + [(JAN(1), "USD", "3.00"), (JAN(21), "JPY", "99999")], cats["Food"])
    _spend(db_session, user_id, accounts, [(JAN(5), "JPY", "77"), (JAN(20), "USD", "0.07"), (JAN(20), "USD", "0.05")],
           cats["Shopping"])
    filters = _january()
    currencies = fx.account_currencies(db_session, user_id)
    base_ids, foreign_ids = currencies.split()
    book = fx.load_rates(db_session, user_id, {"EUR", "USD", "JPY"}, filters.start, filters.end)

    def python(keys, **kw):
        conversion = fx.Conversion("EUR")
        frame = svc._converted_in_python(db_session, user_id, filters, keys, filters.start, filters.end, currencies,
                                         base_ids, foreign_ids, book, kw.get("order_by_total", False),
                                         kw.get("limit"), conversion)
        return frame, conversion

    for keys, kw in ((["category_id"], {}), (["day", "category_id"], {}), (["bucket", "category_id"], {}),
                     (["payee"], {"order_by_total": True, "limit": 10}), ([], {})):
        conversion = fx.Conversion("EUR")
        got = svc.aggregate(db_session, user_id, filters, keys, conversion=conversion, **kw)
        expected, expected_conversion = python(keys, **kw)
        sort = keys or ["total_cents"]
        pd.testing.assert_frame_equal(got.sort_values(sort).reset_index(drop=True),
                                      expected.sort_values(sort).reset_index(drop=True), check_dtype=False)
        assert conversion.unconverted == expected_conversion.unconverted
        assert conversion.converted_from == expected_conversion.converted_from == {"USD", "JPY"}

    # A rate with 18 significant digits makes the SQLite product overflow: the Python path answers.
    fx.set_rate(db_session, user_id, day=JAN(20), currency="USD", base="EUR", rate="1.10000000000000001")
    db_session.commit()
    book = fx.load_rates(db_session, user_id, {"EUR", "USD", "JPY"}, filters.start, filters.end)
    expected, _ = python(["category_id"])
    calls = []
    original = svc._converted_in_python
    monkeypatch.setattr(svc, "_converted_in_python", lambda *a: calls.append(1) or original(*a))
    got = svc.aggregate(db_session, user_id, filters, ["category_id"])
    assert dict(zip(got["category_id"], got["total_cents"])) == dict(zip(expected["category_id"],
                                                                         expected["total_cents"]))
    assert bool(calls) == (db_session.get_bind().dialect.name == "sqlite")


def test_rows_keep_their_native_amount_and_currency(client, db_session, make_user):
    """The Transactions grid and the explorer's rows show each amount in its account's currency; the
    Transactions summary nets each currency apart; the CSV download names the currency."""
    import csv
    import io

    from conftest import login

    from dashboard.services import transaction_grid as grid

    user = make_user("rows@example.com", currency="EUR")
    user_id, accounts = _setup(db_session, user=user)
    _spend(db_session, user_id, accounts, MONTH, _categories(db_session)["Food"])
    page = grid.rows_page(db_session, user_id, grid.parse_filters({}), 0, 100)
    records = grid.grid_records(page)
    assert {(r["amount"], r["currency"]) for r in records} == {
        ("-12.34", "EUR"), ("-40.00", "EUR"), ("-100.00", "USD"), ("-50.00", "USD"), ("-1234.00", "JPY")}
    totals = grid.summary(db_session, user_id, grid.parse_filters({}))
    assert totals["by_currency"] == {"EUR": -5234, "JPY": -123400, "USD": -15000}
    rows = svc.rows_page(db_session, user_id, _january(), 0, 100)
    assert set(zip(rows["amount_cents"], rows["currency"])) == {
        (1234, "EUR"), (4000, "EUR"), (10000, "USD"), (5000, "USD"), (123400, "JPY")}
    login(client, "rows@example.com")
    response = client.get("/export/spending.csv?preset=custom&from=2026-01-01&to=2026-01-31", buffered=True)
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines[0][5:7] == ["amount", "currency"]
    assert sorted((line[5], line[6]) for line in lines[1:]) == [
        ("100.00", "USD"), ("12.34", "EUR"), ("1234.00", "JPY"), ("40.00", "EUR"), ("50.00", "USD")]


# -- import ----------------------------------------------------------------------------------------

def test_imports_keep_to_the_accounts_currency(db_session):
    """OFX: a statement whose CURDEF differs from the account's currency is refused. CSV: a currency
    column is read (its header guessed); a row in another currency than the account's is an error the
    user must leave out; an amount finer than the currency's minor unit (half a yen) too."""
    from pathlib import Path

    from dashboard.services import importer as imp

    user_id, accounts = _setup(db_session)
    data = Path(__file__).parent / "data"
    eur_statement = imp.parse_file((data / "statement_v2.qfx").read_bytes(), "card.qfx")
    assert eur_statement.info["currencies"] == ["EUR"]
    assert len(imp.plan_import(db_session, user_id, accounts["EUR"], eur_statement).to_import) == 3
    with pytest.raises(imp.ImportFileError, match=r"in EUR \(its CURDEF\).*is in USD"):
        imp.plan_import(db_session, user_id, accounts["USD"], eur_statement)

    csv_data = (b"Date,Payee,Amount,Currency\n2026-01-05,Cafe,-4.50,usd\n2026-01-06,Hotel,-120.00,EUR\n"
                b"2026-01-07,Shop,-9.99,USD\n")
    guess = imp.inspect_csv(csv_data)
    assert guess.mapping.currency == 3
    parsed = imp.parse_csv(csv_data, guess.mapping)
    assert [r.currency for r in parsed.rows] == ["USD", "EUR", "USD"]
    plan = imp.plan_import(db_session, user_id, accounts["USD"], parsed)
    assert [r.status for r in plan.rows] == ["new", "error", "new"]
    assert "In EUR, but the account is in USD" in plan.rows[1].reason
    assert plan.blocking_errors == [plan.rows[1]]
    plan = imp.plan_import(db_session, user_id, accounts["USD"], parsed, decisions={plan.rows[1].line: False})
    assert not plan.blocking_errors and len(plan.to_import) == 2

    yen = imp.parse_csv(b"Date,Payee,Amount\n2026-01-05,Ramen,-980\n2026-01-06,Odd,-10.50\n",
                        imp.inspect_csv(b"Date,Payee,Amount\n2026-01-05,Ramen,-980\n").mapping)
    plan = imp.plan_import(db_session, user_id, accounts["JPY"], yen)
    assert [r.status for r in plan.rows] == ["new", "error"] and "no decimals" in plan.rows[1].reason
    bad = imp.parse_csv(b"Date,Payee,Amount,Currency\n2026-01-05,Cafe,-4.50,dollars\n", guess.mapping)
    assert bad.rows == [] and "not a currency code" in bad.errors[0].reason


# -- transfers -------------------------------------------------------------------------------------

def test_a_transfer_across_currencies_has_two_amounts_and_never_counts_as_spending(db_session):
    from dashboard.services import transactions as tx_svc
    from models import Transaction

    user_id, accounts = _setup(db_session)
    _spend(db_session, user_id, accounts, MONTH, _categories(db_session)["Food"])
    with pytest.raises(fx.ServiceError, match="arrived in USD"):
        tx_svc.create_transfer(db_session, user_id, from_account_id=accounts["EUR"], to_account_id=accounts["USD"],
                               date=JAN(16), amount="100.00")
    db_session.rollback()
    with pytest.raises(fx.ServiceError, match="no decimals"):
        tx_svc.create_transfer(db_session, user_id, from_account_id=accounts["EUR"], to_account_id=accounts["JPY"],
                               date=JAN(16), amount="100.00", to_amount="15712.5")
    db_session.rollback()
    out_leg, in_leg = tx_svc.create_transfer(db_session, user_id, from_account_id=accounts["EUR"],
                                             to_account_id=accounts["USD"], date=JAN(16), amount="100.00",
                                             to_amount="108.90")
    db_session.commit()
    assert (out_leg.amount, in_leg.amount) == (D("-100.00"), D("108.90"))
    assert out_leg.kind == in_leg.kind == "transfer"
    assert fx.implied_rate(out_leg.amount, in_leg.amount) == D("1.089000")
    # Neither leg is spending or income: the month's totals are the hand calculation's.
    assert svc.explore(db_session, user_id, _january(), today=TODAY).total_cents == 19759
    assert overview_svc.period_totals(db_session, user_id, JAN(1), JAN(31)).income_cents == 0
    # Undo keeps both amounts.
    snapshot = tx_svc.snapshot_transaction(db_session, user_id, out_leg.id)
    tx_svc.delete_transaction(db_session, user_id, out_leg.id)
    db_session.commit()
    restored = tx_svc.restore_transaction(db_session, user_id, snapshot)
    db_session.commit()
    assert sorted(t.amount for t in restored) == [D("-100.00"), D("108.90")]
    assert db_session.query(Transaction).filter_by(user_id=user_id, kind="transfer").count() == 2


def test_the_add_form_records_a_transfer_across_currencies_and_shows_the_implied_rate(client, app, db_session,
                                                                                       make_user):
    from conftest import login
    from test_transactions_callbacks import add, value

    from models import Transaction

    user = make_user("transfer@example.com", currency="EUR")
    user_id, accounts = _setup(db_session, user=user)
    login(client, "transfer@example.com")
    status, body = add(client, app, kind="transfer", account=str(accounts["EUR"]),
                       **{"to-account": str(accounts["USD"])}, amount="100")
    assert "arrived in USD" in value(body, "transactions-add-errors", "data")["to_amount"]
    status, body = add(client, app, kind="transfer", account=str(accounts["EUR"]),
                       **{"to-account": str(accounts["USD"]), "to-amount": "108.90"}, amount="100")
    assert status == 200
    message = json.dumps(value(body, "transactions-message", "children"))
    assert "1 EUR = 1.089 USD" in message
    legs = sorted(db_session.query(Transaction.amount).filter_by(user_id=user_id, kind="transfer").all())
    assert [a for (a,) in legs] == [D("-100.00"), D("108.90")]


def test_rows_without_a_rate_still_fill_the_explorers_grid(client, db_session, make_user):
    """A day with no rate leaves its money out of the converted totals (and says so), but its rows are
    still the filter's rows: the grid lists them, in their own currency."""
    from conftest import login
    from test_spending_callbacks import update_call

    user = make_user("fxgrid@example.com", currency="EUR")
    user_id, accounts = _setup(db_session, user=user)
    _spend(db_session, user_id, accounts, [(JAN(1), "USD", "10.00")], _categories(db_session)["Food"])
    login(client, "fxgrid@example.com")
    status, body = update_call(client, {"dates.start_date": "2026-01-01", "dates.end_date": "2026-01-01",
                                        "accounts": [accounts["USD"]]}, "spending-accounts.value",
                               state={"preset": "custom", "from": "2026-01-01", "to": "2026-01-01"})
    assert status == 200
    assert "no USD\\u2192EUR rate" in _text(body["spending-totals"]["children"])
    first = body["spending-grid-first"]["data"]
    assert first["rowCount"] == 1 and first["rowData"][0]["amount_cents"] == 1000
    assert first["rowData"][0]["currency"] == "USD"
