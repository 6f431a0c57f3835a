"""Recurring payments found in the history: known cadences with drift, noise left out, confirm and
dismiss."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from ahead_data import TODAY, history

from dashboard.services import recurring as svc
from dashboard.services.errors import NotFound, ServiceError
from dashboard.services.periods import add_months, month_end
from models import DismissedRecurring, Schedule, ScheduleOccurrence

# -- the cadence on date lists (pure) -------------------------------------------------------------


def _drifted(start: date, step, n: int, drift: int, seed: int = 1) -> list[date]:
    rng = random.Random(seed)
    return [step(start, i) + timedelta(days=rng.randint(-drift, drift)) for i in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_monthly_with_drift_is_found_with_its_next_date(seed):
    days = _drifted(date(2025, 1, 15), add_months, 17, 3, seed)
    found = svc.detect_cadence(days, [-1549] * 17, date(2026, 6, 1))
    assert found.cadence == "monthly"
    # The day of the month is the median of the drifted days: the 15th, give or take one day.
    assert found.rrule in {f"FREQ=MONTHLY;BYMONTHDAY={d}" for d in (14, 15, 16)}
    assert abs((found.next_date - date(2026, 6, 15)).days) <= 1
    assert found.amount_cents == -1549
    assert found.confidence >= 0.8


def test_weekly_biweekly_quarterly_yearly_and_month_end():
    today = date(2026, 6, 1)
    weekly = _drifted(date(2026, 1, 2), lambda s, i: s + timedelta(weeks=i), 21, 1)
    assert svc.detect_cadence(weekly, [-4000] * 21, today).cadence == "weekly"
    biweekly = _drifted(date(2025, 6, 6), lambda s, i: s + timedelta(weeks=2 * i), 26, 1)
    found = svc.detect_cadence(biweekly, [250000] * 26, today)
    assert (found.cadence, found.rrule) == ("biweekly", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR")
    quarterly = _drifted(date(2024, 7, 10), lambda s, i: add_months(s, 3 * i), 8, 2)
    found = svc.detect_cadence(quarterly, [-30000] * 8, today)
    assert found.cadence == "quarterly" and found.next_date == date(2026, 7, 10)
    yearly = [date(2024, 3, 10), date(2025, 3, 12), date(2026, 3, 9)]
    found = svc.detect_cadence(yearly, [-9900] * 3, today)
    assert (found.cadence, found.next_date) == ("yearly", date(2027, 3, 10))
    ends = [month_end(add_months(date(2025, 1, 1), i)) for i in range(17)]
    found = svc.detect_cadence(ends, [100000] * 17, today)
    assert (found.rule if hasattr(found, "rule") else found.rrule) == "FREQ=MONTHLY;BYMONTHDAY=-1"
    assert found.next_date == date(2026, 6, 30)


def test_last_weekday_of_the_month():
    days = []
    for i in range(12):
        day = month_end(add_months(date(2025, 6, 1), i))
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        days.append(day)
    found = svc.detect_cadence(days, [540000] * 12, date(2026, 6, 1))
    assert found.rrule == "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"
    assert found.next_date == date(2026, 6, 30)


@pytest.mark.parametrize("seed", range(20))
def test_noise_is_not_reported(seed):
    rng = random.Random(seed)
    days = sorted(date(2025, 1, 1) + timedelta(days=rng.randint(0, 500)) for _ in range(rng.randint(3, 9)))
    amounts = [-rng.randint(1000, 30000) for _ in days]
    assert svc.detect_cadence(days, amounts, date(2026, 6, 1)) is None


def test_a_stopped_subscription_is_not_suggested():
    days = [add_months(date(2024, 1, 5), i) for i in range(10)]  # ended October 2024
    assert svc.detect_cadence(days, [-999] * 10, date(2026, 6, 1)) is None


def test_price_changes_are_reported_with_the_month():
    days = [add_months(date(2025, 1, 9), i) for i in range(12)]
    found = svc.detect_cadence(days, [-1549] * 8 + [-1799] * 4, date(2026, 1, 1))
    assert found.price_changes == [(date(2025, 9, 9), -1549, -1799)]
    assert found.amount_cents == -1799
    assert found.monthly_cents == -1799 and found.yearly_cents == -1799 * 12


# -- from the database ----------------------------------------------------------------------------

def test_the_history_gives_the_known_groups_and_no_noise(db_session, make_user, make_account):
    user = make_user()
    account = make_account(user)
    expected = history(db_session, user, account)
    found = {s.payee_key: s for s in svc.find_recurring(db_session, user.id, TODAY)}
    assert set(found) == set(expected)
    for key, (cadence, amount) in expected.items():
        assert found[key].detection.cadence == cadence, key
        assert found[key].detection.amount_cents == amount, key
    assert found["netflix"].detection.price_changes[0][1:] == (-1549, -1799)
    assert found["northwind payroll"].detection.next_date == date(2026, 6, 30)


def test_a_monthly_membership_at_a_shop_with_random_purchases_is_found_by_its_band(db_session, make_user,
                                                                                   make_account):
    from ahead_data import tx
    user = make_user()
    account = make_account(user)
    rng = random.Random(5)
    for i in range(14):
        tx(db_session, user, account, add_months(date(2025, 5, 3), i), -1499, "Amazon")
    for _ in range(60):
        tx(db_session, user, account, date(2025, 5, 1) + timedelta(days=rng.randint(0, 400)),
           -rng.randint(2000, 9000), "Amazon")
    db_session.commit()
    found = svc.find_recurring(db_session, user.id, TODAY)
    assert [(s.payee_key, s.band, s.detection.amount_cents) for s in found] == [("amazon", 414, -1499)]


def test_dismissed_never_comes_back_and_confirm_makes_a_linked_schedule(db_session, make_user, make_account):
    user = make_user()
    account = make_account(user)
    history(db_session, user, account)
    by_payee = {s.payee_key: s for s in svc.find_recurring(db_session, user.id, TODAY)}
    svc.dismiss(db_session, user.id, by_payee["gym club"].key, TODAY)
    db_session.commit()
    assert "gym club" not in {s.payee_key for s in svc.find_recurring(db_session, user.id, TODAY)}
    assert db_session.query(DismissedRecurring).count() == 1

    schedule = svc.confirm(db_session, user.id, by_payee["netflix"].key, TODAY)
    db_session.commit()
    assert (schedule.name, schedule.amount) == ("Netflix", Decimal("-17.99"))
    assert schedule.rrule in ("FREQ=MONTHLY;BYMONTHDAY=9", "FREQ=MONTHLY;BYMONTHDAY=10")  # the 9th, drifting
    link = db_session.query(ScheduleOccurrence).one()
    assert link.status == "paid" and link.schedule_id == schedule.id
    states = {s.payee_key: s.status for s in svc.find_recurring(db_session, user.id, TODAY)}
    assert states["netflix"] == "scheduled"
    with pytest.raises(ServiceError, match="already covers"):
        svc.confirm(db_session, user.id, by_payee["netflix"].key, TODAY)
    db_session.rollback()
    assert db_session.query(Schedule).count() == 1


def test_someone_elses_suggestion_cannot_be_confirmed_or_dismissed(db_session, make_user, make_account):
    alice, bob = make_user("a@example.com"), make_user("b@example.com")
    history(db_session, alice, make_account(alice))
    key = svc.find_recurring(db_session, alice.id, TODAY)[0].key
    with pytest.raises(NotFound):
        svc.confirm(db_session, bob.id, key, TODAY)
    with pytest.raises(NotFound):
        svc.dismiss(db_session, bob.id, key, TODAY)
    with pytest.raises(NotFound):
        svc.dismiss(db_session, bob.id, {"not": "a key"}, TODAY)


def test_the_demo_historys_bills_and_pay_are_found_and_nothing_else(db_session):
    """The demo loader's 24 months hold exactly these recurring payments among ~1,900 transactions of
    everyday noise (the same payees at random amounts and days)."""
    from dashboard.demo import load_demo
    from models import User
    end = date(2026, 6, 30)
    load_demo(db_session, end=end, email="recurring-demo@example.com")
    user_id = db_session.query(User.id).filter(User.email == "recurring-demo@example.com").scalar()
    found = {s.payee: s.detection for s in svc.find_recurring(db_session, user_id, end)}
    assert set(found) == {"iCloud+", "Comcast Xfinity", "GEICO", "Netflix", "Spotify", "Planet Fitness",
                          "Verizon Wireless", "Maple Court Apartments", "City Power & Light", "Metro Water District",
                          "Northwind Payroll", "Harbor Savings Bank"}
    assert found["Metro Water District"].cadence == "bimonthly"
    assert found["Northwind Payroll"].rrule == "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"
    assert found["Northwind Payroll"].price_changes[-1][1:] == (540000, 565000)   # the raise, bonuses left out
    assert found["Maple Court Apartments"].price_changes[-1][1:] == (-185000, -192500)
    assert found["Netflix"].next_date == date(2026, 7, 9)
