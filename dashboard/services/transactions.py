"""Writing transactions while keeping their expenses (budget lines) in step.

Invariants kept here for every expense-kind transaction:
- its expenses sum to ``-transaction.amount`` (one line, or several for a split);
- each line carries the transaction's date and account (copies that serve the spending index);
- each line sits in the budget that covers its category (or parent category) and date.
Other kinds have no expenses. Transfers are two legs on two of the owner's accounts.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from models import Expense, Transaction

from . import fx
from .accounts import get_account  # noqa: F401  (re-exported: the one owner check for accounts)
from .budget_lines import assign_budgets
from .categories import get_category
from .errors import Conflict, NotFound, ServiceError
from .validation import clean_text, parse_amount, parse_date, parse_id


@dataclass(frozen=True)
class Split:
    """One line of a split: ``amount`` is spending (positive) or a refund (negative)."""
    category_id: int | None
    amount: Decimal
    memo: str = ""


def get_transaction(session: Session, user_id: int, transaction_id) -> Transaction:
    tid = parse_id(transaction_id, field="transaction")
    tx = session.scalar(select(Transaction).where(Transaction.id == tid, Transaction.user_id == user_id))
    if tx is None:
        raise NotFound("Unknown transaction.", "transaction")
    return tx


def _check_kind_amount(kind: str, amount: Decimal) -> None:
    if kind not in ("expense", "income"):
        raise ServiceError("Kind must be expense or income (use a transfer for moving money).", "kind")
    if amount == 0:
        raise ServiceError("The amount cannot be zero.", "amount")
    if kind == "income" and amount < 0:
        raise ServiceError("Income must be a positive amount.", "amount")


def _lines(session: Session, user_id: int, amount: Decimal, category_id, splits) -> tuple[int | None, list[Split]]:
    """The expense lines for an expense-kind transaction of ``amount`` (negative = spending)."""
    if splits:
        lines = []
        for index, split in enumerate(splits):
            value = parse_amount(split.amount, field=f"split {index + 1}", allow_negative=True)
            if value == 0:
                raise ServiceError("A split line cannot be zero.", f"split {index + 1}")
            cid = None
            if split.category_id is not None:
                cid = get_category(session, user_id, split.category_id, kind="expense").id
            lines.append(Split(cid, value, clean_text(split.memo, field="memo", max_length=200)))
        total = sum((line.amount for line in lines), Decimal("0"))
        if total != -amount:
            raise ServiceError(f"The split lines add up to {total}, not {-amount}.", "splits")
        header = lines[0].category_id if len(lines) == 1 else None
        return header, lines
    cid = None
    if category_id is not None:
        cid = get_category(session, user_id, category_id, kind="expense").id
    return cid, [Split(cid, -amount)]


def _write_lines(session: Session, tx: Transaction, lines: list[Split]) -> None:
    for old in list(tx.expenses):
        session.delete(old)
    session.flush()
    for line in lines:
        session.add(Expense(user_id=tx.user_id, transaction_id=tx.id, category_id=line.category_id,
                            account_id=tx.account_id, date=tx.date, amount=line.amount, memo=line.memo))
    session.flush()
    session.expire(tx, ["expenses"])


def create_transaction(session: Session, user_id: int, *, account_id, date, amount, kind: str = "expense",
                       category_id=None, payee="", description="", notes="", splits=None,
                       external_id: str | None = None, original_amount=None,
                       original_currency=None) -> Transaction:
    """Record an income or expense; an expense gets its budget lines. ``original_amount`` and
    ``original_currency``: the amount as charged in a foreign currency (a card statement's), kept
    beside it (fx.check_original). Does not commit."""
    account = get_account(session, user_id, account_id)
    value = fx.check_amount(parse_amount(amount, allow_negative=True), account.currency)
    original, original_code = fx.check_original(value, original_amount, original_currency, account.currency)
    _check_kind_amount(kind, value)
    day = parse_date(date)
    tx = Transaction(user_id=user_id, account_id=account.id, date=day, amount=value, kind=kind,
                     payee=clean_text(payee, field="payee", max_length=200),
                     description=clean_text(description, field="description", max_length=500),
                     notes=clean_text(notes, field="notes", max_length=5000),
                     external_id=external_id, original_amount=original, original_currency=original_code)
    if kind == "expense":
        tx.category_id, lines = _lines(session, user_id, value, category_id, splits)
    else:
        tx.category_id = (get_category(session, user_id, category_id, kind="income").id
                          if category_id is not None else None)
        lines = []
    session.add(tx)
    session.flush()
    if lines:
        _write_lines(session, tx, lines)
        assign_budgets(session, user_id, transaction_ids=[tx.id])
    return tx


_EDITABLE = {"account_id", "date", "amount", "kind", "category_id", "payee", "description", "notes",
             "splits"}


def update_transaction(session: Session, user_id: int, transaction_id, *, expected_version: int,
                       **changes) -> Transaction:
    """Change a transaction the user owns, if nobody changed it since ``expected_version``."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ServiceError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    tx = get_transaction(session, user_id, transaction_id)
    if tx.version != expected_version:
        raise Conflict("Someone changed this transaction meanwhile; the current values are shown.", tx)
    if tx.kind == "transfer" and set(changes) - {"date", "payee", "description", "notes"}:
        raise ServiceError("Edit a transfer's amount or accounts by deleting and re-entering it.")

    if "account_id" in changes:
        moved_to = get_account(session, user_id, changes["account_id"])
        was_in = get_account(session, user_id, tx.account_id).currency
        if moved_to.currency != was_in:
            raise ServiceError(f"“{moved_to.name}” is in {moved_to.currency}, this amount in {was_in}: "
                               "re-enter it in that account instead.", "account_id")
        tx.account_id = moved_to.id
    if "date" in changes:
        tx.date = parse_date(changes["date"])
    for field, limit in (("payee", 200), ("description", 500), ("notes", 5000)):
        if field in changes:
            setattr(tx, field, clean_text(changes[field], field=field, max_length=limit))
    if tx.kind == "transfer":
        if "date" in changes:  # both legs move together
            for leg in session.scalars(select(Transaction).where(
                    Transaction.user_id == user_id, Transaction.transfer_group == tx.transfer_group)):
                leg.date = tx.date
        session.flush()
        return tx

    kind = changes.get("kind", tx.kind)
    amount = parse_amount(changes["amount"], allow_negative=True) if "amount" in changes else tx.amount
    if "amount" in changes:
        fx.check_amount(amount, get_account(session, user_id, tx.account_id).currency)
    _check_kind_amount(kind, amount)
    current_lines = list(tx.expenses)
    money_changed = "amount" in changes or "kind" in changes or "category_id" in changes or "splits" in changes
    tx.kind, tx.amount = kind, amount
    if kind == "expense":
        if money_changed:
            if changes.get("splits"):
                tx.category_id, lines = _lines(session, user_id, amount, None, changes["splits"])
            elif len(current_lines) > 1 and "category_id" not in changes:
                raise ServiceError("This transaction is split: change its split lines instead.", "amount")
            else:
                category_id = changes.get("category_id", tx.category_id)
                tx.category_id, lines = _lines(session, user_id, amount, category_id, None)
            # New lines with the same total leave the row as it was: still bump its version.
            flag_modified(tx, "amount")
            session.flush()
            _write_lines(session, tx, lines)
        else:
            for line in current_lines:
                line.date, line.account_id = tx.date, tx.account_id
            session.flush()
        assign_budgets(session, user_id, transaction_ids=[tx.id])
    else:
        if "category_id" in changes:
            tx.category_id = (get_category(session, user_id, changes["category_id"], kind="income").id
                              if changes["category_id"] is not None else None)
        elif money_changed and tx.category_id is not None:
            category = get_category(session, user_id, tx.category_id)
            if category.kind != "income":
                tx.category_id = None
        if current_lines:
            _write_lines(session, tx, [])
        session.flush()
    return tx


def delete_transaction(session: Session, user_id: int, transaction_id) -> list[int]:
    """Delete a transaction (both legs of a transfer). Returns the ids deleted."""
    tx = get_transaction(session, user_id, transaction_id)
    doomed = [tx]
    if tx.transfer_group:
        doomed = session.scalars(select(Transaction).where(
            Transaction.user_id == user_id, Transaction.transfer_group == tx.transfer_group)).all()
    ids = [t.id for t in doomed]
    for t in doomed:
        session.delete(t)
    session.flush()
    return ids


def create_transfer(session: Session, user_id: int, *, from_account_id, to_account_id, date, amount,
                    description: str = "", to_amount=None) -> tuple[Transaction, Transaction]:
    """Move money between two of the user's accounts: two legs, never spending or income. Between
    accounts in two currencies each leg has its own amount: ``amount`` left the source (in its
    currency), ``to_amount`` arrived (in the target's); their ratio is the rate the bank applied
    (fx.implied_rate). In one currency ``to_amount`` is left out (or equal to ``amount``)."""
    source = get_account(session, user_id, from_account_id)
    target = get_account(session, user_id, to_account_id)
    if source.id == target.id:
        raise ServiceError("Choose two different accounts.", "to_account")
    value = fx.check_amount(parse_amount(amount, allow_zero=False), source.currency)
    if source.currency != target.currency:
        if to_amount is None or str(to_amount).strip() == "":
            raise ServiceError(f"“{source.name}” is in {source.currency} and “{target.name}” in {target.currency}: "
                               f"enter the amount that arrived in {target.currency}.", "to_amount")
        arrived = fx.check_amount(parse_amount(to_amount, field="to_amount", allow_zero=False), target.currency,
                                  "to_amount")
    else:
        arrived = value
        if to_amount is not None and str(to_amount).strip() != "" and \
                parse_amount(to_amount, field="to_amount", allow_zero=False) != value:
            raise ServiceError("Both accounts are in one currency: the same amount leaves and arrives.", "to_amount")
    day = parse_date(date)
    group = str(uuid.uuid4())
    text = clean_text(description, field="description", max_length=500)
    out_leg = Transaction(user_id=user_id, account_id=source.id, date=day, amount=-value, kind="transfer",
                          payee=f"Transfer to {target.name}", description=text, transfer_group=group)
    in_leg = Transaction(user_id=user_id, account_id=target.id, date=day, amount=arrived, kind="transfer",
                         payee=f"Transfer from {source.name}", description=text, transfer_group=group)
    session.add_all([out_leg, in_leg])
    session.flush()
    return out_leg, in_leg


# --- undo: what a delete removed, and putting it back through the functions above --------------------

def snapshot_transaction(session: Session, user_id: int, transaction_id) -> dict:
    """Everything needed to re-create a transaction (both legs of a transfer) after a delete: plain
    JSON (ids, ISO dates, amounts as strings, the expense lines of a split). Read before deleting."""
    tx = get_transaction(session, user_id, transaction_id)
    legs = [tx]
    if tx.transfer_group:
        legs = list(session.scalars(select(Transaction).where(
            Transaction.user_id == user_id, Transaction.transfer_group == tx.transfer_group)
            .order_by(Transaction.amount)))
    return {"legs": [{
        "account_id": leg.account_id, "date": leg.date.isoformat(), "amount": str(leg.amount), "kind": leg.kind,
        "category_id": leg.category_id, "payee": leg.payee, "description": leg.description, "notes": leg.notes,
        "external_id": leg.external_id,
        "lines": [{"category_id": line.category_id, "amount": str(line.amount), "memo": line.memo}
                  for line in sorted(leg.expenses, key=lambda e: e.id)],
    } for leg in legs]}


def restore_transaction(session: Session, user_id: int, snapshot) -> list[Transaction]:
    """Re-create what :func:`snapshot_transaction` described, through create_transaction /
    create_transfer (so ids, categories and accounts are checked against ``user_id`` again). Does not
    commit. A malformed snapshot raises ServiceError."""
    try:
        legs = snapshot["legs"]
        if not isinstance(legs, list) or len(legs) not in (1, 2):
            raise TypeError
        if len(legs) == 2:
            out_leg, in_leg = sorted(legs, key=lambda leg: Decimal(str(leg["amount"])))
            if out_leg["kind"] != "transfer" or in_leg["kind"] != "transfer":
                raise TypeError
            created = create_transfer(session, user_id, from_account_id=out_leg["account_id"],
                                      to_account_id=in_leg["account_id"], date=out_leg["date"],
                                      amount=str(-Decimal(str(out_leg["amount"]))), to_amount=in_leg["amount"],
                                      description=out_leg["description"])
            for tx, leg in zip(created, (out_leg, in_leg), strict=True):
                if tx.payee != leg["payee"] or leg.get("notes"):
                    update_transaction(session, user_id, tx.id, expected_version=tx.version,
                                       payee=leg["payee"], notes=leg.get("notes", ""))
            return list(created)
        leg = legs[0]
        if leg["kind"] == "transfer":
            raise TypeError
        lines = leg.get("lines") or []
        splits = [Split(line["category_id"], line["amount"], line.get("memo", "")) for line in lines]
        tx = create_transaction(session, user_id, account_id=leg["account_id"], date=leg["date"],
                                amount=leg["amount"], kind=leg["kind"],
                                category_id=leg["category_id"] if not splits else None,
                                payee=leg["payee"], description=leg["description"], notes=leg.get("notes", ""),
                                splits=splits if leg["kind"] == "expense" and splits else None,
                                external_id=leg.get("external_id"))
        return [tx]
    except (KeyError, TypeError, ValueError, IndexError, ArithmeticError) as exc:
        if isinstance(exc, ServiceError):
            raise
        raise ServiceError("This delete can no longer be undone.") from None
