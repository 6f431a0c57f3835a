from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .db import ExactDecimal, currency_check, db


class ExchangeRate(db.Model):
    """On ``day``, one unit of ``base`` is worth ``rate`` units of ``currency`` (the ECB's way round:
    base EUR, currency USD, rate 1.0876). Owned by one user: people on one server import their own
    rates, and nobody's totals change because somebody else imported a file.

    The rate for a day is the latest one on or before it (dashboard/services/fx.py); a day before the
    first rate has none, and that is reported, never guessed."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        # Day last: "the latest on or before a day" is one backwards step in this index.
        UniqueConstraint("user_id", "base", "currency", "day"),
        *currency_check("currency", "currency_iso"),
        *currency_check("base", "base_iso"),
        CheckConstraint("currency <> base", name="two_currencies"),
        CheckConstraint("length(rate) > 0", name="rate_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    base: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal)

    def __repr__(self) -> str:
        return f"<ExchangeRate {self.day} 1 {self.base} = {self.rate} {self.currency}>"
