"""Rules: conditions on a transaction and what to set when they hold, at import and on the rows
already there.

Conditions (every one that is set must hold): the payee or the description contains / equals /
starts with a text (case-insensitive), or matches a regular expression; the amount (its absolute
value) lies in a range; the transaction is on an account. Actions: set a category, add tags, clean the
payee name. Rules are tried in ``position`` order and the first that matches wins (at import).

User regular expressions run on RE2 only (dashboard/services/patterns.py: linear time, so a pattern
like ``(a+)+$`` on a long payee cannot hang a request); Python's ``re`` never sees one. On existing
rows a regex is matched once per distinct payee (or description) in Python, then the matching values
become an ``IN`` list for SQL; every other condition is plain SQL.

"Apply to existing" is :func:`preview_existing` (how many rows and how much money it changes), then
:func:`apply_existing`: one batch of dashboard/services/bulk_edit.py, so one database transaction and
one undo.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import Account, ImportRule, PayeeName, RuleTag, Tag, Transaction
from models.rule import RULE_FIELDS, RULE_MATCH_TYPES

from . import bulk_edit, patterns, rollup
from .categories import get_category
from .errors import NotFound, ServiceError
from .sql import cents
from .validation import clean_text, parse_amount, parse_id

MATCH_LABELS = {"contains": "contains", "equals": "is", "starts_with": "starts with", "regex": "matches"}
FIELD_LABELS = {"payee": "Payee", "description": "Description"}
MAX_REGEX_VALUES = 20_000   # distinct matching payees a regex may name on existing rows


@dataclass(frozen=True)
class RuleSpec:
    id: int
    field: str
    match_type: str
    pattern: str
    amount_min: int | None   # cents, absolute amount
    amount_max: int | None
    account_id: int | None
    category_id: int | None
    set_payee: str | None
    tag_ids: tuple[int, ...]

    def describe(self, names: dict[int, str] | None = None) -> str:
        names = names or {}
        parts = []
        if self.pattern:
            parts.append(f"{FIELD_LABELS[self.field]} {MATCH_LABELS[self.match_type]} “{self.pattern}”")
        if self.amount_min is not None or self.amount_max is not None:
            low = f"{(self.amount_min or 0) / 100:,.2f}"
            high = f"{self.amount_max / 100:,.2f}" if self.amount_max is not None else "any"
            parts.append(f"amount {low}–{high}")
        if self.account_id:
            parts.append("on one account")
        then = []
        if self.category_id:
            then.append(f"category {names.get(self.category_id, '#' + str(self.category_id))}")
        if self.tag_ids:
            then.append(f"{len(self.tag_ids)} tag{'s' if len(self.tag_ids) != 1 else ''}")
        if self.set_payee:
            then.append(f"payee “{self.set_payee}”")
        return "If " + " and ".join(parts) + " then " + ", ".join(then)


# --- checking and storing ---------------------------------------------------------------------------

def _cents_or_none(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    amount = parse_amount(value, field=field, allow_negative=True)
    return abs(int(amount.scaleb(2)))


def check_rule(session: Session, user_id: int, *, field="payee", match_type="contains", pattern="",
               amount_min=None, amount_max=None, account_id=None, category_id=None, tag_ids=(), new_tags=None,
               set_payee=None) -> dict:
    """The rule's values, checked (nothing is written except new tags named in ``new_tags``)."""
    if field not in RULE_FIELDS:
        raise ServiceError("Choose the payee or the description.", "field")
    if match_type not in RULE_MATCH_TYPES:
        raise ServiceError("Choose contains, is, starts with or matches.", "match_type")
    text = "" if pattern is None else pattern
    if not isinstance(text, str):
        raise ServiceError("Enter the text to look for.", "pattern")
    text = text.strip()
    if len(text) > patterns.MAX_PATTERN_LENGTH:
        raise ServiceError(f"At most {patterns.MAX_PATTERN_LENGTH} characters.", "pattern")
    if match_type == "regex" and text:
        text = patterns.check_pattern(text)
    low, high = _cents_or_none(amount_min, "amount_min"), _cents_or_none(amount_max, "amount_max")
    if low is not None and high is not None and low > high:
        raise ServiceError("The smallest amount is above the largest.", "amount_min")
    account = None
    if account_id not in (None, ""):
        aid = parse_id(account_id, field="account")
        account = session.scalar(select(Account.id).where(Account.id == aid, Account.user_id == user_id))
        if account is None:
            raise NotFound("Unknown account.", "account")
    if not text and low is None and high is None and account is None:
        raise ServiceError("Give the rule a condition: a text to look for, an amount range or an account.",
                           "pattern")
    category = get_category(session, user_id, category_id).id if category_id not in (None, "") else None
    payee = clean_text(set_payee, field="set_payee", max_length=200) or None
    from .tags import resolve_tags
    tags = resolve_tags(session, user_id, list(tag_ids or []), new_tags)
    if category is None and not tags and payee is None:
        raise ServiceError("Give the rule something to do: a category, tags or a payee name.", "category")
    return {"field": field, "match_type": match_type, "pattern": text, "amount_min": low, "amount_max": high,
            "account_id": account, "category_id": category, "set_payee": payee, "tag_ids": tags}


