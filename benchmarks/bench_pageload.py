"""First page load of the spending explorer in headless Chromium: bytes over the wire (compressed)
and time until the charts and the grid are drawn.

    python benchmarks/bench_pageload.py [--rows 1000000] [--runs 5] [--dataset uniform|varied] [--label bench]

Serves the benchmark database (see common.bench_app) with the app's own server on a free port.
Ends in one line per page:
    bench pageload.<dataset>.<page> db=<kind> rows=<n> transfer_kb=<n> resources=<n> median_ms=<n> p95_ms=<n> load=<n>
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
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

PAGES = {"overview": ("/", "#overview-cashflow .main-svg"),
         "spending": ("/spending?preset=last_12_months",
                      "#spending-over-time .main-svg .bars, #spending-by-category .main-svg .treemaplayer")}
# The page counts as loaded when its last chart is drawn and the grid has rows.
GRID_READY = "#spending-grid .ag-center-cols-container [col-id='payee']"


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dataset", choices=DATASETS, default="uniform")
    parser.add_argument("--label", default="bench", help="database file / schema prefix (common.bench_app)")
    args = parser.parse_args()
    from dashboard.demo_account import DEMO_PASSWORD

    app, _user_id = bench_app(args.rows, args.dataset, label=args.label)
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        for name, (path, ready) in PAGES.items():
            times, transfer, resources = [], 0, 0
            for _ in range(args.runs):
                driver = _driver()  # a cold browser each run: nothing cached
                try:
                    driver.get(f"{base}/login")
                    driver.find_element(By.ID, "email").send_keys(BENCH_EMAIL)
                    driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD + Keys.ENTER)
                    WebDriverWait(driver, 20).until(EC.url_changes(f"{base}/login"))
                    started = time.perf_counter()
                    driver.get(base + path)
                    WebDriverWait(driver, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, ready)))
                    if name == "spending":
                        WebDriverWait(driver, 60).until(
                            EC.presence_of_element_located((By.CSS_SELECTOR, GRID_READY)))
                        WebDriverWait(driver, 60).until(lambda d: len(d.find_elements(
                            By.CSS_SELECTOR, "#spending-comparison .main-svg, #spending-payees .main-svg")) >= 2)
                    times.append((time.perf_counter() - started) * 1000)
                    entries = driver.execute_script(
                        "return performance.getEntriesByType('navigation').concat("
                        "performance.getEntriesByType('resource')).map(e => e.transferSize || 0)")
                    transfer, resources = sum(entries), len(entries)
                finally:
                    driver.quit()
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            print(f"bench pageload.{args.dataset}.{name} db={db_kind()} rows={args.rows} transfer_kb={transfer / 1024:.0f} "
                  f"resources={resources} median_ms={statistics.median(times):.0f} p95_ms={p95:.0f} "
                  f"load={os.getloadavg()[0]:.1f}", flush=True)
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
