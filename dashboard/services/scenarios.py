"""Scenarios: what-if items saved under a name, applied to the forecast (services/forecast.py).

An item is one of:

    {"type": "one_off",   "label": ..., "date": "2027-03-01", "amount": "-1200.00", "account_id": 3 | None}
    {"type": "recurring", "label": ..., "cadence": "monthly" | "rrule": "...", "start": ..., "until": ... | None,
                          "amount": "-45.00", "account_id": ... | None}
    {"type": "remove_schedule", "schedule_id": 5, "from": "2027-01-01" | None}
    {"type": "change_schedule", "schedule_id": 5, "amount": "-1950.00", "from": ... | None}
    {"type": "budget", "category_id": 12, "amount": "400.00"}   (that category's spending, a month)

Amounts are signed as transactions are (negative: money out), except a budget (what is spent). An
item without an account counts in the total and in every account's forecast. Everything is checked
(ids must be the user's, dates in range, rules that happen) before a scenario is saved, and again
when it is applied: stored JSON is never trusted.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import Account, Category, Scenario, Schedule

from .categories import visible_to
from .errors import Conflict, NotFound, ServiceError
from .schedules import RuleSpec, _day, cadence_rule, expand, parse_rule
from .validation import clean_name, clean_text, parse_amount, parse_id

ITEM_TYPES = {
    "one_off": "One-off amount",
    "recurring": "Recurring amount",
    "remove_schedule": "Stop a schedule",
    "change_schedule": "Change a schedule's amount",
    "budget": "Set a category's monthly spending",
}
MAX_ITEMS = 30
MAX_NAME = 100
MAX_LABEL = 100


def _owned(session: Session, model, user_id: int, value, field: str) -> int:
    item_id = parse_id(value, field=field)
    if session.scalar(select(model.id).where(model.id == item_id, model.user_id == user_id)) is None:
        raise NotFound(f"Unknown {field.replace('_id', '')}.", field)
    return item_id


def clean_item(session: Session, user_id: int, item) -> dict:
    """One item, checked and in its canonical form (amounts as text with two decimals, ISO dates)."""
    if not isinstance(item, dict):
        raise ServiceError("Each item is a set of fields.", "items")
    kind = item.get("type")
    if kind not in ITEM_TYPES:
        raise ServiceError("Choose what the item does.", "type")
    out: dict = {"type": kind}

    def account():
        value = item.get("account_id")
        return None if value in (None, "") else _owned(session, Account, user_id, value, "account_id")

    def when(key, required=True):
        value = item.get(key)
        if value in (None, "") and not required:
            return None
        return _day(value, key).isoformat()

    if kind in ("one_off", "recurring"):
        out["label"] = clean_text(item.get("label"), field="label", max_length=MAX_LABEL) or ITEM_TYPES[kind]
        out["amount"] = str(parse_amount(item.get("amount"), field="amount", allow_negative=True, allow_zero=False))
        out["account_id"] = account()
    if kind == "one_off":
        out["date"] = when("date")
    elif kind == "recurring":
        out["start"] = when("start")
        out["until"] = when("until", required=False)
        if out["until"] and out["until"] < out["start"]:
            raise ServiceError("The end date is before the start.", "until")
        start = date.fromisoformat(out["start"])
        text = item.get("rrule") or cadence_rule(item.get("cadence") or "", start)
        out["rrule"] = parse_rule(text, start)
    elif kind in ("remove_schedule", "change_schedule"):
        out["schedule_id"] = _owned(session, Schedule, user_id, item.get("schedule_id"), "schedule_id")
        out["from"] = when("from", required=False)
        if kind == "change_schedule":
            out["amount"] = str(parse_amount(item.get("amount"), field="amount", allow_negative=True,
                                             allow_zero=False))
    elif kind == "budget":
        cid = parse_id(item.get("category_id"), field="category_id")
        if session.scalar(select(Category.id).where(Category.id == cid, visible_to(user_id),
                                                    Category.kind == "expense")) is None:
            raise NotFound("Unknown category.", "category_id")
        out["category_id"] = cid
        out["amount"] = str(parse_amount(item.get("amount"), field="amount"))
    return out


def clean_items(session: Session, user_id: int, items) -> list[dict]:
    if not isinstance(items, list):
        raise ServiceError("A scenario is a list of items.", "items")
    if len(items) > MAX_ITEMS:
        raise ServiceError(f"A scenario has at most {MAX_ITEMS} items.", "items")
    return [clean_item(session, user_id, item) for item in items]


def get_scenario(session: Session, user_id: int, scenario_id) -> Scenario:
    sid = parse_id(scenario_id, field="scenario")
    scenario = session.scalar(select(Scenario).where(Scenario.id == sid, Scenario.user_id == user_id))
    if scenario is None:
        raise NotFound("Unknown scenario.", "scenario")
    return scenario


def _name(session: Session, user_id: int, value, scenario_id: int | None = None) -> str:
    name = clean_name(value, max_length=MAX_NAME)
    stmt = select(Scenario.id).where(Scenario.user_id == user_id, Scenario.name == name)
    if scenario_id is not None:
        stmt = stmt.where(Scenario.id != scenario_id)
    if session.scalar(stmt) is not None:
        raise ServiceError(f"You already have a scenario called “{name}”.", "name")
    return name


def create_scenario(session: Session, user_id: int, *, name, items=()) -> Scenario:
    scenario = Scenario(user_id=user_id, name=_name(session, user_id, name),
                        items=clean_items(session, user_id, list(items)))
    session.add(scenario)
    session.flush()
    return scenario


def update_scenario(session: Session, user_id: int, scenario_id, *, expected_version, name=None,
                    items=None) -> Scenario:
    scenario = get_scenario(session, user_id, scenario_id)
    if str(scenario.version) != str(expected_version):
        raise Conflict("Someone changed this scenario meanwhile; reload to see it.", scenario)
    if name is not None:
        scenario.name = _name(session, user_id, name, scenario.id)
    if items is not None:
        scenario.items = clean_items(session, user_id, items)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise Conflict("Someone changed this scenario meanwhile; reload to see it.") from None
    return scenario


def add_item(session: Session, user_id: int, scenario_id, item) -> Scenario:
    scenario = get_scenario(session, user_id, scenario_id)
    return update_scenario(session, user_id, scenario.id, expected_version=scenario.version,
                           items=[*list(scenario.items or []), item])


def remove_item(session: Session, user_id: int, scenario_id, index) -> Scenario:
    scenario = get_scenario(session, user_id, scenario_id)
    items = list(scenario.items or [])
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise ServiceError("Unknown item.", "items") from None
    if not 0 <= position < len(items):
        raise ServiceError("Unknown item.", "items")
    del items[position]
    return update_scenario(session, user_id, scenario.id, expected_version=scenario.version, items=items)


def delete_scenario(session: Session, user_id: int, scenario_id) -> None:
    scenario = get_scenario(session, user_id, scenario_id)
    session.execute(delete(Scenario).where(Scenario.id == scenario.id, Scenario.user_id == user_id))
    session.expire_all()


def scenarios_frame(session: Session, user_id: int) -> pd.DataFrame:
    rows = session.execute(select(Scenario.id, Scenario.name, Scenario.items, Scenario.version)
                           .where(Scenario.user_id == user_id).order_by(Scenario.name)).all()
    return pd.DataFrame(rows, columns=["id", "name", "items", "version"])


def scenario_items(session: Session, user_id: int, scenario_id) -> tuple[str, list[dict]]:
    """A scenario's name and items, re-checked (a schedule or category may be gone since): items that no
    longer hold are left out."""
    scenario = get_scenario(session, user_id, scenario_id)
    items = []
    for item in scenario.items or []:
        try:
            items.append(clean_item(session, user_id, item))
        except ServiceError:
            continue
    return scenario.name, items


def extra_specs(items: list[dict]) -> list[tuple[str, RuleSpec | date, int, int | None]]:
    """The one-off and recurring items as (label, date or RuleSpec, cents, account_id)."""
    from models import to_cents
    out = []
    for item in items:
        if item["type"] == "one_off":
            out.append((item["label"], date.fromisoformat(item["date"]), to_cents(item["amount"]),
                        item.get("account_id")))
        elif item["type"] == "recurring":
            spec = RuleSpec(item["rrule"], date.fromisoformat(item["start"]),
                            date.fromisoformat(item["until"]) if item.get("until") else None)
            out.append((item["label"], spec, to_cents(item["amount"]), item.get("account_id")))
    return out


__all__ = ["ITEM_TYPES", "add_item", "clean_item", "clean_items", "create_scenario", "delete_scenario",
           "expand", "extra_specs", "get_scenario", "remove_item", "scenario_items",
           "scenarios_frame", "update_scenario"]
