"""The spending explorer in headless Chromium: change the preset, click a category, the grid narrows."""
from __future__ import annotations

import time

from a11y import settle
from browser import choose, click_bar, require_browser, severe_console_errors, start_and_login
from conftest import TEST_PASSWORD
from selenium.webdriver.common.by import By

pytestmark = require_browser()


def _seed(db_session, make_user, make_account):
    from datetime import date
    from decimal import Decimal

    from sqlalchemy import select

    from dashboard.services.periods import add_months
    from dashboard.services.transactions import create_transaction
    from models import Category

    cats = {c.name: c.id for c in db_session.scalars(select(Category).where(Category.user_id.is_(None)))}
    alice = make_user("alice@example.com")
    account = make_account(alice, "Checking")
    last_month = add_months(date.today().replace(day=1), -1)
    for day, amount, cat, payee in [(1, "-900.00", "Rent", "Landlord"), (3, "-45.10", "Groceries", "Market"),
                                    (9, "-30.00", "Groceries", "Market"), (12, "-12.00", "Coffee", "Cafe"),
                                    (15, "-60.00", "Fuel", "Shell")]:
        create_transaction(db_session, alice.id, account_id=account.id, date=last_month.replace(day=day),
                           amount=Decimal(amount), category_id=cats[cat], payee=payee)
    db_session.commit()


def _grid_payees(dash_duo):
    cells = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#spending-grid .ag-center-cols-container [col-id='payee']")
    return sorted({c.text for c in cells if c.text})


def test_preset_then_category_click_narrows_the_grid(dash_duo, app, db_session, make_user, make_account):
    _seed(db_session, make_user, make_account)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/spending")
    dash_duo.wait_for_element("#spending-totals", timeout=15)
    dash_duo.wait_for_contains_text("#spending-grid-summary", "0 rows", timeout=15)  # nothing this month

    choose(dash_duo, "spending-preset", "Last month")
    dash_duo.wait_for_contains_text("#spending-grid-summary", "5 rows · total $1,047.10", timeout=15)
    dash_duo.wait_for_element("#spending-grid .ag-center-cols-container [col-id='payee']", timeout=10)
    assert "preset=last_month" in dash_duo.driver.current_url

    # Bars view, then click the Food bar: every view narrows to Food.
    bars_label = dash_duo.driver.find_element(By.XPATH, "//label[normalize-space()='Bars']")
    dash_duo.driver.execute_script("arguments[0].click()", bars_label)
    dash_duo.wait_for_element("#spending-by-category .bars .point path", timeout=10)
    settle(dash_duo.driver)
    click_bar(dash_duo, "Food", lambda: "3 rows" in dash_duo.find_element("#spending-grid-summary").text)
    dash_duo.wait_for_contains_text("#spending-grid-summary", "3 rows · total $87.10", timeout=15)
    dash_duo.wait_for_contains_text("#spending-breadcrumb", "Food", timeout=5)
    deadline = time.time() + 10
    while time.time() < deadline and _grid_payees(dash_duo) != ["Cafe", "Market"]:
        time.sleep(0.2)
    assert _grid_payees(dash_duo) == ["Cafe", "Market"]

    # The breadcrumb steps back out.
    back = dash_duo.driver.find_element(By.XPATH, "//nav[@aria-label='Category drill-down']//button")
    dash_duo.driver.execute_script("arguments[0].click()", back)
    dash_duo.wait_for_contains_text("#spending-grid-summary", "5 rows", timeout=15)
    assert severe_console_errors(dash_duo) == []


# Counts the callback requests that fetch grid rows from the server (getRowsResponse).
COUNT_GRID_REQUESTS = """
if (!window.__gridRequests) {
  window.__gridRequests = 0;
  const original = window.fetch;
  window.fetch = function(resource, init) {
    try { if (String(init && init.body).indexOf('getRowsResponse') >= 0) { window.__gridRequests += 1; } } catch (e) {}
    return original.apply(this, arguments);
  };
}
return window.__gridRequests;
"""


def _wait_for(predicate, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def _grid_column(dash_duo, field):
    """One column of the rows the grid holds, in the order it shows them (read from AG Grid's API in
    one go: no element of a grid being redrawn goes stale)."""
    return dash_duo.driver.execute_script("""
        const api = window.dash_ag_grid.getApi('spending-grid'), out = [];
        for (let i = 0; i < api.getDisplayedRowCount(); i++) {
            const node = api.getDisplayedRowAtIndex(i);
            if (node && node.data) { out.push(node.data[arguments[0]]); }
        }
        return out;""", field)


def test_a_filter_change_fills_the_grid_without_another_request(dash_duo, app, db_session, make_user, make_account):
    """Issue 14: the grid's first rows come with the charts' answer; a scroll or another sort still asks
    the server. And the page runs on the app's own Plotly bundle (assets/plotly-ledgerlens.min.js)."""
    _seed(db_session, make_user, make_account)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/spending")
    dash_duo.wait_for_contains_text("#spending-grid-summary", "0 rows", timeout=15)
    settle(dash_duo.driver)
    assert dash_duo.driver.execute_script(COUNT_GRID_REQUESTS) == 0

    choose(dash_duo, "spending-preset", "Last month")
    dash_duo.wait_for_contains_text("#spending-grid-summary", "5 rows · total $1,047.10", timeout=15)
    assert _wait_for(lambda: _grid_payees(dash_duo) == ["Cafe", "Landlord", "Market", "Shell"])
    settle(dash_duo.driver)
    assert dash_duo.driver.execute_script("return window.__gridRequests") == 0   # no second round trip
    assert _grid_column(dash_duo, "payee") == ["Shell", "Cafe", "Market", "Market", "Landlord"]   # newest first
    assert _grid_column(dash_duo, "amount_cents") == [6000, 1200, 3000, 4510, 90000]

    # Another sort: those rows are not in hand, the server is asked.
    header = dash_duo.driver.find_element(By.CSS_SELECTOR, "#spending-grid .ag-header-cell[col-id='amount_cents']")
    dash_duo.driver.execute_script("arguments[0].querySelector('.ag-header-cell-label').click()", header)
    assert _wait_for(lambda: _grid_column(dash_duo, "amount_cents") == [1200, 3000, 4510, 6000, 90000])
    assert dash_duo.driver.execute_script("return window.__gridRequests") >= 1

    # The served Plotly is the app's partial bundle, the version plotly.py writes for, and nothing
    # fetched Dash's full one.
    from plotly.offline import get_plotlyjs_version
    scripts = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.indexOf('plotly') >= 0)")
    assert any("/assets/plotly-ledgerlens.min.js" in name for name in scripts)
    assert all("plotly-ledgerlens" in name for name in scripts), scripts
    assert dash_duo.driver.execute_script("return window.Plotly.version") == get_plotlyjs_version()
    assert severe_console_errors(dash_duo) == []
