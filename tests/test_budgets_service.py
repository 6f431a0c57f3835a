"""services.budgets for the Budgets page: edits that write back safely, and budget against actual.

A validation table of typed amounts (each accepted one stored exactly, each refused one leaving the
database as it was), ownership, optimistic locking (a stale version, and a race between two
sessions), rollover across several periods (examples and a hypothesis property), parent/child
coverage, the period summary, copy and fill.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from dashboard.services import budgets as svc
from dashboard.services.errors import Conflict, NotFound, ServiceError
from dashboard.services.transactions import create_transaction
from models import Budget, Category, db

D = Decimal
MARCH = svc.Period.containing("monthly", date(2025, 3, 1))


def _cat(session, name: str) -> Category:
    return session.scalar(select(Category).where(Category.name == name, Category.user_id.is_(None)))


def _spend(session, user, account, day: date, amount: str, category: str):
    create_transaction(session, user.id, account_id=account.id, date=day, amount=-D(amount), kind="expense",
                       category_id=_cat(session, category).id, payee="Shop")


def _budget(session, user, category: str, amount: str, start: date = MARCH.start, *, period_type="monthly",
            rollover=False) -> Budget:
    budget = svc.create_budget(session, user.id, category_id=_cat(session, category).id, amount=amount,
                               period_type=period_type, start_date=start, rollover=rollover)
    session.commit()
    return budget


def _stored(budget_id: int) -> tuple[Decimal, bool, int]:
    """(amount, rollover, version) read on a separate connection: nothing cached can answer."""
    with db.engine.connect() as conn:
        row = conn.execute(select(Budget.amount, Budget.rollover, Budget.version)
                           .where(Budget.id == budget_id)).one()
    return row[0], bool(row[1]), row[2]


@pytest.fixture()
def alice(make_user):
    return make_user("alice@example.com")


@pytest.fixture()
def groceries(db_session, alice):
    return _budget(db_session, alice, "Groceries", "500.00")


# -- the validation table -----------------------------------------------------------------------------

ACCEPTED = [
    ("1,234.50", D("1234.50")), ("1234.5", D("1234.50")), ("$1234", D("1234.00")), ("1234", D("1234.00")),
    ("  12 ", D("12.00")), ("$1,234.50", D("1234.50")), ("$ 1,234.50", D("1234.50")), ("1 234.50", D("1234.50")),
    ("€ 7.25", D("7.25")), ("7.25 USD", D("7.25")), ("+5", D("5.00")), (".5", D("0.50")), ("0", D("0.00")),
    ("0.00", D("0.00")), ("-0", D("0.00")), ("1234.500", D("1234.50")), ("1,000,000", D("1000000.00")),
    ("10000000000.00", D("10000000000.00")), (1234, D("1234.00")), (12.5, D("12.50")), (0.1, D("0.10")),
]

REFUSED = [
    ("abc", "not an amount"), ("-5", "cannot be negative"), ("-$5", "cannot be negative"),
    ("(5)", "cannot be negative"), ("1e308", "not an amount"), ("1E5", "not an amount"),
    ("NaN", "not an amount"), ("nan", "not an amount"), ("Infinity", "not an amount"), ("inf", "not an amount"),
    ("", "Enter an amount"), ("   ", "Enter an amount"), ("$", "Enter an amount"), (None, "Enter an amount"),
    ("1.234", "two decimals"), ("0.001", "two decimals"), ("12,34", "not an amount"),
    ("1,2345.00", "not an amount"), ("1.2.3", "not an amount"), ("12.", "not an amount"),
    ("5$5", "not an amount"), ("$$5", "not an amount"), ("1 2 3", "not an amount"), ("１２３", "not an amount"),
    ("0x10", "not an amount"), ("1_000", "not an amount"), ("12abc", "not an amount"), ("(5", "not an amount"),
    ("10000000000.01", "too large"), ("9" * 100, "too large"), ("1" * 40 + ".001", "too large"),
    ("x" * 10_000, "not an amount"), ("5; DROP TABLE budgets", "not an amount"),
    (1e308, "not an amount"), (float("nan"), "not an amount"), (float("inf"), "not an amount"),
    (-5, "cannot be negative"), (True, "Enter an amount"), ([], "not an amount"), ({"a": 1}, "not an amount"),
]


@pytest.mark.parametrize("typed, expected", ACCEPTED, ids=[repr(t)[:30] for t, _ in ACCEPTED])
def test_typed_amount_accepted_is_stored_exactly(db_session, alice, groceries, typed, expected):
    svc.apply_cell_edit(db_session, alice.id, budget_id=groceries.id, column="budgeted", value=typed,
                        expected_version=1)
    db_session.commit()
    amount, _rollover, version = _stored(groceries.id)
    assert amount == expected
    assert version == (1 if expected == D("500.00") else 2)


@pytest.mark.parametrize("typed, message", REFUSED, ids=[repr(t)[:30] for t, _ in REFUSED])
def test_typed_amount_refused_leaves_the_database_unchanged(db_session, alice, groceries, typed, message):
    with pytest.raises(ServiceError) as info:
        svc.apply_cell_edit(db_session, alice.id, budget_id=groceries.id, column="budgeted", value=typed,
                            expected_version=1)
    db_session.rollback()
    assert message.lower() in info.value.message.lower()
    assert len(info.value.message) < 200
    assert _stored(groceries.id) == (D("500.00"), False, 1)


@pytest.mark.parametrize("column", ["category", "category_id", "user_id", "spent_cents", "id", "version",
                                    "start_date", "amount", None, 7, ["budgeted"]])
def test_only_the_editable_columns_change(db_session, alice, groceries, column):
    with pytest.raises(ServiceError, match="Only the budgeted amount"):
        svc.apply_cell_edit(db_session, alice.id, budget_id=groceries.id, column=column, value="1",
                            expected_version=1)
    db_session.rollback()
    assert _stored(groceries.id) == (D("500.00"), False, 1)


@pytest.mark.parametrize("value", ["true", 1, 0, None, "on", [True]])
def test_rollover_must_be_a_real_boolean(db_session, alice, groceries, value):
    with pytest.raises(ServiceError, match="Rollover"):
        svc.apply_cell_edit(db_session, alice.id, budget_id=groceries.id, column="rollover", value=value,
                            expected_version=1)
    db_session.rollback()
    assert _stored(groceries.id) == (D("500.00"), False, 1)


def test_rollover_switch_is_stored(db_session, alice, groceries):
    svc.apply_cell_edit(db_session, alice.id, budget_id=groceries.id, column="rollover", value=True,
                        expected_version=1)
    db_session.commit()
    assert _stored(groceries.id) == (D("500.00"), True, 2)


# -- ownership and versions ---------------------------------------------------------------------------

@pytest.mark.parametrize("budget_id", ["0", -1, "1.0", None, True, 2**70, "abc", "1 OR 1=1", [1], {"id": 1}])
def test_unreadable_ids_are_unknown_budgets(db_session, alice, groceries, budget_id):
    with pytest.raises(ServiceError, match="Unknown"):
        svc.apply_cell_edit(db_session, alice.id, budget_id=budget_id, column="budgeted", value="1",
                            expected_version=1)


def test_an_edit_naming_another_users_budget_changes_nothing(db_session, make_user, alice, groceries):
    bob = make_user("bob@example.com")
    bobs = _budget(db_session, bob, "Groceries", "300.00")
    for column, value in (("budgeted", "1"), ("rollover", True)):
        with pytest.raises(NotFound):
            svc.apply_cell_edit(db_session, alice.id, budget_id=bobs.id, column=column, value=value,
                                expected_version=1)
        db_session.rollback()
    with pytest.raises(NotFound):
        svc.delete_budget(db_session, alice.id, bobs.id)
    db_session.rollback()
    assert svc.budget_label(db_session, alice.id, bobs.id) is None
    assert _stored(bobs.id) == (D("300.00"), False, 1)
    assert _stored(groceries.id) == (D("500.00"), False, 1)


def test_a_stale_version_is_a_conflict_and_the_first_save_stays(db_session, alice, groceries):
    # Two tabs read version 1; the first saves 600, the second tries 700 with the version it saw.
    svc.apply_cell_edit(db_session, alice.id, budget_id=groceries.id, column="budgeted", value="600",
                        expected_version=1)
    db_session.commit()
    with pytest.raises(Conflict) as info:
        svc.apply_cell_edit(db_session, alice.id, budget_id=groceries.id, column="budgeted", value="700",
                            expected_version=1)
    db_session.rollback()
    assert info.value.current.amount == D("600.00")  # the fresh value, for the page to show
    assert _stored(groceries.id) == (D("600.00"), False, 2)
    # Having seen version 2, the second tab can save.
    svc.apply_cell_edit(db_session, alice.id, budget_id=groceries.id, column="budgeted", value="700",
                        expected_version=2)
    db_session.commit()
    assert _stored(groceries.id) == (D("700.00"), False, 3)


@pytest.mark.parametrize("version", [None, "x", True, 1.5, "", [1], 0, -1, 2**40])
def test_a_missing_or_forged_version_is_refused(db_session, alice, groceries, version):
    with pytest.raises(ServiceError):
        svc.apply_cell_edit(db_session, alice.id, budget_id=groceries.id, column="budgeted", value="9",
                            expected_version=version)
    db_session.rollback()
    assert _stored(groceries.id) == (D("500.00"), False, 1)


def test_a_race_between_two_sessions_is_caught_by_the_version_column(db_session, alice, groceries):
    """Both requests pass the version check; the database's `WHERE version = 1` stops the later one."""
    db_session.commit()
    loaded = svc.get_budget(db_session, alice.id, groceries.id)
    assert loaded.version == 1
    with Session(db.engine) as other:  # the other tab's request, committing in between
        svc.update_budget(other, alice.id, groceries.id, expected_version=1, amount="650")
        other.commit()
    stale_writes = []

    def _rolled_back(*_args):
        stale_writes.append(1)

    session = db_session()  # the real Session behind the scoped one: the listener stays on it alone
    event.listen(session, "after_soft_rollback", _rolled_back)
    try:
        with pytest.raises(Conflict) as info:
            # This session still holds version 1 in its identity map, so the check passes; the UPDATE
            # finds no row.
            svc.update_budget(db_session, alice.id, groceries.id, expected_version=1, amount="800")
    finally:
        event.remove(session, "after_soft_rollback", _rolled_back)
    assert stale_writes, "the conflict came from the UPDATE's version check, not the early one"
    db_session.rollback()
    assert info.value.current.amount == D("650.00")
    assert _stored(groceries.id) == (D("650.00"), False, 2)


