"""Changing many transactions at once, set-based, with one undo: the Transactions page's bulk edit
(selected rows, or every row matching a filter, resolved here on the server), a rule applied to the
rows already there, a payee renamed or merged across its transactions.

One edit is one ``edit_batches`` row. Its rows are chosen by one ``INSERT INTO edit_batch_rows ...
SELECT`` (keeping each row's category and payee from before, and its version after the edit); then a
few ``UPDATE ... WHERE id IN (SELECT transaction_id FROM edit_batch_rows WHERE batch_id = ?)`` change
the transactions, their expense lines and their tags; then the budgets of those lines are re-pointed
and the roll-up of exactly the months touched is recomputed. Nothing is loaded into Python row by row,
whatever the number of rows. :func:`undo` puts every row back the same way, refusing (and changing
nothing) when any of them was changed since.

Rules of an edit: transfers are never changed; a category goes only onto rows of its kind (spending
or income) that are not split; a row is in the batch only when the edit changes something on it.
Nothing here commits: the caller commits (or rolls back) the whole edit as one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, delete, exists, func, insert, literal, not_, or_, select, update
from sqlalchemy.orm import Session, aliased

from models import EditBatch, EditBatchRow, EditBatchTag, Expense, Transaction, TransactionTag

from . import rollup
from .categories import get_category
from .errors import Conflict, NotFound, ServiceError
from .sql import cents
from .validation import clean_text, parse_id

UNSET = object()
MAX_SELECTED = 5_000   # ids a selection may name; beyond that, edit by filter


@dataclass(frozen=True)
class Actions:
    """What an edit sets. ``category_id`` UNSET: leave categories; None: uncategorize."""
    category_id: object = UNSET
    category_kind: str | None = None
    tag_ids: tuple[int, ...] = ()
    payee: str | None = None

    @property
    def empty(self) -> bool:
        return self.category_id is UNSET and not self.tag_ids and self.payee is None

    def describe(self, category_name: str | None = None) -> str:
        parts = []
        if self.category_id is not UNSET:
            parts.append(f"category “{category_name}”" if self.category_id else "no category")
        if self.tag_ids:
            parts.append(f"{len(self.tag_ids)} tag{'s' if len(self.tag_ids) != 1 else ''}")
        if self.payee is not None:
            parts.append(f"payee “{self.payee}”")
        return ", ".join(parts)


def make_actions(session: Session, user_id: int, *, category_id=UNSET, tag_ids=(), payee=None) -> Actions:
    """Checked actions: the category is one the user may use, the tags are the user's, the payee is
    clean text (not empty)."""
    kind = None
    if category_id is not UNSET and category_id not in (None, "", 0, "0", "none"):
        category = get_category(session, user_id, category_id)
        category_id, kind = category.id, category.kind
    elif category_id is not UNSET:
        category_id = None
    tags = tuple(sorted({parse_id(t, field="tags") for t in tag_ids or ()}))
    if tags:
        from .tags import get_tag
        tags = tuple(get_tag(session, user_id, t).id for t in tags)
    if payee is not None:
        payee = clean_text(payee, field="payee", max_length=200, required=True)
    actions = Actions(category_id, kind, tags, payee)
    if actions.empty:
        raise ServiceError("Choose what to set: a category, tags or a payee.", "actions")
    return actions


def _not_split(user_id: int):
    """The transaction is not split. A split has no category of its own (its lines carry them), so
    only rows without one are looked at (one index probe each), never every expense line."""
    lines = (select(func.count()).select_from(Expense)
             .where(Expense.transaction_id == Transaction.id, Expense.user_id == user_id)
             .correlate(Transaction).scalar_subquery())
    return or_(Transaction.category_id.is_not(None), lines <= 1)


def _category_fits(user_id: int, actions: Actions):
    """Rows that may take the action's category: of its kind (any for "none"), not split."""
    parts = [Transaction.kind != "transfer", _not_split(user_id)]
    if actions.category_kind:
        parts.append(Transaction.kind == actions.category_kind)
    return and_(*parts)


