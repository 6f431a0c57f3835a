"""Money in more than one currency: currency codes, minor units, exchange rates and exact conversion.

The rules (issue 17), and how they are kept here:

- **A rate row** (models.ExchangeRate) says: on ``day``, 1 ``base`` = ``rate`` ``currency`` (the ECB's
  way round). Rates belong to one user. Converting A -> B uses, in this order, a row quoting B against
  base A (multiply), a row quoting A against base B (divide), or two rows quoting A and B against one
  common base X (cross: multiply by rate(B)/rate(A)). Each leg is looked up on its own.
- **The rate for a day is the latest on or before it.** A day before a pair's first rate has none: the
  result is a ``Missing`` (currency, target, day), never zero, never the next rate after the day.
- **Rounded once, per transaction, half-even, to the target currency's minor unit** (Babel's
  ``get_currency_precision``: JPY 0, EUR 2, KWD 3). The arithmetic is exact (``fractions.Fraction``:
  the amount times the rate, or over it, is a rational number), so a tie is a true tie and goes to the
  even neighbour. A total is the integer sum of the per-transaction results, in minor units: the same
  whatever the order of the rows, and equal to the sum of the converted rows a page shows.

**How amounts are stored.** models.db.Money stores every amount as integer hundredths of the major
unit ("cents") whatever the currency. That stays: a JPY amount is whole yen and its stored integer is
yen x 100 (exact, two idle digits), so every existing read path and format_money stay right for 0- and
2-decimal currencies. A currency with three decimals (KWD, BHD, OMR, JOD, TND, LYD, IQD) cannot be
stored in hundredths, so an **account** cannot be in one yet (``check_account_currency`` says so); it
can be a conversion target here, where results are Decimals at the target's own precision. Lifting the
limit means storing thousandths for every amount (one migration multiplying each Money column by 10
and Money's scale 2 -> 3), not a scale per row: per-row scales would make every SUM currency-aware.
"""
from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from babel.numbers import get_currency_name, get_currency_precision, list_currencies
from sqlalchemy import and_, case, delete, func, literal, or_, select
from sqlalchemy.orm import Session

from models import Account, DailyRollup, ExchangeRate, FxRollupState, Transaction, User
from models.db import MAX_AMOUNT_TEXT, MAX_CENTS, to_rate

from .errors import ServiceError

STORED_DIGITS = 2  # models.db.Money keeps hundredths of the major unit for every currency


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    """ISO 4217 codes Babel knows (CLDR), three upper-case letters each."""
    return frozenset(code for code in list_currencies() if len(code) == 3 and code.isascii()
                     and code.isalpha() and code.isupper())


@lru_cache(maxsize=512)
def minor_digits(currency: str) -> int:
    """Decimals of the currency's minor unit: JPY 0, EUR 2, KWD 3 (Babel; unknown codes 2)."""
    return int(get_currency_precision(currency))


def check_currency(value, field_name: str = "currency") -> str:
    """An ISO 4217 code from user input, upper-cased; ServiceError when it is not one."""
    code = str(value or "").strip().upper()
    if len(code) != 3 or code not in known_currencies():
        raise ServiceError("Choose a currency (a three-letter ISO code such as EUR).", field_name)
    return code


def check_account_currency(value, field_name: str = "currency") -> str:
    """A currency an account can be in: known, and with at most two decimals (see the module notes)."""
    code = check_currency(value, field_name)
    if minor_digits(code) > STORED_DIGITS:
        raise ServiceError(f"Accounts in {code} ({minor_digits(code)} decimals) are not supported yet.",
                           field_name)
    return code


@lru_cache(maxsize=64)
def account_currency_choices(base: str) -> tuple[tuple[str, str], ...]:
    """(code, "EUR – Euro") for every currency an account can be in, the base currency first."""
    codes = sorted(c for c in known_currencies() if minor_digits(c) <= STORED_DIGITS)
    names = {c: get_currency_name(c, locale="en") for c in codes}
    ordered = [base] + [c for c in codes if c != base] if base in names else codes
    return tuple((c, f"{c} – {names[c]}") for c in ordered)