# -- spending, coverage and the frame -----------------------------------------------------------------

def test_parent_budget_covers_children_without_their_own(db_session, alice, make_account):
    account = make_account(alice)
    food = _budget(db_session, alice, "Food", "600.00")
    _spend(db_session, alice, account, date(2025, 3, 3), "100.00", "Groceries")
    _spend(db_session, alice, account, date(2025, 3, 4), "40.00", "Restaurants")
    _spend(db_session, alice, account, date(2025, 3, 5), "10.00", "Food")
    _spend(db_session, alice, account, date(2025, 4, 1), "999.00", "Groceries")  # another month
    db_session.commit()
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 31)).set_index("category")
    assert frame.loc["Food", "spent_cents"] == 15000
    # Groceries gets its own budget: its spending moves there, Restaurants stays with Food.
    _budget(db_session, alice, "Groceries", "300.00")
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 31)).set_index("category")
    assert frame.loc["Food", "spent_cents"] == 5000
    assert frame.loc["Food › Groceries", "spent_cents"] == 10000
    assert frame.loc["Food › Groceries", "remaining_cents"] == 20000
    assert frame.loc["Food › Groceries", "pct_used"] == pytest.approx(33.3)
    # Deleting it hands the spending back to the parent.
    svc.delete_budget(db_session, alice.id, frame.loc["Food › Groceries", "id"])
    db_session.commit()
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 31)).set_index("category")
    assert frame.loc["Food", "spent_cents"] == 15000
    assert food.id == frame.loc["Food", "id"]


