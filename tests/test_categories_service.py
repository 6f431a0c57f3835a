"""The user's own taxonomy: create, rename, recolour, move (any depth), hide, merge, delete; bad input
changes nothing; merges, moves and deletes never change a total by month, and the roll-up stays equal
to a recomputation from the raw rows (a hypothesis property test)."""
from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_rollup import assert_exact

from dashboard.services import categories as svc
from dashboard.services.budgets import create_budget
from dashboard.services.errors import Conflict, NotFound, ServiceError
from dashboard.services.rollup import month_of
from dashboard.services.sql import cents
from dashboard.services.transactions import create_transaction
from models import Budget, Category, Expense, ImportRule, MonthlyRollup, Transaction

_emails = itertools.count()


def builtin(session, name):
    return session.scalar(select(Category).where(Category.user_id.is_(None), Category.name == name))


def state(session, user_id):
    """Everything a user owns that a category write may touch, to prove a refused write changed nothing."""
    cats = session.execute(select(Category.id, Category.name, Category.parent_id, Category.color, Category.version)
                           .where(Category.user_id == user_id).order_by(Category.id)).all()
    txs = session.execute(select(Transaction.id, Transaction.category_id, Transaction.version)
                          .where(Transaction.user_id == user_id).order_by(Transaction.id)).all()
    lines = session.execute(select(Expense.id, Expense.category_id, Expense.budget_id)
                            .where(Expense.user_id == user_id).order_by(Expense.id)).all()
    budgets = session.execute(select(Budget.id, Budget.category_id, Budget.amount)
                              .where(Budget.user_id == user_id).order_by(Budget.id)).all()
    return [list(map(tuple, x)) for x in (cats, txs, lines, budgets)]


def raw_by_month_category(session, user_id):
    m = month_of(session, Expense.date)
    rows = session.execute(select(m, Expense.category_id, func.sum(cents(Expense.amount)))
                           .where(Expense.user_id == user_id).group_by(m, Expense.category_id)).all()
    return {(str(a)[:10], c): int(t) for a, c, t in rows if int(t)}


def rollup_by_month_category(session, user_id):
    rows = session.execute(select(MonthlyRollup.month, MonthlyRollup.category_id,
                                  func.sum(MonthlyRollup.total_cents))
                           .where(MonthlyRollup.user_id == user_id, MonthlyRollup.flow == "spending")
                           .group_by(MonthlyRollup.month, MonthlyRollup.category_id)).all()
    return {(str(a)[:10], c): int(t) for a, c, t in rows if int(t)}


def by_month(totals):
    out = defaultdict(int)
    for (month, _cat), total in totals.items():
        out[month] += total
    return {k: v for k, v in out.items() if v}


def by_top(session, user_id, totals):
    tops = dict(zip(*[svc.category_frame(session, user_id)[c] for c in ("id", "top_id")]))
    out = defaultdict(int)
    for (month, cat), total in totals.items():
        out[(month, tops.get(cat))] += total
    return {k: v for k, v in out.items() if v}


@pytest.fixture()
def alice(make_user):
    return make_user(f"cat{next(_emails)}@example.com")


def test_create_at_any_depth_and_frame_paths(db_session, alice):
    home = svc.create_category(db_session, alice.id, name="  Home ", color="#AA0000")
    util = svc.create_category(db_session, alice.id, name="Utilities", parent_id=home.id)
    power = svc.create_category(db_session, alice.id, name="Power", parent_id=util.id)
    frame = svc.category_frame(db_session, alice.id).set_index("id")
    assert frame.loc[power.id, "full_name"] == "Home › Utilities › Power"
    assert frame.loc[power.id, "depth"] == 2 and frame.loc[power.id, "top_id"] == home.id
    assert frame.loc[power.id, "color"] == "#aa0000"  # inherited from the nearest coloured ancestor
    assert list(frame.loc[power.id, "path_ids"]) == [home.id, util.id, power.id]
    assert set(svc.with_descendants(db_session, alice.id, [home.id])) == {home.id, util.id, power.id}
    # Under a built-in one too, with the parent's kind.
    under = svc.create_category(db_session, alice.id, name="Oat milk", parent_id=builtin(db_session, "Groceries").id)
    assert under.kind == "expense" and under.user_id == alice.id


@pytest.mark.parametrize("name, message", [("", "Enter a name"), ("   ", "Enter a name"),
                                            ("x" * 10_000, "at most 100"), (None, "Enter a name"),
                                            (["a"], "Enter a name"), ("A › B", "›")])
