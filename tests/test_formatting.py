"""One formatting module (Babel) for pages and figures: money, numbers, dates, axes, the user's locale."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from test_security import fresh  # noqa: F401  (fixture)

from dashboard import formatting as fmt
from dashboard.figures import spending as figs
from dashboard.figures.theme import base_layout, money_axis


@pytest.mark.parametrize(("locale", "expected"), [
    ("en_US", "€1,234.50"), ("de_DE", "1.234,50\xa0€"), ("fr_FR", "1\u202f234,50\xa0€"), ("en_GB", "€1,234.50"),
])
def test_money_in_the_users_locale(locale, expected):
    assert fmt.format_money(123450, "EUR", cents=True, locale=locale) == expected


def test_money_signs_compact_and_zero_decimal_currencies():
    assert fmt.format_money(-4444, "USD", cents=True, locale="en_US") == "-$44.44"
    assert fmt.format_money(4444, "USD", cents=True, signed=True, locale="en_US") == "+$44.44"
    # Compact (axes, tight labels): the sign before the symbol, never "$-5k".
    assert fmt.format_money(-500000, "USD", cents=True, compact=True, locale="en_US") == "-$5K"
    assert fmt.format_money(1234500, "USD", cents=True, compact=True, locale="en_US") == "$12.3K"
    assert fmt.format_money(-500000, "EUR", cents=True, compact=True, locale="de_DE") == "-5.000\xa0€"
    assert fmt.format_money(Decimal("1234"), "JPY", locale="en_US") == "¥1,234"
    assert fmt.format_money(None, "USD") == "–"


def test_numbers_percentages_and_dates():
    assert fmt.format_number(1234567, locale="de_DE") == "1.234.567"
    assert fmt.format_percent(-0.123, signed=True, locale="en_US") == "-12.3%"
    assert fmt.format_percent(0.5, signed=True, locale="en_US") == "+50.0%"
    day = date(2026, 12, 2)
    assert fmt.format_date(day, locale="en_US") == "Dec 2, 2026"
    assert fmt.format_date(day, locale="de_DE") == "02.12.2026"
    assert fmt.format_month(day, locale="en_US") == "Dec 2026"
    assert fmt.format_date_range(date(2026, 12, 1), day, today=day, locale="en_GB") == "1–2 Dec"
    assert fmt.format_date_range(date(2026, 12, 1), day, today=day, locale="en_US") == "Dec 1\u2009–\u20092"
    assert fmt.format_date_range(date(2025, 11, 28), day, today=day, locale="en_US").endswith("2026")


def test_request_locale_is_the_default_and_unknown_ones_fall_back():
    token = fmt.use_locale("de_DE")
    try:
        assert fmt.format_money(123450, "EUR", cents=True) == "1.234,50\xa0€"
        assert base_layout("t")["separators"] == ",."
    finally:
        fmt.reset_locale(token)
    assert fmt.current_locale() == "en_US"
    assert fmt.check_locale("xx_YY") is None
    assert fmt.format_money(100, "USD", cents=True, locale="not-a-locale") == "$1.00"


def test_axis_ticks_read_like_the_labels():
    values, labels = fmt.money_ticks(-5200, 800, "USD", locale="en_US")
    assert labels == ["-$6K", "-$4K", "-$2K", "$0", "$2K"] and values == [-6000, -4000, -2000, 0, 2000]
    # Half steps are written exactly: 2.5K, never a rounded 2K beside a real 2,500.
    assert fmt.money_ticks(-2000, 8600, "USD", locale="en_US")[1] == ["-$2.5K", "$0", "$2.5K", "$5K", "$7.5K", "$10K"]
    axis = money_axis("USD", [-52.0, 8.0])
    assert axis["tickmode"] == "array" and "-$60" in axis["ticktext"] and "$-60" not in axis["ticktext"]


def test_comparison_figure_axis_and_labels_agree():
    categories = pd.DataFrame({"id": [1, 2], "name": ["Food", "Rent"], "parent_id": [None, None],
                               "color": ["#111111", "#222222"]})
    now = pd.DataFrame({"category_id": [1, 2], "total_cents": [10000, 50000], "row_count": [1, 1]})
    before = pd.DataFrame({"category_id": [1, 2], "total_cents": [14444, 40000], "row_count": [1, 1]})
    fig = figs.comparison(now, before, categories, {1: 1, 2: 2}, "USD", title="t")
    bar = fig["data"][0]
    assert "-$44" in bar["text"][0]            # the label: sign before the symbol
    assert all("$-" not in t for t in fig["layout"]["xaxis"]["ticktext"])


def test_locale_setting_changes_every_amount_the_user_sees(fresh, db_session, make_user, make_account):
    """Settings -> Language and region: de_DE writes 1.234,50 € on the pages (callbacks included);
    an unknown locale is refused with a message and nothing changes."""
    from conftest import csrf_token, login
    from test_spending_callbacks import views

    from dashboard.services.transactions import create_transaction
    from models import User

    alice = make_user("alice@example.com", currency="EUR")
    account = make_account(alice)
    create_transaction(db_session, alice.id, account_id=account.id, date=date(2026, 3, 5),
                       amount=Decimal("-1234.50"), payee="Möbelhaus")
    db_session.commit()
    client = fresh()
    login(client, "alice@example.com")
    page = client.get("/settings").get_data(as_text=True)
    assert 'name="locale"' in page and "Deutsch (Deutschland)" in page

    def save(locale):
        return client.post("/settings", data={"action": "profile", "display_name": "Alice", "currency": "EUR",
                                              "locale": locale, "csrf_token": csrf_token(client, "/settings")})

    bad = save("xx_EVIL")
    assert bad.status_code == 400 and b"Choose a language and region" in bad.data
    db_session.rollback()
    assert db_session.get(User, alice.id).locale == "en_US"
    status, body = views(client, {"preset": "custom", "from": "2026-03-01", "to": "2026-03-31"})
    assert body["spending-grid-summary"]["children"] == "1 row · total €1,234.50"
    assert save("de_DE").status_code == 302
    db_session.rollback()
    assert db_session.get(User, alice.id).locale == "de_DE"
    status, body = views(client, {"preset": "custom", "from": "2026-03-01", "to": "2026-03-31"})
    assert body["spending-grid-summary"]["children"] == "1 row · total 1.234,50\xa0€"
    assert body["spending-over-time"]["figure"]["layout"]["separators"] == ",."


def test_fast_money_and_percent_paths_write_exactly_what_babel_writes():
    """format_money (cents) and format_percent skip Babel's per-call work with a formatter checked
    against Babel when it is built; over every offered locale and currency they must agree with Babel
    to the character (grouping like 12,34,567, JPY without decimals, half-even rounding, signs)."""
    import random

    from babel.numbers import format_currency
    from babel.numbers import format_percent as babel_percent

    rng = random.Random(5)
    amounts = [0, 1, -1, 49, 50, 150, -150, 250, 99999, -123456789] + \
        [rng.randint(-10**12, 10**12) for _ in range(8)] + [rng.randint(-3000, 3000) for _ in range(8)]
    ratios = [0.0, 0.125, 0.135, -0.125, 0.0005, -0.004, 1 / 3] + [rng.uniform(-20, 20) for _ in range(8)]
    for locale in fmt.LOCALES:
        for currency in fmt.CURRENCIES:
            for cents in amounts:
                assert fmt.format_money(cents, currency, cents=True, locale=locale) == \
                    format_currency(Decimal(cents) / 100, currency, locale=locale), (locale, currency, cents)
        for digits in (0, 1):
            pattern = "#,##0" + (".0" if digits else "") + "%"
            for ratio in ratios:
                assert fmt.format_percent(ratio, digits=digits, locale=locale) == \
                    babel_percent(Decimal(str(ratio)), format=pattern, locale=locale), (locale, digits, ratio)
