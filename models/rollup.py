from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import BigId, db


class MonthlyRollup(db.Model):
    """A derived table: a user's spending or income per month, account, category and payee, and
    (flow 'net') every account's net movement per month, transfers included, for balances.

    Whole-month questions ("spending by category over the last 12 months") are answered from here in
    milliseconds instead of scanning every expense. It is never edited directly: every commit that
    touches expenses or transactions recomputes the affected (user, month) rows from the raw tables
    (see dashboard/services/rollup.py), so it is always in step with them.
    """

    __tablename__ = "monthly_rollup"
    __table_args__ = (
        CheckConstraint("flow IN ('spending','income','net')", name="flow_known"),
        Index("ix_monthly_rollup_user_flow_month", "user_id", "flow", "month", "account_id", "category_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(10))
    month: Mapped[date]
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    payee: Mapped[str] = mapped_column(String(200))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)
