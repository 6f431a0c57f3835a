"""services.transaction_grid: the transactions grid's pages and filters, and its edits, add form, split editor and
undo, all through services.transactions (the expense invariants are checked after every write)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from test_transactions_service import check_ledger

from dashboard.services import transaction_grid as svc
from dashboard.services import transactions as tx_service
from dashboard.services.errors import Conflict, NotFound, ServiceError
from dashboard.services.transactions import Split, create_transaction, create_transfer
from models import Category, Expense, Transaction


@pytest.fixture()
def cats(db_session):
    return {c.name: c.id for c in db_session.scalars(select(Category).where(Category.user_id.is_(None)))}


@pytest.fixture()
def world(db_session, make_user, make_account, cats):
    alice = make_user("alice@example.com")
    checking = make_account(alice, "Checking", opening="100.00")
    savings = make_account(alice, "Savings", "savings")
    u = alice.id
    t = {}
    t["market"] = create_transaction(db_session, u, account_id=checking.id, date=date(2026, 3, 1),
                                     amount=Decimal("-10.00"), category_id=cats["Groceries"], payee="Market")
    t["bistro"] = create_transaction(db_session, u, account_id=checking.id, date=date(2026, 3, 5),
                                     amount=Decimal("-20.00"), category_id=cats["Restaurants"], payee="Bistro",
                                     description="dinner with Sam")
    t["costco"] = create_transaction(db_session, u, account_id=checking.id, date=date(2026, 3, 7),
                                     amount=Decimal("-100.00"), payee="Costco",
                                     splits=[Split(cats["Groceries"], Decimal("60.00"), "food"),
                                             Split(cats["Household"], Decimal("40.00"))])
    t["salary"] = create_transaction(db_session, u, account_id=checking.id, date=date(2026, 3, 1),
                                     amount=Decimal("3000.00"), kind="income", category_id=cats["Salary"],
                                     payee="Employer")
    t["mystery"] = create_transaction(db_session, u, account_id=checking.id, date=date(2026, 2, 27),
                                      amount=Decimal("-7.50"), payee="100% Mystery_shop")
    out_leg, in_leg = create_transfer(db_session, u, from_account_id=checking.id, to_account_id=savings.id,
                                      date=date(2026, 3, 3), amount=Decimal("500.00"), description="monthly")
    t["out"], t["in"] = out_leg, in_leg
    bob = make_user("bob@example.com")
    bob_account = make_account(bob, "Checking")
    t["bob_tx"] = create_transaction(db_session, bob.id, account_id=bob_account.id, date=date(2026, 3, 10),
                                  amount=Decimal("-999.00"), category_id=cats["Groceries"], payee="Market")
    db_session.commit()
    return {"alice": alice, "bob": bob, "checking": checking, "savings": savings, "bob_account": bob_account, **t}


def payees(session, user_id, query=None, sort=None, start=0, end=100):
    frame = svc.rows_page(session, user_id, svc.parse_filters(query or {}), start, end, sort)
    return list(frame["payee"])


def test_pages_are_newest_first_with_labels(db_session, world):
    alice = world["alice"].id
    frame = svc.rows_page(db_session, alice, svc.LedgerFilters(), 0, 100)
    assert list(frame["date"]) == ["2026-03-07", "2026-03-05", "2026-03-03", "2026-03-03", "2026-03-01",
                                   "2026-03-01", "2026-02-27"]
    assert "Bob" not in frame.to_string() and len(frame) == 7
    records = {r["payee"]: r for r in svc.grid_records(frame)}
    assert records["Costco"]["category_id"] == "split" and records["Costco"]["lines"] == 2
    assert records["Bistro"]["category"] == "Food › Restaurants"
    assert records["Bistro"]["amount"] == "-20.00" and records["Bistro"]["amount_cents"] == -2000
    assert records["Transfer to Savings"]["category_id"] == "transfer"
    assert records["100% Mystery_shop"]["category_id"] == ""
    # Paging: never more than asked, and pages do not overlap.
    first, second = payees(db_session, alice, end=3), payees(db_session, alice, start=3, end=6)
    assert len(first) == 3 and len(second) == 3 and not set(first) & set(second)
    assert len(svc.rows_page(db_session, alice, svc.LedgerFilters(), 0, 10_000)) == 7  # capped at 500 anyway


def test_filters_on_the_server(db_session, world, cats):
    alice, checking, savings = world["alice"].id, world["checking"], world["savings"]
    assert payees(db_session, alice, {"from": "2026-03-02", "to": "2026-03-05"}) == [
        "Bistro", "Transfer from Checking", "Transfer to Savings"]
    assert payees(db_session, alice, {"accounts": str(savings.id)}) == ["Transfer from Checking"]
    assert payees(db_session, alice, {"kind": "income"}) == ["Employer"]
    assert set(payees(db_session, alice, {"kind": "transfer"})) == {"Transfer to Savings", "Transfer from Checking"}
    # A category selects its children and splits with a line in it; 0 is "uncategorised".
    assert payees(db_session, alice, {"categories": [cats["Food"]]}) == ["Costco", "Bistro", "Market"]
    assert payees(db_session, alice, {"categories": [cats["Household"]]}) == ["Costco"]
    assert payees(db_session, alice, {"categories": "0"}) == ["100% Mystery_shop"]
    # Uncategorized together with a category, and inside dates: one list of ids (no OR of subqueries).
    assert payees(db_session, alice, {"categories": f"0,{cats['Household']}"}) == ["Costco", "100% Mystery_shop"]
    assert payees(db_session, alice, {"categories": f"0,{cats['Food']}", "from": "2026-03-02"}) == ["Costco", "Bistro"]
    assert svc.summary(db_session, alice, svc.parse_filters({"categories": f"0,{cats['Food']}"}))["count"] == 4
    # Text: case-insensitive substring of payee or description; LIKE wildcards are literal.
    assert payees(db_session, alice, {"q": "SAM"}) == ["Bistro"]
    assert payees(db_session, alice, {"q": "100%"}) == ["100% Mystery_shop"]
    assert payees(db_session, alice, {"q": "y_s"}) == ["100% Mystery_shop"]
    assert payees(db_session, alice, {"q": "%"}) == ["100% Mystery_shop"]
    # Another user's account or category matches nothing of Alice's and shows nothing of Bob's.
    assert payees(db_session, alice, {"accounts": str(world["bob_account"].id)}) == []
    assert svc.summary(db_session, alice, svc.parse_filters({"accounts": str(checking.id)})) == {
        "count": 6, "total_cents": 300000 - 1000 - 2000 - 10000 - 750 - 50000}
    assert svc.summary(db_session, world["bob"].id, svc.LedgerFilters()) == {"count": 1, "total_cents": -99900}
    # Garbage is dropped, a reversed range is swapped (or refused when strict).
    garbage = svc.parse_filters({"accounts": "'; DROP TABLE users; --", "kind": "evil", "from": "x", "q": ["x"]})
    assert garbage == svc.LedgerFilters()
    assert svc.parse_filters({"from": "2026-03-05", "to": "2026-03-01"}).start == date(2026, 3, 1)
    with pytest.raises(ServiceError):
        svc.parse_filters({"from": "2026-03-05", "to": "2026-03-01"}, strict=True)


def test_sorting_is_whitelisted(db_session, world):
    alice = world["alice"].id
    by_amount = svc.rows_page(db_session, alice, svc.LedgerFilters(), 0, 3,
                              [{"colId": "amount; DROP TABLE transactions", "sort": "asc"},
                               {"colId": "amount", "sort": "asc"}])
    assert list(by_amount["amount_cents"]) == [-50000, -10000, -2000]
    assert payees(db_session, alice, sort=[{"colId": "payee", "sort": "asc"}], end=2) == ["100% Mystery_shop", "Bistro"]
    assert payees(db_session, alice, sort=[{"colId": "account", "sort": "asc"}], end=1) == ["Costco"]  # ignored
    assert payees(db_session, alice, sort="nonsense", end=1) == ["Costco"]


def test_inline_edits_keep_the_invariants(db_session, world, cats):
    alice, market = world["alice"].id, world["market"]
    edited = svc.edit_cell(db_session, alice, market.id, expected_version=market.version, column="amount",
                           value="-12.34")
    db_session.commit()
    assert edited.amount == Decimal("-12.34")
    assert db_session.scalar(select(func.sum(Expense.amount)).where(Expense.transaction_id == market.id)) == \
        Decimal("12.34")
    edited = svc.edit_cell(db_session, alice, market.id, expected_version=edited.version, column="category_id",
                           value=str(cats["Coffee"]))
    edited = svc.edit_cell(db_session, alice, market.id, expected_version=edited.version, column="payee",
                           value="  Corner store ")
    edited = svc.edit_cell(db_session, alice, market.id, expected_version=edited.version, column="date",
                           value="2026-03-02")
    db_session.commit()
    assert (edited.payee, edited.category_id, edited.date) == ("Corner store", cats["Coffee"], date(2026, 3, 2))
    # An income category turns a refund into income, and an expense category turns it back.
    refund = svc.edit_cell(db_session, alice, market.id, expected_version=edited.version, column="amount",
                           value="5")
    income = svc.edit_cell(db_session, alice, market.id, expected_version=refund.version, column="category_id",
                           value=cats["Salary"])
    db_session.commit()
    assert income.kind == "income" and not income.expenses
    check_ledger(db_session)


@pytest.mark.parametrize("column,value,message", [
    ("amount", "abc", "not an amount"), ("amount", "1.234", "two decimals"), ("amount", "0", "zero"),
    ("amount", {"x": 1}, "amount"), ("amount", None, "amount"), ("date", "yesterday", "not a date"),
    ("payee", "x" * 201, "At most"), ("version", 99, "cannot be edited"), ("user_id", 2, "cannot be edited"),
    ("category_id", "999999", "Unknown category"), ("payee", ["list"], "text"),
])
def test_bad_edits_change_nothing(db_session, world, column, value, message):
    alice, bistro = world["alice"].id, world["bistro"]
    before = db_session.execute(select(Transaction.__table__).where(Transaction.id == bistro.id)).one()
    with pytest.raises(ServiceError) as err:
        svc.edit_cell(db_session, alice, bistro.id, expected_version=bistro.version, column=column, value=value)
    assert message in err.value.message
    db_session.rollback()
    assert db_session.execute(select(Transaction.__table__).where(Transaction.id == bistro.id)).one() == before


def test_stale_versions_splits_transfers_and_ownership(db_session, world, cats):
    alice = world["alice"].id
    bistro = world["bistro"]
    with pytest.raises(Conflict):
        svc.edit_cell(db_session, alice, bistro.id, expected_version=bistro.version + 5, column="payee", value="X")
    db_session.rollback()
    with pytest.raises(NotFound):
        svc.edit_cell(db_session, alice, world["bob_tx"].id, expected_version=1, column="payee", value="Mine")
    db_session.rollback()
    assert db_session.get(Transaction, world["bob_tx"].id).payee == "Market"
    costco = world["costco"]
    with pytest.raises(ServiceError, match="split"):
        svc.edit_cell(db_session, alice, costco.id, expected_version=costco.version, column="category_id",
                      value=cats["Coffee"])
    db_session.rollback()
    out_leg = world["out"]
    with pytest.raises(ServiceError):
        svc.edit_cell(db_session, alice, out_leg.id, expected_version=out_leg.version, column="amount", value="-1")
    db_session.rollback()
    moved = svc.edit_cell(db_session, alice, out_leg.id, expected_version=out_leg.version, column="date",
                          value="2026-03-04")
    db_session.commit()
    assert db_session.get(Transaction, world["in"].id).date == date(2026, 3, 4) == moved.date
    check_ledger(db_session)


def test_add_form_spending_income_and_transfers(db_session, world, cats):
    alice, checking, savings = world["alice"].id, world["checking"], world["savings"]
    [spent] = svc.create_entry(db_session, alice, kind="expense", account_id=checking.id, date="2026-03-09",
                               amount="45.10", category_id=str(cats["Groceries"]), payee="Market")
    [refund] = svc.create_entry(db_session, alice, kind="expense", account_id=checking.id, date="2026-03-09",
                                amount="-5", payee="Market")
    [salary] = svc.create_entry(db_session, alice, kind="income", account_id=checking.id, date="2026-03-09",
                                amount="1,000.00", category_id=cats["Salary"])
    legs = svc.create_entry(db_session, alice, kind="transfer", account_id=savings.id, to_account_id=checking.id,
                            date="2026-03-09", amount="50")
    db_session.commit()
    assert (spent.amount, refund.amount, salary.amount) == (Decimal("-45.10"), Decimal("5.00"), Decimal("1000.00"))
    assert sorted(leg.amount for leg in legs) == [Decimal("-50.00"), Decimal("50.00")]
    assert legs[0].transfer_group == legs[1].transfer_group and legs[0].kind == "transfer"
    check_ledger(db_session)
    count = db_session.scalar(select(func.count(Transaction.id)))
    for kwargs, field in [
        ({"kind": "expense", "account_id": checking.id, "amount": "abc"}, "amount"),
        ({"kind": "income", "account_id": checking.id, "amount": "-5"}, "amount"),
        ({"kind": "expense", "account_id": world["bob_account"].id, "amount": "5"}, "account"),
        ({"kind": "expense", "account_id": checking.id, "amount": "5", "category_id": cats["Salary"]}, "category"),
        ({"kind": "transfer", "account_id": checking.id, "to_account_id": checking.id, "amount": "5"}, "to_account"),
        ({"kind": "transfer", "account_id": checking.id, "to_account_id": world["bob_account"].id, "amount": "5"},
         "account"),
        ({"kind": "loan", "account_id": checking.id, "amount": "5"}, "kind"),
    ]:
        with pytest.raises(ServiceError) as err:
            svc.create_entry(db_session, alice, date="2026-03-09", **kwargs)
        assert err.value.field == field, kwargs
        db_session.rollback()
    assert db_session.scalar(select(func.count(Transaction.id))) == count


def test_split_editor(db_session, world, cats):
    alice, bistro = world["alice"].id, world["bistro"]
    detail = svc.transaction_detail(db_session, alice, bistro.id)
    assert detail["lines"] == [{"category_id": cats["Restaurants"], "amount_cents": 2000, "memo": ""}]
    assert svc.split_remaining(2000, ["12.50", "", None]) == (750, None)
    assert svc.split_remaining(2000, ["abc"])[1].startswith("Line 1")
    with pytest.raises(ServiceError, match="add up"):
        svc.save_splits(db_session, alice, bistro.id, expected_version=bistro.version,
                        lines=[{"category_id": cats["Restaurants"], "amount": "12.50"}])
    db_session.rollback()
    split = svc.save_splits(db_session, alice, bistro.id, expected_version=bistro.version, lines=[
        {"category_id": cats["Restaurants"], "amount": "12.50", "memo": "mine"},
        {"category_id": "", "amount": "", "memo": ""},
        {"category_id": cats["Coffee"], "amount": "7.50", "memo": "Sam's"}])
    db_session.commit()
    detail = svc.transaction_detail(db_session, alice, split.id)
    assert [(line["category_id"], line["amount_cents"], line["memo"]) for line in detail["lines"]] == [
        (cats["Restaurants"], 1250, "mine"), (cats["Coffee"], 750, "Sam's")]
    with pytest.raises(Conflict):
        svc.save_splits(db_session, alice, bistro.id, expected_version=bistro.version - 1,
                        lines=[{"category_id": cats["Coffee"], "amount": "20"}])
    db_session.rollback()
    with pytest.raises(ServiceError, match="Only spending"):
        svc.save_splits(db_session, alice, world["salary"].id, expected_version=world["salary"].version,
                        lines=[{"category_id": cats["Coffee"], "amount": "20"}])
    db_session.rollback()
    with pytest.raises(NotFound):
        svc.save_splits(db_session, alice, world["bob_tx"].id, expected_version=1,
                        lines=[{"category_id": cats["Coffee"], "amount": "999"}])
    db_session.rollback()
    with pytest.raises(NotFound):  # Bob's transaction is not Alice's to read either
        svc.transaction_detail(db_session, alice, world["bob_tx"].id)
    check_ledger(db_session)


def _state(session, tx_ids):
    rows = session.execute(select(Transaction.account_id, Transaction.date, Transaction.amount, Transaction.kind,
                                  Transaction.category_id, Transaction.payee, Transaction.description,
                                  Transaction.notes).where(Transaction.id.in_(tx_ids))
                           .order_by(Transaction.amount)).all()
    lines = session.execute(select(Expense.category_id, Expense.amount, Expense.memo, Expense.budget_id)
                            .where(Expense.transaction_id.in_(tx_ids)).order_by(Expense.amount)).all()
    return [tuple(r) for r in rows], [tuple(r) for r in lines]


@pytest.mark.parametrize("name", ["costco", "salary", "out", "mystery"])
def test_delete_then_undo_recreates_the_same_transaction(db_session, world, name):
    alice, tx = world["alice"].id, world[name]
    ids = [tx.id] + ([world["in"].id] if name == "out" else [])
    before = _state(db_session, ids)
    snapshot = tx_service.snapshot_transaction(db_session, alice, tx.id)
    deleted = tx_service.delete_transaction(db_session, alice, tx.id)
    db_session.commit()
    assert sorted(deleted) == sorted(ids)
    restored = tx_service.restore_transaction(db_session, alice, snapshot)
    db_session.commit()
    assert _state(db_session, [t.id for t in restored]) == before
    check_ledger(db_session)


def test_restore_checks_ownership_and_shape(db_session, world):
    alice, bob = world["alice"].id, world["bob"].id
    snapshot = tx_service.snapshot_transaction(db_session, alice, world["bistro"].id)
    with pytest.raises(NotFound):  # Bob cannot replay Alice's snapshot into her account
        tx_service.restore_transaction(db_session, bob, snapshot)
    db_session.rollback()
    for bad in [None, {}, {"legs": "x"}, {"legs": [{}]}, {"legs": [1, 2, 3]}]:
        with pytest.raises(ServiceError):
            tx_service.restore_transaction(db_session, alice, bad)
        db_session.rollback()


def test_labels_are_whole_paths_at_any_depth(db_session, make_user, make_account):
    """A three-level category reads "Home › Utilities › Power" in the grid and on the budgets page, not
    only its parent and itself."""
    from dashboard.services import budgets as budget_service
    from dashboard.services.categories import create_category
    carol = make_user("carol@example.com")
    account = make_account(carol, "Checking")
    home = create_category(db_session, carol.id, name="Home", kind="expense")
    utilities = create_category(db_session, carol.id, name="Utilities", parent_id=home.id)
    power = create_category(db_session, carol.id, name="Power", parent_id=utilities.id)
    create_transaction(db_session, carol.id, account_id=account.id, date=date(2026, 3, 2), amount=Decimal("-40.00"),
                       category_id=power.id, payee="Grid Co")
    budget_service.create_budget(db_session, carol.id, category_id=power.id, amount="50",
                                 start_date=date(2026, 3, 1))
    budget_service.create_budget(db_session, carol.id, category_id=home.id, amount="900",
                                 start_date=date(2026, 3, 1))
    db_session.commit()
    frame = svc.rows_page(db_session, carol.id, svc.LedgerFilters(), 0, 100)
    assert list(frame["category"]) == ["Home › Utilities › Power"]
    march = budget_service.Period.containing("monthly", date(2026, 3, 1))
    budgets = budget_service.budget_frame(db_session, carol.id, march, date(2026, 3, 31))
    assert list(budgets["category"]) == ["Home", "Home › Utilities › Power"]
