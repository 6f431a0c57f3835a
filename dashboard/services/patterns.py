"""User-written regular expressions, run on a linear-time engine (RE2).

Every pattern a user types (an import rule's "matches (regex)", and any later rule on payee or
description) goes through this module and nowhere else: Python's ``re`` never sees a user pattern.
RE2 matches in time linear in the text, whatever the pattern, so ``((a+))+$`` or ``(a?){25}a{25}``
cannot hang a request. There is no blacklist of "dangerous shapes": the engine itself is safe.
What RE2 does not offer (back-references, look-arounds) is refused with a clear message.

The API (three functions and one error):

    check_pattern(text) -> str
        The pattern, stripped, if it is usable; else PatternError (a ServiceError on field
        "pattern") with a message for the user. Use it in every write that stores a pattern.
    compile_pattern(text) -> UserPattern
        A compiled pattern (cached); ``.search(subject) -> bool`` tells whether it is found
        anywhere in ``subject`` (case-insensitive, Unicode aware; use ^ and $ to anchor).
        Raises PatternError like check_pattern.
    pattern_matches(text, subject) -> bool
        compile_pattern(text).search(subject), for one-off use.

Limits: a pattern has at most MAX_PATTERN_LENGTH characters and compiles into at most
MAX_PROGRAM_BYTES of RE2 program (``a{1000}{1000}`` style blow-ups are refused); subjects are cut
to MAX_SUBJECT_LENGTH characters before matching.
"""
from __future__ import annotations

from functools import lru_cache

import re2

from .errors import ServiceError

MAX_PATTERN_LENGTH = 200
MAX_SUBJECT_LENGTH = 1000
MAX_PROGRAM_BYTES = 1 << 22   # RE2's max_mem for one compiled pattern (4 MiB)

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_OPTIONS.log_errors = False
_OPTIONS.max_mem = MAX_PROGRAM_BYTES


class PatternError(ServiceError):
    """A pattern that cannot be used, with the reason (field "pattern")."""

    def __init__(self, message: str):
        super().__init__(message, "pattern")


def _reason(exc: Exception, text: str) -> str:
    raw = exc.args[0] if exc.args else exc
    detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if "invalid escape sequence: \\1" in detail or any(f"\\{d}" in detail for d in "123456789") \
            or "(?P=" in text:
        return "Back-references (like \\1) are not supported."
    if "invalid perl operator: (?=" in detail or "(?<" in detail or "(?!" in detail or "(?=" in text:
        return "Look-arounds (like (?=…) or (?!…)) are not supported."
    if "too large" in detail or "repetition" in detail:
        return f"Not a valid pattern: {detail} (repeats may be at most 1000 and the pattern must stay small)."
    return f"Not a valid pattern: {detail}."


class UserPattern:
    """A compiled user pattern. ``search(subject)`` is True when the pattern occurs in subject."""

    __slots__ = ("text", "_regex")

    def __init__(self, text: str, regex):
        self.text = text
        self._regex = regex

    def search(self, subject: str) -> bool:
        return self._regex.search(str(subject)[:MAX_SUBJECT_LENGTH]) is not None

    def __repr__(self) -> str:
        return f"UserPattern({self.text!r})"


@lru_cache(maxsize=512)
def _compile(text: str) -> UserPattern:
    try:
        return UserPattern(text, re2.compile(text, _OPTIONS))
    except Exception as exc:   # re2.error, and TypeError/ValueError for odd input
        raise PatternError(_reason(exc, text)) from None


def check_pattern(text) -> str:
    """The pattern, stripped, when it can be used; PatternError (with a message) when not."""
    value = "" if text is None else str(text).strip()
    if not value:
        raise PatternError("Enter a pattern.")
    if len(value) > MAX_PATTERN_LENGTH:
        raise PatternError(f"At most {MAX_PATTERN_LENGTH} characters.")
    if "\x00" in value:
        raise PatternError("Not a valid pattern: it contains a NUL character.")
    _compile(value)
    return value


def compile_pattern(text) -> UserPattern:
    """The compiled pattern (cached); PatternError when it cannot be used."""
    return _compile(check_pattern(text))


def pattern_matches(text, subject: str) -> bool:
    return compile_pattern(text).search(subject)
