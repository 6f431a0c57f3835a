"""The spending explorer's reads, on seeded rows with known answers."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from dashboard.services import spending as svc
from dashboard.services.errors import ServiceError
from dashboard.services.transactions import Split, create_transaction, create_transfer
from models import Category

TODAY = date(2026, 3, 15)


@pytest.fixture()
def cats(db_session):
    return {c.name: c.id for c in db_session.scalars(select(Category).where(Category.user_id.is_(None)))}


@pytest.fixture()
def world(db_session, make_user, make_account, cats):
    """Alice: groceries on month boundaries, a split, a refund, a transfer, income; Bob: noise."""
    alice = make_user("alice@example.com")
    checking = make_account(alice, "Checking")
    card = make_account(alice, "Card", "credit_card")
    savings = make_account(alice, "Savings", "savings")

    def spend(day, amount, category, payee, account=checking, description=""):
        return create_transaction(db_session, alice.id, account_id=account.id, date=day,
                                  amount=Decimal(amount), category_id=cats[category], payee=payee,
                                  description=description)

    spend(date(2026, 2, 28), "-1.00", "Groceries", "Market")          # last day of February
    spend(date(2026, 3, 1), "-10.00", "Groceries", "Market")          # first day of March
    spend(date(2026, 3, 31), "-20.00", "Restaurants", "Bistro", card)  # last day of March
    spend(date(2026, 4, 1), "-1000.00", "Rent", "Landlord")            # outside March
    spend(date(2026, 3, 5), "5.00", "Restaurants", "Bistro", card, "refund")  # a refund
    create_transaction(db_session, alice.id, account_id=checking.id, date=date(2026, 3, 7),
                       amount=Decimal("-100.00"), payee="Costco", description="monthly run",
                       splits=[Split(cats["Groceries"], Decimal("60.00")),
                               Split(cats["Household"], Decimal("40.00"))])
    create_transaction(db_session, alice.id, account_id=checking.id, date=date(2026, 3, 2),
                       amount=Decimal("-7.50"), payee="Mystery shop")  # uncategorised
    create_transfer(db_session, alice.id, from_account_id=checking.id, to_account_id=savings.id,
                    date=date(2026, 3, 3), amount=Decimal("500.00"))
    create_transaction(db_session, alice.id, account_id=checking.id, date=date(2026, 3, 1),
                       amount=Decimal("3000.00"), kind="income", category_id=cats["Salary"], payee="Employer")

    bob = make_user("bob@example.com")
    bob_account = make_account(bob, "Checking")
    create_transaction(db_session, bob.id, account_id=bob_account.id, date=date(2026, 3, 10),
                       amount=Decimal("-999.00"), category_id=cats["Groceries"], payee="Market")
    db_session.commit()
    return {"alice": alice, "bob": bob, "checking": checking, "card": card, "savings": savings,
            "bob_account": bob_account}


def march(**extra):
    return svc.parse_filters({"preset": "custom", "from": "2026-03-01", "to": "2026-03-31", **extra}, TODAY)


def totals(frame):
    return dict(zip(frame["category_id"], frame["total_cents"]))


def test_presets_are_whole_months():
    assert svc.preset_range("this_month", TODAY) == (date(2026, 3, 1), date(2026, 3, 31))
    assert svc.preset_range("last_month", TODAY) == (date(2026, 2, 1), date(2026, 2, 28))
    assert svc.preset_range("last_3_months", TODAY) == (date(2026, 1, 1), date(2026, 3, 31))
    assert svc.preset_range("last_12_months", TODAY) == (date(2025, 4, 1), date(2026, 3, 31))
    assert svc.preset_range("ytd", TODAY) == (date(2026, 1, 1), date(2026, 3, 31))
    assert svc.preset_range("last_year", TODAY) == (date(2025, 1, 1), date(2025, 12, 31))
    assert svc.previous_range(march()) == (date(2026, 2, 1), date(2026, 2, 28))
    odd = svc.parse_filters({"preset": "custom", "from": "2026-03-10", "to": "2026-03-19"}, TODAY)
    assert svc.previous_range(odd) == (date(2026, 2, 28), date(2026, 3, 9))


def test_query_string_round_trip_and_tolerance():
    filters = svc.parse_filters({"preset": "custom", "from": "2026-01-05", "to": "2026-02-10",
                                 "accounts": "3,1", "categories": "7", "min": "10", "max": "1,000.50",
                                 "q": "coffee", "flow": "income", "grain": "week"}, TODAY)
    again = svc.parse_filters(svc.filters_to_query(filters), TODAY)
    assert again == filters
    assert filters.account_ids == (1, 3) and filters.max_amount == Decimal("1000.50")
    # A mangled link falls back to defaults instead of failing.
    junk = svc.parse_filters({"preset": "bogus", "accounts": "x,-1,2", "min": "abc", "flow": "nope"}, TODAY)
    assert junk.preset == "this_month" and junk.account_ids == (2,) and junk.min_amount is None
    with pytest.raises(ServiceError):
        svc.parse_filters({"min": "abc"}, TODAY, strict=True)


def test_spending_by_category_counts_splits_refunds_and_boundaries(db_session, world, cats):
    alice = world["alice"]
    result = svc.explore(db_session, alice.id, march())
    by_cat = totals(result.by_category)
    assert by_cat == {cats["Groceries"]: 1000 + 6000, cats["Household"]: 4000,
                      cats["Restaurants"]: 2000 - 500, svc.UNCATEGORIZED: 750}
    assert result.total_cents == 7000 + 4000 + 1500 + 750  # no transfer, no income, no Bob, no April
    assert result.row_count == 6
    assert totals(result.previous) == {cats["Groceries"]: 100}


def test_whole_months_and_partial_ranges_agree(db_session, world, cats):
    """The roll-up (whole months) and the raw table (partial months) give the same answers."""
    alice = world["alice"]
    whole = svc.aggregate(db_session, alice.id, march(), ["category_id"])
    partial = svc.aggregate(db_session, alice.id, svc.parse_filters(
        {"preset": "custom", "from": "2026-02-28", "to": "2026-04-01"}, TODAY), ["category_id"])
    assert totals(partial) == {**totals(whole), cats["Groceries"]: 7100, cats["Rent"]: 100000}
    # Row filters force the raw path: the same total for March with a no-op amount filter.
    raw = svc.aggregate(db_session, alice.id, march(min="-100000"), ["category_id"])
    assert totals(raw) == totals(whole)


def test_filters_combine(db_session, world, cats):
    alice = world["alice"]
    card_only = svc.explore(db_session, alice.id, march(accounts=str(world["card"].id)))
    assert totals(card_only.by_category) == {cats["Restaurants"]: 1500}
    food = svc.explore(db_session, alice.id, march(categories=str(cats["Food"])))  # parent selects children
    assert totals(food.by_category) == {cats["Groceries"]: 7000, cats["Restaurants"]: 1500}
    text = svc.explore(db_session, alice.id, march(q="COSTCO"))
    assert totals(text.by_category) == {cats["Groceries"]: 6000, cats["Household"]: 4000}
    big = svc.explore(db_session, alice.id, march(min="20", max="60"))
    assert totals(big.by_category) == {cats["Groceries"]: 6000, cats["Household"]: 4000,
                                       cats["Restaurants"]: 2000}
    uncategorised = svc.explore(db_session, alice.id, march(categories="0"))
    assert totals(uncategorised.by_category) == {svc.UNCATEGORIZED: 750}
    income = svc.explore(db_session, alice.id, march(flow="income"))
    assert totals(income.by_category) == {cats["Salary"]: 300000}


def test_other_users_ids_in_filters_return_nothing_of_theirs(db_session, world):
    alice, bob = world["alice"], world["bob"]
    forged = svc.explore(db_session, alice.id, march(accounts=str(world["bob_account"].id)))
    assert forged.empty and forged.total_cents == 0
    rows = svc.rows_page(db_session, alice.id, march(accounts=str(world["bob_account"].id)), 0, 100)
    assert rows.empty
    assert svc.explore(db_session, bob.id, march()).total_cents == 99900


def test_over_time_and_payees(db_session, world, cats):
    alice = world["alice"]
    quarter = svc.parse_filters({"preset": "last_3_months", "grain": "month"}, TODAY)
    result = svc.explore(db_session, alice.id, quarter)
    months = result.over_time.groupby("bucket")["total_cents"].sum().to_dict()
    assert months == {date(2026, 2, 1): 100, date(2026, 3, 1): 13250}
    assert result.payees.iloc[0]["payee"] == "Costco"
    weekly = svc.explore(db_session, alice.id, march())  # a month is shown by week
    assert weekly.filters.effective_grain == "week"
    assert int(weekly.over_time["total_cents"].sum()) == 13250
    assert date(2026, 2, 23) in set(weekly.over_time["bucket"])  # Mon of the week holding Mar 1


def test_rows_page_sorts_pages_and_never_exceeds_the_page(db_session, world):
    alice = world["alice"]
    first = svc.rows_page(db_session, alice.id, march(), 0, 2)
    assert list(first["date"]) == ["2026-03-31", "2026-03-07"]
    by_amount = svc.rows_page(db_session, alice.id, march(), 0, 100,
                              [{"colId": "amount_cents", "sort": "desc"}, {"colId": "evil; DROP", "sort": "asc"}])
    assert list(by_amount["amount_cents"])[:2] == [6000, 4000]
    assert len(svc.rows_page(db_session, alice.id, march(), 0, 10_000)) == 6
    assert "Food › Groceries" in set(by_amount["category"])
    streamed = list(svc.iter_rows(db_session, alice.id, march()))
    assert len(streamed) == 6


def test_display_level_and_breadcrumb(db_session, world, cats):
    frame = svc.category_frame(db_session, world["alice"].id)
    top = svc.display_level(frame, march())
    assert top[cats["Groceries"]] == cats["Food"]
    drilled = svc.display_level(frame, march(categories=str(cats["Food"])))
    assert drilled[cats["Groceries"]] == cats["Groceries"]
    crumbs = svc.breadcrumb(frame, march(categories=str(cats["Groceries"])))
    assert [label for label, _ in crumbs] == ["All categories", "Food", "Groceries"]


def test_brand_new_user_gets_empty_results(db_session, make_user):
    nobody = make_user("new@example.com")
    result = svc.explore(db_session, nobody.id, march())
    assert result.empty and result.by_category.empty and result.payees.empty


def test_tags_filter_the_explorer_and_reach_the_csv(db_session, world, make_user):
    """A tag filter narrows every read (raw rows, not the roll-up); another user's tag ids find nothing."""
    from sqlalchemy import select

    from dashboard.services import bulk_edit
    from dashboard.services.tags import find_or_create
    from models import Transaction
    alice = world["alice"]
    trip = find_or_create(db_session, alice.id, "trip")
    first = db_session.scalar(select(Transaction).where(Transaction.user_id == alice.id, Transaction.kind == "expense",
                                                        Transaction.date >= date(2026, 3, 1))
                              .order_by(Transaction.id))
    bulk_edit.apply(db_session, alice.id, [Transaction.id == first.id],
                    bulk_edit.make_actions(db_session, alice.id, tag_ids=[trip.id]), label="t")
    db_session.commit()
    tagged = march(tags=str(trip.id))
    assert svc.filters_to_query(tagged)["tags"] == str(trip.id)
    assert tagged.row_filtered
    result = svc.explore(db_session, alice.id, tagged)
    lines = int(sum(e.amount for e in first.expenses) * 100)
    assert sum(totals(result.by_category).values()) == lines
    rows = list(svc.iter_rows(db_session, alice.id, tagged))
    assert [r.tags for r in rows] == ["trip"] * len(rows) and rows
    assert {r.tags for r in svc.iter_rows(db_session, alice.id, march())} == {"", "trip"}
    bob = make_user("tagbob@example.com")
    assert sum(totals(svc.explore(db_session, bob.id, tagged).by_category).values()) == 0