def check_amount(amount: Decimal, currency: str, field_name: str = "amount") -> Decimal:
    """``amount`` as the currency can hold it: no finer than its minor unit (no half yen)."""
    digits = min(minor_digits(currency), STORED_DIGITS)
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        raise ServiceError(f"{currency} amounts have {digits or 'no'} decimals.", field_name)
    return amount


def check_original(amount, original_amount, original_currency, account_currency: str,
                   field_name: str = "original_amount") -> tuple[Decimal | None, str | None]:
    """A card statement's foreign amount, as a transaction keeps it (issue 17): (original amount,
    its currency), or (None, None) when there is none or it is in the account's own currency.

    Both or neither; the currency an ISO code; the amount not zero and no finer than its currency's
    minor unit (stored in hundredths like every amount: a 3-decimal original amount such as KWD 1.234
    is refused, see the module notes). The original amount takes the sign of ``amount`` (statements
    print it unsigned): it is the same money, charged in another currency."""
    blank_amount = original_amount is None or str(original_amount).strip() == ""
    blank_currency = original_currency is None or str(original_currency).strip() == ""
    if blank_amount and blank_currency:
        return None, None
    if blank_amount or blank_currency:
        raise ServiceError("Give the original amount and its currency together.", field_name)
    currency = check_currency(original_currency, "original_currency")
    try:
        value = abs(Decimal(str(original_amount).strip()))
    except (ArithmeticError, ValueError):
        raise ServiceError("The original amount is not a number.", field_name) from None
    if not value.is_finite() or value == 0:
        raise ServiceError("The original amount must be a number other than zero.", field_name)
    digits = min(minor_digits(currency), STORED_DIGITS)
    if value != value.quantize(Decimal(1).scaleb(-digits)):
        if minor_digits(currency) > STORED_DIGITS:
            raise ServiceError(f"{currency} original amounts with {minor_digits(currency)} decimals cannot be "
                               "kept yet (amounts are stored in hundredths).", field_name)
        raise ServiceError(f"{currency} amounts have {digits or 'no'} decimals.", field_name)
    if value * 100 > MAX_CENTS:
        raise ServiceError(f"The original amount is too large: amounts go up to {MAX_AMOUNT_TEXT}.", field_name)
    if currency == account_currency:
        return None, None
    return (-value if Decimal(amount) < 0 else value), currency


def cents_step(currency: str) -> int:
    """The smallest stored step of ``currency`` in hundredths: 100 for JPY (whole yen), 1 for EUR."""
    return 10 ** (STORED_DIGITS - min(minor_digits(currency), STORED_DIGITS))


# -- converting ------------------------------------------------------------------------------------

def round_to_minor(value: Fraction, currency: str) -> int:
    """An exact value in major units -> integer minor units of ``currency``, rounded half-even once."""
    return round(value * 10 ** minor_digits(currency))  # Fraction.__round__ is half-even


def minor_to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(int(minor)).scaleb(-minor_digits(currency))


def convert(amount: Decimal, factor: Fraction, target: str) -> Decimal:
    """``amount`` (major units) times ``factor`` (1 source = factor target), rounded once, half-even,
    to the target's minor unit. Exact: no float, no intermediate rounding."""
    return minor_to_decimal(round_to_minor(Fraction(amount) * factor, target), target)


def convert_cents(cents: int, factor: Fraction, target: str) -> int:
    """Stored hundredths in, stored hundredths of ``target`` out (target with at most two decimals):
    rounded once, half-even, to the target's minor unit (for JPY a multiple of 100)."""
    digits = minor_digits(target)
    if digits > STORED_DIGITS:
        raise ValueError(f"{target} has {digits} decimals: use convert(), not convert_cents()")
    return round_to_minor(Fraction(int(cents), 100) * factor, target) * 10 ** (STORED_DIGITS - digits)


@dataclass(frozen=True, order=True)
class Missing:
    """No rate to turn ``currency`` into ``target`` on ``day`` (nor on any day before it)."""

    currency: str
    target: str
    day: date

    def __str__(self) -> str:
        return f"no {self.currency}->{self.target} rate on or before {self.day.isoformat()}"


