"""Parsing and checking of what people type: amounts, dates, text."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from models.db import MAX_CENTS

from .errors import ServiceError

_CURRENCY_SIGNS = "$€£¥₹"
_AMOUNT_RE = re.compile(r"^[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)?(\.[0-9]+)?$")
# One currency sign before the number (after an optional sign or opening parenthesis) or after it, or
# a code after it: "$1,234.50", "-$3", "($5)", "€ 7.25", "7.25 USD". Not in the middle ("5$5").
_CURRENCY_AROUND_RE = re.compile(
    r"^(?P<open>\(?)\s*(?P<sign>[+-]?)\s*[" + re.escape(_CURRENCY_SIGNS) + r"]?\s*(?P<number>.*?)\s*"
    r"(?:[" + re.escape(_CURRENCY_SIGNS) + r"]|USD|EUR|GBP)?\s*(?P<close>\)?)$", re.IGNORECASE | re.DOTALL)
_MAX_TYPED = 64
_LONG_NUMBER_RE = re.compile(r"[+-]?[0-9][0-9,]*(\.[0-9]*)?")
_SPACES_RE = re.compile(r"[\s\u00a0\u202f]+")


def parse_amount(value, *, field: str = "amount", allow_negative: bool = False,
                 allow_zero: bool = True) -> Decimal:
    """A typed amount as an exact Decimal with at most two decimals.

    Accepts ``1,234.50``, ``1234.5``, ``$1234``, ``1234``, Decimal and int. Refuses floats in write
    paths, text that is not a plain number (``abc``, ``1e308``, ``NaN``), empty input, more than two
    decimals, amounts beyond the storable range, and negatives unless allowed.
    """
    if value is None:
        raise ServiceError("Enter an amount.", field)
    if isinstance(value, bool):
        raise ServiceError("Enter an amount.", field)
    if isinstance(value, float):
        # JSON numbers arrive from the browser as floats; take the shortest repr, never the binary value.
        value = repr(value)
    if isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, Decimal):
        dec = value
    else:
        typed = str(value).strip()
        if len(typed) > _MAX_TYPED:  # no storable amount is this long; keeps the regexes below cheap
            if _LONG_NUMBER_RE.fullmatch(typed):
                raise ServiceError("That amount is too large.", field)
            raise ServiceError("That is not an amount. Use digits like 1,234.50.", field)
        around = _CURRENCY_AROUND_RE.match(typed)
        if not (around.group("sign") or around.group("number") or around.group("open")
                or around.group("close")):
            raise ServiceError("Enter an amount.", field)
        # Spaces inside the number only as thousands separators ("1 234.50"), never "1 2 3".
        text = around.group("sign") + _SPACES_RE.sub(",", around.group("number"))
        if around.group("open") or around.group("close"):
            if not (around.group("open") and around.group("close")) or around.group("sign"):
                raise ServiceError(f"“{typed}” is not an amount. Use digits like 1,234.50.", field)
            text = "-" + text
        if not _AMOUNT_RE.match(text) or text in {"+", "-", ".", "+.", "-."}:
            raise ServiceError(f"“{typed}” is not an amount. Use digits like 1,234.50.", field)
        try:
            dec = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ServiceError(f"“{typed}” is not an amount. Use digits like 1,234.50.", field) from None
    if not dec.is_finite():
        raise ServiceError("Enter a finite amount.", field)
    # Size before decimals: quantize() raises InvalidOperation past 28 digits, and `* 100` overflows
    # on huge exponents; adjusted() is exact.
    if (dec != 0 and dec.adjusted() > 15) or abs(dec) * 100 > MAX_CENTS:
        raise ServiceError("That amount is too large.", field)
    if dec.as_tuple().exponent < -2 and dec != dec.quantize(Decimal("0.01")):
        raise ServiceError("Use at most two decimals (cents).", field)
    if dec < 0 and not allow_negative:
        raise ServiceError("The amount cannot be negative.", field)
    if dec == 0 and not allow_zero:
        raise ServiceError("The amount cannot be zero.", field)
    return dec.quantize(Decimal("0.01")) + 0  # + 0 turns -0.00 into 0.00


def parse_date(value, *, field: str = "date") -> date:
    if isinstance(value, date):
        return value
    if not value or not isinstance(value, str):
        raise ServiceError("Enter a date.", field)
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ServiceError(f"“{value}” is not a date (YYYY-MM-DD).", field) from None


def clean_text(value, *, field: str, max_length: int, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ServiceError("This cannot be empty.", field)
    if len(text) > max_length:
        raise ServiceError(f"At most {max_length} characters.", field)
    return text


def parse_id(value, *, field: str = "id") -> int:
    """An integer id from the client; anything else is refused (it is then never found)."""
    if isinstance(value, bool):
        raise ServiceError("Unknown item.", field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ServiceError("Unknown item.", field) from None
    if str(number) != str(value).strip() and not isinstance(value, int):
        raise ServiceError("Unknown item.", field)
    if number <= 0 or number > 2**62:
        raise ServiceError("Unknown item.", field)
    return number