def test_a_zoom_stays_inside_the_period():
    weekly = march(grain="week")
    # The week of Mon 23 Feb holds only 1 March of the period; the week of Mon 30 Mar ends in April.
    first = svc.with_month(weekly, date(2026, 2, 23))
    assert (first.start, first.end) == (date(2026, 3, 1), date(2026, 3, 1))
    last = svc.with_month(weekly, date(2026, 3, 30))
    assert (last.start, last.end) == (date(2026, 3, 30), date(2026, 3, 31))
    middle = svc.with_month(weekly, date(2026, 3, 9))
    assert (middle.start, middle.end) == (date(2026, 3, 9), date(2026, 3, 15))
    half = svc.parse_filters({"preset": "custom", "from": "2026-01-15", "to": "2026-03-10", "grain": "month"}, TODAY)
    january = svc.with_month(half, date(2026, 1, 1))
    assert (january.start, january.end) == (date(2026, 1, 15), date(2026, 1, 31))


def test_a_running_month_is_compared_with_the_same_days_of_the_last(db_session, world):
    alice = world["alice"]
    # "This month" on 7 March: 1-7 March against 1-7 February (not all of February).
    this_month = svc.parse_filters({"preset": "this_month"}, date(2026, 3, 7))
    result = svc.explore(db_session, alice.id, this_month, date(2026, 3, 7))
    assert result.comparison.partial and result.comparison.days == 7
    assert result.previous_range == (date(2026, 2, 1), date(2026, 2, 7))
    assert int(result.previous["total_cents"].sum()) == 0          # the 28 Feb groceries are not "the same days"
    whole = svc.explore(db_session, alice.id, march(), date(2026, 4, 2))
    assert not whole.comparison.partial and whole.previous_range == (date(2026, 2, 1), date(2026, 2, 28))
    assert int(whole.previous["total_cents"].sum()) == 100


