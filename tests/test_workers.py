"""Any worker answers any request: two gunicorn servers (the real config, ``make serve``'s) on the test
database, one worker each, each with its own in-process cache. A login made on one is good on the other;
an edit made through one is seen at once through the other, although the other had the old answer
cached (the data version moved, so its cached entry is never read again)."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import TEST_PASSWORD
from sqlalchemy import select

from dashboard.services import budgets as budgets_svc
from models import Budget, Category, db

requests = pytest.importorskip("requests")

ROOT = Path(__file__).resolve().parents[1]
PERIOD = {"type": "monthly", "start": "2025-03-01"}
LOAD_OUTPUTS = [("budgets-grid", "rowData"), ("budgets-chart", "figure"), ("budgets-stats", "children"),
                ("budgets-add-category", "options"), ("budgets-grid", "columnDefs")]
WRITE_OUTPUTS = [("budgets-message", "children"), ("budgets-refresh", "data"),
                 ("budgets-add-amount", "value"), ("budgets-add-category", "value")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(database_url: str, instance: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "BIND")}
    env.update(DATABASE_URL=database_url, SECRET_KEY="shared-by-every-worker", HOST="127.0.0.1",
               PORT=str(port), WORKERS="1", LEDGERLENS_INSTANCE=str(instance), LOG_LEVEL="warning")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


def _wait(process: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture()
def two_workers(app_database_url, tmp_path):
    servers = [_start(app_database_url, tmp_path / "instance") for _ in range(2)]
    try:
        for process, base in servers:
            _wait(process, base)
        yield [base for _, base in servers]
    finally:
        for process, _ in servers:
            _stop(process)


def _callback(http, base, outputs, inputs, state=(), changed=None):
    payload = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": changed or [f"{inputs[0][0]}.{inputs[0][1]}"],
    }
    response = http.post(f"{base}/_dash-update-component", json=payload, headers={"Origin": base}, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return response.json()["response"]


def _rows(http, base):
    body = _callback(http, base, LOAD_OUTPUTS, [("budgets-period", "data", PERIOD), ("budgets-refresh", "data", 0),
                                                ("budgets-show-in", "value", None)])
    return body["budgets-grid"]["rowData"]


def test_a_session_and_fresh_answers_on_any_worker(db_session, make_user, two_workers):
    first, second = two_workers
    alice = make_user("alice@example.com")
    groceries = db_session.scalar(select(Category.id).where(Category.name == "Groceries",
                                                             Category.user_id.is_(None)))
    budget = budgets_svc.create_budget(db_session, alice.id, category_id=groceries, amount="500.00",
                                       start_date=date(2025, 3, 1))
    db_session.commit()

    http = requests.Session()
    form = http.get(f"{first}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    login = http.post(f"{first}/login", data={"email": alice.email, "password": TEST_PASSWORD, "csrf_token": token},
                      allow_redirects=False, timeout=30)
    assert login.status_code == 302

    # The session cookie made by the first server is good on the second one.
    assert _rows(http, first)[0]["budgeted"] == "500.00"
    assert _rows(http, second)[0]["budgeted"] == "500.00"
    assert _rows(http, first)[0]["budgeted"] == "500.00"  # cached on the first server now

    # An edit through the second server...
    row = _rows(http, second)[0]
    event = {"rowIndex": 0, "rowId": row["id"], "colId": "budgeted", "value": "777.77", "oldValue": "500.00",
             "data": {**row, "budgeted": "777.77"}}
    inputs = [("budgets-grid", "cellValueChanged", [event]), ("budgets-add", "n_clicks", None),
              ("budgets-add-amount", "n_submit", None), ("budgets-delete-confirm", "n_clicks", None),
              ("budgets-copy", "n_clicks", None), ("budgets-fill", "n_clicks", None)]
    state = [("budgets-period", "data", PERIOD), ("budgets-refresh", "data", 1),
             ("budgets-add-category", "value", None), ("budgets-add-amount", "value", None),
             ("budgets-pending-delete", "data", None)]
    body = _callback(http, second, WRITE_OUTPUTS, inputs, state, changed=["budgets-grid.cellValueChanged"])
    assert "Groceries is now $777.77." in str(body["budgets-message"]["children"])

    # ...is what the first server answers next, its cached answer notwithstanding.
    fresh = _rows(http, first)[0]
    assert (fresh["budgeted"], fresh["version"]) == ("777.77", 2)
    db_session.expire_all()
    with db.engine.connect() as conn:
        assert conn.scalar(select(Budget.version).where(Budget.id == budget.id)) == 2