class RatesMissing(ServiceError):
    """A conversion asked for rates that are not there. ``missing`` lists each (currency, day)."""

    def __init__(self, missing: Iterable[Missing]):
        self.missing = tuple(sorted(set(missing)))
        shown = "; ".join(str(m) for m in self.missing[:5])
        more = f" and {len(self.missing) - 5} more" if len(self.missing) > 5 else ""
        super().__init__(f"Exchange rates missing: {shown}{more}. Import or enter them on the Rates page.")


@dataclass
class RateBook:
    """Rates in memory: (base, currency) -> days ascending and their rates. Built by ``load_rates`` or
    directly (tests). ``factor`` answers "1 A = ? B on this day" exactly, or None when it cannot."""

    series: dict[tuple[str, str], tuple[list[date], list[Decimal]]] = field(default_factory=dict)
    # factor() answers remembered: (source, target, day) -> Fraction | None (a book is read, never changed)
    _factors: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[date, str, str, Decimal]]) -> RateBook:
        """Rows of (day, currency, base, rate)."""
        grouped: dict[tuple[str, str], dict[date, Decimal]] = defaultdict(dict)
        for day, currency, base, rate in rows:
            # (a Decimal read from exchange_rates was checked when it was written)
            grouped[(base, currency)][day] = rate if isinstance(rate, Decimal) else to_rate(rate)
        series = {}
        for pair, by_day in grouped.items():
            days = sorted(by_day)
            series[pair] = (days, [by_day[d] for d in days])
        return cls(series)

    def quote(self, base: str, currency: str, day: date) -> Decimal | None:
        """The latest rate on or before ``day`` of 1 base = ? currency, or None."""
        found = self.series.get((base, currency))
        if not found:
            return None
        days, rates = found
        i = bisect.bisect_right(days, day)
        return rates[i - 1] if i else None

    def factor(self, source: str, target: str, day: date) -> Fraction | None:
        """1 source = factor target on ``day``, exactly; None when no route has a rate that day."""
        key = (source, target, day)
        if key not in self._factors:
            self._factors[key] = self._factor(source, target, day)
        return self._factors[key]

    def _factor(self, source: str, target: str, day: date) -> Fraction | None:
        if source == target:
            return Fraction(1)
        direct = self.quote(source, target, day)
        if direct is not None:
            return Fraction(direct)
        inverse = self.quote(target, source, day)
        if inverse is not None:
            return 1 / Fraction(inverse)
        for base in sorted({b for b, c in self.series if c == source}):
            a, b = self.quote(base, source, day), self.quote(base, target, day)
            if a is not None and b is not None:
                return Fraction(b) / Fraction(a)
        return None


@dataclass(frozen=True)
class Total:
    """A converted total in the target currency's minor units, and what could not be converted.

    ``amount`` refuses to answer when a rate is missing (RatesMissing): a total without some rows is
    not the total. ``partial`` is the sum of what could be converted, for a page that shows it *with*
    the missing list."""

    target: str
    partial_minor: int
    missing: tuple[Missing, ...] = ()
    converted_rows: int = 0

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def partial(self) -> Decimal:
        return minor_to_decimal(self.partial_minor, self.target)

    @property
    def amount(self) -> Decimal:
        if self.missing:
            raise RatesMissing(self.missing)
        return self.partial


def convert_rows(rows: Iterable[tuple[date, str, Decimal]], target: str, book: RateBook) -> Total:
    """Rows of (day, currency, amount in major units) -> their total in ``target``: each row converted
    at its own day's rate and rounded once, half-even, to the target's minor unit; then summed as
    integers. Rows without a rate are listed in ``missing`` (one entry per currency and day)."""
    total = 0
    count = 0
    missing: set[Missing] = set()
    factors: dict[tuple[str, date], Fraction | None] = {}
    for day, currency, amount in rows:
        key = (currency, day)
        if key not in factors:
            factors[key] = book.factor(currency, target, day)
        factor = factors[key]
        if factor is None:
            missing.add(Missing(currency, target, day))
            continue
        total += round_to_minor(Fraction(amount) * factor, target)
        count += 1
    return Total(target, total, tuple(sorted(missing)), count)


