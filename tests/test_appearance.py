"""Dark mode and the page chrome: the theme choice is kept per user (Settings and the navbar toggle),
written into every page Dash serves, refused when unknown; the figures carry the light template and the
browser gets both; the welcome after registering shows on the first page; the shortcut overlay lists a
go-to letter for every page."""
from __future__ import annotations

import json
import re

import pytest
from conftest import csrf_token, login
from dash_client import call_callback
from test_security import fresh  # noqa: F401  (a client whose requests each get their own app context)

from dashboard.services.errors import ServiceError


def test_set_theme_validates_and_defaults_to_system(db_session, make_user):
    from dashboard.services import users as svc
    alice = make_user("alice@example.com")
    assert svc.theme_of(alice) == "system"
    svc.set_theme(db_session, alice.id, "dark")
    db_session.commit()
    assert svc.theme_of(alice) == "dark"
    with pytest.raises(ServiceError):
        svc.set_theme(db_session, alice.id, "purple")
    db_session.rollback()
    assert svc.theme_of(db_session.get(type(alice), alice.id)) == "dark"


def _html_theme(client, path="/"):
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<html lang="en" data-ll-theme="(\w+)"', page)
    assert match, page[:300]
    assert re.search(r'<script src="/assets/theme\.js\?v=[0-9a-f]{12}"></script>', page)
    # theme.js runs once, in <head>: Dash does not add it to its own script list again
    assert page.count("theme.js") == 1
    return match.group(1)


def test_every_page_carries_the_users_theme(fresh, db_session, make_user):
    alice = make_user("alice@example.com")
    client = fresh()
    login(client, "alice@example.com")
    assert _html_theme(client, "/") == "system"
    assert _html_theme(client, "/settings") == "system"
    alice.theme = "dark"
    db_session.commit()
    assert _html_theme(client, "/spending") == "dark"
    assert _html_theme(client, "/settings") == "dark"


def test_settings_form_saves_the_theme_and_refuses_unknown_values(fresh, db_session, make_user):
    from models import User
    alice = make_user("alice@example.com")
    client = fresh()
    login(client, "alice@example.com")
    token = csrf_token(client, "/settings")
    response = client.post("/settings", data={"action": "theme", "theme": "light", "csrf_token": token})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(User, alice.id).theme == "light"
    response = client.post("/settings", data={"action": "theme", "theme": "<script>", "csrf_token": token})
    assert response.status_code == 400
    assert "Choose System, Light or Dark." in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(User, alice.id).theme == "light"


def test_navbar_toggle_callback_keeps_the_choice_for_the_logged_in_user_only(client, db_session, make_user):
    from models import User
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    login(client, "alice@example.com")
    status, body = call_callback(client, [("theme-saved", "data")], [("theme-choice", "data", "dark")])
    assert status == 200 and body["theme-saved"]["data"] == "dark"
    status, _ = call_callback(client, [("theme-saved", "data")], [("theme-choice", "data", "sepia")])
    assert status == 204  # nothing saved, nothing changed
    db_session.expire_all()
    assert db_session.get(User, alice.id).theme == "dark"
    assert db_session.get(User, bob.id).theme == "system"


def test_figures_switch_template_in_one_place():
    import pandas as pd

    from dashboard.figures.overview import cashflow_figure
    from dashboard.figures.theme import THEME_COLORS, client_templates

    frame = pd.DataFrame({"month": ["2026-01-01"], "income_cents": [100], "spending_cents": [50],
                          "net_cents": [50]})
    fig = cashflow_figure(frame, "USD")
    assert fig.layout.template.layout.meta["ledgerlens_theme"] == "light"
    # no text or grid colour of its own: the template decides, so swapping it restyles the whole figure
    assert fig.layout.font.color is None and fig.layout.yaxis.gridcolor is None
    templates = client_templates()
    assert set(templates) == {"light", "dark"}
    assert templates["dark"]["layout"]["font"]["color"] == THEME_COLORS["dark"]["text"]
    assert templates["dark"]["layout"]["meta"] == {"ledgerlens_theme": "dark"}


def test_grids_have_a_dark_mode():
    from dashboard.components.grid import GRID_THEME
    assert "'dark')" in GRID_THEME["function"]


def test_both_themes_are_served_from_the_app(client):
    css = client.get("/assets/00-bootstrap-zephyr.min.css").get_data(as_text=True)
    assert "[data-bs-theme=dark]" in css
    assert client.get("/assets/theme.js").status_code == 200
    assert client.get("/assets/zz-theme.css").status_code == 200


