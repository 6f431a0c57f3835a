"""Changing many transactions at once, set-based, with one undo: the Transactions page's bulk edit
(selected rows, or every row matching a filter, resolved here on the server), a rule applied to the
rows already there, a payee renamed or merged across its transactions.

One edit is one ``edit_batches`` row. Its rows are chosen by one ``INSERT INTO edit_batch_rows ...
SELECT`` (keeping each row's category and payee from before, and its version after the edit). The
before and after of every expense line and income row it touches go into a temporary table
(``rollup.CHANGES``, two ``INSERT ... SELECT``), from which the roll-ups are shifted by aggregates
(``rollup.shift`` + ``rollup.compact``); then one ``UPDATE ... FROM`` changes the transactions, one the
expense lines together with their covering budget (the rule as one ``CASE``), and one ``INSERT ...
SELECT`` per tag adds tags. Nothing is loaded into Python row by row, whatever the number of rows.
:func:`undo` puts every row back the same way, refusing (and changing nothing) when any of them was
changed since.

Rules of an edit: transfers are never changed; a category goes only onto rows of its kind (spending
or income) that are not split; a row is in the batch only when the edit changes something on it.
Nothing here commits: the caller commits (or rolls back) the whole edit as one transaction.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from models import EditBatch, EditBatchRow, EditBatchTag, Expense, Transaction, TransactionTag
from models.db import hold_checkpoint

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
    _no_jit(session.connection())
    base = [Transaction.user_id == user_id, Transaction.kind != "transfer", *where]
    # One pass over the matching rows, every figure a conditional sum (three COUNTs read them three times).
    changes = _changes(user_id, actions)
    skipped = literal(0)
    if actions.category_id is not UNSET:
        skipped = func.sum(case((not_(_category_fits(user_id, actions)), 1), else_=0))
    row = session.execute(select(func.sum(case((changes, 1), else_=0)),
                                 func.sum(case((changes, func.abs(cents(Transaction.amount))), else_=0)),
                                 skipped, func.count()).where(*base)).one()
    return Preview(*(int(v or 0) for v in row))


def _batch_ids(batch_id: int):
    return select(EditBatchRow.transaction_id).where(EditBatchRow.batch_id == batch_id)


def _stage(session: Session, user_id: int, batch_id: int, *, line_category, income_category, payee) -> None:
    """``rollup.stage`` the before and after of every expense line and income row of the batch (two
    INSERT ... SELECT into the roll-up's CHANGES table). ``line_category``, ``income_category``, ``payee``: the new
    values as SQL over Transaction, Expense and the batch row (``EditBatchRow``)."""
    rows = [EditBatchRow.batch_id == batch_id, Transaction.user_id == user_id]
    joined = and_(Transaction.id == EditBatchRow.transaction_id, Transaction.user_id == user_id)
    rollup.stage(
        session,
        select(Transaction.id, Expense.id, literal("spending"),
               *rollup.stage_columns(session, Expense.date, cents(Expense.amount)),
               Expense.account_id, Expense.category_id, line_category, Transaction.payee, payee)
        .select_from(EditBatchRow).join(Transaction, joined)
        .join(Expense, and_(Expense.transaction_id == Transaction.id, Expense.user_id == user_id))
        .where(*rows, Transaction.kind == "expense"),
        select(Transaction.id, null(), literal("income"),
               *rollup.stage_columns(session, Transaction.date, cents(Transaction.amount)),
               Transaction.account_id, Transaction.category_id, income_category, Transaction.payee, payee)
        .select_from(EditBatchRow).join(Transaction, joined)
        .where(*rows, Transaction.kind == "income"))


def _write_lines(session: Session, user_id: int) -> None:
    """The expense lines whose category the edit changes take their new one, and the budget that
    covers them in it: one UPDATE ... FROM the CHANGES table (the budget rule as one CASE)."""
    from .budget_lines import budget_cover, covering_budget_case
    c = rollup.CHANGES.c
    moved = [c.line_id.is_not(None), c.old_category.is_distinct_from(c.new_category)]
    span = session.execute(select(func.min(c.day), func.max(c.day)).where(*moved)).one()
    if span[0] is None:
        return
    low, high = (v if isinstance(v, date) else date.fromisoformat(str(v)[:10]) for v in span)
    cover = budget_cover(session, user_id, date_from=low, date_to=high)
    targets = set(session.scalars(select(c.new_category).where(*moved).distinct()))
    session.execute(update(Expense).where(Expense.user_id == user_id, Expense.id == c.line_id, *moved)
                    .values(category_id=c.new_category,
                            budget_id=covering_budget_case(cover, c.new_category, Expense.date, targets))
                    .execution_options(synchronize_session=False))


def _no_jit(conn) -> None:
    """PostgreSQL: no JIT compilation in this transaction. The edit's statements are estimated expensive
    (a correlated subquery per row), so each one compiled for 150-300 ms before running at 1M rows
    (EXPLAIN: "JIT ... Total 152.806 ms" of a 352 ms SELECT), several times per edit."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")


