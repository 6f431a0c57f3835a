from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import db


class SpentToken(db.Model):
    """A one-time token (an undo of a delete) that has been used: its digest, so the same token is
    refused the second time, even when two requests carry it at once (the primary key decides).
    Rows past ``expires_at`` are useless (the token itself has expired) and are swept on insert."""

    __tablename__ = "spent_tokens"
    __table_args__ = (Index("ix_spent_tokens_expires_at", "expires_at"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
