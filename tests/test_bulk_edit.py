"""Bulk edits, rules on existing rows, tags and payees: set-based, all or nothing, one undo, the roll-up
right afterwards, nothing of another user's touched or revealed."""
from __future__ import annotations

import importlib
import itertools
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from test_categories_service import raw_by_month_category, rollup_by_month_category, state
from test_rollup import assert_exact, assert_folded

from dashboard.services import bulk_edit, importer, rules, tags
from dashboard.services.categories import create_category
from dashboard.services.errors import Conflict, NotFound, ServiceError
from dashboard.services.transactions import Split, create_transaction, create_transfer, update_transaction
from models import Category, Expense, ImportRule, Tag, Transaction, TransactionTag

_n = itertools.count()


def builtin(session, name):
    return session.scalar(select(Category.id).where(Category.user_id.is_(None), Category.name == name))


@pytest.fixture()
def world(db_session, make_user, make_account):
    user = make_user(f"bulk{next(_n)}@example.com")
    other = make_user(f"other{next(_n)}@example.com")
    acc = make_account(user)
    acc2 = make_account(user, "Card", "credit_card")
    other_acc = make_account(other)
    rows = []
    for i in range(30):
        payee = ["Tram Co", "Noodle Bar", "Landlord", "ACME payroll"][i % 4]
        kind = "income" if payee == "ACME payroll" else "expense"
        amount = Decimal("2500.00") if kind == "income" else Decimal(f"-{5 + i}.25")
        rows.append(create_transaction(db_session, user.id, account_id=(acc if i % 3 else acc2).id,
                                       date=date(2026, 1 + i % 5, 1 + i % 27), amount=amount, kind=kind,
                                       payee=payee, description=f"ref {i}"))
    split = create_transaction(db_session, user.id, account_id=acc.id, date=date(2026, 2, 2), amount=Decimal("-30.00"),
                               payee="Tram Co", splits=[Split(builtin(db_session, "Fuel"), Decimal("10.00")),
                                                        Split(builtin(db_session, "Parking"), Decimal("20.00"))])
    create_transfer(db_session, user.id, from_account_id=acc.id, to_account_id=acc2.id, date=date(2026, 1, 9),
                    amount="100.00")
    theirs = create_transaction(db_session, other.id, account_id=other_acc.id, date=date(2026, 1, 5),
                                amount=Decimal("-9.00"), payee="Tram Co")
    db_session.commit()
    return {"user": user, "other": other, "acc": acc, "acc2": acc2, "rows": rows, "split": split, "theirs": theirs}


def category_of(session, payee, user_id):
    return set(session.scalars(select(Transaction.category_id).where(Transaction.user_id == user_id,
                                                                      Transaction.payee == payee)))


def test_bulk_set_category_on_a_filter_and_undo(db_session, world):
    uid = world["user"].id
    transit = builtin(db_session, "Public Transit")
    where = bulk_edit.filter_where(db_session, uid, {"q": "tram"})
    actions = bulk_edit.make_actions(db_session, uid, category_id=transit)
    before = state(db_session, uid)
    totals = raw_by_month_category(db_session, uid)
    preview = bulk_edit.preview(db_session, uid, where, actions)
    assert preview.rows == 8 and preview.category_skipped == 1     # the split keeps its lines
    assert preview.money_cents == sum(abs(int(r.amount * 100)) for r in world["rows"] if r.payee == "Tram Co")
    batch = bulk_edit.apply(db_session, uid, where, actions, label="t", expected_rows=preview.rows)
    db_session.commit()
    assert batch.row_count == 8
    db_session.expire_all()
    assert category_of(db_session, "Tram Co", uid) == {transit, None}   # None: the split's header
    lines = db_session.scalars(select(Expense.category_id).join(Transaction, Transaction.id == Expense.transaction_id)
                               .where(Transaction.payee == "Tram Co", Expense.user_id == uid)).all()
    assert lines.count(transit) == 8
    after = raw_by_month_category(db_session, uid)
    assert rollup_by_month_category(db_session, uid) == after
    assert sum(after.values()) == sum(totals.values())
    assert category_of(db_session, "Tram Co", world["other"].id) == {None}   # the other user's row
    bulk_edit.undo(db_session, uid, batch.id)
    db_session.commit()
    now = state(db_session, uid)
    assert now[0] == before[0] and now[3] == before[3]
    assert [(t[0], t[1]) for t in now[1]] == [(t[0], t[1]) for t in before[1]]   # categories back
    assert rollup_by_month_category(db_session, uid) == totals
    with pytest.raises(ServiceError, match="undone already"):
        bulk_edit.undo(db_session, uid, batch.id)


