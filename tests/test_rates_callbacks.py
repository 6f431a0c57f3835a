"""The Rates page's callbacks through POST /_dash-update-component: import a file, enter a rate, see
the coverage; bad input gets a message for its field and the database is unchanged."""
from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal

from conftest import login
from test_goals_callbacks import post

from models import Account, ExchangeRate, Transaction

SHOW = ["rates-coverage.children", "rates-list.children"]
IMPORT = ["rates-message.children", "rates-refresh.data"]
SAVE = ["rates-message.children", "rates-refresh.data", "rates-day-feedback.children",
        "rates-currency-feedback.children", "rates-base-feedback.children", "rates-rate-feedback.children"]


def _file(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def _save(client, app, day="2026-01-02", currency="USD", base="EUR", rate="1.0876"):
    state = [("rates-day", "value", day), ("rates-currency", "value", currency), ("rates-base", "value", base),
             ("rates-rate", "value", rate), ("rates-refresh", "data", 0)]
    return post(client, app, SAVE, [("rates-save", "n_clicks", 1)], state)


def test_import_enter_and_coverage(client, app, db_session, make_user):
    alice = make_user("alice@example.com", currency="EUR")
    dollars = Account(user_id=alice.id, name="Dollars", currency="USD")
    db_session.add(dollars)
    db_session.flush()
    for day in (date(2026, 1, 1), date(2026, 1, 5)):
        db_session.add(Transaction(user_id=alice.id, account_id=dollars.id, date=day, amount=Decimal("-5.00"),
                                   kind="expense"))
    db_session.commit()
    login(client, "alice@example.com")

    status, body = post(client, app, SHOW, [("rates-refresh", "data", 0)])
    assert status == 200 and "2 days without a rate" in json.dumps(body)

    status, body = post(client, app, IMPORT, [("rates-file", "contents", _file(
        "date,currency,rate\n2026-01-02,USD,1.0876\n2026-01-03,USD,oops\n"))], [("rates-file", "filename", "r.csv"),
                                                                                 ("rates-refresh", "data", 0)])
    text = json.dumps(body)
    assert status == 200 and "1 rates added" in text and "Line 3" in text
    assert body["rates-refresh"]["data"] == 1
    status, body = post(client, app, SHOW, [("rates-refresh", "data", 1)])
    assert "1 days without a rate (2026-01-01" in json.dumps(body) and "1.0876" in json.dumps(body)

    status, body = _save(client, app, day="2025-12-31", currency="usd", rate="1.05")
    assert status == 200 and "Saved" in json.dumps(body)
    status, body = post(client, app, SHOW, [("rates-refresh", "data", 2)])
    assert "every day has a rate" in json.dumps(body)


def test_bad_input_is_named_and_writes_nothing(client, app, db_session, make_user):
    make_user("alice@example.com", currency="EUR")
    login(client, "alice@example.com")
    for kwargs, field in ((dict(rate="-1"), "rates-rate"), (dict(currency="XYZ"), "rates-currency"),
                          (dict(day="yesterday"), "rates-day"), (dict(currency="EUR"), "rates-currency")):
        status, body = _save(client, app, **kwargs)
        assert status == 200 and body[f"{field}-feedback"]["children"], kwargs
    status, body = post(client, app, IMPORT, [("rates-file", "contents", "data:text/csv;base64,!!")],
                        [("rates-file", "filename", "r.csv"), ("rates-refresh", "data", 0)])
    assert "could not be read" in json.dumps(body)
    assert db_session.query(ExchangeRate).count() == 0
