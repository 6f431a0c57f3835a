"""Categories a user can see (the built-in tree, user_id NULL, and their own) and the user's changes
to their taxonomy: create, rename, recolour, move (any depth, never a cycle), hide a built-in one (a
per-user setting), merge one into another, delete with a choice of where its transactions go.

Every write is scoped to the user, checks the category's version (optimistic locking, like budgets),
validates before it changes anything, flushes and leaves the commit to the caller. Writes that move
money between categories do it with set-based UPDATEs, after shifting the roll-ups by the moved rows'
aggregates (dashboard/services/rollup.py, as a bulk edit does), so no total by month ever changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from models import (
    Budget,
    Category,
    CategoryMapping,
    EditBatch,
    EditBatchRow,
    Expense,
    HiddenCategory,
    ImportRule,
    Transaction,
)

from . import rollup
from .budget_lines import assign_budgets, detach_expenses
from .cache import transaction_memo
from .errors import Conflict, NotFound, ServiceError
from .sql import cents
from .validation import normalise_name

NAME_MAX = 100
PATH_SEPARATOR = " › "
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def visible_to(user_id: int):
    """WHERE clause: the built-in categories and this user's own."""
    return or_(Category.user_id.is_(None), Category.user_id == user_id)


def get_category(session: Session, user_id: int, category_id, *, kind: str | None = None) -> Category:
    """A category the user may use, optionally of one kind ('expense' or 'income')."""
    from .validation import parse_id

    cid = parse_id(category_id, field="category")
    category = session.scalar(select(Category).where(Category.id == cid, visible_to(user_id)))
    if category is None:
        raise NotFound("Unknown category.", "category")
    if kind is not None and category.kind != kind:
        raise ServiceError(f"“{category.name}” is an {category.kind} category, not {kind}.", "category")
    return category


def hidden_ids(session: Session, user_id: int) -> set[int]:
    """The built-in categories this user hid."""
    return set(session.scalars(select(HiddenCategory.category_id).where(HiddenCategory.user_id == user_id)))


# --- the tree -------------------------------------------------------------------------------------

FRAME_COLUMNS = ["id", "name", "kind", "color", "parent_id", "parent_name", "full_name", "top_id", "depth",
                 "path_ids", "own", "hidden", "version"]


def category_records(session: Session, user_id: int) -> dict[str, list]:
    """``category_frame``'s columns as plain lists (FRAME_COLUMNS -> one list each), for callers that
    only look a few things up (the grid's category labels) and need no DataFrame. Read once per
    database transaction that has not written (an explorer update asked twice: 4 ms of its 60); each
    caller gets its own lists."""
    memo = transaction_memo(session)
    key = ("category_records", user_id)
    if memo is not None and key in memo:
        return {name: list(values) for name, values in memo[key].items()}
    columns = _read_category_records(session, user_id)
    if memo is not None:
        memo[key] = {name: list(values) for name, values in columns.items()}
    return columns


def _read_category_records(session: Session, user_id: int) -> dict[str, list]:
    rows = [tuple(r) for r in session.execute(
        select(Category.id, Category.name, Category.kind, Category.color, Category.parent_id, Category.user_id,
               Category.version)
        .where(visible_to(user_id)))]
    hidden = hidden_ids(session, user_id)
    known = {r[0] for r in rows}
    children: dict[int | None, list[tuple]] = {}
    for r in rows:
        children.setdefault(r[4] if r[4] in known else None, []).append(r)
    for kids in children.values():
        kids.sort(key=lambda c: (c[1].casefold(), c[0]))
    columns: dict[str, list] = {name: [] for name in FRAME_COLUMNS}
    # A tree walk, depth first (parents before their children, siblings by name), without recursion.
    stack = [(r, None, (), (), None, False) for r in reversed(children.get(None, []))]
    while stack:
        row, parent_id, path, names, inherited, hidden_above = stack.pop()
        cid, name, kind, color, _, owner, version = row
        if cid in path:  # never loops, whatever the rows say
            continue
        color = color or inherited
        ids = (*path, cid)
        is_hidden = hidden_above or cid in hidden
        for key, value in (("id", cid), ("name", name), ("kind", kind), ("color", color), ("parent_id", parent_id),
                           ("parent_name", names[-1] if names else None),
                           ("full_name", PATH_SEPARATOR.join((*names, name))), ("top_id", ids[0]),
                           ("depth", len(path)), ("path_ids", list(ids)), ("own", owner is not None),
                           ("hidden", is_hidden), ("version", version)):
            columns[key].append(value)
        stack.extend((child, cid, ids, (*names, name), color, is_hidden)
                     for child in reversed(children.get(cid, [])))
    return columns