def test_selection_versions_and_other_users(db_session, world):
    uid = world["user"].id
    rows = world["rows"]
    food = builtin(db_session, "Restaurants")
    actions = bulk_edit.make_actions(db_session, uid, category_id=food)
    before = state(db_session, uid)
    stale = [{"id": rows[1].id, "version": rows[1].version + 1}]
    with pytest.raises(Conflict):
        bulk_edit.selection_where(db_session, uid, stale)
    with pytest.raises(NotFound):
        bulk_edit.selection_where(db_session, uid, [{"id": world["theirs"].id, "version": 1}])
    with pytest.raises(ServiceError):
        bulk_edit.selection_where(db_session, uid, [{"id": "1 OR 1=1", "version": 1}])
    with pytest.raises(NotFound):
        bulk_edit.make_actions(db_session, world["other"].id, category_id=db_session.scalar(
            select(Category.id).where(Category.user_id == uid)) or 10**9)
    with pytest.raises(ServiceError, match="Choose what to set"):
        bulk_edit.make_actions(db_session, uid)
    with pytest.raises(ServiceError, match="Set a filter"):
        bulk_edit.filter_where(db_session, uid, {})
    assert state(db_session, uid) == before
    where = bulk_edit.selection_where(db_session, uid, [{"id": r.id, "version": r.version} for r in rows[:4]])
    batch = bulk_edit.apply(db_session, uid, where, actions, label="sel")
    db_session.commit()
    assert batch.row_count == 3   # the income row keeps its category (other kind)
    # An undo after someone changed one of the rows is refused as a whole.
    changed = next(r for r in rows[:4] if r.kind == "expense")
    db_session.refresh(changed)
    update_transaction(db_session, uid, changed.id, expected_version=changed.version, payee="Edited")
    db_session.commit()
    with pytest.raises(Conflict):
        bulk_edit.undo(db_session, uid, batch.id)
    with pytest.raises(NotFound):
        bulk_edit.undo(db_session, world["other"].id, batch.id)


def test_tags_inline_filter_and_undo(db_session, world):
    uid = world["user"].id
    tag_ids = tags.resolve_tags(db_session, uid, [], "holiday, reimbursable")
    assert len(tag_ids) == 2
    with pytest.raises(NotFound):
        tags.resolve_tags(db_session, world["other"].id, tag_ids)
    with pytest.raises(ServiceError):
        tags.resolve_tags(db_session, uid, [], "x" * 10_000)
    where = bulk_edit.filter_where(db_session, uid, {"q": "noodle"})
    batch = bulk_edit.apply(db_session, uid, where, bulk_edit.make_actions(db_session, uid, tag_ids=tag_ids),
                            label="tag")
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(TransactionTag)
                             .where(TransactionTag.user_id == uid)) == 2 * batch.row_count
    tagged = bulk_edit.filter_where(db_session, uid, {"tags": str(tag_ids[0])})
    assert bulk_edit.preview(db_session, uid, tagged, bulk_edit.make_actions(db_session, uid, payee="X")).matching \
        == batch.row_count
    # Tagging again changes nothing: nothing to do.
    with pytest.raises(ServiceError, match="Nothing to change"):
        bulk_edit.apply(db_session, uid, where, bulk_edit.make_actions(db_session, uid, tag_ids=tag_ids), label="x")
    db_session.rollback()
    bulk_edit.undo(db_session, uid, batch.id)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(TransactionTag)
                             .where(TransactionTag.user_id == uid)) == 0