def test_a_budget_covers_its_whole_subtree_at_any_depth(db_session, alice, make_account):
    """Three levels of the user's own (Home › Flat › Repairs): a budget on the top covers the lines of
    the grandchild; one on the middle level takes them over (nearest wins); a bulk edit into the
    grandchild, its undo and a move keep every line in the covering budget."""
    from dashboard.services import bulk_edit
    from dashboard.services.budget_lines import assign_budgets, covering_budget_id
    from dashboard.services.categories import create_category, move_category
    from models import Expense
    account = make_account(alice)
    home = create_category(db_session, alice.id, name="Home", kind="expense")
    flat = create_category(db_session, alice.id, name="Flat", parent_id=home.id)
    repairs = create_category(db_session, alice.id, name="Repairs", parent_id=flat.id)
    db_session.commit()
    for day, amount in ((3, "120.00"), (9, "30.00")):
        create_transaction(db_session, alice.id, account_id=account.id, date=date(2025, 3, day), amount=-D(amount),
                           kind="expense", category_id=repairs.id, payee="Plumber")
    create_transaction(db_session, alice.id, account_id=account.id, date=date(2025, 3, 4), amount=-D("7.00"),
                       kind="expense", category_id=_cat(db_session, "Groceries").id, payee="Corner shop")
    db_session.commit()
    top = svc.create_budget(db_session, alice.id, category_id=home.id, amount="500", start_date=MARCH.start)
    db_session.commit()
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 31)).set_index("id")
    assert frame.loc[top.id, "spent_cents"] == 15000
    middle = svc.create_budget(db_session, alice.id, category_id=flat.id, amount="200", start_date=MARCH.start)
    db_session.commit()
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 31)).set_index("id")
    assert frame.loc[middle.id, "spent_cents"] == 15000 and frame.loc[top.id, "spent_cents"] == 0
    april = MARCH.shift(1)
    assert svc.average_spending(db_session, alice.id, april, 1) == {home.id: D("150"),
                                                                   _cat(db_session, "Food").id: D("7")}
    svc.create_budget(db_session, alice.id, category_id=flat.id, amount="1", start_date=april.start)
    assert svc.average_spending(db_session, alice.id, april, 1) == {flat.id: D("150"),
                                                                   _cat(db_session, "Food").id: D("7")}
    db_session.rollback()

    def every_line_in_its_budget():
        wrong = db_session.scalars(select(Expense.id).where(
            Expense.user_id == alice.id,
            Expense.budget_id.is_distinct_from(covering_budget_id(Expense.user_id, Expense.category_id,
                                                                  Expense.date)))).all()
        assert wrong == []

    every_line_in_its_budget()
    # A bulk edit moves the grocery row three levels down: it lands in the middle budget.
    batch = bulk_edit.apply(db_session, alice.id, bulk_edit.filter_where(db_session, alice.id, {"q": "corner"}),
                            bulk_edit.make_actions(db_session, alice.id, category_id=repairs.id), label="b")
    db_session.commit()
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 31)).set_index("id")
    assert frame.loc[middle.id, "spent_cents"] == 15700
    every_line_in_its_budget()
    bulk_edit.undo(db_session, alice.id, batch.id)
    db_session.commit()
    every_line_in_its_budget()
    # Repairs moves to the top level: only its own (none) would cover it now.
    move_category(db_session, alice.id, repairs.id, parent_id=None, expected_version=repairs.version)
    db_session.commit()
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 31)).set_index("id")
    assert frame.loc[middle.id, "spent_cents"] == 0
    every_line_in_its_budget()
    assign_budgets(db_session, alice.id)
    every_line_in_its_budget()


