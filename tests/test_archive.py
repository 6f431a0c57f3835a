"""services.archive: the whole-account zip, reading it back into a new user (same totals per category
and month), restoring twice, formula-safe cells that still round-trip, broken archives, the download."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from conftest import commit_or_rollback, login
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from test_rollup import raw_totals, rollup_totals
from test_transactions_service import check_ledger

from dashboard.services import archive as ex
from dashboard.services import importer as imp
from dashboard.services.budgets import create_budget
from dashboard.services.importer import ImportFileError
from dashboard.services.transactions import Split, create_transaction, create_transfer
from models import (
    Account,
    Budget,
    Category,
    Expense,
    Goal,
    GoalContribution,
    ImportRule,
    MonthlyRollup,
    Transaction,
)

D = Decimal
TRICKY = ["=cmd|' /C calc'!A0", "-Rebate", "+1 shop", "@home", "'quoted", "Plain, with comma"]


@pytest.fixture()
def cats(db_session):
    rows = db_session.execute(select(Category.name, Category.id).where(Category.user_id.is_(None))).all()
    return dict(rows)


@pytest.fixture()
def alice_world(db_session, make_user, make_account, cats):
    alice = make_user("alice@example.com")
    checking = make_account(alice, "Checking", opening="1000.00")
    savings = make_account(alice, "Savings", "savings", opening="250.00")
    card = make_account(alice, "Card", "credit_card", opening="-80.00")
    food = db_session.scalar(select(Category.id).where(Category.name == "Food", Category.user_id.is_(None)))
    bubble = Category(user_id=alice.id, name="Bubble tea", kind="expense", parent_id=food)
    pets = Category(user_id=alice.id, name="Pets", kind="expense", color="#123456")
    db_session.add_all([bubble, pets])
    db_session.flush()
    vet = Category(user_id=alice.id, name="Vet", kind="expense", parent_id=pets.id)
    side = Category(user_id=alice.id, name="Side gig", kind="income")
    db_session.add_all([vet, side])
    db_session.commit()
    create_budget(db_session, alice.id, category_id=cats["Groceries"], amount=D("400"), start_date=date(2026, 2, 1))
    create_budget(db_session, alice.id, category_id=pets.id, amount=D("90"), start_date=date(2026, 2, 1))
    rows = [
        (checking, date(2026, 1, 31), "-54.20", cats["Groceries"], "Market", None),
        (checking, date(2026, 2, 3), "-4.75", bubble.id, "Tea house", None),
        (checking, date(2026, 2, 3), "-4.75", bubble.id, "Tea house", None),   # two identical real rows
        (card, date(2026, 2, 9), "-120.00", vet.id, "City Vet", "FIT-1"),
        (card, date(2026, 2, 12), "15.00", cats["Clothing"], "Refund shop", "FIT-2"),
        (checking, date(2026, 2, 27), "5400.00", cats["Salary"], "Payroll", None),
        (savings, date(2026, 2, 28), "3.10", None, "Interest", None),
        (checking, date(2026, 3, 1), "300.00", side.id, "Gig", None),
        (checking, date(2026, 3, 2), "-9.99", None, "Unsorted", None),
    ]
    for account, day, amount, category, payee, ext in rows:
        kind = "income" if D(amount) > 0 and category in (None, cats["Salary"], side.id) else "expense"
        create_transaction(db_session, alice.id, account_id=account.id, date=day, amount=D(amount), kind=kind,
                           category_id=category, payee=payee, external_id=ext)
    for index, payee in enumerate(TRICKY):
        create_transaction(db_session, alice.id, account_id=checking.id, date=date(2026, 3, 5 + index),
                           amount=D("-1.00") * (index + 1), category_id=cats["Household"], payee=payee,
                           description=payee, notes=f"note {payee}")
    create_transaction(db_session, alice.id, account_id=card.id, date=date(2026, 2, 20), amount=D("-90.00"),
                       payee="Costco", splits=[Split(cats["Groceries"], D("60.00"), "food"),
                                               Split(pets.id, D("30.00"), "=SUM(A1)")])
    create_transfer(db_session, alice.id, from_account_id=checking.id, to_account_id=savings.id,
                    date=date(2026, 2, 28), amount=D("300.00"), description="Monthly savings")
    goal = Goal(user_id=alice.id, name="Trip", kind="savings", target_amount=D("1500.00"),
                saved_amount=D("350.00"), target_date=date(2026, 12, 1))
    db_session.add_all([goal, Goal(user_id=alice.id, name="Emergency", kind="savings", account_id=savings.id,
                                   target_amount=D("5000.00"))])
    db_session.flush()
    db_session.add_all([GoalContribution(user_id=alice.id, goal_id=goal.id, date=date(2026, 1, 5),
                                         amount=D("400.00"), note="start"),
                        GoalContribution(user_id=alice.id, goal_id=goal.id, date=date(2026, 2, 5),
                                         amount=D("-50.00"), note="-oops")])
    imp.create_rule(db_session, alice.id, pattern="tea", category_id=bubble.id)
    imp.create_rule(db_session, alice.id, pattern=r"^city\s+vet", match_type="regex", category_id=vet.id)
    db_session.commit()
    return {"alice": alice, "checking": checking}


def totals_by_category_and_month(session, user_id) -> dict:
    """{(flow, category path, month): cents}, by names so that two users can be compared."""
    parent = aliased(Category)
    paths = {cid: (f"{p} > {n}" if p else n) for cid, n, p in session.execute(
        select(Category.id, Category.name, parent.name).outerjoin(parent, parent.id == Category.parent_id))}
    rows = session.execute(select(MonthlyRollup.flow, MonthlyRollup.category_id, MonthlyRollup.month,
                                  func.sum(MonthlyRollup.total_cents))
                           .where(MonthlyRollup.user_id == user_id)
                           .group_by(MonthlyRollup.flow, MonthlyRollup.category_id, MonthlyRollup.month)).all()
    return {(flow, paths.get(cid), month): int(total) for flow, cid, month, total in rows if int(total)}


def snapshot(session, user_id) -> dict:
    def count(model):
        return session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id))
    return {
        "totals": totals_by_category_and_month(session, user_id),
        "counts": {m.__tablename__: count(m) for m in (Account, Transaction, Expense, Budget, Goal,
                                                        GoalContribution, ImportRule, Category)},
        "payees": sorted(session.scalars(select(Transaction.payee).where(Transaction.user_id == user_id))),
        "notes": sorted(session.scalars(select(Transaction.notes).where(Transaction.user_id == user_id))),
        "memos": sorted(session.scalars(select(Expense.memo).where(Expense.user_id == user_id))),
        "balances": sorted((n, str(b)) for n, b in session.execute(
            select(Account.name, Account.opening_balance).where(Account.user_id == user_id))),
        "transfer_legs": sorted(str(a) for a in session.scalars(
            select(Transaction.amount).where(Transaction.user_id == user_id, Transaction.kind == "transfer"))),
        "goals": sorted((g.name, str(g.saved_amount), g.account_id is not None) for g in session.scalars(
            select(Goal).where(Goal.user_id == user_id))),
        "rules": sorted((r.pattern, r.match_type) for r in session.scalars(
            select(ImportRule).where(ImportRule.user_id == user_id))),
        "budgeted": session.scalar(select(func.count()).select_from(Expense).where(
            Expense.user_id == user_id, Expense.budget_id.is_not(None))),
    }


def export_bytes(session, user_id) -> bytes:
    buffer = io.BytesIO()
    ex.write_archive(session, user_id, buffer)
    return buffer.getvalue()


def test_export_then_restore_into_a_new_user_reproduces_everything(db_session, alice_world, make_user):
    alice = alice_world["alice"]
    data = export_bytes(db_session, alice.id)
    bob = make_user("bob@example.com")
    archive = ex.read_archive(data)
    assert ex.archive_summary(archive)["transactions"] == len(TRICKY) + 12
    result = commit_or_rollback(db_session, ex.restore_archive, bob.id, archive)
    assert result.added["transactions"] == len(TRICKY) + 12 and result.added["accounts"] == 3
    assert snapshot(db_session, bob.id) == snapshot(db_session, alice.id)
    check_ledger(db_session)
    assert raw_totals(db_session, bob.id) == rollup_totals(db_session, bob.id)
    # Bank ids came along (so a later OFX import still dedupes), in Bob's own accounts.
    assert set(db_session.scalars(select(Transaction.external_id).where(
        Transaction.user_id == bob.id, Transaction.external_id.is_not(None)))) == {"FIT-1", "FIT-2"}
    # Restoring again, or into Alice herself, adds nothing.
    again = commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(data))
    assert sum(again.added.values()) == 0 and "Nothing new" in again.message
    assert commit_or_rollback(db_session, ex.restore_archive, alice.id, ex.read_archive(data)).added["transactions"] == 0
    assert snapshot(db_session, bob.id) == snapshot(db_session, alice.id)


def test_formula_cells_are_neutralised_and_still_round_trip(db_session, alice_world):
    data = export_bytes(db_session, alice_world["alice"].id)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        rows = list(csv.DictReader(io.StringIO(archive.read("transactions.csv").decode())))
        lines = list(csv.DictReader(io.StringIO(archive.read("expense_lines.csv").decode())))
    assert manifest["format"] == "ledgerlens-export" and manifest["currency"] == "USD"
    payees = {r["payee"] for r in rows}
    for text in TRICKY:
        if text[0] in "=+-@\t'":
            assert "'" + text in payees and text not in payees
        else:
            assert text in payees
    assert all(not cell.startswith(("=", "+", "@", "\t")) for r in rows for cell in
               (r["payee"], r["description"], r["notes"]))
    assert "'=SUM(A1)" in {line["memo"] for line in lines}
    for text in TRICKY + ["", "''x", "=", "'", "\tTabbed", "\rx"]:
        assert ex.unsafe_text(ex.safe_text(text)) == text


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _members(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


MEMBERS_RULES_HEADER = ",".join(ex.MEMBERS["rules.csv"]) + "\n"


@pytest.mark.parametrize("change, words", [
    (lambda m: m.pop("manifest.json"), "no manifest.json"),
    (lambda m: m.update({"manifest.json": "{not json"}), "not valid JSON"),
    (lambda m: m.update({"manifest.json": json.dumps({"format": "ledgerlens-export", "version": 99})}),
     "version 99"),
    (lambda m: m.pop("budgets.csv"), "no budgets.csv"),
    (lambda m: m.update({"accounts.csv": "id,name\n1,x\n"}), "Line 1: accounts.csv: the header"),
    (lambda m: m.update({"transactions.csv": m["transactions.csv"].replace(",-54.20,", ",-54.2x,", 1)}),
     "transactions.csv: amount"),
    (lambda m: m.update({"transactions.csv": m["transactions.csv"].replace("2026-01-31", "2026-02-30", 1)}),
     "not a date"),
    (lambda m: m.update({"expense_lines.csv": m["expense_lines.csv"].replace(",60.00,", ",61.00,", 1)}),
     "do not add up"),
    (lambda m: m.update({"transactions.csv": m["transactions.csv"].replace("Groceries", "Nonexistent", 1)}),
     "unknown category"),
    (lambda m: m.update({"import_rules.csv": m["import_rules.csv"].replace("^city\\s+vet", "(?=a)b", 1)}),
     "Look-arounds"),
    (lambda m: m.update({"rules.csv": MEMBERS_RULES_HEADER + "payee,regex,(?=a)b,,,,,,,x,1\n"}), "Look-arounds"),
    (lambda m: m.update({"rules.csv": MEMBERS_RULES_HEADER + "payee,contains,,,,,,,,,1\n"}), "condition"),
    (lambda m: m.update({"rules.csv": MEMBERS_RULES_HEADER + "payee,contains,a,,,999,,,,x,1\n"}),
     "not in accounts.csv"),
    (lambda m: m.update({"rules.csv": MEMBERS_RULES_HEADER + "memo,contains,a,,,,,,,x,1\n"}), "field"),
])
def test_broken_archives_are_refused_and_change_nothing(db_session, alice_world, make_user, change, words):
    members = _members(export_bytes(db_session, alice_world["alice"].id))
    change(members)
    bob = make_user("bob@example.com")
    before = snapshot(db_session, bob.id)
    with pytest.raises(ImportFileError) as info:
        commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(_zip(members)))
    assert words in info.value.message
    assert snapshot(db_session, bob.id) == before


def test_not_a_zip_and_zip_bombs(db_session, alice_world, monkeypatch):
    for data in (b"", b"PK\x03\x04garbage", b"hello"):
        with pytest.raises(ImportFileError):
            ex.read_archive(data)
    data = export_bytes(db_session, alice_world["alice"].id)
    monkeypatch.setattr(ex, "MAX_ARCHIVE_UNCOMPRESSED", 100)
    with pytest.raises(ImportFileError, match="too large"):
        ex.read_archive(data)


def test_download_is_the_logged_in_users_only(client, db_session, alice_world, make_user, make_account):
    bob = make_user("bob@example.com")
    make_account(bob, "Bob's secret account")
    assert client.get("/export/account.zip").status_code in (302, 401)
    login(client, "bob@example.com")
    response = client.get("/export/account.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    members = _members(response.data)
    assert "Bob's secret account" in members["accounts.csv"] and "Checking" not in members["accounts.csv"]
    assert members["transactions.csv"].count("\n") == 1   # the header only


def test_tags_deep_categories_and_new_rules_round_trip(db_session, make_user, make_account):
    """Tags come back on the same transactions; a three-level tree of own categories (a level moved
    under a newer one) restores; rules the format cannot hold yet do not break the export."""
    from dashboard.services import bulk_edit, rules
    from dashboard.services import categories as cat_svc
    from dashboard.services.tags import find_or_create
    from models import Tag, TransactionTag
    alice = make_user("tagger@example.com")
    acc = make_account(alice)
    leaf_first = cat_svc.create_category(db_session, alice.id, name="Power")
    home = cat_svc.create_category(db_session, alice.id, name="Home")
    util = cat_svc.create_category(db_session, alice.id, name="Utilities", parent_id=home.id)
    cat_svc.move_category(db_session, alice.id, leaf_first.id, expected_version=leaf_first.version, parent_id=util.id)
    rows = [create_transaction(db_session, alice.id, account_id=acc.id, date=date(2026, 1, d), amount=Decimal("-5.00"),
                               category_id=leaf_first.id, payee=f"PowerCo {d}") for d in (1, 2, 3)]
    trip = find_or_create(db_session, alice.id, "=trip")   # a formula-looking tag round-trips too
    bulk_edit.apply(db_session, alice.id, [Transaction.id.in_([rows[0].id, rows[2].id])],
                    bulk_edit.make_actions(db_session, alice.id, tag_ids=[trip.id]), label="t")
    rules.create_rule(db_session, alice.id, field="description", match_type="starts_with", pattern="x",
                      set_payee="Clean")
    rules.create_rule(db_session, alice.id, field="payee", match_type="regex", pattern=r"^power\s*co",
                      amount_min="1.50", amount_max="80", account_id=acc.id, category_id=leaf_first.id,
                      new_tags="bills, =trip", set_payee="PowerCo")
    rules.create_rule(db_session, alice.id, field="payee", match_type="contains", pattern="tea",
                      category_id=home.id)   # a simple rule: import_rules.csv, as before
    db_session.commit()
    mine = sorted(rules.rule_frame(db_session, alice.id)["text"])
    data = export_bytes(db_session, alice.id)
    assert "rules.csv" in _members(data) and "tea" in _members(data)["import_rules.csv"]
    bob = make_user("tagbob2@example.com")
    commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(data))
    frame = cat_svc.category_frame(db_session, bob.id)
    assert "Home › Utilities › Power" in set(frame[frame["own"]]["full_name"])
    tagged = set(db_session.scalars(select(Transaction.payee).join(
        TransactionTag, TransactionTag.transaction_id == Transaction.id).where(Transaction.user_id == bob.id)))
    assert tagged == {"PowerCo 1", "PowerCo 3"}
    assert set(db_session.scalars(select(Tag.name).where(Tag.user_id == bob.id))) == {"=trip", "bills"}
    # Every rule comes back with its conditions and actions (the account, category and tags are bob's).
    theirs = rules.load_rules(db_session, bob.id)
    assert sorted(rules.rule_frame(db_session, bob.id)["text"]) == mine
    full = next(s for s in theirs if s.match_type == "regex")
    assert (full.amount_min, full.amount_max, full.set_payee) == (150, 8000, "PowerCo")
    assert db_session.scalar(select(Account.user_id).where(Account.id == full.account_id)) == bob.id
    assert set(db_session.scalars(select(Tag.name).where(Tag.id.in_(full.tag_ids)))) == {"bills", "=trip"}
    assert "Home › Utilities › Power" == frame.set_index("id").loc[full.category_id, "full_name"]
    again = commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(data))
    assert again.added["transactions"] == 0
    assert again.added["rules"] == 0 and len(rules.load_rules(db_session, bob.id)) == 3
    assert db_session.scalar(select(func.count()).select_from(TransactionTag)
                             .where(TransactionTag.user_id == bob.id)) == 2


def test_currencies_and_rates_come_back(db_session, make_user):
    """Version 2: accounts keep their currency and the rates come along; a version-1 export (no currency
    column, no rates) is still read, its accounts in the manifest's currency; a clash is refused."""
    from dashboard.services import fx
    from dashboard.services.accounts import create_account
    from models import ExchangeRate

    alice = make_user("alice@example.com", currency="EUR")
    yen = create_account(db_session, alice.id, name="Yen", currency="JPY", opening_balance="15712")
    create_transaction(db_session, alice.id, account_id=yen.id, date=date(2026, 1, 5), kind="expense",
                       amount=D("-1234"))
    fx.set_rate(db_session, alice.id, day=date(2026, 1, 2), currency="JPY", base="EUR", rate="157.12")
    db_session.commit()
    data = export_bytes(db_session, alice.id)
    bob = make_user("bob@example.com", currency="USD")
    result = commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(data))
    assert result.added["exchange rates"] == 1 and result.added["accounts"] == 1
    restored = db_session.scalars(select(Account).where(Account.user_id == bob.id)).one()
    assert (restored.currency, restored.opening_balance) == ("JPY", D("15712"))
    rate = db_session.scalars(select(ExchangeRate).where(ExchangeRate.user_id == bob.id)).one()
    assert (rate.day, rate.base, rate.currency, rate.rate) == (date(2026, 1, 2), "EUR", "JPY", D("157.12"))

    members = _members(data)
    v1 = {**members, "manifest.json": json.dumps({**json.loads(members["manifest.json"]), "version": 1})}
    v1.pop("exchange_rates.csv")
    rows = list(csv.reader(io.StringIO(v1["accounts.csv"])))
    v1["accounts.csv"] = "\n".join(",".join(r[:3] + r[4:]) for r in rows) + "\n"
    v1["accounts.csv"] = v1["accounts.csv"].replace("Yen", "Old")
    # versions 1 and 2 end transactions.csv at external_id (version 3 added the original amount)
    v1["transactions.csv"] = "".join(
        ",".join(r[:-2]) + "\n" for r in csv.reader(io.StringIO(v1["transactions.csv"]))).replace("Yen", "Old")
    carol = make_user("carol@example.com", currency="GBP")
    commit_or_rollback(db_session, ex.restore_archive, carol.id, ex.read_archive(_zip(v1)))
    old = db_session.scalars(select(Account).where(Account.user_id == carol.id)).one()
    assert old.currency == "EUR"  # the exporting user's currency, from the manifest

    clash = {**members, "accounts.csv": members["accounts.csv"].replace("JPY", "USD")}
    with pytest.raises(ImportFileError, match="in USD in the export and in JPY here"):
        commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(_zip(clash)))
    bad = {**members, "exchange_rates.csv": members["exchange_rates.csv"].replace("157.12", "-1")}
    with pytest.raises(ImportFileError, match="exchange_rates.csv"):
        ex.read_archive(_zip(bad))


