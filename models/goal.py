from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Money, db

GOAL_KINDS = ("savings", "debt")


class Goal(db.Model):
    """A savings target, or a debt to pay down to zero.

    Progress is ``saved_amount`` (the cached sum of the goal's ``goal_contributions``) unless
    ``account_id`` names an account of the owner, whose balance is then the progress (for a debt goal:
    how much of the debt owed when the goal was set has been paid off). See dashboard/services/goals.py.
    """

    __tablename__ = "goals"
    __table_args__ = (
        CheckConstraint("target_amount > 0", name="target_positive"),
        CheckConstraint("saved_amount >= 0", name="saved_not_negative"),
        CheckConstraint("kind IN ('savings','debt')", name="kind_known"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        # Target of the composite foreign key that pins a contribution to its owner's goal.
        UniqueConstraint("id", "user_id"),
        # The account must be the same user's. No ON DELETE action (SET NULL would null user_id too):
        # accounts are only deleted with their user, after the goals.
        ForeignKeyConstraint(["account_id", "user_id"], ["accounts.id", "accounts.user_id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), default="savings")
    target_amount: Mapped[Decimal] = mapped_column(Money)
    saved_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"), server_default="0")
    target_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Optimistic locking: every UPDATE says "WHERE version = <the version read>" and bumps it.
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    user = relationship("User", back_populates="goals")
    account = relationship("Account", foreign_keys="[Goal.account_id]", viewonly=True,
                           primaryjoin="and_(Goal.account_id == Account.id, Goal.user_id == Account.user_id)")

    def __repr__(self) -> str:
        return f"<Goal {self.id} {self.name!r}>"