def test_bad_names_are_refused(db_session, alice, name, message):
    own = svc.create_category(db_session, alice.id, name="Mine")
    db_session.commit()
    before = state(db_session, alice.id)
    with pytest.raises(ServiceError, match=message):
        svc.create_category(db_session, alice.id, name=name)
    with pytest.raises(ServiceError, match=message):
        svc.rename_category(db_session, alice.id, own.id, expected_version=own.version, name=name)
    db_session.rollback()
    assert state(db_session, alice.id) == before


def test_duplicate_sibling_names_and_colours(db_session, alice):
    home = svc.create_category(db_session, alice.id, name="Home")
    with pytest.raises(ServiceError, match="already"):
        svc.create_category(db_session, alice.id, name="home")
    with pytest.raises(ServiceError, match="already"):
        svc.create_category(db_session, alice.id, name="Groceries", parent_id=builtin(db_session, "Food").id)
    with pytest.raises(ServiceError, match="colour"):
        svc.recolor_category(db_session, alice.id, home.id, expected_version=home.version, color="red;x")
    svc.recolor_category(db_session, alice.id, home.id, expected_version=home.version, color="#00FF00")
    assert home.color == "#00ff00" and home.version == 2


def test_move_refuses_cycles_at_any_depth(db_session, alice):
    a = svc.create_category(db_session, alice.id, name="A")
    b = svc.create_category(db_session, alice.id, name="B", parent_id=a.id)
    c = svc.create_category(db_session, alice.id, name="C", parent_id=b.id)
    d = svc.create_category(db_session, alice.id, name="D", parent_id=c.id)
    db_session.commit()
    before = state(db_session, alice.id)
    for parent in (a, b, c, d):
        with pytest.raises(ServiceError, match="loop|own parent"):
            svc.move_category(db_session, alice.id, a.id, expected_version=a.version, parent_id=parent.id)
    with pytest.raises(ServiceError, match="income"):
        svc.move_category(db_session, alice.id, a.id, expected_version=a.version,
                          parent_id=builtin(db_session, "Salary").id)
    db_session.rollback()
    assert state(db_session, alice.id) == before
    svc.move_category(db_session, alice.id, d.id, expected_version=d.version, parent_id=None)
    svc.move_category(db_session, alice.id, a.id, expected_version=a.version, parent_id=d.id)
    frame = svc.category_frame(db_session, alice.id).set_index("id")
    assert frame.loc[c.id, "full_name"] == "D › A › B › C"


def test_versions_and_other_users(db_session, alice, make_user):
    bob = make_user(f"bob{next(_emails)}@example.com")
    mine = svc.create_category(db_session, alice.id, name="Mine")
    db_session.commit()
    with pytest.raises(Conflict):
        svc.rename_category(db_session, alice.id, mine.id, expected_version=mine.version + 1, name="X")
    before = state(db_session, alice.id)
    for call in (lambda: svc.rename_category(db_session, bob.id, mine.id, expected_version=1, name="X"),
                 lambda: svc.move_category(db_session, bob.id, mine.id, expected_version=1, parent_id=None),
                 lambda: svc.delete_category(db_session, bob.id, mine.id, expected_version=1),
                 lambda: svc.merge_categories(db_session, bob.id, mine.id, builtin(db_session, "Food").id,
                                              expected_version=1),
                 lambda: svc.create_category(db_session, bob.id, name="Sub", parent_id=mine.id),
                 lambda: svc.set_hidden(db_session, bob.id, mine.id, True)):
        with pytest.raises(NotFound, match="Unknown category"):
            call()
    db_session.rollback()
    assert state(db_session, alice.id) == before


def test_built_ins_are_hidden_not_changed(db_session, alice, make_user):
    bob = make_user(f"bob{next(_emails)}@example.com")
    food = builtin(db_session, "Food")
    with pytest.raises(ServiceError, match="built in"):
        svc.rename_category(db_session, alice.id, food.id, expected_version=food.version, name="Eats")
    svc.set_hidden(db_session, alice.id, food.id, True)
    db_session.commit()
    frame = svc.category_frame(db_session, alice.id).set_index("name")
    assert frame.loc["Food", "hidden"] and frame.loc["Groceries", "hidden"]   # with its subtree
    assert "Food" not in {c["label"] for c in svc.category_choices(db_session, alice.id)}
    assert "Food" in {c["label"] for c in svc.category_choices(db_session, bob.id)}
    svc.set_hidden(db_session, alice.id, food.id, False)
    assert "Food" in {c["label"] for c in svc.category_choices(db_session, alice.id)}


