from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import HOT_FILLFACTOR, BigId, Money, currency_check, db

TRANSACTION_KINDS = ("expense", "income", "transfer")


class Transaction(db.Model):
    """One line on an account statement.

    ``amount`` is signed: negative when money leaves the account. An expense-kind transaction is
    normally negative (a purchase); a positive one is a refund. Income is always positive. A transfer
    is two linked legs (same ``transfer_group``) on two of the owner's accounts, summing to zero.
    Expense-kind transactions carry their budget lines in ``expenses`` (one, or several for a split),
    which together equal ``-amount``.
    """

    __tablename__ = "transactions"
    __table_args__ = (
        # The account must belong to the same user: enforced by the database.
        ForeignKeyConstraint(["account_id", "user_id"], ["accounts.id", "accounts.user_id"],
                             ondelete="CASCADE"),
        UniqueConstraint("id", "user_id"),
        # A bank's own transaction id (OFX FITID) is imported once per account.
        UniqueConstraint("user_id", "account_id", "external_id"),
        CheckConstraint("kind IN ('expense','income','transfer')", name="kind_known"),
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        CheckConstraint("kind <> 'income' OR amount > 0", name="income_positive"),
        CheckConstraint("kind = 'transfer' OR transfer_group IS NULL", name="transfer_group_only"),
        # A card statement's foreign amount (issue 17): both or neither.
        *currency_check("original_currency", "original_currency_iso"),
        CheckConstraint("(original_amount IS NULL) = (original_currency IS NULL)", name="original_pair"),
        # Serves the account balance and the ledger: a user's rows by account and date. No category_id
        # (migration 0015): a bulk category edit would rewrite every entry it touches.
        Index("ix_transactions_user_account_date", "user_id", "account_id", "date", "amount"),
        Index("ix_transactions_user_date", "user_id", "date"),
        # The few rows with a card statement's foreign amount: whether a user has any, at once.
        Index("ix_transactions_user_original", "user_id", sqlite_where=text("original_amount IS NOT NULL"),
              postgresql_where=text("original_amount IS NOT NULL")),
        # Recurring detection: a user's payments by payee, exact amount and date, read in that order
        # (the gaps between payments come from one ordered pass, no sort of the table).
        Index("ix_transactions_user_payee_amount_date", "user_id", "payee", "amount", "date", "kind"),
        Index("ix_transactions_transfer_group", "transfer_group"),
        {"postgresql_with": {"fillfactor": HOT_FILLFACTOR}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column()
    # No index carries category_id (migration 0022): a bulk category edit's row updates stay on their
    # page (HOT) on PostgreSQL instead of writing a new entry in every index.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    date: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money)
    kind: Mapped[str] = mapped_column(String(10))
    payee: Mapped[str] = mapped_column(String(200), default="", server_default="")
    description: Mapped[str] = mapped_column(String(500), default="", server_default="")
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    transfer_group: Mapped[str | None] = mapped_column(String(36))
    external_id: Mapped[str | None] = mapped_column(String(255))
    # The amount as charged in a foreign currency (a card statement's "original amount"), beside
    # ``amount`` in the account's currency. Shown, exported and restored; never summed or converted.
    original_amount: Mapped[Decimal | None] = mapped_column(Money)
    original_currency: Mapped[str | None] = mapped_column(String(3))
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Optimistic locking: every UPDATE says "WHERE version = <the version read>" and bumps it.
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    user = relationship("User", back_populates="transactions", overlaps="transactions")
    account = relationship("Account", back_populates="transactions", overlaps="transactions,user")
    category = relationship("Category")
    expenses = relationship("Expense", back_populates="transaction", cascade="all, delete-orphan",
                            passive_deletes=True, overlaps="expenses,user")

    def __repr__(self) -> str:
        return f"<Transaction {self.id} {self.date} {self.amount} {self.kind}>"
