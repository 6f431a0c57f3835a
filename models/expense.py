from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import HOT_FILLFACTOR, BigId, Money, db


class Expense(db.Model):
    """A budget line of an expense-kind transaction: spending in one category.

    A transaction has one expense, or several for a split; their amounts sum to ``-transaction.amount``
    (positive = money spent, negative = a refund). ``date`` and ``account_id`` are copies of the
    transaction's, kept in step by the transaction service, so that "spending by category and month,
    filtered by date and account" is answered from one covering index without a join.
    ``budget_id`` is the budget whose category (or parent category) and period cover the date.
    """

    __tablename__ = "expenses"
    __table_args__ = (
        # The transaction must belong to the same user: enforced by the database.
        ForeignKeyConstraint(["transaction_id", "user_id"], ["transactions.id", "transactions.user_id"],
                             ondelete="CASCADE"),
        # The covering budget must be the same user's. No ON DELETE action: SET NULL would null user_id
        # too (and Citus refuses it); whoever deletes a budget first detaches its lines
        # (services/budgets.py: detach_expenses).
        ForeignKeyConstraint(["budget_id", "user_id"], ["budgets.id", "budgets.user_id"]),
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        # No index carries category_id or budget_id, the columns a bulk category edit changes, and
        # PostgreSQL leaves room on each page (fillfactor): the new row version of such an edit stays on
        # its page with no new index entry (a HOT update; migrations 0015 and 0022, docs/benchmarks.md).
        Index("ix_expenses_user_account_date", "user_id", "account_id", "date", "amount"),
        Index("ix_expenses_user_date", "user_id", "date", "amount"),
        # Amount filters: the rows in a narrow amount range (the edges of the roll-up's bands) of any
        # date, without reading the rest.
        Index("ix_expenses_user_amount", "user_id", "amount", "date", "account_id"),
        {"postgresql_with": {"fillfactor": HOT_FILLFACTOR}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    transaction_id: Mapped[int] = mapped_column(BigId, index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    budget_id: Mapped[int | None] = mapped_column()   # not indexed: see __table_args__
    account_id: Mapped[int] = mapped_column()
    date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money)
    memo: Mapped[str] = mapped_column(String(200), default="", server_default="")

    user = relationship("User", back_populates="expenses", overlaps="expenses")
    transaction = relationship("Transaction", back_populates="expenses", overlaps="expenses,user")
    category = relationship("Category")
    budget = relationship("Budget", back_populates="expenses", foreign_keys="[Expense.budget_id]",
                          primaryjoin="and_(Expense.budget_id == Budget.id, Expense.user_id == Budget.user_id)",
                          overlaps="expenses,user")

    def __repr__(self) -> str:
        return f"<Expense {self.id} tx={self.transaction_id} {self.amount}>"
