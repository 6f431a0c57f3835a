"""Accounts for many people, and the HTTP hardening around them: registration, login limits, the one
error message, CSRF, cookie flags, security headers, password change, and deleting a user."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import stat

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from conftest import TEST_PASSWORD, csrf_token, login
from seed_people import seed_user_data, snapshot, user_owned_tables
from sqlalchemy import func, select

from dashboard.auth import EMAIL_UNAVAILABLE, WRONG_LOGIN
from dashboard.security import limiter
from dashboard.services import passwords
from dashboard.services import users as users_svc
from dashboard.services.passwords import needs_rehash, verify_password
from models import Category, User

NEW_PASSWORD = "a different long passphrase"


STRONG_HASHER = passwords._hasher
# Argon2id at the production cost takes ~0.35 s per check here; these tests check logins by the dozen,
# so they hash cheaply (same scheme, fewer rounds). test_password_hashing_is_argon2id_at_full_cost and
# the upgrade test use the real thing.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", FAST_HASHER)
    monkeypatch.setattr(passwords, "DUMMY_HASH", FAST_HASHER.hash("not a real password"))


@pytest.fixture()
def password_hash() -> str:
    """Overrides conftest's: the users made here carry a cheap hash (see FAST_HASHER)."""
    return FAST_HASHER.hash(TEST_PASSWORD)


@pytest.fixture(autouse=True)
def _fresh_limits():
    """Each test starts (and leaves) with no rate-limit counts."""
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture()
def fresh(app, db_session):
    """Test clients whose every request runs in its own app context (a fresh flask.g, as in production):
    otherwise Flask-Login's cached user would be shared by all requests of a test."""
    def make(remote_addr: str | None = None, https: bool = False):
        client = app.test_client()
        if remote_addr:
            client.environ_base["REMOTE_ADDR"] = remote_addr
        original = client.open

        def open_in_own_context(*args, **kw):
            if https:
                kw.setdefault("base_url", "https://localhost")
            with app.app_context():
                return original(*args, **kw)
        client.open = open_in_own_context
        return client
    return make


