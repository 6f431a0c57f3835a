"""Own categories end to end in headless Chromium: create a three-level category on the Categories page,
move rows into it with a bulk edit on a filter (preview, then apply), drill into it level by level in
the spending explorer, and back out with the breadcrumb."""
from __future__ import annotations

import time

from browser import choose, click_bar, find_bar, require_browser, severe_console_errors, start_and_login
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
    for day, amount, cat, payee in [(2, "-80.00", None, "PowerCo"), (9, "-75.50", None, "PowerCo"),
                                    (20, "-90.25", None, "PowerCo"), (3, "-45.10", "Groceries", "Market")]:
        create_transaction(db_session, alice.id, account_id=account.id, date=last_month.replace(day=day),
                           amount=Decimal(amount), category_id=cats[cat] if cat else None, payee=payee)
    db_session.commit()


def _click(dash_duo, css):
    element = dash_duo.wait_for_element(css, timeout=10)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    dash_duo.driver.execute_script("arguments[0].click()", element)


def _create(dash_duo, name, parent_label=None):
    box = dash_duo.find_element("#categories-new-name")
    box.clear()
    box.send_keys(name)
    if parent_label:
        choose(dash_duo, "categories-new-parent-category", parent_label)
    _click(dash_duo, "#categories-create")
    dash_duo.wait_for_contains_text("#categories-message", f"Created “{name}”", timeout=10)


def _drill(dash_duo, label):
    click_bar(dash_duo, label, lambda: label in dash_duo.find_element("#spending-breadcrumb").text)


def test_three_levels_bulk_edit_and_drill(dash_duo, app, db_session, make_user, make_account):
    _seed(db_session, make_user, make_account)
    base = start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/categories")
    dash_duo.wait_for_element("#categories-tree .category-row", timeout=15)

    # Three levels of the user's own.
    _create(dash_duo, "Home")
    _create(dash_duo, "Utilities", "Home")
    _create(dash_duo, "Power", "Home › Utilities")
    dash_duo.wait_for_contains_text("#categories-tree", "Power", timeout=10)

    # Bulk edit every row matching a filter: the preview says how many, then it is done.
    dash_duo.driver.get(f"{base}/transactions?q=PowerCo")
    dash_duo.wait_for_contains_text("#transactions-summary", "3 transactions matching", timeout=15)
    _click(dash_duo, "#transactions-bulk-scope-all")
    choose(dash_duo, "transactions-bulk-category", "Home › Utilities › Power")
    _click(dash_duo, "#transactions-bulk-apply")
    dash_duo.wait_for_contains_text("#transactions-bulk-preview-text", "Changes 3 rows ($245.75)", timeout=10)
    _click(dash_duo, "#transactions-bulk-confirm")
    dash_duo.wait_for_contains_text("#transactions-bulk-message", "Changed 3 rows", timeout=15)

    # The explorer: Home at the top, then Utilities, then Power; and back out with the breadcrumb.
    dash_duo.driver.get(f"{base}/spending?preset=last_month")
    dash_duo.wait_for_contains_text("#spending-grid-summary", "4 rows", timeout=20)
    bars_label = dash_duo.driver.find_element(By.XPATH, "//label[normalize-space()='Bars']")
    dash_duo.driver.execute_script("arguments[0].click()", bars_label)
    _drill(dash_duo, "Home")
    dash_duo.wait_for_contains_text("#spending-breadcrumb", "Home", timeout=15)
    dash_duo.wait_for_contains_text("#spending-grid-summary", "3 rows · total $245.75", timeout=15)
    _drill(dash_duo, "Utilities")
    dash_duo.wait_for_contains_text("#spending-breadcrumb", "Utilities", timeout=15)
    find_bar(dash_duo, "Power")   # the third level is what the drilled view shows now
    crumbs = dash_duo.driver.find_elements(By.XPATH, "//nav[@aria-label='Category drill-down']//button")
    home = [c for c in crumbs if c.text.strip() == "Home"]
    assert home, [c.text for c in crumbs]
    dash_duo.driver.execute_script("arguments[0].click()", home[0])
    deadline = time.time() + 15
    while time.time() < deadline and "Utilities" in dash_duo.find_element("#spending-breadcrumb").text:
        time.sleep(0.3)
    assert "Utilities" not in dash_duo.find_element("#spending-breadcrumb").text
    find_bar(dash_duo, "Utilities")
    everything = dash_duo.driver.find_element(By.XPATH, "//nav[@aria-label='Category drill-down']//button")
    dash_duo.driver.execute_script("arguments[0].click()", everything)
    dash_duo.wait_for_contains_text("#spending-grid-summary", "4 rows", timeout=15)
    assert severe_console_errors(dash_duo) == []
