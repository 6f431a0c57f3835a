"""The cache of expensive reads: a commit that changes a user's data bumps their data version, cached
answers are keyed by it, so a user never sees a stale total after an edit or an import, and never
another user's answer. The default backend is the in-process SimpleCache; the Redis backend is tested
when a Redis answers (REDIS_URL, else 127.0.0.1:6379), and skipped otherwise."""
from __future__ import annotations

import os
import socket
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from conftest import login
from sqlalchemy import select, update
from test_spending_callbacks import views

from dashboard.services import budgets as budgets_svc
from dashboard.services import cache as cache_mod
from dashboard.services import goals as goals_svc
from dashboard.services import overview as overview_svc
from dashboard.services import spending as spending_svc
from dashboard.services.accounts import update_account
from dashboard.services.bulk import NewTransaction, write_transactions
from dashboard.services.transactions import create_transaction, update_transaction
from dashboard.services.users import delete_user
from models import Budget, Category, User, db
from settings import Settings

D = Decimal
MARCH = {"preset": "custom", "from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture()
def cats(db_session):
    return {c.name: c.id for c in db_session.scalars(select(Category).where(Category.user_id.is_(None)))}


def version(user_id: int) -> int:
    """The stored data version, read on a connection of its own."""
    with db.engine.connect() as conn:
        return conn.scalar(select(User.data_version).where(User.id == user_id))


def summary(client, state=MARCH) -> str:
    status, body = views(client, state)
    assert status == 200
    return body["spending-grid-summary"]["children"]


def spend(session, user, account, day, amount, category_id, payee="Market"):
    tx = create_transaction(session, user.id, account_id=account.id, date=day, amount=D(amount),
                            category_id=category_id, payee=payee)
    session.commit()
    return tx


# -- the data version ---------------------------------------------------------------------------------

def test_new_users_start_at_different_random_versions(make_user):
    a, b = make_user("a@example.com"), make_user("b@example.com")
    assert version(a.id) != version(b.id)
    assert version(a.id) > 2**20 and version(b.id) > 2**20  # not 0: see models.user.initial_data_version


def test_every_kind_of_write_bumps_the_owners_version_and_nobody_elses(db_session, make_user, make_account,
                                                                        cats):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    account = make_account(alice)
    bobs_version = version(bob.id)

    def bumped(action) -> bool:
        before = version(alice.id)
        action()
        db_session.commit()
        return version(alice.id) == before + 1

    tx = create_transaction(db_session, alice.id, account_id=account.id, date=date(2026, 3, 2),
                            amount=D("-10.00"), category_id=cats["Groceries"])
    db_session.commit()
    assert bumped(lambda: update_transaction(db_session, alice.id, tx.id, expected_version=tx.version,
                                             amount=D("-12.00")))
    budget = budgets_svc.create_budget(db_session, alice.id, category_id=cats["Groceries"], amount="100.00",
                                       start_date=date(2026, 3, 1))
    db_session.commit()
    assert bumped(lambda: budgets_svc.update_budget(db_session, alice.id, budget.id,
                                                    expected_version=budget.version, amount="150.00"))
    # A Core DELETE through the session (no ORM object): found by its user_id criterion.
    assert bumped(lambda: budgets_svc.delete_budget(db_session, alice.id, budget.id))
    assert bumped(lambda: goals_svc.create_goal(db_session, alice.id, name="Bike", target_amount="900",
                                                target_date=date(2030, 1, 1), today=date(2026, 3, 1)))
    assert bumped(lambda: update_account(db_session, alice.id, account.id, expected_version=account.version,
                                         opening_balance="25.00"))
    # Raw inserts (an import), which only the roll-up refresh sees.
    assert bumped(lambda: write_transactions(db_session, alice.id, [NewTransaction(
        account_id=account.id, date=date(2026, 3, 9), cents=-500, kind="expense",
        category_id=cats["Coffee"], payee="Cafe")]))
    assert version(bob.id) == bobs_version


def test_reads_and_password_rehashes_do_not_bump(db_session, make_user):
    alice = make_user("alice@example.com")
    before = version(alice.id)
    spending_svc.explore(db_session, alice.id, spending_svc.parse_filters(MARCH, date(2026, 3, 15)))
    db_session.commit()
    user = db_session.get(User, alice.id)
    user.password_hash = user.password_hash + "x"
    db_session.commit()
    assert version(alice.id) == before
    user.currency = "EUR"  # shown in formatted amounts: a change
    db_session.commit()
    assert version(alice.id) == before + 1


def test_a_statement_without_a_user_criterion_bumps_everyone(db_session, make_user):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    before = version(alice.id), version(bob.id)
    db_session.execute(update(Budget).values(rollover=False))  # touches any user's rows
    db_session.commit()
    assert (version(alice.id), version(bob.id)) == (before[0] + 1, before[1] + 1)


def test_a_rolled_back_write_bumps_nothing(db_session, make_user, make_account, cats):
    alice = make_user("alice@example.com")
    account = make_account(alice)
    before = version(alice.id)
    create_transaction(db_session, alice.id, account_id=account.id, date=date(2026, 3, 2),
                       amount=D("-10.00"), category_id=cats["Groceries"])
    db_session.rollback()
    db_session.commit()
    assert version(alice.id) == before


# -- fresh answers --------------------------------------------------------------------------------------

def test_a_cached_total_is_fresh_right_after_an_edit_and_an_import(client, db_session, make_user, make_account,
                                                                   cats):
    alice = make_user("alice@example.com")
    account = make_account(alice)
    tx = spend(db_session, alice, account, date(2026, 3, 2), "-10.00", cats["Groceries"])
    login(client, alice.email)
    hits = cache_mod.stats()["hits"]
    assert summary(client) == "1 row · total $10.00"
    assert summary(client) == "1 row · total $10.00"
    assert cache_mod.stats()["hits"] > hits  # the second answer came from the cache

    update_transaction(db_session, alice.id, tx.id, expected_version=tx.version, amount=D("-25.00"))
    db_session.commit()
    assert summary(client) == "1 row · total $25.00"

    spend(db_session, alice, account, date(2026, 3, 3), "-5.00", cats["Coffee"])
    assert summary(client) == "2 rows · total $30.00"

    write_transactions(db_session, alice.id, [NewTransaction(account_id=account.id, date=date(2026, 3, 9), cents=-700,
                                                     kind="expense", category_id=cats["Coffee"], payee="Cafe")])
    db_session.commit()
    assert summary(client) == "3 rows · total $37.00"


def test_a_budget_edit_through_the_page_shows_at_once(client, db_session, make_user, cats):
    from test_budgets_callbacks import change, edit, load
    alice = make_user("alice@example.com")
    budget = budgets_svc.create_budget(db_session, alice.id, category_id=cats["Groceries"], amount="500.00",
                                       start_date=date(2025, 3, 1))
    db_session.commit()
    login(client, alice.email)
    rows = load(client)[1]["budgets-grid"]["rowData"]
    assert rows[0]["budgeted"] == "500.00" and rows[0]["version"] == 1
    load(client)  # now certainly cached
    status, _ = edit(client, [change(budget, "612.34")])
    assert status == 200
    rows = load(client)[1]["budgets-grid"]["rowData"]
    assert rows[0]["budgeted"] == "612.34" and rows[0]["version"] == 2
    stats = str(load(client)[1]["budgets-stats"]["children"])
    assert "$612.34" in stats


def test_overview_balances_follow_an_account_edit(db_session, make_user, make_account, app):
    alice = make_user("alice@example.com")
    account = make_account(alice, opening="100.00")
    assert overview_svc.account_balances(db_session, alice.id)["balance_cents"].tolist() == [10000]
    db_session.commit()
    update_account(db_session, alice.id, account.id, expected_version=account.version, opening_balance="250.00")
    db_session.commit()
    assert overview_svc.account_balances(db_session, alice.id)["balance_cents"].tolist() == [25000]


def test_uncommitted_changes_are_never_cached(db_session, make_user, make_account, cats):
    alice = make_user("alice@example.com")
    account = make_account(alice)
    filters = spending_svc.parse_filters(MARCH, date(2026, 3, 15))
    assert spending_svc.explore(db_session, alice.id, filters).total_cents == 0
    db_session.commit()
    create_transaction(db_session, alice.id, account_id=account.id, date=date(2026, 3, 2),
                       amount=D("-10.00"), category_id=cats["Groceries"])
    # Inside the writing transaction the answer includes the write (the cache is bypassed)...
    assert spending_svc.explore(db_session, alice.id, filters).total_cents == 1000
    db_session.rollback()
    # ...and it was not stored: after the rollback the answer is the committed one.
    assert spending_svc.explore(db_session, alice.id, filters).total_cents == 0


# -- one user's answers are theirs ---------------------------------------------------------------------

def test_keys_differ_per_user(app, db_session, make_user, make_account, cats):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    spend(db_session, alice, make_account(alice), date(2026, 3, 2), "-10.00", cats["Groceries"])
    spend(db_session, bob, make_account(bob), date(2026, 3, 2), "-99.00", cats["Groceries"])
    alice_client, bob_client = app.test_client(), app.test_client()
    login(alice_client, alice.email)
    assert summary(alice_client) == "1 row · total $10.00"
    login(bob_client, bob.email)   # each request has its own app context and flask.g (see conftest)
    assert summary(bob_client) == "1 row · total $99.00"
    assert summary(alice_client) == "1 row · total $10.00"


def test_a_new_user_with_a_reused_id_never_meets_the_old_entries(db_session, make_user, make_account, cats):
    old = make_user("old@example.com")
    spend(db_session, old, make_account(old), date(2026, 3, 2), "-10.00", cats["Groceries"])
    db_session.commit()
    filters = spending_svc.parse_filters(MARCH, date(2026, 3, 15))
    hits = cache_mod.stats()["hits"]
    assert spending_svc.explore(db_session, old.id, filters).total_cents == 1000
    assert spending_svc.explore(db_session, old.id, filters).total_cents == 1000
    assert cache_mod.stats()["hits"] == hits + 1   # the old user's answer is in the cache
    old_id, old_version = old.id, version(old.id)
    db_session.commit()
    delete_user(db_session, old_id)
    db_session.commit()
    new = make_user("new@example.com")  # SQLite hands out the freed highest id again
    assert version(new.id) != old_version   # a new user starts at a random version: another key
    assert spending_svc.explore(db_session, new.id, filters).total_cents == 0


# -- backends -------------------------------------------------------------------------------------------

def test_config_from_the_environment():
    assert cache_mod.cache_config(Settings.from_environ({}))["CACHE_TYPE"] == "SimpleCache"
    redis = cache_mod.cache_config(Settings.from_environ({"REDIS_URL": "redis://127.0.0.1:6379/2"}))
    assert redis["CACHE_TYPE"] == "RedisCache" and redis["CACHE_REDIS_URL"] == "redis://127.0.0.1:6379/2"
    assert cache_mod.cache_config(Settings.from_environ({"LEDGERLENS_CACHE": "off"}))["CACHE_TYPE"] == "NullCache"


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=0.3):
            return url
    except OSError:
        return None


