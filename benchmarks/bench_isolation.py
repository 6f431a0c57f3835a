"""Two clients under `make serve` (gunicorn, gunicorn.conf.py): while user A sends the worst request the
importer accepts (the preview of a CSV at the upload and row limits, sent over and over), how long does
user B wait for GET /healthz and for a page?

    python benchmarks/bench_isolation.py [seconds]

Starts gunicorn itself on a free port with a fresh SQLite database in a temporary folder (WORKERS and
THREADS from the environment, as `make serve`), registers two users, runs A's requests in one thread
and B's in another, and prints `bench isolation ...` with B's median and worst wait, and how many of A's
worst requests ran meanwhile. Target: B's worst wait under 1 s.
"""
from __future__ import annotations

import base64
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from common import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_parsers import make_csv  # noqa: E402

PASSWORD = "isolation bench password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def register(base: str, email: str):
    import requests
    session = requests.Session()
    page = session.get(f"{base}/register").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = session.post(f"{base}/register", data={
        "email": email, "password": PASSWORD, "confirm_password": PASSWORD, "password_confirm": PASSWORD,
        "display_name": email.split("@")[0], "currency": "USD", "csrf_token": token}, allow_redirects=False)
    if response.status_code not in (302, 303):
        page = session.get(f"{base}/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = session.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                                allow_redirects=False)
    assert response.status_code in (302, 303), (email, response.status_code, response.text[:300])
    return session


def main(seconds: float) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_import_callbacks import MAPPING, PREVIEW_OUTPUTS, ROLES, SETTINGS, P

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "LEDGERLENS_INSTANCE": folder, "HOST": "127.0.0.1", "PORT": str(port),
               "SECRET_KEY": "bench-isolation", "CONTROL_SOCKET": os.path.join(folder, "gunicorn.ctl")}
        env.pop("DATABASE_URL", None)
        py = sys.executable
        subprocess.run([py, "-m", "flask", "--app", "app", "migrate"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        server = subprocess.Popen([os.path.join(os.path.dirname(py), "gunicorn"), "-c", "gunicorn.conf.py",
                                   "app:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            import requests
            for _ in range(120):
                try:
                    if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.5)
            a, b = register(base, "a@example.com"), register(base, "b@example.com")
            data = make_csv()
            contents = "data:text/csv;base64," + base64.b64encode(data).decode()
            values = {**MAPPING, "date": 0, "amount": 1, "payee": 2, "description": 3, "date-format": "dmy"}
            inputs = ([{"id": f"{P}-file", "property": "data", "value": {"name": "s.csv", "contents": contents}},
                       {"id": f"{P}-account", "property": "value", "value": None}]
                      + [{"id": f"{P}-map-{k}", "property": "value", "value": values[k]} for k in (*ROLES, *SETTINGS)]
                      + [{"id": f"{P}-rules-version", "property": "data", "value": 0},
                         {"id": f"{P}-done", "property": "data", "value": 0}])
            key = ".." + "...".join(f"{i}.{p}" for i, p in PREVIEW_OUTPUTS) + ".."
            body = json.dumps({"output": key, "outputs": [{"id": i, "property": p} for i, p in PREVIEW_OUTPUTS],
                               "inputs": inputs, "state": [], "changedPropIds": [f"{P}-file.data"]})
            stop = time.monotonic() + seconds
            a_times, b_waits = [], []

            def worst():
                while time.monotonic() < stop:
                    start = time.perf_counter()
                    r = a.post(f"{base}/_dash-update-component", data=body,
                               headers={"Content-Type": "application/json"}, timeout=120)
                    assert r.status_code == 200, r.status_code
                    a_times.append(time.perf_counter() - start)

            def other():
                time.sleep(1.0)   # A's first request is under way
                while time.monotonic() < stop:
                    for path in ("/healthz", "/settings"):
                        start = time.perf_counter()
                        r = b.get(f"{base}{path}", timeout=60)
                        assert r.status_code == 200, (path, r.status_code)
                        b_waits.append(time.perf_counter() - start)
                    time.sleep(0.1)

            threads = [threading.Thread(target=worst), threading.Thread(target=other)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            with open("/proc/loadavg") as f:
                load = f.read().split()[0]
            workers = os.environ.get("WORKERS", "default")
            print(f"bench isolation.worst_import_vs_other_user workers={workers} threads={os.environ.get('THREADS', 1)} "
                  f"a_requests={len(a_times)} a_median_s={statistics.median(a_times):.2f} "
                  f"b_requests={len(b_waits)} b_median_ms={statistics.median(b_waits) * 1000:.0f} "
                  f"b_max_ms={max(b_waits) * 1000:.0f} load={load}")
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)
