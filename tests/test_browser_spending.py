"""The spending explorer in headless Chromium: change the preset, click a category, the grid narrows."""
from __future__ import annotations

import time

from a11y import settle
from browser import require_browser, severe_console_errors, start_and_login
from conftest import TEST_PASSWORD
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
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


def _choose(dash_duo, dropdown_id, label):
    dash_duo.find_element(f"#{dropdown_id}").click()
    option = dash_duo.wait_for_element(f"#{dropdown_id} .dash-dropdown-option, .dash-dropdown-option", timeout=5)
    for element in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"):
        if element.text.strip() == label:
            element.click()
            return
    raise AssertionError(f"no option {label!r}; first was {option.text!r}")


def test_preset_then_category_click_narrows_the_grid(dash_duo, app, db_session, make_user, make_account):
    _seed(db_session, make_user, make_account)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/spending")
    dash_duo.wait_for_element("#spending-totals", timeout=15)
    dash_duo.wait_for_contains_text("#spending-grid-summary", "0 rows", timeout=15)  # nothing this month

    _choose(dash_duo, "spending-preset", "Last month")
    dash_duo.wait_for_contains_text("#spending-grid-summary", "5 rows · total $1,047.10", timeout=15)
    dash_duo.wait_for_element("#spending-grid .ag-center-cols-container [col-id='payee']", timeout=10)
    assert "preset=last_month" in dash_duo.driver.current_url

    # Bars view, then click the Food bar: every view narrows to Food.
    bars_label = dash_duo.driver.find_element(By.XPATH, "//label[normalize-space()='Bars']")
    dash_duo.driver.execute_script("arguments[0].click()", bars_label)
    dash_duo.wait_for_element("#spending-by-category .bars .point path", timeout=10)
    settle(dash_duo.driver)
    # Under load Plotly may draw the bars again between finding a bar and clicking it (the click then
    # lands on a detached element): find the bar afresh and click again until the drill happens.
    for _attempt in range(3):
        try:
            bars = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#spending-by-category .bars .point path")
            labels = [t.text for t in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#spending-by-category .ytick text")]
            food_bar = bars[labels.index("Food")]
            dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", food_bar)
            ActionChains(dash_duo.driver).move_to_element(food_bar).click().perform()
        except StaleElementReferenceException:
            continue
        deadline = time.time() + 8
        while time.time() < deadline and "3 rows" not in dash_duo.find_element("#spending-grid-summary").text:
            time.sleep(0.2)
        if "3 rows" in dash_duo.find_element("#spending-grid-summary").text:
            break
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
