"""axe-core (vendored in tests/vendor/, no network) run inside the browser tests' page."""
from __future__ import annotations

import time
from pathlib import Path

AXE_JS = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
BLOCKING = ("serious", "critical")


# The rules a change of theme can break: the theme changes colours only, so a page already checked in
# full in one theme is checked in the other for these.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


def run_axe(driver, rules: list[str] | None = None) -> list[dict]:
    """Every violation axe finds on the page as it is now (WCAG 2.x A/AA and best practices), or only
    those of ``rules``."""
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(AXE_JS)
    driver.set_script_timeout(60)
    return driver.execute_async_script("""
        var done = arguments[arguments.length - 1], rules = arguments[0];
        var options = {resultTypes: ["violations"]};
        if (rules) { options.runOnly = {type: "rule", values: rules}; }
        axe.run(document, options).then(function (r) {
          done(r.violations.map(function (v) {
            return {id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(" "); })};
          }));
        }, function (e) { done([{id: "axe-error", impact: "critical", help: String(e), nodes: []}]); });
    """, rules)


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def settle(driver, timeout: float = 15.0) -> None:
    """Wait until Dash has no callback in flight and React has stopped adding things."""
    deadline = time.time() + timeout
    quiet = 0
    last = None
    while time.time() < deadline:
        busy = driver.execute_script(
            "return document.querySelectorAll('[data-dash-is-loading=\"true\"], ._dash-loading').length")
        size = driver.execute_script("return document.body.innerHTML.length")
        quiet = quiet + 1 if (not busy and size == last) else 0
        if quiet >= 3:
            return
        last = size
        time.sleep(0.3)


def set_theme(driver, theme: str) -> None:
    """Show the page in ``theme`` (light or dark) without saving it, as the navbar toggle would."""
    driver.execute_script("window.ledgerlensTheme.set(arguments[0])", theme)
    time.sleep(0.6)  # charts re-drawn with the other template
