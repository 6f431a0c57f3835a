from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from .db import Money, db

RULE_MATCH_TYPES = ("contains", "equals", "starts_with", "regex")
RULE_FIELDS = ("payee", "description")


class ImportRule(db.Model):
    """A categorisation rule: conditions and actions.

    Conditions (all that are set must hold): ``field`` (the payee or the description) contains /
    equals / starts with ``pattern`` (case-insensitive) or matches it as a regular expression (RE2,
    never Python's ``re``); the amount (its absolute value) is between ``amount_min`` and
    ``amount_max``; the transaction is on ``account_id``. Actions: set ``category_id``, add the tags in
    ``rule_tags``, rename the payee to ``set_payee``. Lower ``position`` is tried first; the first rule
    that matches wins. Rules run at import and, on request, over existing rows
    (dashboard/services/rules.py)."""

    __tablename__ = "import_rules"
    __table_args__ = (
        CheckConstraint("match_type IN ('contains','equals','starts_with','regex')", name="match_type_known"),
        CheckConstraint("field IN ('payee','description')", name="field_known"),
        CheckConstraint("amount_min IS NULL OR amount_max IS NULL OR amount_min <= amount_max",
                        name="amount_range_ordered"),
        ForeignKeyConstraint(["account_id", "user_id"], ["accounts.id", "accounts.user_id"], ondelete="CASCADE"),
        Index("ix_import_rules_user_position", "user_id", "position"),
        UniqueConstraint("id", "user_id"),  # target of rule_tags' (rule_id, user_id) key
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(12), default="payee", server_default="payee")
    pattern: Mapped[str] = mapped_column(String(200), default="", server_default="")
    match_type: Mapped[str] = mapped_column(String(12), default="contains")
    amount_min: Mapped[Decimal | None] = mapped_column(Money)
    amount_max: Mapped[Decimal | None] = mapped_column(Money)
    account_id: Mapped[int | None] = mapped_column()
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    set_payee: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    def __repr__(self) -> str:
        return f"<ImportRule {self.id} {self.field} {self.match_type} {self.pattern!r} -> {self.category_id}>"


class RuleTag(db.Model):
    """A tag a rule adds to the transactions it matches."""

    __tablename__ = "rule_tags"

    __table_args__ = (
        # The rule and the tag belong to the same user: enforced by the database (composite keys).
        ForeignKeyConstraint(["rule_id", "user_id"], ["import_rules.id", "import_rules.user_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tag_id", "user_id"], ["tags.id", "tags.user_id"], ondelete="CASCADE"),
        Index("ix_rule_tags_user_tag", "user_id", "tag_id"),
    )

    rule_id: Mapped[int] = mapped_column(primary_key=True)
    tag_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