def test_frame_is_the_users_own_and_the_periods_own(db_session, make_user, alice, make_account):
    bob = make_user("bob@example.com")
    _budget(db_session, bob, "Groceries", "1.00")
    _budget(db_session, alice, "Groceries", "500.00")
    _budget(db_session, alice, "Groceries", "70.00", date(2025, 3, 3), period_type="weekly")
    _budget(db_session, alice, "Rent", "1500.00", date(2025, 4, 1))
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 10))
    assert frame["amount_cents"].tolist() == [50000]
    week = svc.Period.containing("weekly", date(2025, 3, 5))
    assert svc.budget_frame(db_session, alice.id, week, date(2025, 3, 10))["amount_cents"].tolist() == [7000]


def test_pace_is_where_even_spending_would_be_today(db_session, alice, groceries):
    for today, pace in ((date(2025, 2, 1), 0), (date(2025, 3, 1), 50000 * 1 // 31),
                        (date(2025, 3, 16), 50000 * 16 // 31), (date(2025, 5, 1), 50000)):
        frame = svc.budget_frame(db_session, alice.id, MARCH, today)
        assert frame["pace_cents"].tolist() == [pace]


def test_period_summary(db_session, alice, make_account):
    account = make_account(alice)
    create_transaction(db_session, alice.id, account_id=account.id, date=date(2025, 3, 1), amount=D("3000"),
                       kind="income", category_id=_cat(db_session, "Salary").id)
    _budget(db_session, alice, "Groceries", "500.00")
    _budget(db_session, alice, "Rent", "1200.00")
    _spend(db_session, alice, account, date(2025, 3, 2), "120.50", "Groceries")
    _spend(db_session, alice, account, date(2025, 3, 3), "1250.00", "Rent")
    _spend(db_session, alice, account, date(2025, 3, 4), "60.00", "Fuel")  # no budget covers it
    db_session.commit()
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 10))
    summary = svc.period_summary(db_session, alice.id, MARCH, frame, date(2025, 3, 10))
    assert summary.budgeted_cents == 170000
    assert summary.spent_cents == 137050
    assert summary.left_cents == 170000 - 137050
    assert summary.outside_cents == 6000
    assert summary.income_cents == 300000
    assert summary.unbudgeted_income_cents == 130000
    assert (summary.days_left, summary.days_total, summary.count) == (21, 31, 2)
    rent = frame.set_index("category").loc["Housing › Rent"]
    assert rent["remaining_cents"] == -5000 and rent["pct_used"] == pytest.approx(104.2)


# -- rollover -----------------------------------------------------------------------------------------

def test_rollover_carries_surplus_and_deficit_across_several_months(db_session, alice, make_account):
    account = make_account(alice)
    months = [date(2025, m, 1) for m in (1, 2, 3, 4, 5)]
    amounts = ["100.00", "100.00", "100.00", "100.00", "100.00"]
    spent = ["60.00", "150.00", "0", "30.00", "0"]  # Jan +40, Feb -50 (+40 in) = -10, Mar +90, Apr +70
    rollover = [True, True, True, False, True]
    for start, amount, used, roll in zip(months, amounts, spent, rollover, strict=True):
        _budget(db_session, alice, "Groceries", amount, start, rollover=roll)
        if D(used):
            _spend(db_session, alice, account, start.replace(day=10), used, "Groceries")
    db_session.commit()
    carried, left = [], []
    for start in months:
        period = svc.Period.containing("monthly", start)
        row = svc.budget_frame(db_session, alice.id, period, date(2025, 12, 31)).iloc[0]
        carried.append(int(row["carried_cents"]))
        left.append(int(row["remaining_cents"]))
    assert carried == [0, 4000, -1000, 9000, 0]  # April does not roll over: May starts afresh
    assert left == [4000, -1000, 9000, 16000, 10000]
    # A gap breaks the chain: no June budget, so July receives nothing from May.
    _budget(db_session, alice, "Groceries", "100.00", date(2025, 7, 1), rollover=True)
    july = svc.Period.containing("monthly", date(2025, 7, 1))
    assert svc.budget_frame(db_session, alice.id, july, date(2025, 7, 1))["carried_cents"].tolist() == [0]


def test_rollover_is_per_category_and_per_period_type(db_session, make_user, alice, make_account):
    account = make_account(alice)
    _budget(db_session, alice, "Groceries", "100.00", date(2025, 2, 1), rollover=True)
    _budget(db_session, alice, "Fuel", "50.00", date(2025, 2, 1), rollover=True)
    _spend(db_session, alice, account, date(2025, 2, 3), "20.00", "Fuel")
    _budget(db_session, alice, "Groceries", "100.00")
    _budget(db_session, alice, "Fuel", "50.00")
    bob = make_user("bob@example.com")  # another user's rollover never leaks in
    _budget(db_session, bob, "Groceries", "900.00", date(2025, 2, 1), rollover=True)
    _budget(db_session, bob, "Groceries", "1.00")
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 5)).set_index("category")
    assert frame.loc["Food › Groceries", "carried_cents"] == 10000
    assert frame.loc["Transportation › Fuel", "carried_cents"] == 3000
    assert frame.loc["Food › Groceries", "available_cents"] == 20000
    # Weekly budgets have their own chain.
    w1 = svc.Period.containing("weekly", date(2025, 3, 3))
    _budget(db_session, alice, "Groceries", "25.00", w1.start, period_type="weekly", rollover=True)
    _budget(db_session, alice, "Groceries", "25.00", w1.shift(1).start, period_type="weekly")
    assert svc.budget_frame(db_session, alice.id, w1.shift(1), date(2025, 3, 12))["carried_cents"].tolist() \
        == [2500]


