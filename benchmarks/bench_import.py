"""How long a large CSV statement takes to import (services.importer), and the same file again.

    python benchmarks/bench_import.py [rows]            # SQLite (a fresh file in a temp folder)
    DATABASE_URL=postgresql://... python benchmarks/bench_import.py [rows]   # schema bench_import

A fresh database with the demo user (24 months of history, so rules and "as before" suggestions have
something to work with) gets a new account, then a CSV of ``rows`` lines (default 100,000) is imported
into it: first through the service, timing parse / plan / write separately, then the same file through
the page's callbacks (base64 upload, preview, import) into a second account, as a browser would send it.
"""
from __future__ import annotations

import base64
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta

from common import ROOT, db_kind  # noqa: F401  (puts the project on sys.path)


def make_csv(rows: int, seed: int = 11) -> bytes:
    rng = random.Random(seed)
    payees = [f"{name} #{n}" for name in ("STARBUCKS", "SHELL OIL", "TRADER JOE'S", "AMAZON MKTPL", "UBER TRIP",
                                           "NETFLIX.COM", "CVS PHARMACY", "CHIPOTLE", "TARGET", "HOME DEPOT")
              for n in range(40)] + ["Northwind Payroll", "Harbor Savings Bank", "Maple Court Apartments"]
    start = date(2023, 1, 1)
    lines = ["Transaction Date,Description,Memo,Amount"]
    for _ in range(rows):
        payee = rng.choice(payees)
        cents = rng.randint(1_000_00, 6_000_00) if payee == "Northwind Payroll" else -rng.randint(1_50, 250_00)
        sign = "-" if cents < 0 else ""
        amount = f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
        day = start + timedelta(days=rng.randrange(730))
        lines.append(f'{day:%m/%d/%Y},{payee},POS {rng.randrange(10**6):06d},"{amount}"')
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    from sqlalchemy import create_engine, func, select, text

    from app import create_app, migrate_to_head
    from dashboard.demo import load_demo
    from dashboard.services import importer as imp
    from models import Account, Transaction, database_url, db

    if db_kind() == "postgresql":
        base = database_url()
        engine = create_engine(base)
        with engine.begin() as conn:
            conn.execute(text('DROP SCHEMA IF EXISTS "bench_import" CASCADE'))
            conn.execute(text('CREATE SCHEMA "bench_import"'))
        engine.dispose()
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3Dbench_import"
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='ll-bench-import-')}/bench.sqlite3"
    os.environ.setdefault("LEDGERLENS_INSTANCE", tempfile.mkdtemp(prefix="ll-bench-instance-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    migrate_to_head(app)
    data = make_csv(rows)
    print(f"{db_kind()}: a {rows:,}-row CSV of {len(data) / 1e6:.1f} MB")

    with app.app_context():
        user_id = load_demo(db.session, email="bench-import@ledgerlens.local")["user_id"]
        db.session.commit()
        accounts = [Account(user_id=user_id, name=name, type="checking") for name in ("Imported", "Via page")]
        db.session.add_all(accounts)
        db.session.commit()
        account_ids = [a.id for a in accounts]
        mapping = imp.CsvMapping(date=0, payee=1, description=2, amount=3, date_format="mdy")

        t0 = time.perf_counter()
        guess = imp.inspect_csv(data)
        assert guess.mapping.date_format == "mdy" and guess.mapping.amount == 3
        parsed = imp.parse_csv(data, mapping)
        t1 = time.perf_counter()
        plan = imp.plan_import(db.session, user_id, account_ids[0], parsed)
        t2 = time.perf_counter()
        db.session.rollback()
        progress = []
        result = imp.run_import(db.session, user_id, account_ids[0], parsed,
                                progress=lambda done, total: progress.append((done, time.perf_counter())))
        db.session.commit()
        t3 = time.perf_counter()
        print(f"  parse (inspect + read {len(parsed.rows):,} rows)   {t1 - t0:6.2f} s")
        print(f"  plan (duplicates, rules, suggestions)   {t2 - t1:6.2f} s   "
              f"({sum(1 for r in plan.rows if r.category_id):,} rows categorised)")
        print(f"  import (plan + write + budgets + roll-up + commit)   {t3 - t2:6.2f} s   added {result.added:,}")
        print(f"  total, service   {t3 - t0:6.2f} s")
        again_start = time.perf_counter()
        again = imp.run_import(db.session, user_id, account_ids[0], imp.parse_csv(data, mapping))
        db.session.commit()
        print(f"  the same file again: {again.added} added, {again.skipped:,} skipped in "
              f"{time.perf_counter() - again_start:.2f} s")
        count = db.session.scalar(select(func.count()).select_from(Transaction)
                                  .where(Transaction.account_id == account_ids[0]))
        assert count == rows, count

    # The page: the browser sends the file base64-encoded with every callback.
    client = app.test_client()
    with app.app_context():
        from models import User
        user = db.session.get(User, user_id)
        email = user.email
    client.post("/login", data={"email": email, "password": "demo-password"})
    contents = "data:text/csv;base64," + base64.b64encode(data).decode()
    file_data = {"name": "big.csv", "contents": contents}
    roles = imp.ROLES   # every column role the page maps (the currency column since issue 17)
    values = {**dict.fromkeys(roles), "date": 0, "amount": 3, "payee": 1, "description": 2, "date-format": "mdy",
              "decimal": ".", "delimiter": ",", "header": True, "skip": 0, "invert": False, "mode": "signed"}
    settings = ("date-format", "decimal", "delimiter", "header", "skip", "invert", "mode")
    mapping_values = [{"id": f"import-map-{k}", "property": "value", "value": values[k]} for k in (*roles, *settings)]

    def post(outputs, inputs, state=()):
        payload = {"output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
                   "outputs": [{"id": i, "property": p} for i, p in outputs],
                   "inputs": list(inputs), "state": list(state), "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
        started = time.perf_counter()
        response = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
        assert response.status_code == 200, response.status_code
        return time.perf_counter() - started, json.loads(response.data)["response"]

    preview_outputs = [("import-grid", "rowData"), ("import-grid", "style"), ("import-summary", "children"),
                       ("import-warnings", "children"), ("import-error", "children"), ("import-run", "disabled"),
                       ("import-preview-id", "data"), ("import-map-debit-col", "style"),
                       ("import-map-credit-col", "style"), ("import-map-amount-col", "style")]
    seconds, body = post(preview_outputs,
                         [{"id": "import-file", "property": "data", "value": file_data},
                          {"id": "import-account", "property": "value", "value": account_ids[1]}, *mapping_values,
                          {"id": "import-rules-version", "property": "data", "value": 0},
                          {"id": "import-done", "property": "data", "value": 0}])
    print(f"  page preview callback   {seconds:6.2f} s   ({len(body['import-grid']['rowData'])} rows sent to the grid)")
    seconds, body = post([("import-result", "children"), ("import-done", "data")],
                         [{"id": "import-run", "property": "n_clicks", "value": 1}],
                         [{"id": "import-file", "property": "data", "value": file_data},
                          {"id": "import-account", "property": "value", "value": account_ids[1]}, *mapping_values,
                          {"id": "import-decisions", "property": "data", "value": None},
                          {"id": "import-preview-id", "property": "data", "value": None},
                          {"id": "import-done", "property": "data", "value": 0},
                          []])   # the per-category pickers (ALL): none for this file
    assert "Imported" in json.dumps(body), json.dumps(body)[:300]
    print(f"  page import callback    {seconds:6.2f} s")
    if db_kind() == "postgresql":
        engine = create_engine(database_url())
        with engine.begin() as conn:
            conn.execute(text('DROP SCHEMA IF EXISTS "bench_import" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