@pytest.fixture()
def deep(db_session, world, cats):
    """Alice's own third level: Food › Groceries › Organic › Farm box."""
    from models import Category
    alice = world["alice"]
    organic = Category(user_id=alice.id, parent_id=cats["Groceries"], name="Organic", kind="expense")
    db_session.add(organic)
    db_session.flush()
    box = Category(user_id=alice.id, parent_id=organic.id, name="Farm box", kind="expense")
    db_session.add(box)
    db_session.flush()
    create_transaction(db_session, alice.id, account_id=world["checking"].id, date=date(2026, 3, 12),
                       amount=Decimal("-33.00"), category_id=box.id, payee="Farm")
    db_session.commit()
    return {"Organic": organic.id, "Farm box": box.id}


def test_drill_and_breadcrumb_at_any_depth(db_session, world, cats, deep):
    alice = world["alice"]
    frame = svc.category_frame(db_session, alice.id)
    top = svc.display_level(frame, march())
    assert top[deep["Farm box"]] == cats["Food"]                       # all the way up at the top level
    food = svc.display_level(frame, march(categories=str(cats["Food"])))
    assert food[deep["Farm box"]] == cats["Groceries"]                 # under Food's child on its way down
    groceries = svc.display_level(frame, march(categories=str(cats["Groceries"])))
    assert groceries[deep["Farm box"]] == deep["Organic"]
    assert groceries[cats["Groceries"]] == cats["Groceries"]           # its own spending under itself
    crumbs = svc.breadcrumb(frame, march(categories=str(deep["Farm box"])))
    assert crumbs == [("All categories", ()), ("Food", (cats["Food"],)), ("Groceries", (cats["Groceries"],)),
                      ("Organic", (deep["Organic"],)), ("Farm box", (deep["Farm box"],))]
    # Selecting Food selects every level below it.
    assert svc.explore(db_session, alice.id, march(categories=str(cats["Food"]))).total_cents == 8500 + 3300
    assert svc.explore(db_session, alice.id, march(categories=str(deep["Organic"]))).total_cents == 3300
    assert int(frame.set_index("id").loc[deep["Farm box"], "top_id"]) == cats["Food"]


