"""The migration history: pytest-alembic's four built-in tests, plus what our one revision must leave.

The built-in tests are imported explicitly so they run without ``--test-alembic``:
single head, upgrade base -> head, models match the DDL the migrations build (autogenerate finds
nothing), and every revision's downgrade and re-upgrade works.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import fresh_database
from pytest_alembic.tests import (  # noqa: F401  (collected by pytest from this module)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import create_engine, inspect, pool, text

from models import Base

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def alembic_config():
    """Our alembic.ini and migrations/; env.py receives the Engine below in config.attributes."""
    from pytest_alembic.config import Config

    return Config(config_options={
        "file": str(ROOT / "alembic.ini"),
        "script_location": str(ROOT / "migrations"),
    })


@pytest.fixture
def alembic_engine(tmp_path_factory):
    """An empty database for every test: a new SQLite file, or a new PostgreSQL schema."""
    engine = create_engine(fresh_database("alembic", tmp_path_factory), poolclass=pool.NullPool)
    yield engine
    engine.dispose()

APP_TABLES = set(Base.metadata.tables)  # every table the models describe


def _category_counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        parents = conn.scalar(text(
            "SELECT count(*) FROM categories WHERE parent_id IS NULL AND user_id IS NULL"))
        children = conn.scalar(text(
            "SELECT count(*) FROM categories WHERE parent_id IS NOT NULL AND user_id IS NULL"))
    return parents, children


def test_builtin_categories_after_upgrade(alembic_runner, alembic_engine):
    alembic_runner.migrate_up_to("heads")
    parents, children = _category_counts(alembic_engine)
    assert parents == 10
    assert children >= 30
    with alembic_engine.connect() as conn:
        # Every child hangs under a built-in top-level category of the same kind.
        orphans = conn.scalar(text(
            "SELECT count(*) FROM categories c JOIN categories p ON p.id = c.parent_id "
            "WHERE p.parent_id IS NOT NULL OR p.user_id IS NOT NULL OR p.kind <> c.kind"))
        assert orphans == 0
        names = set(conn.scalars(text("SELECT name FROM categories WHERE parent_id IS NULL")))
        assert {"Income", "Food", "Housing"} <= names
        kinds = dict(conn.execute(text("SELECT kind, count(*) FROM categories GROUP BY kind")).all())
        assert set(kinds) == {"expense", "income"}
        # Nothing but the tree: no users, no user-owned rows.
        for table in APP_TABLES - {"categories"}:
            assert conn.scalar(text(f"SELECT count(*) FROM {table}")) == 0


def test_downgrade_to_base_then_upgrade_again(alembic_runner, alembic_engine):
    alembic_runner.migrate_up_to("heads")
    first = _category_counts(alembic_engine)

    alembic_runner.migrate_down_to("base")
    assert alembic_runner.current == "base"
    left = set(inspect(alembic_engine).get_table_names()) & APP_TABLES
    assert left == set(), f"downgrade left tables behind: {left}"

    alembic_runner.migrate_up_to("heads")
    assert alembic_runner.current == alembic_runner.heads[0]
    assert APP_TABLES <= set(inspect(alembic_engine).get_table_names())
    # The seed runs once per upgrade: the same tree again, not a second copy.
    assert _category_counts(alembic_engine) == first


def test_currencies_existing_accounts_take_their_owners_currency(alembic_runner, alembic_engine):
    """0013: accounts made before it are in their owner's currency; the database refuses codes that
    are not three upper-case letters; the downgrade takes accounts.currency and exchange_rates away."""
    from sqlalchemy.exc import DataError, IntegrityError

    alembic_runner.migrate_up_to("0012_user_prefs")
    with alembic_engine.begin() as conn:
        for uid, currency in ((1, "EUR"), (2, "JPY")):
            conn.execute(text("INSERT INTO users (id, email, display_name, currency, password_hash) "
                              "VALUES (:id, :email, 'x', :currency, 'h')"),
                         {"id": uid, "email": f"u{uid}@example.com", "currency": currency})
            conn.execute(text("INSERT INTO accounts (user_id, name, type) VALUES (:id, 'Main', 'checking')"),
                         {"id": uid})
    alembic_runner.migrate_up_to("0013_currencies")
    with alembic_engine.begin() as conn:
        got = dict(conn.execute(text("SELECT user_id, currency FROM accounts")).all())
    assert got == {1: "EUR", 2: "JPY"}
    for bad in ("usd", "US", "US1", "USDX"):  # too long: PostgreSQL's VARCHAR(3) refuses it first
        with pytest.raises((IntegrityError, DataError)), alembic_engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (user_id, name, type, currency) "
                              "VALUES (1, :name, 'cash', :c)"), {"name": f"bad {bad}", "c": bad})
    with alembic_engine.begin() as conn:
        conn.execute(text("INSERT INTO exchange_rates (user_id, day, currency, base, rate) "
                          "VALUES (1, '2026-01-02', 'USD', 'EUR', '1.0876')"))
    for currency, base in (("USD", "EUR"), ("EUR", "EUR"), ("usd", "EUR")):
        with pytest.raises(IntegrityError), alembic_engine.begin() as conn:
            conn.execute(text("INSERT INTO exchange_rates (user_id, day, currency, base, rate) "
                              "VALUES (1, '2026-01-02', :c, :b, '2')"), {"c": currency, "b": base})
    alembic_runner.migrate_down_to("0012_user_prefs")
    assert "exchange_rates" not in inspect(alembic_engine).get_table_names()
    assert "currency" not in {c["name"] for c in inspect(alembic_engine).get_columns("accounts")}
    with alembic_engine.connect() as conn:  # the accounts (and so their transactions) survived
        assert conn.scalar(text("SELECT count(*) FROM accounts")) == 2


def test_citus_keys_keep_the_rows_and_refuse_another_users_account(alembic_runner, alembic_engine):
    """0014: the roll-ups' account keys carry user_id (a roll-up row cannot name another user's
    account), schedule_occurrences' unique keys too; rows survive the upgrade and the downgrade."""
    from sqlalchemy.exc import IntegrityError

    def connect():
        conn = alembic_engine.connect()
        if alembic_engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()   # the PRAGMA outside a transaction, before begin()
        return conn

    alembic_runner.migrate_up_to("0013_currencies")
    with alembic_engine.begin() as conn:
        for uid in (1, 2):
            conn.execute(text("INSERT INTO users (id, email, display_name, currency, password_hash) "
                              "VALUES (:id, :email, 'x', 'USD', 'h')"), {"id": uid, "email": f"u{uid}@example.com"})
            conn.execute(text("INSERT INTO accounts (id, user_id, name, type, currency) "
                              "VALUES (:id, :id, 'Main', 'checking', 'USD')"), {"id": uid})
        conn.execute(text("INSERT INTO monthly_rollup (user_id, flow, month, account_id, total_cents, row_count) "
                          "VALUES (1, 'spending', '2026-01-01', 1, 500, 1)"))
    alembic_runner.migrate_up_to("0014_citus_keys")
    with alembic_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM monthly_rollup")) == 1
    for table, extra in (("monthly_rollup", ""), ("daily_rollup", "")):
        day = "month" if table == "monthly_rollup" else "day"
        with pytest.raises(IntegrityError), connect() as conn, conn.begin():
            conn.execute(text(f"INSERT INTO {table} (user_id, flow, {day}, account_id, total_cents, row_count) "
                              f"VALUES (2, 'spending', '2026-01-01', 1, 5, 1){extra}"))
    with connect() as conn, conn.begin():   # deleting the account still takes its roll-up rows with it
        conn.execute(text("DELETE FROM accounts WHERE id = 1"))
    with alembic_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM monthly_rollup")) == 0
    alembic_runner.migrate_down_to("0013_currencies")
    names = {u["name"] for u in inspect(alembic_engine).get_unique_constraints("schedule_occurrences")}
    assert "uq_schedule_occurrences_schedule_id_occurs_on" in names
    with alembic_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM accounts")) == 1