EDIT_CACHE_KIB = 128 * 1024   # SQLite page cache for one bulk edit (the default 2 MiB thrashes on the indexes)


@contextmanager
def _large_cache(session: Session):
    """SQLite: a large page cache for the duration of one bulk edit (its UPDATEs rewrite entries of every
    index that carries category_id, spread over the whole table), then the connection's own again; and
    the commit's WAL checkpoint (~1 s for the 130-250 MB an edit writes) held until after the response
    (``models.db.hold_checkpoint``).
    PostgreSQL: a larger pending list for the trigram indexes in this transaction (every updated row
    gets new entries in them; flushing a full 4 MB list in the middle of the UPDATE cost a third of it)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL gin_pending_list_limit = '64MB'")
        _no_jit(conn)
    if conn.dialect.name != "sqlite":
        yield
        return
    hold_checkpoint(conn)    # its ~1 s WAL checkpoint after the response, not inside the commit
    before = {db: conn.exec_driver_sql(f"PRAGMA {db}.cache_size").scalar() for db in ("main", "temp")}
    for db in before:
        conn.exec_driver_sql(f"PRAGMA {db}.cache_size = -{EDIT_CACHE_KIB}")
    try:
        yield
    finally:
        for db, size in before.items():
            conn.exec_driver_sql(f"PRAGMA {db}.cache_size = {int(size)}")


def apply(session: Session, user_id: int, where: list, actions: Actions, *, label: str,
          expected_rows: int | None = None) -> EditBatch:
    """Carry out the edit on every row of the user matching ``where`` that it changes; one batch,
    undoable as a whole. ``expected_rows`` (what the preview said) refuses the edit when the rows
    changed in between. Does not commit.

    Set-based throughout: the batch's rows are chosen by one INSERT ... SELECT; their before and after
    go into a temporary table (two INSERT ... SELECT) from which the roll-ups are shifted by aggregates;
    then one UPDATE ... FROM per table (transactions, expense lines with their budget) and one INSERT
    ... SELECT per tag."""
    with _large_cache(session):
        return _apply(session, user_id, where, actions, label=label, expected_rows=expected_rows)


def _apply(session: Session, user_id: int, where: list, actions: Actions, *, label: str,
           expected_rows: int | None) -> EditBatch:
    rollup.lock_user(session, user_id)   # before the rows are chosen: one roll-up writer per user
    rollup.mark_changed(session, user_id)
    batch = EditBatch(user_id=user_id, label=clean_text(label, field="label", max_length=200) or "Bulk edit")
    session.add(batch)
    session.flush()
    conn = session.connection()
    base = [Transaction.user_id == user_id, Transaction.kind != "transfer", *where, _changes(user_id, actions)]
    count = conn.execute(insert(EditBatchRow).from_select(
        ["batch_id", "user_id", "transaction_id", "category_id", "payee", "version"],
        select(literal(batch.id), literal(user_id), Transaction.id, Transaction.category_id, Transaction.payee,
               Transaction.version + 1).where(*base)).execution_options(preserve_rowcount=True)).rowcount
    if count is None or count < 0:   # (a driver that does not say)
        count = session.scalar(select(func.count()).select_from(EditBatchRow).where(EditBatchRow.batch_id == batch.id))
    if expected_rows is not None and count != expected_rows:
        raise Conflict(f"{count:,} rows match now, not {expected_rows:,}: the transactions changed meanwhile. "
                       "Look at the preview again.")
    if not count:
        raise ServiceError("Nothing to change: every matching row already has this.", "actions")
    batch.row_count = count
    session.flush()
    in_batch = and_(EditBatchRow.batch_id == batch.id, EditBatchRow.transaction_id == Transaction.id)
    values: dict = {"version": Transaction.version + 1}
    new_payee = Transaction.payee if actions.payee is None else literal(actions.payee)
    if actions.category_id is not UNSET:
        fits = _category_fits(user_id, actions)
        tx_category = case((fits, actions.category_id), else_=Transaction.category_id)
        values["category_id"] = tx_category
        # A line follows its transaction when that takes the category and is not split (one line).
        line_category = case((fits, actions.category_id), else_=Expense.category_id)
        income_category = tx_category
    else:
        line_category, income_category = Expense.category_id, Transaction.category_id
    if actions.payee is not None:
        values["payee"] = actions.payee
    _stage(session, user_id, batch.id, line_category=line_category, income_category=income_category,
           payee=new_payee)
    rollup.apply_changes(session, user_id)
    session.execute(update(Transaction).where(Transaction.user_id == user_id, in_batch).values(**values)
                    .execution_options(synchronize_session=False))
    _write_lines(session, user_id)
    for tag_id in actions.tag_ids:
        missing = ~exists().where(TransactionTag.transaction_id == EditBatchRow.transaction_id,
                                  TransactionTag.user_id == user_id, TransactionTag.tag_id == tag_id)
        conn.execute(insert(EditBatchTag).from_select(
            ["batch_id", "user_id", "transaction_id", "tag_id"],
            select(literal(batch.id), literal(user_id), EditBatchRow.transaction_id, literal(tag_id))
            .where(EditBatchRow.batch_id == batch.id, missing)))
    if actions.tag_ids:
        conn.execute(insert(TransactionTag).from_select(
            ["transaction_id", "tag_id", "user_id"],
            select(EditBatchTag.transaction_id, EditBatchTag.tag_id, literal(user_id))
            .where(EditBatchTag.batch_id == batch.id)))
    rollup.drop_changes(session)
    session.expire_all()
    return session.get(EditBatch, batch.id)


def get_batch(session: Session, user_id: int, batch_id) -> EditBatch:
    bid = parse_id(batch_id, field="batch")
    batch = session.scalar(select(EditBatch).where(EditBatch.id == bid, EditBatch.user_id == user_id))
    if batch is None:
        raise NotFound("Unknown change.", "batch")
    return batch


def undo(session: Session, user_id: int, batch_id) -> EditBatch:
    """Put every row of the batch back as it was (category, its expense line, payee, tags added).
    Refused, with nothing changed, when it was undone already or any of its rows changed since.
    Set-based like :func:`apply`: the roll-ups shifted by aggregates, one UPDATE ... FROM per table."""
    with _large_cache(session):
        return _undo(session, user_id, batch_id)


def _undo(session: Session, user_id: int, batch_id) -> EditBatch:
    rollup.lock_user(session, user_id)   # before the rows are read: one roll-up writer per user
    batch = get_batch(session, user_id, batch_id)
    if batch.undone:
        raise ServiceError("That change was undone already.", "batch")
    joined = and_(EditBatchRow.batch_id == batch.id, Transaction.id == EditBatchRow.transaction_id,
                  Transaction.user_id == user_id)
    # One pass over the batch's rows: how many are unchanged since, and whether any category or payee
    # differs from before (a column is only set back when one does).
    flag = lambda condition: func.max(case((condition, 1), else_=0))  # noqa: E731
    same, category_differs, payee_differs = session.execute(
        select(func.sum(case((Transaction.version == EditBatchRow.version, 1), else_=0)),
               flag(Transaction.category_id.is_distinct_from(EditBatchRow.category_id)),
               flag(Transaction.payee.is_distinct_from(EditBatchRow.payee)))
        .select_from(EditBatchRow).join(Transaction, joined)).one()
    same = int(same or 0)
    if same != batch.row_count:
        raise Conflict(f"{batch.row_count - same:,} of these rows were changed or deleted since: the change "
                       "can no longer be undone as a whole.")
    rollup.mark_changed(session, user_id)
    single = and_(Transaction.kind == "expense", _not_split(user_id))
    _stage(session, user_id, batch.id,
           line_category=case((single, EditBatchRow.category_id), else_=Expense.category_id),
           income_category=EditBatchRow.category_id, payee=EditBatchRow.payee)
    rollup.apply_changes(session, user_id)
    values: dict = {"version": Transaction.version + 1}
    if category_differs:
        values["category_id"] = EditBatchRow.category_id
    if payee_differs:
        values["payee"] = EditBatchRow.payee     # only then: it re-indexes the row's text
    session.execute(update(Transaction).where(joined).values(**values)
                    .execution_options(synchronize_session=False))
    _write_lines(session, user_id)
    added = select(EditBatchTag.transaction_id, EditBatchTag.tag_id).where(EditBatchTag.batch_id == batch.id)
    session.connection().execute(delete(TransactionTag).where(
        TransactionTag.user_id == user_id,
        tuple_(TransactionTag.transaction_id, TransactionTag.tag_id).in_(added)))
    rollup.drop_changes(session)
    session.execute(update(EditBatch).where(EditBatch.id == batch.id, EditBatch.user_id == user_id)
                    .values(undone=True).execution_options(synchronize_session=False))
    session.expire_all()
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
