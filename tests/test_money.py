"""Money: exact Decimal amounts stored as integer cents, and the parser for what people type.

Property tests (hypothesis) write amounts through the ORM and read them back on another connection,
compare SQL SUM with Python's Decimal sum, and check that floats and sub-cent amounts never reach the
database. A table of typed inputs pins down parse_amount.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import StatementError

from dashboard.services.errors import ServiceError
from dashboard.services.validation import parse_amount
from models import Account, Budget, Money, User, db, from_cents, to_cents
from models.db import MAX_CENTS

LIMIT = Decimal("99999999.99")
amounts = st.decimals(min_value=-LIMIT, max_value=LIMIT, places=2)
# Function-scoped fixtures are fine here: every example cleans up after itself.
db_settings = settings(max_examples=60, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])


def _fresh_read(statement):
    """Read on a separate connection: nothing cached in the session can answer."""
    with db.engine.connect() as conn:
        return conn.execute(statement).scalar_one()


# -- to_cents / from_cents -----------------------------------------------------------------------

@given(amounts)
@settings(max_examples=200, deadline=None)
def test_to_cents_from_cents_round_trip(amount):
    cents = to_cents(amount)
    assert isinstance(cents, int)
    assert cents == int(amount * 100)
    assert from_cents(cents) == amount
    assert from_cents(cents).as_tuple().exponent == -2


@given(st.decimals(allow_nan=False, allow_infinity=False))
@settings(max_examples=200, deadline=None)
def test_to_cents_is_exact_or_refuses(value):
    """Any finite Decimal is either stored exactly or refused with ValueError, never rounded."""
    try:
        cents = to_cents(value)
    except ValueError:
        too_large = abs(value) > Decimal(MAX_CENTS) / 100
        assert too_large or value != value.quantize(Decimal("0.01"))
        return
    assert Decimal(cents) / 100 == value
    assert abs(cents) <= MAX_CENTS


@pytest.mark.parametrize("value", [
    Decimal("1.0000000000000000000000000001"),  # more digits than the decimal context keeps
    Decimal("1E-2000000"),                       # underflows to zero when multiplied
    Decimal("0.001"), "1.234", Decimal("-0.005"),
])
def test_to_cents_refuses_sub_cent_amounts(value):
    with pytest.raises(ValueError, match="two decimals"):
        to_cents(value)


@pytest.mark.parametrize("value", [Decimal("1E+999999"), "9" * 5000, Decimal("10000000000.01"),
                                   -10**11, 10**12])
def test_to_cents_refuses_huge_amounts(value):
    with pytest.raises(ValueError, match="too large"):
        to_cents(value)


@pytest.mark.parametrize("value", [1.5, 0.1, float("nan"), float("inf"), True, object(), [1]])
def test_to_cents_refuses_floats_and_non_numbers(value):
    with pytest.raises(TypeError):
        to_cents(value)


@pytest.mark.parametrize("value", ["abc", "NaN", "inf", Decimal("NaN"), Decimal("-Infinity")])
def test_to_cents_refuses_non_finite_text(value):
    with pytest.raises(ValueError):
        to_cents(value)


def test_money_type_speaks_decimal():
    money = Money()
    assert money.python_type is Decimal
    assert money.process_bind_param(None, None) is None
    assert money.process_result_value(None, None) is None
    assert money.process_bind_param(Decimal("12.30"), None) == 1230
    assert money.process_result_value(1230, None) == Decimal("12.30")


# -- through the database ------------------------------------------------------------------------

def _one_user(session, make_user) -> int:
    """The test's user: made by the first example, reused by the next ones (wiped after the test)."""
    return session.scalar(select(User.id).limit(1)) or make_user().id


