"""Money, number and date formatting for display: one place, used by pages and figures alike.

Built on Babel, in the user's locale (``en_US`` unless the user chose another in Settings): a user
in Germany sees ``1.234,50 €`` and ``02.12.2026``. The locale of the request is set once per request
(``use_locale``, from the logged-in user, see dashboard/auth.py); every function also takes an
explicit ``locale``. One date style everywhere: Babel's "medium" (``Dec 2, 2026``), and its short
forms for a day and month (``Dec 2``), a month (``Dec 2026``) and ranges (``Dec 1 – 2``).
"""
from __future__ import annotations

import math
from contextvars import ContextVar
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_interval, format_skeleton, get_date_format
from babel.numbers import (
    format_compact_currency,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_pattern,
)
from babel.numbers import format_percent as _babel_percent

DEFAULT_LOCALE = "en_US"
# The locales a user can choose in Settings (any locale Babel knows works when passed explicitly).
LOCALES = {
    "en_US": "English (United States)",
    "en_GB": "English (United Kingdom)",
    "en_CA": "English (Canada)",
    "en_AU": "English (Australia)",
    "en_IN": "English (India)",
    "de_DE": "Deutsch (Deutschland)",
    "de_AT": "Deutsch (Österreich)",
    "de_CH": "Deutsch (Schweiz)",
    "fr_FR": "Français (France)",
    "fr_CA": "Français (Canada)",
    "es_ES": "Español (España)",
    "es_MX": "Español (México)",
    "it_IT": "Italiano (Italia)",
    "nl_NL": "Nederlands (Nederland)",
    "pt_BR": "Português (Brasil)",
    "sv_SE": "Svenska (Sverige)",
    "pl_PL": "Polski (Polska)",
    "ja_JP": "日本語 (日本)",
}

# The currencies a user can choose (Babel formats any ISO code; these are the ones offered).
CURRENCIES = ("AUD", "BRL", "CAD", "CHF", "CNY", "DKK", "EUR", "GBP", "INR", "JPY", "KRW", "MXN", "NOK",
              "NZD", "PLN", "SEK", "USD", "ZAR")

_current: ContextVar[str] = ContextVar("ledgerlens_locale", default=DEFAULT_LOCALE)


def check_locale(value) -> str | None:
    """The locale code when ``value`` is one users may choose, else None."""
    return value if isinstance(value, str) and value in LOCALES else None


def use_locale(locale: str | None):
    """Make ``locale`` the default of this request (or context); returns a token for ``reset_locale``."""
    return _current.set(check_locale(locale) or DEFAULT_LOCALE)


def reset_locale(token) -> None:
    _current.reset(token)


def current_locale() -> str:
    return _current.get()


@lru_cache(maxsize=256)
def _parsed(code: str) -> Locale | None:
    """Babel's Locale for a code, parsed once (None when Babel does not know it). Babel's functions
    take the object as well as the code, and skip parsing it again."""
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def _loc(locale: str | None) -> str:
    if locale:
        return locale if isinstance(locale, str) and _parsed(locale) is not None else DEFAULT_LOCALE
    return _current.get()


def _babel(locale: str | None) -> Locale:
    """The Locale object of ``locale`` (or the request's), for Babel's functions."""
    return _parsed(_loc(locale)) or _parsed(DEFAULT_LOCALE)


def bcp47(locale: str | None = None) -> str:
    """``de-DE`` for the browser's Intl (the grid formats its cells in the browser)."""
    return _loc(locale).replace("_", "-")


# --- numbers and money ---------------------------------------------------------------------------

def to_decimal(amount) -> Decimal:
    """Decimal from a Decimal, an int of cents is NOT assumed: pass cents through ``cents=True``."""
    if isinstance(amount, Decimal):
        return amount
    return Decimal(str(amount))


def _compact_money(value: Decimal, currency: str, locale, fraction_digits: int) -> str:
    text = format_compact_currency(value, currency, locale=locale, fraction_digits=fraction_digits)
    if sum(ch.isdigit() for ch in text) >= len(str(int(abs(value)))):
        # The locale has no short form at this size (German writes 12345 €): whole units, grouped.
        return format_currency(value.quantize(Decimal(1)), currency, locale=locale,
                               format=_whole_units_pattern(locale), currency_digits=False)
    return text


