"""Password hashing: Argon2id (argon2-cffi) with the library's current recommended parameters.

The one place that hashes and checks passwords: the login views (dashboard/auth.py), the user service
(registration, password change) and the demo loader all use it. No Flask or Dash here.
"""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


# Checked against when the email is unknown, so that a wrong email costs as much as a wrong password.
DUMMY_HASH = _hasher.hash("not a real password")