def _changes(user_id: int, actions: Actions):
    """Rows on which the edit changes something."""
    parts = []
    if actions.category_id is not UNSET:
        differs = Transaction.category_id.is_not(None) if actions.category_id is None else \
            or_(Transaction.category_id.is_(None), Transaction.category_id != actions.category_id)
        parts.append(and_(_category_fits(user_id, actions), differs))
    if actions.payee is not None:
        parts.append(Transaction.payee != actions.payee)
    for tag_id in actions.tag_ids:
        parts.append(~exists().where(TransactionTag.transaction_id == Transaction.id,
                                     TransactionTag.user_id == user_id, TransactionTag.tag_id == tag_id))
    return or_(*parts) if parts else literal(False)


@dataclass
class Preview:
    rows: int             # rows the edit changes
    money_cents: int      # the money on them (absolute amounts)
    category_skipped: int  # matching rows whose category it cannot set (split, other kind)
    matching: int         # rows the selection or filter names (transfers left out)

    def message(self, currency_format=lambda c: f"{c / 100:,.2f}") -> str:
        if not self.rows:
            return f"Nothing to change: the {self.matching:,} matching rows already have this."
        text = f"Changes {self.rows:,} row{'s' if self.rows != 1 else ''} ({currency_format(self.money_cents)})."
        if self.category_skipped:
            text += (f" {self.category_skipped:,} matching row{'s are' if self.category_skipped != 1 else ' is'} "
                     "split or of the other kind and keep their category.")
        return text


def preview(session: Session, user_id: int, where: list, actions: Actions) -> Preview:
    """How many rows the edit would change and how much money they carry. Reads only."""
    base = [Transaction.user_id == user_id, Transaction.kind != "transfer", *where]
    row = session.execute(select(func.count(), func.coalesce(func.sum(func.abs(cents(Transaction.amount))), 0))
                          .where(*base, _changes(user_id, actions))).one()
    matching = session.scalar(select(func.count()).where(*base)) or 0
    skipped = 0
    if actions.category_id is not UNSET:
        skipped = session.scalar(select(func.count()).where(*base, not_(_category_fits(user_id, actions)))) or 0
    return Preview(int(row[0] or 0), int(row[1] or 0), int(skipped), int(matching))


def _batch_ids(batch_id: int):
    return select(EditBatchRow.transaction_id).where(EditBatchRow.batch_id == batch_id)


def _months(session: Session, user_id: int, batch_id: int) -> set[date]:
    m = rollup.month_of(session, Transaction.date)
    out = set()
    for (value,) in session.execute(select(m).where(Transaction.user_id == user_id,
                                                    Transaction.id.in_(_batch_ids(batch_id))).distinct()):
        out.add(value if isinstance(value, date) else date.fromisoformat(str(value)[:10]))
    return out


def _after(session: Session, user_id: int, batch_id: int, months: set[date], category_moved: bool) -> None:
    """The batch's rows are changed: add their new roll-up contribution (the old one was taken away
    before), fold the touched months, and re-point the budgets of their expense lines."""
    from .budget_lines import assign_budgets
    rollup.shift(session, user_id, _batch_ids(batch_id), +1)
    rollup.compact(session, user_id, months)
    if category_moved:
        assign_budgets(session, user_id, transaction_ids=_batch_ids(batch_id))
    session.expire_all()


