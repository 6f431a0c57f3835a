"""Exchange-rate files: the ECB's history (CSV and XML) and a plain ``date,currency,rate`` CSV.

Every format gives rows of (day, currency, base, rate) meaning 1 base = rate currency on that day (the
ECB's way round; see dashboard/services/fx.py). Reading is bounded like statement imports
(dashboard/services/importer.py): the upload size, the number of rates, the number of XML elements;
an XML file with a DOCTYPE is refused (no entities, no external references). Nothing is fetched: the
person downloads the file from their bank or the ECB and uploads it.

Formats:
- ECB CSV (eurofxref-hist.csv / eurofxref.csv): ``Date,USD,JPY,...`` then one line per day, rates per
  1 EUR, ``N/A`` where a currency has none, a trailing comma; the daily file writes ``05 January 2024``.
- ECB XML (eurofxref-hist.xml): ``<Cube time="2024-01-05"><Cube currency="USD" rate="1.0921"/>...``.
- Plain CSV: ``date,currency,rate`` with an optional ``base`` column (without one: the user's base
  currency), a header line optional.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from models import ExchangeRate, User
from models.db import to_rate

from . import fx, fx_rollup
from .errors import ServiceError
from .importer import MAX_ERRORS_LISTED, ImportFileError, _records, decode_text

MAX_RATE_FILE_BYTES = 16 * 1024 * 1024  # the ECB's whole history as XML is ~6 MB
MAX_RATES = 500_000                     # rates in one file (the ECB's history since 1999: ~200,000)
MAX_XML_ELEMENTS = 600_000              # elements an XML file may hold
WRITE_CHUNK = 2_000
PLAIN_HEADER = {"date", "day", "currency", "rate", "base"}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class RatesFile:
    """What a rates file holds: its format, the rates, and the lines that could not be read."""

    format: str
    rates: dict[tuple[str, str, date], Decimal] = field(default_factory=dict)  # (base, currency, day)
    errors: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0  # "N/A" cells of the ECB file: no rate that day, nothing to report

    def add(self, day: date, currency: str, base: str, rate: Decimal) -> None:
        if len(self.rates) >= MAX_RATES:
            raise ImportFileError(f"The file has more than {MAX_RATES:,} rates. Split it into smaller files.")
        self.rates[(base, currency, day)] = rate

    def error(self, line: int, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS_LISTED:
            self.errors.append((line, reason))

    @property
    def currencies(self) -> list[str]:
        return sorted({c for _, c, _ in self.rates} | {b for b, _, _ in self.rates})

    @property
    def first_day(self) -> date | None:
        return min((d for _, _, d in self.rates), default=None)

    @property
    def last_day(self) -> date | None:
        return max((d for _, _, d in self.rates), default=None)


def _day(text_: str) -> date:
    text_ = text_.strip()
    if _ISO_DAY.match(text_):
        return date.fromisoformat(text_)
    return datetime.strptime(text_, "%d %B %Y").date()  # the ECB's daily file: "05 January 2024"


def _code(text_: str) -> str:
    return fx.check_currency(text_)


def parse_rates(data: bytes, default_base: str) -> RatesFile:
    """The rates in an uploaded file (bytes). Raises ImportFileError when the file as a whole cannot
    be read; lines that cannot be read are listed in ``errors`` and left out."""
    if len(data) > MAX_RATE_FILE_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_RATE_FILE_BYTES // (1024 * 1024)} MB.")
    text_, _encoding = decode_text(data)
    head = text_.lstrip()[:200].lower()
    if head.startswith("<"):
        return _parse_xml(text_)
    return _parse_csv(text_, default_base)


def _parse_csv(text_: str, default_base: str) -> RatesFile:
    records = _records(text_, ",", limit=MAX_RATES + 1)
    try:
        first_line, header = next(records)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    names = [cell.strip().lower() for cell in header]
    if names and names[0] == "date" and not PLAIN_HEADER.issuperset(n for n in names if n):
        return _parse_ecb_csv(header, records)
    result = RatesFile("plain CSV")
    if set(names) & PLAIN_HEADER:
        if not {"currency", "rate"} <= set(names) or not {"date", "day"} & set(names):
            raise ImportFileError("The header must name date, currency and rate (and may name base).", first_line)
        index = {name: i for i, name in enumerate(names)}
        columns = (index.get("date", index.get("day")), index["currency"], index["rate"], index.get("base"))
        lines = records
    else:
        columns = (0, 1, 2, 3 if len(names) > 3 else None)
        lines = _chain(first_line, header, records)
    for line, cells in lines:
        try:
            day = _day(cells[columns[0]])
            currency = _code(cells[columns[1]])
            rate = to_rate(cells[columns[2]])
            has_base = columns[3] is not None and columns[3] < len(cells) and cells[columns[3]].strip()
            base = _code(cells[columns[3]]) if has_base else default_base
        except ImportFileError:
            raise
        except IndexError:
            result.error(line, "expected date, currency and rate")
            continue
        except (ValueError, TypeError, ServiceError) as exc:
            result.error(line, getattr(exc, "message", None) or str(exc))
            continue
        if currency == base:
            result.error(line, f"a rate of {currency} against itself")
            continue
        result.add(day, currency, base, rate)
    return result


def _chain(line, cells, rest):
    yield line, cells
    yield from rest


def _parse_ecb_csv(header: list[str], records) -> RatesFile:
    result = RatesFile("ECB CSV")
    codes: list[str | None] = []
    for cell in header[1:]:
        try:
            codes.append(_code(cell) if cell.strip() else None)
        except ServiceError:
            codes.append(None)  # a column the ECB adds that is not a currency: left out
    if not any(codes):
        raise ImportFileError("The header names no currencies.", 1)
    for line, cells in records:
        try:
            day = _day(cells[0])
        except ValueError:
            result.error(line, f"not a date: {cells[0][:20]!r}")
            continue
        for code, cell in zip(codes, cells[1:]):
            cell = cell.strip()
            if code is None or code == "EUR" or not cell:
                continue
            if cell.upper() == "N/A":
                result.skipped += 1
                continue
            try:
                rate = to_rate(cell)
            except (ValueError, TypeError):
                result.error(line, f"{code}: not a rate: {cell[:20]!r}")
                continue
            result.add(day, code, "EUR", rate)
    return result


def _parse_xml(text_: str) -> RatesFile:
    if "<!doctype" in text_.lower() or "<!entity" in text_.lower():
        raise ImportFileError("XML files with a DOCTYPE are not read.")
    result = RatesFile("ECB XML")
    elements = 0
    day: date | None = None
    try:
        for _event, element in ET.iterparse(_StringSource(text_), events=("start",)):
            elements += 1
            if elements > MAX_XML_ELEMENTS:
                raise ImportFileError(f"The XML file has more than {MAX_XML_ELEMENTS:,} elements.")
            if not element.tag.endswith("Cube"):
                continue
            if "time" in element.attrib:
                try:
                    day = _day(element.attrib["time"])
                except ValueError:
                    day = None
                    result.error(0, f"not a date: {element.attrib['time'][:20]!r}")
            elif "currency" in element.attrib and "rate" in element.attrib:
                if day is None:
                    continue
                try:
                    code, rate = _code(element.attrib["currency"]), to_rate(element.attrib["rate"])
                except (ValueError, TypeError, ServiceError) as exc:
                    result.error(0, f"{day}: {getattr(exc, 'message', None) or exc}")
                    continue
                result.add(day, code, "EUR", rate)
    except ET.ParseError as exc:
        raise ImportFileError(f"The XML cannot be read ({exc}).") from None
    if not result.rates and not result.errors:
        raise ImportFileError("No rates found: expected the ECB's <Cube time=...><Cube currency=... rate=...>.")
    return result


class _StringSource:
    """A file-like object over a str, for iterparse (which reads bytes or text in chunks)."""

    def __init__(self, text_: str):
        self._data = text_.encode("utf-8")
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = len(self._data) - self._pos
        chunk = self._data[self._pos:self._pos + size]
        self._pos += len(chunk)
        return chunk


@dataclass(frozen=True)
class RatesImported:
    added: int
    changed: int
    unchanged: int


def import_rates(session: Session, user_id: int, parsed: RatesFile) -> RatesImported:
    """Write the file's rates for the user: new ones added, different ones replaced, equal ones left."""
    if session.get(User, user_id) is None:
        raise ServiceError("Unknown user.")
    wanted = parsed.rates
    if not wanted:
        raise ServiceError("The file holds no rates to import.", "file")
    pairs = sorted({(b, c) for b, c, _ in wanted})
    existing: dict[tuple[str, str, date], tuple[int, Decimal]] = {}
    for base, currency in pairs:
        days = [d for b, c, d in wanted if (b, c) == (base, currency)]
        for row in session.execute(select(ExchangeRate.id, ExchangeRate.day, ExchangeRate.rate).where(
                ExchangeRate.user_id == user_id, ExchangeRate.base == base, ExchangeRate.currency == currency,
                ExchangeRate.day.between(min(days), max(days)))):
            existing[(base, currency, row.day)] = (row.id, row.rate)
    replaced = [existing[k][0] for k, rate in wanted.items() if k in existing and existing[k][1] != rate]
    unchanged = sum(1 for k, rate in wanted.items() if k in existing and existing[k][1] == rate)
    for i in range(0, len(replaced), WRITE_CHUNK):
        session.execute(delete(ExchangeRate).where(ExchangeRate.user_id == user_id,
                                                   ExchangeRate.id.in_(replaced[i:i + WRITE_CHUNK])))
    rows = [{"user_id": user_id, "base": b, "currency": c, "day": d, "rate": rate}
            for (b, c, d), rate in sorted(wanted.items()) if (b, c, d) not in existing or existing[(b, c, d)][1] != rate]
    for i in range(0, len(rows), WRITE_CHUNK):
        session.execute(insert(ExchangeRate), rows[i:i + WRITE_CHUNK])
    fx_rollup.refresh(session, user_id)   # the converted roll-ups, at the new rates
    return RatesImported(added=len(rows) - len(replaced), changed=len(replaced), unchanged=unchanged)


