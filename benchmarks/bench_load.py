"""Load test: many people at once against the app under gunicorn, then a check that no write was lost.

    python benchmarks/bench_load.py [--users 50] [--seconds 120] [--workers 4] [--cache auto]

The database is the benchmark database of common.bench_app (1,000,000 transactions of one user; a
SQLite file, or schema bench_<rows> of DATABASE_URL's PostgreSQL), plus ``--users`` people of their own
(load00@ledgerlens.local ...: the demo's 24 months each, about 1,900 transactions, made once and kept).
gunicorn serves it on a free 127.0.0.1 port with ``--workers`` workers (gunicorn.conf.py, as `make
serve`); locust (benchmarks/locustfile.py, from .venv-bench: see requirements-bench.txt) runs headless
for ``--seconds`` with every person logged in as their own user. Only 127.0.0.1 is ever contacted, and
everything started here is stopped here, also on Ctrl-C or a timeout.

Afterwards every budget edit the load made is checked in the database: each budget must hold the last
amount the app said it saved, and its version must have moved once per saved edit. A write refused as a
version conflict is not lost (the person was told); those are counted apart. Ends with one line:

    bench load.<sqlite|postgresql> users=<n> seconds=<n> rps=<n> p50_ms=<n> p95_ms=<n> errors=<n> lost_writes=<n>

(p50/p95: callback latency, POST /_dash-update-component, as the client saw it.)
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from common import DATA, ROOT, bench_app, db_kind

RESULTS = ROOT / "benchmarks" / "results"
LOAD_EMAIL = "load{:02d}@ledgerlens.local"
LOCUST = ROOT / ".venv-bench" / "bin" / "locust"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None  # this benchmark talks to this machine only
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=0.5):
            return url
    except OSError:
        return None


# -- the people --------------------------------------------------------------------------------------

def prepare_users(app, count: int) -> list[dict]:
    """``count`` users with the demo's data each, made once and reused; reloaded when they lack this
    month's budgets (the demo budgets the six months up to the day it was loaded)."""
    from sqlalchemy import func, select

    from dashboard.demo import load_demo
    from dashboard.services.periods import month_start
    from models import Account, Budget, User, db

    this_month = month_start(date.today())
    people = []
    with app.app_context():
        made = 0
        started = time.perf_counter()
        for index in range(count):
            email = LOAD_EMAIL.format(index)
            user_id = db.session.scalar(select(User.id).where(User.email == email))
            budgets = 0 if user_id is None else db.session.scalar(
                select(func.count()).select_from(Budget)
                .where(Budget.user_id == user_id, Budget.period_type == "monthly", Budget.start_date == this_month))
            if not budgets:
                stats = load_demo(db.session, email=email, seed=1000 + index, replace=True)
                db.session.commit()
                user_id = stats["user_id"]
                made += 1
            accounts = list(db.session.scalars(select(Account.id).where(Account.user_id == user_id)
                                               .order_by(Account.id)))
            people.append({"email": email, "id": user_id, "accounts": accounts})
        db.session.remove()
    if made:
        print(f"made {made} load users in {time.perf_counter() - started:.1f} s", flush=True)
    return people


def budget_snapshot(app, user_ids: list[int]) -> dict[int, tuple[int, int]]:
    """budget id -> (amount in cents, version), read straight from the database."""
    from sqlalchemy import select

    from dashboard.services.sql import cents
    from models import Budget, db

    with app.app_context():
        rows = db.session.execute(select(Budget.id, cents(Budget.amount), Budget.version)
                                  .where(Budget.user_id.in_(user_ids))).all()
        db.session.remove()
    return {int(i): (int(a), int(v)) for i, a, v in rows}


def check_writes(edits: list[dict], before: dict, after: dict) -> dict:
    """Compare what the app said it saved with what the database holds."""
    by_budget: dict[int, list[dict]] = defaultdict(list)
    for edit in edits:
        by_budget[edit["budget_id"]].append(edit)
    lost = phantom = uncertain = 0
    for budget_id, items in by_budget.items():
        if any(e["status"] == "failed" for e in items):
            uncertain += 1  # a request that failed may or may not have been applied
            continue
        # Saved edits form a chain of versions (each was written over the version it had read), so
        # the last one is the one that read the highest version, whoever made it and whenever its
        # answer arrived.
        saved = sorted((e for e in items if e["status"] == "saved"), key=lambda e: e["version_seen"])
        amount_before, version_before = before[budget_id]
        amount_after, version_after = after.get(budget_id, (None, None))
        moved = (version_after or 0) - version_before
        if len(saved) > moved:
            lost += len(saved) - moved
        elif saved and amount_after != saved[-1]["cents"]:
            lost += 1
        elif not saved and amount_after != amount_before:
            phantom += 1
        if moved > len(saved):
            phantom += moved - len(saved)
    return {"lost_writes": lost, "unexpected_writes": phantom, "uncertain_budgets": uncertain,
            "budgets_edited": len(by_budget)}