def apply(session: Session, user_id: int, where: list, actions: Actions, *, label: str,
          expected_rows: int | None = None) -> EditBatch:
    """Carry out the edit on every row of the user matching ``where`` that it changes; one batch,
    undoable as a whole. ``expected_rows`` (what the preview said) refuses the edit when the rows
    changed in between. Does not commit."""
    rollup.mark_changed(session, user_id)
    batch = EditBatch(user_id=user_id, label=clean_text(label, field="label", max_length=200) or "Bulk edit")
    session.add(batch)
    session.flush()
    conn = session.connection()
    base = [Transaction.user_id == user_id, Transaction.kind != "transfer", *where, _changes(user_id, actions)]
    conn.execute(insert(EditBatchRow).from_select(
        ["batch_id", "transaction_id", "category_id", "payee", "version"],
        select(literal(batch.id), Transaction.id, Transaction.category_id, Transaction.payee,
               Transaction.version + 1).where(*base)))
    count = session.scalar(select(func.count()).select_from(EditBatchRow).where(EditBatchRow.batch_id == batch.id))
    if expected_rows is not None and count != expected_rows:
        raise Conflict(f"{count:,} rows match now, not {expected_rows:,}: the transactions changed meanwhile. "
                       "Look at the preview again.")
    if not count:
        raise ServiceError("Nothing to change: every matching row already has this.", "actions")
    batch.row_count = count
    in_batch = Transaction.id.in_(_batch_ids(batch.id))
    values: dict = {"version": Transaction.version + 1}
    if actions.category_id is not UNSET:
        values["category_id"] = case((_category_fits(user_id, actions), actions.category_id),
                                     else_=Transaction.category_id)
    if actions.payee is not None:
        values["payee"] = actions.payee
    months = _months(session, user_id, batch.id)
    rollup.shift(session, user_id, _batch_ids(batch.id), -1)
    session.execute(update(Transaction).where(Transaction.user_id == user_id, in_batch).values(**values)
                    .execution_options(synchronize_session=False))
    if actions.category_id is not UNSET and actions.category_kind != "income":
        # The one expense line of each re-categorised spending row follows it, and goes into the budget
        # that covers it in its new category (one pass over the lines).
        from .budget_lines import covering_budget_case
        fitted = select(Transaction.id).where(Transaction.user_id == user_id, in_batch,
                                              Transaction.kind == "expense", Transaction.category_id.is_not(None)
                                              if actions.category_id is not None else _not_split(user_id))
        session.execute(update(Expense).where(Expense.user_id == user_id, Expense.transaction_id.in_(fitted))
                        .values(category_id=actions.category_id,
                                budget_id=covering_budget_case(session, user_id, actions.category_id, Expense.date))
                        .execution_options(synchronize_session=False))
    for tag_id in actions.tag_ids:
        missing = ~exists().where(TransactionTag.transaction_id == EditBatchRow.transaction_id,
                                  TransactionTag.user_id == user_id, TransactionTag.tag_id == tag_id)
        conn.execute(insert(EditBatchTag).from_select(
            ["batch_id", "transaction_id", "tag_id"],
            select(literal(batch.id), EditBatchRow.transaction_id, literal(tag_id))
            .where(EditBatchRow.batch_id == batch.id, missing)))
    if actions.tag_ids:
        conn.execute(insert(TransactionTag).from_select(
            ["transaction_id", "tag_id", "user_id"],
            select(EditBatchTag.transaction_id, EditBatchTag.tag_id, literal(user_id))
            .where(EditBatchTag.batch_id == batch.id)))
    _after(session, user_id, batch.id, months, False)   # budgets: set with the lines above
    return session.get(EditBatch, batch.id)


def get_batch(session: Session, user_id: int, batch_id) -> EditBatch:
    bid = parse_id(batch_id, field="batch")
    batch = session.scalar(select(EditBatch).where(EditBatch.id == bid, EditBatch.user_id == user_id))
    if batch is None:
        raise NotFound("Unknown change.", "batch")
    return batch


