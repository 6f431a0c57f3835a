"""Parsing and checking of what people type: amounts, dates, text."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from models.db import MAX_AMOUNT_TEXT, MAX_CENTS

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
                raise ServiceError(f"That amount is too large: amounts go up to {MAX_AMOUNT_TEXT}.", field)
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
        raise ServiceError(f"That amount is too large: amounts go up to {MAX_AMOUNT_TEXT}.", field)
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
    if value is not None and not isinstance(value, str):   # a number or a list is not text someone typed
        raise ServiceError("Enter text here.", field)
    text = "" if value is None else value.strip()
    if required and not text:
        raise ServiceError("This cannot be empty.", field)
    if len(text) > max_length:
        raise ServiceError(f"At most {max_length} characters.", field)
    return text


# Characters that show nothing (zero-width spaces and joiners, direction marks and overrides, the BOM,
# soft hyphens, other Unicode "format" characters) and controls: stripped from names.
def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cs", "Cn") or ch in "\u115f\u1160\u3164\uffa0"


def normalise_name(value) -> str:
    """The one normal form of a name that must be unique (accounts, categories, goals, scenarios...):
    Unicode NFKC (full-width letters, ligatures and compatibility forms become plain ones, a
    non-breaking space a space), invisible characters removed, runs of whitespace made one space,
    trimmed. Two names that look the same end up equal, so they count as the same name."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    text = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or not _invisible(ch))
    return " ".join(text.split())


def clean_name(value, *, field: str = "name", max_length: int, required: bool = True) -> str:
    """:func:`clean_text` for a name: normalised with :func:`normalise_name` first."""
    if value is not None and not isinstance(value, str):
        raise ServiceError("Enter a name.", field)
    return clean_text(normalise_name(value), field=field, max_length=max_length, required=required)


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