def test_rule_conditions_and_apply_to_existing(db_session, world):
    uid = world["user"].id
    restaurants = builtin(db_session, "Restaurants")
    with pytest.raises(ServiceError, match="condition"):
        rules.create_rule(db_session, uid, pattern="", category_id=restaurants)
    with pytest.raises(ServiceError, match="something to do"):
        rules.create_rule(db_session, uid, pattern="noodle")
    with pytest.raises(ServiceError, match="smallest"):
        rules.create_rule(db_session, uid, pattern="noodle", amount_min="50", amount_max="10", category_id=restaurants)
    with pytest.raises(NotFound):
        rules.create_rule(db_session, uid, pattern="noodle", account_id=world["theirs"].account_id,
                          category_id=restaurants)
    with pytest.raises(ServiceError, match="[Bb]ack-references|pattern"):
        rules.create_rule(db_session, uid, pattern=r"(a)\1", match_type="regex", category_id=restaurants)
    db_session.rollback()
    rule = rules.create_rule(db_session, uid, field="payee", match_type="starts_with", pattern="noodle",
                             amount_min="10", category_id=restaurants, new_tags="eating out", set_payee="Noodle Bar Ltd")
    db_session.commit()
    preview = rules.preview_existing(db_session, uid, rule.id)
    expected = [r for r in world["rows"] if r.payee == "Noodle Bar" and abs(r.amount) >= 10]
    assert preview.rows == len(expected) and preview.money_cents == sum(int(abs(r.amount) * 100) for r in expected)
    batch = rules.apply_existing(db_session, uid, rule.id, expected_rows=preview.rows)
    db_session.commit()
    assert batch.row_count == len(expected)
    assert category_of(db_session, "Noodle Bar Ltd", uid) == {restaurants}
    assert rollup_by_month_category(db_session, uid) == raw_by_month_category(db_session, uid)
    assert_exact(db_session, uid)   # every roll-up, the payee ones included (the payee was renamed)
    assert rules.preview_existing(db_session, uid, rule.id).rows == 0   # applied: nothing left to change
    bulk_edit.undo(db_session, uid, batch.id)
    db_session.commit()
    assert_exact(db_session, uid)
    assert category_of(db_session, "Noodle Bar", uid) == {None}
    with pytest.raises(NotFound):
        rules.apply_existing(db_session, world["other"].id, rule.id)


@pytest.mark.parametrize("ratio", [0, 10**9], ids=["by-keys", "by-months"])
def test_a_bulk_edit_folds_every_rollup_into_one_row_per_key(db_session, world, monkeypatch, ratio):
    """Rows moved onto a key that already has a row (same day, account, category, payee) are folded
    into it, and the keys they leave are dropped, in every roll-up (by day too), after apply and undo;
    the day roll-ups both ways (by the shifted keys, by the touched months: rollup.KEY_FOLD_RATIO)."""
    from dashboard.services import rollup
    monkeypatch.setattr(rollup, "KEY_FOLD_RATIO", ratio)
    uid, acc = world["user"].id, world["acc"].id
    groceries, restaurants = builtin(db_session, "Groceries"), builtin(db_session, "Restaurants")
    day = date(2026, 6, 15)
    for payee, category, amount in (("Market", groceries, "-12.50"), ("Market", groceries, "-3.00"),
                                    ("Deli", restaurants, "-7.25"), ("Deli", None, "-1.00")):
        create_transaction(db_session, uid, account_id=acc, date=day, amount=Decimal(amount), payee=payee,
                           category_id=category)
    db_session.commit()
    assert_folded(db_session, uid)
    # Category and payee, then only the payee (the roll-ups without one are not shifted, and so not
    # folded), then only the category (the payee-by-band one is not).
    for kw in ({"category_id": groceries, "set_payee": "Market"}, {"set_payee": "Market"},
               {"category_id": groceries}):
        rule = rules.create_rule(db_session, uid, field="payee", match_type="equals", pattern="Deli", **kw)
        db_session.commit()
        batch = rules.apply_existing(db_session, uid, rule.id)
        db_session.commit()
        assert batch.row_count == 2
        assert_exact(db_session, uid)
        assert_folded(db_session, uid)
        bulk_edit.undo(db_session, uid, batch.id)
        db_session.commit()
        assert_exact(db_session, uid)
        assert_folded(db_session, uid)


def test_regex_rules_run_on_re2(db_session, world):
    uid = world["user"].id
    evil = "(a+)+$"
    rule = rules.create_rule(db_session, uid, field="description", match_type="regex", pattern=evil,
                             set_payee="Never")
    create_transaction(db_session, uid, account_id=world["acc"].id, date=date(2026, 3, 3), amount=Decimal("-1.00"),
                       payee="x", description="a" * 190 + "!")
    db_session.commit()
    assert rules.preview_existing(db_session, uid, rule.id).rows == 0   # linear time, no match
    digits = rules.create_rule(db_session, uid, field="description", match_type="regex", pattern=r"^ref 1\d$",
                               new_tags="teens")
    db_session.commit()
    assert rules.preview_existing(db_session, uid, digits.id).rows == 10


