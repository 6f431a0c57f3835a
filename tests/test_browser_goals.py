"""The Goals page in a real headless Chromium: create a goal (after a refused target), record a
contribution and watch the gauge move, then raise the target inline in the grid."""
from __future__ import annotations

import time

from browser import require_browser, severe_console_errors, start_and_login
from conftest import TEST_PASSWORD
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from models import Goal

pytestmark = require_browser()


def _type(dash_duo, selector: str, text: str) -> None:
    element = WebDriverWait(dash_duo.driver, 10).until(EC.visibility_of_element_located(("css selector", selector)))
    element.clear()
    element.send_keys(text)


def _click(dash_duo, selector: str) -> None:
    element = WebDriverWait(dash_duo.driver, 10).until(EC.element_to_be_clickable(("css selector", selector)))
    # Bootstrap makes scrolling smooth (asynchronous): jump instead, then click.
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def _modal_open(dash_duo, selector: str) -> None:
    """Wait for a modal to be shown and its slide-in transition (0.3 s) to end."""
    WebDriverWait(dash_duo.driver, 10).until(
        EC.visibility_of_element_located(("css selector", f".modal.show {selector}")))
    time.sleep(0.4)


def _modal_closed(dash_duo) -> None:
    """Wait for a closing modal (and its fading backdrop) to leave the page."""
    WebDriverWait(dash_duo.driver, 10).until(
        EC.invisibility_of_element_located(("css selector", ".modal-backdrop")))
    # The page scrolls again only once the body's modal-open lock is released.
    WebDriverWait(dash_duo.driver, 10).until(lambda driver: driver.execute_script(
        "return !document.body.classList.contains('modal-open') && document.body.style.overflow !== 'hidden'"))


def test_create_goal_add_contribution_gauge_moves(dash_duo, app, db_session, make_user):
    make_user("alice@example.com")
    dash_duo.driver.set_window_size(1280, 900)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/goals")
    dash_duo.wait_for_contains_text("#goals-cards", "No goals yet", timeout=15)

    # A refused target: the message appears next to the field, the form stays open.
    _click(dash_duo, "#goals-new")
    _modal_open(dash_duo, "#goals-form-name")
    _type(dash_duo, "#goals-form-name", "Vacation")
    _type(dash_duo, "#goals-form-target", "-5")
    _click(dash_duo, "#goals-form-save")
    dash_duo.wait_for_text_to_equal("#goals-form-target-feedback", "The target must be more than zero.", timeout=10)
    assert db_session.scalar(select(Goal.id)) is None

    _type(dash_duo, "#goals-form-target", "2,000")
    _click(dash_duo, "#goals-form-save")
    dash_duo.wait_for_contains_text("#goals-message", "Created “Vacation”.", timeout=10)
    db_session.rollback()
    goal_id = db_session.scalar(select(Goal.id).where(Goal.name == "Vacation"))
    gauge = f"#goals-gauge-{goal_id} .number"
    dash_duo.wait_for_text_to_equal(gauge, "0%", timeout=10)
    assert dash_duo.find_element(f"#goals-card-{goal_id}").get_attribute("data-status") == "on_track"

    # Add 500 of the 2,000: the gauge moves to 25%.
    _modal_closed(dash_duo)
    _click(dash_duo, f"#goals-card-{goal_id} .card-footer .btn-primary")
    _modal_open(dash_duo, "#goals-contrib-amount")
    _type(dash_duo, "#goals-contrib-amount", "500")
    _click(dash_duo, "#goals-contrib-save")
    dash_duo.wait_for_text_to_equal(gauge, "25%", timeout=10)
    dash_duo.wait_for_text_to_equal(f"#goals-saved-{goal_id}", "$500.00", timeout=10)
    dash_duo.wait_for_text_to_equal(f"#goals-remaining-{goal_id}", "$1,500.00", timeout=10)
    assert "$500.00" in dash_duo.find_element("#goals-grid").text

    # Raise the target inline in the grid: 500 of 2,500 is 20%.
    cell = f"#goals-grid .ag-row[row-id='{goal_id}'] .ag-cell[col-id='target']"
    element = dash_duo.find_element(cell)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    ActionChains(dash_duo.driver).double_click(element).perform()
    editor = WebDriverWait(dash_duo.driver, 5).until(
        EC.visibility_of_element_located(("css selector", f"{cell} input")))
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys("2,500" + Keys.ENTER)
    dash_duo.wait_for_text_to_equal(gauge, "20%", timeout=10)
    db_session.rollback()
    assert str(db_session.get(Goal, goal_id).target_amount) == "2500.00"
    assert severe_console_errors(dash_duo) == []