def implied_rate(sent: Decimal, received: Decimal, digits: int = 6) -> Decimal:
    """The rate a transfer across currencies applied: 1 unit sent = ? units received (``digits``
    decimals, half-even; for display beside the day's rate, never used to convert)."""
    sent, received = abs(Decimal(sent)), abs(Decimal(received))
    if not sent:
        raise ValueError("nothing was sent")
    return Decimal(round(Fraction(received) / Fraction(sent) * 10 ** digits)).scaleb(-digits)


# -- reading and writing rates ---------------------------------------------------------------------

def load_rates(session: Session, user_id: int, currencies: Iterable[str], start: date, end: date) -> RateBook:
    """The user's rates that can matter for converting between ``currencies`` from ``start`` to
    ``end``: every row in the range, plus each pair's latest row on or before ``start``."""
    wanted = sorted(set(currencies))
    if len(wanted) < 2:
        return RateBook()
    # Remembered until the transaction ends or writes: an explorer update asks for the same currencies
    # over its range, its previous period and the edges; a book over a wider range answers a narrower one.
    # (Not across requests: a process cannot tell rates apart by a version alone once a database is
    # restored or, in tests, recreated with the same ids.)
    from .cache import transaction_memo
    memo = transaction_memo(session)
    key = ("rates", user_id, tuple(wanted))
    if memo is not None and key in memo:
        known_start, known_end, book = memo[key]
        if known_start <= start and end <= known_end:
            return book
        start, end = min(start, known_start), max(end, known_end)
    book = _load_rates(session, user_id, wanted, start, end)
    if memo is not None:
        memo[key] = (start, end, book)
    return book


def _load_rates(session: Session, user_id: int, wanted: list[str], start: date, end: date) -> RateBook:
    involved = or_(ExchangeRate.currency.in_(wanted), ExchangeRate.base.in_(wanted))
    in_range = select(ExchangeRate.day, ExchangeRate.currency, ExchangeRate.base, ExchangeRate.rate).where(
        ExchangeRate.user_id == user_id, involved, ExchangeRate.day.between(start, end))
    # Each pair's latest row before ``start``: one pass with a window function. (A join to a GROUP BY of
    # the same table was planned by PostgreSQL, with statistics older than a rates import, as a nested
    # loop re-running the GROUP BY per row: 0.6 s for 1,600 rates.)
    ranked = (select(ExchangeRate.day, ExchangeRate.currency, ExchangeRate.base, ExchangeRate.rate,
                     func.row_number().over(partition_by=(ExchangeRate.base, ExchangeRate.currency),
                                            order_by=ExchangeRate.day.desc()).label("n"))
              .where(ExchangeRate.user_id == user_id, involved, ExchangeRate.day < start).subquery())
    before = select(ranked.c.day, ranked.c.currency, ranked.c.base, ranked.c.rate).where(ranked.c.n == 1)
    rows = session.execute(in_range).all() + session.execute(before).all()
    return RateBook.from_rows(rows)


def set_rate(session: Session, user_id: int, *, day, currency, base, rate) -> ExchangeRate:
    """Enter (or correct) one rate by hand: 1 ``base`` = ``rate`` ``currency`` on ``day``."""
    currency = check_currency(currency, "currency")
    base = check_currency(base, "base")
    if currency == base:
        raise ServiceError("A rate needs two different currencies.", "currency")
    if not isinstance(day, date):
        try:
            day = date.fromisoformat(str(day or "").strip())
        except ValueError:
            raise ServiceError("Enter the day as YYYY-MM-DD.", "day") from None
    try:
        value = to_rate(rate if isinstance(rate, Decimal) else str(rate or "").strip())
    except (TypeError, ValueError):
        raise ServiceError("Enter the rate as a positive number such as 1.0876.", "rate") from None
    row = session.scalar(select(ExchangeRate).where(
        ExchangeRate.user_id == user_id, ExchangeRate.base == base, ExchangeRate.currency == currency,
        ExchangeRate.day == day))
    if row is None:
        row = ExchangeRate(user_id=user_id, day=day, currency=currency, base=base, rate=value)
        session.add(row)
    else:
        row.rate = value
    session.flush()
    # The converted roll-ups were computed at the old rate (a correction keeps the rates' count and ids):
    # forget them; services/fx_rollup.refresh rebuilds (the Rates page calls it).
    session.execute(delete(FxRollupState).where(FxRollupState.user_id == user_id))
    return row


