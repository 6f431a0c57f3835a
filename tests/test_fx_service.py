"""Exchange rates and exact conversion (dashboard/services/fx.py): known answers worked by hand,
the missing rate reported, and a property over random rows."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.services import fx
from dashboard.services.errors import ServiceError
from models import Account, ExchangeRate

D = Decimal
JAN = lambda day: date(2026, 1, day)  # noqa: E731

# The ECB's way round: 1 EUR = rate units of the currency.
ECB_ROWS = [
    (JAN(2), "USD", "EUR", D("1.0876")),
    (JAN(15), "USD", "EUR", D("1.1000")),  # the rate changes mid-month
    (JAN(2), "JPY", "EUR", D("157.12")),
    (JAN(2), "GBP", "EUR", D("0.8625")),
]
BOOK = fx.RateBook.from_rows(ECB_ROWS)


def test_minor_units_come_from_babel():
    assert (fx.minor_digits("EUR"), fx.minor_digits("JPY"), fx.minor_digits("KWD"), fx.minor_digits("BHD")) \
        == (2, 0, 3, 3)


def test_a_month_in_eur_usd_and_jpy_totals_what_the_hand_calculation_gives():
    rows = [
        (JAN(3), "EUR", D("-12.34")),
        (JAN(10), "USD", D("-100.00")),  # 100 / 1.0876 = 91.9455...  -> 91.95 (rate of Jan 2)
        (JAN(20), "USD", D("-50.00")),   # 50 / 1.1000 = 45.4545...    -> 45.45 (rate of Jan 15)
        (JAN(5), "JPY", D("-1234")),     # 1234 / 157.12 = 7.85387...  -> 7.85
        (JAN(31), "USD", D("2500.00")),  # 2500 / 1.1 = 2272.7272...   -> 2272.73
    ]
    total = fx.convert_rows(rows, "EUR", BOOK)
    assert total.complete and total.converted_rows == 5
    assert total.amount == D("-12.34") - D("91.95") - D("45.45") - D("7.85") + D("2272.73") == D("2115.14")


def test_each_transaction_uses_the_rate_of_its_own_day():
    before, after = (fx.convert_rows([(JAN(d), "USD", D("1000.00"))], "EUR", BOOK).amount for d in (14, 15))
    assert before == D("919.46")  # 1000 / 1.0876 = 919.4556...
    assert after == D("909.09")   # 1000 / 1.1    = 909.0909...


def test_other_directions_and_cross_rates():
    # EUR -> JPY multiplies and rounds to whole yen; USD -> GBP goes through the euro.
    assert fx.convert(D("10.00"), BOOK.factor("EUR", "JPY", JAN(5)), "JPY") == D("1571")  # 1571.2
    factor = BOOK.factor("USD", "GBP", JAN(5))
    assert factor == Fraction(D("0.8625")) / Fraction(D("1.0876"))
    assert fx.convert(D("100.00"), factor, "GBP") == D("79.30")  # 86.25 / 1.0876 = 79.3031...
    # A three-decimal target keeps three decimals.
    kwd = fx.RateBook.from_rows([(JAN(2), "KWD", "EUR", D("0.3342"))])
    assert fx.convert(D("10.00"), kwd.factor("EUR", "KWD", JAN(2)), "KWD") == D("3.342")


def test_half_even_ties_go_to_the_even_neighbour():
    half = Fraction(1, 2)
    assert fx.convert(D("0.05"), half, "EUR") == D("0.02")   # 0.025 -> 0.02
    assert fx.convert(D("0.15"), half, "EUR") == D("0.08")   # 0.075 -> 0.08
    assert fx.convert(D("-0.05"), half, "EUR") == D("-0.02")
    assert fx.convert(D("5"), half, "JPY") == D("2")         # 2.5 yen -> 2
    assert fx.convert_cents(500, half, "JPY") == 200         # stored hundredths: 2 yen
    assert fx.convert_cents(5, half, "USD") == 2


def test_a_missing_rate_is_reported_never_zero():
    rows = [(JAN(1), "USD", D("-10.00")), (JAN(1), "USD", D("-5.00")), (JAN(3), "USD", D("-1.00")),
            (JAN(3), "CHF", D("-7.00"))]
    total = fx.convert_rows(rows, "EUR", BOOK)
    assert not total.complete
    assert total.missing == (fx.Missing("CHF", "EUR", JAN(3)), fx.Missing("USD", "EUR", JAN(1)))
    assert total.partial == D("-0.92")  # only the Jan 3 USD row: 1 / 1.0876
    with pytest.raises(fx.RatesMissing) as caught:
        _ = total.amount
    assert "no USD->EUR rate on or before 2026-01-01" in caught.value.message
    assert "CHF" in caught.value.message
    assert BOOK.factor("USD", "EUR", JAN(1)) is None  # the next rate after the day is not used


def test_currency_checks():
    assert fx.check_currency(" eur ") == "EUR"
    for bad in ("", "EU", "EURO", "ZZZ", None, "€"):
        with pytest.raises(ServiceError):
            fx.check_currency(bad)
    assert fx.check_account_currency("JPY") == "JPY"
    with pytest.raises(ServiceError, match="3 decimals"):
        fx.check_account_currency("KWD")
    assert fx.check_amount(D("1234"), "JPY") == D("1234")
    with pytest.raises(ServiceError, match="no decimals"):
        fx.check_amount(D("12.50"), "JPY")


rows_strategy = st.lists(st.tuples(
    st.integers(min_value=1, max_value=31).map(JAN),
    st.sampled_from(["EUR", "USD", "JPY", "GBP"]),
    st.integers(min_value=-10**9, max_value=10**9),
), max_size=40)


@settings(max_examples=200, deadline=None)
@given(rows_strategy, st.randoms(use_true_random=False), st.sampled_from(["EUR", "USD", "JPY", "GBP"]))
def test_converting_then_summing_equals_summing_each_transaction_in_any_order(rows, rnd, target):
    def amount(currency, n):  # whole units of the currency's minor unit, as stored
        return D(n).scaleb(-fx.minor_digits(currency))

    rows = [(day, currency, amount(currency, n)) for day, currency, n in rows if day >= JAN(2)]
    total = fx.convert_rows(rows, target, BOOK)
    assert total.complete
    one_by_one = sum(fx.convert(a, BOOK.factor(c, target, d), target) for d, c, a in rows)
    assert total.amount == one_by_one
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert fx.convert_rows(shuffled, target, BOOK).amount == total.amount
    # Each row is off the exact value by at most half a minor unit, so the total by at most n/2.
    exact = sum((Fraction(a) * BOOK.factor(c, target, d) for d, c, a in rows), Fraction(0))
    unit = Fraction(1, 10 ** fx.minor_digits(target))
    assert abs(Fraction(total.amount) - exact) <= unit * len(rows) / 2


@given(st.decimals(min_value=D("0.000001"), max_value=D("100000"), places=6, allow_nan=False))
def test_rates_round_trip_exactly_through_their_text_column(rate):
    from models.db import ExactDecimal
    column = ExactDecimal()
    assert column.process_result_value(column.process_bind_param(rate, None), None) == rate


# -- with the database -----------------------------------------------------------------------------

def test_rates_are_entered_corrected_and_loaded_per_user(db_session, make_user):
    alice, bob = make_user("alice@example.com", currency="EUR"), make_user("bob@example.com")
    fx.set_rate(db_session, alice.id, day="2026-01-02", currency="usd", base="EUR", rate="1.0876")
    fx.set_rate(db_session, alice.id, day=JAN(15), currency="USD", base="EUR", rate="1.2")
    fx.set_rate(db_session, alice.id, day=JAN(15), currency="USD", base="EUR", rate=" 1.1000 ")  # corrected
    fx.set_rate(db_session, alice.id, day=date(2025, 12, 1), currency="USD", base="EUR", rate="1.05")
    fx.set_rate(db_session, bob.id, day=JAN(2), currency="USD", base="EUR", rate="9")
    db_session.commit()
    assert db_session.query(ExchangeRate).filter_by(user_id=alice.id).count() == 3

    book = fx.load_rates(db_session, alice.id, {"EUR", "USD"}, JAN(10), JAN(31))
    assert book.quote("EUR", "USD", JAN(10)) == D("1.0876")  # the latest before the range is loaded
    assert book.quote("EUR", "USD", JAN(20)) == D("1.1")
    assert D("1.05") not in book.series[("EUR", "USD")][1]    # older ones are not
    assert fx.load_rates(db_session, bob.id, {"EUR", "USD"}, JAN(10), JAN(31)).quote("EUR", "USD", JAN(10)) == 9


@pytest.mark.parametrize("field,values", [
    ("currency", {"currency": "EUR"}), ("currency", {"currency": "XYZ"}), ("day", {"day": "2026-13-01"}),
    ("rate", {"rate": "0"}), ("rate", {"rate": "-1"}), ("rate", {"rate": "abc"}), ("rate", {"rate": "nan"}),
    ("rate", {"rate": "1e400"}),
])
def test_bad_rates_are_refused_with_the_field_named(db_session, make_user, field, values):
    user = make_user(currency="EUR")
    entry = {"day": "2026-01-02", "currency": "USD", "base": "EUR", "rate": "1.1", **values}
    with pytest.raises(ServiceError) as caught:
        fx.set_rate(db_session, user.id, **entry)
    assert caught.value.field == field
    db_session.rollback()
    assert db_session.query(ExchangeRate).count() == 0


def test_new_accounts_default_to_their_owners_currency(db_session, make_user):
    user = make_user(currency="JPY")
    db_session.add_all([Account(user_id=user.id, name="Yen"), Account(user_id=user.id, name="Dollars",
                                                                      currency="USD")])
    db_session.commit()
    got = dict(db_session.query(Account.name, Account.currency).filter_by(user_id=user.id).all())
    assert got == {"Yen": "JPY", "Dollars": "USD"}


def test_converted_spending_from_the_daily_rollup_matches_the_hand_calculation(db_session, make_user):
    """The same month as above, written as transactions: the explorer's aggregate (the daily roll-up,
    converted per day, account and category) gives the hand-calculated total; a day with no rate is
    reported with its amount, and left out of the total."""
    from sqlalchemy import select

    from dashboard.services.accounts import create_account
    from dashboard.services.spending import SpendingFilters, aggregate
    from dashboard.services.transactions import create_transaction
    from models import Category

    user = make_user(currency="EUR")
    food = db_session.scalar(select(Category.id).where(Category.name == "Food", Category.user_id.is_(None)))
    accounts = {c: create_account(db_session, user.id, name=c, currency=c).id for c in ("EUR", "USD", "JPY")}
    for day, currency, amount in [(JAN(3), "EUR", "-12.34"), (JAN(10), "USD", "-100.00"),
                                  (JAN(20), "USD", "-50.00"), (JAN(5), "JPY", "-1234")]:
        create_transaction(db_session, user.id, account_id=accounts[currency], date=day, kind="expense",
                           amount=D(amount), category_id=food)
    for day, currency, base, rate in ECB_ROWS:
        fx.set_rate(db_session, user.id, day=day, currency=currency, base=base, rate=rate)
    db_session.commit()
    january = SpendingFilters(start=JAN(1), end=JAN(31), preset="custom")
    conversion = fx.Conversion("EUR")
    total = aggregate(db_session, user.id, january, [], conversion=conversion)
    assert conversion.complete and int(total["row_count"].iloc[0]) == 4
    assert int(total["total_cents"].iloc[0]) == 1234 + 9195 + 4545 + 785 == 15759

    create_transaction(db_session, user.id, account_id=accounts["USD"], date=JAN(1), kind="expense",
                       amount=D("-1.00"), category_id=food)
    db_session.commit()
    conversion = fx.Conversion("EUR")
    total = aggregate(db_session, user.id, january, [], conversion=conversion)
    assert conversion.missing_rates == (fx.Missing("USD", "EUR", JAN(1)),)
    assert conversion.unconverted == (fx.Unconverted("USD", JAN(1), JAN(1), 1, 100),)
    assert int(total["total_cents"].iloc[0]) == 15759


def test_transaction_writes_keep_to_the_accounts_currency(db_session, make_user):
    """No half yen; no transaction moved into an account of another currency; no one-amount transfer
    between two currencies (until transfers across currencies have two amounts)."""
    from dashboard.services.accounts import create_account
    from dashboard.services.transactions import create_transaction, create_transfer, update_transaction
    from models import Transaction

    user = make_user(currency="EUR")
    euro, yen, yen2 = (create_account(db_session, user.id, name=n, currency=c).id
                       for n, c in (("Euro", "EUR"), ("Yen", "JPY"), ("Yen 2", "JPY")))
    with pytest.raises(ServiceError, match="no decimals"):
        create_transaction(db_session, user.id, account_id=yen, date=JAN(5), kind="income", amount="10.50")
    tx = create_transaction(db_session, user.id, account_id=yen, date=JAN(5), kind="income", amount="1050")
    db_session.commit()
    with pytest.raises(ServiceError, match="no decimals"):
        update_transaction(db_session, user.id, tx.id, expected_version=tx.version, amount="10.5")
    db_session.rollback()
    with pytest.raises(ServiceError, match="in EUR"):
        update_transaction(db_session, user.id, tx.id, expected_version=tx.version, account_id=euro)
    db_session.rollback()
    update_transaction(db_session, user.id, tx.id, expected_version=tx.version, account_id=yen2)
    with pytest.raises(ServiceError, match="enter the amount that arrived in JPY"):
        create_transfer(db_session, user.id, from_account_id=euro, to_account_id=yen, date=JAN(5), amount="10")
    db_session.rollback()
    create_transfer(db_session, user.id, from_account_id=yen, to_account_id=yen2, date=JAN(5), amount="500")
    db_session.commit()
    assert db_session.query(Transaction).filter_by(user_id=user.id).count() == 3
