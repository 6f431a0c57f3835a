from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Money, db

PERIOD_TYPES = ("monthly", "weekly", "yearly", "custom")


class Budget(db.Model):
    """An amount given to a category for one period (a month, a week, a year or custom dates)."""

    __tablename__ = "budgets"
    __table_args__ = (
        UniqueConstraint("user_id", "category_id", "start_date"),
        UniqueConstraint("id", "user_id"),  # target of expenses' (budget_id, user_id) key
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("end_date >= start_date", name="period_ordered"),
        CheckConstraint("period_type IN ('monthly','weekly','yearly','custom')", name="period_known"),
        Index("ix_budgets_user_period", "user_id", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    period_type: Mapped[str] = mapped_column(String(10), default="monthly")
    start_date: Mapped[date]
    end_date: Mapped[date]
    rollover: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Optimistic locking: every UPDATE says "WHERE version = <the version read>" and bumps it.
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    user = relationship("User", back_populates="budgets")
    category = relationship("Category")
    expenses = relationship("Expense", back_populates="budget", passive_deletes=True, foreign_keys="[Expense.budget_id]",
                            primaryjoin="and_(Expense.budget_id == Budget.id, Expense.user_id == Budget.user_id)",
                            overlaps="expenses,user")

    def __repr__(self) -> str:
        return f"<Budget {self.id} cat={self.category_id} {self.start_date}..{self.end_date} {self.amount}>"