def base_currency(session: Session, user_id: int) -> str:
    """The user's base currency (users.currency): totals are shown in it."""
    base = session.scalar(select(User.currency).where(User.id == user_id))
    if base is None:
        raise ServiceError("Unknown user.")
    return base


def rate_coverage(session: Session, user_id: int) -> dict:
    """For each currency the user's accounts are in, other than the base currency: how many accounts,
    the days with transactions, and the days among them with no rate to the base currency (the first
    and last of them and how many). The Rates page shows it so a missing rate is seen, not guessed."""
    base = base_currency(session, user_id)
    accounts = dict(session.execute(select(Account.currency, func.count()).where(Account.user_id == user_id)
                                    .group_by(Account.currency)).all())
    foreign = sorted(c for c in accounts if c != base)
    out = []
    for currency in foreign:
        days = session.scalars(
            select(Transaction.date).join(Account, and_(Account.id == Transaction.account_id,
                                                        Account.user_id == Transaction.user_id))
            .where(Transaction.user_id == user_id, Account.currency == currency)
            .group_by(Transaction.date).order_by(Transaction.date)).all()
        missing: list[date] = []
        if days:
            book = load_rates(session, user_id, {currency, base}, days[0], days[-1])
            missing = [d for d in days if book.factor(currency, base, d) is None]
        out.append({"currency": currency, "accounts": int(accounts[currency]), "days": len(days),
                    "first_day": days[0] if days else None, "last_day": days[-1] if days else None,
                    "missing_days": len(missing), "first_missing": missing[0] if missing else None,
                    "last_missing": missing[-1] if missing else None})
    return {"base": base, "currencies": out}


# -- converting aggregates (the explorer, the Overview, budgets) -------------------------------------
#
# The rule (docs/currencies.md, "Totals in the base currency"): an aggregate in several currencies is
# computed as today for the accounts in the base currency (no conversion, no join), and for the other
# accounts grouped by CONVERSION_UNIT = (day, account, category) on top of the keys asked for: the rows
# of the daily roll-up. Each such group is converted at its day's rate and rounded once, half-even, to
# the base currency's minor unit; the view's totals are integer sums of those groups, so every view
# (by category, by month, by week, the headline) adds up to the same number whatever the order of rows.
# A group is one transaction when the account has at most one transaction a day in a category (the
# common case for a card in a foreign currency); otherwise the group rounding differs from rounding each
# transaction by at most half a minor unit per transaction of the group beyond the first
# (tests/test_fx_totals.py checks both against a per-transaction computation).

CONVERSION_UNIT = ("day", "account_id", "category_id")


@dataclass(frozen=True)
class AccountCurrencies:
    """The user's base currency and each of their accounts' currencies (one small query)."""

    base: str
    of_account: tuple[tuple[int, str], ...]

    @property
    def mapping(self) -> dict[int, str]:
        return dict(self.of_account)

    @property
    def single(self) -> bool:
        return all(c == self.base for _, c in self.of_account)

    def split(self, chosen: Iterable[int] = ()) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(accounts in the base currency, accounts in another) among ``chosen`` (all when empty);
        ids that are not the user's accounts are dropped."""
        mapping = self.mapping
        ids = tuple(chosen) or tuple(mapping)
        return (tuple(i for i in ids if mapping.get(i) == self.base),
                tuple(i for i in ids if i in mapping and mapping[i] != self.base))


def account_currencies(session: Session, user_id: int) -> AccountCurrencies:
    """The user's base currency and accounts' currencies (remembered until the transaction ends, or
    writes: an explorer update asks four times)."""
    from .cache import transaction_memo
    memo = transaction_memo(session)
    key = ("account_currencies", user_id)
    if memo is not None and key in memo:
        return memo[key]
    found = _account_currencies(session, user_id)
    if memo is not None:
        memo[key] = found
    return found