def test_citus_gaps_keep_every_row_and_link(alembic_runner, alembic_engine):
    """0018: user_id in the batch rows, rule tags, and the budget, goal and external-id keys. SQLite
    rebuilds transactions, expenses, budgets, goals and the parents of cascading keys: nothing may be
    deleted or unlinked by it (foreign keys are off for the run), the full-text triggers come back, and
    afterwards an expense line cannot name another user's budget."""
    from sqlalchemy.exc import IntegrityError

    sqlite = alembic_engine.dialect.name == "sqlite"
    alembic_runner.migrate_up_to("0016_schedules_more")
    with alembic_engine.begin() as conn:
        run = lambda sql, **kw: conn.execute(text(sql), kw)  # noqa: E731
        for uid in (1, 2):
            run("INSERT INTO users (id, email, display_name, currency, password_hash) "
                "VALUES (:id, :email, 'x', 'USD', 'h')", id=uid, email=f"u{uid}@example.com")
            run("INSERT INTO accounts (id, user_id, name, type, currency) VALUES (:id, :id, 'Main', 'checking', 'USD')",
                id=uid)
            run("INSERT INTO budgets (id, user_id, category_id, amount, period_type, start_date, end_date) "
                "VALUES (:id, :id, (SELECT MIN(id) FROM categories WHERE kind = 'expense'), 10000, 'monthly', "
                "'2026-01-01', '2026-01-31')", id=uid)
        run("INSERT INTO transactions (id, user_id, account_id, date, amount, kind, payee, description, external_id) "
            "VALUES (1, 1, 1, '2026-01-05', -1250, 'expense', 'Corner Bakery', 'bread', 'FIT-1')")
        run("INSERT INTO expenses (id, user_id, transaction_id, account_id, date, amount, budget_id) "
            "VALUES (1, 1, 1, 1, '2026-01-05', 1250, 1)")
        run("INSERT INTO goals (id, user_id, account_id, name, kind, target_amount) "
            "VALUES (1, 1, 1, 'Trip', 'savings', 100000)")
        run("INSERT INTO import_rules (id, user_id, field, match_type, pattern) VALUES (1, 1, 'payee', 'contains', 'Bak')")
        run("INSERT INTO tags (id, user_id, name) VALUES (1, 1, 'food')")
        run("INSERT INTO rule_tags (rule_id, tag_id) VALUES (1, 1)")
        run("INSERT INTO edit_batches (id, user_id, label) VALUES (1, 1, 'bulk')")
        run("INSERT INTO edit_batch_rows (id, batch_id, transaction_id, payee) VALUES (1, 1, 1, 'Corner Bakery')")
        run("INSERT INTO edit_batch_tags (id, batch_id, transaction_id, tag_id) VALUES (1, 1, 1, 1)")
    if sqlite:
        with alembic_engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    alembic_runner.migrate_up_to("0018_citus_gaps")
    with alembic_engine.connect() as conn:
        one = lambda sql: conn.execute(text(sql)).one()  # noqa: E731
        if sqlite:   # the copies have their planner statistics back
            assert one("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'transactions'")[0] > 0
            assert one("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'expenses'")[0] > 0
        assert one("SELECT budget_id, user_id FROM expenses WHERE id = 1") == (1, 1)
        assert one("SELECT account_id FROM goals WHERE id = 1") == (1,)
        assert one("SELECT user_id FROM rule_tags") == (1,)
        assert one("SELECT user_id FROM edit_batch_rows") == (1,)
        assert one("SELECT user_id FROM edit_batch_tags") == (1,)
        assert one("SELECT count(*) FROM transactions") == (1,)
    with alembic_engine.begin() as conn:   # the full-text index still follows new rows
        conn.execute(text("INSERT INTO transactions (id, user_id, account_id, date, amount, kind, payee, description) "
                          "VALUES (2, 1, 1, '2026-01-06', -500, 'expense', 'Hardware Haven', '')"))
        if sqlite:
            assert conn.scalar(text("SELECT rowid FROM transactions_fts WHERE transactions_fts MATCH '\"Haven\"'")) == 2
    with pytest.raises(IntegrityError), alembic_engine.begin() as conn:   # another user's budget
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.execute(text("UPDATE expenses SET budget_id = 2 WHERE id = 1"))
    with pytest.raises(IntegrityError), alembic_engine.begin() as conn:   # the same bank id twice
        conn.execute(text("INSERT INTO transactions (id, user_id, account_id, date, amount, kind, external_id) "
                          "VALUES (3, 1, 1, '2026-01-07', -1, 'expense', 'FIT-1')"))
    alembic_runner.migrate_down_to("0016_schedules_more")
    with alembic_engine.connect() as conn:
        assert conn.execute(text("SELECT budget_id FROM expenses WHERE id = 1")).one() == (1,)
        assert conn.execute(text("SELECT count(*) FROM rule_tags")).one() == (1,)
        assert conn.execute(text("SELECT count(*) FROM edit_batch_tags")).one() == (1,)