def seed_rows(session, user, account, cats, months=4):
    """A few expenses per category per month."""
    made = []
    for i, cat in enumerate(cats):
        for m in range(months):
            made.append(create_transaction(session, user.id, account_id=account.id, date=date(2026, 1 + m, 3 + i % 20),
                                           amount=Decimal(f"-{10 + i}.{m:02d}"), category_id=cat.id,
                                           payee=f"Shop {i % 3}"))
    session.commit()
    return made


def test_merge_moves_everything_and_reports_budget_clashes(db_session, alice, make_account):
    acc = make_account(alice)
    a = svc.create_category(db_session, alice.id, name="Food:Alcohol")
    b = svc.create_category(db_session, alice.id, name="Drinks")
    child = svc.create_category(db_session, alice.id, name="Wine", parent_id=a.id)
    seed_rows(db_session, alice, acc, [a, b, child], months=2)
    create_budget(db_session, alice.id, category_id=a.id, amount="50", start_date=date(2026, 1, 1))
    create_budget(db_session, alice.id, category_id=b.id, amount="70", start_date=date(2026, 1, 1))
    create_budget(db_session, alice.id, category_id=a.id, amount="20", start_date=date(2026, 2, 1))
    db_session.add(ImportRule(user_id=alice.id, pattern="bar", match_type="contains", category_id=a.id))
    db_session.commit()
    totals = raw_by_month_category(db_session, alice.id)
    plan = svc.merge_plan(db_session, alice.id, a.id, b.id)
    assert plan.transactions == 2 and plan.budgets == 2 and plan.rules == 1 and plan.children == 1
    assert [c["start"] for c in plan.clashes] == [date(2026, 1, 1)]
    assert plan.clashes[0]["source_cents"] == 5000 and plan.clashes[0]["target_cents"] == 7000
    svc.merge_categories(db_session, alice.id, a.id, b.id, expected_version=a.version, budgets="sum")
    db_session.commit()
    assert db_session.get(Category, a.id) is None
    assert db_session.get(Category, child.id).parent_id == b.id
    budgets = dict(db_session.execute(select(Budget.start_date, Budget.amount)
                                      .where(Budget.user_id == alice.id, Budget.category_id == b.id)).all())
    assert budgets == {date(2026, 1, 1): Decimal("120.00"), date(2026, 2, 1): Decimal("20.00")}
    assert db_session.scalar(select(ImportRule.category_id).where(ImportRule.user_id == alice.id)) == b.id
    assert by_month(raw_by_month_category(db_session, alice.id)) == by_month(totals)
    assert rollup_by_month_category(db_session, alice.id) == raw_by_month_category(db_session, alice.id)
    # Every line sits in a budget of its (new) category again.
    jan_lines = db_session.execute(select(Expense.budget_id).where(
        Expense.user_id == alice.id, Expense.category_id == b.id, Expense.date < date(2026, 2, 1))).scalars().all()
    assert jan_lines and all(bid is not None for bid in jan_lines)


def test_merge_keep_target_budget_and_bad_merges(db_session, alice, make_account):
    acc = make_account(alice)
    a = svc.create_category(db_session, alice.id, name="A")
    b = svc.create_category(db_session, alice.id, name="B")
    inner = svc.create_category(db_session, alice.id, name="Inner", parent_id=a.id)
    seed_rows(db_session, alice, acc, [a, b], months=1)
    create_budget(db_session, alice.id, category_id=a.id, amount="50", start_date=date(2026, 1, 1))
    create_budget(db_session, alice.id, category_id=b.id, amount="70", start_date=date(2026, 1, 1))
    db_session.commit()
    before = state(db_session, alice.id)
    for target, message in ((a, "itself"), (inner, "inside"), (builtin(db_session, "Salary"), "income")):
        with pytest.raises(ServiceError, match=message):
            svc.merge_categories(db_session, alice.id, a.id, target.id, expected_version=a.version)
    with pytest.raises(ServiceError, match="Choose"):
        svc.merge_categories(db_session, alice.id, a.id, b.id, expected_version=a.version, budgets="max")
    with pytest.raises(Conflict):
        svc.merge_categories(db_session, alice.id, a.id, b.id, expected_version=a.version + 5)
    db_session.rollback()
    assert state(db_session, alice.id) == before
    svc.merge_categories(db_session, alice.id, a.id, b.id, expected_version=a.version, budgets="keep")
    db_session.commit()
    assert db_session.scalar(select(Budget.amount).where(Budget.category_id == b.id)) == Decimal("70.00")


