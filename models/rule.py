from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from .db import db

RULE_MATCH_TYPES = ("contains", "regex")


class ImportRule(db.Model):
    """A categorisation rule for imports: a payee that contains ``pattern`` (case-insensitive), or
    matches it as a regular expression, gets ``category_id``. Lower ``position`` is tried first; the
    first rule that matches wins. See dashboard/services/importer.py."""

    __tablename__ = "import_rules"
    __table_args__ = (
        CheckConstraint("match_type IN ('contains','regex')", name="match_type_known"),
        CheckConstraint("length(pattern) > 0", name="pattern_not_empty"),
        Index("ix_import_rules_user_position", "user_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    pattern: Mapped[str] = mapped_column(String(200))
    match_type: Mapped[str] = mapped_column(String(10), default="contains")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    def __repr__(self) -> str:
        return f"<ImportRule {self.id} {self.match_type} {self.pattern!r} -> {self.category_id}>"