def category_frame(session: Session, user_id: int) -> pd.DataFrame:
    """Every category the user sees, at any depth: id, name, kind, color (inherited from the nearest
    ancestor that has one), parent_id, parent_name, full_name ("Home › Utilities › Power"), top_id (the
    root of its tree), depth (0 for a root), path_ids (root first, itself last), own (the user's, not
    built-in), hidden (a built-in the user hid, or below one), version. Ordered as a tree walk (parents
    before their children, siblings by name)."""
    frame = pd.DataFrame(category_records(session, user_id), columns=FRAME_COLUMNS)
    frame["parent_id"] = frame["parent_id"].astype("Int64")
    frame["top_id"] = frame["top_id"].astype("int64")
    return frame


def _parents(session: Session, user_id: int) -> dict[int, int | None]:
    return dict(session.execute(select(Category.id, Category.parent_id).where(visible_to(user_id))).all())


def descendants(session: Session, user_id: int, category_id: int) -> set[int]:
    """The category's children, their children, ... (not itself)."""
    parents = _parents(session, user_id)
    kids: dict[int | None, set[int]] = {}
    for cid, parent in parents.items():
        kids.setdefault(parent, set()).add(cid)
    found: set[int] = set()
    todo = [category_id]
    while todo:
        for child in kids.get(todo.pop(), ()):
            if child not in found and child != category_id:
                found.add(child)
                todo.append(child)
    return found


def with_descendants(session: Session, user_id: int, category_ids) -> list[int]:
    """The given categories and everything below them, at any depth (a parent selects its subtree)."""
    ids = {int(c) for c in category_ids}
    if not ids:
        return []
    allowed = set(session.scalars(select(Category.id).where(Category.id.in_(ids), visible_to(user_id))).all())
    out = set(allowed)
    for cid in allowed:
        out |= descendants(session, user_id, cid)
    return sorted(out)


def category_choices(session: Session, user_id: int, *, include_hidden: bool = False) -> list[dict]:
    """Categories to pick from: id, label (the full path), kind, depth; hidden built-ins left out."""
    frame = category_frame(session, user_id)
    if not include_hidden:
        frame = frame[~frame["hidden"]]
    return [{"id": int(r.id), "label": r.full_name, "kind": r.kind, "depth": int(r.depth), "hidden": bool(r.hidden)}
            for r in frame.itertuples()]


# --- checks -------------------------------------------------------------------------------------

def check_name(value) -> str:
    if value is not None and not isinstance(value, str):
        raise ServiceError("Enter a name.", "name")
    name = normalise_name(value)
    if not name:
        raise ServiceError("Enter a name.", "name")
    if len(name) > NAME_MAX:
        raise ServiceError(f"A category name has at most {NAME_MAX} characters.", "name")
    if "›" in name:
        raise ServiceError("A category name cannot contain “›” (it separates levels).", "name")
    return name