@given(amount=amounts)
@db_settings
def test_amount_round_trips_through_database(db_session, make_user, amount):
    user = _one_user(db_session, make_user)
    account = Account(user_id=user, name="Round trip", opening_balance=amount)
    db_session.add(account)
    db_session.commit()
    try:
        read = _fresh_read(select(Account.opening_balance).where(Account.id == account.id))
        assert isinstance(read, Decimal)
        assert read == amount
        raw = _fresh_read(text("SELECT opening_balance FROM accounts WHERE id = :id")
                          .bindparams(id=account.id))
        assert int(raw) == int(amount * 100)  # integer cents in storage
        if amount >= 0:  # budgets cannot be negative
            budget_amount = amount
            cat = db_session.scalar(text("SELECT id FROM categories WHERE user_id IS NULL "
                                         "AND kind = 'expense' LIMIT 1"))
            budget = Budget(user_id=user, category_id=cat, amount=budget_amount, period_type="monthly",
                            start_date=date(2026, 1, 1), end_date=date(2026, 1, 31))
            db_session.add(budget)
            db_session.commit()
            assert _fresh_read(select(Budget.amount).where(Budget.id == budget.id)) == budget_amount
    finally:
        db_session.rollback()
        db_session.execute(delete(Budget))
        db_session.execute(delete(Account))
        db_session.commit()


@given(extra=st.lists(amounts, max_size=40))
@db_settings
def test_sql_sum_equals_decimal_sum(db_session, make_user, extra):
    user = _one_user(db_session, make_user)
    values = [Decimal("0.01"), LIMIT, Decimal("99999999.99"), -LIMIT, Decimal("0.10"), *extra]
    db_session.add_all(Account(user_id=user, name=f"a{i}", opening_balance=v) for i, v in enumerate(values))
    db_session.commit()
    try:
        expected = sum(values, Decimal("0"))
        total = _fresh_read(select(func.sum(Account.opening_balance)).where(Account.user_id == user))
        assert isinstance(total, Decimal)
        assert total == expected
        raw = _fresh_read(text("SELECT sum(opening_balance) FROM accounts WHERE user_id = :u")
                          .bindparams(u=user))
        assert int(raw) == int(expected * 100)
    finally:
        db_session.rollback()
        db_session.execute(delete(Account))
        db_session.commit()


def _count_accounts():
    return _fresh_read(select(func.count()).select_from(Account))


@pytest.mark.parametrize("bad, error", [
    (12.5, TypeError), (0.1, TypeError), (float("nan"), TypeError),
    (Decimal("1.005"), ValueError), ("1.234", ValueError), (Decimal("1E+20"), ValueError),
])
def test_bad_amount_refused_at_write_and_nothing_written(db_session, make_user, bad, error):
    user = make_user()
    before = _count_accounts()
    db_session.add(Account(user_id=user.id, name="Bad", opening_balance=bad))
    with pytest.raises((error, StatementError)) as info:
        db_session.commit()
    # SQLAlchemy wraps errors raised while binding parameters; the cause is the Money type's.
    cause = info.value.orig if isinstance(info.value, StatementError) else info.value
    assert isinstance(cause, error)
    db_session.rollback()
    assert _count_accounts() == before
    assert db_session.scalar(select(func.count()).select_from(Account)
                             .where(Account.name == "Bad")) == 0


def test_float_refused_on_update_too(db_session, make_user, make_account):
    account = make_account(make_user(), opening="10.00")
    account.opening_balance = 19.99
    with pytest.raises((TypeError, StatementError)) as info:
        db_session.commit()
    cause = info.value.orig if isinstance(info.value, StatementError) else info.value
    assert isinstance(cause, TypeError)
    db_session.rollback()
    assert _fresh_read(select(Account.opening_balance).where(Account.id == account.id)) == Decimal("10.00")


