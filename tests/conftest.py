"""Shared fixtures: a real database (SQLite file, or PostgreSQL when DATABASE_URL says so), the app
migrated to head, users, and logged-in test clients.

On PostgreSQL each purpose gets its own schema in the given database (dropped and made anew per run),
so the migration tests and the app tests never step on each other.
"""
from __future__ import annotations

import contextvars
import os
from urllib.parse import quote

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

os.environ.setdefault("LEDGERLENS_DEMO_HINT", "1")

TEST_PASSWORD = "correct horse battery staple"


def _base_url() -> str | None:
    from models import database_url
    return database_url() if os.environ.get("DATABASE_URL") else None


def is_postgres() -> bool:
    return bool(os.environ.get("DATABASE_URL"))


_SCHEMAS: list[str] = []


def pytest_collection_modifyitems(config, items):
    """``page_sweep`` tests (every page through axe, at a phone's width, with stored markup) check the
    HTML the pages render, which is the same on either database; each costs minutes of a browser, so
    they run in the SQLite pass of `make test` and are skipped, saying so, on PostgreSQL. Every
    callback those pages use is also exercised on PostgreSQL (tests/test_authz_matrix.py, the
    callback tests and the other browser tests)."""
    if not is_postgres():
        return
    skip = pytest.mark.skip(reason="page sweep: the same HTML on either database; runs in the SQLite pass")
    for item in items:
        if "page_sweep" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    """Drop the PostgreSQL schemas this run made."""
    base = _base_url()
    if base is None or not _SCHEMAS:
        return
    engine = create_engine(base)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET lock_timeout = '5s'"))
            for schema in _SCHEMAS:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    except Exception as exc:  # a leftover schema is harmless; the next run uses another name
        print(f"could not drop test schemas: {exc}")
    finally:
        engine.dispose()


def fresh_database(name: str, tmp_path_factory) -> str:
    """A URL to an empty database for one purpose: a new SQLite file, or a new PostgreSQL schema."""
    base = _base_url()
    if base is None:
        path = tmp_path_factory.mktemp(name) / f"{name}.sqlite3"
        return f"sqlite:///{path}"
    # One schema per test process, so parallel runs on the same server never collide.
    schema = f"ll_test_{name}_{os.getpid()}"
    _SCHEMAS.append(schema)
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def app_database_url(tmp_path_factory) -> str:
    return fresh_database("app", tmp_path_factory)


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in a fresh app context, as on a server: its own
    ``flask.g`` and its own ``db.session``, even while the test holds an app context (db_session).

    What the test's session holds is committed first (a request only sees committed rows), and its
    objects are expired by that commit, so the test reads what the request wrote."""

    def open(self, *args, **kwargs):
        if has_app_context():
            from models import db
            db.session.commit()
        # An empty contextvars.Context has no app context: Flask pushes (and tears down) a new one.
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(app_database_url, tmp_path_factory):
    from app import create_app, migrate_to_head

    os.environ["LEDGERLENS_INSTANCE"] = str(tmp_path_factory.mktemp("instance"))
    flask_app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": app_database_url,
    })
    migrate_to_head(flask_app)
    flask_app.test_client_class = FreshContextClient
    return flask_app


def wipe_user_data(session) -> None:
    """Remove every user and every row they own (the built-in categories stay), the service's way."""
    from sqlalchemy import select

    from dashboard.services.users import delete_user
    from models import User
    for user_id in session.scalars(select(User.id)).all():
        delete_user(session, user_id)
    session.commit()


@pytest.fixture()
def db_session(app):
    """The app's scoped session inside an app context; user data is wiped afterwards."""
    from models import db
    with app.app_context():
        yield db.session
        db.session.rollback()
        wipe_user_data(db.session)
        db.session.remove()


@pytest.fixture(scope="session")
def password_hash() -> str:
    from dashboard.services.passwords import hash_password
    return hash_password(TEST_PASSWORD)


@pytest.fixture()
def make_user(db_session, password_hash):
    from models import User

    def _make(email: str = "alice@example.com", name: str | None = None, currency: str = "USD") -> User:
        user = User(email=email.lower(), display_name=name or email.split("@")[0].title(),
                    currency=currency, password_hash=password_hash)
        db_session.add(user)
        db_session.commit()
        return user
    return _make


@pytest.fixture()
def make_account(db_session):
    from decimal import Decimal

    from models import Account

    def _make(user, name: str = "Checking", type: str = "checking", opening="0.00") -> Account:
        account = Account(user_id=user.id, name=name, type=type, opening_balance=Decimal(opening))
        db_session.add(account)
        db_session.commit()
        return account
    return _make


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the form at ``path`` (every Flask form needs one; Dash callbacks do not)."""
    import re
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    return match.group(1) if match else ""


def login(client, email: str, password: str = TEST_PASSWORD):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)},
                       follow_redirects=False)


@pytest.fixture()
def client(app, db_session):
    return app.test_client()


def commit_or_rollback(session, work, *args, **kwargs):
    """What every caller of a writing service does (the commit rule, docs/architecture.md): run it,
    commit, or roll back and re-raise."""
    try:
        value = work(session, *args, **kwargs)
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return value