def test_welcome_after_registering_shows_on_the_first_page(fresh, db_session):
    client = fresh()
    token = csrf_token(client, "/register")
    response = client.post("/register", data={
        "email": "new@example.com", "display_name": "Nia", "currency": "USD",
        "password": "a long enough passphrase", "password_confirm": "a long enough passphrase",
        "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200
    assert "Welcome to Ledgerlens, Nia." in layout.get_data(as_text=True)
    # shown once: not again on the next page, nor later on /settings
    assert "Welcome to Ledgerlens" not in client.get("/_dash-layout").get_data(as_text=True)
    assert "Welcome to Ledgerlens" not in client.get("/settings").get_data(as_text=True)


def test_shortcut_overlay_lists_a_letter_for_every_page(client, make_user):
    import dash

    from dashboard.components.shortcuts import goto_targets
    targets = goto_targets()
    keys = [t["key"] for t in targets]
    assert len(keys) == len(set(keys))
    nav_paths = {p["relative_path"] for p in dash.page_registry.values() if p.get("nav", True)}
    assert nav_paths | {"/settings"} == {t["path"] for t in targets}
    by_path = {t["path"]: t["key"] for t in targets}
    assert by_path["/"] == "o" and by_path["/transactions"] == "t" and by_path["/accounts"] == "a"
    make_user("alice@example.com")
    login(client, "alice@example.com")
    layout = client.get("/_dash-layout")
    assert "Keyboard shortcuts" in layout.get_data(as_text=True)

    def find(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == "ll-goto":
                return node["props"]["data-goto"]
            return next((found for value in node.values() if (found := find(value))), None)
        if isinstance(node, list):
            return next((found for value in node if (found := find(value))), None)
        return None
    assert json.loads(find(layout.get_json())) == targets


def _banner(client, pathname="/", seen=None):
    status, body = call_callback(client, [("first-run-banner", "children"), ("first-run-seen", "data")],
                                 [("_pages_location", "pathname", pathname)],
                                 state=[("first-run-seen", "data", seen)])
    assert status == 200
    children = body["first-run-banner"]["children"]
    return (children["props"]["data-step"] if children else None), body["first-run-seen"]["data"]


def test_first_run_leads_from_an_account_to_transactions_to_spending(fresh, db_session, make_user, make_account):
    from datetime import date
    from decimal import Decimal

    from dashboard.services.onboarding import first_run
    from dashboard.services.transactions import create_transaction

    alice = make_user("alice@example.com")
    make_user("bob@example.com")
    client = fresh()
    login(client, "alice@example.com")
    assert first_run(db_session, alice.id).step == 1
    assert _banner(client, "/") == ("1", True)
    account = make_account(alice, "Checking")
    assert first_run(db_session, alice.id).step == 2
    assert _banner(client, "/accounts", True) == ("2", True)
    create_transaction(db_session, alice.id, account_id=account.id, date=date.today(), amount=Decimal("-5.00"),
                       category_id=None, payee="Cafe")
    db_session.commit()
    assert first_run(db_session, alice.id).done
    # Just finished: one more pointer, to Spending; gone once there, and never for someone set up before.
    assert _banner(client, "/transactions", True) == ("3", True)
    assert _banner(client, "/spending", True) == (None, None)
    assert _banner(client, "/", None) == (None, None)
    # another person's rows do not count for bob
    client = fresh()
    login(client, "bob@example.com")
    assert _banner(client, "/", None) == ("1", True)


def test_empty_grids_and_pages_say_what_to_do():
    from dashboard.components import empty
    from dashboard.components.grid import ledger_grid
    grid = ledger_grid("x-grid", [])
    assert grid.dashGridOptions["localeText"]["noRowsToShow"] != "No Rows To Show"
    grid = ledger_grid("x-grid", [], empty=empty.NO_ACCOUNTS)
    assert "New account" in grid.dashGridOptions["localeText"]["noRowsToShow"]
    state = empty.empty_state("Nothing", "Do this.", [("Go", "/there")])
    assert state.children[2].children[0].href == "/there"


def test_every_asset_address_carries_a_version_so_a_deploy_is_picked_up(client, make_user):
    """The login and settings templates and Dash's page: every script and stylesheet from /assets has a
    version in its address (a content hash, or Dash's modification time), so a new deploy is never
    served from a browser's stale copy."""
    import hashlib
    import re

    from dashboard.static_assets import ASSETS, asset_url
    make_user("alice@example.com")
    pages = {"/login": client.get("/login").get_data(as_text=True)}
    login(client, "alice@example.com")
    pages["/settings"] = client.get("/settings").get_data(as_text=True)
    pages["/ (Dash)"] = client.get("/").get_data(as_text=True)
    for where, page in pages.items():
        addresses = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)
        assert addresses, where
        unversioned = [a for a in addresses if not re.search(r"\?(v|m)=\w+", a)]
        assert not unversioned, (where, unversioned)
    assert asset_url("theme.js") in pages["/login"] and asset_url("theme.js") in pages["/ (Dash)"]
    digest = hashlib.sha256((ASSETS / "theme.js").read_bytes()).hexdigest()[:12]
    assert asset_url("theme.js") == f"/assets/theme.js?v={digest}"
    assert client.get(asset_url("zz-theme.css")).status_code == 200


def test_charts_arrive_in_the_saved_theme_so_the_browser_draws_them_once(client, db_session, make_user):
    """A person who chose dark gets figures built with the dark template (theme.js then has nothing to
    swap); "system" stays light, resolved in the browser; nothing leaks to the next request."""
    from dashboard.figures.theme import chart_theme
    alice = make_user("alice@example.com")
    make_user("bob@example.com")
    outputs = [("overview-stats", "children"), ("overview-accounts", "children"),
               ("overview-top-categories", "figure"), ("overview-cashflow", "figure")]

    def themes(email):
        login(client, email)
        status, body = call_callback(client, outputs, [("overview-load", "data", 1)])
        assert status == 200
        return {body[k]["figure"]["layout"]["template"]["layout"]["meta"]["ledgerlens_theme"]
                for k in ("overview-top-categories", "overview-cashflow")}

    assert themes("alice@example.com") == {"light"}
    alice.theme = "dark"
    db_session.commit()
    assert themes("alice@example.com") == {"dark"}
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    assert themes("bob@example.com") == {"light"}
    assert chart_theme() == "light"   # reset after the request
