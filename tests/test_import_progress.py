"""Import progress as a percentage (issue 15): the import writes "rows done of rows total" into the shared
progress store (dashboard/services/progress.py) while it runs; the page polls it through another request,
which any worker may answer. Here: the count moves chunk by chunk and is cleared at the end; another OS
process (another worker) reads what this one wrote; Redis serves workers on several hosts; the poll shows
the person's own import only."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import login
from dash_client import call_callback
from test_import_callbacks import as_other_user, run, upload, world  # noqa: F401  (fixture)

from dashboard.services import importer
from dashboard.services import progress as progress_svc

ROOT = Path(__file__).resolve().parents[1]
P = "import"


def _csv(rows: int) -> bytes:
    lines = ["Date,Payee,Amount"] + [f"2024-0{1 + i % 9}-{1 + i % 28:02d},Shop {i},-{1 + i % 50}.{i % 100:02d}"
                                     for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _poll(client, job):
    status, body = call_callback(client, [(f"{P}-progress-area", "children")], [(f"{P}-poll", "n_intervals", 3)],
                                 state=[(f"{P}-preview-id", "data", job)])
    assert status == 200, body
    return json.dumps(body[f"{P}-progress-area"]["children"])


def test_percent_is_whole_rows_done_of_total():
    Progress = progress_svc.Progress
    assert Progress(0, 2500, "writing").percent == 0
    assert Progress(1200, 2500, "writing").percent == 48
    assert Progress(2499, 2500, "writing").percent == 99     # 100 only when every row is written
    assert Progress(2500, 2500, "finishing").percent == 100
    assert Progress(0, 0, "checking").percent == 0


def test_import_reports_rows_done_of_total_chunk_by_chunk(app, client, db_session, world, monkeypatch):
    seen = []
    real = progress_svc.report

    def spy(user_id, job, done, total, stage="writing"):
        real(user_id, job, done, total, stage)
        seen.append((user_id, job, done, total, stage, progress_svc.read(user_id, job)))

    monkeypatch.setattr(progress_svc, "report", spy)
    monkeypatch.setattr(importer, "PROGRESS_CHUNK", 500)   # a 2,300-row file moves the bar five times
    login(client, "alice@example.com")
    job = uuid.uuid4().hex
    status, body = run(client, upload(_csv(2300)), world["account"].id, preview_id=job)
    assert status == 200 and "Imported 2,300 transactions" in json.dumps(body[f"{P}-result"]["children"])
    alice = world["alice"].id
    assert all(user == alice and j == job for user, j, *_ in seen)
    steps = [(done, total, stage) for _, _, done, total, stage, _ in seen]
    assert steps == [(0, 0, "checking"), (0, 2300, "writing"), (500, 2300, "writing"), (1000, 2300, "writing"),
                     (1500, 2300, "writing"), (2000, 2300, "writing"), (2300, 2300, "finishing")]
    # each step was readable from the store the moment it was written (what a poll on any worker sees) ...
    assert [s[-1].percent for s in seen] == [0, 0, 21, 43, 65, 86, 100]
    # ... and the entry is gone once the import is over
    assert progress_svc.read(alice, job) is None


def test_restore_of_an_export_reports_progress_too(app, client, db_session, world, monkeypatch):
    import io

    from dashboard.services import archive as ex
    login(client, "alice@example.com")
    run(client, upload(_csv(40)), world["account"].id)
    buffer = io.BytesIO()
    ex.write_archive(db_session, world["alice"].id, buffer)
    seen = []
    monkeypatch.setattr(progress_svc, "report", lambda u, j, done, total, stage="writing": seen.append((done, total, stage)))
    client = as_other_user(app, "bob@example.com")
    status, body = run(client, upload(buffer.getvalue(), "export.zip", "application/zip"), None,
                       preview_id=uuid.uuid4().hex)
    assert "Restored" in json.dumps(body[f"{P}-result"]["children"])
    assert seen[0] == (0, 0, "checking") and seen[-1] == (40, 40, "finishing")


def test_poll_shows_the_percentage_of_ones_own_import_only(app, client, db_session, world):
    job = uuid.uuid4().hex
    with app.app_context():
        progress_svc.report(world["alice"].id, job, 1200, 2500)
    login(client, "alice@example.com")
    shown = _poll(client, job)
    assert "Imported 1,200 of 2,500 rows (48 %)" in shown and '"aria-valuenow": "48"' in shown
    with app.app_context():
        progress_svc.report(world["alice"].id, job, 2500, 2500, progress_svc.FINISHING)
    assert "All 2,500 rows written" in _poll(client, job)
    # bob asks with alice's job id (or a forged one): nothing of hers
    bob = as_other_user(app, "bob@example.com")
    for forged in (job, "../../etc/passwd", {"a": 1}, 12):
        shown = _poll(bob, forged)
        assert "Checking the file" in shown and "2,500" not in shown
    with app.app_context():
        progress_svc.clear(world["alice"].id, job)


def test_another_worker_process_reads_the_progress(app):
    """gunicorn's workers are separate processes: what one writes, another reads (files in the instance
    folder when there is no Redis)."""
    job = uuid.uuid4().hex
    with app.app_context():
        progress_svc.report(7, job, 3000, 12000)
    script = (
        "import sys, flask\n"
        "from dashboard.services import progress\n"
        "worker = flask.Flask('worker', instance_path=sys.argv[1])\n"
        "worker.config['LEDGERLENS_PROGRESS_STORE'] = progress.store_config(sys.argv[1], redis_url='')\n"
        "progress.init_progress(worker)\n"
        "with worker.app_context():\n"
        "    p = progress.read(7, sys.argv[2]); print(p.done, p.total, p.percent)\n"
        "    progress.report(7, sys.argv[2], 6000, 12000)\n")
    out = subprocess.run([sys.executable, "-c", script, app.instance_path, job], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["3000", "12000", "25"]
    with app.app_context():
        assert progress_svc.read(7, job).percent == 50   # and this worker reads what the other wrote
        progress_svc.clear(7, job)


@pytest.fixture()
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if not server:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_redis_serves_workers_on_several_hosts(redis_url, tmp_path):
    """With REDIS_URL set, two workers with different instance folders (two hosts) share the progress."""
    import flask
    hosts = []
    for name in ("host-a", "host-b"):
        worker = flask.Flask(name, instance_path=str(tmp_path / name))
        worker.config["LEDGERLENS_PROGRESS_STORE"] = progress_svc.store_config(worker.instance_path, redis_url=redis_url)
        progress_svc.init_progress(worker)
        hosts.append(worker)
    job = uuid.uuid4().hex
    with hosts[0].app_context():
        progress_svc.report(3, job, 45, 90)
    with hosts[1].app_context():
        assert progress_svc.read(3, job) == progress_svc.Progress(45, 90, "writing")
        assert progress_svc.read(4, job) is None   # another person's key
        progress_svc.clear(3, job)
    with hosts[0].app_context():
        assert progress_svc.read(3, job) is None


def test_a_failing_store_never_stops_the_import(app, client, db_session, world, monkeypatch):
    def broken(*_args, **_kwargs):
        raise ConnectionError("store down")
    monkeypatch.setattr(progress_svc.store, "set", broken)
    monkeypatch.setattr(progress_svc.store, "get", broken)
    monkeypatch.setattr(progress_svc.store, "delete", broken)
    login(client, "alice@example.com")
    status, body = run(client, upload(_csv(400)), world["account"].id, preview_id=uuid.uuid4().hex)
    assert "Imported 400 transactions" in json.dumps(body[f"{P}-result"]["children"])