def test_merge_a_builtin_hides_it(db_session, alice, make_account):
    acc = make_account(alice)
    alcohol = builtin(db_session, "Groceries")
    mine = svc.create_category(db_session, alice.id, name="My shop")
    seed_rows(db_session, alice, acc, [alcohol], months=1)
    svc.merge_categories(db_session, alice.id, alcohol.id, mine.id, expected_version=alcohol.version)
    db_session.commit()
    assert db_session.get(Category, alcohol.id) is not None   # shared: still there for everyone
    assert alcohol.id in svc.hidden_ids(db_session, alice.id)
    assert db_session.scalar(select(func.count()).where(Transaction.category_id == alcohol.id,
                                                        Transaction.user_id == alice.id)) == 0


def test_delete_with_a_choice_of_where_transactions_go(db_session, alice, make_account):
    acc = make_account(alice)
    a = svc.create_category(db_session, alice.id, name="A")
    sub = svc.create_category(db_session, alice.id, name="Sub", parent_id=a.id)
    b = svc.create_category(db_session, alice.id, name="B")
    seed_rows(db_session, alice, acc, [a, sub, b], months=2)
    totals = raw_by_month_category(db_session, alice.id)
    with pytest.raises(ServiceError, match="inside"):
        svc.delete_category(db_session, alice.id, a.id, expected_version=a.version, move_to=sub.id)
    moved = svc.delete_category(db_session, alice.id, a.id, expected_version=a.version, move_to=b.id)
    db_session.commit()
    assert moved == 2
    assert db_session.get(Category, sub.id).parent_id is None  # moved up
    assert by_month(raw_by_month_category(db_session, alice.id)) == by_month(totals)
    svc.delete_category(db_session, alice.id, b.id, expected_version=b.version, move_to=None)
    db_session.commit()
    after = raw_by_month_category(db_session, alice.id)
    assert by_month(after) == by_month(totals)
    assert any(cat is None for _m, cat in after)
    assert rollup_by_month_category(db_session, alice.id) == after


def test_delete_and_merge_move_split_lines_and_income_in_every_rollup(db_session, alice, make_account):
    """The roll-ups follow the rows a delete or merge moves (shifted, not recomputed): a split's line in
    the category (its other line and its header stay), income in an income category, a second payee on
    the same day; each roll-up holds one row per key afterwards and equals a recomputation."""
    from test_rollup import assert_folded

    from dashboard.services.transactions import Split
    acc = make_account(alice)
    a = svc.create_category(db_session, alice.id, name="A")
    b = svc.create_category(db_session, alice.id, name="B")
    pay = svc.create_category(db_session, alice.id, name="Side job", kind="income")
    day = date(2026, 3, 9)
    for payee, category, amount in (("Shop", a, "-5.00"), ("Shop", b, "-7.00"), ("Deli", a, "-2.50")):
        create_transaction(db_session, alice.id, account_id=acc.id, date=day, amount=Decimal(amount), payee=payee,
                           category_id=category.id)
    split = create_transaction(db_session, alice.id, account_id=acc.id, date=day, amount=Decimal("-30.00"),
                               payee="Shop", splits=[Split(a.id, Decimal("10.00")), Split(b.id, Decimal("20.00"))])
    create_transaction(db_session, alice.id, account_id=acc.id, date=day, amount=Decimal("100.00"), kind="income",
                       payee="Client", category_id=pay.id)
    db_session.commit()
    totals = by_month(raw_by_month_category(db_session, alice.id))
    svc.merge_categories(db_session, alice.id, a.id, b.id, expected_version=a.version)
    db_session.commit()
    assert db_session.scalars(select(Expense.category_id).where(Expense.transaction_id == split.id)).all() == [b.id, b.id]
    assert db_session.get(Transaction, split.id).category_id is None   # a split's header has none
    assert by_month(raw_by_month_category(db_session, alice.id)) == totals
    assert_exact(db_session, alice.id)
    assert_folded(db_session, alice.id)
    svc.delete_category(db_session, alice.id, pay.id, expected_version=pay.version)   # income -> uncategorized
    svc.delete_category(db_session, alice.id, b.id, expected_version=b.version)
    db_session.commit()
    assert_exact(db_session, alice.id)
    assert_folded(db_session, alice.id)
    assert db_session.scalar(select(func.count()).select_from(Expense).where(
        Expense.user_id == alice.id, Expense.category_id.is_not(None))) == 0