@lru_cache(maxsize=256)
def _whole_units_pattern(locale) -> str:
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    return pattern.split(";")[0].replace(".00", "").replace(",00", "")


def currency_symbol(currency: str, *, locale: str | None = None) -> str:
    """The currency's symbol in the locale: ``$``, ``€``, ``CA$``."""
    return get_currency_symbol((currency or "USD").upper(), locale=_loc(locale))


def format_money(amount, currency: str = "USD", *, cents: bool = False, signed: bool = False,
                 compact: bool = False, locale: str | None = None, fraction_digits: int = 1) -> str:
    """``$1,234.50``, ``-$12.00`` (``1.234,50 €`` in de_DE); ``cents=True`` when ``amount`` is integer
    cents; ``signed`` adds a + to positives; ``compact`` gives ``-$5.2K`` for axes and tight labels
    (Babel's short forms, so the sign always comes before the symbol)."""
    if amount is None:
        return "–"
    loc = _babel(locale)
    currency = (currency or "USD").upper()
    if cents and not compact:
        fast = _cents_formatter(loc, currency)
        text = fast(int(amount)) if fast is not None else None
        if text is not None:
            return ("+" + text) if signed and int(amount) > 0 else text
    value = Decimal(int(amount)) / 100 if cents else to_decimal(amount)
    if compact:
        text = _compact_text(value, currency, loc, fraction_digits)
    else:
        text = format_currency(value, currency, locale=loc)
    return ("+" + text) if signed and value > 0 else text


@lru_cache(maxsize=4096)
def _compact_text(value: Decimal, currency: str, loc: Locale, fraction_digits: int) -> str:
    """The compact form (axis ticks and tight labels: round numbers that come back again and again)."""
    if abs(value) >= 1000:
        return _compact_money(value, currency, loc, fraction_digits)
    if value == value.to_integral_value():
        return format_currency(value, currency, locale=loc, format=_whole_units_pattern(loc), currency_digits=False)
    return format_currency(value, currency, locale=loc)


def _grouped(whole: int, primary: int, secondary: int, group: str) -> str:
    """``1234567`` -> ``1,234,567`` (``12,34,567`` with groups of 3 then 2)."""
    text = str(whole)
    if len(text) <= primary:
        return text
    parts = [text[-primary:]]
    text = text[:-primary]
    size = secondary or primary
    while text:
        parts.append(text[-size:])
        text = text[:-size]
    return group.join(reversed(parts))


class _Affixed:
    """Babel's text of a number without Babel's per-call work (a chart formats hundreds of them): the
    rounded digits, grouped as the pattern says, between the prefix and suffix Babel itself wrote around
    a probe (one pair for positive, one for negative values). Subclasses say how a value is rounded and
    what Babel writes; ``_checked`` builds one only when it gives Babel's text for every value of a set
    of checks. A value that rounds to zero goes back to Babel (which decides its sign)."""

    group: str
    decimal: str
    primary: int
    secondary: int
    digits: int

    def _setup(self, locale: Locale, primary_secondary: tuple[int, int], probe) -> None:
        symbols = locale.number_symbols.get("latn") or locale.number_symbols[locale.default_numbering_system]
        self.group, self.decimal = symbols["group"], symbols["decimal"]
        self.primary, self.secondary = primary_secondary
        number = self._digits_of(self._scaled(abs(probe)))
        self.affixes = []
        for value in (probe, -probe):
            text = self.babel(value)
            if text.count(number) != 1:
                raise ValueError("the probe's digits are not where they were expected")
            self.affixes.append(tuple(text.split(number)))

    def babel(self, value) -> str:
        raise NotImplementedError

    def _scaled(self, magnitude) -> int:
        """The magnitude as an integer count of the last shown digit, rounded half to even."""
        raise NotImplementedError

    def _digits_of(self, scaled: int) -> str:
        if not self.digits:
            return _grouped(scaled, self.primary, self.secondary, self.group)
        whole, fraction = divmod(scaled, 10 ** self.digits)
        return (_grouped(whole, self.primary, self.secondary, self.group) + self.decimal
                + str(fraction).rjust(self.digits, "0"))

    def __call__(self, value) -> str | None:
        scaled = self._scaled(abs(value))
        if value and not scaled:
            return None
        prefix, suffix = self.affixes[value < 0]
        return prefix + self._digits_of(scaled) + suffix