def list_rates(session: Session, user_id: int, *, limit: int = 200) -> list[dict]:
    """The user's latest rates, newest first (for the Rates page)."""
    rows = session.execute(select(ExchangeRate.day, ExchangeRate.base, ExchangeRate.currency, ExchangeRate.rate)
                           .where(ExchangeRate.user_id == user_id)
                           .order_by(ExchangeRate.day.desc(), ExchangeRate.base, ExchangeRate.currency)
                           .limit(limit)).all()
    return [{"day": r.day.isoformat(), "base": r.base, "currency": r.currency, "rate": format(r.rate, "f")}
            for r in rows]


def rate_pairs(session: Session, user_id: int) -> list[dict]:
    """One line per (base, currency) the user has rates for: the first and last day, how many, and the
    latest rate (for the Rates page)."""
    from sqlalchemy import func

    spans = (select(ExchangeRate.base, ExchangeRate.currency, func.min(ExchangeRate.day).label("first"),
                    func.max(ExchangeRate.day).label("last"), func.count().label("n"))
             .where(ExchangeRate.user_id == user_id)
             .group_by(ExchangeRate.base, ExchangeRate.currency).subquery())
    rows = session.execute(
        select(spans.c.base, spans.c.currency, spans.c.first, spans.c.last, spans.c.n, ExchangeRate.rate)
        .join(ExchangeRate, (ExchangeRate.user_id == user_id) & (ExchangeRate.base == spans.c.base)
              & (ExchangeRate.currency == spans.c.currency) & (ExchangeRate.day == spans.c.last))
        .order_by(spans.c.base, spans.c.currency)).all()
    return [{"base": r.base, "currency": r.currency, "first_day": r.first, "last_day": r.last, "count": int(r.n),
             "rate": format(r.rate, "f")} for r in rows]


def enter_rate(session: Session, user_id: int, **rate):
    """One rate entered (or corrected) by hand (fx.set_rate), and the converted roll-ups rebuilt at it."""
    row = fx.set_rate(session, user_id, **rate)
    fx_rollup.refresh(session, user_id)
    return row


def delete_rates(session: Session, user_id: int, pairs: list[tuple[str, str]] | None = None) -> int:
    """Delete the user's rates (of the given (base, currency) pairs, or all)."""
    stmt = delete(ExchangeRate).where(ExchangeRate.user_id == user_id)
    if pairs:
        stmt = stmt.where(tuple_(ExchangeRate.base, ExchangeRate.currency).in_(pairs))
    deleted = session.execute(stmt).rowcount or 0
    fx_rollup.refresh(session, user_id)
    return deleted
