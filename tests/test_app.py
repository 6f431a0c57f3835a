"""The app starts, the login guards everything, and the Overview shows the user's own numbers."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from conftest import TEST_PASSWORD, csrf_token, login
from dash_client import call_callback

from dashboard.services import overview
from dashboard.services.transactions import create_transaction, create_transfer
from models import Category


def _cat(session, name):
    return session.query(Category).filter(Category.name == name, Category.user_id.is_(None)).one()


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Log in" in response.data


def test_pages_redirect_anonymous_to_login(client):
    for path in ("/", "/spending", "/anything"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_dash_endpoints_answer_401_to_anonymous(client):
    response = client.post("/_dash-update-component", json={"output": "x.children", "inputs": []})
    assert response.status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/_dash-dependencies").status_code == 401


def test_static_assets_are_public(client):
    assert client.get("/assets/ledgerlens.css").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user):
    make_user("alice@example.com")
    wrong = client.post("/login", data={"email": "alice@example.com", "password": "nope",
                                        "csrf_token": csrf_token(client)})
    unknown = client.post("/login", data={"email": "bob@example.com", "password": "nope",
                                          "csrf_token": csrf_token(client)})
    assert wrong.status_code == unknown.status_code == 401
    assert b"Wrong email or password." in wrong.data and b"Wrong email or password." in unknown.data


def test_login_is_case_insensitive_and_next_is_same_site_only(client, make_user):
    make_user("alice@example.com")
    response = client.post("/login?next=https://evil.example/x",
                           data={"email": "ALICE@example.com", "password": TEST_PASSWORD,
                                 "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_logout(client, make_user):
    make_user("alice@example.com")
    login(client, "alice@example.com")
    assert client.get("/").status_code == 200
    from flask import g
    g.pop("csrf_token", None)   # requests here share the test's app context: forget the pre-login token
    client.get("/logout")   # asks only
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")}).status_code == 302
    assert client.get("/").status_code == 302


def _seed(session, user, account, savings):
    today = date.today()
    first = today.replace(day=1)
    create_transaction(session, user.id, account_id=account.id, date=first, amount=Decimal("3000.00"),
                       kind="income", category_id=_cat(session, "Salary").id, payee="Employer")
    create_transaction(session, user.id, account_id=account.id, date=first, amount=Decimal("-120.50"),
                       kind="expense", category_id=_cat(session, "Groceries").id, payee="Market")
    create_transaction(session, user.id, account_id=account.id, date=first, amount=Decimal("-40.00"),
                       kind="expense", category_id=_cat(session, "Restaurants").id, payee="Bistro")
    create_transaction(session, user.id, account_id=account.id, date=first, amount=Decimal("-900.00"),
                       kind="expense", category_id=_cat(session, "Rent").id, payee="Landlord")
    create_transfer(session, user.id, from_account_id=account.id, to_account_id=savings.id, date=first,
                    amount=Decimal("500.00"))
    session.commit()


def test_overview_services_compute_in_sql(db_session, make_user, make_account):
    alice = make_user("alice@example.com")
    checking = make_account(alice, "Checking", opening="100.00")
    savings = make_account(alice, "Savings", "savings", opening="1000.00")
    _seed(db_session, alice, checking, savings)
    # Another user's data must never count.
    bob = make_user("bob@example.com")
    _seed(db_session, bob, make_account(bob, "Checking"), make_account(bob, "Savings", "savings"))

    balances = overview.account_balances(db_session, alice.id).set_index("name")["balance_cents"]
    assert balances["Checking"] == 10000 + 300000 - 12050 - 4000 - 90000 - 50000
    assert balances["Savings"] == 100000 + 50000
    this, _last = overview.month_comparison(db_session, alice.id, date.today())
    assert this.income_cents == 300000
    assert this.spending_cents == 12050 + 4000 + 90000  # the transfer is not spending
    top = overview.spending_by_top_category(db_session, alice.id, date.today().replace(day=1), date.today())
    assert top.iloc[0]["name"] == "Housing"
    assert dict(zip(top["name"], top["amount_cents"])) == {"Housing": 90000, "Food": 16050}


def test_overview_callback_renders_the_users_numbers(client, db_session, make_user, make_account):
    alice = make_user("alice@example.com")
    checking = make_account(alice, "Checking", opening="100.00")
    savings = make_account(alice, "Savings", "savings", opening="1000.00")
    _seed(db_session, alice, checking, savings)
    login(client, "alice@example.com")
    status, body = call_callback(
        client, [("overview-stats", "children"), ("overview-accounts", "children"),
                 ("overview-top-categories", "figure"), ("overview-cashflow", "figure")],
        [("overview-load", "data", 0)])
    assert status == 200
    text = json.dumps(body)
    # net worth = 100 + 3000 - 1060.50 - 500 + 1000 + 500
    assert "$3,039.50" in text
    assert "$3,000.00" in text  # income this month
    assert "$1,060.50" in text  # spending this month
    figure = body["overview-top-categories"]["figure"]
    assert figure["data"][0]["y"][-1] == "Housing"