def _account_currencies(session: Session, user_id: int) -> AccountCurrencies:
    rows = session.execute(select(User.currency, Account.id, Account.currency)
                           .outerjoin(Account, Account.user_id == User.id)
                           .where(User.id == user_id).order_by(Account.id)).all()
    if not rows:
        raise ServiceError("Unknown user.")
    return AccountCurrencies(rows[0][0], tuple((int(r[1]), r[2]) for r in rows if r[1] is not None))


@dataclass(frozen=True)
class Unconverted:
    """Money in ``currency`` that no rate could convert: on ``days`` days from ``first_day`` to
    ``last_day``, ``native_cents`` (stored hundredths of ``currency``) in all."""

    currency: str
    first_day: date
    last_day: date
    days: int
    native_cents: int


@dataclass
class Conversion:
    """What converting an aggregate did: the base currency, the currencies converted from, and the
    money left out for want of a rate (per currency and day). Pages show it next to the total."""

    base: str
    converted_from: set[str] = field(default_factory=set)
    missing: dict[str, dict[date, int]] = field(default_factory=dict)

    def leave_out(self, currency: str, day: date, cents: int) -> None:
        days = self.missing.setdefault(currency, {})
        days[day] = days.get(day, 0) + int(cents)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def unconverted(self) -> tuple[Unconverted, ...]:
        return tuple(Unconverted(c, min(days), max(days), len(days), sum(days.values()))
                     for c, days in sorted(self.missing.items()))

    @property
    def missing_rates(self) -> tuple[Missing, ...]:
        return tuple(sorted(Missing(c, self.base, d) for c, days in self.missing.items() for d in days))