# -- the servers -------------------------------------------------------------------------------------

class Gunicorn:
    def __init__(self, database_url: str, workers: int, cache: str, redis_url: str | None, log_path: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "BIND", "LEDGERLENS_CACHE")}
        env.update(DATABASE_URL=database_url, SECRET_KEY=secrets.token_hex(32), HOST="127.0.0.1",
                   PORT=str(self.port), WORKERS=str(workers), LEDGERLENS_INSTANCE=str(DATA / "instance"),
                   LEDGERLENS_DEMO_HINT="0", LOG_LEVEL="warning")
        if redis_url:
            env["REDIS_URL"] = redis_url
        if cache == "off":
            env["LEDGERLENS_CACHE"] = "off"
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {seconds:.0f} s")

    def memory_mb(self) -> float:
        try:
            import psutil
        except ImportError:
            return 0.0
        try:
            root = psutil.Process(self.process.pid)
            return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20
        except psutil.Error:
            return 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def _cpu_seconds() -> tuple[float, dict[int, float]]:
    """(busy CPU seconds of the whole machine, CPU seconds of each process of the system under test:
    this script, gunicorn, locust, PostgreSQL and Redis). The difference between the two deltas over a
    run is what other work on the machine took: a run that others disturbed shows it."""
    try:
        import psutil
    except ImportError:
        return 0.0, {}
    times = psutil.cpu_times()
    busy = sum(getattr(times, f, 0.0) for f in ("user", "system", "nice", "irq", "softirq", "steal"))
    ours = {}
    for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        cmd = " ".join(process.info["cmdline"] or [])
        name = process.info["name"] or ""
        if (process.pid == os.getpid() or "gunicorn" in cmd or "locust" in cmd or name.startswith("postgres")
                or name.startswith("redis-server")) and process.info["cpu_times"] is not None:
            ours[process.pid] = process.info["cpu_times"].user + process.info["cpu_times"].system
    return busy, ours


