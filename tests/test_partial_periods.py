"""A running period is compared with the same days of the previous one, on every page that compares
(Overview, Spending, Budgets); a fixed ``today`` throughout."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from dashboard.services import budgets as budgets_svc
from dashboard.services import overview
from dashboard.services.transactions import create_transaction
from models import Category

TODAY = date(2026, 12, 2)


def text_of(component) -> str:
    """Every string shown by a Dash component tree, in order."""
    if component is None or isinstance(component, (int, float)):
        return ""
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


@pytest.fixture()
def alice(db_session, make_user, make_account):
    """Paid on the 28th; groceries on 1 and 20 November and 1 December."""
    cats = {c.name: c.id for c in db_session.scalars(select(Category).where(Category.user_id.is_(None)))}
    user = make_user("alice@example.com")
    account = make_account(user)
    for day, amount, category, kind in [
        (date(2026, 10, 28), "2705.00", "Salary", "income"), (date(2026, 11, 28), "2705.00", "Salary", "income"),
        (date(2026, 11, 1), "-40.00", "Groceries", "expense"), (date(2026, 11, 20), "-300.00", "Groceries", "expense"),
        (date(2026, 12, 1), "-50.00", "Groceries", "expense"),
    ]:
        create_transaction(db_session, user.id, account_id=account.id, date=day, amount=Decimal(amount),
                           category_id=cats[category], kind=kind, payee="x")
    db_session.commit()
    return user


def test_overview_compares_month_to_date_with_the_same_days_of_last_month(db_session, alice):
    assert overview.month_ranges(TODAY) == ((date(2026, 12, 1), TODAY), (date(2026, 11, 1), date(2026, 11, 2)))
    this, last = overview.month_comparison(db_session, alice.id, TODAY)
    assert (this.spending_cents, last.spending_cents) == (5000, 4000)   # not the 340.00 of all November
    assert (this.income_cents, last.income_cents) == (0, 0)              # payday has not come in either month
    # On the last day of a month the whole months are compared.
    assert overview.month_ranges(date(2026, 3, 31)) == ((date(2026, 3, 1), date(2026, 3, 31)),
                                                        (date(2026, 2, 1), date(2026, 2, 28)))


def test_overview_cards_say_what_is_compared(db_session, alice):
    from dashboard.pages.overview import stats_children
    balances = overview.account_balances(db_session, alice.id)
    text = text_of(stats_children(alice.id, "USD", TODAY, balances))
    assert "Spending, Dec 1\u2009–\u20092" in text and "vs Nov 1\u2009–\u20092" in text
    assert "-100.0%" not in text


def test_budgets_running_month_shows_income_so_far_against_the_same_days(db_session, alice):
    from dashboard.pages.budgets import stats_children
    period = budgets_svc.Period.containing("monthly", TODAY)
    budgets_svc.add_budget(db_session, alice.id, period, category_id=db_session.scalar(
        select(Category.id).where(Category.name == "Groceries")), amount="400.00")
    db_session.commit()
    frame = budgets_svc.budget_frame(db_session, alice.id, period, TODAY)
    summary = budgets_svc.period_summary(db_session, alice.id, period, frame, TODAY)
    assert summary.running and summary.previous_range == (date(2026, 11, 1), date(2026, 11, 2))
    assert frame["pace_cents"].tolist() == [40000 * 2 // 31]
    text = text_of(stats_children(summary, period, "USD", TODAY))
    assert "Income not budgeted" not in text and "-$400.00" not in text
    assert "Income, Dec 1\u2009–\u20092" in text
    # A finished month still says how much income was left unbudgeted.
    november = budgets_svc.Period.containing("monthly", date(2026, 11, 1))
    done = budgets_svc.period_summary(db_session, alice.id, november,
                                      budgets_svc.budget_frame(db_session, alice.id, november, TODAY), TODAY)
    assert not done.running and "Income not budgeted" in text_of(stats_children(done, november, "USD", TODAY))


def test_spending_totals_divide_by_the_days_elapsed(db_session, alice):
    from dashboard.pages.spending import views
    from dashboard.services import spending as svc
    filters = svc.parse_filters({"preset": "this_month"}, TODAY)
    result = svc.explore(db_session, alice.id, filters, TODAY)
    totals = text_of(views(result, "USD", "treemap", TODAY)[0])
    assert "$25.00" in totals and "over the 2 days so far" in totals          # 50.00 / 2 days, not / 31
    assert "Dec 1\u2009–\u20092 vs Nov 1\u2009–\u20092" in totals
    comparison = views(result, "USD", "treemap", TODAY)[3]
    assert comparison["layout"]["title"]["text"] == "Change, Dec 1\u2009–\u20092 vs Nov 1\u2009–\u20092"
