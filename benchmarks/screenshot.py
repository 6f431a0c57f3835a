"""Screenshots of the running app in headless Chromium (for the README and for looking at UI work).

    python benchmarks/screenshot.py http://127.0.0.1:8050 /spending docs/screenshots/spending.png [width] [height]

Logs in as the demo user first.
"""
from __future__ import annotations

import sys
import time
from urllib.parse import quote

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def main() -> None:
    base, path, out = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    width = int(sys.argv[4]) if len(sys.argv) > 4 else 1366
    height = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    email = "demo@ledgerlens.local"
    password = "demo-password"
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(f"{base}/login?next={quote(path, safe='/')}")   # a path with its own query string
        driver.find_element(By.ID, "email").send_keys(email)
        driver.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
        WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#react-entry-point")))
        time.sleep(float(sys.argv[6]) if len(sys.argv) > 6 else 4)
        total = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(width, max(height, total))
        time.sleep(1)
        driver.save_screenshot(out)
        for entry in driver.get_log("browser"):
            if entry.get("level") == "SEVERE":
                print("console:", entry.get("message"))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
