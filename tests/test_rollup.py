"""monthly_rollup always equals the raw tables it summarises, after any write through the ORM."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from conftest import commit_or_rollback
from sqlalchemy import func, select, text

from dashboard.services import rollup
from dashboard.services.sql import cents
from dashboard.services.transactions import (
    Split,
    create_transaction,
    create_transfer,
    delete_transaction,
    update_transaction,
)
from models import (
    AmountRollup,
    Category,
    DailyPayeeRollup,
    DailyRollup,
    Expense,
    MonthlyRollup,
    PayeeAmountRollup,
    PayeeName,
    PayeeRollup,
    Transaction,
)


def raw_totals(session, user_id):
    spending = session.execute(
        select(Expense.category_id, Transaction.payee, func.sum(cents(Expense.amount)))
        .join(Transaction, Transaction.id == Expense.transaction_id)
        .where(Expense.user_id == user_id)
        .group_by(Expense.category_id, Transaction.payee)).all()
    income = session.execute(
        select(Transaction.category_id, Transaction.payee, func.sum(cents(Transaction.amount)))
        .where(Transaction.user_id == user_id, Transaction.kind == "income")
        .group_by(Transaction.category_id, Transaction.payee)).all()
    return ({(c, p): int(t) for c, p, t in spending}, {(c, p): int(t) for c, p, t in income})


def rollup_totals(session, user_id):
    out = []
    for flow in ("spending", "income"):
        rows = session.execute(
            select(PayeeRollup.category_id, PayeeRollup.payee, func.sum(PayeeRollup.total_cents))
            .where(PayeeRollup.user_id == user_id, PayeeRollup.flow == flow)
            .group_by(PayeeRollup.category_id, PayeeRollup.payee)).all()
        out.append({(c, p): int(t) for c, p, t in rows if int(t) != 0})
    return tuple(out)


ROLLUPS = {
    MonthlyRollup: ("flow", "month", "account_id", "category_id"),
    AmountRollup: ("flow", "month", "band", "account_id", "category_id"),
    DailyRollup: ("flow", "day", "account_id", "category_id"),
    PayeeRollup: ("flow", "month", "payee", "account_id", "category_id"),
    PayeeAmountRollup: ("flow", "month", "band", "payee"),
    DailyPayeeRollup: ("flow", "day", "payee", "account_id", "category_id"),
}


def rollup_contents(session, user_id) -> dict:
    """Every roll-up's rows of the user, summed by its key (a key whose rows net to zero left out)."""
    out = {}
    for model, keys in ROLLUPS.items():
        cols = [getattr(model, k) for k in keys]
        rows = session.execute(select(*cols, func.sum(model.total_cents), func.sum(model.row_count))
                               .where(model.user_id == user_id).group_by(*cols)).all()
        out[model.__tablename__] = {tuple(r[:-2]): (int(r[-2]), int(r[-1])) for r in rows if int(r[-1])}
    return out


def assert_exact(session, user_id) -> None:
    """The roll-ups as the commits left them equal a recomputation from the raw rows, and (SQLite) the
    full-text index equals its content table."""
    kept = rollup_contents(session, user_id)
    nested = session.begin_nested()
    rollup.refresh(session, user_id)
    recomputed = rollup_contents(session, user_id)
    nested.rollback()
    assert kept == recomputed
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO transactions_fts (transactions_fts, rank) VALUES ('integrity-check', 1)"))


def assert_folded(session, user_id) -> None:
    """Every roll-up holds one row per key of the user, none summing to nothing (what ``compact`` leaves
    after a bulk edit's shift; a missed or partial fold leaves two rows, or a zero row, for a key)."""
    for model, keys in ROLLUPS.items():
        cols = [getattr(model, k) for k in keys]
        loose = session.execute(select(*cols, func.count()).where(model.user_id == user_id).group_by(*cols)
                                .having(func.count() > 1)).all()
        assert loose == [], (model.__tablename__, loose)
        empty = session.scalar(select(func.count()).select_from(model).where(
            model.user_id == user_id, model.row_count == 0, model.total_cents == 0))
        assert empty == 0, model.__tablename__


def by_month(session, user_id):
    return dict(session.execute(
        select(MonthlyRollup.month, func.sum(MonthlyRollup.total_cents))
        .where(MonthlyRollup.user_id == user_id, MonthlyRollup.flow == "spending")
        .group_by(MonthlyRollup.month)).all())