def _checked(factory, checks) -> _Affixed | None:
    try:
        fast = factory()
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    for value in checks:
        text = fast(value)
        if text is not None and text != fast.babel(value):
            return None
    return fast


class _CentsFormatter(_Affixed):
    """Babel's standard currency format of integer cents, for one locale and currency."""

    def __init__(self, locale: Locale, currency: str):
        self.locale, self.currency = locale, currency
        self.digits = get_currency_precision(currency)
        self._setup(locale, locale.currency_formats["standard"].grouping, 123456789)

    def babel(self, value: int) -> str:
        return format_currency(Decimal(value) / 100, self.currency, locale=self.locale)

    def _scaled(self, magnitude: int) -> int:
        if self.digits >= 2:
            return magnitude * 10 ** (self.digits - 2)
        step = 10 ** (2 - self.digits)
        scaled, rest = divmod(magnitude, step)
        if rest * 2 > step or (rest * 2 == step and scaled % 2):
            scaled += 1
        return scaled


_CHECKS = (0, 1, 5, 49, 50, 99, 100, 150, 250, 12345, 99999, 100000, 123456, 999999, 1234567, 10000000,
           123456789012, -1, -50, -99, -100, -250, -123456, -98765432101)


@lru_cache(maxsize=512)
def _cents_formatter(locale: Locale, currency: str) -> _CentsFormatter | None:
    return _checked(lambda: _CentsFormatter(locale, currency), _CHECKS)


class _PercentFormatter(_Affixed):
    """Babel's percent format ``#,##0.0%`` (``digits`` decimals) of a ratio given as a Decimal."""

    def __init__(self, locale: Locale, digits: int):
        self.locale, self.digits = locale, digits
        self.pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        self._setup(locale, parse_pattern(self.pattern).grouping, Decimal("12345.6789"))

    def babel(self, value: Decimal) -> str:
        return _babel_percent(value, format=self.pattern, locale=self.locale)

    def _scaled(self, magnitude: Decimal) -> int:
        return int((magnitude * 100).scaleb(self.digits).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))

    def __call__(self, value: Decimal) -> str | None:
        return super().__call__(value) if value.is_finite() else None


_PERCENT_CHECKS = tuple(map(Decimal, ("0", "0.001", "0.004", "0.005", "0.0049", "0.125", "0.135", "0.5", "1",
                                      "12.3456", "1234.5678", "-0.125", "-0.5", "-3.14159")))


@lru_cache(maxsize=512)
def _percent_formatter(locale: Locale, digits: int) -> _PercentFormatter | None:
    return _checked(lambda: _PercentFormatter(locale, digits), _PERCENT_CHECKS)


def format_number(value, *, locale: str | None = None) -> str:
    """A count or plain number with the locale's separators: ``1,234`` / ``1.234``."""
    if value is None:
        return "–"
    return format_decimal(value, locale=_babel(locale))


def format_percent(ratio, *, signed: bool = False, locale: str | None = None, digits: int = 1) -> str:
    """``12.3%`` (``12,3 %`` where the locale says so); ``signed`` gives ``+12.3%``."""
    if ratio is None:
        return "–"
    value = Decimal(str(float(ratio)))
    loc = _babel(locale)
    fast = _percent_formatter(loc, int(digits))
    text = fast(value) if fast is not None else None
    if text is None:
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        text = _babel_percent(value, format=pattern, locale=loc)
    return ("+" + text) if signed and float(ratio) > 0 else text


def separators(locale: str | None = None) -> str:
    """Plotly's ``layout.separators``: the locale's decimal then group symbol (``,.`` in de_DE)."""
    return _separators(_loc(locale))


@lru_cache(maxsize=256)
def _separators(loc: str) -> str:
    group = get_group_symbol(loc)
    return get_decimal_symbol(loc) + (group if len(group) == 1 else " ")


