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
