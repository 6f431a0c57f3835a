"""The Budgets page in a real headless Chromium: type into the grid, see the chart and the database
follow; type nonsense, see the message and the stored value come back. Also renders the page at
desktop and phone widths (LEDGERLENS_SCREENSHOTS=1 keeps the pictures in docs/screenshots/)."""
from __future__ import annotations

import os
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from browser import require_browser, severe_console_errors, start_and_login
from conftest import TEST_PASSWORD
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select

from dashboard.services import budgets as svc
from dashboard.services.periods import add_months, month_start
from dashboard.services.transactions import create_transaction
from models import Budget, Category, db

pytestmark = require_browser()

D = Decimal
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

# category, budget, spent this month (rollover for Travel: last month left 180.00 of 300.00)
PLAN = (
    ("Groceries", "600.00", ["143.27", "98.60", "121.35", "49.15"]),
    ("Food", "300.00", ["64.80", "118.40", "92.50", "65.50"]),        # restaurants and coffee: over
    ("Rent", "1500.00", ["1500.00"]),
    ("Utilities", "200.00", ["96.14"]),
    ("Fuel", "160.00", ["41.00", "17.00"]),
    ("Subscriptions", "35.00", ["15.49", "10.99", "2.99"]),
    ("Shopping", "250.00", ["120.00"]),
    ("Travel", "300.00", []),
)
SPENT_IN = {"Food": "Restaurants"}


def _cat(session, name: str) -> Category:
    return session.scalar(select(Category).where(Category.name == name, Category.user_id.is_(None)))


def seed(session, user, account, today: date) -> dict[str, int]:
    start = month_start(today)
    day = lambda n: start.replace(day=min(n, today.day))  # noqa: E731  (never in the future)
    create_transaction(session, user.id, account_id=account.id, date=start, amount=D("4200.00"), kind="income",
                       category_id=_cat(session, "Salary").id, payee="Employer")
    last = add_months(start, -1)
    svc.create_budget(session, user.id, category_id=_cat(session, "Travel").id, amount="300.00",
                      start_date=last, rollover=True)
    create_transaction(session, user.id, account_id=account.id, date=last.replace(day=12), amount=D("-120.00"),
                       kind="expense", category_id=_cat(session, "Lodging").id, payee="Hotel")
    ids = {}
    for name, amount, spent in PLAN:
        budget = svc.create_budget(session, user.id, category_id=_cat(session, name).id, amount=amount,
                                   start_date=start, rollover=name == "Travel")
        ids[name] = budget.id
        for n, value in enumerate(spent):
            create_transaction(session, user.id, account_id=account.id, date=day(1 + 6 * n), amount=-D(value),
                               kind="expense", category_id=_cat(session, SPENT_IN.get(name, name)).id,
                               payee="Shop")
    session.commit()
    return ids


def _stored_amount(budget_id: int) -> Decimal:
    with db.engine.connect() as conn:
        return conn.execute(select(Budget.amount).where(Budget.id == budget_id)).scalar_one()


def _chart_budgeted(dash_duo, category: str):
    return dash_duo.driver.execute_script(
        # _fullData holds the decoded arrays (the figure's own x is base64 typed-array JSON).
        "var g = document.querySelector('#budgets-chart .js-plotly-plot');"
        "if (!g || !g._fullData) { return null; }"
        "var t = g._fullData.find(function (d) { return d.name === 'Budgeted'; });"
        "if (!t) { return null; }"
        "var i = Array.from(t.y).indexOf(arguments[0]); return i < 0 ? null : Number(t.x[i]);", category)


def _wait(predicate, timeout: float = 10, message: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


def _cell(dash_duo, budget_id: int, column: str):
    return dash_duo.find_element(f'#budgets-grid .ag-row[row-id="{budget_id}"] .ag-cell[col-id="{column}"]')


def _type_into(dash_duo, budget_id: int, text: str) -> None:
    cell = _cell(dash_duo, budget_id, "budgeted")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)
    time.sleep(0.2)
    cell.click()  # singleClickEdit opens the editor
    editor = dash_duo.wait_for_element(
        f'#budgets-grid .ag-row[row-id="{budget_id}"] .ag-cell[col-id="budgeted"] input', timeout=5)
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(text + Keys.ENTER)


