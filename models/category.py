from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import db

CATEGORY_KINDS = ("expense", "income")


class Category(db.Model):
    """A spending or income category.

    ``user_id`` NULL marks a built-in category shared by every user; a user's own categories carry
    their id. ``parent_id`` builds a tree of any depth (Home > Utilities > Power); the services refuse
    cycles. ``version`` is for optimistic locking, as for budgets and transactions.
    """

    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("kind IN ('expense','income')", name="kind_known"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # NO ACTION (the default), not RESTRICT: checked at the end of the statement, so deleting a user
    # cascades through their own nested categories on SQLite too, while a parent that still has
    # children left is refused.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"),
                                                  index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), default="expense")
    color: Mapped[str | None] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Optimistic locking: every UPDATE says "WHERE version = <the version read>" and bumps it.
    __mapper_args__ = {"version_id_col": version}

    user = relationship("User", back_populates="categories")
    parent = relationship("Category", remote_side=[id], back_populates="children")
    children = relationship("Category", back_populates="parent")

    def __repr__(self) -> str:
        return f"<Category {self.id} {self.name!r}>"


class HiddenCategory(db.Model):
    """A built-in category one user chose not to see (a per-user setting: built-ins are shared rows)."""

    __tablename__ = "category_hidden"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


class CategoryMapping(db.Model):
    """What a user chose for a category name an imported file used ("Home:Rent"): a category, or
    none (``category_id`` NULL: leave such rows uncategorized). Applied to later files without asking.
    ``source_name`` is the file's text, case-folded and trimmed."""

    __tablename__ = "category_mappings"
    __table_args__ = (
        UniqueConstraint("user_id", "source_name"),
        CheckConstraint("length(source_name) > 0", name="source_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source_name: Mapped[str] = mapped_column(String(200))
    # Deleting the category forgets the choice: the next file asks again.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