def test_rules_at_import_rename_payees_and_reimport_adds_nothing(db_session, world):
    uid = world["user"].id
    rules.create_rule(db_session, uid, match_type="contains", pattern="AMZN", set_payee="Amazon",
                      category_id=builtin(db_session, "Electronics"), new_tags="online, gifts")
    db_session.commit()
    data = b"Date,Amount,Payee\n2026-04-01,-12.00,AMZN Mktp 123\n2026-04-02,-7.00,Bakery\n"
    parsed = importer.parse_file(data, "s.csv", importer.inspect_csv(data).mapping)
    assert importer.run_import(db_session, uid, world["acc"].id, parsed).added == 2
    db_session.commit()
    assert category_of(db_session, "Amazon", uid) == {builtin(db_session, "Electronics")}
    assert tag_names(db_session, uid, "Amazon") == ["gifts", "online"]      # the rule's tags, at import
    assert tag_names(db_session, uid, "Bakery") == []
    assert importer.run_import(db_session, uid, world["acc"].id, parsed).added == 0


def tag_names(session, user_id, payee):
    return sorted(session.scalars(select(Tag.name).join(TransactionTag, TransactionTag.tag_id == Tag.id)
                                  .join(Transaction, Transaction.id == TransactionTag.transaction_id)
                                  .where(Transaction.user_id == user_id, Transaction.payee == payee)))


def test_rule_tags_at_a_bulk_import(db_session, world):
    """Above the bulk threshold the rows go through the bulk writer: the rules' tags land on exactly the
    rows they matched, and the roll-ups stay exact."""
    uid = world["user"].id
    rules.create_rule(db_session, uid, match_type="starts_with", pattern="Cafe", new_tags="coffee")
    db_session.commit()
    lines = ["Date,Amount,Payee"] + [f"2026-05-{1 + i % 28:02d},-{3 + i % 7}.50,{'Cafe' if i % 3 == 0 else 'Shop'} {i}"
                                     for i in range(importer.BULK_THRESHOLD + 30)]
    data = "\n".join(lines).encode()
    parsed = importer.parse_file(data, "big.csv", importer.inspect_csv(data).mapping)
    result = importer.run_import(db_session, uid, world["acc"].id, parsed)
    db_session.commit()
    assert result.added == importer.BULK_THRESHOLD + 30
    tagged = sorted(db_session.scalars(select(Transaction.payee).join(
        TransactionTag, TransactionTag.transaction_id == Transaction.id).where(Transaction.user_id == uid)))
    assert tagged == sorted(f"Cafe {i}" for i in range(importer.BULK_THRESHOLD + 30) if i % 3 == 0)
    assert_exact(db_session, uid)


def test_rename_and_merge_payees(db_session, world):
    uid = world["user"].id
    count = len([r for r in world["rows"] if r.payee == "Landlord"])
    batch = rules.rename_payee(db_session, uid, "Landlord", "Tram Co")   # a merge into an existing payee
    db_session.commit()
    assert batch.row_count == count
    frame = rules.payee_frame(db_session, uid).set_index("payee")
    assert "Landlord" not in frame.index
    assert rollup_by_month_category(db_session, uid) == raw_by_month_category(db_session, uid)
    assert_exact(db_session, uid)
    with pytest.raises(ServiceError):
        rules.rename_payee(db_session, uid, "Tram Co", "")
    bulk_edit.undo(db_session, uid, batch.id)
    db_session.commit()
    assert rules.payee_frame(db_session, uid).set_index("payee").loc["Landlord", "count"] == count
    # The offer after a hand edit: other rows of that payee in another category.
    row = next(r for r in world["rows"] if r.payee == "Landlord")
    db_session.refresh(row)
    update_transaction(db_session, uid, row.id, expected_version=row.version, category_id=builtin(db_session, "Rent"))
    db_session.commit()
    offer = rules.rule_offer(db_session, uid, row.id)
    assert offer == {"payee": "Landlord", "category_id": builtin(db_session, "Rent"), "others": count - 1}
    with pytest.raises(NotFound):
        rules.rule_offer(db_session, world["other"].id, row.id)


def test_deleting_a_category_or_tag_keeps_rules_and_rows_consistent(db_session, world):
    uid = world["user"].id
    mine = create_category(db_session, uid, name="Mine")
    rules.create_rule(db_session, uid, pattern="tram", category_id=mine.id, new_tags="t1")
    db_session.commit()
    tag = db_session.scalar(select(Tag).where(Tag.user_id == uid))
    tags.delete_tag(db_session, uid, tag.id)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(ImportRule).where(ImportRule.user_id == uid)) == 1


