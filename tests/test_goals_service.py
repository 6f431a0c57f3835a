"""Goals: projection arithmetic with known answers, progress from contributions and from linked
accounts, and the writes' validation and ownership rules (nothing is written when a write is refused)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from dashboard.services import goals as svc
from dashboard.services.errors import Conflict, NotFound, ServiceError
from dashboard.services.sql import cents
from dashboard.services.transactions import create_transaction
from models import Goal, GoalContribution

TODAY = date(2026, 6, 15)
CREATED = date(2026, 1, 10)
TARGET_DATE = date(2026, 12, 15)


# -- pure arithmetic -------------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, months", [
    (date(2026, 1, 15), date(2026, 11, 15), 10),
    (date(2026, 1, 15), date(2026, 11, 14), 9),
    (date(2026, 1, 31), date(2026, 2, 28), 1),   # month ends clamp
    (date(2026, 6, 15), date(2026, 6, 15), 0),
    (date(2026, 6, 15), date(2026, 7, 10), 0),
    (date(2026, 6, 15), date(2026, 1, 1), 0),    # backwards
])
def test_whole_months(start, end, months):
    assert svc.whole_months(start, end) == months


def test_contribution_window():
    # An old goal: the last three months, three months long.
    assert svc.contribution_window(date(2025, 1, 1), TODAY) == (date(2026, 3, 15), 3)
    # A goal six weeks old: since its first day, over one whole month.
    assert svc.contribution_window(date(2026, 5, 4), TODAY) == (date(2026, 5, 4), 1)
    # Two months and a bit: two months.
    assert svc.contribution_window(date(2026, 4, 10), TODAY) == (date(2026, 4, 10), 2)
    # Started today: at least one month.
    assert svc.contribution_window(TODAY, TODAY) == (TODAY, 1)


def test_expected_on_is_the_straight_line():
    line = dict(start=date(2026, 1, 1), start_cents=0, target_date=date(2026, 4, 11), target_cents=10000)
    assert svc.expected_on(date(2026, 1, 26), **line) == 2500          # 25 of 100 days
    assert svc.expected_on(date(2026, 1, 1), **line) == 0
    assert svc.expected_on(date(2025, 12, 1), **line) == 0             # before the start
    assert svc.expected_on(date(2026, 4, 11), **line) == 10000         # on the date
    assert svc.expected_on(date(2026, 9, 1), **line) == 10000          # after it
    assert svc.expected_on(date(2026, 1, 26), **{**line, "start_cents": 2000}) == 2000 + 8000 * 25 // 100
    assert svc.expected_on(TODAY, **{**line, "target_date": None}) is None


def _project(**overrides):
    values = dict(saved_cents=100000, target_cents=400000, today=date(2026, 1, 15),
                  target_date=date(2026, 11, 15), start=date(2025, 6, 15), start_cents=0,
                  rate=Fraction(30000, 1))
    values.update(overrides)
    return svc.project(**values)


def test_project_known_answer():
    p = _project()
    assert p.remaining_cents == 300000
    assert p.months_left == 10
    assert p.monthly_needed_cents == 30000                     # 3,000 over 10 months
    assert p.projected_date == date(2026, 11, 15)              # 3,000 at 300 a month: 10 months
    assert p.rate_cents == 30000
    assert p.status == "on_track"


def test_project_monthly_needed_rounds_up_to_the_cent():
    p = _project(saved_cents=300000, target_date=date(2026, 4, 15))  # 1,000 over 3 months
    assert p.monthly_needed_cents == 33334
    assert p.monthly_needed_cents * 3 >= p.remaining_cents


def test_project_projection_rounds_up_to_whole_months():
    p = _project(saved_cents=90000, start=date(2025, 6, 15))  # 3,100 left at 300 a month: 10.33 -> 11
    assert p.projected_date == date(2026, 12, 15)
    # That is after the target date, and saved is below the line: behind.
    assert p.status == "behind"


def test_project_target_already_reached():
    p = _project(saved_cents=450000)
    assert p.status == "achieved"
    assert p.remaining_cents == 0
    assert p.monthly_needed_cents == 0
    assert p.projected_date is None


def test_project_no_contributions_yet():
    # Nothing saved, no rate, two months into the plan: below the line, no projection.
    p = _project(saved_cents=0, rate=Fraction(0, 3))
    assert p.projected_date is None
    assert p.rate_cents == 0
    assert p.expected_cents > 0
    assert p.status == "behind"
    # On the day the goal is set, nothing saved is exactly on the line.
    fresh = _project(saved_cents=0, rate=Fraction(0, 1), start=date(2026, 1, 15))
    assert fresh.expected_cents == 0
    assert fresh.status == "on_track"


def test_project_target_date_today_or_past():
    today = _project(target_date=date(2026, 1, 15))
    assert today.status == "behind"
    assert today.months_left == 0
    assert today.monthly_needed_cents == today.remaining_cents == 300000   # all of it, now
    past = _project(target_date=date(2025, 12, 31))
    assert past.status == "overdue"
    assert past.monthly_needed_cents == 300000
    assert past.expected_cents == 400000
    # Less than a month left: all of it this month.
    soon = _project(target_date=date(2026, 2, 1))
    assert soon.months_left == 0 and soon.monthly_needed_cents == 300000
    # Reached goals are never overdue.
    assert _project(saved_cents=400000, target_date=date(2025, 12, 31)).status == "achieved"


def test_project_negative_rate_has_no_projection():
    p = _project(rate=Fraction(-15000, 3))
    assert p.projected_date is None
    assert p.rate_cents == -5000
    assert p.status == "behind"
    # Money going out is behind even ahead of the line: the badge agrees with "not on course at this pace".
    assert _project(saved_cents=200000, rate=Fraction(-15000, 3)).status == "behind"


def test_project_badge_agrees_with_the_projection():
    # Ahead of the straight line, but the recent pace arrives after the target date: behind, as the
    # projection shown beside the badge says.
    p = _project(saved_cents=250000, rate=Fraction(3000, 1))
    assert p.expected_cents < p.saved_cents
    assert p.projected_date > date(2026, 11, 15)
    assert p.status == "behind"
    # The same goal at a pace that arrives in time: on track.
    assert _project(saved_cents=250000, rate=Fraction(20000, 1)).status == "on_track"


def test_project_cleared_debt_is_achieved():
    p = _project(saved_cents=240000, target_cents=300000, cleared=True)
    assert p.status == "achieved" and p.remaining_cents == 0


def test_project_without_a_target_date():
    p = _project(target_date=None)
    assert p.expected_cents is None and p.monthly_needed_cents is None
    assert p.status == "on_track"                 # the pace gets there
    assert _project(target_date=None, rate=Fraction(0, 3)).status == "behind"


# -- progress from the database --------------------------------------------------------------------

def _backdate(session, goal_id: int, day: date) -> None:
    session.execute(update(Goal).where(Goal.id == goal_id)
                    .values(created_at=datetime.combine(day, datetime.min.time())))
    session.commit()


def _goal(session, user, *, created=CREATED, **values):
    values.setdefault("name", "Trip")
    values.setdefault("target_amount", "6,000")
    values.setdefault("target_date", TARGET_DATE)
    goal = svc.create_goal(session, user.id, today=created, **values)
    session.commit()
    _backdate(session, goal.id, created)
    return goal.id


def _row(session, user, goal_id, today=TODAY) -> dict:
    frame = svc.goals_frame(session, user.id, today, goal_id=goal_id)
    assert len(frame) == 1
    return svc.goal_records(frame)[0]


def _give(session, user, goal_id, amount, day, **kw):
    svc.record_contribution(session, user.id, goal_id, amount=amount, date=day, today=TODAY, **kw)
    session.commit()


def test_contributions_progress_and_projection(db_session, make_user):
    alice = make_user()
    gid = _goal(db_session, alice)
    _give(db_session, alice, gid, "1,000", CREATED)            # the start: not part of the pace
    for day in (date(2026, 2, 15), date(2026, 3, 15), date(2026, 4, 15), date(2026, 5, 15), TODAY):
        _give(db_session, alice, gid, "500", day)
    row = _row(db_session, alice, gid)
    assert row["source"] == "contributions" and row["contributions"] == 6
    assert row["saved_cents"] == 350000
    assert row["remaining_cents"] == 250000
    assert row["rate_cents"] == 50000                           # Apr, May, Jun in (Mar 15, Jun 15]
    assert row["months_left"] == 6
    assert row["monthly_needed_cents"] == 41667                 # 2,500 / 6, rounded up
    assert row["projected_date"] == date(2026, 11, 15)          # 2,500 at 500 a month
    assert row["start_date"] == CREATED and row["start_cents"] == 100000
    assert row["expected_cents"] == 100000 + 500000 * (TODAY - CREATED).days // (TARGET_DATE - CREATED).days
    assert row["status"] == "on_track"
    history = svc.goal_history(db_session, alice.id, row, TODAY)
    assert list(history["saved_cents"]) == [100000, 150000, 200000, 250000, 300000, 350000]
    assert history["date"].iloc[0] == CREATED and history["date"].iloc[-1] == TODAY

    # A withdrawal: less saved, a slower pace, behind the line.
    _give(db_session, alice, gid, "1,000", TODAY, withdrawal=True, note="car repair")
    row = _row(db_session, alice, gid)
    assert row["saved_cents"] == 250000
    assert row["rate_cents"] == round(Fraction(50000, 3))      # (1,500 - 1,000) / 3
    assert row["projected_date"] == date(2028, 3, 15)           # 3,500 at 166.67: 21 months
    assert row["status"] == "behind"
    # saved_amount stays the sum of the contributions.
    total = db_session.scalar(select(func.sum(cents(GoalContribution.amount))).where(GoalContribution.goal_id == gid))
    assert Decimal(total) / 100 == db_session.get(Goal, gid).saved_amount == Decimal("2500.00")


def test_withdrawals_give_a_negative_rate(db_session, make_user):
    alice = make_user()
    gid = _goal(db_session, alice, created=date(2025, 6, 1))
    _give(db_session, alice, gid, "3,000", date(2025, 7, 1))
    _give(db_session, alice, gid, "400", date(2026, 4, 1), withdrawal=True)
    _give(db_session, alice, gid, "200", date(2026, 5, 1), withdrawal=True)
    row = _row(db_session, alice, gid)
    assert row["saved_cents"] == 240000
    assert row["rate_cents"] == -20000
    assert row["projected_date"] is None
    assert row["status"] == "behind"


def test_no_contributions_yet(db_session, make_user):
    alice = make_user()
    gid = _goal(db_session, alice, created=date(2026, 3, 15))
    row = _row(db_session, alice, gid)
    assert row["saved_cents"] == 0 and row["contributions"] == 0
    assert row["rate_cents"] == 0 and row["projected_date"] is None
    assert row["status"] == "behind"
    assert svc.goal_history(db_session, alice.id, row, TODAY)["saved_cents"].tolist() == [0, 0]
    # The day it is set, it is on track.
    assert _row(db_session, alice, gid, today=date(2026, 3, 15))["status"] == "on_track"


def test_target_reached_and_dates_today_or_past(db_session, make_user):
    alice = make_user()
    gid = _goal(db_session, alice, target_amount="1,000")
    _give(db_session, alice, gid, "1,000", date(2026, 2, 1))
    row = _row(db_session, alice, gid)
    assert row["status"] == "achieved" and row["remaining_cents"] == 0 and row["progress"] == 1.0
    other = _goal(db_session, alice, name="Laptop", target_amount="2,000")
    _give(db_session, alice, other, "500", date(2026, 2, 1))
    assert _row(db_session, alice, other, today=TARGET_DATE)["status"] == "behind"        # due today
    late = _row(db_session, alice, other, today=date(2027, 1, 4))
    assert late["status"] == "overdue" and late["monthly_needed_cents"] == 150000
    assert _row(db_session, alice, gid, today=date(2027, 1, 4))["status"] == "achieved"


def test_a_row_saved_before_contributions_existed_counts_from_the_start(db_session, make_user):
    """A goal written with saved_amount but no contributions (a script, or data from before this
    feature): the difference is where it started, not part of the pace."""
    alice = make_user()
    goal = Goal(user_id=alice.id, name="Vacation", target_amount=Decimal("3500"), saved_amount=Decimal("1350"),
                target_date=TARGET_DATE)
    db_session.add(goal)
    db_session.commit()
    _backdate(db_session, goal.id, CREATED)
    row = _row(db_session, alice, goal.id)
    assert row["saved_cents"] == 135000 and row["start_cents"] == 135000 and row["rate_cents"] == 0
    _give(db_session, alice, goal.id, "150", date(2026, 5, 1))
    row = _row(db_session, alice, goal.id)
    assert row["saved_cents"] == 150000 and row["rate_cents"] == 5000


def test_linked_savings_account_with_a_falling_balance(db_session, make_user, make_account):
    alice = make_user()
    savings = make_account(alice, "Savings", "savings", opening="5000.00")
    for day in (date(2026, 2, 20), date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)):
        create_transaction(db_session, alice.id, account_id=savings.id, date=day, amount="-300", payee="ATM")
    db_session.commit()
    gid = _goal(db_session, alice, name="Emergency fund", target_amount="10,000", account_id=savings.id)
    row = _row(db_session, alice, gid)
    assert row["source"] == "account" and row["account_name"] == "Savings"
    assert row["saved_cents"] == 500000 - 4 * 30000
    assert row["start_cents"] == 500000                         # the balance when the goal was set
    assert row["rate_cents"] == -30000                          # 900 out over three months
    assert row["projected_date"] is None
    assert row["status"] == "behind"
    history = svc.goal_history(db_session, alice.id, row, TODAY)
    assert history["saved_cents"].tolist() == [500000, 500000, 470000, 470000, 440000, 410000, 380000]
    assert history["date"].iloc[0] == CREATED and history["date"].iloc[-1] == TODAY


def _card_with_payments(session, alice, make_account, *, opening="-2400.00"):
    card = make_account(alice, "Card", "credit_card", opening=opening)
    for month in (2, 3, 4, 5, 6):
        create_transaction(session, alice.id, account_id=card.id, date=date(2026, month, 1), amount="200",
                           kind="income", payee="Payment")
    create_transaction(session, alice.id, account_id=card.id, date=date(2026, 5, 20), amount="-100",
                       payee="Shop")
    session.commit()
    return card


def test_debt_goal_counts_the_card_down(db_session, make_user, make_account):
    alice = make_user()
    card = _card_with_payments(db_session, alice, make_account)
    gid = _goal(db_session, alice, name="Card", kind="debt", target_amount="2,400", account_id=card.id)
    row = _row(db_session, alice, gid)
    assert row["owed_cents"] == 150000                      # 2,400 - 1,000 + 100
    assert row["saved_cents"] == 90000                      # paid off since the goal was set
    assert row["remaining_cents"] == 150000
    assert row["start_cents"] == 0
    assert row["rate_cents"] == round(Fraction(50000, 3))   # owed 2,000 on Mar 15, 1,500 now
    assert row["projected_date"] == date(2027, 3, 15)       # 1,500 at 166.67: 9 months
    assert row["status"] == "behind"
    history = svc.goal_history(db_session, alice.id, row, TODAY)
    assert history["saved_cents"].tolist() == [0, 0, 20000, 40000, 60000, 70000, 90000]

    # Paying everything clears the debt: achieved, even with a target above the starting debt.
    db_session.execute(update(Goal).where(Goal.id == gid).values(target_amount=300000))
    db_session.commit()
    create_transaction(db_session, alice.id, account_id=card.id, date=TODAY, amount="1500", kind="income")
    db_session.commit()
    row = _row(db_session, alice, gid)
    assert row["owed_cents"] == 0 and row["status"] == "achieved" and row["remaining_cents"] == 0


def test_debt_that_grows_is_lost_progress(db_session, make_user, make_account):
    alice = make_user()
    card = make_account(alice, "Card", "credit_card", opening="-1000.00")
    gid = _goal(db_session, alice, name="Card", kind="debt", target_amount="1,000", account_id=card.id)
    create_transaction(db_session, alice.id, account_id=card.id, date=date(2026, 5, 1), amount="-250")
    db_session.commit()
    row = _row(db_session, alice, gid)
    assert row["owed_cents"] == 125000
    assert row["saved_cents"] == -25000 and row["progress"] == 0.0
    assert row["remaining_cents"] == 125000
    assert row["rate_cents"] < 0 and row["status"] == "behind"


def test_frames_only_hold_the_users_goals(db_session, make_user, make_account):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    _goal(db_session, alice, name="Alice trip")
    bob_goal = _goal(db_session, bob, name="Bob trip")
    _give(db_session, bob, bob_goal, "100", date(2026, 2, 1))
    frame = svc.goals_frame(db_session, alice.id, TODAY)
    assert frame["name"].tolist() == ["Alice trip"]
    assert svc.goals_frame(db_session, alice.id, TODAY, goal_id=bob_goal).empty
    # A goal pointing at someone else's account cannot even be stored: the key is (account_id, user_id).
    bob_savings = make_account(bob, "Bob savings", "savings", opening="9999.00")
    db_session.add(Goal(user_id=alice.id, name="Sneaky", target_amount=Decimal("100"), account_id=bob_savings.id,
                        target_date=TARGET_DATE))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()


# -- writes: validation and ownership --------------------------------------------------------------

def _counts(session):
    session.rollback()
    return (session.scalar(text("SELECT count(*) FROM goals")),
            session.scalar(text("SELECT count(*) FROM goal_contributions")),
            session.scalar(text("SELECT coalesce(sum(saved_amount), 0) FROM goals")),
            session.scalar(text("SELECT coalesce(sum(version), 0) FROM goals")))


def refused(session, call, field, message, exc_type=ServiceError):
    session.commit()
    before = _counts(session)
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.field == field
    assert message.lower() in info.value.message.lower()
    assert _counts(session) == before
    return info.value


@pytest.mark.parametrize("values, field, message", [
    (dict(target_amount="0"), "target", "more than zero"),
    (dict(target_amount="-50"), "target", "more than zero"),
    (dict(target_amount="abc"), "target", "not an amount"),
    (dict(target_amount="10.001"), "target", "two decimals"),
    (dict(target_amount=""), "target", "enter an amount"),
    (dict(target_date=date(2026, 6, 14)), "target_date", "cannot be in the past"),
    (dict(target_date=""), "target_date", "enter a target date"),
    (dict(target_date="next year"), "target_date", "not a date"),
    (dict(target_date=date(2200, 1, 1)), "target_date", "within 100 years"),
    (dict(name="   "), "name", "cannot be empty"),
    (dict(name="x" * 101), "name", "at most 100"),
    (dict(kind="loan"), "kind", "savings or debt"),
])
def test_create_goal_refuses_bad_input(db_session, make_user, values, field, message):
    alice = make_user()
    args = dict(name="Trip", target_amount="1000", target_date=TARGET_DATE, today=TODAY)
    args.update(values)
    refused(db_session, lambda: svc.create_goal(db_session, alice.id, **args), field, message)


def test_create_goal_accepts_today_and_a_linked_account(db_session, make_user, make_account):
    alice = make_user()
    goal = svc.create_goal(db_session, alice.id, name=" Trip ", target_amount="$1,234.50", target_date=TODAY,
                           today=TODAY)
    db_session.commit()
    assert (goal.name, goal.target_amount, goal.saved_amount, goal.kind) == ("Trip", Decimal("1234.50"),
                                                                              Decimal("0.00"), "savings")
    card = make_account(alice, "Card", "credit_card", opening="-500")
    debt = svc.create_goal(db_session, alice.id, name="Card", kind="debt", target_amount="500",
                           target_date=TARGET_DATE, account_id=str(card.id), today=TODAY)
    db_session.commit()
    assert debt.account_id == card.id
    refused(db_session, lambda: svc.create_goal(db_session, alice.id, name="trip", target_amount="1",
                                                target_date=TARGET_DATE, today=TODAY), "name", "already have")


def test_linked_account_must_be_the_users_and_fit_the_kind(db_session, make_user, make_account):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    bob_savings = make_account(bob, "Savings", "savings")
    checking = make_account(alice, "Checking")
    card = make_account(alice, "Card", "credit_card")
    base = dict(name="Goal", target_amount="100", target_date=TARGET_DATE, today=TODAY)
    refused(db_session, lambda: svc.create_goal(db_session, alice.id, account_id=bob_savings.id, **base),
            "account", "unknown account", NotFound)
    refused(db_session, lambda: svc.create_goal(db_session, alice.id, account_id="99999", **base),
            "account", "unknown account", NotFound)
    refused(db_session, lambda: svc.create_goal(db_session, alice.id, account_id="1 OR 1=1", **base),
            "account", "unknown")
    refused(db_session, lambda: svc.create_goal(db_session, alice.id, kind="debt", account_id=checking.id, **base),
            "account", "credit card or loan")
    refused(db_session, lambda: svc.create_goal(db_session, alice.id, account_id=card.id, **base),
            "account", "cannot follow a credit card")


def test_update_goal_rules(db_session, make_user, make_account):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    gid = _goal(db_session, alice)
    bob_gid = _goal(db_session, bob, name="Bob's")
    version = db_session.get(Goal, gid).version

    def update_(goal_id=gid, v=version, today=TODAY, **kw):
        return svc.update_goal(db_session, alice.id, goal_id, expected_version=v, today=today, **kw)

    refused(db_session, lambda: update_(target_amount="0"), "target", "more than zero")
    refused(db_session, lambda: update_(target_date=date(2026, 6, 1)), "target_date", "in the past")
    refused(db_session, lambda: update_(goal_id=bob_gid, target_amount="1"), "goal", "unknown goal", NotFound)
    refused(db_session, lambda: update_(v=version + 5, target_amount="1"), None, "changed", Conflict)
    refused(db_session, lambda: update_(v="x", target_amount="1"), None, "changed", Conflict)
    refused(db_session, lambda: update_(saved_amount="1"), None, "cannot be changed")

    goal = update_(target_amount="7,500", name="Big trip", target_date=TARGET_DATE)
    db_session.commit()
    assert (goal.target_amount, goal.name, goal.version) == (Decimal("7500.00"), "Big trip", version + 1)
    # The old version is now stale.
    refused(db_session, lambda: update_(target_amount="1"), None, "changed", Conflict)
    # A target date already in the past may stay as it is (only a changed date must be ahead).
    _backdate(db_session, gid, CREATED)
    assert update_(v=goal.version, target_date=TARGET_DATE, today=date(2027, 2, 1)).target_date == TARGET_DATE
    db_session.rollback()
    assert db_session.get(Goal, bob_gid).name == "Bob's"


def test_contribution_rules(db_session, make_user, make_account):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    gid = _goal(db_session, alice)
    bob_gid = _goal(db_session, bob, name="Bob's")
    linked = _goal(db_session, alice, name="Linked", account_id=make_account(alice, "Savings", "savings").id)
    give = lambda goal_id=gid, **kw: svc.record_contribution(  # noqa: E731
        db_session, alice.id, goal_id, today=TODAY, **{"amount": "10", "date": TODAY, **kw})

    refused(db_session, lambda: give(goal_id=bob_gid), "goal", "unknown goal", NotFound)
    refused(db_session, lambda: give(goal_id="abc"), "goal", "unknown")
    refused(db_session, lambda: give(goal_id=linked), "amount", "follows an account")
    refused(db_session, lambda: give(amount="0"), "amount", "cannot be zero")
    refused(db_session, lambda: give(amount="-5"), "amount", "cannot be negative")
    refused(db_session, lambda: give(amount="1e3"), "amount", "not an amount")
    refused(db_session, lambda: give(date=date(2026, 6, 16)), "date", "future")
    refused(db_session, lambda: give(date="tomorrow"), "date", "not a date")
    refused(db_session, lambda: give(note="n" * 201), "note", "at most 200")
    refused(db_session, lambda: give(withdrawal=True), "amount", "only $0.00 is saved")

    give(amount="100")
    db_session.commit()
    refused(db_session, lambda: give(amount="100.01", withdrawal=True), "amount", "only $100.00 is saved")
    out = give(amount="100", withdrawal=True, note="all of it")
    db_session.commit()
    assert out.amount == Decimal("-100.00")
    assert db_session.get(Goal, gid).saved_amount == Decimal("0.00")
    assert db_session.get(Goal, bob_gid).saved_amount == Decimal("0.00")


def test_delete_contribution_and_goal(db_session, make_user):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    gid = _goal(db_session, alice)
    bob_gid = _goal(db_session, bob, name="Bob's")
    first = svc.record_contribution(db_session, alice.id, gid, amount="300", date=TODAY, today=TODAY)
    bob_c = svc.record_contribution(db_session, bob.id, bob_gid, amount="50", date=TODAY, today=TODAY)
    svc.record_contribution(db_session, alice.id, gid, amount="200", date=TODAY, withdrawal=True, today=TODAY)
    db_session.commit()
    first_id, bob_c_id = first.id, bob_c.id
    refused(db_session, lambda: svc.delete_contribution(db_session, alice.id, bob_c_id), "contribution",
            "unknown", NotFound)
    # Removing the deposit would leave the withdrawal below zero.
    refused(db_session, lambda: svc.delete_contribution(db_session, alice.id, first_id), "contribution",
            "less than nothing")
    assert svc.contributions_frame(db_session, alice.id, gid)["amount_cents"].tolist() == [-20000, 30000]

    refused(db_session, lambda: svc.delete_goal(db_session, alice.id, bob_gid), "goal", "unknown", NotFound)
    refused(db_session, lambda: svc.delete_goal(db_session, alice.id, gid, expected_version=99), None,
            "changed", Conflict)
    svc.delete_goal(db_session, alice.id, gid)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(GoalContribution)
                             .where(GoalContribution.user_id == alice.id)) == 0     # cascaded
    assert db_session.scalar(select(func.count()).select_from(GoalContribution)) == 1  # Bob's stays


def test_database_pins_a_contribution_to_its_owners_goal(db_session, make_user):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    bob_gid = _goal(db_session, bob, name="Bob's")
    db_session.add(GoalContribution(user_id=alice.id, goal_id=bob_gid, date=TODAY, amount=Decimal("5")))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()
    db_session.add(GoalContribution(user_id=bob.id, goal_id=bob_gid, date=TODAY, amount=Decimal("0")))
    with pytest.raises(IntegrityError) as info:
        db_session.flush()
    assert "ck_goal_contributions_amount_nonzero" in str(info.value.orig).lower()
    db_session.rollback()


def test_a_first_contribution_is_described_truthfully(db_session, make_user):
    """Right after a first contribution the card does not say "no contributions"."""
    from datetime import timedelta

    from dashboard.pages.goals import _plan_lines

    alice = make_user("alice@example.com")
    today = date.today()
    goal = svc.create_goal(db_session, alice.id, name="Trip", target_amount="3000.00",
                           target_date=today + timedelta(days=300))
    svc.record_contribution(db_session, alice.id, goal.id, amount="250.00", date=today)
    db_session.commit()
    record = svc.goal_records(svc.goals_frame(db_session, alice.id, today))[0]
    assert record["contributions"] == 1 and record["saved_cents"] == 25000

    def text(node):
        if isinstance(node, str):
            return node
        children = getattr(node, "children", None)
        if isinstance(children, list):
            return "".join(text(c) for c in children)
        return text(children) if children is not None else ""

    words = " ".join(text(line) for line in _plan_lines(record, "USD", today))
    assert "no contributions" not in words
    assert "Your first contribution came on the goal's first day" in words
    # and the badge agrees: on the straight line on day one, with no pace to contradict it
    assert record["status"] == "on_track"