def _form(client, path: str, **data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def _register(client, email="new@example.com", password="a long enough password", confirm=None, **extra):
    return _form(client, "/register", email=email, password=password,
                 password_confirm=password if confirm is None else confirm,
                 currency=extra.pop("currency", "EUR"), display_name=extra.pop("display_name", ""), **extra)


def _users(db_session):
    db_session.rollback()
    return db_session.scalar(select(func.count()).select_from(User))


def _dash(client, **headers):
    payload = {"output": "nav-collapse.is_open", "outputs": {"id": "nav-collapse", "property": "is_open"},
               "inputs": [{"id": "nav-toggler", "property": "n_clicks", "value": 1}],
               "state": [{"id": "nav-collapse", "property": "is_open", "value": False}],
               "changedPropIds": ["nav-toggler.n_clicks"]}
    return client.post("/_dash-update-component", data=json.dumps(payload),
                       content_type=headers.pop("content_type", "application/json"), headers=headers)


# -- registration ----------------------------------------------------------------------------------

def test_register_creates_a_user_logs_in_and_hashes_with_argon2id(fresh, db_session):
    client = fresh()
    assert 'name="csrf_token"' in client.get("/register").get_data(as_text=True)
    response = _register(client, email="  New.Person@Example.COM ", display_name="New Person")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = db_session.scalar(select(User).where(User.email == "new.person@example.com"))
    assert user is not None and user.currency == "EUR" and user.display_name == "New Person"
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("fields, field, message", [
    ({"password": "short"}, "password", "at least 10"),
    ({"confirm": "something else entirely"}, "password_confirm", "differ"),
    ({"email": "not-an-email"}, "email", "valid email"),
    ({"currency": "XXX"}, "currency", "currency"),
    ({"password": "aaaaaaaaaaaa"}, "password", "different characters"),
])
def test_register_refuses_bad_input_next_to_the_field(fresh, db_session, fields, field, message):
    response = _register(fresh(), **fields)
    assert response.status_code == 400
    assert re.search(rf'id="{field}-feedback">[^<]*{message}', response.get_data(as_text=True), re.I)
    assert _users(db_session) == 0


def test_register_with_a_taken_email_gets_a_neutral_message(fresh, db_session, make_user):
    make_user("alice@example.com")
    response = _register(fresh(), email="ALICE@example.com")
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert EMAIL_UNAVAILABLE in text
    assert "already" not in text.replace("If you already have", "")  # never "already registered"
    assert _users(db_session) == 1


def test_closed_registration(app, fresh, db_session, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_OPEN", False)
    # A brand-new server still lets its first person in.
    assert fresh().get("/register").status_code == 200
    make_user("alice@example.com")
    client = fresh()
    assert "register-link" not in client.get("/login").get_data(as_text=True)
    page = client.get("/register")
    assert page.status_code == 403 and b"Registration is closed" in page.data
    token = csrf_token(client, "/login")
    response = client.post("/register", data={"email": "eve@example.com", "password": "a long enough password",
                                              "password_confirm": "a long enough password", "currency": "USD",
                                              "csrf_token": token})
    assert response.status_code == 403
    assert _users(db_session) == 1


# -- login -----------------------------------------------------------------------------------------

def _login_error_page(response) -> str:
    text = response.get_data(as_text=True)
    text = re.sub(r'name="csrf_token" value="[^"]*"', "", text)
    return re.sub(r'id="email" name="email" value="[^"]*"', "", text)


def test_unknown_email_and_wrong_password_get_the_same_page(fresh, make_user):
    make_user("alice@example.com")
    wrong = login(fresh(), "alice@example.com", "not the password")
    unknown = login(fresh(), "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG_LOGIN in wrong.get_data(as_text=True)
    assert _login_error_page(wrong) == _login_error_page(unknown)


def test_sixth_failure_for_one_account_from_one_address_gets_429(fresh, make_user):
    make_user("alice@example.com")
    client = fresh()
    for _ in range(5):
        assert login(client, "alice@example.com", "wrong password").status_code == 401
    refused = login(client, "alice@example.com", TEST_PASSWORD)  # even the right password now
    assert refused.status_code == 429
    assert b"Too many attempts" in refused.data
    # Another address is not affected (a stranger cannot lock the owner out: tests/test_sessions_and_tokens.py).
    other = fresh(remote_addr="10.1.2.3")
    assert login(other, "alice@example.com", TEST_PASSWORD).status_code == 302


def test_one_address_trying_many_accounts_gets_429(fresh, make_user, app):
    make_user("alice@example.com")
    client = fresh()
    for i in range(int(app.config["LOGIN_ADDRESS_RATE_LIMIT"].split()[0])):
        assert login(client, f"someone{i}@example.com", "wrong password").status_code == 401
    assert login(client, "alice@example.com", TEST_PASSWORD).status_code == 429
    assert login(fresh(remote_addr="10.1.2.3"), "alice@example.com", TEST_PASSWORD).status_code == 302


def test_successful_logins_do_not_count(fresh, make_user):
    make_user("alice@example.com")
    for _ in range(7):
        client = fresh()
        assert login(client, "alice@example.com").status_code == 302


def test_password_hashing_is_argon2id_at_full_cost(monkeypatch):
    assert STRONG_HASHER.type is Type.ID
    assert STRONG_HASHER.memory_cost >= 64 * 1024 and STRONG_HASHER.time_cost >= 3
    # What is stored is made by that hasher (not by some other one): Argon2id at its parameters.
    monkeypatch.setattr(passwords, "_hasher", STRONG_HASHER)
    stored = extract_parameters(passwords.hash_password("a long enough passphrase"))
    assert (stored.type, stored.memory_cost, stored.time_cost) == (Type.ID, STRONG_HASHER.memory_cost,
                                                                   STRONG_HASHER.time_cost)


def test_old_password_hashes_are_upgraded_on_login(fresh, db_session, make_user, monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", STRONG_HASHER)
    user = make_user("alice@example.com")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(TEST_PASSWORD)
    db_session.commit()
    assert needs_rehash(user.password_hash)
    assert login(fresh(), "alice@example.com").status_code == 302
    db_session.refresh(user)
    assert not needs_rehash(user.password_hash)
    assert verify_password(user.password_hash, TEST_PASSWORD)


def test_keep_me_logged_in_makes_the_session_cookie_last(fresh, make_user):
    make_user("alice@example.com")
    client = fresh()
    short = client.post("/login", data={"email": "alice@example.com", "password": TEST_PASSWORD,
                                        "csrf_token": csrf_token(client)})
    session_cookie = [h for h in short.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert session_cookie and "Expires=" not in session_cookie[0]
    client = fresh()
    kept = client.post("/login", data={"email": "alice@example.com", "password": TEST_PASSWORD, "remember": "1",
                                       "csrf_token": csrf_token(client)})
    assert "Expires=" in [h for h in kept.headers.getlist("Set-Cookie") if h.startswith("session=")][0]
    assert not any("remember_token" in h for h in kept.headers.getlist("Set-Cookie"))


# -- CSRF ------------------------------------------------------------------------------------------

def test_forms_without_their_csrf_token_are_refused(fresh, db_session, make_user):
    make_user("alice@example.com")
    client = fresh()
    for token in ({}, {"csrf_token": "forged"}):
        response = client.post("/login", data={"email": "alice@example.com", "password": TEST_PASSWORD, **token})
        assert response.status_code == 400
    assert client.get("/").status_code == 302  # not logged in
    response = client.post("/register", data={"email": "eve@example.com", "password": "a long enough password",
                                              "password_confirm": "a long enough password", "currency": "USD"})
    assert response.status_code == 400 and _users(db_session) == 1

    assert login(client, "alice@example.com").status_code == 302
    response = client.post("/settings", data={"action": "profile", "display_name": "Hacked", "currency": "EUR"})
    assert response.status_code == 400
    assert client.post("/logout").status_code == 400
    response = client.post("/settings", data={"action": "delete", "confirm_email": "alice@example.com",
                                              "delete_password": TEST_PASSWORD})
    assert response.status_code == 400
    db_session.rollback()
    user = db_session.scalar(select(User))
    assert user is not None and user.display_name == "Alice" and user.currency == "USD"


def test_dash_callbacks_need_no_token_but_a_same_site_json_request(fresh, make_user):
    make_user("alice@example.com")
    client = fresh()
    login(client, "alice@example.com")
    assert _dash(client).status_code == 200  # the test client, like a script, sends no Origin
    assert _dash(client, Origin="http://localhost").status_code == 200
    assert _dash(client, Referer="http://localhost/goals").status_code == 200
    assert _dash(client, Origin="https://evil.example").status_code == 403
    assert _dash(client, Origin="null").status_code == 403
    assert _dash(client, Referer="https://evil.example/page").status_code == 403
    assert _dash(client, content_type="text/plain").status_code == 415
    assert _dash(client, content_type="application/x-www-form-urlencoded").status_code == 415


def test_a_trusted_origin_may_call_dash_callbacks(app, fresh, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_ORIGINS", ["https://money.example.org"])
    make_user("alice@example.com")
    client = fresh()
    login(client, "alice@example.com")
    assert _dash(client, Origin="https://money.example.org").status_code == 200
    assert _dash(client, Origin="http://money.example.org").status_code == 403


def test_logout_from_another_site_asks_first(fresh, make_user):
    make_user("alice@example.com")
    client = fresh()
    login(client, "alice@example.com")
    page = client.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200 and b"Log out?" in page.data
    assert client.get("/").status_code == 200  # still logged in
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    login(client, "alice@example.com")
    # From this app's own pages too, GET only asks: logging out is a POST.
    assert client.get("/logout", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert client.get("/").status_code == 200


# -- cookies and headers ---------------------------------------------------------------------------

def _session_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookie_flags(fresh, make_user):
    make_user("alice@example.com")
    cookie = _session_cookie(login(fresh(), "alice@example.com"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = fresh(https=True)
    response = https.post("/login", data={"email": "alice@example.com", "password": TEST_PASSWORD,
                                          "csrf_token": csrf_token(https)},
                          headers={"Referer": "https://localhost/login"})
    assert response.status_code == 302
    cookie = _session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_security_headers_on_pages_and_callbacks(fresh, make_user):
    make_user("alice@example.com")
    client = fresh()
    responses = [client.get("/login"), client.get("/register")]
    login(client, "alice@example.com")
    responses += [client.get("/"), client.get("/settings"), client.get("/_dash-layout"), _dash(client)]
    for response in responses:
        assert response.status_code == 200
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"
        csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
        assert csp["default-src"] == "'self'" and csp["base-uri"] == "'self'" and csp["form-action"] == "'self'"
        assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert client.get("/assets/ledgerlens.css").headers.get("Cache-Control") != "no-store"


def test_csp_hashes_cover_every_inline_script_of_the_dash_page(fresh, make_user):
    make_user("alice@example.com")
    client = fresh()
    login(client, "alice@example.com")
    page = client.get("/spending")
    csp = page.headers["Content-Security-Policy"]
    html = re.sub(r"<!--.*?-->", "", page.get_data(as_text=True), flags=re.S)  # (Dash's IE notice is a comment)
    scripts = re.findall(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", html, re.S)
    inline = [body for attrs, body in scripts if "src=" not in attrs and "application/json" not in attrs]
    assert len(inline) >= 2  # the renderer start-up and the clientside callbacks
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_secret_key_comes_from_the_environment_or_an_instance_file(tmp_path, monkeypatch, app):
    from app import _secret_key
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = _secret_key(str(tmp_path))
    assert len(first) >= 64 and first == _secret_key(str(tmp_path))
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert _secret_key(str(tmp_path)) == "from-the-environment"
    assert app.debug is False


# -- settings --------------------------------------------------------------------------------------

def test_change_display_name_and_currency(fresh, db_session, make_user):
    make_user("alice@example.com")
    client = fresh()
    login(client, "alice@example.com")
    response = _form(client, "/settings", action="profile", display_name="<b>Al</b>", currency="GBP")
    assert response.status_code == 302
    db_session.rollback()
    user = db_session.scalar(select(User))
    assert (user.display_name, user.currency) == ("<b>Al</b>", "GBP")
    page = client.get("/settings").get_data(as_text=True)
    assert "&lt;b&gt;Al&lt;/b&gt;" in page and "<b>Al</b>" not in page
    bad = _form(client, "/settings", action="profile", display_name="Al", currency="ZZZ")
    assert bad.status_code == 400 and b"Choose a currency" in bad.data


def test_change_password_ends_other_sessions(fresh, db_session, make_user):
    make_user("alice@example.com")
    here, elsewhere = fresh(), fresh()
    login(here, "alice@example.com")
    login(elsewhere, "alice@example.com")
    wrong = _form(here, "/settings", action="password", current_password="nope", new_password=NEW_PASSWORD,
                  confirm_password=NEW_PASSWORD)
    assert wrong.status_code == 400 and b"not your current password" in wrong.data
    response = _form(here, "/settings", action="password", current_password=TEST_PASSWORD,
                     new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
    assert response.status_code == 302
    assert here.get("/").status_code == 200            # this session goes on
    assert elsewhere.get("/").status_code == 302       # the other one is over
    assert _dash(elsewhere).status_code == 401
    assert login(fresh(), "alice@example.com").status_code == 401
    assert login(fresh(), "alice@example.com", NEW_PASSWORD).status_code == 302


def test_wrong_current_password_is_rate_limited(fresh, make_user):
    make_user("alice@example.com")
    client = fresh()
    login(client, "alice@example.com")
    for _ in range(5):
        assert _form(client, "/settings", action="password", current_password="nope",
                     new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD).status_code == 400
    assert _form(client, "/settings", action="password", current_password=TEST_PASSWORD,
                 new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD).status_code == 429


def test_delete_account_needs_confirmation_then_removes_everything_of_that_user_only(
        app, fresh, db_session, make_user):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    seed_user_data(db_session, alice, "AliceTag")
    seed_user_data(db_session, bob, "BobTag", amounts={"expense": "-11.11", "income": "22.22"})
    bob_before = snapshot(db_session, bob.id)
    builtin_before = db_session.scalar(select(func.count()).where(Category.user_id.is_(None)))
    alice_id = alice.id
    client, other_session = fresh(), fresh()
    login(client, "alice@example.com")
    login(other_session, "alice@example.com")

    for wrong in ({"confirm_email": "bob@example.com", "delete_password": TEST_PASSWORD},
                  {"confirm_email": "alice@example.com", "delete_password": "nope"}):
        response = _form(client, "/settings", action="delete", **wrong)
        assert response.status_code == 400
    db_session.rollback()
    assert db_session.get(User, alice_id) is not None

    response = _form(client, "/settings", action="delete", confirm_email="ALICE@example.com",
                     delete_password=TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    db_session.rollback()
    assert db_session.get(User, alice_id) is None
    for table in user_owned_tables():
        left = db_session.execute(select(func.count()).select_from(table).where(table.c.user_id == alice_id))
        assert left.scalar() == 0, table.name
    assert snapshot(db_session, bob.id) == bob_before
    assert db_session.scalar(select(func.count()).where(Category.user_id.is_(None))) == builtin_before
    # Every session of the deleted user is over, and the login is gone.
    assert client.get("/").status_code == 302
    assert other_session.get("/").status_code == 302
    assert _dash(other_session).status_code == 401
    assert login(fresh(), "alice@example.com").status_code == 401


def test_delete_user_service_covers_every_user_owned_table(db_session, make_user):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    seed_user_data(db_session, alice, "AliceTag")
    seed_user_data(db_session, bob, "BobTag", amounts={"expense": "-11.11"})
    bob_before = snapshot(db_session, bob.id)
    counts = users_svc.delete_user(db_session, alice.id)
    db_session.commit()
    tables = {t.name for t in user_owned_tables()}
    assert {"accounts", "transactions", "expenses", "budgets", "goals", "goal_contributions", "categories",
            "monthly_rollup"} <= tables
    assert counts["users"] == 1 and counts["transactions"] == 4 and counts["categories"] == 3
    assert snapshot(db_session, bob.id) == bob_before
