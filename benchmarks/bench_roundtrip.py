"""Spending explorer in headless Chromium: time from a preset change to every chart and the grid
settled, and how many callback requests that change cost.

    python benchmarks/bench_roundtrip.py http://127.0.0.1:PORT [--runs 10]

Runs against a server that is already up (the demo user: ``flask demo``). A change counts as settled
when no Dash request is in flight, every chart has drawn after the change (``plotly_afterplot``) and
the grid shows rows; the time is the last of those moments minus the click. Ends in one line:
    bench roundtrip.spending requests=<n> median_ms=<n> p95_ms=<n> runs=<n>
"""
from __future__ import annotations

import argparse
import statistics
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

GRAPHS = ("spending-by-category", "spending-over-time", "spending-comparison", "spending-payees")
PRESETS = ("Last month", "Last 3 months", "This month", "Last 6 months", "Last 12 months", "Year to date")

# Counts Dash requests and remembers when the last one ended and when each chart last drew.
PROBE = """
if (!window.__probe) {
  window.__probe = {pending: 0, requests: 0, lastEnd: 0, drawn: {}};
  const orig = window.fetch;
  window.fetch = function(url, opts) {
    const dash = String(url).indexOf('_dash-update-component') >= 0;
    if (dash) { window.__probe.pending++; window.__probe.requests++; }
    return orig.apply(this, arguments).finally(function() {
      if (dash) { window.__probe.pending--; window.__probe.lastEnd = performance.now(); }
    });
  };
}
arguments[0].forEach(function(id) {
  const el = document.querySelector('#' + id + ' .js-plotly-plot');
  if (el && !el.__probed) {
    el.__probed = true;
    el.on('plotly_afterplot', function() { window.__probe.drawn[id] = performance.now(); });
  }
});
window.__probe.requests = 0; window.__probe.drawn = {};
"""

SETTLED = """
const p = window.__probe, t0 = arguments[0], ids = arguments[1];
if (p.pending > 0) { return null; }
if (!document.querySelector("#spending-grid .ag-center-cols-container [col-id='payee']")) { return null; }
let last = p.lastEnd;
for (const id of ids) { if (!(p.drawn[id] > t0)) { return null; } last = Math.max(last, p.drawn[id]); }
if (performance.now() - last < 400) { return null; }   // quiet for 400 ms: nothing else follows
return [last - t0, p.requests];
"""


def _driver(width=1366, height=1000):
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--window-size={width},{height}"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options)


def _choose_preset(driver, label):
    driver.find_element(By.ID, "spending-preset").click()
    WebDriverWait(driver, 5).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".dash-dropdown-option")))
    for element in driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"):
        if element.text.strip() == label:
            t0 = driver.execute_script("return performance.now()")
            element.click()
            return t0
    raise RuntimeError(f"no preset {label!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--runs", type=int, default=12)
    args = parser.parse_args()
    base = args.base.rstrip("/")
    driver = _driver()
    try:
        driver.get(f"{base}/login?next=/spending")
        driver.find_element(By.ID, "email").send_keys("demo@ledgerlens.local")
        driver.find_element(By.ID, "password").send_keys("demo-password" + Keys.ENTER)
        WebDriverWait(driver, 30).until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, "#spending-over-time .main-svg")))
        time.sleep(2)
        times, requests = [], []
        for i in range(args.runs):
            driver.execute_script(PROBE, list(GRAPHS))
            t0 = _choose_preset(driver, PRESETS[i % len(PRESETS)])
            result = WebDriverWait(driver, 30, poll_frequency=0.05).until(
                lambda d, t0=t0: d.execute_script(SETTLED, t0, list(GRAPHS)))
            times.append(result[0])
            requests.append(result[1])
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"bench roundtrip.spending requests={statistics.median(requests):.0f} "
              f"median_ms={statistics.median(times):.0f} p95_ms={p95:.0f} runs={len(times)}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
