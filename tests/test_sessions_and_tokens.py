"""Issue 13 items 6-8: login limits that a stranger cannot turn against the owner, logout that ends
the session on the server, and an undo token that works exactly once, even under concurrent requests."""
from __future__ import annotations

import threading

from conftest import TEST_PASSWORD, csrf_token
from sqlalchemy import func, select
from test_security import _fresh_limits, fresh, password_hash  # noqa: F401  (fixtures: cheap hashes, no counts)
from test_transaction_grid_service import cats, world  # noqa: F401  (fixtures)
from test_transactions_callbacks import login, post, value

from models import SpentToken, Transaction


def _try_login(client, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_token(client)})


# -- item 6: rate limits ------------------------------------------------------------------------

def test_a_stranger_cannot_lock_the_owner_out(app, fresh, world):
    stranger = fresh("203.0.113.9")
    for _ in range(5):
        assert _try_login(stranger, "alice@example.com", "wrong password!").status_code == 401
    assert _try_login(stranger, "alice@example.com", "wrong password!").status_code == 429
    # The owner, from her own address, still gets in (before: 429 from any address).
    owner = fresh("198.51.100.7")
    assert _try_login(owner, "alice@example.com", TEST_PASSWORD).status_code == 302


def test_the_global_per_account_ceiling_spares_known_devices(app, fresh, world, monkeypatch):
    # The production ceiling is 100 an hour; the rule is the same at 12 and the test eight times quicker.
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "12 per hour")
    owner = fresh("198.51.100.7")
    assert _try_login(owner, "alice@example.com", TEST_PASSWORD).status_code == 302   # a known device now
    owner.post("/logout", data={"csrf_token": csrf_token(owner, "/logout")})
    ceiling = int(app.config["LOGIN_ACCOUNT_RATE_LIMIT"].split()[0])
    for i in range(ceiling):   # many addresses, each under its own limit
        response = _try_login(fresh(f"10.0.{i // 250}.{i % 250}"), "alice@example.com", "wrong password!")
        assert response.status_code == 401
    # A new address is now refused for this account...
    assert _try_login(fresh("10.9.9.9"), "alice@example.com", TEST_PASSWORD).status_code == 429
    # ...but not for another account, and not the owner on a device she logged in from before.
    assert _try_login(fresh("10.9.9.9"), "bob@example.com", TEST_PASSWORD).status_code == 302
    assert _try_login(owner, "alice@example.com", TEST_PASSWORD).status_code == 302


# -- item 7: logout ---------------------------------------------------------------------------------

def test_logout_ends_the_session_on_the_server(app, fresh, world):
    client = fresh("198.51.100.7")
    assert _try_login(client, "alice@example.com", TEST_PASSWORD).status_code == 302
    stolen = client.get_cookie("session").value
    # GET never logs out (a link or an image on another site cannot); it asks.
    response = client.get("/logout")
    assert response.status_code == 200 and b"logout-confirm" in response.data
    assert client.get("/settings").status_code == 200
    token = csrf_token(client, "/logout")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    # The copied cookie is dead too (before: it still worked after GET /logout).
    thief = fresh()
    thief.set_cookie("session", stolen)
    assert thief.get("/settings").status_code == 302
    response = thief.post("/_dash-update-component", data="{}", content_type="application/json")
    assert response.status_code == 401


# -- item 8: one-time undo --------------------------------------------------------------------------

def test_undo_token_works_once_under_concurrent_requests(client, app, db_session, world):
    login(client, "alice@example.com")
    costco = world["costco"]
    status, body = post(client, app, [("transactions-delete", "n_clicks", 1)],
                        [("transactions-grid", "selectedRows", [{"id": costco.id}])])
    token = value(body, "transactions-undo-token", "data")
    captured = {}
    real_post = client.post

    class _NotSent:
        status_code, data = 204, b""

    def capture(path, data=None, **kwargs):   # the request post() builds, kept to be sent by the threads
        captured["payload"] = data
        return _NotSent()

    client.post = capture
    post(client, app, [("transactions-undo", "n_clicks", 1)], [("transactions-undo-token", "data", token)])
    client.post = real_post
    cookie = client.get_cookie("session").value
    answers: list[tuple[int, str]] = []
    start = threading.Barrier(4)

    def undo(together: bool = True):
        other = app.test_client()
        other.set_cookie("session", cookie)
        if together:
            start.wait()
        response = other.post("/_dash-update-component", data=captured["payload"], content_type="application/json")
        answers.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=undo) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    undo(together=False)   # and once more, later
    db_session.expire_all()
    count = db_session.scalar(select(func.count()).select_from(Transaction).where(Transaction.payee == "Costco"))
    assert count == 1
    assert [status for status, _ in answers] == [200] * 5
    assert sum("Restored" in text for _, text in answers) == 1
    assert sum("already been undone" in text for _, text in answers) == 4
    assert db_session.scalar(select(func.count()).select_from(SpentToken)) == 1
