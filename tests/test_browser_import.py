"""The import page in headless Chromium: upload a CSV, map its columns, import, and find the rows in the
preview grid and in the spending explorer."""
from __future__ import annotations

from pathlib import Path

from browser import choose, require_browser, severe_console_errors, start_and_login
from conftest import TEST_PASSWORD
from selenium.webdriver.common.by import By

pytestmark = require_browser()

DATA = Path(__file__).resolve().parent / "data"


def _statuses(dash_duo) -> list[str]:
    """The preview grid's Status column, read through the grid's API (narrow windows do not render every
    column)."""
    return dash_duo.driver.execute_script(
        "var out = []; dash_ag_grid.getApi('import-grid').forEachNodeAfterFilterAndSort("
        "function(node) { out.push(node.data.status); }); return out;")


def test_upload_map_import_and_see_the_rows(dash_duo, app, db_session, make_user, make_account):
    alice = make_user("alice@example.com")
    make_account(alice, "Girokonto")
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/import")
    dash_duo.wait_for_element("#import-upload", timeout=15)

    upload = dash_duo.driver.find_element(By.CSS_SELECTOR, "#import-upload input[type=file]")
    upload.send_keys(str(DATA / "bank_export_dayfirst.csv"))
    dash_duo.wait_for_contains_text("#import-file-info", "CSV, 5 columns, Windows-1252", timeout=15)
    # The guessed mapping: day-first dates, decimal comma, the German headers.
    dash_duo.wait_for_contains_text("#import-map-date", "1: Buchungstag", timeout=10)
    dash_duo.wait_for_contains_text("#import-map-amount", "4: Betrag", timeout=10)
    dash_duo.wait_for_contains_text("#import-map-decimal", "1.234,56", timeout=10)
    dash_duo.wait_for_contains_text("#import-summary", "6 to import", timeout=15)

    # Map the dates as month-first: 15.03.2024 and 20.03.2024 no longer read, and the import is blocked.
    choose(dash_duo, "import-map-date-format", "Month first (03/31/2024)")
    dash_duo.wait_for_contains_text("#import-summary", "2 errors", timeout=15)
    dash_duo.wait_for_contains_text("#import-grid", "15.03.2024;Arbeitgeber GmbH", timeout=10)
    assert _statuses(dash_duo) == ["New"] * 4 + ["Error"] * 2
    # Back to day-first, and the description column left out.
    choose(dash_duo, "import-map-date-format", "Day first (31/03/2024)")
    dash_duo.wait_for_contains_text("#import-summary", "6 to import", timeout=15)
    assert "Error" not in _statuses(dash_duo)
    dash_duo.wait_for_contains_text("#import-grid", "Bäckerei Müller", timeout=10)

    # Leave the cinema out: untick its row.
    box = dash_duo.find_element("#import-grid .ag-row[row-id='7'] [col-id='include'] input")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", box)
    box.click()
    dash_duo.wait_for_text_to_equal("#import-choices", "Your choices: 1 row left out.", timeout=10)

    button = dash_duo.find_element("#import-run")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button)
    button.click()
    dash_duo.wait_for_contains_text("#import-result", "Imported 5 transactions", timeout=30)
    # The preview follows: the same file again is duplicates, but for the row left out.
    dash_duo.wait_for_contains_text("#import-summary", "1 to import", timeout=15)
    assert _statuses(dash_duo) == ["Duplicate"] * 5 + ["New"]

    # The rows are in the spending explorer.
    link = dash_duo.find_element("#import-result-link")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", link)
    link.click()
    dash_duo.wait_for_contains_text("#spending-grid-summary", "4 rows", timeout=20)
    dash_duo.wait_for_contains_text("#spending-grid", "Blue Bottle Coffee", timeout=15)
    assert severe_console_errors(dash_duo) == []


def test_a_large_import_shows_its_progress_as_a_percentage(dash_duo, app, db_session, make_user, make_account,
                                                           tmp_path, monkeypatch):
    """The bar under Import counts rows written of rows to write while the import runs (slowed down here,
    chunk by chunk, so that the browser sees it move), then gives way to the result."""
    import time

    from dashboard.services import importer
    from dashboard.services import progress as progress_svc

    real = progress_svc.report

    def slow(user_id, job, done, total, stage="writing"):
        real(user_id, job, done, total, stage)
        time.sleep(0.6)

    monkeypatch.setattr(progress_svc, "report", slow)
    monkeypatch.setattr(importer, "PROGRESS_CHUNK", 400)
    alice = make_user("alice@example.com")
    make_account(alice, "Checking")
    statement = tmp_path / "big.csv"
    statement.write_text("Date,Payee,Amount\n" + "".join(
        f"2024-0{1 + i % 9}-{1 + i % 28:02d},Shop {i},-{1 + i % 50}.{i % 100:02d}\n" for i in range(2000)))
    start_and_login(dash_duo, app, "alice@example.com", TEST_PASSWORD, path="/import")
    dash_duo.wait_for_element("#import-upload", timeout=15)
    dash_duo.driver.find_element(By.CSS_SELECTOR, "#import-upload input[type=file]").send_keys(str(statement))
    dash_duo.wait_for_contains_text("#import-summary", "2,000 to import", timeout=30)
    button = dash_duo.find_element("#import-run")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button)
    button.click()
    seen = set()
    deadline = time.time() + 30
    while time.time() < deadline and "Imported 2,000 transactions" not in dash_duo.find_element("#import-result").text:
        text = dash_duo.driver.execute_script(
            "var t = document.getElementById('import-progress-text'); var a = document.getElementById('import-progress-area');"
            "return a && a.offsetParent !== null && t ? t.textContent : '';")
        if "%" in text:
            seen.add(text)
        time.sleep(0.15)
    assert "Imported 2,000 transactions" in dash_duo.find_element("#import-result").text
    middle = [t for t in seen if t.startswith("Imported ") and " of 2,000 rows (" in t and "(0 %)" not in t]
    assert middle, seen   # e.g. "Imported 800 of 2,000 rows (40 %)"
    # the bar is gone once the import is over
    assert not dash_duo.driver.execute_script("return document.getElementById('import-progress-area').offsetParent")
    assert not severe_console_errors(dash_duo)