def _nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def money_ticks(low: float, high: float, currency: str, *, count: int = 5,
                locale: str | None = None) -> tuple[list[float], list[str]]:
    """Tick values (currency units) and their labels for a money axis over [low, high]: round steps,
    labels by ``format_money(..., compact=True)`` so axes read like the labels beside the bars."""
    low, high = float(min(low, 0.0)), float(max(high, 0.0))
    if high - low <= 0:
        high = low + 1
    step = _nice_step(high - low, count)
    first = math.floor(low / step) * step
    values = []
    v = first
    while v <= high + step * 1.0001:
        values.append(round(v, 6))
        v += step
    def exact(v: float, digits: int) -> bool:
        """The compact label with ``digits`` decimals shows ``v`` exactly (2.5K, not 2K)."""
        unit = 1000 ** int(math.log(abs(v), 1000)) if abs(v) >= 1000 else 1
        scaled = abs(v) / unit
        return abs(round(scaled, digits) - scaled) < 1e-9

    for digits in (0, 1, 2):
        if all(exact(v, digits) for v in values if v):
            break
    labels = [format_money(Decimal(str(v)), currency, compact=True, fraction_digits=digits, locale=locale)
              if v else format_money(0, currency, compact=True, locale=locale) for v in values]
    return values, labels


# --- dates ---------------------------------------------------------------------------------------

def as_date(day) -> date:
    """A date from a date, a datetime or pandas Timestamp, or an ISO string (``2026-12-02``)."""
    if isinstance(day, str):
        return date.fromisoformat(day[:10])
    if hasattr(day, "date") and callable(day.date):
        return day.date()
    return day


def format_date(day: date | None, *, locale: str | None = None) -> str:
    """The one date style: ``Dec 2, 2026`` (``02.12.2026`` in de_DE)."""
    if day is None:
        return "–"
    return _babel_date(as_date(day), format="medium", locale=_babel(locale))


def moment_date_format(locale: str | None = None) -> str:
    """The one date style for the date pickers (which take a moment.js format): ``MMM D, YYYY`` in
    en_US, ``DD.MM.YYYY`` in de_DE, from the locale's "medium" pattern."""
    pattern = get_date_format("medium", locale=_loc(locale)).pattern
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        run = 1
        while i + run < len(pattern) and pattern[i + run] == ch:
            run += 1
        if ch == "'":  # quoted literal
            end = pattern.find("'", i + 1)
            end = len(pattern) if end < 0 else end
            out.append("[" + pattern[i + 1:end] + "]")
            i = end + 1
            continue
        if ch == "y":
            out.append("YYYY")
        elif ch == "d":
            out.append("D" * min(run, 2))
        elif ch in "ML":
            out.append("M" * min(run, 4))
        elif ch.isalpha():
            out.append(ch * run)
        else:
            out.append(ch * run)
        i += run
    return "".join(out)


def format_day(day: date, *, locale: str | None = None) -> str:
    """A day without its year: ``Dec 2`` (``2. Dez.``)."""
    return format_skeleton("MMMd", as_date(day), locale=_babel(locale))


def format_month(day: date, *, locale: str | None = None, long: bool = False) -> str:
    """A month: ``Dec 2026``; ``long`` gives ``December 2026``."""
    return format_skeleton("yMMMM" if long else "yMMM", as_date(day), locale=_babel(locale))


def format_month_axis(day, *, locale: str | None = None) -> str:
    """A month on a chart axis, on two lines so twelve of them fit a phone: ``Dec<br>2026``."""
    loc = _babel(locale)
    day = as_date(day)
    return f"{_babel_date(day, format='LLL', locale=loc)}<br>{_babel_date(day, format='y', locale=loc)}"


def format_month_name(day: date, *, locale: str | None = None) -> str:
    """The month alone, standing by itself: ``December`` (``Dezember``)."""
    return _babel_date(as_date(day), format="LLLL", locale=_babel(locale))


def format_date_range(start: date, end: date, *, today: date | None = None, year: bool | None = None,
                      locale: str | None = None) -> str:
    """``Dec 1 – 2`` (en_GB ``1–2 Dec``), with the year when the range is not all in ``today``'s year
    (``Nov 28, 2025 – Dec 2, 2026``) or when ``year`` says so."""
    loc = _loc(locale)
    if year is None:
        this_year = (today or date.today()).year
        year = not (start.year == end.year == this_year)
    if start == end:
        return format_date(start, locale=loc) if year else format_day(start, locale=loc)
    skeleton = "yMMMd" if year else "MMMd"
    return format_interval(start, end, skeleton, locale=_babel(loc))
