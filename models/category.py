from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import db

CATEGORY_KINDS = ("expense", "income")


class Category(db.Model):
    """A spending or income category.

    ``user_id`` NULL marks a built-in category shared by every user; a user's own categories carry
    their id. ``parent_id`` builds a two-level tree (Food > Groceries).
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

    user = relationship("User", back_populates="categories")
    parent = relationship("Category", remote_side=[id], back_populates="children")
    children = relationship("Category", back_populates="parent")

    def __repr__(self) -> str:
        return f"<Category {self.id} {self.name!r}>"
