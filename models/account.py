from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Money, currency_check, db

ACCOUNT_TYPES = ("checking", "savings", "credit_card", "cash", "investment", "loan")
# Accounts whose balance is normally negative: money owed.
DEBT_TYPES = ("credit_card", "loan")


def owner_currency(context) -> str:
    """An account named without a currency is in its owner's (base) currency: asked of the database
    in the INSERT's own transaction, so Core inserts (services/bulk.py) get it too."""
    from .user import User

    user_id = context.get_current_parameters()["user_id"]
    currency = context.connection.scalar(select(User.currency).where(User.id == user_id))
    if currency is None:
        raise ValueError(f"no user {user_id} for a new account")
    return currency


class Account(db.Model):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        # Target of the composite foreign keys that pin a transaction / goal to its owner's account.
        UniqueConstraint("id", "user_id"),
        CheckConstraint("type IN ('checking','savings','credit_card','cash','investment','loan')",
                        name="type_known"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        *currency_check("currency", "currency_iso"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20), default="checking")
    # ISO 4217. The account's transactions, opening balance and goals are in this currency; the owner's
    # users.currency is the base currency totals are shown in (dashboard/services/fx.py converts).
    currency: Mapped[str] = mapped_column(String(3), default=owner_currency)
    opening_balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"), server_default="0")
    archived: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Optimistic locking: every UPDATE says "WHERE version = <the version read>" and bumps it.
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    user = relationship("User", back_populates="accounts")
    transactions = relationship("Transaction", back_populates="account", passive_deletes=True,
                                overlaps="transactions,user")

    @property
    def is_debt(self) -> bool:
        return self.type in DEBT_TYPES

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.name!r}>"
