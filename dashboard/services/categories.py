"""Categories a user can see: the built-in tree (user_id NULL) and their own."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from models import Category

from .errors import NotFound, ServiceError


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


def category_frame(session: Session, user_id: int) -> pd.DataFrame:
    """Every category the user sees with its parent: id, name, kind, color, parent_id, parent_name,
    full_name ("Food › Groceries"), top_id (the root of its tree)."""
    parent = aliased(Category)
    rows = session.execute(
        select(Category.id, Category.name, Category.kind, Category.color, Category.parent_id,
               parent.name.label("parent_name"), parent.color.label("parent_color"))
        .outerjoin(parent, parent.id == Category.parent_id)
        .where(visible_to(user_id))
        .order_by(parent.name.nulls_first(), Category.name)
    ).all()
    frame = pd.DataFrame(rows, columns=["id", "name", "kind", "color", "parent_id", "parent_name",
                                        "parent_color"])
    if frame.empty:
        frame["full_name"] = pd.Series(dtype=str)
        frame["top_id"] = pd.Series(dtype="int64")
        return frame
    frame["full_name"] = frame.apply(
        lambda r: f"{r.parent_name} › {r['name']}" if isinstance(r.parent_name, str) else r["name"], axis=1)
    parents = parents_map(frame)
    frame["top_id"] = pd.Series([path_to(parents, c)[0] for c in frame["id"]], index=frame.index, dtype="int64")
    frame["color"] = frame["color"].fillna(frame["parent_color"])
    return frame.drop(columns=["parent_color"])


def with_descendants(session: Session, user_id: int, category_ids) -> list[int]:
    """The given categories and their children (a parent selects its children)."""
    ids = {int(c) for c in category_ids}
    if not ids:
        return []
    children = session.scalars(
        select(Category.id).where(Category.parent_id.in_(ids), visible_to(user_id))).all()
    allowed = session.scalars(select(Category.id).where(Category.id.in_(ids), visible_to(user_id))).all()
    return sorted(set(allowed) | set(children))


# --- the tree, at any depth ----------------------------------------------------------------------
# Pure functions over category_frame's (id, parent_id): users may nest categories as deep as they
# like, so nothing here assumes two levels.

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
