"""The look-ahead pages in a real headless Chromium: on Recurring, confirm one suggestion, dismiss another
and edit the new schedule's tags; on Forecast, the band of the plain forecast and of a scenario side by
side; on Cash flow, the Sankey drawn with its nodes."""
from __future__ import annotations

import time
from datetime import date

from ahead_data import history
from browser import require_browser, severe_console_errors, start_and_login
from conftest import TEST_PASSWORD
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from dashboard.services import scenarios as scen
from dashboard.services import schedules as sched
from dashboard.services.periods import add_months, month_start
from models import DismissedRecurring, Schedule

pytestmark = require_browser()
TODAY = date.today()


def _click(dash_duo, selector: str) -> None:
    element = WebDriverWait(dash_duo.driver, 10).until(EC.element_to_be_clickable(("css selector", selector)))
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def _row_button(dash_duo, table: str, text: str, label: str):
    """The button labelled ``label`` in the row of ``table`` that shows ``text``."""
    xpath = (f"//*[@id='{table}']//tr[.//*[contains(normalize-space(.), '{text}')]]"
             f"//button[normalize-space(.)='{label}']")
    element = WebDriverWait(dash_duo.driver, 15).until(EC.element_to_be_clickable(("xpath", xpath)))
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    return element


def _press_row_button(dash_duo, table: str, text: str, label: str) -> None:
    """Click that button; the table may be re-drawn between finding the button and the click (a stale
    element), so find it again then."""
    from selenium.common.exceptions import StaleElementReferenceException
    for attempt in range(5):
        try:
            _row_button(dash_duo, table, text, label).click()
            return
        except StaleElementReferenceException:
            if attempt == 4:
                raise
            time.sleep(0.3)


def _seed(db_session, make_user, make_account):
    user = make_user("alice@example.com")
    account = make_account(user, opening="2500.00")
    history(db_session, user, account, today=TODAY, months=14)
    return user, account


def test_recurring_confirm_dismiss_and_edit_a_schedule(dash_duo, app, db_session, make_user, make_account):
    user, _account = _seed(db_session, make_user, make_account)
    dash_duo.driver.set_window_size(1280, 1000)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/recurring")
    dash_duo.wait_for_contains_text("#recurring-suggestions-table", "Netflix", timeout=20)

    _press_row_button(dash_duo, "recurring-suggestions-table", "Netflix", "Confirm")
    dash_duo.wait_for_contains_text("#recurring-message", "“Netflix” is now a schedule.", timeout=15)
    dash_duo.wait_for_contains_text("#recurring-schedules-table", "Netflix", timeout=15)

    _press_row_button(dash_duo, "recurring-suggestions-table", "Gym Club", "Dismiss")
    dash_duo.wait_for_contains_text("#recurring-message", "Dismissed", timeout=15)
    WebDriverWait(dash_duo.driver, 15).until(
        lambda d: "Gym Club" not in d.find_element("css selector", "#recurring-suggestions").text)
    db_session.rollback()
    assert db_session.scalar(select(DismissedRecurring.key)).startswith("gym club|")

    # Edit the new schedule: the form fills with it; new tags and amount are saved.
    _press_row_button(dash_duo, "recurring-schedules-table", "Netflix", "Edit")
    dash_duo.wait_for_text_to_equal("#recurring-form-title", "Edit “Netflix”", timeout=10)
    tags = dash_duo.find_element("#recurring-form-tags")
    tags.send_keys("streaming")
    _click(dash_duo, "#recurring-form-save")
    dash_duo.wait_for_contains_text("#recurring-message", "Saved “Netflix”.", timeout=15)
    dash_duo.wait_for_contains_text("#recurring-schedules-table", "streaming", timeout=15)
    db_session.rollback()
    netflix = db_session.scalar(select(Schedule).where(Schedule.user_id == user.id, Schedule.name == "Netflix"))
    assert sched.tags_by_schedule(db_session, user.id) == {netflix.id: ["streaming"]}
    assert not severe_console_errors(dash_duo)


