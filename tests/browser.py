"""Helpers for the real-browser tests (dash[testing] + Debian's headless Chromium)."""
from __future__ import annotations

import os
import shutil
import socket

import pytest

HAVE_BROWSER = bool(shutil.which("chromedriver") and (shutil.which("chromium") or shutil.which("google-chrome")))


def require_browser():
    """Skip without a browser on a developer's machine; fail in CI (LEDGERLENS_REQUIRE_BROWSER=1)."""
    if HAVE_BROWSER:
        return pytest.mark.browser
    if os.environ.get("LEDGERLENS_REQUIRE_BROWSER") == "1":
        raise RuntimeError("chromium and chromedriver are required for the browser tests")
    return pytest.mark.skip(reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")


def free_port() -> int:
    """A port nobody listens on, so that two test runs (SQLite and PostgreSQL, or two checkouts) can
    drive browsers at the same time; dash_duo's default is always 8050."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_and_login(dash_duo, app, email: str, password: str, path: str = "/"):
    """Start the app without navigating (the root redirects to the login form), then log in."""
    from selenium.webdriver.common.keys import Keys

    dash_duo.start_server(app.extensions["ledgerlens_dash"], navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")
    dash_duo.driver.get(f"{base}/login?next={path}")
    dash_duo.wait_for_element("#email", timeout=10)
    dash_duo.find_element("#email").send_keys(email)
    dash_duo.find_element("#password").send_keys(password + Keys.ENTER)
    return base


def severe_console_errors(dash_duo) -> list[dict]:
    return [entry for entry in (dash_duo.get_logs() or []) if entry.get("level") == "SEVERE"]


def find_bar(dash_duo, label: str, timeout: float = 15, done=None):
    """The bar called `label` in the Spending page's by-category bars, once the bars and their labels
    are drawn (None when ``done()`` turns true first)."""
    import time

    from selenium.webdriver.common.by import By

    labels: list[str] = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        if done is not None and done():
            return None
        bars = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#spending-by-category .bars .point path")
        labels = [t.text for t in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#spending-by-category .ytick text")]
        if label in labels and len(bars) == len(labels):
            return bars[labels.index(label)]
        time.sleep(0.3)
    raise AssertionError(f"no bar {label!r}; bars are {labels}")


def click_bar(dash_duo, label: str, done, attempts: int = 3, timeout: float = 15) -> None:
    """Click the bar called `label` in the Spending page's by-category bars until `done()` is true.

    Under load Plotly may draw the bars again between finding a bar and clicking it (the click then lands
    on a detached or replaced element and nothing happens): find the bar afresh and click again."""
    import time

    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains

    for attempt in range(attempts):
        # (after a first click, the drill may have happened slowly: then there is nothing to click)
        bar = find_bar(dash_duo, label, timeout, done if attempt else None)
        if bar is None:
            return
        try:
            dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", bar)
            ActionChains(dash_duo.driver).move_to_element(bar).click().perform()
        except StaleElementReferenceException:
            continue
        deadline = time.time() + 8
        while time.time() < deadline:
            if done():
                return
            time.sleep(0.2)
    raise AssertionError(f"clicking the bar {label!r} {attempts} times did not drill")


def choose(dash_duo, dropdown_id: str, label: str) -> None:
    """Pick the option ``label`` of the dcc.Dropdown ``dropdown_id`` as a person does: scroll it into
    view, open it, click the option."""
    from selenium.webdriver.common.by import By
    element = dash_duo.find_element(f"#{dropdown_id}")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    element.click()
    first = dash_duo.wait_for_element(".dash-dropdown-option", timeout=5)
    for option in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"):
        if option.text.strip() == label:
            option.click()
            return
    raise AssertionError(f"no option {label!r} in #{dropdown_id}; the first is {first.text!r}")