def test_a_bulk_edit_made_before_a_delete_or_merge_undoes_into_where_the_rows_went(db_session, alice, make_account):
    """Undo puts rows back into the category they had, or, when that one was deleted or merged since,
    into the one its rows went to (not into a category that no longer exists)."""
    from dashboard.services import bulk_edit
    acc = make_account(alice)
    a, b, c, d = (svc.create_category(db_session, alice.id, name=n) for n in ("A", "B", "C", "D"))
    seed_rows(db_session, alice, acc, [a, b], months=2)
    for source, target, move_to in ((a, c, b), (b, d, None)):
        edit = bulk_edit.apply(db_session, alice.id, [Transaction.category_id == source.id],
                               bulk_edit.make_actions(db_session, alice.id, category_id=target.id), label="t")
        db_session.commit()
        if move_to is not None:
            svc.merge_categories(db_session, alice.id, source.id, move_to.id, expected_version=source.version)
        else:
            svc.delete_category(db_session, alice.id, source.id, expected_version=source.version)
        db_session.commit()
        bulk_edit.undo(db_session, alice.id, edit.id)
        db_session.commit()
        back = set(db_session.scalars(select(Transaction.category_id).where(Transaction.user_id == alice.id,
                                                                             Transaction.payee == "Shop 0")))
        assert back == ({b.id} if move_to is not None else {None})
        assert_exact(db_session, alice.id)


# --- the property: no sequence of merges, moves and deletes changes a total by month ------------------

OPS = st.lists(st.tuples(st.sampled_from(["merge", "move", "delete"]), st.integers(0, 8), st.integers(-1, 8),
                         st.sampled_from(["sum", "keep"])), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(ops=OPS)
def test_merges_moves_deletes_keep_totals(db_session, make_user, make_account, ops):
    user = make_user(f"prop{next(_emails)}@example.com")
    acc = make_account(user)
    tops = [svc.create_category(db_session, user.id, name=f"Top{i}") for i in range(3)]
    mids = [svc.create_category(db_session, user.id, name=f"Mid{i}", parent_id=tops[i % 3].id) for i in range(3)]
    leaves = [svc.create_category(db_session, user.id, name=f"Leaf{i}", parent_id=mids[i % 3].id) for i in range(3)]
    cats = tops + mids + leaves
    seed_rows(db_session, user, acc, cats, months=3)
    for i, cat in enumerate(tops):
        create_budget(db_session, user.id, category_id=cat.id, amount=str(10 * (i + 1)), start_date=date(2026, 1, 1))
    db_session.commit()
    ids = [c.id for c in cats]
    start = by_month(raw_by_month_category(db_session, user.id))
    for op, i, j, choice in ops:
        before = raw_by_month_category(db_session, user.id)
        frame = svc.category_frame(db_session, user.id).set_index("id")
        source = ids[i]
        target = ids[j] if j >= 0 else None
        if source not in frame.index:
            continue
        same_top = target is not None and target in frame.index and \
            frame.loc[source, "top_id"] == frame.loc[target, "top_id"] and op != "move"
        version = int(frame.loc[source, "version"])
        try:
            if op == "merge":
                svc.merge_categories(db_session, user.id, source, target if target else ids[0],
                                     expected_version=version, budgets=choice)
                same_top = same_top and target is not None
            elif op == "move":
                svc.move_category(db_session, user.id, source, expected_version=version, parent_id=target)
            else:
                svc.delete_category(db_session, user.id, source, expected_version=version, move_to=target)
            db_session.commit()
        except ServiceError:
            db_session.rollback()
            assert raw_by_month_category(db_session, user.id) == before   # refused: nothing changed
            continue
        after = raw_by_month_category(db_session, user.id)
        assert by_month(after) == start
        assert rollup_by_month_category(db_session, user.id) == after
        if same_top and frame.loc[source, "depth"] > 0:
            # The money stayed inside one top-level tree: totals by top-level category are unchanged.
            assert by_top(db_session, user.id, after) == by_top_with(frame, before)
    assert_exact(db_session, user.id)   # every roll-up (daily, amount bands, payees too) equals a recomputation


def by_top_with(frame, totals):
    out = defaultdict(int)
    for (month, cat), total in totals.items():
        out[(month, frame.loc[cat, "top_id"] if cat in frame.index else None)] += total
    return {k: v for k, v in out.items() if v}