def check_color(value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _COLOR_RE.match(value.strip()):
        raise ServiceError("Choose a colour like #1f77b4.", "color")
    return value.strip().lower()


def _version(value) -> int:
    if isinstance(value, bool):
        raise ServiceError("Reload the page and try again.", "version")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ServiceError("Reload the page and try again.", "version") from None


def own_category(session: Session, user_id: int, category_id, *, expected_version=None,
                 action: str = "change") -> Category:
    """One of the user's own categories (built-in ones are shared: they can only be hidden)."""
    category = get_category(session, user_id, category_id)
    if category.user_id is None:
        raise ServiceError(f"“{category.name}” is built in: it cannot be {action}d. Hide it, or merge it into "
                           "one of your own.", "category")
    if expected_version is not None and category.version != _version(expected_version):
        raise Conflict(f"“{category.name}” was changed meanwhile; reload and try again.", category)
    return category


def _sibling_clash(session: Session, user_id: int, parent_id, name: str, exclude: int | None = None) -> bool:
    parent_clause = Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
    names = session.scalars(select(Category.name).where(visible_to(user_id), parent_clause,
                                                        Category.id != (exclude or 0))).all()
    return name.casefold() in {n.casefold() for n in names}


# --- writes ---------------------------------------------------------------------------------------

def create_category(session: Session, user_id: int, *, name, parent_id=None, kind=None, color=None) -> Category:
    """A new category of the user's own, at the top or under any category they see (its kind is the
    parent's)."""
    clean = check_name(name)
    colour = check_color(color)
    parent = None
    if parent_id not in (None, ""):
        parent = get_category(session, user_id, parent_id)
        kind_value = parent.kind
    else:
        kind_value = kind if kind in (None, "") else str(kind)
        if kind_value in (None, ""):
            kind_value = "expense"
        if kind_value not in ("expense", "income"):
            raise ServiceError("Choose spending or income.", "kind")
    if _sibling_clash(session, user_id, parent.id if parent else None, clean):
        where = f"under “{parent.name}”" if parent else "at the top level"
        raise ServiceError(f"There is already a “{clean}” {where}.", "name")
    category = Category(user_id=user_id, name=clean, kind=kind_value, color=colour,
                        parent_id=parent.id if parent else None)
    session.add(category)
    session.flush()
    return category


def ensure_path(session: Session, user_id: int, path: list[str], *, kind: str = "expense") -> Category:
    """The category at ``path`` (["Home", "Rent"]), creating the missing levels as the user's own;
    an existing level (built-in or own, any case) is reused."""
    parent_id = None
    category = None
    for part in path:
        clean = check_name(part)
        parent_clause = Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
        candidates = session.scalars(select(Category).where(visible_to(user_id), parent_clause)
                                     .order_by(Category.user_id.is_(None), Category.id)).all()
        category = next((c for c in candidates if c.name.casefold() == clean.casefold()), None)
        if category is None:
            category = Category(user_id=user_id, name=clean, kind=kind, parent_id=parent_id)
            session.add(category)
            session.flush()
        parent_id = category.id
    if category is None:
        raise ServiceError("Enter a name.", "name")
    return category


def rename_category(session: Session, user_id: int, category_id, *, expected_version, name) -> Category:
    category = own_category(session, user_id, category_id, expected_version=expected_version, action="rename")
    clean = check_name(name)
    if _sibling_clash(session, user_id, category.parent_id, clean, exclude=category.id):
        raise ServiceError(f"There is already a “{clean}” beside it.", "name")
    category.name = clean
    session.flush()
    return category


def recolor_category(session: Session, user_id: int, category_id, *, expected_version, color) -> Category:
    category = own_category(session, user_id, category_id, expected_version=expected_version, action="recolour")
    category.color = check_color(color)
    session.flush()
    return category


def move_category(session: Session, user_id: int, category_id, *, expected_version, parent_id) -> Category:
    """Put a category (with its subtree) under another one, or at the top (``parent_id`` None).
    Refuses a cycle (under itself or one of its own descendants) and a parent of the other kind."""
    category = own_category(session, user_id, category_id, expected_version=expected_version, action="move")
    new_parent = None
    if parent_id not in (None, "", 0, "0"):
        new_parent = get_category(session, user_id, parent_id)
        if new_parent.id == category.id:
            raise ServiceError("A category cannot be its own parent.", "parent")
        if new_parent.id in descendants(session, user_id, category.id):
            raise ServiceError(f"“{new_parent.name}” is inside “{category.name}”: that would make a loop.", "parent")
        if new_parent.kind != category.kind:
            raise ServiceError(f"“{new_parent.name}” is an {new_parent.kind} category; “{category.name}” is "
                               f"{category.kind}.", "parent")
    target = new_parent.id if new_parent else None
    if target == category.parent_id:
        return category
    if _sibling_clash(session, user_id, target, category.name, exclude=category.id):
        raise ServiceError(f"There is already a “{category.name}” there.", "parent")
    category.parent_id = target
    session.flush()
    _reassign_budgets(session, user_id, [category.id, *descendants(session, user_id, category.id)])
    return category


def set_hidden(session: Session, user_id: int, category_id, hidden: bool) -> Category:
    """Hide a built-in category for this user (it leaves the pickers; rows in it keep it), or show it
    again. The user's own categories are deleted or merged instead."""
    category = get_category(session, user_id, category_id)
    if category.user_id is not None:
        raise ServiceError(f"“{category.name}” is your own: delete or merge it instead of hiding it.", "category")
    exists = session.get(HiddenCategory, (user_id, category.id))
    if hidden and exists is None:
        session.add(HiddenCategory(user_id=user_id, category_id=category.id))
    elif not hidden and exists is not None:
        session.delete(exists)
    session.flush()
    return category


# --- merge and delete -------------------------------------------------------------------------------

@dataclass
class MergePlan:
    source: Category
    target: Category
    transactions: int = 0
    lines: int = 0
    budgets: int = 0
    rules: int = 0
    children: int = 0
    clashes: list[dict] = field(default_factory=list)   # periods both have a budget for

    @property
    def message(self) -> str:
        parts = [f"{self.transactions:,} transaction{'s' if self.transactions != 1 else ''}",
                 f"{self.budgets:,} budget{'s' if self.budgets != 1 else ''}",
                 f"{self.rules:,} rule{'s' if self.rules != 1 else ''}",
                 f"{self.children:,} subcategor{'ies' if self.children != 1 else 'y'}"]
        return f"Moves {', '.join(parts)} from “{self.source.name}” to “{self.target.name}”."


def _source_target(session: Session, user_id: int, source_id, target_id, expected_version):
    source = get_category(session, user_id, source_id)
    target = get_category(session, user_id, target_id)
    if source.id == target.id:
        raise ServiceError("Choose another category to merge into: a category cannot be merged into itself.",
                           "target")
    if expected_version is not None and source.version != _version(expected_version):
        raise Conflict(f"“{source.name}” was changed meanwhile; reload and try again.", source)
    if target.id in descendants(session, user_id, source.id):
        raise ServiceError(f"“{target.name}” is inside “{source.name}”: move it out first.", "target")
    if source.kind != target.kind:
        raise ServiceError(f"“{source.name}” is {source.kind} and “{target.name}” is {target.kind}: "
                           "they cannot be merged.", "target")
    if source.user_id is None and session.scalar(
            select(Category.id).where(Category.parent_id == source.id, Category.user_id.is_(None)).limit(1)):
        raise ServiceError(f"“{source.name}” is built in and has built-in subcategories: hide it instead.",
                           "category")
    return source, target


def merge_plan(session: Session, user_id: int, source_id, target_id, *, expected_version=None) -> MergePlan:
    """What merging ``source`` into ``target`` moves, and the periods where both have a budget (the
    user chooses: add the amounts, or keep the target's). Reads only."""
    from sqlalchemy import func
    source, target = _source_target(session, user_id, source_id, target_id, expected_version)
    plan = MergePlan(source, target)
    plan.transactions = session.scalar(select(func.count()).select_from(Transaction).where(
        Transaction.user_id == user_id, Transaction.category_id == source.id)) or 0
    plan.lines = session.scalar(select(func.count()).select_from(Expense).where(
        Expense.user_id == user_id, Expense.category_id == source.id)) or 0
    plan.budgets = session.scalar(select(func.count()).select_from(Budget).where(
        Budget.user_id == user_id, Budget.category_id == source.id)) or 0
    plan.rules = session.scalar(select(func.count()).select_from(ImportRule).where(
        ImportRule.user_id == user_id, ImportRule.category_id == source.id)) or 0
    plan.children = session.scalar(select(func.count()).select_from(Category).where(
        Category.user_id == user_id, Category.parent_id == source.id)) or 0
    mine = Budget.__table__.alias("b_source")
    theirs = Budget.__table__.alias("b_target")
    clashes = session.execute(
        select(mine.c.start_date, mine.c.end_date, cents(mine.c.amount), cents(theirs.c.amount))
        .join(theirs, (theirs.c.user_id == mine.c.user_id) & (theirs.c.start_date == mine.c.start_date))
        .where(mine.c.user_id == user_id, mine.c.category_id == source.id, theirs.c.category_id == target.id)
        .order_by(mine.c.start_date)).all()
    plan.clashes = [{"start": s, "end": e, "source_cents": int(a), "target_cents": int(b)}
                    for s, e, a, b in clashes]
    return plan


def _reassign_budgets(session: Session, user_id: int, category_ids) -> None:
    ids = list(category_ids)
    if ids:
        assign_budgets(session, user_id, category_ids=ids)


def _move_rows(session: Session, user_id: int, source_id: int, target_id: int | None) -> None:
    """Every transaction and expense line of the user in ``source`` goes to ``target`` (None:
    uncategorized), and the roll-ups move their money with them: shifted by the moved rows'
    aggregates as a bulk edit does (services/rollup.py: stage_category_move, apply_changes), not
    recomputed for every month the category has rows in (11-18 s at 1M rows over ten years)."""
    rollup.lock_user(session, user_id)   # one roll-up writer per user, before the rows are read
    rollup.stage_category_move(session, user_id, source_id, target_id)
    rollup.apply_changes(session, user_id)
    rollup.drop_changes(session)
    # What the user's bulk edits would put back on undo goes where the rows went: else undoing an edit
    # made before the delete put rows back into a category that no longer exists (a foreign-key error).
    # Only batches that can still be undone, found by their batch (the rows have no index on user_id).
    open_batches = select(EditBatch.id).where(EditBatch.user_id == user_id, EditBatch.undone.is_(False))
    session.execute(update(EditBatchRow).where(EditBatchRow.batch_id.in_(open_batches), EditBatchRow.user_id == user_id,
                                               EditBatchRow.category_id == source_id)
                    .values(category_id=target_id).execution_options(synchronize_session=False))
    session.execute(update(Transaction)
                    .where(Transaction.user_id == user_id, Transaction.category_id == source_id)
                    .values(category_id=target_id, version=Transaction.version + 1)
                    .execution_options(synchronize_session=False))
    session.execute(update(Expense)
                    .where(Expense.user_id == user_id, Expense.category_id == source_id)
                    .values(category_id=target_id)
                    .execution_options(synchronize_session=False))


def _finish(session: Session, user_id: int, category_ids) -> None:
    session.flush()
    _reassign_budgets(session, user_id, category_ids)
    session.expire_all()


def merge_categories(session: Session, user_id: int, source_id, target_id, *, expected_version,
                     budgets: str = "sum") -> MergePlan:
    """Merge ``source`` into ``target``: its transactions, expense lines, budgets, rules, remembered
    import names and subcategories move to ``target``; then ``source`` is deleted (one of the user's
    own) or hidden (a built-in). Where both have a budget for the same period, ``budgets`` says what
    happens: "sum" adds the amounts, "keep" keeps the target's. Totals by month do not change."""
    if budgets not in ("sum", "keep"):
        raise ServiceError("Choose whether to add the budgets or keep the target's.", "budgets")
    plan = merge_plan(session, user_id, source_id, target_id, expected_version=expected_version)
    source, target = plan.source, plan.target
    _move_rows(session, user_id, source.id, target.id)
    for budget in session.scalars(select(Budget).where(Budget.user_id == user_id, Budget.category_id == source.id)):
        clash = session.scalar(select(Budget).where(Budget.user_id == user_id, Budget.category_id == target.id,
                                                    Budget.start_date == budget.start_date))
        if clash is None:
            budget.category_id = target.id
        else:
            if budgets == "sum":
                clash.amount = clash.amount + budget.amount
            detach_expenses(session, user_id, Budget.id == budget.id)
            session.delete(budget)
    session.flush()
    session.execute(update(ImportRule).where(ImportRule.user_id == user_id, ImportRule.category_id == source.id)
                    .values(category_id=target.id).execution_options(synchronize_session=False))
    session.execute(update(CategoryMapping)
                    .where(CategoryMapping.user_id == user_id, CategoryMapping.category_id == source.id)
                    .values(category_id=target.id).execution_options(synchronize_session=False))
    for child in session.scalars(select(Category).where(Category.user_id == user_id,
                                                        Category.parent_id == source.id)):
        if _sibling_clash(session, user_id, target.id, child.name, exclude=child.id):
            child.name = _free_name(session, user_id, target.id, child.name)
        child.parent_id = target.id
    session.flush()
    if source.user_id is None:
        set_hidden(session, user_id, source.id, True)
    else:
        session.flush()
        session.expire(source, ["children"])
        session.delete(source)
    _finish(session, user_id, [target.id, *descendants(session, user_id, target.id)])
    return plan


def _free_name(session: Session, user_id: int, parent_id, name: str) -> str:
    for n in range(2, 1000):
        candidate = f"{name[:NAME_MAX - 6]} ({n})"
        if not _sibling_clash(session, user_id, parent_id, candidate):
            return candidate
    raise ServiceError("Too many categories with that name.", "name")


def delete_category(session: Session, user_id: int, category_id, *, expected_version, move_to=None) -> int:
    """Delete one of the user's own categories. Its transactions go to ``move_to`` (a category of the
    same kind) or become uncategorized (None); its subcategories move up to its parent; its budgets,
    rules and remembered import names go with it. Returns how many transactions moved."""
    from sqlalchemy import func
    category = own_category(session, user_id, category_id, expected_version=expected_version, action="delete")
    if move_to not in (None, "", 0, "0"):
        target = get_category(session, user_id, move_to)
        if target.id == category.id:
            raise ServiceError("Choose another category for its transactions (or none).", "move_to")
        if target.id in descendants(session, user_id, category.id):
            raise ServiceError(f"“{target.name}” is inside “{category.name}”: choose a category outside it.",
                               "move_to")
        if target.kind != category.kind:
            raise ServiceError(f"“{target.name}” is an {target.kind} category, not {category.kind}.", "move_to")
        target_id = target.id
    else:
        target_id = None
    count = session.scalar(select(func.count()).select_from(Transaction).where(
        Transaction.user_id == user_id, Transaction.category_id == category.id)) or 0
    _move_rows(session, user_id, category.id, target_id)
    for child in session.scalars(select(Category).where(Category.user_id == user_id,
                                                        Category.parent_id == category.id)):
        if _sibling_clash(session, user_id, category.parent_id, child.name, exclude=child.id):
            child.name = _free_name(session, user_id, category.parent_id, child.name)
        child.parent_id = category.parent_id
    session.flush()
    detach_expenses(session, user_id, Budget.category_id == category.id)
    session.execute(delete(Budget).where(Budget.user_id == user_id, Budget.category_id == category.id))
    session.execute(delete(ImportRule).where(ImportRule.user_id == user_id, ImportRule.category_id == category.id))
    session.execute(delete(CategoryMapping).where(CategoryMapping.user_id == user_id,
                                                  CategoryMapping.category_id == category.id))
    session.flush()
    session.expire(category, ["children"])
    session.delete(category)
    touched = [target_id] if target_id else []
    if target_id:
        touched += list(descendants(session, user_id, target_id))
    _finish(session, user_id, touched)
    return int(count)


def usage(session: Session, user_id: int) -> dict[int, int]:
    """How many of the user's transactions each category holds (for the Categories page)."""
    from sqlalchemy import func
    rows = session.execute(select(Transaction.category_id, func.count()).where(
        Transaction.user_id == user_id, Transaction.category_id.is_not(None))
        .group_by(Transaction.category_id)).all()
    return {int(c): int(n) for c, n in rows}



# --- the tree as plain maps ----------------------------------------------------------------------
# Pure functions over category_frame's (id, parent_id), for callers that walk the tree themselves
# (the spending explorer's drill levels and breadcrumb).

def parents_map(categories: pd.DataFrame) -> dict[int, int | None]:
    return {int(c): (int(p) if pd.notna(p) else None)
            for c, p in zip(categories["id"], categories["parent_id"], strict=True)}


def path_to(parents: dict[int, int | None], category_id: int) -> list[int]:
    """[root, ..., category_id]; a category the map does not know is a root of its own."""
    path, seen = [], set()
    node: int | None = int(category_id)
    while node is not None and node not in seen:
        path.append(node)
        seen.add(node)
        node = parents.get(node)
    return path[::-1]


def children_map(parents: dict[int, int | None]) -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for node, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(node)
    return children


def subtree(parents: dict[int, int | None], roots) -> set[int]:
    """The given categories and every category below them, at any depth."""
    children = children_map(parents)
    found: set[int] = set()
    stack = [int(r) for r in roots]
    while stack:
        node = stack.pop()
        if node in found:
            continue
        found.add(node)
        stack.extend(children.get(node, ()))
    return found