def test_rows_name_a_category_by_its_whole_path_at_any_depth(db_session, world, cats):
    """A third level (the user's own Food › Groceries › Organic) is named in full in the grid and the
    CSV rows, and a sort by category follows those names."""
    from dashboard.services.categories import create_category
    alice = world["alice"]
    organic = create_category(db_session, alice.id, name="Organic", parent_id=cats["Groceries"])
    create_transaction(db_session, alice.id, account_id=world["checking"].id, date=date(2026, 3, 9),
                       amount=Decimal("-3.00"), category_id=organic.id, payee="Farm")
    db_session.commit()
    page = svc.rows_page(db_session, alice.id, march(), 0, 100, [{"colId": "category", "sort": "asc"}])
    assert list(page.loc[page["payee"] == "Farm", "category"]) == ["Food › Groceries › Organic"]
    assert list(page["category"]) == sorted(page["category"], key=str.casefold)
    assert "Uncategorized" in set(page["category"])
    streamed = {r.payee: r.category for r in svc.iter_rows(db_session, alice.id, march())}
    assert streamed["Farm"] == "Food › Groceries › Organic" and streamed["Mystery shop"] == "Uncategorized"


def test_remembered_text_matches_never_hide_a_new_row(db_session, world):
    """The full-text matches are remembered for the rest of a database transaction only: a row written
    and committed afterwards is found by the next search (and one written but not committed too)."""
    alice = world["alice"]
    quarter = svc.parse_filters({"preset": "custom", "from": "2026-01-01", "to": "2026-03-31", "q": "lantern"}, TODAY)
    assert svc.explore.uncached(db_session, alice.id, quarter, TODAY).row_count == 0
    create_transaction(db_session, alice.id, account_id=world["checking"].id, date=date(2026, 3, 12),
                       amount=Decimal("-4.00"), payee="Hardware store", description="paper lantern")
    db_session.flush()
    assert svc.explore.uncached(db_session, alice.id, quarter, TODAY).row_count == 1   # written, not committed
    db_session.commit()
    assert svc.explore.uncached(db_session, alice.id, quarter, TODAY).row_count == 1
