"""Stored script: a user whose every name, payee, note and goal is markup or a javascript: link, shown
on every page in a real browser. Nothing runs, no markup becomes an element, the text is shown
literally, and the Content-Security-Policy is never violated (it fits every page)."""
from __future__ import annotations

import time

import dash
import pytest
from browser import require_browser, start_and_login
from conftest import TEST_PASSWORD
from seed_people import seed_user_data
from selenium.common.exceptions import NoAlertPresentException, UnexpectedAlertPresentException

pytestmark = require_browser()

SCRIPT = "<script>window.__xss='script';alert('script')</script>"
IMG = "<img src=x onerror=\"window.__xss='img';alert('img')\">"
LINK = "[x](javascript:window.__xss='link';alert('link'))"
PAYLOADS = (SCRIPT, IMG, LINK)

NAMES = {
    "checking": f"{SCRIPT} chk", "savings": f"{IMG} sav", "card": f"{LINK} card",
    "parent_category": f"{IMG} cat", "child_category": f"{SCRIPT} sub", "income_category": f"{LINK} gig",
    "payee": IMG, "income_payee": SCRIPT, "description": LINK, "notes": IMG,
    "goal": f"{SCRIPT} goal", "debt_goal": f"{IMG} debt", "contribution_note": LINK, "rule": f"{LINK} rule",
}

# Anything that would mean markup from the data became part of the page.
INJECTED = """
    const bad = [];
    document.querySelectorAll('img[src="x"], [onerror], [onload], iframe, object, embed').forEach(
        e => bad.push(e.outerHTML.slice(0, 120)));
    document.querySelectorAll('a[href], [href], [src], [action], [formaction]').forEach(e => {
        for (const name of ['href', 'src', 'action', 'formaction', 'xlink:href']) {
            const v = (e.getAttribute(name) || '').replace(/\\s/g, '').toLowerCase();
            if (v.startsWith('javascript:')) bad.push(e.outerHTML.slice(0, 120));
        }
    });
    document.querySelectorAll('script:not([src])').forEach(s => {
        if (s.textContent.includes('__xss')) bad.push('script element: ' + s.textContent.slice(0, 80));
    });
    return {bad: bad, ran: window.__xss === undefined ? null : window.__xss,
            text: document.body.innerText};
"""


def _no_alert(driver) -> str | None:
    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return None
    text = alert.text
    alert.dismiss()
    return text


def _settle(driver, timeout: float = 15.0) -> None:
    """Wait until Dash has no callback in flight and the page text stops changing."""
    end = time.monotonic() + timeout
    last, stable = None, 0
    while time.monotonic() < end:
        state = driver.execute_script(
            "return [document.querySelectorAll('[data-dash-is-loading=\"true\"]').length,"
            " document.body.innerText.length, !!document.querySelector('#_pages_content, main')]")
        if state[0] == 0 and state[2] and state[1] == last:
            stable += 1
            if stable >= 3:
                return
        else:
            stable = 0
        last = state[1]
        time.sleep(0.3)


@pytest.mark.page_sweep
def test_stored_markup_never_runs_on_any_page(dash_duo, app, db_session, make_user):
    user = make_user("mallory@example.com", name=IMG)
    seed_user_data(db_session, user, "xss", names=NAMES)
    base = start_and_login(dash_duo, app, "mallory@example.com", TEST_PASSWORD)
    driver = dash_duo.driver
    paths = sorted({page["relative_path"] for page in dash.page_registry.values()}) + ["/settings"]
    seen = {payload: [] for payload in PAYLOADS}
    problems = []
    for path in paths:
        driver.get(base + path)
        try:
            _settle(driver)
            result = driver.execute_script(INJECTED)
        except UnexpectedAlertPresentException as exc:
            problems.append(f"{path}: an alert opened ({exc.alert_text})")
            _no_alert(driver)
            continue
        violations = [e["message"][:200] for e in (dash_duo.get_logs() or [])
                      if "Content Security Policy" in e.get("message", "")]
        if violations:  # the policy must fit the app (and nothing injected may have tried to run)
            problems.append(f"{path}: CSP violations {violations}")
        alert = _no_alert(driver)
        if alert:
            problems.append(f"{path}: an alert opened ({alert})")
        if result["ran"]:
            problems.append(f"{path}: the {result['ran']} payload ran")
        if result["bad"]:
            problems.append(f"{path}: injected markup {result['bad']}")
        for payload in PAYLOADS:
            if payload in result["text"]:
                seen[payload].append(path)
    assert not problems, "\n".join(problems)
    # The data was on screen, as text: each payload is shown literally somewhere.
    assert all(seen.values()), seen