def test_a_transfer_across_currencies_comes_back_with_both_amounts(db_session, make_user):
    """Issue 17: each leg of a transfer between two currencies has its own amount; the archive keeps
    both, and a restore accepts legs that do not add up to zero only across currencies."""
    from dashboard.services.accounts import create_account

    alice = make_user("alice@example.com", currency="EUR")
    euro = create_account(db_session, alice.id, name="Euro", currency="EUR")
    dollar = create_account(db_session, alice.id, name="Dollar", currency="USD")
    create_transfer(db_session, alice.id, from_account_id=euro.id, to_account_id=dollar.id, date=date(2026, 1, 5),
                    amount="100.00", to_amount="108.90")
    db_session.commit()
    data = export_bytes(db_session, alice.id)
    bob = make_user("bob@example.com", currency="EUR")
    result = commit_or_rollback(db_session, ex.restore_archive, bob.id, ex.read_archive(data))
    assert result.added["transactions"] == 2
    legs = db_session.execute(select(Account.currency, Transaction.amount, Transaction.kind)
                              .join(Account, Account.id == Transaction.account_id)
                              .where(Transaction.user_id == bob.id).order_by(Transaction.amount)).all()
    assert [tuple(leg) for leg in legs] == [("EUR", D("-100.00"), "transfer"), ("USD", D("108.90"), "transfer")]
