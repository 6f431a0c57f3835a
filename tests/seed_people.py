"""Seeding a user with one of everything, under recognisable names and amounts, for the tests that
prove people's data stays apart (test_authz_matrix, test_security) and that user text is shown as
text (test_browser_xss); and a snapshot of everything a user owns."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from dashboard.services.periods import add_months, month_start
from models import Account, Category, Transaction, User, db


@dataclass
class Seeded:
    """What was made for one user: ids by kind, and the strings that must never reach anyone else."""
    user_id: int
    email: str
    ids: dict[str, list[int]] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)

    def first(self, kind: str) -> int:
        return self.ids[kind][0]


def default_names(tag: str) -> dict[str, str]:
    return {
        "checking": f"{tag} Checking", "savings": f"{tag} Savings", "card": f"{tag} Card",
        "parent_category": f"{tag} Hobbies", "child_category": f"{tag} Models", "income_category": f"{tag} Gigs",
        "payee": f"{tag} Payee", "income_payee": f"{tag} Client", "description": f"{tag} Description",
        "notes": f"{tag} Notes", "goal": f"{tag} Goal", "debt_goal": f"{tag} Debt", "contribution_note": f"{tag} Note",
        "rule": f"{tag}rule", "schedule": f"{tag} Rent", "scenario": f"{tag} Scenario",
        "scenario_item": f"{tag} Windfall", "tag": f"{tag} Label", "file_category": f"{tag}:Filecat",
    }


def seed_user_data(session, user: User, tag: str, *, amounts: dict[str, str] | None = None,
                   names: dict[str, str] | None = None) -> Seeded:
    """Accounts, a category tree of the user's own, income, an expense, a transfer, a budget, goals (one
    with a contribution, one following a card), an import rule when the importer exists. Commits."""
    from dashboard.services.budgets import create_budget
    from dashboard.services.goals import create_goal, record_contribution
    from dashboard.services.transactions import create_transaction, create_transfer

    names = {**default_names(tag), **(names or {})}
    amounts = {"opening": "1357.24", "expense": "-4817.93", "income": "8264.17", "budget": "3917.46",
               "contribution": "612.34", "card": "-2468.13", "rate": "987.6543", **(amounts or {})}
    today = date.today()
    first = month_start(today)
    seeded = Seeded(user.id, user.email)

    checking = Account(user_id=user.id, name=names["checking"], type="checking",
                       opening_balance=Decimal(amounts["opening"]))
    savings = Account(user_id=user.id, name=names["savings"], type="savings", opening_balance=Decimal("0"))
    card = Account(user_id=user.id, name=names["card"], type="credit_card",
                   opening_balance=Decimal(amounts["card"]))
    session.add_all([checking, savings, card])
    session.flush()
    parent = Category(user_id=user.id, name=names["parent_category"], kind="expense", color="#123456")
    income_cat = Category(user_id=user.id, name=names["income_category"], kind="income")
    session.add_all([parent, income_cat])
    session.flush()
    child = Category(user_id=user.id, name=names["child_category"], kind="expense", parent_id=parent.id)
    session.add(child)
    session.flush()

    expense = create_transaction(session, user.id, account_id=checking.id, date=first, kind="expense",
                                 amount=Decimal(amounts["expense"]), category_id=child.id, payee=names["payee"],
                                 description=names["description"], notes=names["notes"])
    income = create_transaction(session, user.id, account_id=checking.id, date=first, kind="income",
                                amount=Decimal(amounts["income"]), category_id=income_cat.id,
                                payee=names["income_payee"], description=names["description"])
    legs = create_transfer(session, user.id, from_account_id=checking.id, to_account_id=savings.id, date=first,
                           amount=Decimal("150.00"))
    budget = create_budget(session, user.id, category_id=parent.id, amount=amounts["budget"], start_date=first)
    goal = create_goal(session, user.id, name=names["goal"], target_amount="25000", today=today,
                       target_date=add_months(today, 12).isoformat())
    contribution = record_contribution(session, user.id, goal.id, amount=amounts["contribution"], date=first,
                                       note=names["contribution_note"], today=today)
    debt = create_goal(session, user.id, name=names["debt_goal"], kind="debt",
                       target_amount=str(abs(Decimal(amounts["card"]))),
                       target_date=add_months(today, 12).isoformat(), account_id=card.id, today=today)
    session.flush()

    seeded.ids = {
        "account": [checking.id, savings.id, card.id],
        "category": [child.id, parent.id, income_cat.id],
        "transaction": [expense.id, income.id] + [leg.id for leg in (legs if isinstance(legs, (list, tuple)) else [legs])],
        "budget": [budget.id],
        "goal": [goal.id, debt.id],
        "contribution": [contribution.id],
        "expense": [line.id for line in expense.expenses],
    }
    try:
        from dashboard.services.scenarios import create_scenario
        from dashboard.services.schedules import create_schedule
    except ImportError:  # pragma: no cover - schedules are not there yet
        create_schedule = None
    if create_schedule is not None:
        schedule = create_schedule(session, user.id, name=names["schedule"], payee=names["payee"], kind="expense",
                                   amount=str(abs(Decimal(amounts["expense"]))), account_id=checking.id,
                                   category_id=child.id, cadence="monthly", start_date=first)
        session.flush()
        scenario = create_scenario(session, user.id, name=names["scenario"], items=[
            {"type": "one_off", "label": names["scenario_item"], "date": add_months(first, 1).isoformat(),
             "amount": amounts["income"], "account_id": checking.id},
            {"type": "change_schedule", "schedule_id": schedule.id, "amount": amounts["expense"]}])
        session.flush()
        seeded.ids["schedule"] = [schedule.id]
        seeded.ids["scenario"] = [scenario.id]
        seeded.secrets += [names["schedule"], names["scenario"], names["scenario_item"]]
    try:
        from dashboard.services.importer import create_rule
    except ImportError:  # pragma: no cover - the importer is not there yet
        create_rule = None
    if create_rule is not None:
        rule = create_rule(session, user.id, pattern=names["rule"], match_type="contains", category_id=child.id)
        session.flush()
        seeded.ids["rule"] = [rule.id]
        seeded.secrets.append(names["rule"])
    try:
        from dashboard.services import bulk_edit
        from dashboard.services.tags import find_or_create
    except ImportError:  # pragma: no cover - before tags existed
        bulk_edit = None
    if bulk_edit is not None:
        from models import CategoryMapping
        label = find_or_create(session, user.id, names["tag"])
        batch = bulk_edit.apply(session, user.id, [Transaction.id == expense.id],
                                bulk_edit.make_actions(session, user.id, tag_ids=[label.id]), label="seed")
        session.add(CategoryMapping(user_id=user.id, source_name=names["file_category"].casefold(),
                                    category_id=child.id))
        session.flush()
        seeded.ids["tag"] = [label.id]
        seeded.ids["batch"] = [batch.id]
        seeded.secrets.append(names["tag"])
    try:
        from dashboard.services.fx import set_rate
    except ImportError:  # pragma: no cover - exchange rates are not there yet
        set_rate = None
    if set_rate is not None:
        rate = set_rate(session, user.id, day=first, currency="CHF" if user.currency != "CHF" else "EUR",
                        base=user.currency, rate=amounts["rate"])
        session.flush()
        seeded.ids["rate"] = [rate.id]
        seeded.secrets.append(amounts["rate"])
    session.commit()

    for key in ("checking", "savings", "card", "parent_category", "child_category", "income_category", "payee",
                "income_payee", "description", "notes", "goal", "debt_goal", "contribution_note"):
        seeded.secrets.append(names[key])
    for key in ("expense", "income", "budget", "contribution", "opening", "card"):
        value = abs(Decimal(amounts[key]))
        seeded.secrets += [f"{value:,}", str(value)]
    seeded.secrets += [user.email]
    return seeded


def user_owned_tables():
    from dashboard.services.users import user_owned_tables as tables
    return tables()


def snapshot(session, user_id: int) -> dict[str, list[tuple]]:
    """Every row the user owns, table by table (the users row included), in a comparable form."""
    out = {}
    users = User.__table__
    out["users"] = [tuple(r) for r in session.execute(select(users).where(users.c.id == user_id)).all()]
    for table in user_owned_tables():
        rows = session.execute(select(table).where(table.c.user_id == user_id)
                               .order_by(*table.primary_key.columns)).all()
        out[table.name] = [tuple(r) for r in rows]
    return out


def whole_database(session) -> dict[str, list[tuple]]:
    out = {}
    for table in db.metadata.sorted_tables:
        out[table.name] = sorted(tuple(str(v) for v in r) for r in session.execute(select(table)).all())
    return out


def foreign_links(session, user_id: int) -> list[str]:
    """Rows of this user that point at another user's rows (through any foreign key): there must be none.
    Built-in categories (user_id NULL) are everyone's and allowed."""
    from sqlalchemy import func
    found = []
    for table in user_owned_tables():
        for fk in table.foreign_keys:
            if "user_id" not in fk.column.table.c or fk.column.table.name == User.__tablename__:
                continue
            target = fk.column.table.alias("target")  # an alias: a table may point at itself (parent_id)
            joined = table.join(target, table.c[fk.parent.name] == target.c[fk.column.name])
            count = session.scalar(select(func.count()).select_from(joined).where(
                table.c.user_id == user_id, target.c.user_id.is_not(None), target.c.user_id != user_id))
            if count:
                found.append(f"{table.name}.{fk.parent.name} -> {fk.column.table.name}: {count} row(s)")
    return found