def test_rollup_follows_creates_edits_and_deletes(db_session, make_user, make_account):
    cat = {c.name: c.id for c in db_session.scalars(select(Category).where(Category.user_id.is_(None)))}
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    a1, a2 = make_account(alice, "Checking"), make_account(alice, "Savings", "savings")
    b1 = make_account(bob, "Checking")

    t1 = create_transaction(db_session, alice.id, account_id=a1.id, date=date(2026, 1, 31),
                            amount=Decimal("-10.00"), category_id=cat["Groceries"], payee="Market")
    t2 = create_transaction(db_session, alice.id, account_id=a1.id, date=date(2026, 2, 1),
                            amount=Decimal("-30.00"), payee="Costco",
                            splits=[Split(cat["Groceries"], Decimal("20.00")),
                                    Split(cat["Household"], Decimal("10.00"))])
    create_transaction(db_session, alice.id, account_id=a1.id, date=date(2026, 2, 3),
                       amount=Decimal("1000.00"), kind="income", category_id=cat["Salary"], payee="Job")
    create_transfer(db_session, alice.id, from_account_id=a1.id, to_account_id=a2.id, date=date(2026, 2, 4),
                    amount=Decimal("50.00"))
    create_transaction(db_session, bob.id, account_id=b1.id, date=date(2026, 2, 1),
                       amount=Decimal("-99.00"), category_id=cat["Groceries"], payee="Market")
    db_session.commit()
    assert rollup_totals(db_session, alice.id) == raw_totals(db_session, alice.id)
    assert by_month(db_session, alice.id) == {date(2026, 1, 1): 1000, date(2026, 2, 1): 3000}
    assert_exact(db_session, alice.id)

    # Moving a transaction to another month updates both months.
    update_transaction(db_session, alice.id, t1.id, expected_version=t1.version, date=date(2026, 2, 10),
                       amount=Decimal("-12.50"))
    db_session.commit()
    assert by_month(db_session, alice.id) == {date(2026, 2, 1): 4250}
    assert rollup_totals(db_session, alice.id) == raw_totals(db_session, alice.id)
    assert_exact(db_session, alice.id)

    delete_transaction(db_session, alice.id, t2.id)
    db_session.commit()
    assert rollup_totals(db_session, alice.id) == raw_totals(db_session, alice.id)
    assert_exact(db_session, alice.id)
    assert by_month(db_session, alice.id) == {date(2026, 2, 1): 1250}
    # Bob's numbers were never touched by Alice's writes.
    assert rollup_totals(db_session, bob.id) == raw_totals(db_session, bob.id)


def names_of(session, user_id):
    return set(session.execute(select(PayeeName.flow, PayeeName.payee).where(PayeeName.user_id == user_id)).all())


def test_payee_names_follow_every_writer(db_session, make_user, make_account):
    """PayeeName holds each payee the user's spending and income has had: added by a commit's refresh
    and by a bulk rename (a name the user never had), rebuilt without the gone ones by a full refresh;
    a text search finds a renamed payee through it, on both databases."""
    from dashboard.services import bulk_edit
    from dashboard.services import spending as svc

    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    a, b = make_account(alice), make_account(bob)
    for payee in ("Corner Market", "Corner Market", "Tram Co"):
        create_transaction(db_session, alice.id, account_id=a.id, date=date(2026, 1, 5), amount=Decimal("-4.00"),
                           payee=payee)
    create_transaction(db_session, alice.id, account_id=a.id, date=date(2026, 1, 6), amount=Decimal("900.00"),
                       kind="income", payee="Employer")
    create_transaction(db_session, bob.id, account_id=b.id, date=date(2026, 1, 5), amount=Decimal("-1.00"),
                       payee="Bob's Bakery")
    db_session.commit()
    assert names_of(db_session, alice.id) == {("spending", "Corner Market"), ("spending", "Tram Co"),
                                              ("income", "Employer")}
    assert names_of(db_session, bob.id) == {("spending", "Bob's Bakery")}

    where = bulk_edit.filter_where(db_session, alice.id, {"q": "corner"})
    bulk_edit.apply(db_session, alice.id, where, bulk_edit.make_actions(db_session, alice.id, payee="Farmers Hall"),
                    label="rename", expected_rows=2)
    db_session.commit()
    assert ("spending", "Farmers Hall") in names_of(db_session, alice.id)
    filters = svc.parse_filters({"preset": "custom", "from": "2026-01-01", "to": "2026-01-31", "q": "farmers h"},
                                date(2026, 2, 1))
    found = svc.explore(db_session, alice.id, filters, today=date(2026, 2, 1))
    assert found.payees["payee"].tolist() == ["Farmers Hall"]
    assert found.payees["total_cents"].tolist() == [800] and found.total_cents == 800

    rollup.refresh(db_session, alice.id)   # every month: the names of rows that still exist
    db_session.commit()
    assert names_of(db_session, alice.id) == {("spending", "Farmers Hall"), ("spending", "Tram Co"),
                                              ("income", "Employer")}
    assert names_of(db_session, bob.id) == {("spending", "Bob's Bakery")}