def _store(session: Session, rule: ImportRule, values: dict) -> None:
    rule.field, rule.match_type, rule.pattern = values["field"], values["match_type"], values["pattern"]
    rule.amount_min = None if values["amount_min"] is None else Decimal(values["amount_min"]).scaleb(-2)
    rule.amount_max = None if values["amount_max"] is None else Decimal(values["amount_max"]).scaleb(-2)
    rule.account_id, rule.category_id, rule.set_payee = values["account_id"], values["category_id"], values["set_payee"]
    session.flush()
    session.execute(delete(RuleTag).where(RuleTag.rule_id == rule.id, RuleTag.user_id == rule.user_id))
    for tag_id in values["tag_ids"]:
        session.add(RuleTag(rule_id=rule.id, tag_id=tag_id, user_id=rule.user_id))
    session.flush()


def create_rule(session: Session, user_id: int, **values) -> ImportRule:
    """A new rule, tried after the existing ones. Does not commit."""
    checked = check_rule(session, user_id, **values)
    last = session.scalar(select(func.max(ImportRule.position)).where(ImportRule.user_id == user_id))
    rule = ImportRule(user_id=user_id, position=(last or 0) + 1, pattern="", match_type="contains")
    session.add(rule)
    session.flush()
    _store(session, rule, checked)
    return rule


def get_rule(session: Session, user_id: int, rule_id) -> ImportRule:
    rid = parse_id(rule_id, field="rule")
    rule = session.scalar(select(ImportRule).where(ImportRule.id == rid, ImportRule.user_id == user_id))
    if rule is None:
        raise NotFound("Unknown rule.", "rule")
    return rule


def delete_rule(session: Session, user_id: int, rule_id) -> None:
    session.delete(get_rule(session, user_id, rule_id))
    session.flush()


def _spec(rule: ImportRule, tag_ids) -> RuleSpec:
    to_cents = lambda v: None if v is None else int(Decimal(v).scaleb(2))  # noqa: E731
    return RuleSpec(rule.id, rule.field or "payee", rule.match_type, rule.pattern or "", to_cents(rule.amount_min),
                    to_cents(rule.amount_max), rule.account_id, rule.category_id, rule.set_payee, tuple(tag_ids))


def load_rules(session: Session, user_id: int) -> list[RuleSpec]:
    rules = session.scalars(select(ImportRule).where(ImportRule.user_id == user_id)
                            .order_by(ImportRule.position, ImportRule.id)).all()
    tags: dict[int, list[int]] = {}
    for rule_id, tag_id in session.execute(
            select(RuleTag.rule_id, RuleTag.tag_id).join(Tag, (Tag.id == RuleTag.tag_id) & (Tag.user_id == user_id))
            .where(RuleTag.rule_id.in_([r.id for r in rules]))):
        tags.setdefault(rule_id, []).append(tag_id)
    return [_spec(r, sorted(tags.get(r.id, []))) for r in rules]


def rule_frame(session: Session, user_id: int) -> pd.DataFrame:
    from .categories import category_frame
    names = dict(zip(*[category_frame(session, user_id)[c] for c in ("id", "full_name")]))
    specs = load_rules(session, user_id)
    return pd.DataFrame([{"id": s.id, "text": s.describe(names)} for s in specs], columns=["id", "text"])


# --- matching -------------------------------------------------------------------------------------

def _text_matcher(spec: RuleSpec) -> Callable[[str], bool]:
    if not spec.pattern:
        return lambda _s: True
    if spec.match_type == "regex":
        return patterns.compile_pattern(spec.pattern).search   # RE2
    needle = spec.pattern.casefold()
    if spec.match_type == "equals":
        return lambda s: s.strip().casefold() == needle
    if spec.match_type == "starts_with":
        return lambda s: s.strip().casefold().startswith(needle)
    return lambda s: needle in s.casefold()


def compile_rules(specs) -> list[tuple[Callable, RuleSpec]]:
    """(match(payee, description, cents, account_id) -> bool, rule) for each usable rule."""
    out = []
    for spec in specs:
        try:
            text = _text_matcher(spec)
        except patterns.PatternError:
            continue

        def match(payee, description, cents_value, account_id, spec=spec, text=text) -> bool:
            subject = payee if spec.field == "payee" else description
            size = abs(int(cents_value))
            return (text(subject or "")
                    and (spec.amount_min is None or size >= spec.amount_min)
                    and (spec.amount_max is None or size <= spec.amount_max)
                    and (spec.account_id is None or spec.account_id == account_id))
        out.append((match, spec))
    return out


