"""Errors that services raise for the pages to show; none of them leaves a change behind."""
from __future__ import annotations


class ServiceError(ValueError):
    """Bad input: a message for the user, and optionally the field it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    """The row does not exist, or belongs to someone else (the two are never told apart)."""


class Conflict(ServiceError):
    """The row changed since the client read it (optimistic locking)."""

    def __init__(self, message: str, current=None):
        super().__init__(message)
        self.current = current
