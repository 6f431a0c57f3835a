"""From a filter change to a settled page, in headless Chromium, on the 1M-row benchmark data.

    python benchmarks/bench_clicks.py [--rows 1000000] [--dataset uniform|varied] [--rounds 3]

Serves the benchmark database (common.bench_app) with the app's own server on a free port, logs in,
opens the spending explorer once (a warm browser, as a person clicking around has), then times each
action: every preset of the Period box, a drill-down (a click on the largest treemap tile) and a text
search. The clock starts right before the click (in the page's own clock) and stops at the last DOM
change (charts drawn, grid rows, totals) after which the page stays quiet for QUIET_MS with no
callback request in flight. Since 4 December it leaves out AG Grid's screen-reader announcement (a
visually hidden live region the grid rewrites 200 ms after its rows or its "no rows" message): it drew
nothing and made a search without matches look 200-400 ms slower than the page a person sees.

The clock starts at the person's input: the ``pointerdown`` (a click) or ``keydown`` (Enter in the
search box) event's own time stamp, as the browser received it. Until 3 December it started before
Selenium sent the click, which added the driver's round trip (30-60 ms for a click, about 290 ms for
the drill-down's move-and-click) to every sample; that clock is still printed as ``driver_median_ms``
/ ``driver_p95_ms`` so that old and new lines can be compared. Ends in one line per action and one
over all of them:

    bench clicks.<dataset>.<action> db=<kind> rows=<n> median_ms=<n> p95_ms=<n> runs=<n>
        driver_median_ms=<n> driver_p95_ms=<n> load=<1-min load>
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import threading
import time

from common import BENCH_EMAIL, DATASETS, bench_app, db_kind
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

QUIET_MS = 400
READY = "#spending-grid .ag-center-cols-container [col-id='payee']"
# Counts callback requests in flight and stamps every DOM change (Plotly redraws, grid rows, totals).
INSTRUMENT = """
if (!window.__ll) {
  window.__ll = {inflight: 0, requests: 0, last: performance.now(), t0: 0, input: null};
  // The person's input: the first pointerdown or keydown after the clock was armed (_start).
  const onInput = function(e) { if (window.__ll.input === null) { window.__ll.input = e.timeStamp; } };
  document.addEventListener('pointerdown', onInput, true);
  document.addEventListener('keydown', onInput, true);
  const original = window.fetch;
  window.fetch = function(resource, init) {
    const url = String((resource && resource.url) || resource);
    const tracked = url.indexOf('_dash-update-component') >= 0;
    if (tracked) { window.__ll.inflight += 1; window.__ll.requests += 1; }
    const done = function() { if (tracked) { window.__ll.inflight -= 1; window.__ll.last = performance.now(); } };
    return original.apply(this, arguments).then(function(r) { r.clone().text().then(done, done); return r; },
                                               function(e) { done(); throw e; });
  };
  // Every change counts but AG Grid's screen-reader announcements: a visually hidden live region it
  // writes 200 ms after the rows (debounced), which draws nothing.
  const announcement = function(m) {
    const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
    return el !== null && el.closest('.ag-aria-description-container') !== null;
  };
  new MutationObserver(function(records) {
    if (!records.every(announcement)) { window.__ll.last = performance.now(); }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _driver():
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1366,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options)


def _start(driver) -> None:
    driver.execute_script(INSTRUMENT + "window.__ll.t0 = performance.now(); window.__ll.requests = 0;"
                          " window.__ll.input = null;")


def _settled(driver, timeout: float = 120, need_request: bool = True) -> tuple[float, float]:
    """Milliseconds to the last change before the page went quiet: (from the input event, from
    before the driver sent it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = driver.execute_script(
            "const s = window.__ll; return [s.inflight, s.requests, performance.now() - s.last, s.last - s.t0,"
            " s.input === null ? null : s.last - s.input];")
        inflight, requests, quiet, elapsed, from_input = state
        if inflight == 0 and (requests > 0 or not need_request) and quiet >= QUIET_MS:
            return (elapsed if from_input is None else from_input), elapsed
        time.sleep(0.05)
    raise TimeoutError("the page did not settle")


def _choose(driver, dropdown_id: str, label: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{dropdown_id}").click()
    WebDriverWait(driver, 5).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".dash-dropdown-option")))
    for element in driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"):
        if element.text.strip() == label:
            _start(driver)
            element.click()
            return
    raise LookupError(label)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dataset", choices=DATASETS, default="uniform")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from dashboard.demo_account import DEMO_PASSWORD
    from dashboard.services.spending import PRESETS

    app, _user_id = bench_app(args.rows, args.dataset)
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    driver = _driver()
    samples: dict[str, list[float]] = {}
    driver_samples: dict[str, list[float]] = {}

    def record(name: str, times: tuple[float, float]) -> None:
        samples.setdefault(name, []).append(times[0])
        driver_samples.setdefault(name, []).append(times[1])

    try:
        driver.get(f"{base}/login")
        driver.find_element(By.ID, "email").send_keys(BENCH_EMAIL)
        driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD + Keys.ENTER)
        WebDriverWait(driver, 20).until(EC.url_changes(f"{base}/login"))
        presets = [(key, label) for key, label in PRESETS.items() if key != "custom"]
        for _ in range(args.rounds):
            driver.get(f"{base}/spending?preset=last_month")
            WebDriverWait(driver, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, READY)))
            _start(driver)
            _settled(driver, need_request=False)
            for key, label in presets + [("last_12_months", PRESETS["last_12_months"])]:
                _choose(driver, "spending-preset", label)
                record(f"preset_{key}", _settled(driver))
            # A drill-down: the largest treemap tile (the first top-level category).
            tiles = driver.find_elements(By.CSS_SELECTOR, "#spending-by-category .treemaplayer .slice")
            if tiles:
                _start(driver)
                ActionChains(driver).move_to_element(tiles[min(1, len(tiles) - 1)]).click().perform()
                record("drill_down", _settled(driver))
            box = driver.find_element(By.ID, "spending-text")
            box.clear()
            box.send_keys("coffee")
            _start(driver)
            box.send_keys(Keys.ENTER)
            record("text_search", _settled(driver))
    finally:
        driver.quit()
        server.shutdown()

    def p95(values: list[float]) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]

    def line(name: str, values: list[float], driver_values: list[float]) -> str:
        return (f"bench clicks.{args.dataset}.{name} db={db_kind()} rows={args.rows} "
                f"median_ms={statistics.median(values):.0f} p95_ms={p95(values):.0f} runs={len(values)} "
                f"driver_median_ms={statistics.median(driver_values):.0f} driver_p95_ms={p95(driver_values):.0f} "
                f"load={os.getloadavg()[0]:.1f}")

    for name, values in samples.items():
        print(line(name, values, driver_samples[name]), flush=True)
    print(line("all", [v for values in samples.values() for v in values],
               [v for values in driver_samples.values() for v in values]), flush=True)


if __name__ == "__main__":
    main()