def test_original_amount_columns_up_and_down(alembic_runner, alembic_engine):
    """0017: transactions keep a card statement's foreign amount (both columns or neither, the
    currency an ISO code); the downgrade takes the columns away and keeps the rows."""
    from sqlalchemy.exc import IntegrityError

    alembic_runner.migrate_up_to("0016_schedules_more")
    with alembic_engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, display_name, currency, password_hash) "
                          "VALUES (1, 'u1@example.com', 'x', 'EUR', 'h')"))
        conn.execute(text("INSERT INTO accounts (id, user_id, name, type, currency) "
                          "VALUES (1, 1, 'Card', 'credit_card', 'EUR')"))
        conn.execute(text("INSERT INTO transactions (id, user_id, account_id, date, amount, kind) "
                          "VALUES (1, 1, 1, '2026-01-02', -1000, 'expense')"))
    alembic_runner.migrate_up_to("0017_original_amount")
    insert = ("INSERT INTO transactions (id, user_id, account_id, date, amount, kind, original_amount, "
              "original_currency) VALUES (:id, 1, 1, '2026-01-03', -1000, 'expense', :a, :c)")
    with alembic_engine.begin() as conn:
        conn.execute(text(insert), {"id": 2, "a": -1187, "c": "USD"})
        got = conn.execute(text("SELECT id, original_amount, original_currency FROM transactions ORDER BY id")).all()
    assert [tuple(r) for r in got] == [(1, None, None), (2, -1187, "USD")]
    for n, (amount, currency) in enumerate(((-5, None), (None, "USD"), (-5, "usd")), start=3):
        with pytest.raises(IntegrityError), alembic_engine.begin() as conn:
            conn.execute(text(insert), {"id": n, "a": amount, "c": currency})
    alembic_runner.migrate_down_to("0016_schedules_more")
    columns = {c["name"] for c in inspect(alembic_engine).get_columns("transactions")}
    assert not columns & {"original_amount", "original_currency"}
    with alembic_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM transactions")) == 2


