"""Totals in the base currency beyond the explorer (issue 17): the Cash flow diagram, net worth over
time and the Forecast convert accounts in other currencies with services/fx.py, exactly as the explorer
does, and report a missing rate instead of counting it as zero. Known answers worked by hand (the
month of tests/test_fx_totals.py)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from test_fx_totals import JAN, MONTH, RATES, _categories, _setup, _spend

from dashboard.services import accounts as accounts_svc
from dashboard.services import flows
from dashboard.services import forecast as forecast_svc
from dashboard.services.transactions import create_transaction
from models import Account

D = Decimal


def test_cash_flow_totals_the_month_in_the_base_currency(db_session):
    user_id, accounts = _setup(db_session)
    _spend(db_session, user_id, accounts, MONTH, _categories(db_session)["Food"])
    create_transaction(db_session, user_id, account_id=accounts["USD"], date=JAN(16), kind="income",
                       amount=D("1100.00"), payee="Salary")   # 1100 / 1.1000 = 1000.00 EUR
    db_session.commit()
    data = flows.cashflow_sankey(db_session, user_id, JAN(1), JAN(31))
    assert data.spending_cents == 19759          # the explorer's total of the same month
    assert data.income_cents == 100000
    assert data.conversion.complete and data.conversion.converted_from == {"USD", "JPY"}


def test_cash_flow_reports_a_missing_rate_and_leaves_that_money_out(db_session):
    user_id, accounts = _setup(db_session, rates=[r for r in RATES if r[1] != "JPY"])
    _spend(db_session, user_id, accounts, MONTH, _categories(db_session)["Food"])
    data = flows.cashflow_sankey(db_session, user_id, JAN(1), JAN(31))
    assert data.spending_cents == 19759 - 785    # the yen are left out, not counted as zero
    assert not data.conversion.complete
    assert [(m.currency, m.day) for m in data.conversion.missing_rates] == [("JPY", JAN(5))]


def test_net_worth_over_time_values_each_month_end_at_its_rate(db_session):
    """Month-end balances: USD 100.00 at the end of January (rate of 15 Jan: 1.1000 -> 90.91 EUR);
    EUR 12.34 -> 12.34; JPY has no rate before 2 January: the December month-end is left out and named."""
    user_id, accounts = _setup(db_session)
    for currency, day, amount in (("USD", JAN(10), "100.00"), ("EUR", JAN(3), "12.34"), ("JPY", date(2025, 12, 20), "500")):
        create_transaction(db_session, user_id, account_id=accounts[currency], date=day, kind="income", amount=D(amount))
    db_session.commit()
    history = accounts_svc.balance_history(db_session, user_id, date(2025, 12, 1), JAN(31))
    converted, base, missing = accounts_svc.history_in_base_currency(db_session, user_id, history, JAN(31))
    assert base == "EUR"
    by = {(int(r.account_id), r.month): int(r.balance_cents) for r in converted.itertuples()}
    assert by[(accounts["USD"], date(2026, 1, 1))] == 9091          # 100 / 1.1 = 90.909... -> 90.91
    assert by[(accounts["EUR"], date(2026, 1, 1))] == 1234
    assert by[(accounts["JPY"], date(2026, 1, 1))] == 318 * 1       # 500 / 157.12 = 3.182... -> 3.18
    assert (accounts["JPY"], date(2025, 12, 1)) not in by
    assert [(m.currency, m.day) for m in missing] == [("JPY", date(2025, 12, 31))]
    assert accounts_svc.net_worth_history(converted)["net_cents"].tolist() == [0, 9091 + 1234 + 318]


def test_forecast_starts_from_the_converted_balance_and_uses_the_account_currency_for_one(db_session):
    user_id, accounts = _setup(db_session)
    for currency, amount in (("USD", "110.00"), ("EUR", "10.00"), ("JPY", "15712")):
        create_transaction(db_session, user_id, account_id=accounts[currency], date=JAN(20), kind="income",
                           amount=D(amount))
    db_session.commit()
    today = date(2026, 2, 10)
    result = forecast_svc.forecast(db_session, user_id, today=today, months=3)
    assert result.currency == "EUR"
    assert result.start_cents == 10000 + 1000 + 10000     # 110 / 1.1 + 10 + 15712 / 157.12
    assert result.conversion.complete and result.conversion.converted_from == {"USD", "JPY"}
    usd = forecast_svc.forecast(db_session, user_id, today=today, months=3, account_id=accounts["USD"])
    assert usd.currency == "USD" and usd.start_cents == 11000 and usd.conversion is None
    # The variable history reads through the explorer's aggregate: January's income in EUR.
    history = forecast_svc.converted_history(db_session, user_id, today, result.conversion)
    assert int(history.loc[date(2026, 1, 1)].sum()) == 10000 + 1000 + 10000
    assert db_session.get(Account, accounts["JPY"]).currency == "JPY"


def test_forecast_converts_each_scheduled_occurrence_at_its_days_rate(db_session):
    """A USD rent of 110.00 on the 1st of each month, in a EUR-based user's USD account: the rate of
    15 Jan (1.1000) is the latest known for every day ahead, so each occurrence is 100.00 EUR; the
    EUR schedule stays as it is; the JPY one uses the rate of 2 Jan."""
    from dashboard.services import schedules as sched

    user_id, accounts = _setup(db_session)
    sched.create_schedule(db_session, user_id, name="Rent", kind="expense", amount="110.00",
                          account_id=accounts["USD"], cadence="monthly", start_date="2026-03-01")
    sched.create_schedule(db_session, user_id, name="Gym", kind="expense", amount="20.00",
                          account_id=accounts["EUR"], cadence="monthly", start_date="2026-03-01")
    sched.create_schedule(db_session, user_id, name="Ramen", kind="expense", amount="1571",
                          account_id=accounts["JPY"], cadence="monthly", start_date="2026-03-01")
    db_session.commit()
    result = forecast_svc.forecast(db_session, user_id, today=date(2026, 2, 10), months=3)
    by_label = result.items.groupby("label")["amount_cents"].sum().to_dict()
    assert by_label == {"Rent": -3 * 10000, "Gym": -3 * 2000, "Ramen": -3 * 1000}   # 1571 JPY / 157.12 = 9.9987 -> 10.00 EUR
    assert int(result.scheduled_cents[-1]) == -3 * (10000 + 2000 + 1000)
    assert result.conversion.complete


def test_a_schedule_keeps_to_its_accounts_minor_unit(db_session):
    import pytest

    from dashboard.services import schedules as sched
    from dashboard.services.errors import ServiceError

    user_id, accounts = _setup(db_session)
    with pytest.raises(ServiceError, match="JPY amounts have no decimals"):
        sched.create_schedule(db_session, user_id, name="Half yen", kind="expense", amount="100.50",
                              account_id=accounts["JPY"], cadence="monthly", start_date="2026-03-01")
    db_session.rollback()