@pytest.fixture()
def swap_backend(app):
    """Point the app's cache at another backend for one test, then back."""
    from flask_caching import Cache

    saved = dict(app.extensions["cache"])
    saved_config = {k: v for k, v in app.config.items() if k.startswith("CACHE_")}

    def _swap(**config):
        app.config.update(config)
        Cache.init_app(cache_mod.cache, app)

    yield _swap
    for key in [k for k in app.config if k.startswith("CACHE_")]:
        del app.config[key]
    app.config.update(saved_config)
    app.extensions["cache"].clear()
    app.extensions["cache"].update(saved)


def test_redis_backend_caches_and_stays_fresh(db_session, make_user, make_account, cats, swap_backend):
    url = _redis_url()
    if url is None:
        pytest.skip("no Redis reachable (REDIS_URL or 127.0.0.1:6379): the default SimpleCache is tested above")
    swap_backend(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=url, CACHE_KEY_PREFIX=f"ll-test-{os.getpid()}:",
                 CACHE_DEFAULT_TIMEOUT=60)
    alice = make_user("alice@example.com")
    account = make_account(alice)
    spend(db_session, alice, account, date(2026, 3, 2), "-10.00", cats["Groceries"])
    filters = spending_svc.parse_filters(MARCH, date(2026, 3, 15))
    hits = cache_mod.stats()["hits"]
    assert spending_svc.explore(db_session, alice.id, filters).total_cents == 1000
    db_session.commit()
    assert spending_svc.explore(db_session, alice.id, filters).total_cents == 1000
    assert cache_mod.stats()["hits"] == hits + 1
    db_session.commit()
    spend(db_session, alice, account, date(2026, 3, 3), "-5.00", cats["Coffee"])
    assert spending_svc.explore(db_session, alice.id, filters).total_cents == 1500


def test_an_unreachable_redis_costs_the_cache_not_the_answer(db_session, make_user, make_account, cats,
                                                             swap_backend):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    swap_backend(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=f"redis://127.0.0.1:{port}/0",
                 CACHE_OPTIONS={"socket_timeout": 0.2, "socket_connect_timeout": 0.2})
    alice = make_user("alice@example.com")
    spend(db_session, alice, make_account(alice), date(2026, 3, 2), "-10.00", cats["Groceries"])
    errors = cache_mod.stats()["errors"]
    filters = spending_svc.parse_filters(MARCH, date(2026, 3, 15))
    assert spending_svc.explore(db_session, alice.id, filters).total_cents == 1000
    assert cache_mod.stats()["errors"] > errors
