"""Import maps what the file says: a realistic two-year statement whose category names are all unknown.

The preview lists every unknown name with its rows and money; after the user's choices (create,
keeping the file's hierarchy; map to an existing category) no row is uncategorized; the next file
with the same names needs no choices; importing the same file again adds nothing."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from dashboard.services import importer as imp
from dashboard.services.categories import category_frame
from dashboard.services.errors import ServiceError
from models import Category, CategoryMapping, Transaction

NAMES = {  # file name -> (payees, amount range in cents; negative = spending)
    "Food:Restaurant": (["Trattoria Roma", "Noodle Bar", "Cafe Central"], (-6500, -1200)),
    "Home:Rent": (["Landlord GmbH"], (-145000, -145000)),
    "Transport:Tram": (["City Transit"], (-900, -250)),
    "Financial:Fees": (["Bank fee"], (-1500, -300)),
    "Food:Alcohol": (["Wine Shop", "Corner Bar"], (-4500, -800)),
    "Home:Utilities:Power": (["PowerCo"], (-9000, -4000)),
    "Leisure:Cinema": (["Kino Palast"], (-2800, -1100)),
    "Health:Physio": (["Physio Praxis"], (-3500, -500)),
    "Shopping:Clothes": (["H and M", "Zalando"], (-12000, -1500)),
    "Income:Paycheck": (["ACME Corp payroll"], (420000, 420000)),
}


def statement(start: date, months: int, seed: int) -> bytes:
    rng = random.Random(seed)
    lines = ["Date,Amount,Payee,Category"]
    day = start
    end = start + timedelta(days=30 * months)
    while day < end:
        if day.day == 1:
            lines.append(f"{day.isoformat()},-1450.00,Landlord GmbH,Home:Rent")
            lines.append(f"{day.isoformat()},4200.00,ACME Corp payroll,Income:Paycheck")
        for _ in range(rng.choice([0, 1, 1])):
            name = rng.choice([n for n in NAMES if n not in ("Home:Rent", "Income:Paycheck")])
            payees, (low, high) = NAMES[name]
            cents = rng.randint(low, high)
            lines.append(f"{day.isoformat()},{cents / 100:.2f},{rng.choice(payees)},{name}")
        day += timedelta(days=1)
    return ("\n".join(lines) + "\n").encode()


def parse(data: bytes):
    return imp.parse_file(data, "statement.csv", imp.inspect_csv(data).mapping)


def uncategorized(session, user_id) -> int:
    return session.scalar(select(func.count()).select_from(Transaction).where(
        Transaction.user_id == user_id, Transaction.category_id.is_(None), Transaction.kind != "transfer"))


def builtin(session, name):
    return session.scalar(select(Category.id).where(Category.user_id.is_(None), Category.name == name))


def test_unknown_names_are_chosen_once_and_remembered(db_session, make_user, make_account):
    user = make_user("mapper@example.com")
    account = make_account(user)
    first = statement(date(2024, 1, 1), 24, seed=7)
    parsed = parse(first)
    assert len(parsed.rows) > 400 and not parsed.errors

    unknown = imp.unknown_categories(db_session, user.id, parsed)
    assert {u["name"] for u in unknown} == set(NAMES)                 # every name of the file
    rent = next(u for u in unknown if u["name"] == "Home:Rent")
    assert rent["rows"] == 24 and rent["cents"] == -24 * 145000 and rent["path"] == ["Home", "Rent"]
    assert sum(u["rows"] for u in unknown) == len(parsed.rows)
    assert next(u for u in unknown if u["name"] == "Income:Paycheck")["kind"] == "income"
    # Before any choice the plan leaves these rows uncategorized and says why.
    plan = imp.plan_import(db_session, user.id, account.id, parsed)
    assert all(r.category_id is None for r in plan.rows)
    assert any("Unknown category" in r.reason for r in plan.rows)

    choices = {name: imp.CREATE for name in NAMES}
    choices["Food:Alcohol"] = builtin(db_session, "Restaurants")      # map to an existing one
    choices["income:paycheck"] = builtin(db_session, "Salary")        # any case
    result = imp.run_import(db_session, user.id, account.id, parsed, category_choices=choices)
    assert result.added == len(parsed.rows)
    assert uncategorized(db_session, user.id) == 0

    frame = category_frame(db_session, user.id)
    own = set(frame[frame["own"]]["full_name"])
    assert {"Home › Rent", "Home › Utilities › Power", "Food › Restaurant", "Transport › Tram"} <= own
    assert "Food › Alcohol" not in own
    # "Food" is the built-in Food: the new Restaurant sits under it rather than beside a second Food.
    assert len(frame[frame["name"] == "Food"]) == 1
    assert db_session.scalar(select(func.count()).select_from(CategoryMapping)
                             .where(CategoryMapping.user_id == user.id)) == len(NAMES)

    # The next file with the same names: nothing to ask, nothing uncategorized.
    second = parse(statement(date(2026, 1, 1), 3, seed=8))
    assert imp.unknown_categories(db_session, user.id, second) == []
    assert imp.run_import(db_session, user.id, account.id, second).added == len(second.rows)
    assert uncategorized(db_session, user.id) == 0

    # The same file again: everything is a duplicate.
    again = imp.run_import(db_session, user.id, account.id, parse(first))
    assert again.added == 0


def test_leave_uncategorized_is_remembered_and_bad_choices_change_nothing(db_session, make_user, make_account):
    user = make_user("leaver@example.com")
    other = make_user("other@example.com")
    account = make_account(user)
    theirs = Category(user_id=other.id, name="Theirs", kind="expense")
    db_session.add(theirs)
    db_session.commit()
    data = b"Date,Amount,Payee,Category\n2026-01-02,-5.00,Kiosk,Misc:Stuff\n2026-01-03,-7.00,Kiosk,Odd\n"
    parsed = parse(data)
    before = db_session.scalar(select(func.count()).select_from(Category))
    for bad in ({"Misc:Stuff": theirs.id}, {"Misc:Stuff": "drop table"}, {"Misc:Stuff": -1}):
        with pytest.raises(ServiceError):
            imp.run_import(db_session, user.id, account.id, parsed, category_choices=bad)
        assert db_session.scalar(select(func.count()).select_from(Category)) == before
        assert db_session.scalar(select(func.count()).select_from(Transaction)
                                 .where(Transaction.user_id == user.id)) == 0
    imp.run_import(db_session, user.id, account.id, parsed, category_choices={"Misc:Stuff": imp.LEAVE,
                                                                               "Odd": imp.CREATE})
    assert imp.unknown_categories(db_session, user.id, parsed) == []
    rows = dict(db_session.execute(select(Transaction.payee, Transaction.category_id)
                                   .where(Transaction.user_id == user.id, Transaction.amount == -5)).all())
    assert rows == {"Kiosk": None}