def _viewport(driver, width: int, height: int) -> None:
    """Size the window so that the page itself (not the window) is width x height."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def test_type_an_amount_then_nonsense(dash_duo, app, db_session, make_user, make_account):
    alice = make_user("alice@example.com")
    ids = seed(db_session, alice, make_account(alice, "Checking", opening="2500.00"), date.today())
    groceries = ids["Groceries"]
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/budgets")
    dash_duo.wait_for_element(f'#budgets-grid .ag-row[row-id="{groceries}"]', timeout=15)
    dash_duo.wait_for_text_to_equal("#budgets-total-budgeted", "$3,345.00", timeout=10)
    _wait(lambda: _chart_budgeted(dash_duo, "Groceries") == 600, message="the chart")

    # A new amount: saved, and the chart and the totals follow.
    _type_into(dash_duo, groceries, "1,650.50")
    _wait(lambda: _chart_budgeted(dash_duo, "Groceries") == 1650.5, message="the chart to change")
    assert _stored_amount(groceries) == D("1650.50")
    dash_duo.wait_for_text_to_equal("#budgets-total-budgeted", "$4,395.50", timeout=10)
    dash_duo.wait_for_text_to_equal(f'#budgets-grid .ag-row[row-id="{groceries}"] .ag-cell[col-id="budgeted"]',
                                    "$1,650.50", timeout=10)

    # Nonsense: a message beside the grid, the stored value back in the cell, the database unchanged.
    _type_into(dash_duo, groceries, "abc")
    dash_duo.wait_for_contains_text("#budgets-message", "“abc” is not an amount", timeout=10)
    assert "Groceries" in dash_duo.find_element("#budgets-message").text
    assert "It stays at $1,650.50." in dash_duo.find_element("#budgets-message").text
    dash_duo.wait_for_text_to_equal(f'#budgets-grid .ag-row[row-id="{groceries}"] .ag-cell[col-id="budgeted"]',
                                    "$1,650.50", timeout=10)
    assert _stored_amount(groceries) == D("1650.50")
    assert severe_console_errors(dash_duo) == []


def test_page_renders_at_desktop_and_phone_widths(dash_duo, app, db_session, make_user, make_account, tmp_path):
    alice = make_user("alice@example.com")
    ids = seed(db_session, alice, make_account(alice, "Checking", opening="2500.00"), date.today())
    keep = os.environ.get("LEDGERLENS_SCREENSHOTS") == "1"
    folder = SCREENSHOTS if keep else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    driver = dash_duo.driver
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/budgets")
    _viewport(driver, 1280, 900)
    dash_duo.wait_for_element(f'#budgets-grid .ag-row[row-id="{ids["Travel"]}"]', timeout=15)
    # Travel carries last month's 180.00 in; Food (restaurants) is over budget and stands out.
    travel = f'#budgets-grid .ag-row[row-id="{ids["Travel"]}"] .ag-cell[col-id="carried_cents"]'
    dash_duo.wait_for_text_to_equal(travel, "$180.00", timeout=10)
    food_row = dash_duo.find_element(f'#budgets-grid .ag-row[row-id="{ids["Food"]}"]')
    assert "budget-row-over" in food_row.get_attribute("class")
    _wait(lambda: _chart_budgeted(dash_duo, "Travel") == 480, message="the chart")
    time.sleep(0.5)  # let the chart finish its transition
    driver.save_screenshot(str(folder / "budgets.png"))

    _viewport(driver, 390, 1900)  # a phone's width; tall enough to see the whole page at once
    wide = """return [window.innerWidth, document.documentElement.scrollWidth].concat(
        Array.from(document.querySelectorAll('body *')).filter(e => !e.closest('.ag-root-wrapper') && e.getBoundingClientRect().right > 391)
        .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)))"""
    try:
        _wait(lambda: driver.execute_script("return document.documentElement.scrollWidth") <= 390,
              message="no sideways scrolling of the page at 390px")
    except AssertionError as error:
        raise AssertionError(f"{error}: [inner width, page width, wider elements] = {driver.execute_script(wide)}") from None
    # No category name is cut inside a word ("Subscriptions Entertai|nment" under AG Grid's own
    # word-break): every word of the category cells sits on one line.
    split_words = """return Array.from(document.querySelectorAll('#budgets-grid .ag-cell[col-id="category"]')).flatMap(cell => {
        const out = [], walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node; (node = walker.nextNode());) {
          for (const m of node.data.matchAll(/\\S+/g)) {
            const range = document.createRange(); range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
            const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
            if (tops.size > 1) out.push(m[0]);
          }
        }
        return out; })"""
    assert driver.execute_script(split_words) == []
    time.sleep(0.5)
    driver.save_screenshot(str(folder / "budgets-phone.png"))
    assert severe_console_errors(dash_duo) == []
