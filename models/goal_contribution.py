from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from .db import Money, db


class GoalContribution(db.Model):
    """Money put into (positive) or taken out of (negative) a goal that is not linked to an account.

    The dated history is what makes a goal's recent rate real. ``goals.saved_amount`` is the cached
    sum of a goal's contributions, kept in step by dashboard/services/goals.py in the same
    transaction as every write here.
    """

    __tablename__ = "goal_contributions"
    __table_args__ = (
        # The goal must belong to the same user: enforced by the database.
        ForeignKeyConstraint(["goal_id", "user_id"], ["goals.id", "goals.user_id"], ondelete="CASCADE"),
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        # Serves a goal's history and its recent-rate sums: one user's rows by goal and date.
        Index("ix_goal_contributions_user_goal_date", "user_id", "goal_id", "date", "amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    goal_id: Mapped[int] = mapped_column()
    date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    def __repr__(self) -> str:
        return f"<GoalContribution {self.id} goal={self.goal_id} {self.date} {self.amount}>"