chains = st.lists(st.tuples(st.integers(0, 10**9), st.integers(-10**8, 10**9), st.booleans()),
                  min_size=1, max_size=30)


@given(chains, st.sampled_from(["monthly", "weekly", "yearly"]))
@settings(max_examples=300, deadline=None)
def test_carried_amounts_sum_consistently(chain, period_type):
    """Over consecutive periods: each carry is the previous period's left-over when it rolls over;
    the carries sum to the left-overs that rolled; with rollover on throughout, what is left at the end
    is everything budgeted minus everything spent."""
    period = svc.Period.containing(period_type, date(2024, 1, 1))
    rows = []
    for amount, spent, rollover in chain:
        rows.append((period.start, amount, spent, rollover))
        period = period.shift(1)
    carries = svc.rollover_carries(rows, period_type)
    left = [a + c - s for (_, a, s, _), c in zip(rows, carries, strict=True)]
    assert carries[0] == 0
    for k in range(1, len(rows)):
        assert carries[k] == (left[k - 1] if rows[k - 1][3] else 0)
    assert sum(carries) == sum(left[k] for k in range(len(rows) - 1) if rows[k][3])
    # Telescoping: the last unbroken rollover run ends with its budgets minus its spending.
    first = len(rows) - 1
    while first > 0 and rows[first - 1][3]:
        first -= 1
    assert left[-1] == sum(a - s for _, a, s, _ in rows[first:])


