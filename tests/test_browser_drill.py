"""The drill-down is never lost (issue 14, bug 1), in headless Chromium: open a drilled link, reload,
step out and press Back, drill by a click, then switch the chart to Bars. At every step the address
bar, the Categories box, the breadcrumb, every chart and the grid agree. And a drill by a click leaves
no stale hover label behind."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from a11y import settle
from browser import require_browser, severe_console_errors, start_and_login
from conftest import TEST_PASSWORD
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from test_browser_spending import _grid_payees, _seed

pytestmark = require_browser()

FIGURE = "var el = document.querySelector('#{} .js-plotly-plot'); return el && el.data ? el.data : null;"


def _figure(dash_duo, graph_id):
    return dash_duo.driver.execute_script(FIGURE.format(graph_id)) or []


def _names(dash_duo, graph_id) -> set[str]:
    """The category names a chart shows (treemap labels, bar names or trace names)."""
    names = set()
    for trace in _figure(dash_duo, graph_id):
        if trace.get("type") == "treemap":
            names.update(trace.get("labels") or [])
        elif trace.get("orientation") == "h":
            names.update(trace.get("y") or [])
        elif trace.get("name"):
            names.add(trace["name"])
    return names


def _view(dash_duo) -> dict:
    driver = dash_duo.driver
    query = parse_qs(urlsplit(driver.current_url).query)
    return {
        "url_categories": query.get("categories", [""])[0],
        "url_preset": query.get("preset", [""])[0],
        "box": driver.find_element(By.ID, "spending-categories").text,
        "crumbs": driver.find_element(By.ID, "spending-breadcrumb").text.replace("\n", " "),
        "summary": driver.find_element(By.ID, "spending-grid-summary").text,
        "grid": _grid_payees(dash_duo),
        "by_category": _names(dash_duo, "spending-by-category"),
        "over_time": _names(dash_duo, "spending-over-time"),
        "comparison": _names(dash_duo, "spending-comparison"),
        "payees": _names(dash_duo, "spending-payees"),
    }


def _agrees(view: dict, expected: dict) -> list[str]:
    problems = []
    for key in ("url_categories", "url_preset", "summary", "grid", "payees"):
        if view[key] != expected[key]:
            problems.append(f"{key}: {view[key]!r} != {expected[key]!r}")
    if expected["box"] not in view["box"] or any(word in view["box"] for word in expected["box_not"]):
        problems.append(f"box: {view['box']!r}")
    if view["crumbs"] != expected["crumbs"]:
        problems.append(f"crumbs: {view['crumbs']!r} != {expected['crumbs']!r}")
    for chart in ("by_category", "over_time", "comparison"):
        if not view[chart] or not view[chart] <= expected["names"]:
            problems.append(f"{chart}: {sorted(view[chart])} not within {sorted(expected['names'])}")
    return problems


def _settles_to(dash_duo, expected: dict, what: str, timeout: float = 20):
    """Wait until every part agrees with ``expected``, then make sure it stays so (nothing fires later)."""
    deadline = time.time() + timeout
    problems = ["not checked"]
    while time.time() < deadline:
        try:
            problems = _agrees(_view(dash_duo), expected)
        except Exception as exc:  # an element being re-drawn
            problems = [repr(exc)]
        if not problems:
            time.sleep(1.5)  # a late callback (the old bug) would change something now
            problems = _agrees(_view(dash_duo), expected)
            if not problems:
                return
        time.sleep(0.25)
    raise AssertionError(f"{what}: " + "; ".join(problems))


def _click_breadcrumb(dash_duo, label: str):
    for button in dash_duo.driver.find_elements(By.XPATH, "//nav[@aria-label='Category drill-down']//button"):
        if button.text.strip() == label:
            dash_duo.driver.execute_script("arguments[0].click()", button)
            return
    raise AssertionError(f"no breadcrumb {label!r}")


def _click_treemap_tile(dash_duo, label: str):
    for tile in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#spending-by-category g.slice"):
        if tile.text.strip().split("\n")[0] == label:
            surface = tile.find_element(By.CSS_SELECTOR, "path.surface")
            rect = dash_duo.driver.execute_script(
                "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", surface)
            # Near the top-left corner: the tile's header, not one of its children drawn inside it.
            ActionChains(dash_duo.driver).move_to_element(surface).move_by_offset(
                -rect[0] / 2 + 6, -rect[1] / 2 + 6).click().perform()
            return
    raise AssertionError(f"no treemap tile {label!r}")


def test_the_drill_down_is_never_lost(dash_duo, app, db_session, make_user, make_account):
    from sqlalchemy import select

    from models import Category

    _seed(db_session, make_user, make_account)
    food = db_session.scalar(select(Category.id).where(Category.name == "Food", Category.user_id.is_(None)))
    drilled = {"url_categories": str(food), "url_preset": "last_month", "box": "Food", "box_not": ["All categories"],
               "crumbs": "All categories › Food", "summary": "3 rows · total $87.10", "grid": ["Cafe", "Market"],
               "payees": {"Cafe", "Market"}, "names": {"Food", "Groceries", "Coffee", "Food (general)"}}
    everything = {"url_categories": "", "url_preset": "last_month", "box": "All categories", "box_not": ["Food"],
                  "crumbs": "All categories", "summary": "5 rows · total $1,047.10",
                  "grid": ["Cafe", "Landlord", "Market", "Shell"], "payees": {"Cafe", "Landlord", "Market", "Shell"},
                  "names": {"Food", "Housing", "Transportation", "Groceries", "Coffee", "Rent", "Fuel", "Other"}}

    # 1. A shared drilled link.
    base = start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/")
    dash_duo.wait_for_element("#overview-stats", timeout=15)
    dash_duo.driver.get(f"{base}/spending?preset=last_month&categories={food}")
    dash_duo.wait_for_element("#spending-totals", timeout=15)
    _settles_to(dash_duo, drilled, "opened a drilled link")

    # 2. Reload.
    dash_duo.driver.refresh()
    dash_duo.wait_for_element("#spending-totals", timeout=15)
    _settles_to(dash_duo, drilled, "after a reload")

    # 3. Step out by the breadcrumb, then Back.
    _click_breadcrumb(dash_duo, "All categories")
    _settles_to(dash_duo, everything, "stepped out to all categories")
    dash_duo.driver.back()
    _settles_to(dash_duo, drilled, "after Back")

    # 4. Out again, drill in by clicking Food in the treemap, then switch the chart to Bars.
    _click_breadcrumb(dash_duo, "All categories")
    _settles_to(dash_duo, everything, "stepped out again")
    _click_treemap_tile(dash_duo, "Food")
    _settles_to(dash_duo, drilled, "drilled into Food from the treemap")
    bars_label = dash_duo.driver.find_element(By.XPATH, "//label[normalize-space()='Bars']")
    dash_duo.driver.execute_script("arguments[0].click()", bars_label)
    dash_duo.wait_for_element("#spending-by-category .bars .point path", timeout=10)
    _settles_to(dash_duo, drilled, "switched to Bars")
    assert _names(dash_duo, "spending-by-category") == {"Groceries", "Coffee"}  # Food's children
    assert severe_console_errors(dash_duo) == []



HOVER_LABELS = """return Array.from(document.querySelectorAll('#spending-by-category .hoverlayer .hovertext'))
    .map(e => e.textContent);"""
TILE_TEXTS = "return Array.from(document.querySelectorAll('#spending-by-category g.slice')).map(g => g.textContent);"
# Holds the callback requests (the drill's answer) until released: the old chart stays while the test looks.
HOLD_CALLBACKS = """
if (!window.__llHeld) {
  window.__llHeld = [];
  const original = window.fetch;
  window.fetch = function (resource, init) {
    const self = this, args = arguments;
    if (window.__llHold && String((resource && resource.url) || resource).indexOf('_dash-update-component') >= 0) {
      return new Promise(resolve => window.__llHeld.push(() => resolve(original.apply(self, args))));
    }
    return original.apply(this, arguments);
  };
  window.__llRelease = function () {
    window.__llHold = false;
    window.__llHeld.splice(0).forEach(go => go());
  };
}
window.__llHold = true;
"""


def test_a_treemap_drill_leaves_no_stale_hover_label(dash_duo, app, db_session, make_user, make_account):
    """The drill hands the click to Dash and stops Plotly's own zoom, which is what cleared the hover label.
    The clicked tile's label must go with the click, not linger over the old chart while the server answers
    nor on the drilled chart until the mouse moves. (On the drilled chart Chromium itself hovers the tile
    now under the resting mouse: a label for that tile is a fresh one, not the stale one.)"""
    _seed(db_session, make_user, make_account)
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/spending?preset=last_month")
    dash_duo.wait_for_contains_text("#spending-grid-summary", "5 rows · total $1,047.10", timeout=15)
    dash_duo.wait_for_element("#spending-by-category g.slice path.surface", timeout=10)
    settle(dash_duo.driver)
    assert "Housing" in _names(dash_duo, "spending-by-category")

    driver = dash_duo.driver
    for tile in driver.find_elements(By.CSS_SELECTOR, "#spending-by-category g.slice"):
        if tile.text.strip().split("\n")[0] == "Food":
            surface = tile.find_element(By.CSS_SELECTOR, "path.surface")
            break
    else:
        raise AssertionError("no treemap tile 'Food'")
    width, height = driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", surface)
    # Hover the tile's header (not a child drawn inside it) and wait for Plotly's label: the test is
    # only worth something if the label was there before the click.
    ActionChains(driver).move_to_element(surface).move_by_offset(-width / 2 + 6, -height / 2 + 6).perform()
    deadline = time.time() + 5
    while time.time() < deadline and not driver.execute_script(HOVER_LABELS):
        time.sleep(0.1)
    hovered = driver.execute_script(HOVER_LABELS)
    assert len(hovered) == 1 and hovered[0].startswith("Food"), hovered

    driver.execute_script(HOLD_CALLBACKS)
    ActionChains(driver).click().perform()   # where the mouse is: no move, so no new hover
    deadline = time.time() + 10
    while time.time() < deadline and not driver.execute_script("return window.__llHeld.length"):
        time.sleep(0.1)
    assert driver.execute_script("return window.__llHeld.length"), "the click asked the server for nothing"
    assert "Housing" in _names(dash_duo, "spending-by-category")   # still the old chart, no Plotly zoom
    assert driver.execute_script(HOVER_LABELS) == [], "the clicked tile's label outlives the click"

    driver.execute_script("window.__llRelease()")
    deadline = time.time() + 15
    while time.time() < deadline and "Housing" in _names(dash_duo, "spending-by-category"):
        time.sleep(0.2)
    assert _names(dash_duo, "spending-by-category") <= {"Food", "Groceries", "Coffee", "Food (general)"}
    dash_duo.wait_for_contains_text("#spending-grid-summary", "3 rows · total $87.10", timeout=15)
    settle(driver)
    labels, tiles = driver.execute_script(HOVER_LABELS), driver.execute_script(TILE_TEXTS)
    assert hovered[0] not in labels, "the clicked tile's label is on the drilled chart"
    assert all(label in tiles for label in labels), (labels, tiles)   # only a label of a drilled-chart tile
    assert severe_console_errors(dash_duo) == []