# -- parse_amount --------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, expected", [
    ("1,234.50", Decimal("1234.50")),
    ("1234.5", Decimal("1234.50")),
    ("$1234", Decimal("1234.00")),
    ("  12 ", Decimal("12.00")),
    ("12", Decimal("12.00")),
    ("0.99", Decimal("0.99")),
    (".5", Decimal("0.50")),
    ("1,000,000", Decimal("1000000.00")),
    ("€ 7.25", Decimal("7.25")),
    ("7.25 USD", Decimal("7.25")),
    ("1.230", Decimal("1.23")),
    ("0", Decimal("0.00")),
    ("10000000000.00", Decimal("10000000000.00")),  # the largest storable amount
    (Decimal("42.1"), Decimal("42.10")),
    (Decimal("99999999.99"), Decimal("99999999.99")),
    (17, Decimal("17.00")),
])
def test_parse_amount_accepts(typed, expected):
    value = parse_amount(typed)
    assert value == expected
    assert isinstance(value, Decimal)
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize("typed, message", [
    ("abc", "not an amount"),
    ("-5", "cannot be negative"),
    ("(5)", "cannot be negative"),
    ("1e308", "not an amount"),
    ("1E5", "not an amount"),
    ("NaN", "not an amount"),
    ("nan", "not an amount"),
    ("inf", "not an amount"),
    ("-Infinity", "not an amount"),
    ("", "Enter an amount"),
    ("   ", "Enter an amount"),
    ("$", "Enter an amount"),
    (None, "Enter an amount"),
    (True, "Enter an amount"),
    ("1.234", "two decimals"),
    ("0.001", "two decimals"),
    ("12,34", "not an amount"),
    ("1,2345.00", "not an amount"),
    ("1,23,456", "not an amount"),
    ("1.2.3", "not an amount"),
    ("-", "not an amount"),
    (".", "not an amount"),
    ("0x10", "not an amount"),
    ("1_000", "not an amount"),
    ("10000000000.01", "too large"),
    ("99999999999999999999", "too large"),
    ("9" * 5000, "too large"),
    ("1" * 40 + ".001", "too large"),
    (Decimal("1E+999999"), "too large"),
    (Decimal("NaN"), "finite"),
    (Decimal("Infinity"), "finite"),
    (Decimal("0.001"), "two decimals"),
    (Decimal("1E-2000000"), "two decimals"),
    (float("nan"), "not an amount"),
    (1e308, "not an amount"),
])
def test_parse_amount_refuses(typed, message):
    with pytest.raises(ServiceError) as info:
        parse_amount(typed, field="price")
    assert message.lower() in info.value.message.lower()
    assert info.value.field == "price"


@pytest.mark.parametrize("typed, expected", [("-5", Decimal("-5.00")), ("(5)", Decimal("-5.00")),
                                             ("-1,234.56", Decimal("-1234.56")), ("-$3", Decimal("-3.00"))])
def test_parse_amount_negative_only_when_allowed(typed, expected):
    assert parse_amount(typed, allow_negative=True) == expected
    with pytest.raises(ServiceError, match="negative"):
        parse_amount(typed)


def test_parse_amount_zero_only_when_allowed():
    assert parse_amount("0.00") == 0
    with pytest.raises(ServiceError, match="zero"):
        parse_amount("0.00", allow_zero=False)


@given(amounts)
@settings(max_examples=100, deadline=None)
def test_parse_amount_reads_formatted_amounts_exactly(amount):
    """What the app shows (thousands separators, two decimals) parses back to the same Decimal."""
    for shown in (f"{amount:,.2f}", f"{amount:.2f}", str(amount)):
        assert parse_amount(shown, allow_negative=True) == amount
    assert to_cents(parse_amount(f"{amount:,.2f}", allow_negative=True)) == int(amount * 100)


@given(st.text(max_size=30))
@settings(max_examples=100, deadline=None)
def test_parse_amount_any_text_gives_decimal_or_service_error(typed):
    """Whatever is typed: a storable Decimal, or a ServiceError with a message (never a crash)."""
    try:
        value = parse_amount(typed, allow_negative=True)
    except ServiceError as exc:
        assert exc.message
        return
    assert to_cents(value) == int(value * 100)
