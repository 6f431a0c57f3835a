"""Who is asking: the logged-in user, read from the signed session cookie, never from client input."""
from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context
from flask_login import current_user


@dataclass(frozen=True)
class Viewer:
    user_id: int
    currency: str
    display_name: str
    locale: str = "en_US"


def current_viewer() -> Viewer | None:
    """The logged-in user, or None outside a request or when nobody is logged in."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    return Viewer(current_user.id, current_user.currency, current_user.display_name,
                  getattr(current_user, "locale", None) or "en_US")


class NotLoggedIn(PermissionError):
    pass


def require_viewer() -> Viewer:
    """For callbacks: the logged-in user, or an error (the before_request guard already answers 401)."""
    viewer = current_viewer()
    if viewer is None:
        raise NotLoggedIn("login required")
    return viewer
