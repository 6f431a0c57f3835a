"""The cash-flow diagram and "why a budget is off": known answers on small histories."""
from __future__ import annotations

from datetime import date

import pytest
from ahead_data import tx
from sqlalchemy import select

from dashboard.services import flows as svc
from dashboard.services.errors import ServiceError
from models import Category


def _cat(session, user, name, parent=None, kind="expense"):
    category = Category(user_id=user.id, name=name, kind=kind, parent_id=parent.id if parent else None)
    session.add(category)
    session.flush()
    return category


def test_sankey_income_to_categories_and_saved(db_session, make_user, make_account):
    user = make_user()
    account = make_account(user)
    salary = _cat(db_session, user, "Pay", kind="income")
    food = _cat(db_session, user, "Food")
    groceries = _cat(db_session, user, "Groceries", food)
    rent = _cat(db_session, user, "Rent")
    tx(db_session, user, account, date(2026, 5, 1), 500000, "Employer", category_id=salary.id)
    tx(db_session, user, account, date(2026, 5, 2), -180000, "Landlord", category_id=rent.id)
    tx(db_session, user, account, date(2026, 5, 3), -40000, "Market", category_id=groceries.id)
    tx(db_session, user, account, date(2026, 5, 4), -10000, "Diner", category_id=food.id)
    db_session.commit()
    data = svc.cashflow_sankey(db_session, user.id, date(2026, 5, 1), date(2026, 5, 31))
    flows = {(data.labels[s], data.labels[t]): v for s, t, v in zip(data.sources, data.targets, data.values)}
    assert flows == {("Pay", "Income"): 500000, ("Income", "Rent"): 180000, ("Income", "Food"): 50000,
                     ("Income", "Saved"): 270000}
    assert data.saved_cents == 270000
    drilled = svc.cashflow_sankey(db_session, user.id, date(2026, 5, 1), date(2026, 5, 31), drill=food.id)
    flows = {(drilled.labels[s], drilled.labels[t]): v for s, t, v in zip(drilled.sources, drilled.targets,
                                                                         drilled.values)}
    assert flows[("Food", "Groceries")] == 40000 and flows[("Food", "Food (itself)")] == 10000
    # Spending more than income: the gap comes from savings.
    tx(db_session, user, account, date(2026, 5, 20), -400000, "Landlord", category_id=rent.id)
    db_session.commit()
    data = svc.cashflow_sankey(db_session, user.id, date(2026, 5, 1), date(2026, 5, 31))
    flows = {(data.labels[s], data.labels[t]): v for s, t, v in zip(data.sources, data.targets, data.values)}
    assert flows[("From savings", "Income")] == 130000 and "Saved" not in data.labels
    with pytest.raises(ServiceError):
        svc.cashflow_sankey(db_session, user.id, date(2026, 5, 31), date(2026, 5, 1))


def test_why_a_budget_is_off_splits_the_difference_exactly(db_session, make_user, make_account):
    user = make_user()
    account = make_account(user)
    food = _cat(db_session, user, "Food")
    # April: 4 purchases at Market (25.00) and 2 at Bakery (10.00) = 120.00
    for day in (2, 9, 16, 23):
        tx(db_session, user, account, date(2026, 4, day), -2500, "Market", category_id=food.id)
    for day in (5, 12):
        tx(db_session, user, account, date(2026, 4, day), -1000, "Bakery", category_id=food.id)
    # May: Market 6 purchases at 27.00; a new payee (Deli 30.00); a large one-off at Market (300.00);
    # Bakery gone.
    for day in (1, 6, 11, 16, 21, 26):
        tx(db_session, user, account, date(2026, 5, day), -2700, "Market", category_id=food.id)
    tx(db_session, user, account, date(2026, 5, 8), -3000, "Deli", category_id=food.id)
    tx(db_session, user, account, date(2026, 5, 18), -30000, "Market", category_id=food.id)
    db_session.commit()
    result = svc.explain_budget(db_session, user.id, food.id, date(2026, 5, 1), date(2026, 5, 31))
    parts = {p.key: p.cents for p in result.parts}
    assert result.current_cents == 6 * 2700 + 3000 + 30000
    assert result.usual_cents == 12000
    assert sum(parts.values()) == result.difference_cents
    assert parts["new"] == 3000
    assert parts["gone"] == -2000
    assert parts["large"] == 30000          # threshold: 3 x 20.00 average = 60.00
    assert parts["more"] == 2 * 2500        # 6 regular purchases at Market against 4, at 25.00
    assert parts["price"] == 6 * 200        # 2.00 more a purchase, 6 purchases
    assert result.threshold_cents == 6000
    links = {p.key: p.href for p in result.parts}
    assert links["large"] == f"/spending?preset=custom&from=2026-05-01&to=2026-05-31&categories={food.id}&min=60"
    assert "max=59.99" in links["more"]
    new = next(p for p in result.parts if p.key == "new")
    assert new.payees[0][0] == "Deli" and "q=Deli" in new.payees[0][2]
    average = svc.explain_budget(db_session, user.id, food.id, date(2026, 5, 1), date(2026, 5, 31),
                                 compare="average3")
    assert sum(p.cents for p in average.parts) == average.difference_cents
    assert average.usual_cents == 4000     # 120.00 over three months


def test_explain_refuses_what_is_not_the_users(db_session, make_user):
    alice, bob = make_user("a@example.com"), make_user("b@example.com")
    mine = _cat(db_session, alice, "Mine")
    db_session.commit()
    with pytest.raises(ServiceError):
        svc.explain_budget(db_session, bob.id, mine.id, date(2026, 5, 1), date(2026, 5, 31))
    with pytest.raises(ServiceError):
        svc.explain_budget(db_session, alice.id, mine.id, date(2026, 5, 1), date(2026, 5, 31), compare="x")
    assert db_session.scalar(select(Category.id).where(Category.id == mine.id)) == mine.id
