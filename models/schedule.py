from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import BigId, Money, db

SCHEDULE_KINDS = ("expense", "income")
OCCURRENCE_STATUSES = ("paid", "skipped")


class Schedule(db.Model):
    """A recurring item the user expects: rent, salary, a subscription.

    ``rrule`` is an RFC 5545 recurrence rule without DTSTART, UNTIL or COUNT (``FREQ=MONTHLY;BYMONTHDAY=1``),
    read with python-dateutil; ``start_date``, ``until`` and ``count`` bound it. A rule that never ends is
    allowed: it is only ever expanded inside a bounded window (dashboard/services/schedules.py).
    ``amount`` is signed as a transaction's: negative for money going out.
    """

    __tablename__ = "schedules"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "user_id"], ["accounts.id", "accounts.user_id"],
                             ondelete="CASCADE"),
        # Target of the composite foreign key that pins an occurrence to its owner's schedule.
        UniqueConstraint("id", "user_id"),
        CheckConstraint("kind IN ('expense','income')", name="kind_known"),
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        CheckConstraint("kind <> 'income' OR amount > 0", name="income_positive"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint("length(rrule) > 0", name="rrule_not_empty"),
        CheckConstraint("until IS NULL OR until >= start_date", name="until_after_start"),
        CheckConstraint("count IS NULL OR count > 0", name="count_positive"),
        Index("ix_schedules_user_account", "user_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column()
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"),
                                                    index=True)
    name: Mapped[str] = mapped_column(String(100))
    payee: Mapped[str] = mapped_column(String(200), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(10), default="expense")
    amount: Mapped[Decimal] = mapped_column(Money)
    rrule: Mapped[str] = mapped_column(String(500))
    start_date: Mapped[date]
    until: Mapped[date | None]
    count: Mapped[int | None]
    paused: Mapped[bool] = mapped_column(default=False, server_default=false())
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Optimistic locking: every UPDATE says "WHERE version = <the version read>" and bumps it.
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    account = relationship("Account")
    category = relationship("Category")
    occurrences = relationship("ScheduleOccurrence", back_populates="schedule", cascade="all, delete-orphan",
                               passive_deletes=True, overlaps="occurrences")

    def __repr__(self) -> str:
        return f"<Schedule {self.id} {self.name!r} {self.rrule} {self.amount}>"


class ScheduleTag(db.Model):
    """A tag on a schedule (rent: "home"). Both belong to the same user: enforced by the database."""

    __tablename__ = "schedule_tags"
    __table_args__ = (
        ForeignKeyConstraint(["schedule_id", "user_id"], ["schedules.id", "schedules.user_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tag_id", "user_id"], ["tags.id", "tags.user_id"], ondelete="CASCADE"),
        Index("ix_schedule_tags_user_tag", "user_id", "tag_id"),
    )

    schedule_id: Mapped[int] = mapped_column(primary_key=True)
    tag_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class ScheduleOccurrence(db.Model):
    """What happened to one occurrence of a schedule: paid by a real transaction (linked, so it is never
    counted twice), or skipped by the user. Occurrences with no row are still expected."""

    __tablename__ = "schedule_occurrences"
    __table_args__ = (
        ForeignKeyConstraint(["schedule_id", "user_id"], ["schedules.id", "schedules.user_id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["transaction_id", "user_id"], ["transactions.id", "transactions.user_id"],
                             ondelete="CASCADE"),
        UniqueConstraint("user_id", "schedule_id", "occurs_on"),
        # One real transaction pays at most one occurrence (user_id first: unique within a shard).
        UniqueConstraint("user_id", "transaction_id"),
        CheckConstraint("status IN ('paid','skipped')", name="status_known"),
        CheckConstraint("(status = 'paid') = (transaction_id IS NOT NULL)", name="paid_has_transaction"),
        Index("ix_schedule_occurrences_user_date", "user_id", "occurs_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    schedule_id: Mapped[int] = mapped_column()
    occurs_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10))
    transaction_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    schedule = relationship("Schedule", back_populates="occurrences", overlaps="occurrences")

    def __repr__(self) -> str:
        return f"<ScheduleOccurrence {self.schedule_id} {self.occurs_on} {self.status}>"


class DismissedRecurring(db.Model):
    """A recurring-payment suggestion the user dismissed: it is never suggested again."""

    __tablename__ = "dismissed_recurring"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        CheckConstraint("length(key) > 0", name="key_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Scenario(db.Model):
    """A what-if, saved by name: a list of items (one-off or recurring amounts, a schedule removed or
    changed, a category's spending set to a budget), checked by dashboard/services/scenarios.py."""

    __tablename__ = "scenarios"
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    items: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    def __repr__(self) -> str:
        return f"<Scenario {self.id} {self.name!r}>"