@given(chains)
@settings(max_examples=100, deadline=None)
def test_a_gap_breaks_the_chain(chain):
    period = svc.Period.containing("monthly", date(2024, 1, 1))
    rows = [(period.shift(2 * i).start, a, s, True) for i, (a, s, _) in enumerate(chain)]  # every other month
    assert svc.rollover_carries(rows, "monthly") == [0] * len(rows)


# -- add, copy, fill, categories, periods -------------------------------------------------------------

def test_add_budget_checks_category_and_amount(db_session, alice, groceries):
    with pytest.raises(ServiceError, match="already has a budget"):
        svc.add_budget(db_session, alice.id, MARCH, category_id=_cat(db_session, "Groceries").id, amount="1")
    db_session.rollback()
    with pytest.raises(ServiceError, match="income category"):
        svc.add_budget(db_session, alice.id, MARCH, category_id=_cat(db_session, "Salary").id, amount="1")
    db_session.rollback()
    for category, amount, message in ((None, "1", "Choose a category"), ("", "1", "Choose a category"),
                                      (_cat(db_session, "Rent").id, "", "Enter an amount"),
                                      (_cat(db_session, "Rent").id, "abc", "not an amount"),
                                      (999_999, "5", "Unknown category")):
        with pytest.raises(ServiceError, match=message):
            svc.add_budget(db_session, alice.id, MARCH, category_id=category, amount=amount)
        db_session.rollback()
    budget = svc.add_budget(db_session, alice.id, MARCH, category_id=str(_cat(db_session, "Rent").id),
                            amount="1,500", rollover=True)
    db_session.commit()
    assert (budget.start_date, budget.end_date, budget.rollover) == (date(2025, 3, 1), date(2025, 3, 31), True)
    free = svc.unbudgeted_categories(db_session, alice.id, MARCH)
    assert "Food › Groceries" not in free["full_name"].tolist()
    assert "Housing › Rent" not in free["full_name"].tolist()
    assert "Food" in free["full_name"].tolist() and "Salary" not in free["full_name"].tolist()
    assert free["full_name"].tolist().index("Food") < free["full_name"].tolist().index("Food › Coffee")


