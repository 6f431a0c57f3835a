"""The first minutes and every day after, in headless Chromium:
- a brand-new person registers and reaches a filled spending view through the first-run path;
- a transaction is created with the keyboard only (n, Tab, typing, Enter), dialogs close on Escape, the
  ? overlay lists the shortcuts, / searches every transaction, g then a letter changes page, and the
  focused control always shows a focus ring;
- axe-core finds no serious or critical violation on any page, light and dark;
- the dark theme colours the page, the grids and the charts, and the toggle is kept for the person."""
from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from a11y import COLOUR_RULES, blocking, run_axe, set_theme, settle
from browser import free_port, require_browser, severe_console_errors, start_and_login
from conftest import TEST_PASSWORD
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

pytestmark = require_browser()


def _wait(predicate, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the page re-renders while we look
            pass
        time.sleep(0.2)
    assert predicate(), what


def _click(dash_duo, selector):
    element = dash_duo.wait_for_element(selector, timeout=10)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", element)


def _keys(dash_duo, *keys):
    ActionChains(dash_duo.driver).send_keys(*keys).perform()


def _active_id(dash_duo) -> str:
    return dash_duo.driver.execute_script("return document.activeElement && document.activeElement.id")


def _tab_to(dash_duo, element_id: str, limit: int = 30, backwards: bool = False) -> None:
    """Press Tab (keyboard only) until ``element_id`` has the focus."""
    for _ in range(limit):
        if _active_id(dash_duo) == element_id:
            return
        if backwards:
            ActionChains(dash_duo.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        else:
            _keys(dash_duo, Keys.TAB)
        time.sleep(0.05)
    assert _active_id(dash_duo) == element_id, f"Tab never reached #{element_id}"


def _focus_ring(dash_duo) -> str:
    return dash_duo.driver.execute_script(
        "var s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth")


def _body_focus(dash_duo):
    dash_duo.driver.execute_script("document.activeElement && document.activeElement.blur(); document.body.focus()")


# -- first run -------------------------------------------------------------------------------------

def test_new_person_reaches_a_filled_spending_view_through_the_first_run_path(dash_duo, app, db_session):
    from sqlalchemy import select

    from models import Transaction, User

    dash_duo.start_server(app.extensions["ledgerlens_dash"], navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")
    driver = dash_duo.driver
    driver.get(f"{base}/register")
    dash_duo.wait_for_element("#email", timeout=10).send_keys("nia@example.com")
    driver.find_element(By.ID, "display_name").send_keys("Nia")
    driver.find_element(By.ID, "password").send_keys("a long enough passphrase")
    driver.find_element(By.ID, "password_confirm").send_keys("a long enough passphrase" + Keys.ENTER)

    # The first page: the welcome, and step 1 of 3 with its link.
    dash_duo.wait_for_contains_text("#app-flash", "Welcome to Ledgerlens, Nia.", timeout=15)
    dash_duo.wait_for_element("#first-run-card[data-step='1']", timeout=10)
    dash_duo.wait_for_element("#overview-accounts-empty", timeout=10)

    # Step 1: the link opens the Accounts page with its "New account" dialog already open.
    _click(dash_duo, "#first-run-account")
    dash_duo.wait_for_element(".modal.show > #accounts-form-modal #accounts-form-name", timeout=10).send_keys("Everyday")
    driver.find_element(By.ID, "accounts-form-opening").send_keys("1200.00")
    _click(dash_duo, "#accounts-form-save")
    dash_duo.wait_for_contains_text("#accounts-created", "Next, bring in its transactions", timeout=10)

    # Step 2: from the message, add a transaction (the Transactions dialog opens by itself).
    _click(dash_duo, "#accounts-created-add")
    try:
        dash_duo.wait_for_element("#first-run-card[data-step='2']", timeout=10)
    except Exception:
        driver.save_screenshot("/tmp/shots/test-fail.png")
        raise
    amount = dash_duo.wait_for_element(".modal.show > #transactions-add-modal #transactions-add-amount", timeout=10)
    amount.send_keys("42.50")
    driver.find_element(By.ID, "transactions-add-payee").send_keys("Corner store")
    _click(dash_duo, "#transactions-add-save")
    dash_duo.wait_for_contains_text("#transactions-added", "Added Corner store", timeout=10)
    user = db_session.scalar(select(User).where(User.email == "nia@example.com"))
    _wait(lambda: db_session.scalar(select(Transaction.payee).where(Transaction.user_id == user.id)) == "Corner store")

    # Step 3: the spending view, filled.
    _click(dash_duo, "#transactions-added-spending")
    dash_duo.wait_for_contains_text("#spending-total", "$42.50", timeout=15)
    assert not driver.find_elements(By.CSS_SELECTOR, "#first-run-card")  # arrived: no more steps
    _click(dash_duo, "a.navbar-brand")
    dash_duo.wait_for_element("#overview-net-worth", timeout=10)
    time.sleep(1)
    assert not driver.find_elements(By.CSS_SELECTOR, "#first-run-card")
    assert not severe_console_errors(dash_duo)


# -- keyboard --------------------------------------------------------------------------------------

@pytest.fixture()
def alice(db_session, make_user, make_account):
    from dashboard.services.transactions import create_transaction
    user = make_user("alice@example.com")
    account = make_account(user, "Checking", opening="500.00")
    create_transaction(db_session, user.id, account_id=account.id, date=date.today() - timedelta(days=1),
                       amount=Decimal("-12.00"), category_id=None, payee="Cafe")
    db_session.commit()
    return user


def test_keyboard_only_transaction_shortcuts_and_focus(dash_duo, app, db_session, alice):
    from sqlalchemy import select

    from models import Transaction

    dash_duo.driver.set_window_size(1366, 1000)  # the full navbar (it folds into a menu below 1200 px)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, "/")
    dash_duo.wait_for_element("#overview-net-worth", timeout=15)
    settle(dash_duo.driver)

    # Tab from the top: the skip link comes first and shows a focus ring.
    _body_focus(dash_duo)
    _keys(dash_duo, Keys.TAB)
    assert "skip-link" in dash_duo.driver.execute_script("return document.activeElement.className")
    _tab_to(dash_duo, "nav-settings")
    assert _focus_ring(dash_duo).startswith("solid"), _focus_ring(dash_duo)

    # ? shows the shortcut list; Escape closes it.
    _body_focus(dash_duo)
    _keys(dash_duo, "?")
    dash_duo.wait_for_contains_text("#shortcuts-modal", "New transaction", timeout=5)
    assert "Go to Transactions" in dash_duo.find_element("#shortcuts-table").text
    _keys(dash_duo, Keys.ESCAPE)
    _wait(lambda: not dash_duo.driver.find_elements(By.CSS_SELECTOR, ".modal.show > #shortcuts-modal"), what="overlay closed")

    # n from the Overview: Transactions with its add dialog open; Escape closes it, n opens it again.
    _body_focus(dash_duo)
    _keys(dash_duo, "n")
    dash_duo.wait_for_element(".modal.show > #transactions-add-modal", timeout=10)
    _keys(dash_duo, Keys.ESCAPE)
    _wait(lambda: not dash_duo.driver.find_elements(By.CSS_SELECTOR, ".modal.show > #transactions-add-modal"),
          what="dialog closed on Escape")
    time.sleep(0.5)
    _body_focus(dash_duo)
    _keys(dash_duo, "n")
    dash_duo.wait_for_element(".modal.show > #transactions-add-modal", timeout=10)
    time.sleep(0.5)  # the dialog's own callbacks fill its lists

    # Only the keyboard from here: Tab to each field, type, Tab to Add, Enter.
    _tab_to(dash_duo, "transactions-add-amount")
    _keys(dash_duo, "19.99")
    _tab_to(dash_duo, "transactions-add-payee")
    _keys(dash_duo, "Bookshop")
    _tab_to(dash_duo, "transactions-add-save")
    assert _focus_ring(dash_duo).startswith("solid")
    _keys(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text("#transactions-message", "Added Bookshop", timeout=10)
    _wait(lambda: db_session.scalar(select(Transaction.amount).where(Transaction.payee == "Bookshop"))
          == Decimal("-19.99"), what="the transaction was saved")

    # / focuses the navbar search from anywhere; Enter opens Transactions filtered by the text.
    _keys(dash_duo, "g", "o")
    dash_duo.wait_for_element("#overview-net-worth", timeout=10)
    settle(dash_duo.driver)   # the page's own updates done: a late one must not re-render the field we type in
    _body_focus(dash_duo)
    _keys(dash_duo, "/")
    _wait(lambda: _active_id(dash_duo) == "nav-search", what="search focused")

    def typed() -> str:
        return dash_duo.driver.execute_script("return document.getElementById('nav-search').value")

    for _attempt in range(3):   # under load a keystroke can land before React has the field: type again
        _keys(dash_duo, "cafe")
        deadline = time.time() + 3
        while time.time() < deadline and typed() != "cafe":
            time.sleep(0.2)
        if typed() == "cafe":
            break
        ActionChains(dash_duo.driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
        _keys(dash_duo, Keys.BACKSPACE)
    _wait(lambda: typed() == "cafe", what="the search text typed")
    assert _active_id(dash_duo) == "nav-search"
    _keys(dash_duo, Keys.ENTER)
    _wait(lambda: "/transactions?q=cafe" in dash_duo.driver.current_url, timeout=20, what="moved to Transactions")
    _wait(lambda: dash_duo.find_element("#transactions-text").get_attribute("value") == "cafe")
    dash_duo.wait_for_contains_text("#transactions-summary", "1 transaction", timeout=10)

    # g then a letter changes page; typing in a field does not.
    _body_focus(dash_duo)
    _keys(dash_duo, "g", "a")
    dash_duo.wait_for_element("#accounts-grid", timeout=10)
    assert dash_duo.driver.current_url.endswith("/accounts")
    assert not severe_console_errors(dash_duo)


# -- the navbar: one line on a laptop, menus by keyboard, one menu on a phone ---------------------------

def _overflow(driver) -> list[str]:
    """What sticks out past the window's right edge (empty when the page fits)."""
    return driver.execute_script("""
        var width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= width) { return []; }
        return Array.from(document.querySelectorAll("body *")).filter(function (e) {
            return e.getBoundingClientRect().right > width + 1 && !e.closest(".visually-hidden");
        }).slice(0, 6).map(function (e) {
            return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + String(e.className).split(" ")[0]
                + " right=" + Math.round(e.getBoundingClientRect().right);
        });""")


def test_navbar_fits_menus_work_by_keyboard_and_on_a_phone(dash_duo, app, db_session, alice):
    driver = dash_duo.driver
    driver.set_window_size(1200, 900)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, "/")
    dash_duo.wait_for_element("#overview-net-worth", timeout=15)
    for width in (1200, 1366, 1920):
        driver.set_window_size(width, 900)
        settle(driver, timeout=5)
        height = driver.execute_script("return document.querySelector('.navbar').getBoundingClientRect().height")
        assert height < 80, f"the navbar wraps at {width} px ({height} px tall)"
        assert not _overflow(driver), (width, _overflow(driver))

    # Keyboard only: Tab to the Plan menu, Enter opens it, arrows walk it, Enter goes there.
    _body_focus(dash_duo)
    for _ in range(30):
        if driver.execute_script("return !!document.activeElement.closest('#nav-group-plan')"):
            break
        _keys(dash_duo, Keys.TAB)
    assert driver.execute_script("return document.activeElement.textContent") == "Plan"
    assert _focus_ring(dash_duo).startswith("solid"), _focus_ring(dash_duo)
    _keys(dash_duo, Keys.ENTER)
    dash_duo.wait_for_element("#nav-group-plan .dropdown-menu.show", timeout=5)
    _keys(dash_duo, Keys.ARROW_DOWN)
    _keys(dash_duo, Keys.ARROW_DOWN)
    _wait(lambda: _active_id(dash_duo) == "nav-link-forecast", what="arrow keys reach Forecast")
    _keys(dash_duo, Keys.ENTER)
    _wait(lambda: driver.current_url.endswith("/forecast"), what="moved to Forecast")
    _wait(lambda: "active" in driver.find_element(By.CSS_SELECTOR, "#nav-group-plan > .nav-link").get_attribute("class"),
          what="the Plan menu is marked as holding the page shown")
    # Escape closes an open menu
    driver.find_element(By.CSS_SELECTOR, "#nav-group-manage > .nav-link").click()
    dash_duo.wait_for_element("#nav-group-manage .dropdown-menu.show", timeout=5)
    _keys(dash_duo, Keys.ESCAPE)
    _wait(lambda: not driver.find_elements(By.CSS_SELECTOR, "#nav-group-manage .dropdown-menu.show"), what="closed")

    # A phone: one menu behind the toggler; a page chosen in it closes it.
    driver.set_window_size(390, 900)
    settle(driver, timeout=5)
    assert not driver.find_element(By.ID, "nav-settings").is_displayed()
    _click(dash_duo, "#nav-toggler")
    dash_duo.wait_for_element("#nav-collapse.show", timeout=5)
    _click(dash_duo, "#nav-group-manage > .nav-link")
    rules = dash_duo.wait_for_element("#nav-link-rules", timeout=5)
    _wait(rules.is_displayed, what="the Manage menu opens in place")
    assert not _overflow(driver), _overflow(driver)
    rules.click()
    _wait(lambda: driver.current_url.endswith("/rules"), what="moved to Rules")
    _wait(lambda: not driver.find_elements(By.CSS_SELECTOR, "#nav-collapse.show"), what="the phone menu closed")
    assert not severe_console_errors(dash_duo)


# -- accessibility on every page, light and dark ------------------------------------------------------

@pytest.fixture()
def demo_user(db_session):
    from dashboard.demo import load_demo
    load_demo(db_session, email="demo-a11y@example.com", n_transactions=700)
    from sqlalchemy import update

    from dashboard.auth import hash_password
    from models import User
    db_session.execute(update(User).where(User.email == "demo-a11y@example.com")
                       .values(password_hash=hash_password(TEST_PASSWORD)))
    db_session.commit()
    return "demo-a11y@example.com"


def _pages() -> list[str]:
    import dash
    return sorted({page["relative_path"] for page in dash.page_registry.values()}) + ["/settings"]


@pytest.mark.page_sweep
def test_every_page_passes_axe_light_and_dark_and_fits_a_phone(dash_duo, app, demo_user):
    start_and_login(dash_duo, app, demo_user, TEST_PASSWORD, "/")
    dash_duo.wait_for_element("#overview-net-worth", timeout=20)
    base = dash_duo.server.url.rstrip("/")
    failures = {}
    for path in _pages():
        dash_duo.driver.get(base + path)
        settle(dash_duo.driver)
        for theme in ("light", "dark"):
            set_theme(dash_duo.driver, theme)
            settle(dash_duo.driver, timeout=5)
            assert dash_duo.driver.execute_script("return document.documentElement.getAttribute('data-bs-theme')") == theme
            found = blocking(run_axe(dash_duo.driver, None if theme == "light" else COLOUR_RULES))
            if found:
                failures[f"{path} ({theme})"] = found
        phone = _phone_problems(dash_duo.driver)   # the page at a phone's width, in the last theme
        if phone:
            failures[f"{path} (phone)"] = [{"impact": "layout", "id": "overflow", "help": p, "nodes": []}
                                           for p in phone]
    # and the pages before logging in
    dash_duo.driver.get(base + "/logout")  # a page with the button that logs out (POST)
    dash_duo.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    dash_duo.wait_for_element("#email", timeout=10)
    for path in ("/login", "/register"):
        dash_duo.driver.get(base + path)
        dash_duo.wait_for_element("#email", timeout=10)
        for theme in ("light", "dark"):
            set_theme(dash_duo.driver, theme)
            found = blocking(run_axe(dash_duo.driver, None if theme == "light" else COLOUR_RULES))
            if found:
                failures[f"{path} ({theme})"] = found
    assert not failures, "\n".join(f"{where}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
                                    for where, found in failures.items() for v in found)


def _phone_problems(driver) -> list[str]:
    """The page as it is now at a phone's width (resized, not reloaded: the layout is CSS and Plotly
    re-lays its charts out on a resize): nothing wider than the screen, no chart title cut at the
    right. The window gets its size back afterwards."""
    size = driver.get_window_size()
    driver.set_window_size(390, 900)
    try:
        settle(driver, timeout=5)
        found = _overflow(driver)
        found += driver.execute_script("""
            return Array.from(document.querySelectorAll('.js-plotly-plot')).filter(function (gd) {
                return gd.offsetParent !== null; }).map(function (gd) {
                var box = gd.getBoundingClientRect(), title = gd.querySelector('.gtitle');
                return title && title.getBoundingClientRect().right > box.right + 1
                    ? 'chart title cut: ' + title.textContent : null; }).filter(Boolean);""")
        return found
    finally:
        driver.set_window_size(size["width"], size["height"])


@pytest.mark.page_sweep
def test_a_new_persons_pages_say_what_to_do_fit_a_phone_and_pass_axe(dash_duo, app, db_session, make_user):
    """Before the first account: every page says what to do (no grid's "No Rows To Show", no $0.00
    forecast), passes axe light and dark, and fits a phone."""
    make_user("new@example.com")
    start_and_login(dash_duo, app, "new@example.com", TEST_PASSWORD, "/")
    dash_duo.wait_for_element("#first-run-card[data-step='1']", timeout=20)
    base = dash_duo.server.url.rstrip("/")
    driver = dash_duo.driver
    failures, unhelpful = {}, {}
    for path in _pages():
        driver.get(base + path)
        settle(driver)
        text = driver.find_element(By.TAG_NAME, "body").text
        if "No Rows To Show" in text or "Nothing new found" in text or "stays above" in text:
            unhelpful[path] = text[:300]
        if path != "/settings" and not driver.find_elements(By.CSS_SELECTOR, "#first-run-card a[href='/accounts#new']"):
            unhelpful[path] = "no link to the first step"
        for theme in ("light", "dark"):
            set_theme(driver, theme)
            found = blocking(run_axe(driver, None if theme == "light" else COLOUR_RULES))
            if found:
                failures[f"{path} ({theme})"] = found
        phone = _phone_problems(driver)
        if phone:
            unhelpful[f"{path} (phone)"] = phone
    for path, element in (("/forecast", "#forecast-empty"), ("/cashflow", "#cashflow-empty"),
                          ("/recurring", "#recurring-empty")):
        driver.get(base + path)
        dash_duo.wait_for_element(f"{element} a[href='/accounts#new']", timeout=10)
    assert not unhelpful, unhelpful
    assert not failures, "\n".join(f"{where}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
                                    for where, found in failures.items() for v in found)
    assert not severe_console_errors(dash_duo)


def test_dark_theme_colours_page_grid_and_charts_and_is_kept(dash_duo, app, db_session, alice):
    from models import User

    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, "/accounts")
    dash_duo.wait_for_element("#accounts-grid .ag-row", timeout=15)
    settle(dash_duo.driver)
    driver = dash_duo.driver
    light_bg = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    _click(dash_duo, "#theme-toggle")
    _wait(lambda: driver.execute_script("return document.documentElement.getAttribute('data-bs-theme')") == "dark")
    assert driver.execute_script("return getComputedStyle(document.body).backgroundColor") != light_bg
    # AG Grid's dark mode params apply under data-ag-theme-mode
    grid_bg = driver.execute_script(
        "return getComputedStyle(document.querySelector('#accounts-grid .ag-root-wrapper')).backgroundColor")
    assert grid_bg == "rgb(33, 37, 41)", grid_bg
    # every chart is re-drawn with the dark template, and carries a text alternative
    _wait(lambda: driver.execute_script(
        "var c = document.querySelectorAll('.js-plotly-plot'); return c.length > 0 && Array.from(c).every("
        "function (g) { return g.layout.template.layout.meta.ledgerlens_theme === 'dark'; })"), what="dark charts")
    assert driver.execute_script(
        "return Array.from(document.querySelectorAll('.js-plotly-plot')).every(function (g) {"
        " return g.getAttribute('role') === 'img' && g.getAttribute('aria-label'); })")
    # the choice is kept for the person, and the next page arrives dark from the server
    _wait(lambda: (db_session.expire_all(), db_session.get(User, alice.id).theme)[1] == "dark", what="saved")
    driver.get(dash_duo.server.url.rstrip("/") + "/settings")
    assert driver.execute_script("return document.documentElement.getAttribute('data-ll-theme')") == "dark"
    assert driver.find_element(By.ID, "theme-dark").is_selected()
