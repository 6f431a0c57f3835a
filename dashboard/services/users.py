"""People's accounts: registration, profile, password, and deleting a user with everything they own.

Writes raise ServiceError (with the field it is about) and leave the session to the caller to commit.
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard.formatting import CURRENCIES, DEFAULT_LOCALE, check_locale
from models import Category, User, db

from . import fx_rollup
from .errors import ServiceError
from .passwords import hash_password, verify_password

PASSWORD_MIN = 10
PASSWORD_MAX = 1024  # Argon2 hashes any length; this only keeps a request from costing seconds.
EMAIL_MAX = 254
NAME_MAX = 100

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EmailTaken(ServiceError):
    """The email has an account already. Shown to people only as a neutral message."""


def normalise_email(value) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip().lower()


def check_email(value) -> str:
    email = normalise_email(value)
    if not email:
        raise ServiceError("Enter your email address.", "email")
    if len(email) > EMAIL_MAX or not _EMAIL_RE.match(email):
        raise ServiceError("Enter a valid email address, like name@example.com.", "email")
    return email


def check_password(password, *, email: str = "", field: str = "password") -> str:
    password = password if isinstance(password, str) else ""
    if len(password) < PASSWORD_MIN:
        raise ServiceError(f"Use at least {PASSWORD_MIN} characters.", field)
    if len(password) > PASSWORD_MAX:
        raise ServiceError(f"Use at most {PASSWORD_MAX} characters.", field)
    if len(set(password)) < 4:
        raise ServiceError("Use more different characters.", field)
    if email and password.strip().lower() in (email, email.split("@")[0]):
        raise ServiceError("The password cannot be your email address.", field)
    return password


def check_display_name(value, *, email: str = "") -> str:
    # Control characters (newlines, bidi overrides) have no place in a name shown on every page.
    name = "".join(ch for ch in str(value or "") if unicodedata.category(ch)[0] != "C").strip()
    if not name:
        name = email.split("@")[0] if email else ""
    if not name:
        raise ServiceError("Enter a name.", "display_name")
    if len(name) > NAME_MAX:
        raise ServiceError(f"At most {NAME_MAX} characters.", "display_name")
    return name


def check_currency(value) -> str:
    code = str(value or "").strip().upper()
    if code not in CURRENCIES:
        raise ServiceError("Choose a currency from the list.", "currency")
    return code


def email_exists(session: Session, email: str) -> bool:
    return session.scalar(select(User.id).where(User.email == normalise_email(email))) is not None


def register_user(session: Session, *, email, password, currency, display_name=None,
                  password_confirm=None) -> User:
    """A new user. Raises ServiceError for bad input and EmailTaken when the email has an account."""

    email = check_email(email)
    password = check_password(password, email=email)
    if password_confirm is not None and password_confirm != password:
        raise ServiceError("The two passwords differ.", "password_confirm")
    currency = check_currency(currency)
    name = check_display_name(display_name, email=email)
    # Hash before looking the email up, so a taken address costs the same time as a new one.
    password_hash = hash_password(password)
    if email_exists(session, email):
        raise EmailTaken("That email cannot be used.", "email")
    user = User(email=email, display_name=name, currency=currency, password_hash=password_hash)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # registered by someone else a moment ago
        session.rollback()
        raise EmailTaken("That email cannot be used.", "email") from None
    return user


def locale_choice(value) -> str:
    """A locale from the Settings list; a missing one keeps the default, an unknown one is refused."""
    if value is None or value == "":
        return DEFAULT_LOCALE
    locale = check_locale(value)
    if locale is None:
        raise ServiceError("Choose a language and region from the list.", "locale")
    return locale


def update_profile(session: Session, user_id: int, *, display_name, currency, locale=None) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise ServiceError("Unknown user.")
    user.display_name = check_display_name(display_name)
    before = user.currency
    user.currency = check_currency(currency)
    if locale is not None:
        user.locale = locale_choice(locale)
    session.flush()
    if user.currency != before:   # totals are now converted into another currency
        fx_rollup.refresh(session, user_id)
    return user


THEMES = ("system", "light", "dark")


def check_theme(value) -> str:
    if value not in THEMES:
        raise ServiceError("Choose System, Light or Dark.", "theme")
    return value


def set_theme(session: Session, user_id: int, theme) -> User:
    """The colour theme of the logged-in user: "system" follows the browser, or "light" / "dark"."""
    user = session.get(User, user_id)
    if user is None:
        raise ServiceError("Unknown user.")
    user.theme = check_theme(theme)
    session.flush()
    return user


def theme_of(user) -> str:
    """A user's theme, "system" for anything unknown (an old row, a value from a newer version)."""
    theme = getattr(user, "theme", None)
    return theme if theme in THEMES else "system"


def change_password(session: Session, user_id: int, *, current, new, confirm) -> User:

    user = session.get(User, user_id)
    if user is None:
        raise ServiceError("Unknown user.")
    if not verify_password(user.password_hash, current or ""):
        raise ServiceError("That is not your current password.", "current_password")
    new = check_password(new, email=user.email, field="new_password")
    if confirm != new:
        raise ServiceError("The two passwords differ.", "confirm_password")
    if verify_password(user.password_hash, new):
        raise ServiceError("The new password is the same as the old one.", "new_password")
    user.password_hash = hash_password(new)
    session.flush()
    return user


def user_owned_tables():
    """Every table with a ``user_id`` column, dependants first (safe order for deleting)."""
    return [table for table in reversed(db.metadata.sorted_tables)
            if "user_id" in table.c and table.name != User.__tablename__]


def delete_user(session: Session, user_id: int) -> dict[str, int]:
    """Delete the user and every row they own, and nothing else. Returns rows deleted per table.

    Explicit statements rather than relying on ON DELETE CASCADE alone: a table added later with a
    ``user_id`` column is covered too, and a user's own category tree (parent_id is RESTRICT) goes
    in the right order on every database."""
    counts: dict[str, int] = {}
    session.execute(update(Category).where(Category.user_id == user_id).values(parent_id=None))
    for table in user_owned_tables():
        result = session.execute(delete(table).where(table.c.user_id == user_id))
        counts[table.name] = result.rowcount or 0
    result = session.execute(delete(User.__table__).where(User.__table__.c.id == user_id))
    counts[User.__tablename__] = result.rowcount or 0
    session.expire_all()
    return counts


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0
