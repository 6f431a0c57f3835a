from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import db


def initial_data_version() -> int:
    """A new user's first data version: random, not 0. Cached answers are keyed by (user id, data
    version), and SQLite may give a deleted user's id to the next new user; a random start never
    meets the keys the deleted user left in a cache."""
    return secrets.randbits(52)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, which makes the unique constraint case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    # How money, numbers and dates are written for this user (a Babel locale: en_US, de_DE, ...).
    locale: Mapped[str] = mapped_column(String(16), default="en_US", server_default="en_US")
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Bumped (data_version + 1) in the same transaction as every commit that changes what this user's
    # pages show (dashboard/services/rollup.py). Cached reads are keyed by it, so a commit makes every
    # older cached answer unreachable on every worker at once (dashboard/services/cache.py).
    data_version: Mapped[int] = mapped_column(BigInteger, default=initial_data_version, server_default="0")
    # Part of every session's fingerprint (dashboard/auth.py): logging out bumps it, so a copied session
    # cookie stops working on the server, not only in the browser that logged out.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    # The colour theme: "system" (follow the browser's preference), "light" or "dark".
    theme: Mapped[str] = mapped_column(String(8), default="system", server_default="system")

    accounts = relationship("Account", back_populates="user", cascade="all, delete-orphan",
                            passive_deletes=True)
    budgets = relationship("Budget", back_populates="user", cascade="all, delete-orphan",
                           passive_deletes=True)
    goals = relationship("Goal", back_populates="user", cascade="all, delete-orphan",
                         passive_deletes=True)
    expenses = relationship("Expense", back_populates="user", cascade="all, delete-orphan",
                            passive_deletes=True)
    transactions = relationship("Transaction", back_populates="user", cascade="all, delete-orphan",
                                passive_deletes=True)
    categories = relationship("Category", back_populates="user", cascade="all, delete-orphan",
                              passive_deletes=True)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
