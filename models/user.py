from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import db


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
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

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