def _clear_cache(redis_url: str) -> None:
    """Start from a cold cache: remove this app's keys (only those) from the benchmark's Redis."""
    import redis

    client = redis.from_url(redis_url)
    keys = list(client.scan_iter(match="ledgerlens:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start:start + 1000])


def run_locust(base: str, users: int, seconds: int, spawn_rate: int, env: dict, out: Path) -> int:
    if not LOCUST.exists():
        raise SystemExit(f"{LOCUST} is missing: `make bench-load` installs requirements-bench.txt into .venv-bench")
    command = [str(LOCUST), "-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless",
               "-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s", "--host", base,
               "--stop-timeout", "10", "--only-summary", "--loglevel", "WARNING",
               "--csv", str(out / "locust"), "--exit-code-on-error", "0"]
    with open(out / "locust.log", "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        return process.wait(timeout=seconds + 120)  # bounded, whatever happens
    except BaseException:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        raise


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rows", type=int, default=1_000_000, help="the benchmark user's transactions")
    parser.add_argument("--people-per-user", type=int, default=1,
                        help="2: every user is logged in twice at once (two tabs), so edits can conflict")
    parser.add_argument("--think", default="1,3", help="seconds between two steps of a person: min,max")
    parser.add_argument("--cache", choices=("auto", "simple", "redis", "off"), default="auto",
                        help="auto: Redis on PostgreSQL when one answers on 127.0.0.1, else in-process")
    args = parser.parse_args()
    if not 0 < args.seconds <= 600 or not 0 < args.users <= 500:
        raise SystemExit("at most 600 seconds and 500 users")

    kind = db_kind()
    app, _bench_user = bench_app(args.rows)
    people = prepare_users(app, args.users)
    from sqlalchemy import select

    from dashboard.demo_account import DEMO_PASSWORD
    from models import Category, db
    with app.app_context():
        categories = [str(c) for c in db.session.scalars(select(Category.id).where(Category.user_id.is_(None)))]
        database_url = app.config["SQLALCHEMY_DATABASE_URI"]
        db.session.remove()
        db.engine.dispose()

    redis_url = None
    if args.cache == "redis" or (args.cache == "auto" and kind == "postgresql"):
        redis_url = _redis_url()
        if redis_url is None and args.cache == "redis":
            raise SystemExit("no Redis answers on 127.0.0.1 (REDIS_URL)")
    cache = "redis" if redis_url else ("off" if args.cache == "off" else "simple")
    if redis_url:
        _clear_cache(redis_url)

    suffix = "" if args.think == "1,3" else "-think" + args.think.replace(",", "-")
    suffix += "" if args.people_per_user == 1 else f"-x{args.people_per_user}"
    out = RESULTS / f"load-{kind}-{cache}{suffix}"
    out.mkdir(parents=True, exist_ok=True)
    users_file, edit_log, timings_file = out / "users.json", out / "edits.jsonl", out / "timings.json"
    logins = people[:max(1, args.users // args.people_per_user)]  # locust hands them out in turn
    users_file.write_text(json.dumps([{"email": p["email"], "accounts": p["accounts"]} for p in logins]))
    edit_log.write_text("")
    timings_file.unlink(missing_ok=True)
    before = budget_snapshot(app, [p["id"] for p in people])

    server = Gunicorn(database_url, args.workers, cache, redis_url, out / "gunicorn.log")
    memory: list[float] = []
    sampling = threading.Event()
    try:
        server.wait()

        def sample():
            while not sampling.wait(5):
                memory.append(server.memory_mb())
        threading.Thread(target=sample, daemon=True).start()
        cpu_before = _cpu_seconds()
        print(f"gunicorn: {args.workers} workers on {server.base} ({kind}, cache {cache}); "
              f"locust: {args.users} users for {args.seconds} s", flush=True)
        run_locust(server.base, args.users, args.seconds, args.spawn_rate, {
            "LOAD_USERS": str(users_file), "LOAD_PASSWORD": DEMO_PASSWORD,
            "LOAD_CATEGORIES": ",".join(categories), "LOAD_EDIT_LOG": str(edit_log),
            "LOAD_TIMINGS": str(timings_file), "LOAD_THINK": args.think}, out)
        cpu_after = _cpu_seconds()
    finally:
        sampling.set()
        server.stop()
    busy = cpu_after[0] - cpu_before[0]
    ours = sum(t - cpu_before[1].get(pid, 0.0) for pid, t in cpu_after[1].items())
    other_cpu = max(0.0, busy - ours)

    after = budget_snapshot(app, [p["id"] for p in people])
    edits = [json.loads(line) for line in edit_log.read_text().splitlines() if line.strip()]
    timings = json.loads(timings_file.read_text())
    requests = timings["requests"]
    elapsed = (timings["stop"] or time.time()) - (timings["start"] or 0)
    callbacks = [t for name, t, ok in requests if name.startswith("cb ")]
    failures = Counter(name for name, _t, ok in requests if not ok)
    statuses = Counter(e["status"] for e in edits)
    writes = check_writes(edits, before, after)
    errors = sum(failures.values()) + statuses.get("refused", 0)

    print(f"{'request':<28}{'count':>8}{'p50_ms':>9}{'p95_ms':>9}{'failed':>8}")
    by_name: dict[str, list[float]] = defaultdict(list)
    for name, t, _ok in requests:
        by_name[name].append(t)
    for name in sorted(by_name):
        values = by_name[name]
        print(f"{name:<28}{len(values):>8}{_percentile(values, .5):>9.0f}{_percentile(values, .95):>9.0f}"
              f"{failures.get(name, 0):>8}")
    summary = {
        "db": kind, "cache": cache, "workers": args.workers, "users": args.users, "seconds": args.seconds,
        "think_s": args.think, "people_per_user": args.people_per_user, "load_average": [round(x, 2) for x in os.getloadavg()],
        "requests": len(requests), "callbacks": len(callbacks), "elapsed_s": round(elapsed, 1),
        "rps": round(len(requests) / elapsed, 1) if elapsed > 0 else 0,
        "callback_rps": round(len(callbacks) / elapsed, 1) if elapsed > 0 else 0,
        "p50_ms": round(_percentile(callbacks, .5)), "p95_ms": round(_percentile(callbacks, .95)),
        "p99_ms": round(_percentile(callbacks, .99)), "errors": errors, "failures": dict(failures),
        "edits": dict(statuses), **writes,
        "server_rss_mb_max": round(max(memory), 0) if memory else None,
        "cpu_busy_s": round(busy, 1), "cpu_other_work_s": round(other_cpu, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"edits: {dict(statuses)}; budgets edited: {writes['budgets_edited']}; unexpected writes: "
          f"{writes['unexpected_writes']}; uncertain: {writes['uncertain_budgets']}; "
          f"callbacks/s: {summary['callback_rps']}; p99_ms: {summary['p99_ms']}; "
          f"server RSS max: {summary['server_rss_mb_max']} MB; CPU busy {busy:.0f} s of "
          f"{(os.cpu_count() or 1) * elapsed:.0f} available, other work on the machine {other_cpu:.0f} s")
    print(f"bench load.{kind} users={args.users} seconds={args.seconds} rps={summary['rps']:.0f} "
          f"p50_ms={summary['p50_ms']} p95_ms={summary['p95_ms']} errors={errors} "
          f"lost_writes={writes['lost_writes']}", flush=True)


if __name__ == "__main__":
    main()
