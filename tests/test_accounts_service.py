"""services.accounts: balances, monthly balance history and net worth with known answers; writes with
validation, optimistic locking and ownership."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from dashboard.services import accounts as svc
from dashboard.services.errors import Conflict, NotFound, ServiceError
from dashboard.services.transactions import create_transaction, create_transfer
from models import Account, Category


@pytest.fixture()
def world(db_session, make_user, make_account):
    cats = {c.name: c.id for c in db_session.scalars(select(Category).where(Category.user_id.is_(None)))}
    alice = make_user("alice@example.com")
    checking = make_account(alice, "Checking", opening="1000.00")
    card = make_account(alice, "Card", "credit_card", opening="-500.00")
    savings = make_account(alice, "Savings", "savings")
    old = make_account(alice, "Old savings", "savings", opening="50.00")
    old.archived = True
    u = alice.id
    create_transaction(db_session, u, account_id=checking.id, date=date(2026, 1, 10), amount=Decimal("-100.00"),
                       category_id=cats["Groceries"], payee="Market")
    create_transaction(db_session, u, account_id=checking.id, date=date(2026, 1, 15), amount=Decimal("2000.00"),
                       kind="income", category_id=cats["Salary"], payee="Employer")
    create_transaction(db_session, u, account_id=card.id, date=date(2026, 2, 5), amount=Decimal("-300.00"),
                       category_id=cats["Restaurants"], payee="Bistro")
    create_transfer(db_session, u, from_account_id=checking.id, to_account_id=card.id, date=date(2026, 2, 20),
                    amount=Decimal("250.00"))
    create_transfer(db_session, u, from_account_id=checking.id, to_account_id=savings.id, date=date(2026, 3, 3),
                    amount=Decimal("400.00"))
    bob = make_user("bob@example.com")
    bob_account = make_account(bob, "Checking", opening="7.00")
    create_transaction(db_session, bob.id, account_id=bob_account.id, date=date(2026, 2, 1),
                       amount=Decimal("-999.00"), payee="Bob's shop")
    db_session.commit()
    return {"alice": alice, "bob": bob, "checking": checking, "card": card, "savings": savings, "old": old,
            "bob_account": bob_account}


def by_name(frame, column):
    return dict(zip(frame["name"], frame[column]))


def test_summaries_are_opening_plus_transactions(db_session, world):
    frame = svc.account_summaries(db_session, world["alice"].id)
    assert list(frame["name"]) == ["Card", "Checking", "Savings", "Old savings"]  # active first, then by name
    assert by_name(frame, "balance_cents") == {"Checking": 225000, "Card": -55000, "Savings": 40000,
                                               "Old savings": 5000}
    assert by_name(frame, "transaction_count") == {"Checking": 4, "Card": 2, "Savings": 1, "Old savings": 0}
    assert by_name(frame, "last_date")["Checking"] == date(2026, 3, 3)
    assert by_name(frame, "last_date")["Old savings"] is None
    assert svc.net_worth_now(frame) == {"assets_cents": 265000, "debts_cents": -55000, "net_cents": 210000}
    active = svc.account_summaries(db_session, world["alice"].id, include_archived=False)
    assert "Old savings" not in set(active["name"])


def test_balance_history_and_net_worth_by_month(db_session, world):
    history = svc.balance_history(db_session, world["alice"].id, date(2026, 1, 1), date(2026, 3, 31))
    pivot = {(r.name, r.month): r.balance_cents for r in history.itertuples()}
    assert pivot[("Checking", date(2026, 1, 1))] == 290000
    assert pivot[("Checking", date(2026, 2, 1))] == 265000
    assert pivot[("Checking", date(2026, 3, 1))] == 225000
    assert pivot[("Card", date(2026, 1, 1))] == -50000
    assert pivot[("Card", date(2026, 2, 1))] == -55000
    assert pivot[("Savings", date(2026, 2, 1))] == 0 and pivot[("Savings", date(2026, 3, 1))] == 40000
    assert "Old savings" not in set(history["name"])  # archived: left out unless asked for
    worth = svc.net_worth_history(history)
    assert worth.to_dict("list") == {
        "month": [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)],
        "assets_cents": [290000, 265000, 265000],
        "debts_cents": [-50000, -55000, -55000],
        "net_cents": [240000, 210000, 210000],
    }
    # Starting later: everything before the range is carried in.
    later = svc.balance_history(db_session, world["alice"].id, date(2026, 2, 1), date(2026, 2, 28))
    assert by_name(later, "balance_cents") == {"Card": -55000, "Checking": 265000, "Savings": 0}
    # Before any transaction: the opening balances.
    early = svc.balance_history(db_session, world["alice"].id, date(2025, 12, 1), date(2025, 12, 31),
                                include_archived=True)
    assert by_name(early, "balance_cents") == {"Card": -50000, "Checking": 100000, "Savings": 0,
                                               "Old savings": 5000}


def test_other_users_ids_return_nothing_and_change_nothing(db_session, world):
    alice, bob_account = world["alice"], world["bob_account"]
    assert svc.balance_history(db_session, alice.id, date(2026, 1, 1), date(2026, 3, 31),
                               account_ids=[bob_account.id, "abc", -1]).empty
    frame = svc.account_summaries(db_session, alice.id)
    assert "Bob's shop" not in frame.to_string() and len(frame) == 4
    with pytest.raises(NotFound):
        svc.update_account(db_session, alice.id, bob_account.id, expected_version=1, name="Mine now")
    with pytest.raises(NotFound):
        svc.set_archived(db_session, alice.id, bob_account.id, True, expected_version=1)
    db_session.rollback()
    bob = svc.account_summaries(db_session, world["bob"].id)
    assert by_name(bob, "balance_cents") == {"Checking": -99200}
    assert db_session.get(Account, bob_account.id).name == "Checking"


def test_create_validates_and_refuses_duplicates(db_session, world):
    alice = world["alice"]
    account = svc.create_account(db_session, alice.id, name="  Brokerage ", type="investment",
                                 opening_balance="1,234.50")
    db_session.commit()
    assert (account.name, account.opening_balance, account.user_id) == ("Brokerage", Decimal("1234.50"), alice.id)
    loan = svc.create_account(db_session, alice.id, name="Car loan", type="loan", opening_balance="-8000")
    assert loan.opening_balance == Decimal("-8000.00")
    db_session.commit()
    for kwargs, field in [({"name": ""}, "name"), ({"name": "Checking"}, "name"),
                          ({"name": "X", "type": "piggy"}, "type"),
                          ({"name": "X", "opening_balance": "abc"}, "opening_balance"),
                          ({"name": "X", "opening_balance": "1.001"}, "opening_balance"),
                          ({"name": "x" * 101}, "name")]:
        with pytest.raises(ServiceError) as err:
            svc.create_account(db_session, alice.id, **kwargs)
        assert err.value.field == field
        db_session.rollback()
    assert db_session.scalar(select(Account.id).where(Account.name == "X")) is None
    # Bob may use a name Alice has.
    svc.create_account(db_session, world["bob"].id, name="Card", type="credit_card")
    db_session.commit()


def test_rename_archive_and_stale_versions(db_session, world):
    alice, checking = world["alice"], world["checking"]
    version = checking.version
    renamed = svc.rename_account(db_session, alice.id, checking.id, "Everyday", expected_version=version)
    db_session.commit()
    assert renamed.name == "Everyday" and renamed.version == version + 1
    with pytest.raises(Conflict):  # the version the client read is stale now
        svc.rename_account(db_session, alice.id, checking.id, "Again", expected_version=version)
    db_session.rollback()
    with pytest.raises(ServiceError):
        svc.rename_account(db_session, alice.id, checking.id, "Card", expected_version=version + 1)
    db_session.rollback()
    archived = svc.set_archived(db_session, alice.id, checking.id, True, expected_version=version + 1)
    db_session.commit()
    assert archived.archived is True
    with pytest.raises(ServiceError):
        svc.update_account(db_session, alice.id, checking.id, expected_version=archived.version, version=9)
    with pytest.raises(ServiceError):
        svc.update_account(db_session, alice.id, checking.id, expected_version=archived.version, archived="yes")
    db_session.rollback()
    worth = svc.net_worth_now(svc.account_summaries(db_session, alice.id))
    assert worth["assets_cents"] == 40000  # only Savings is left among the assets


def test_accounts_in_other_currencies_and_net_worth_in_the_base_currency(db_session, make_user):
    from dashboard.services import fx
    from dashboard.services.errors import ServiceError

    user = make_user("fx@example.com", currency="EUR")
    euro = svc.create_account(db_session, user.id, name="Euro", opening_balance="100.00")
    dollars = svc.create_account(db_session, user.id, name="Dollars", opening_balance="108.76", currency="usd")
    yen = svc.create_account(db_session, user.id, name="Yen", opening_balance="15712", currency="JPY")
    francs = svc.create_account(db_session, user.id, name="Francs", opening_balance="5.00", currency="CHF")
    svc.create_account(db_session, user.id, name="Card", type="credit_card", opening_balance="-10.88",
                              currency="USD")
    db_session.commit()
    assert (euro.currency, dollars.currency, yen.currency) == ("EUR", "USD", "JPY")
    for bad in (dict(currency="KWD"), dict(currency="XYZ"), dict(currency="JPY", opening_balance="1.5")):
        with pytest.raises(ServiceError):
            svc.create_account(db_session, user.id, name=f"Bad {bad}", **bad)
        db_session.rollback()
    with pytest.raises(ServiceError, match="no decimals"):
        svc.update_account(db_session, user.id, yen.id, expected_version=yen.version, opening_balance="0.50")
    db_session.rollback()

    today = date(2026, 1, 10)
    fx.set_rate(db_session, user.id, day=date(2026, 1, 2), currency="USD", base="EUR", rate="1.0876")
    fx.set_rate(db_session, user.id, day=date(2026, 1, 2), currency="JPY", base="EUR", rate="157.12")
    db_session.commit()
    summaries = svc.account_summaries(db_session, user.id)
    assert dict(zip(summaries["name"], summaries["currency"]))["Yen"] == "JPY"
    converted, base, missing = svc.in_base_currency(db_session, user.id, summaries, today)
    assert base == "EUR"
    assert missing == (fx.Missing("CHF", "EUR", today),)  # reported, and the account left out
    assert dict(zip(converted["name"], converted["balance_cents"])) == {
        "Euro": 10000, "Dollars": 10000, "Yen": 10000, "Card": -1000}  # 108.76/1.0876, 15712/157.12, -10.88/1.0876
    assert svc.net_worth_now(converted) == {"assets_cents": 30000, "debts_cents": -1000, "net_cents": 29000}
    assert francs.id not in set(converted["id"])