def first_match(compiled, *, payee: str, description: str = "", cents_value: int = 0,
                account_id: int | None = None) -> RuleSpec | None:
    for match, spec in compiled:
        if match(payee, description, cents_value, account_id):
            return spec
    return None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def rule_where(session: Session, user_id: int, spec: RuleSpec) -> list:
    """The rule's conditions as SQL on transactions (a regex through RE2 on the distinct values)."""
    column = Transaction.payee if spec.field == "payee" else Transaction.description
    where = []
    if spec.account_id:
        where.append(Transaction.account_id == spec.account_id)
    size = func.abs(cents(Transaction.amount))
    if spec.amount_min is not None:
        where.append(size >= spec.amount_min)
    if spec.amount_max is not None:
        where.append(size <= spec.amount_max)
    if spec.pattern and spec.match_type == "regex":
        search = patterns.compile_pattern(spec.pattern).search
        if spec.field == "payee" and not rollup.stale(session, user_id):
            # The user's payees (PayeeName: a few thousand rows, not a pass over every transaction):
            # those of spending and income, the only rows a rule changes. The account and amount
            # conditions stay in the WHERE below, so a wider list changes nothing.
            values = session.scalars(select(PayeeName.payee).where(PayeeName.user_id == user_id,
                                                                   PayeeName.flow.in_(("spending", "income")))
                                     .distinct()).all()
        else:
            values = session.scalars(select(column).where(Transaction.user_id == user_id, *where).distinct()).all()
        matched = [v for v in values if search(v or "")]
        if len(matched) > MAX_REGEX_VALUES:
            raise ServiceError("This pattern matches too many different texts; make it narrower.", "pattern")
        where.append(column.in_(matched))
    elif spec.pattern:
        lowered, text = func.lower(func.trim(column)), spec.pattern.lower()
        if spec.match_type == "equals":
            where.append(lowered == text)
        elif spec.match_type == "starts_with":
            where.append(lowered.like(_escape_like(text) + "%", escape="\\"))
        else:
            where.append(func.lower(column).like("%" + _escape_like(text) + "%", escape="\\"))
    return where


def _actions(session: Session, user_id: int, spec: RuleSpec) -> bulk_edit.Actions:
    return bulk_edit.make_actions(session, user_id,
                                  category_id=spec.category_id if spec.category_id else bulk_edit.UNSET,
                                  tag_ids=spec.tag_ids, payee=spec.set_payee)


def _spec_of(session: Session, user_id: int, rule_id) -> RuleSpec:
    rule = get_rule(session, user_id, rule_id)
    return next(s for s in load_rules(session, user_id) if s.id == rule.id)


def preview_existing(session: Session, user_id: int, rule_id) -> bulk_edit.Preview:
    """How many of the user's transactions the rule would change now, and how much money they carry."""
    spec = _spec_of(session, user_id, rule_id)
    return bulk_edit.preview(session, user_id, rule_where(session, user_id, spec), _actions(session, user_id, spec))


def apply_existing(session: Session, user_id: int, rule_id, *, expected_rows: int | None = None):
    """Apply the rule to the transactions already there: one batch (one undo). Does not commit."""
    spec = _spec_of(session, user_id, rule_id)
    return bulk_edit.apply(session, user_id, rule_where(session, user_id, spec), _actions(session, user_id, spec),
                           label=f"Rule applied to existing rows (rule {spec.id})", expected_rows=expected_rows)


# --- the offer after a hand edit -------------------------------------------------------------------

def rule_offer(session: Session, user_id: int, transaction_id) -> dict | None:
    """After the user re-categorised a transaction by hand: the payee, its new category, and how many
    other rows of that payee sit in another category (the "make it a rule" offer), or None."""
    from .transactions import get_transaction
    tx = get_transaction(session, user_id, transaction_id)
    if not tx.payee or tx.category_id is None or tx.kind == "transfer":
        return None
    others = session.scalar(select(func.count()).select_from(Transaction).where(
        Transaction.user_id == user_id, func.lower(func.trim(Transaction.payee)) == tx.payee.strip().lower(),
        Transaction.kind == tx.kind, Transaction.id != tx.id,
        (Transaction.category_id.is_(None)) | (Transaction.category_id != tx.category_id))) or 0
    return {"payee": tx.payee, "category_id": tx.category_id, "others": int(others)}


# --- payees ------------------------------------------------------------------------------------------

def payee_frame(session: Session, user_id: int, limit: int = 500) -> pd.DataFrame:
    """The user's payees with how many transactions each: payee, count (most used first)."""
    rows = session.execute(select(Transaction.payee, func.count()).where(
        Transaction.user_id == user_id, Transaction.kind != "transfer", Transaction.payee != "")
        .group_by(Transaction.payee).order_by(func.count().desc(), Transaction.payee).limit(limit)).all()
    return pd.DataFrame(rows, columns=["payee", "count"])


def rename_payee(session: Session, user_id: int, old, new, *, expected_rows: int | None = None):
    """Rename a payee on every one of the user's transactions (merging it into another payee when
    ``new`` exists already): one batch, one undo. Does not commit."""
    source = clean_text(old, field="payee", max_length=200, required=True)
    target = clean_text(new, field="new_payee", max_length=200, required=True)
    if source == target:
        raise ServiceError("The new name is the same as the old one.", "new_payee")
    where = [Transaction.payee == source]
    actions = bulk_edit.make_actions(session, user_id, payee=target)
    return bulk_edit.apply(session, user_id, where, actions, label=f"Payee “{source}” renamed to “{target}”",
                           expected_rows=expected_rows)