def test_rolled_back_writes_leave_no_trace(db_session, make_user, make_account):
    cat_id = db_session.scalar(select(Category.id).where(Category.name == "Coffee"))
    alice = make_user("alice@example.com")
    account = make_account(alice)
    create_transaction(db_session, alice.id, account_id=account.id, date=date(2026, 3, 1),
                       amount=Decimal("-4.00"), category_id=cat_id, payee="Cafe")
    db_session.rollback()
    rollup.refresh(db_session, alice.id)
    db_session.commit()
    assert rollup_totals(db_session, alice.id) == ({}, {})


def test_balances_from_the_rollup_match_the_raw_sums(db_session, make_user, make_account):
    from dashboard.services.overview import account_balances
    from models import Account

    cat_id = db_session.scalar(select(Category.id).where(Category.name == "Coffee"))
    alice = make_user("alice@example.com")
    checking, savings = make_account(alice, "Checking", opening="10.00"), make_account(alice, "Savings", "savings")
    for day, amount in ((date(2026, 1, 5), "-4.00"), (date(2026, 2, 5), "-6.00"), (date(2026, 2, 20), "-1.25")):
        create_transaction(db_session, alice.id, account_id=checking.id, date=day, amount=Decimal(amount),
                           category_id=cat_id, payee="Cafe")
    create_transfer(db_session, alice.id, from_account_id=checking.id, to_account_id=savings.id,
                    date=date(2026, 2, 10), amount=Decimal("100.00"))
    db_session.commit()

    def raw(as_of=None):
        out = {}
        for account in db_session.scalars(select(Account).where(Account.user_id == alice.id)):
            stmt = select(func.coalesce(func.sum(cents(Transaction.amount)), 0)).where(
                Transaction.account_id == account.id)
            if as_of:
                stmt = stmt.where(Transaction.date <= as_of)
            out[account.name] = int(account.opening_balance * 100) + int(db_session.scalar(stmt))
        return out

    for as_of in (None, date(2026, 1, 31), date(2026, 2, 10), date(2026, 2, 19), date(2026, 3, 1)):
        frame = account_balances(db_session, alice.id, as_of=as_of)
        assert dict(zip(frame["name"], frame["balance_cents"])) == raw(as_of), as_of


def test_demo_bulk_load_leaves_the_rollup_in_step(db_session):
    """The demo loader writes with bulk inserts (no ORM events) and must rebuild the roll-up itself."""
    from dashboard.demo import load_demo

    stats = commit_or_rollback(db_session, load_demo, seed=3, end=date(2026, 6, 30), email="rollup-demo@example.com")
    user_id = stats["user_id"]
    assert rollup_totals(db_session, user_id) == raw_totals(db_session, user_id)
    assert sum(by_month(db_session, user_id).values()) == int(stats["expense_total"] * 100)
    assert_exact(db_session, user_id)


def test_days_of_several_months_are_one_range_per_run_of_consecutive_months():
    """The daily roll-up's refresh and fold select the days of the touched months by one range per run
    of consecutive months (a rule over ten years: one comparison, not 120), covering the same days."""
    from models import DailyRollup
    months = [date(2025, 12, 1), date(2026, 1, 15), date(2026, 2, 1), date(2026, 5, 1), date(2026, 1, 1)]
    clause = rollup._in_months(DailyRollup.day, months)
    sql = str(clause.compile(compile_kwargs={"literal_binds": True}))
    assert sql == ("daily_rollup.day >= '2025-12-01' AND daily_rollup.day <= '2026-02-28' "
                   "OR daily_rollup.day >= '2026-05-01' AND daily_rollup.day <= '2026-05-31'")