def test_migrate_command_names_what_it_applies_and_each_step(tmp_path_factory):
    """`flask migrate` (make run, make serve) says which migrations are pending before they run and
    each one as it finishes: a table rebuild on a large SQLite database takes minutes, and a silent
    command looks hung. A second run has nothing to apply and says so."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database("cli", tmp_path_factory),
                      "SECRET_KEY": "t", "TESTING": True})
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    every = [rev.revision for rev in script.walk_revisions()]
    first = app.test_cli_runner().invoke(args=["migrate"])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0].startswith(f"Applying {len(every)} migration(s): ")
    assert "let it finish" in lines[0]
    done = [line.split(":")[0].strip() for line in lines if line.endswith(" s") and ": done in " in line]
    assert sorted(done) == sorted(every)
    assert lines[-1] == "Database is at the newest migration."
    again = app.test_cli_runner().invoke(args=["migrate"])
    assert again.exit_code == 0 and again.output.splitlines() == ["Database is at the newest migration."]


def test_daily_payee_rollup_filled_from_the_rows_and_dropped(alembic_runner, alembic_engine):
    """0021: the daily payee roll-up starts as the sum of the existing rows by (user, flow, day, payee,
    account, category): a split's lines in their own categories, income from its transactions, transfers
    nowhere; the downgrade drops the table and keeps the rows."""
    alembic_runner.migrate_up_to("0017_original_amount")
    with alembic_engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, display_name, currency, password_hash) "
                          "VALUES (1, 'u1@example.com', 'x', 'EUR', 'h')"))
        conn.execute(text("INSERT INTO accounts (id, user_id, name, type, currency) "
                          "VALUES (1, 1, 'Card', 'credit_card', 'EUR'), (2, 1, 'Bank', 'checking', 'EUR')"))
        conn.execute(text(
            "INSERT INTO transactions (id, user_id, account_id, date, amount, kind, payee, category_id) VALUES "
            "(1, 1, 1, '2026-01-02', 1000, 'expense', 'Cafe', NULL), "
            "(2, 1, 1, '2026-01-02', 500, 'expense', 'Cafe', NULL), "
            "(3, 1, 1, '2026-01-02', 3000, 'expense', 'Market', NULL), "
            "(4, 1, 2, '2026-01-03', 200000, 'income', 'Employer', NULL), "
            "(5, 1, 2, '2026-01-03', -700, 'transfer', 'Savings', NULL)"))
        conn.execute(text(
            "INSERT INTO expenses (id, user_id, transaction_id, account_id, date, amount, category_id) VALUES "
            "(1, 1, 1, 1, '2026-01-02', 1000, NULL), (2, 1, 2, 1, '2026-01-02', 500, NULL), "
            "(3, 1, 3, 1, '2026-01-02', 2000, 1), (4, 1, 3, 1, '2026-01-02', 1000, NULL)"))
    alembic_runner.migrate_up_to("0021_daily_payee_rollup")
    with alembic_engine.connect() as conn:
        got = conn.execute(text(
            "SELECT flow, CAST(day AS VARCHAR(10)), payee, account_id, category_id, total_cents, row_count "
            "FROM daily_payee_rollup")).all()
    assert sorted((tuple(r) for r in got), key=repr) == sorted([
        ("income", "2026-01-03", "Employer", 2, None, 200000, 1),
        ("spending", "2026-01-02", "Cafe", 1, None, 1500, 2),
        ("spending", "2026-01-02", "Market", 1, 1, 2000, 1),
        ("spending", "2026-01-02", "Market", 1, None, 1000, 1),
    ], key=repr)
    alembic_runner.migrate_down_to("0017_original_amount")
    assert "daily_payee_rollup" not in inspect(alembic_engine).get_table_names()
    with alembic_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM expenses")) == 4


def test_fx_band_rollups_up_and_down(alembic_runner, alembic_engine):
    """0020: the converted roll-ups by amount band are created empty and every user's converted state is
    forgotten (rebuilt, all tables together, at the next refresh); the downgrade drops them."""
    alembic_runner.migrate_up_to("0017_original_amount")
    with alembic_engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, display_name, currency, password_hash) "
                          "VALUES (1, 'u1@example.com', 'x', 'EUR', 'h')"))
        conn.execute(text("INSERT INTO fx_rollup_state (user_id, signature) VALUES (1, 'old')"))
    alembic_runner.migrate_up_to("0020_fx_band_rollups")
    tables = set(inspect(alembic_engine).get_table_names())
    assert {"fx_amount_rollup", "fx_payee_amount_rollup", "fx_daily_rollup"} <= tables
    with alembic_engine.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM fx_rollup_state")) == 0
        conn.execute(text("INSERT INTO fx_payee_amount_rollup (user_id, flow, month, band, payee, total_cents, "
                          "row_count) VALUES (1, 'spending', '2026-01-01', 3, 'Cafe', 450, 1)"))
    alembic_runner.migrate_down_to("0017_original_amount")
    tables = set(inspect(alembic_engine).get_table_names())
    assert not tables & {"fx_amount_rollup", "fx_payee_amount_rollup", "fx_daily_rollup"}
    assert "fx_month_rollup" in tables


def _index_columns(engine, table: str) -> dict[str, list[str]]:
    return {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes(table)}


def test_hot_category_edits_up_and_down(alembic_runner, alembic_engine):
    """0022: no index of transactions or expense lines carries category_id or budget_id, and on
    PostgreSQL both tables leave room on their pages, so that a bulk category edit's new row versions
    are HOT updates (same page, no index entry); the rows stay. The downgrade brings the indexes back."""
    postgres = alembic_engine.dialect.name == "postgresql"
    alembic_runner.migrate_up_to("0020_fx_band_rollups")
    with alembic_engine.begin() as conn:
        run = lambda sql, **kw: conn.execute(text(sql), kw)  # noqa: E731
        run("INSERT INTO users (id, email, display_name, currency, password_hash) VALUES (1, 'u1@example.com', 'x', 'USD', 'h')")
        run("INSERT INTO accounts (id, user_id, name, type, currency) VALUES (1, 1, 'Main', 'checking', 'USD')")
        run("INSERT INTO budgets (id, user_id, category_id, amount, period_type, start_date, end_date) "
            "VALUES (1, 1, (SELECT MIN(id) FROM categories WHERE kind = 'expense'), 10000, 'monthly', "
            "'2026-01-01', '2026-01-31')")
        for n in range(1, 41):
            run("INSERT INTO transactions (id, user_id, account_id, date, amount, kind, payee) "
                "VALUES (:n, 1, 1, '2026-01-05', -1250, 'expense', 'Bakery')", n=n)
            run("INSERT INTO expenses (id, user_id, transaction_id, account_id, date, amount, budget_id) "
                "VALUES (:n, 1, :n, 1, '2026-01-05', -1250, 1)", n=n)
    alembic_runner.migrate_up_to("0022_hot_category_edits")
    for table in ("transactions", "expenses"):
        carrying = {name for name, cols in _index_columns(alembic_engine, table).items()
                    if {"category_id", "budget_id"} & set(cols)}
        assert carrying == set(), (table, carrying)
    with alembic_engine.begin() as conn:
        assert conn.scalar(text("SELECT count(*) FROM expenses WHERE budget_id = 1")) == 40
        if postgres:
            options = dict(conn.execute(text(
                "SELECT relname, array_to_string(reloptions, ',') FROM pg_class "
                "WHERE relname IN ('transactions', 'expenses') AND relnamespace = current_schema()::regnamespace")).all())
            assert options == {"transactions": "fillfactor=70", "expenses": "fillfactor=70"}
            conn.execute(text("UPDATE transactions SET category_id = (SELECT MIN(id) FROM categories WHERE kind = "
                              "'expense'), version = version + 1 WHERE user_id = 1"))
            conn.execute(text("UPDATE expenses SET category_id = (SELECT MIN(id) FROM categories WHERE kind = "
                              "'expense'), budget_id = NULL WHERE user_id = 1"))
            hot = dict(conn.execute(text(
                "SELECT relname, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                "WHERE relname IN ('transactions', 'expenses') AND schemaname = current_schema()")).all())
            assert hot == {"transactions": 40, "expenses": 40}
    alembic_runner.migrate_down_to("0020_fx_band_rollups")
    assert _index_columns(alembic_engine, "transactions")["ix_transactions_category_id"] == ["category_id"]
    assert _index_columns(alembic_engine, "expenses")["ix_expenses_budget_id"] == ["budget_id"]
    assert _index_columns(alembic_engine, "expenses")["ix_expenses_user_date"] == ["user_id", "date", "category_id",
                                                                                   "amount"]
    with alembic_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM transactions")) == 40


def test_no_index_carries_a_column_a_bulk_category_edit_changes():
    """The models' side of 0022: an index on transactions or expense lines that carries category_id or
    budget_id makes every row of a bulk category edit write new index entries (no HOT update on
    PostgreSQL) — issue 12's 3 s at 1M rows. Read them by the user's date index instead."""
    from models import Expense, Transaction
    from models.db import HOT_FILLFACTOR

    for model in (Transaction, Expense):
        table = model.__table__
        carrying = {ix.name for ix in table.indexes if {"category_id", "budget_id"} & {c.name for c in ix.columns}}
        assert carrying == set(), (table.name, carrying)
        assert table.dialect_options["postgresql"]["with"] == {"fillfactor": HOT_FILLFACTOR}


def test_payee_names_filled_from_the_payee_rollup_and_dropped(alembic_runner, alembic_engine):
    """0025: one name per (user, flow, payee) of the payee roll-up, and the roll-up's index by payee;
    the downgrade drops both and keeps the roll-up."""
    alembic_runner.migrate_up_to("0024_rollups_without_keys")
    with alembic_engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, display_name, currency, password_hash) "
                          "VALUES (1, 'u1@example.com', 'x', 'EUR', 'h'), (2, 'u2@example.com', 'y', 'EUR', 'h')"))
        conn.execute(text(
            "INSERT INTO payee_rollup (user_id, flow, month, payee, account_id, category_id, total_cents, row_count) "
            "VALUES (1, 'spending', '2026-01-01', 'Cafe', 1, NULL, 100, 1), "
            "(1, 'spending', '2026-02-01', 'Cafe', 1, 3, 200, 2), "
            "(1, 'income', '2026-01-01', 'Cafe', 2, NULL, 5000, 1), "
            "(2, 'spending', '2026-01-01', 'Market', 7, NULL, 300, 1)"))
    alembic_runner.migrate_up_to("0025_payee_names")
    with alembic_engine.connect() as conn:
        got = conn.execute(text("SELECT user_id, flow, payee FROM payee_names")).all()
    assert sorted(tuple(r) for r in got) == [(1, "income", "Cafe"), (1, "spending", "Cafe"), (2, "spending", "Market")]
    assert "ix_payee_rollup_user_flow_payee" in {i["name"] for i in inspect(alembic_engine).get_indexes("payee_rollup")}
    alembic_runner.migrate_down_to("0024_rollups_without_keys")
    assert "payee_names" not in inspect(alembic_engine).get_table_names()
    assert "ix_payee_rollup_user_flow_payee" not in {
        i["name"] for i in inspect(alembic_engine).get_indexes("payee_rollup")}
    with alembic_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM payee_rollup")) == 4
