from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from .db import BigId, db


class Tag(db.Model):
    """A user's own label for transactions ("holiday-2026", "reimbursable"); many per transaction."""

    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        UniqueConstraint("id", "user_id"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    color: Mapped[str | None] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    def __repr__(self) -> str:
        return f"<Tag {self.id} {self.name!r}>"


class TransactionTag(db.Model):
    """A tag on a transaction. Both belong to the same user: enforced by the database (composite keys)."""

    __tablename__ = "transaction_tags"
    __table_args__ = (
        ForeignKeyConstraint(["transaction_id", "user_id"], ["transactions.id", "transactions.user_id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tag_id", "user_id"], ["tags.id", "tags.user_id"], ondelete="CASCADE"),
        Index("ix_transaction_tags_user_tag", "user_id", "tag_id", "transaction_id"),
    )

    transaction_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tag_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class EditBatch(db.Model):
    """One bulk change (a bulk edit, a rule applied to existing rows, a payee rename) that can be undone
    as a whole: the rows it changed keep their previous category and payee in ``edit_batch_rows``, the
    tags it added in ``edit_batch_tags``."""

    __tablename__ = "edit_batches"
    __table_args__ = (UniqueConstraint("id", "user_id"),)  # target of the batch rows' (batch_id, user_id) keys

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    row_count: Mapped[int] = mapped_column(default=0, server_default="0")
    undone: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class EditBatchRow(db.Model):
    __tablename__ = "edit_batch_rows"
    __table_args__ = (
        ForeignKeyConstraint(["batch_id", "user_id"], ["edit_batches.id", "edit_batches.user_id"], ondelete="CASCADE"),
        Index("ix_edit_batch_rows_batch", "batch_id", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column()
    # No key of its own to users: the batch's (batch_id, user_id) says it, and every row written is a
    # key checked (one per changed transaction of a bulk edit; migration 0023).
    user_id: Mapped[int] = mapped_column()
    transaction_id: Mapped[int] = mapped_column(BigId)
    category_id: Mapped[int | None] = mapped_column()
    payee: Mapped[str] = mapped_column(String(200), default="", server_default="")
    version: Mapped[int] = mapped_column(default=1, server_default="1")  # the row's version after the edit


class EditBatchTag(db.Model):
    __tablename__ = "edit_batch_tags"
    __table_args__ = (
        ForeignKeyConstraint(["batch_id", "user_id"], ["edit_batches.id", "edit_batches.user_id"], ondelete="CASCADE"),
        Index("ix_edit_batch_tags_batch", "batch_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column()
    user_id: Mapped[int] = mapped_column()   # keyed through its batch (migration 0023)
    transaction_id: Mapped[int] = mapped_column(BigId)
    tag_id: Mapped[int] = mapped_column()