def test_copy_previous_period_adds_only_missing_categories(db_session, alice):
    _budget(db_session, alice, "Groceries", "450.00", date(2025, 2, 1), rollover=True)
    _budget(db_session, alice, "Rent", "1200.00", date(2025, 2, 1))
    _budget(db_session, alice, "Rent", "1300.00")  # already budgeted in March: kept
    assert svc.copy_previous_period(db_session, alice.id, MARCH) == 1
    db_session.commit()
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 1)).set_index("category")
    assert frame.loc["Food › Groceries", "amount_cents"] == 45000 and frame.loc["Food › Groceries", "rollover"]
    assert frame.loc["Housing › Rent", "amount_cents"] == 130000
    assert svc.copy_previous_period(db_session, alice.id, MARCH) == 0


def test_fill_from_average_of_the_last_three_periods(db_session, alice, make_account):
    account = make_account(alice)
    for month, amount in ((12, "90.00"), (1, "100.00"), (2, "110.50")):
        day = date(2024 if month == 12 else 2025, month, 5)
        _spend(db_session, alice, account, day, amount, "Groceries")
        _spend(db_session, alice, account, day, "10.00", "Restaurants")
    _spend(db_session, alice, account, date(2024, 11, 5), "5000.00", "Groceries")  # four months back: ignored
    _spend(db_session, alice, account, date(2025, 1, 5), "40.00", "Fuel")
    db_session.commit()
    _budget(db_session, alice, "Groceries", "0")        # zero: filled
    _budget(db_session, alice, "Fuel", "25.00")         # typed: kept
    added, filled = svc.fill_from_average(db_session, alice.id, MARCH)
    db_session.commit()
    frame = svc.budget_frame(db_session, alice.id, MARCH, date(2025, 3, 1)).set_index("category")
    assert (added, filled) == (1, 1)
    assert frame.loc["Food › Groceries", "amount_cents"] == 10000  # (90 + 100 + 110.50) / 3 = 100.17 -> 100
    assert frame.loc["Transportation › Fuel", "amount_cents"] == 2500
    assert frame.loc["Food", "amount_cents"] == 1000  # Restaurants has no budget: a new one for its parent
    assert svc.fill_from_average(db_session, alice.id, MARCH) == (0, 0)


@pytest.mark.parametrize("kind, value, start, end", [
    ("monthly", "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
    ("monthly", "2024-02-17", date(2024, 2, 1), date(2024, 2, 29)),
    ("weekly", "2026-11-18", date(2026, 11, 16), date(2026, 11, 22)),
    ("yearly", "2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("yearly", "2026-07", date(2026, 1, 1), date(2026, 12, 31)),
    ("monthly", "garbage", date(2025, 3, 1), date(2025, 3, 31)),
    ("monthly", "2026-13", date(2025, 3, 1), date(2025, 3, 31)),
    ("monthly", "0001-01", date(2025, 3, 1), date(2025, 3, 31)),
    ("monthly", "9999-12", date(2025, 3, 1), date(2025, 3, 31)),
    ("custom", "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
    (None, None, date(2025, 3, 1), date(2025, 3, 31)),
    ("weekly", {"x": 1}, date(2025, 3, 10), date(2025, 3, 16)),
])
def test_parse_period_never_fails(kind, value, start, end):
    period = svc.parse_period(kind, value, date(2025, 3, 14))
    assert (period.start, period.end) == (start, end)


def test_period_shift_and_labels():
    nov = svc.parse_period("monthly", "2026-11", date(2026, 1, 1))
    assert nov.shift(-1).key == "2026-10" and nov.shift(2).key == "2027-01" and nov.label == "November 2026"
    week = svc.parse_period("weekly", "2026-11-30", date(2026, 1, 1))
    assert week.key == "2026-11-30" and week.label == "Nov 30\u2009–\u2009Dec 6, 2026" and week.shift(1).key == "2026-12-07"
    assert svc.parse_period("weekly", "2026-11-18", date(2026, 1, 1)).label == "Nov 16\u2009–\u200922, 2026"
    assert svc.parse_period("yearly", "2026", date(2026, 1, 1)).shift(-1).label == "2025"