def test_forecast_band_and_a_scenario_side_by_side(dash_duo, app, db_session, make_user, make_account):
    user, account = _seed(db_session, make_user, make_account)
    sched.create_schedule(db_session, user.id, name="Rent", payee="Maple Court", kind="expense", amount="900",
                          account_id=account.id, cadence="monthly", start_date=month_start(TODAY).isoformat())
    first = month_start(add_months(TODAY, 1))
    scenario = scen.create_scenario(db_session, user.id, name="New car", items=[
        {"type": "one_off", "label": "Down payment", "date": first.isoformat(), "amount": "-6000"},
        {"type": "recurring", "label": "Car loan", "cadence": "monthly", "start": first.isoformat(),
         "amount": "-420"}])
    db_session.commit()
    dash_duo.driver.set_window_size(1280, 1000)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path=f"/forecast?a={scenario.id}")
    dash_duo.wait_for_contains_text("#forecast-summary", "New car:", timeout=20)
    dash_duo.wait_for_contains_text("#forecast-summary", "Forecast:", timeout=5)
    # Two bands (filled areas) and both names in the legend.
    WebDriverWait(dash_duo.driver, 15).until(
        lambda d: len(d.find_elements("css selector", "#forecast-chart .scatterlayer .js-fill")) >= 2)
    legend = " ".join(e.text for e in dash_duo.driver.find_elements("css selector", "#forecast-chart .legendtext"))
    assert "Forecast: 10–90 % band" in legend and "New car: 10–90 % band" in legend
    # The money axis is written in the user's currency, not "25k".
    ticks = [e.text for e in dash_duo.driver.find_elements("css selector", "#forecast-chart .ytick text")]
    assert ticks and all("$" in t for t in ticks), ticks
    assert not severe_console_errors(dash_duo)


def test_cash_flow_sankey_is_drawn(dash_duo, app, db_session, make_user, make_account):
    _seed(db_session, make_user, make_account)
    dash_duo.driver.set_window_size(1280, 1000)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/cashflow?preset=last_12_months")
    WebDriverWait(dash_duo.driver, 20).until(
        lambda d: len(d.find_elements("css selector", "#cashflow-sankey .sankey-node")) >= 3)
    labels = " ".join(e.text for e in dash_duo.driver.find_elements("css selector", "#cashflow-sankey .node-label"))
    assert "Saved" in labels or "Income" in labels, labels
    dash_duo.wait_for_contains_text("#cashflow-totals", "Income", timeout=10)
    assert not severe_console_errors(dash_duo)


def test_editing_a_suggestion_shows_its_category(dash_duo, app, db_session, make_user, make_account):
    """Edit on a suggestion whose payments have a category: the form's Category select shows it."""
    from sqlalchemy import update

    from dashboard.services.categories import category_frame
    from models import Transaction
    user, _account = _seed(db_session, make_user, make_account)
    cats = category_frame(db_session, user.id)
    chosen = cats[cats["kind"] == "expense"].iloc[0]
    db_session.execute(update(Transaction).where(Transaction.user_id == user.id, Transaction.payee == "Netflix")
                       .values(category_id=int(chosen["id"])))
    db_session.commit()
    dash_duo.driver.set_window_size(1280, 1000)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/recurring")
    dash_duo.wait_for_contains_text("#recurring-suggestions-table", "Netflix", timeout=20)
    _press_row_button(dash_duo, "recurring-suggestions-table", "Netflix", "Edit")
    dash_duo.wait_for_text_to_equal("#recurring-form-title", "Confirm “Netflix” as a schedule", timeout=10)
    WebDriverWait(dash_duo.driver, 10).until(
        lambda d: d.find_element("css selector", "#recurring-form-category").get_attribute("value")
        == str(int(chosen["id"])))
    selected = dash_duo.driver.execute_script(
        "const s = document.querySelector('#recurring-form-category'); return s.options[s.selectedIndex].text;")
    assert selected.startswith(chosen["full_name"]), selected
    assert not severe_console_errors(dash_duo)


def test_recurring_tables_fit_a_phone(dash_duo, app, db_session, make_user, make_account):
    """At 375 px the schedules (and subscriptions) table stacks its rows: nothing scrolls sideways."""
    user, account = _seed(db_session, make_user, make_account)
    sched.create_schedule(db_session, user.id, name="City Power & Light", payee="City Power", kind="expense",
                          amount="115.96", account_id=account.id, cadence="monthly",
                          start_date=month_start(TODAY).isoformat(), tags="home, utilities")
    db_session.commit()
    dash_duo.driver.set_window_size(375, 812)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/recurring")
    dash_duo.wait_for_contains_text("#recurring-schedules-table", "City Power", timeout=20)
    dash_duo.wait_for_element("#recurring-subscriptions-table", timeout=10)
    for table in ("recurring-schedules-table", "recurring-subscriptions-table", "recurring-suggestions-table"):
        widths = dash_duo.driver.execute_script(
            "const t = document.getElementById(arguments[0]); return [t.scrollWidth, t.parentElement.clientWidth];",
            table)
        assert widths[0] <= widths[1], (table, widths)
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= 375
    # The buttons are still there and usable.
    _press_row_button(dash_duo, "recurring-schedules-table", "City Power", "Edit")
    dash_duo.wait_for_text_to_equal("#recurring-form-title", "Edit “City Power & Light”", timeout=10)