def undo(session: Session, user_id: int, batch_id) -> EditBatch:
    """Put every row of the batch back as it was (category, its expense line, payee, tags added).
    Refused, with nothing changed, when it was undone already or any of its rows changed since."""
    batch = get_batch(session, user_id, batch_id)
    if batch.undone:
        raise ServiceError("That change was undone already.", "batch")
    rows = aliased(EditBatchRow)
    changed = session.scalar(
        select(func.count()).select_from(rows)
        .join(Transaction, and_(Transaction.id == rows.transaction_id, Transaction.user_id == user_id))
        .where(rows.batch_id == batch.id, Transaction.version != rows.version))
    gone = batch.row_count - (session.scalar(
        select(func.count()).select_from(rows)
        .join(Transaction, and_(Transaction.id == rows.transaction_id, Transaction.user_id == user_id))
        .where(rows.batch_id == batch.id)) or 0)
    if changed or gone:
        raise Conflict(f"{(changed or 0) + gone:,} of these rows were changed or deleted since: the change "
                       "can no longer be undone as a whole.")
    rollup.mark_changed(session, user_id)
    months = _months(session, user_id, batch.id)
    rollup.shift(session, user_id, _batch_ids(batch.id), -1)
    previous = aliased(EditBatchRow)
    old = lambda column: (select(column).where(previous.batch_id == batch.id,  # noqa: E731
                                               previous.transaction_id == Transaction.id)
                          .correlate(Transaction).scalar_subquery())
    in_batch = Transaction.id.in_(_batch_ids(batch.id))
    session.execute(update(Transaction).where(Transaction.user_id == user_id, in_batch)
                    .values(category_id=old(previous.category_id), payee=old(previous.payee),
                            version=Transaction.version + 1)
                    .execution_options(synchronize_session=False))
    single = select(Transaction.id).where(Transaction.user_id == user_id, in_batch, Transaction.kind == "expense",
                                          _not_split(user_id))
    line_old = (select(previous.category_id).where(previous.batch_id == batch.id,
                                                   previous.transaction_id == Expense.transaction_id)
                .correlate(Expense).scalar_subquery())
    session.execute(update(Expense).where(Expense.user_id == user_id, Expense.transaction_id.in_(single))
                    .values(category_id=line_old).execution_options(synchronize_session=False))
    added = select(EditBatchTag.transaction_id, EditBatchTag.tag_id).where(EditBatchTag.batch_id == batch.id)
    from sqlalchemy import tuple_
    session.connection().execute(delete(TransactionTag).where(
        TransactionTag.user_id == user_id,
        tuple_(TransactionTag.transaction_id, TransactionTag.tag_id).in_(added)))
    batch.undone = True
    session.flush()
    _after(session, user_id, batch.id, months, True)
    return session.get(EditBatch, batch.id)


# --- what an edit is about: a selection or a filter ------------------------------------------------

def selection_where(session: Session, user_id: int, rows) -> list:
    """WHERE for selected rows [{id, version}]: each must be the user's, at the version the browser
    saw (else Conflict, nothing changed)."""
    if not isinstance(rows, list) or not rows:
        raise ServiceError("Select some rows first.", "selection")
    if len(rows) > MAX_SELECTED:
        raise ServiceError(f"At most {MAX_SELECTED:,} selected rows at once: use “all rows matching this "
                           "filter” instead.", "selection")
    wanted: dict[int, int] = {}
    for row in rows:
        row = row if isinstance(row, dict) else {}
        tid = parse_id(row.get("id"), field="selection")
        version = row.get("version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise ServiceError("Reload the page and select again.", "selection")
        wanted[tid] = version
    found = dict(session.execute(select(Transaction.id, Transaction.version)
                                 .where(Transaction.user_id == user_id, Transaction.id.in_(list(wanted)))).all())
    if len(found) != len(wanted):
        raise NotFound("Some selected rows do not exist (any more).", "selection")
    stale = [t for t, v in wanted.items() if found[t] != v]
    if stale:
        raise Conflict(f"{len(stale):,} of the selected rows were changed meanwhile; reload and select again.")
    return [Transaction.id.in_(list(wanted))]


def filter_where(session: Session, user_id: int, query) -> list:
    """WHERE for "every row matching this filter", from the filter's own values (dates, accounts,
    categories, tags, kind, text), parsed and scoped here exactly as the grid's read does."""
    from .transaction_grid import _where, parse_filters
    filters = parse_filters(query, strict=True)
    if not filters.active:
        raise ServiceError("Set a filter first: editing every transaction at once is not offered.", "filter")
    return _where(session, user_id, filters)[1:]   # without the user clause (apply adds it)
