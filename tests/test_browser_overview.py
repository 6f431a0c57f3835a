"""The Overview in a real headless Chromium: login, numbers on screen, no console errors."""
from __future__ import annotations

from browser import require_browser, severe_console_errors, start_and_login
from conftest import TEST_PASSWORD
from test_app import _seed

pytestmark = require_browser()


def test_overview_loads_in_a_browser(dash_duo, app, db_session, make_user, make_account):
    alice = make_user("alice@example.com")
    _seed(db_session, alice, make_account(alice, "Checking", opening="100.00"),
          make_account(alice, "Savings", "savings", opening="1000.00"))
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD)
    dash_duo.wait_for_text_to_equal("#overview-net-worth", "$3,039.50", timeout=15)
    dash_duo.wait_for_text_to_equal("#overview-spending", "$1,060.50", timeout=10)
    dash_duo.wait_for_element("#overview-cashflow .main-svg", timeout=10)
    assert "Checking" in dash_duo.find_element("#overview-accounts-table").text
    assert severe_console_errors(dash_duo) == []
