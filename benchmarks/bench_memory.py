"""Peak memory of the serving process: the app under gunicorn (gunicorn.conf.py, as `make serve`) on the
1M benchmark data, every case of bench_spending.py driven through it over HTTP, then the worker's peak
resident set read from /proc/<pid>/status (VmHWM).

    python benchmarks/bench_memory.py [--rows 1000000] [--dataset uniform|varied] [--repeat 5] [--cache on|off]

One worker (WORKERS=1), so that one process answers every request and its peak is the peak of any
worker that ever answers them. The data is common.bench_app's (read only here). ``--cache on`` keeps
the app's default read cache (in-process SimpleCache without REDIS_URL: it holds answers in the worker,
which is what `make serve` does); ``off`` measures the work alone. Only 127.0.0.1 is contacted and the
server is stopped here, also on an error. Ends with one line:

    bench memory.<dataset> db=<sqlite|postgresql> rows=<n> requests=<n> worker_peak_mb=<n> worker_rss_mb=<n> master_peak_mb=<n> cache=<on|off>
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import urllib.parse
import urllib.request
from datetime import date

from bench_load import Gunicorn
from bench_spending import CASES, OUTPUTS, case_states, update_payload
from common import ROOT, bench_app, db_kind


def _status_mb(pid: int, field: str) -> float:
    """VmHWM (peak resident set) or VmRSS of a process, in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(p) for p in children.read().split()]
    except OSError:
        return []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dataset", choices=("uniform", "varied"), default="uniform")
    parser.add_argument("--label", default="bench")
    parser.add_argument("--repeat", type=int, default=5, help="times every case is asked")
    parser.add_argument("--cache", choices=("on", "off"), default="on")
    args = parser.parse_args()

    app, user_id = bench_app(args.rows, args.dataset, label=args.label)
    from models import db
    with app.app_context():
        database_url = app.config["SQLALCHEMY_DATABASE_URI"]
        states = case_states(app, user_id, args.dataset, date.today())
        db.session.remove()
        db.engine.dispose()

    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    server = Gunicorn(database_url, 1, "on" if args.cache == "on" else "off", None,
                      out / f"memory-{db_kind()}-{args.dataset}.log")
    try:
        server.wait()
        workers = _children(server.process.pid)
        if len(workers) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {workers}")
        worker = workers[0]
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(server.base + "/login", timeout=60).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        from dashboard.demo_account import DEMO_PASSWORD
        opener.open(server.base + "/login", data=urllib.parse.urlencode(
            {"email": "bench@ledgerlens.local", "password": DEMO_PASSWORD, "csrf_token": token}).encode(), timeout=60)
        opener.open(server.base + "/spending", timeout=60).read()
        csrf = next((c.value for c in jar if c.name == "csrf_token"), None)
        started_rss = _status_mb(worker, "VmRSS")
        today = date.today()
        requests = 0

        def post(output_ids, inputs, state, changed=()):
            outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in output_ids]
            payload = {"output": ".." + "...".join(output_ids) + ".." if len(output_ids) > 1 else output_ids[0],
                       "outputs": outputs if len(output_ids) > 1 else outputs[0],
                       "inputs": inputs, "state": state, "changedPropIds": list(changed)}
            headers = {"Content-Type": "application/json", **({"X-CSRFToken": csrf} if csrf else {})}
            request = urllib.request.Request(server.base + "/_dash-update-component", data=json.dumps(payload).encode(),
                                             headers=headers)
            with opener.open(request, timeout=120) as response:
                if response.status != 200:
                    raise RuntimeError(f"callback answered {response.status}")
                response.read()

        for _ in range(args.repeat):
            for name in CASES:
                state = states[name]
                post(OUTPUTS, *update_payload(state, today), changed=["spending-preset.value"])
                requests += 1
        peak, rss = _status_mb(worker, "VmHWM"), _status_mb(worker, "VmRSS")
        master = _status_mb(server.process.pid, "VmHWM")
    finally:
        server.stop()
    print(f"bench memory.{args.dataset} db={db_kind()} rows={args.rows} requests={requests} "
          f"worker_peak_mb={peak:.0f} worker_rss_mb={rss:.0f} worker_start_rss_mb={started_rss:.0f} "
          f"master_peak_mb={master:.0f} cache={args.cache} load={os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