def test_bulk_category_puts_lines_in_the_covering_budget(db_session, world):
    from dashboard.services.budget_lines import assign_budgets
    from dashboard.services.budgets import create_budget
    uid = world["user"].id
    transit = builtin(db_session, "Public Transit")
    jan = create_budget(db_session, uid, category_id=transit, amount="50", start_date=date(2026, 1, 1))
    parent = create_budget(db_session, uid, category_id=builtin(db_session, "Transportation"), amount="90",
                           start_date=date(2026, 2, 1))
    db_session.commit()
    batch = bulk_edit.apply(db_session, uid, bulk_edit.filter_where(db_session, uid, {"q": "tram"}),
                            bulk_edit.make_actions(db_session, uid, category_id=transit), label="b")
    db_session.commit()
    got = dict(db_session.execute(select(Expense.id, Expense.budget_id).join(
        Transaction, Transaction.id == Expense.transaction_id).where(Transaction.payee == "Tram Co",
                                                                    Expense.category_id == transit)).all())
    assert set(got.values()) >= {jan.id, parent.id}
    assign_budgets(db_session, uid)     # the general rule agrees line by line
    db_session.flush()
    again = dict(db_session.execute(select(Expense.id, Expense.budget_id).where(Expense.id.in_(list(got)))).all())
    assert again == got
    assert batch.row_count == 8


def test_sqlite_checkpoint_of_a_bulk_edit_runs_after_the_response(app, db_session, world, monkeypatch):
    """SQLite: the bulk edit's commit runs without the automatic WAL checkpoint (it cost ~1 s of the
    user's wait at 1M rows); the connection gets it back when returned to the pool, and one checkpoint
    of the file runs when the response is closed, i.e. after it was sent."""
    from conftest import is_postgres
    from sqlalchemy import event

    models_db = importlib.import_module("models.db")   # (models.db is also the SQLAlchemy handle)
    if is_postgres():
        pytest.skip("SQLite's WAL checkpoint")
    uid = world["user"].id
    ran = []
    monkeypatch.setattr(models_db, "checkpoint_file", lambda path: ran.append(path))
    at_commit = []
    engine = db_session.get_bind()

    def before_commit(conn):
        at_commit.append(conn.connection.dbapi_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    event.listen(engine, "commit", before_commit)
    try:
        with app.test_request_context("/"):
            where = bulk_edit.filter_where(db_session, uid, {"q": "tram"})
            actions = bulk_edit.make_actions(db_session, uid, category_id=builtin(db_session, "Public Transit"))
            bulk_edit.apply(db_session, uid, where, actions, label="t")
            db_session.commit()
            response = app.process_response(app.response_class("done"))
            assert at_commit == [0] and ran == []          # no checkpoint in the commit, none yet
            response.close()                               # the server has sent it
            assert len(ran) == 1 and ran[0].endswith(".sqlite3")
        at_commit.clear()
        assert db_session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        db_session.commit()
        assert at_commit == [1000] and len(ran) == 1    # other writes keep SQLite's own checkpoint
    finally:
        event.remove(engine, "commit", before_commit)


def test_no_rollup_write_brings_rows_back_to_python(db_session, world):
    """A roll-up's DELETE or UPDATE runs without ORM synchronisation: with SQLAlchemy's default
    ("fetch") it came back with RETURNING of every deleted id, which the ORM then looked up in the
    session one by one: 1.5 million look-ups, ~1 s of the client's CPU per bulk edit at 1M rows on
    PostgreSQL. Watches every statement of a rule's apply and undo and of a refresh."""
    from sqlalchemy import event

    from dashboard.services import rollup

    uid = world["user"].id
    seen: list[str] = []
    engine = db_session.get_bind()

    def watch(_conn, _cursor, statement, _params, _context, _many):
        head = statement.lstrip().upper()
        if head.startswith(("DELETE", "UPDATE")) and "ROLLUP" in head.split("WHERE")[0] and "RETURNING" in head:
            seen.append(statement[:120])

    event.listen(engine, "before_cursor_execute", watch)
    try:
        rule = rules.create_rule(db_session, uid, field="payee", match_type="equals", pattern="Tram Co",
                                 category_id=builtin(db_session, "Groceries"))
        db_session.commit()
        batch = rules.apply_existing(db_session, uid, rule.id)
        db_session.commit()
        bulk_edit.undo(db_session, uid, batch.id)
        db_session.commit()
        rollup.refresh(db_session, uid)
        db_session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert seen == []