def _half_even_div(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded half-even, in integers."""
    q, r = divmod(numerator, denominator)
    if 2 * r > denominator or (2 * r == denominator and q & 1):
        q += 1
    return q


def convert_frame(frame, currencies: AccountCurrencies, book: RateBook, conversion: Conversion | None = None):
    """A frame grouped by (at least) ``day`` and ``account_id`` with ``total_cents`` in the accounts'
    currencies -> the same frame with ``total_cents`` in the base currency's stored hundredths: each row
    converted at its day's rate (the latest on or before it) and rounded once, half-even, to the base
    currency's minor unit. Rows without a rate are dropped and recorded in ``conversion``."""
    base = currencies.base
    digits = minor_digits(base)
    if digits > STORED_DIGITS:
        raise ValueError(f"{base} has {digits} decimals: it cannot be a base currency of stored amounts")
    scale = 10 ** (STORED_DIGITS - digits)
    mapping = currencies.mapping
    ratios: dict[tuple[str, date], tuple[int, int] | None] = {}
    values, keep = [], []
    for account_id, day, cents in zip(frame["account_id"].tolist(), frame["day"].tolist(),
                                      frame["total_cents"].tolist(), strict=True):
        currency = mapping[int(account_id)]
        key = (currency, day)
        if key not in ratios:
            factor = book.factor(currency, base, day)
            # stored hundredths x factor = major units of base; x 10**digits = its minor units
            ratios[key] = None if factor is None else (factor.numerator * 10 ** digits, factor.denominator * 100)
            if conversion is not None and factor is not None and currency != base:
                conversion.converted_from.add(currency)
        ratio = ratios[key]
        if ratio is None:
            if conversion is not None:
                conversion.leave_out(currency, day, cents)
            values.append(0)
            keep.append(False)
            continue
        values.append(_half_even_div(int(cents) * ratio[0], ratio[1]) * scale)
        keep.append(True)
    out = frame.assign(total_cents=values)
    out["total_cents"] = out["total_cents"].astype("int64")
    return out[keep] if not all(keep) else out


def conversion_of(session: Session, user_id: int, start: date, end: date,
                  flows: Iterable[str] = ("spending", "income")) -> Conversion | None:
    """What totals of ``flows`` from ``start`` to ``end`` convert, and the money no rate converts (per
    currency: the days and the amount), from the daily roll-up grouped by (day, account): days x
    accounts rows. None when every account is in the base currency."""
    import pandas as pd

    currencies = account_currencies(session, user_id)
    _, foreign = currencies.split()
    if not foreign:
        return None
    rows = session.execute(
        select(DailyRollup.day, DailyRollup.account_id, func.sum(DailyRollup.total_cents))
        .where(DailyRollup.user_id == user_id, DailyRollup.flow.in_(list(flows)),
               DailyRollup.day.between(start, end), DailyRollup.account_id.in_(foreign))
        .group_by(DailyRollup.day, DailyRollup.account_id)).all()
    conversion = Conversion(currencies.base)
    if rows:
        frame = pd.DataFrame(rows, columns=["day", "account_id", "total_cents"])
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
        book = load_rates(session, user_id, {currencies.base, *(currencies.mapping[i] for i in foreign)},
                          start, end)
        convert_frame(frame, currencies, book, conversion)
    return conversion


def converted_sums(session: Session, user_id: int, currencies: AccountCurrencies, rows, key: str,
                   start: date, end: date, conversion: Conversion | None = None) -> dict:
    """Rows of (key, day, account_id, category_id, cents) of accounts in other currencies (a GROUP BY
    on the conversion unit and ``key``) -> {key: cents in the base currency}, each row converted at its
    day's rate and rounded once, half-even. Rows without a rate are left out (recorded in
    ``conversion``)."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=[key, "day", "account_id", "category_id", "total_cents"])
    if frame.empty:
        return {}
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame["total_cents"] = pd.to_numeric(frame["total_cents"]).astype("int64")
    used = {currencies.mapping[int(a)] for a in frame["account_id"].unique()}
    book = load_rates(session, user_id, {currencies.base, *used}, start, end)
    converted = convert_frame(frame, currencies, book, conversion)
    return {k: int(v) for k, v in converted.groupby(key, dropna=False)["total_cents"].sum().items()}


# -- converting in SQL -------------------------------------------------------------------------------

_INT64 = 2 ** 63 - 1


def _half_even_sql(dialect: str, cents, n, d):
    """SQL for cents x n / d (d > 0) rounded half-even, in exact integer arithmetic: on the magnitude,
    then the sign put back (half-even is symmetric). PostgreSQL computes in NUMERIC (exact, no limit);
    SQLite in 64-bit integers (the caller keeps |cents| x n below 2**63: see ``lim``)."""
    a = func.abs(cents) * n
    q = func.div(a, d) if dialect == "postgresql" else a.op("/")(d)
    r = a.op("%")(d)
    up = case((or_(r * 2 > d, and_(r * 2 == d, q.op("%")(2) == 1)), 1), else_=0)
    return case((cents < 0, -(q + up)), else_=q + up)


@dataclass
class ConvertedSelect:
    """``select``: (keys..., total_cents, row_count, overflow) with the groups of ``grouped`` converted
    into the base currency; ``record`` notes in a Conversion what was converted and what had no rate."""

    select: object
    grouped: object
    rates: object
    converted_from: set[str]
    missing_pairs: set[tuple[str, date]]
    currencies: AccountCurrencies

    def record(self, session: Session, conversion: Conversion) -> None:
        conversion.converted_from |= self.converted_from
        if not self.missing_pairs:
            return
        g, r = self.grouped, self.rates
        rows = session.execute(
            select(g.c.day, g.c.account_id, func.sum(g.c.total_cents))
            .select_from(g.outerjoin(r, and_(r.c.account_id == g.c.account_id, r.c.day == g.c.day)))
            .where(r.c.n.is_(None)).group_by(g.c.day, g.c.account_id)).all()
        mapping = self.currencies.mapping
        for day, account_id, cents in rows:
            day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
            conversion.leave_out(mapping[int(account_id)], day, int(cents or 0))


def converted_select(session: Session, currencies: AccountCurrencies, account_ids: Iterable[int], book: RateBook,
                     grouped, keys: list[str], start: date, end: date) -> ConvertedSelect | None:
    """SQL converting ``grouped`` (a subquery grouped by ``keys`` and CONVERSION_UNIT, with total_cents
    and row_count, of accounts in other currencies than the base) into the base currency, grouped by
    ``keys``: joined on (account, day) to an inline table of each day's exact factor as integers n / d
    (from ``book``, the latest rate on or before each day), each group rounded once, half-even
    (_half_even_sql), in the database: as many rows out as keys. Days without a rate have no factor: their
    groups drop out of the join (``record`` lists them). None when a factor is too large for SQLite's
    integers (then convert in Python: convert_frame)."""
    dialect = session.get_bind().dialect.name
    base = currencies.base
    digits = minor_digits(base)
    scale = 10 ** (STORED_DIGITS - digits)
    mapping = currencies.mapping
    ids = sorted(set(int(i) for i in account_ids))
    used = sorted({mapping[i] for i in ids})
    factors: dict[tuple[str, date], tuple[int, int] | None] = {}
    converted_from, missing = set(), set()
    # A factor changes only on a day some rate of the book starts: look it up there, carry it between.
    changes = {d for days, _ in book.series.values() for d in days if start < d <= end}
    current: dict[str, tuple[int, int] | None] = {}
    day = start
    while day <= end:
        for currency in used:
            if day == start or day in changes:
                factor = book.factor(currency, base, day)
                if factor is None:
                    current[currency] = None
                else:
                    # stored hundredths x factor x 10**digits / 100 = minor units of the base currency
                    n, d = factor.numerator * 10 ** digits, factor.denominator * 100
                    g = math.gcd(n, d)
                    current[currency] = (n // g, d // g)
                    converted_from.add(currency)
            factors[(currency, day)] = current[currency]
            if current[currency] is None:
                missing.add((currency, day))
        day = day.fromordinal(day.toordinal() + 1)
    rows = []
    for account_id in ids:
        currency = mapping[account_id]
        for (cur, day), nd in factors.items():
            if cur != currency or nd is None:
                continue
            n, d = nd
            if dialect != "postgresql" and (2 * d > _INT64 or n > _INT64):
                return None
            lim = _INT64 // n if dialect != "postgresql" else 0
            rows.append((account_id, day, n, d, lim))
    rates = _inline_rates(dialect, rows)
    g = grouped
    joined = g.join(rates, and_(rates.c.account_id == g.c.account_id, rates.c.day == g.c.day))
    value = _half_even_sql(dialect, g.c.total_cents, rates.c.n, rates.c.d) * scale
    if dialect == "postgresql":
        overflow = literal(0)
    else:
        too_big = func.abs(g.c.total_cents) > rates.c.lim
        value = case((too_big, 0), else_=value)
        overflow = case((too_big, 1), else_=0)
    stmt = (select(*[g.c[k] for k in keys], func.sum(value).label("total_cents"),
                   func.sum(g.c.row_count).label("row_count"), func.sum(overflow).label("overflow"))
            .select_from(joined))
    if keys:
        stmt = stmt.group_by(*[g.c[k] for k in keys])
    return ConvertedSelect(stmt, g, rates, converted_from, missing, currencies)


def _inline_rates(dialect: str, rows: list[tuple[int, date, int, int, int]]):
    """(account_id, day, n, d, lim) as an inline VALUES table (integers and ISO days we made, never user
    text: written into the SQL, not bound, so thousands of days cost no bind parameters)."""
    from sqlalchemy import BigInteger, Date, Integer, column, text

    if not rows:
        rows = [(0, date(1, 1, 1), 1, 1, 0)]  # joins nothing (no account 0)
    if dialect == "postgresql":
        body = ", ".join(
            f"({int(a)}, DATE '{day.isoformat()}', {int(n)}::numeric, {int(d)}::numeric, {int(lim)}::bigint)"
            if i == 0 else f"({int(a)}, DATE '{day.isoformat()}', {int(n)}, {int(d)}, {int(lim)})"
            for i, (a, day, n, d, lim) in enumerate(rows))
        sql = f"SELECT * FROM (VALUES {body}) AS fx(account_id, day, n, d, lim)"
    else:
        body = ", ".join(f"({int(a)}, '{day.isoformat()}', {int(n)}, {int(d)}, {int(lim)})"
                         for a, day, n, d, lim in rows)
        sql = ("SELECT column1 AS account_id, column2 AS day, column3 AS n, column4 AS d, column5 AS lim "
               f"FROM (VALUES {body})")
    return text(sql).columns(column("account_id", Integer), column("day", Date), column("n", BigInteger),
                             column("d", BigInteger), column("lim", BigInteger)).subquery("fx_rates")
