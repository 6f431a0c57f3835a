"""The Transactions page in headless Chromium: edit a payee and an amount inline and see them saved (and
"abc" refused), add a transaction, delete it, undo the delete."""
from __future__ import annotations

import time

from browser import require_browser, severe_console_errors, start_and_login
from conftest import TEST_PASSWORD
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

pytestmark = require_browser()

ROWS = "#transactions-grid .ag-center-cols-container"


def _seed(db_session, make_user, make_account):
    from datetime import date, timedelta
    from decimal import Decimal

    from sqlalchemy import select

    from dashboard.services.transactions import create_transaction
    from models import Category

    cats = {c.name: c.id for c in db_session.scalars(select(Category).where(Category.user_id.is_(None)))}
    alice = make_user("alice@example.com")
    account = make_account(alice, "Checking", opening="500.00")
    today = date.today()
    for days, amount, cat, payee in [(3, "-45.10", "Groceries", "Market"), (2, "-12.00", "Coffee", "Cafe"),
                                     (1, "-60.00", "Fuel", "Shell")]:
        create_transaction(db_session, alice.id, account_id=account.id, date=today - timedelta(days=days),
                           amount=Decimal(amount), category_id=cats[cat], payee=payee)
    db_session.commit()
    return alice


def _cell(dash_duo, payee_or_index, column):
    """The cell of ``column`` in the row whose payee is ``payee_or_index`` (or at that row index)."""
    if isinstance(payee_or_index, int):
        return dash_duo.driver.find_element(By.CSS_SELECTOR, f"{ROWS} [row-index='{payee_or_index}'] [col-id='{column}']")
    for row in dash_duo.driver.find_elements(By.CSS_SELECTOR, f"{ROWS} .ag-row"):
        cells = row.find_elements(By.CSS_SELECTOR, "[col-id='payee']")
        if cells and cells[0].text == payee_or_index:
            return row.find_element(By.CSS_SELECTOR, f"[col-id='{column}']")
    raise AssertionError(f"no row with payee {payee_or_index!r}")


def _payees(dash_duo) -> list[str]:
    rows = dash_duo.driver.find_elements(By.CSS_SELECTOR, f"{ROWS} .ag-row")
    rows.sort(key=lambda r: int(r.get_attribute("row-index")))
    return [r.find_element(By.CSS_SELECTOR, "[col-id='payee']").text for r in rows]


def _wait(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the grid re-renders its rows while we look
            pass
        time.sleep(0.2)
    assert predicate()


def _selected_payees(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        "return dash_ag_grid.getApi('transactions-grid').getSelectedRows().map(r => r.payee)")


def _select_only(dash_duo, payee: str) -> None:
    """Click the row of ``payee`` until it is the one selected row: the grid may refresh its rows (and
    reuse their elements for other rows) between finding a cell and the click landing."""
    for _ in range(5):
        try:
            cell = _cell(dash_duo, payee, "account")
            dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
            ActionChains(dash_duo.driver).move_to_element(cell).click().perform()
            _wait(lambda: _selected_payees(dash_duo) == [payee], timeout=2)
        except Exception:
            pass
        if _selected_payees(dash_duo) == [payee]:
            return
    raise AssertionError(f"could not select only {payee!r}: {_selected_payees(dash_duo)}")


def _click(dash_duo, selector):
    element = dash_duo.wait_for_element(selector, timeout=5)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", element)


def _edit(dash_duo, cell, text):
    ActionChains(dash_duo.driver).double_click(cell).perform()
    editor = dash_duo.wait_for_element(f"{ROWS} .ag-cell-inline-editing input", timeout=5)
    editor.send_keys(Keys.CONTROL + "a")
    editor.send_keys(text)
    editor.send_keys(Keys.ENTER)


def test_edit_add_delete_and_undo(dash_duo, app, db_session, make_user, make_account):
    from sqlalchemy import select

    from models import Transaction

    _seed(db_session, make_user, make_account)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/transactions")
    dash_duo.wait_for_contains_text("#transactions-summary", "3 transactions", timeout=15)
    _wait(lambda: _payees(dash_duo) == ["Shell", "Cafe", "Market"])

    # Inline: a payee, then an amount; both saved and shown.
    def stored():
        db_session.expire_all()
        return db_session.scalar(select(Transaction).where(Transaction.payee == "Blue Bottle"))

    _edit(dash_duo, _cell(dash_duo, "Cafe", "payee"), "Blue Bottle")
    dash_duo.wait_for_contains_text("#transactions-message", "Saved", timeout=10)
    _wait(lambda: stored() is not None)
    _wait(lambda: _payees(dash_duo) == ["Shell", "Blue Bottle", "Market"])
    # The grid re-reads the row after the save: wait for the new version before editing the row again.
    _wait(lambda: dash_duo.driver.execute_script(
        "return dash_ag_grid.getApi('transactions-grid').getRowNode(arguments[0]).data.version",
        str(stored().id)) == stored().version)
    _edit(dash_duo, _cell(dash_duo, "Blue Bottle", "amount"), "-4.75")

    # The grid shows what was typed at once; the database follows when the callback has run.
    _wait(lambda: str(stored().amount) == "-4.75")
    assert stored().version >= 3  # each write bumps the version
    _wait(lambda: _cell(dash_duo, "Blue Bottle", "amount").text == "-$4.75")
    # "abc" is refused beside the grid and the cell goes back to the stored value.
    _edit(dash_duo, _cell(dash_duo, "Blue Bottle", "amount"), "abc")
    dash_duo.wait_for_contains_text("#transactions-message", "not an amount", timeout=10)
    _wait(lambda: _cell(dash_duo, "Blue Bottle", "amount").text == "-$4.75")
    assert str(stored().amount) == "-4.75"

    # Add spending through the form.
    _click(dash_duo, "#transactions-add")
    dash_duo.wait_for_element("#transactions-add-amount", timeout=5).send_keys("19.99")
    dash_duo.find_element("#transactions-add-payee").send_keys("Bookshop")
    _click(dash_duo, "#transactions-add-save")
    dash_duo.wait_for_contains_text("#transactions-message", "Added Bookshop", timeout=10)
    dash_duo.wait_for_contains_text("#transactions-summary", "4 transactions", timeout=10)
    _wait(lambda: _payees(dash_duo)[0] == "Bookshop")

    # Select it, delete it, undo.
    _wait(lambda: not dash_duo.driver.find_elements(By.CSS_SELECTOR, ".modal.show, .modal-backdrop"))
    _select_only(dash_duo, "Bookshop")
    _wait(lambda: dash_duo.find_element("#transactions-delete").is_enabled())
    _click(dash_duo, "#transactions-delete")
    dash_duo.wait_for_contains_text("#transactions-undo-text", "Deleted Bookshop", timeout=10)
    _wait(lambda: "Bookshop" not in _payees(dash_duo))
    assert db_session.scalar(select(Transaction.id).where(Transaction.payee == "Bookshop")) is None
    _click(dash_duo, "#transactions-undo")
    dash_duo.wait_for_contains_text("#transactions-message", "Restored Bookshop", timeout=10)
    _wait(lambda: _payees(dash_duo)[0] == "Bookshop")
    db_session.expire_all()
    restored = db_session.scalar(select(Transaction).where(Transaction.payee == "Bookshop"))
    assert str(restored.amount) == "-19.99" and restored.kind == "expense"
    assert severe_console_errors(dash_duo) == []
