"""Which budget an expense line counts against: the one rule, and the one place that applies it.

The rule: a budget covers the lines of its category and of every category below it, at any depth.
Among the budgets whose period contains the line's date, the one on the nearest category wins (the
line's own, then its parent's, then the grandparent's, ...); among several of those, the shortest
period (latest start, earliest end), then the lowest id.

Every write path (a transaction saved, a budget added or changed, a category merged or moved, the bulk
writer, a bulk edit and its undo) ends by pointing the touched expense lines at the budget that covers
them now, through :func:`assign_budgets` or, inside one larger UPDATE, :func:`covering_budget_case`.
Both are set-based: the user's category tree and budgets (small) are read once into Python, and the
rule becomes one ``CASE category_id WHEN ... THEN CASE WHEN date BETWEEN ... END`` in the UPDATE, so the
cost is one pass over the lines whatever their number (no per-line subquery).

Below both services.budgets and services.categories, so neither has to import the other for it.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Select, and_, case, func, null, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from models import Budget, Category, Expense

Cover = dict[int, list[tuple[int, date, date]]]   # category id -> [(budget id, start, end)], best first
_CASE_BRANCHES = 1_000   # date branches in one UPDATE's CASE; more are split over several UPDATEs


def budget_cover(session: Session, user_id: int, *, date_from: date | None = None,
                 date_to: date | None = None) -> Cover:
    """For every category that some budget of the user covers (its own, or one on any category above
    it), the candidate budgets in the rule's order. Only budgets overlapping [date_from, date_to]."""
    stmt = select(Budget.id, Budget.category_id, Budget.start_date, Budget.end_date).where(Budget.user_id == user_id)
    if date_from is not None:
        stmt = stmt.where(Budget.end_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Budget.start_date <= date_to)
    budgets = session.execute(stmt).all()
    if not budgets:
        return {}
    children: dict[int, list[int]] = defaultdict(list)
    for cid, parent in session.execute(select(Category.id, Category.parent_id).where(
            or_(Category.user_id.is_(None), Category.user_id == user_id), Category.parent_id.is_not(None))):
        children[parent].append(cid)
    ranked: dict[int, list[tuple]] = defaultdict(list)
    for b in budgets:
        seen, level, distance = set(), [b.category_id], 0
        while level:
            nxt = []
            for cid in level:
                if cid in seen:      # a cycle cannot be stored (moves refuse them); never loop on one
                    continue
                seen.add(cid)
                ranked[cid].append((distance, -b.start_date.toordinal(), b.end_date.toordinal(), b.id,
                                    b.start_date, b.end_date))
                nxt.extend(children.get(cid, ()))
            level, distance = nxt, distance + 1
    return {cid: [(r[3], r[4], r[5]) for r in sorted(rows)] for cid, rows in ranked.items()}


def covering_budget_case(cover: Cover, category_col, date_col, category_ids=None):
    """SQL: the covering budget of a line in ``category_col`` on ``date_col`` (NULL when none), from a
    :func:`budget_cover`; only for the categories ``category_ids`` when given."""
    keys = [c for c in cover if category_ids is None or c in category_ids]
    if not keys:
        return null()
    whens = {cid: case(*[(and_(date_col >= start, date_col <= end), bid) for bid, start, end in cover[cid]],
                       else_=null()) for cid in keys}
    return case(whens, value=category_col, else_=null())


def _chunks(cover: Cover) -> list[list[int]]:
    out, current, size = [], [], 0
    for cid in sorted(cover):
        if current and size + len(cover[cid]) > _CASE_BRANCHES:
            out.append(current)
            current, size = [], 0
        current.append(cid)
        size += len(cover[cid])
    return [*out, current] if current else out


def assign_budgets(session: Session, user_id: int, *, transaction_ids=None,
                   date_from: date | None = None, date_to: date | None = None, category_ids=None) -> None:
    """Point each of the user's expenses (optionally only some transactions, a date range or some
    categories) at the budget that covers it now. One UPDATE (a few for a very large set of budgets),
    whatever the number of lines. ``transaction_ids`` may be a list or a SELECT of ids."""
    session.flush()
    where = [Expense.user_id == user_id]
    if transaction_ids is not None:
        ids = transaction_ids if isinstance(transaction_ids, Select) else list(transaction_ids)
        where.append(Expense.transaction_id.in_(ids))
    if category_ids is not None:
        where.append(Expense.category_id.in_(list(category_ids)))
    if date_from is not None:
        where.append(Expense.date >= date_from)
    if date_to is not None:
        where.append(Expense.date <= date_to)
    if transaction_ids is not None and (date_from is None or date_to is None):
        # Only the budgets that can cover these lines: those overlapping their dates.
        low, high = session.execute(select(func.min(Expense.date), func.max(Expense.date)).where(*where)).one()
        if low is None:
            return
        date_from, date_to = date_from or low, date_to or high
    cover = budget_cover(session, user_id, date_from=date_from, date_to=date_to)
    if category_ids is not None:
        wanted = set(category_ids)
        cover = {c: v for c, v in cover.items() if c in wanted}
    run = lambda stmt: session.execute(stmt.execution_options(synchronize_session=False))  # noqa: E731
    for chunk in _chunks(cover):
        run(update(Expense).where(*where, Expense.category_id.in_(chunk))
            .values(budget_id=covering_budget_case(cover, Expense.category_id, Expense.date, set(chunk))))
    uncovered = Expense.category_id.is_(None) | Expense.category_id.not_in(list(cover)) if cover else true()
    run(update(Expense).where(*where, uncovered, Expense.budget_id.is_not(None)).values(budget_id=None))
    session.expire_all()


def covering_budget_id(user_id_col, category_id_col, date_col, depth: int = 8):
    """The rule as one correlated scalar subquery, for checks (tests compare every line's budget with
    it): the nearest of the line's category and its ancestors up to ``depth`` levels above it."""
    chain = [aliased(Category) for _ in range(depth + 1)]
    stmt = select(Budget.id).select_from(chain[0])
    for child, parent in zip(chain, chain[1:]):
        stmt = stmt.outerjoin(parent, parent.id == child.parent_id)
    rank = case(*[(Budget.category_id == c.id, i) for i, c in enumerate(chain)], else_=depth + 1)
    return (stmt.join(Budget, or_(*[Budget.category_id == c.id for c in chain]))
            .where(chain[0].id == category_id_col, Budget.user_id == user_id_col,
                   Budget.start_date <= date_col, Budget.end_date >= date_col)
            .order_by(rank, Budget.start_date.desc(), Budget.end_date.asc(), Budget.id)
            .limit(1).scalar_subquery())


def detach_expenses(session: Session, user_id: int, *where) -> None:
    """Unlink the expense lines from the user's budgets that ``where`` selects, before those budgets are
    deleted. The key (budget_id, user_id) has no ON DELETE action: SET NULL would null user_id too (and
    a database distributed by user_id refuses it), so every delete of budgets calls this first; the
    caller then assigns the lines to whatever budget covers them now (``assign_budgets``)."""
    span = session.execute(select(func.min(Budget.start_date), func.max(Budget.end_date))
                           .where(Budget.user_id == user_id, *where)).one()
    if span[0] is None:
        return
    doomed = select(Budget.id).where(Budget.user_id == user_id, *where)
    # Their lines lie in their periods: read by the user's date index (budget_id has none, migration 0022).
    session.execute(update(Expense).where(Expense.user_id == user_id, Expense.date >= span[0], Expense.date <= span[1],
                                          Expense.budget_id.in_(doomed))
                    .values(budget_id=None).execution_options(synchronize_session=False))
