"""Importing bank statements: CSV (with a column mapping) and OFX / QFX (1.x SGML and 2.x XML).

Three layers, each usable alone:

1. Parsing is pure: bytes in, a :class:`ParseResult` out (rows, and the lines that could not be read
   with the reason), or an :class:`ImportFileError` for a file that cannot be read at all. Money is
   parsed exactly (Decimal, never float). OFX goes through ofxtools (a maintained OFX library); only
   the values of the transactions are read from the tree it builds.
2. Planning (:func:`plan_import`) reads the database, scoped to the user: duplicates (the bank's
   transaction id, else a count-aware fingerprint of account, date, amount and payee), categories
   (the user's rules, the file's category column, then how the user categorised the same payee
   before) and the kind (expense or income) of each row. The user's decisions (import a duplicate
   anyway, leave a row out) are applied here.
3. Writing (:func:`run_import`) adds every accepted row or none, in one database transaction: through
   :func:`dashboard.services.transactions.create_transaction` for small batches, or the bulk path
   (:mod:`dashboard.services.bulk`) for large files, which keeps the same invariants (expense lines,
   budgets, the monthly roll-up). The caller commits.

The categorisation rules (models.ImportRule) are read and written here too.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from models import Category, CategoryMapping, ImportRule, PayeeRollup, Transaction, TransactionTag
from models.db import MAX_AMOUNT_TEXT, MAX_CENTS

from . import fx, patterns
from .bulk import PROGRESS_CHUNK, NewTransaction, write_transactions
from .categories import get_category, visible_to
from .errors import NotFound, ServiceError
from .periods import month_start
from .rollup import lock_user
from .sql import cents as sql_cents
from .transactions import create_transaction, get_account
from .validation import parse_id

MAX_UPLOAD_BYTES = 20 * 1024 * 1024   # what the import page accepts
BULK_THRESHOLD = 300                  # more rows than this go through the bulk path
PAYEE_MAX, DESCRIPTION_MAX, EXTERNAL_ID_MAX = 200, 500, 255
MAX_ERRORS_LISTED = 200               # lines with a problem kept for the preview
# Bounds on what one file may cost to read (docs/security.md lists every limit; the worst case of each is
# measured by benchmarks/bench_parsers.py). A file beyond them is refused with a message, early.
MAX_IMPORT_ROWS = 100_000             # data lines of a CSV, transactions of an OFX
MAX_CSV_COLUMNS = 100                 # columns of a CSV
MAX_OFX_TAGS = 200_000                # "<" in an OFX file: bounds the work of the OFX parser
INSPECT_BYTES = 256 * 1024            # how much of a CSV is looked at to guess its layout
PREVIEW_CELL = 100                    # characters of a cell shown in the mapping preview


class ImportFileError(ServiceError):
    """A file (or one line of it) that cannot be imported: the line number and the reason."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(f"Line {line}: {reason}" if line else reason, "file")
        self.line = line
        self.reason = reason


# ---------------------------------------------------------------------------------------------------
# Parsed rows
# ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ParsedRow:
    """One transaction read from a file. ``amount`` is signed: negative = money out."""
    line: int
    date: date
    amount: Decimal
    payee: str
    description: str = ""
    category: str | None = None      # the file's own category text, if it has a category column
    external_id: str | None = None   # the bank's transaction id (OFX FITID)
    currency: str | None = None      # the row's currency code, if the file has a currency column
    original_amount: Decimal | None = None   # a card statement's foreign amount (as the file has it)
    original_currency: str | None = None     # and its currency (OFX ORIGCURRENCY; CSV "Original currency")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str
    text: str = ""                   # the raw line, shortened, for the preview


@dataclass
class ParseResult:
    format: str                      # "csv" or "ofx"
    rows: list[ParsedRow]
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0             # may exceed len(errors): only the first ones are kept
    warnings: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def raise_for_errors(self, excluded: Iterable[int] = ()) -> None:
        """ImportFileError for the first line that could not be read (and not left out)."""
        skip = set(excluded)
        remaining = [e for e in self.errors if e.line not in skip]
        hidden = self.error_count - len(self.errors)
        if remaining or hidden > 0:
            first = remaining[0] if remaining else self.errors[0]
            more = len(remaining) - 1 + max(hidden, 0)
            suffix = f" (and {more} more line{'s' if more != 1 else ''} with problems)" if more > 0 else ""
            raise ImportFileError(first.reason + suffix, first.line)


# ---------------------------------------------------------------------------------------------------
# Bytes -> text
# ---------------------------------------------------------------------------------------------------

def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a statement and the encoding it was read with.

    UTF-8 with or without a byte-order mark, UTF-16 with one, else Windows-1252 / Latin-1 (every byte
    is a character there, so this never fails on its own). Binary files are refused.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise ImportFileError("No file was received.")
    if not data.strip():
        raise ImportFileError("The file is empty.")
    if data[:4] == b"PK\x03\x04":
        raise ImportFileError("This is a zip file (perhaps a spreadsheet). Save it as CSV, or upload an "
                              "OFX / QFX statement or a Ledgerlens export.")
    if data[:5] == b"%PDF-":
        raise ImportFileError("This is a PDF. Download the statement from your bank as CSV, OFX or QFX.")
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                text_ = bytes(data).decode(name)
            except UnicodeDecodeError as exc:
                line = data.count(b"\n", 0, exc.start) + 1
                raise ImportFileError(f"the file says it is {name.upper()} but this byte is not "
                                      f"(save it again as UTF-8)", line) from None
            encoding = "UTF-8 (with BOM)" if name == "utf-8-sig" else "UTF-16"
            break
    else:
        try:
            text_, encoding = bytes(data).decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            try:
                text_, encoding = bytes(data).decode("cp1252"), "Windows-1252"
            except UnicodeDecodeError:
                text_, encoding = bytes(data).decode("latin-1"), "Latin-1"
    if "\x00" in text_:
        line = text_.count("\n", 0, text_.index("\x00")) + 1
        raise ImportFileError("this looks like a binary file, not a CSV or OFX statement", line)
    return text_, encoding


def decode_data_url(contents, limit: int | None = None) -> bytes:
    """The bytes of an uploaded file from the browser's ``data:...;base64,...`` URL, refusing
    anything malformed or larger than ``limit`` (default MAX_UPLOAD_BYTES)."""
    limit = MAX_UPLOAD_BYTES if limit is None else limit
    if not isinstance(contents, str) or not contents:
        raise ImportFileError("Choose a file to import.")
    if len(contents) > limit * 4 // 3 + 1024:
        raise ImportFileError(f"The file is larger than {limit // (1024 * 1024)} MB. Split it into "
                              "smaller statements (by year, for example).")
    header, comma, payload = contents.partition(",")
    if not comma or not header.startswith("data:") or not header.endswith(";base64"):
        raise ImportFileError("The upload could not be read. Choose the file again.")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImportFileError("The upload could not be read. Choose the file again.") from None
    if len(data) > limit:
        raise ImportFileError(f"The file is larger than {limit // (1024 * 1024)} MB. Split it into "
                              "smaller statements (by year, for example).")
    return data


def detect_format(data: bytes, filename: str = "") -> str:
    """"ofx", "archive" (a zip: a Ledgerlens export) or "csv"."""
    if data[:4] == b"PK\x03\x04":
        return "archive"
    head = bytes(data[:4096])
    for bom in (codecs.BOM_UTF8,):
        if head.startswith(bom):
            head = head[len(bom):]
    head = head.lstrip().upper()
    if head.startswith(b"OFXHEADER") or (head.startswith(b"<?XML") and b"<?OFX" in head) \
            or head.startswith(b"<OFX>"):
        return "ofx"
    extension = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if extension in ("ofx", "qfx"):
        return "ofx"
    if extension == "zip":
        return "archive"
    return "csv"


# ---------------------------------------------------------------------------------------------------
# Amounts and dates
# ---------------------------------------------------------------------------------------------------

_GROUP_SPACE = re.compile(r"(?<=\d)[\s\u00a0\u2007\u202f'](?=\d{3}(?:\D|$))")
_CURRENCY = re.compile(r"^(?:[A-Z]{3}\s*)?[$€£¥₹]?|[$€£¥₹]?(?:\s*[A-Z]{3})?$")
_MINUS = "-\u2212\u2013"   # hyphen-minus, minus sign, en dash
_AMOUNT_RE = {
    ".": re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"),
    ",": re.compile(r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?|,\d+"),
}


def parse_money(text_: str, decimal: str = ".") -> Decimal | None:
    """An exact amount from a statement cell; None for a blank cell.

    ``decimal`` is the decimal separator ("." or ","); the other one, spaces and apostrophes are
    thousands separators. Negatives: a leading or trailing minus, or parentheses. A currency sign
    or code around the number is ignored. At most two decimals.
    """
    raw = text_.strip()
    if not raw:
        return None
    s = raw
    negative = False
    if s[0] == "(" and s[-1] == ")":
        negative, s = True, s[1:-1].strip()
    upper = s.upper()
    if upper.endswith(("CR", "DR")) and len(s) > 2:   # "12.50 DR": a debit
        negative ^= upper.endswith("DR")
        s = s[:-2].strip()
    if s and s[0] in _MINUS + "+":
        negative ^= s[0] in _MINUS
        s = s[1:].strip()
    if s and s[-1] in _MINUS:
        negative ^= True
        s = s[:-1].strip()
    s = _CURRENCY.sub("", s, count=2).strip()
    if s and s[0] in _MINUS and not negative:          # "$-12.50"
        negative, s = True, s[1:]
    s = _GROUP_SPACE.sub("", s.strip())
    if not s:
        raise ValueError(f"“{raw}” is not an amount")
    if not _AMOUNT_RE[decimal].fullmatch(s):
        other = "," if decimal == "." else "."
        if _AMOUNT_RE[other].fullmatch(s) and re.search(rf"\{other}\d{{1,2}}$", s):
            raise ValueError(f"“{raw}” is not an amount with “{decimal}” as the decimal separator "
                             f"(choose “{other}”)")
        raise ValueError(f"“{raw}” is not an amount")
    thousands = "," if decimal == "." else "."
    digits = s.replace(thousands, "").replace(decimal, ".")
    try:
        value = Decimal(digits)
    except InvalidOperation:
        raise ValueError(f"“{raw}” is not an amount") from None
    if value != 0 and value.adjusted() > 15:
        raise ValueError(f"“{raw}” is too large")
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise ValueError(f"“{raw}” has more than two decimals")
    value = value.quantize(Decimal("0.01"))
    if abs(value) * 100 > MAX_CENTS:
        raise ValueError(f"“{raw}” is too large (amounts go up to {MAX_AMOUNT_TEXT})")
    return -value if negative else value


DATE_FORMATS = {"iso": "Year first (2024-03-31)", "dmy": "Day first (31/03/2024)",
                "mdy": "Month first (03/31/2024)"}
_MONTH_NAMES = {name: number for number, names in enumerate(
    (("jan", "january", "janv", "jänner", "januar", "ene", "enero"),
     ("feb", "february", "févr", "fev", "februar"),
     ("mar", "march", "mars", "mär", "märz", "marz"),
     ("apr", "april", "avr", "avril", "abr"),
     ("may", "mai", "mayo"),
     ("jun", "june", "juin", "juni"),
     ("jul", "july", "juil", "juli"),
     ("aug", "august", "août", "aout", "ago"),
     ("sep", "sept", "september", "septembre"),
     ("oct", "october", "okt", "oktober", "octobre"),
     ("nov", "november", "novembre"),
     ("dec", "december", "dez", "dezember", "déc", "décembre", "dic")), start=1) for name in names}
_TIME_TAIL = re.compile(r"(?:[T\s]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp][Mm])?\s*(?:Z|[+-]\d{2}:?\d{2})?)$")
_DATE_PARTS = re.compile(r"[./\-\s,]+")
_DIGITS8 = re.compile(r"\d{8}")


def _year(token: str) -> int:
    if len(token) == 4:
        return int(token)
    if len(token) == 2:
        number = int(token)
        return 2000 + number if number < 70 else 1900 + number
    raise ValueError


def parse_date_text(text_: str, fmt: str) -> date:
    """A date from a statement cell in one of DATE_FORMATS; a time after it is ignored.
    Month names (``12 Mar 2024``, ``Mar 12, 2024``) are read in any of them."""
    s = _TIME_TAIL.sub("", text_.strip()).strip()
    if fmt == "iso" and _DIGITS8.fullmatch(s):
        return date(int(s[:4]), int(s[4:6]), int(s[6:]))
    parts = [p for p in _DATE_PARTS.split(s) if p]
    if len(parts) != 3:
        raise ValueError
    named = [i for i, p in enumerate(parts) if not p.isdigit()]
    if named:
        if len(named) != 1:
            raise ValueError
        month = _MONTH_NAMES.get(parts[named[0]].lower().rstrip("."))
        if month is None:
            raise ValueError
        numbers = [p for i, p in enumerate(parts) if i != named[0]]
        if len(numbers[0]) == 4:
            year, day = _year(numbers[0]), int(numbers[1])
        elif len(numbers[1]) in (2, 4) and len(numbers[0]) <= 2:
            day, year = int(numbers[0]), _year(numbers[1])
        else:
            raise ValueError
    else:
        if fmt == "iso":
            year_t, month_t, day_t = parts
            if len(year_t) != 4:
                raise ValueError
        elif fmt == "dmy":
            day_t, month_t, year_t = parts
        elif fmt == "mdy":
            month_t, day_t, year_t = parts
        else:
            raise ValueError
        if len(day_t) > 2 or len(month_t) > 2:
            raise ValueError
        year, month, day = _year(year_t), int(month_t), int(day_t)
    if not 1900 <= year <= 2200:
        raise ValueError
    return date(year, month, day)


# ---------------------------------------------------------------------------------------------------
# CSV: sniffing, the mapping, parsing
# ---------------------------------------------------------------------------------------------------

DELIMITERS = {",": "Comma", ";": "Semicolon", "\t": "Tab", "|": "Pipe"}
ROLES = ("date", "amount", "debit", "credit", "payee", "description", "category", "currency",
         "original_amount", "original_currency")


@dataclass(frozen=True)
class CsvMapping:
    """How to read a CSV: which column (0-based) holds what, and the formats of dates and amounts.

    Either ``amount`` (one signed column) or ``debit`` and/or ``credit`` (money out / in, as positive
    numbers). ``invert`` flips every sign (card statements that show purchases as positive).
    """
    date: int | None = None
    amount: int | None = None
    debit: int | None = None
    credit: int | None = None
    payee: int | None = None
    description: int | None = None
    category: int | None = None
    currency: int | None = None      # ISO codes; a row in another currency than the account's is refused
    original_amount: int | None = None     # a card statement's amount as charged in a foreign currency
    original_currency: int | None = None   # its ISO code (kept beside the amount: fx.check_original)
    date_format: str = "iso"
    decimal: str = "."
    delimiter: str = ","
    has_header: bool = True
    skip_rows: int = 0
    invert: bool = False

    def check(self, width: int) -> None:
        if self.date is None:
            raise ImportFileError("Choose the column that holds the date.")
        if self.amount is None and self.debit is None and self.credit is None:
            raise ImportFileError("Choose the amount column, or the debit and credit columns.")
        if self.amount is not None and (self.debit is not None or self.credit is not None):
            raise ImportFileError("Use either one amount column or debit and credit columns, not both.")
        if self.date_format not in DATE_FORMATS:
            raise ImportFileError("Choose a date format.")
        if self.decimal not in (".", ","):
            raise ImportFileError("The decimal separator must be “.” or “,”.")
        if self.delimiter not in DELIMITERS:
            raise ImportFileError("Choose how the columns are separated.")
        if not 0 <= self.skip_rows <= 1000:
            raise ImportFileError("Lines to skip must be between 0 and 1000.")
        used = [v for v in (self.date, self.amount, self.debit, self.credit, self.original_amount)
                if v is not None]
        if len(set(used)) != len(used):
            raise ImportFileError("The date and amount columns must be different columns.")
        for role in ROLES:
            index = getattr(self, role)
            if index is not None and not (0 <= index < width):
                raise ImportFileError(f"The {role} column is not in the file (it has {width} columns).")

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, values: dict) -> CsvMapping:
        """From client input: unknown keys dropped, every value checked for its type."""
        if not isinstance(values, dict):
            raise ImportFileError("The column mapping is missing.")
        kwargs = {}
        for role in ROLES:
            value = values.get(role)
            if value in (None, "", -1, "-1"):
                kwargs[role] = None
            else:
                try:
                    kwargs[role] = int(value)
                except (TypeError, ValueError):
                    raise ImportFileError(f"The {role} column is not a column of the file.") from None
        for key in ("date_format", "decimal", "delimiter"):
            if key in values and values[key] is not None:
                kwargs[key] = str(values[key])
        if "has_header" in values:
            kwargs["has_header"] = bool(values["has_header"])
        if "invert" in values:
            kwargs["invert"] = bool(values["invert"])
        if values.get("skip_rows") not in (None, ""):
            try:
                kwargs["skip_rows"] = int(values["skip_rows"])
            except (TypeError, ValueError):
                raise ImportFileError("Lines to skip must be a whole number.") from None
        return cls(**kwargs)


@dataclass
class CsvGuess:
    """What a CSV looks like: its columns, a sample and the mapping that probably fits."""
    encoding: str
    mapping: CsvMapping
    columns: list[str]           # header names, or "Column 1", "Column 2"...
    sample: list[list[str]]      # the first data rows
    warnings: list[str]


def _reader(text_: str, delimiter: str):
    csv.field_size_limit(1_000_000)
    return csv.reader(io.StringIO(text_, newline=""), delimiter=delimiter, strict=False)


def _records(text_: str, delimiter: str, limit: int | None = None):
    """(line number where the record starts, cells) for each non-blank record."""
    reader = _reader(text_, delimiter)
    start = 1
    count = 0
    try:
        for cells in reader:
            line = start
            start = reader.line_num + 1
            if not cells or all(not c.strip() for c in cells):
                continue
            yield line, cells
            count += 1
            if limit is not None and count >= limit:
                return
    except csv.Error as exc:
        raise ImportFileError(f"the CSV cannot be read here ({exc})", start) from None


def _sniff_delimiter(text_: str) -> str:
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(cells) for _, cells in _records(text_, delimiter, limit=40)]
        except ImportFileError:
            continue
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        score = (count / len(widths), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _looks_like_date(cell: str) -> str | None:
    for fmt in ("iso", "dmy", "mdy"):
        try:
            parse_date_text(cell, fmt)
            return fmt
        except (ValueError, IndexError):
            continue
    return None


def _looks_like_amount(cell: str) -> bool:
    if not re.search(r"\d", cell):
        return False
    for decimal in (".", ","):
        try:
            parse_money(cell, decimal)
            return True
        except ValueError:
            continue
    return False


_HEADER_WORDS = {
    "date": ("transaction date", "booking date", "posting date", "posted date", "trans date", "date",
             "datum", "buchungstag", "buchungsdatum", "fecha", "data", "valuta"),
    "amount": ("amount", "betrag", "montant", "importe", "importo", "bedrag", "sum", "value"),
    "debit": ("debit", "withdrawal", "money out", "paid out", "outflow", "spent", "soll", "ausgang",
              "débit", "charge"),
    "credit": ("credit", "deposit", "money in", "paid in", "inflow", "received", "haben", "eingang",
               "crédit"),
    "payee": ("payee", "merchant", "counterparty", "beneficiary", "name", "empfänger", "auftraggeber",
              "beguenstigter", "begünstigter", "to/from", "description"),
    "description": ("memo", "description", "details", "reference", "narrative", "verwendungszweck",
                    "notes", "note", "text", "libellé", "concepto", "purpose"),
    "category": ("category", "kategorie", "catégorie", "categoria"),
    "currency": ("currency", "ccy", "währung", "devise", "moneda", "valuta code"),
    # Before "amount" and "currency" (whose words these headers contain): a card statement's foreign
    # amount and its currency.
    "original_amount": ("original amount", "foreign amount", "amount in original currency",
                        "original value", "originalbetrag", "fremdwährungsbetrag", "montant d'origine",
                        "montant en devise", "importe original"),
    "original_currency": ("original currency", "foreign currency", "originalwährung", "fremdwährung",
                          "devise d'origine", "moneda original"),
}
_NOT_AMOUNT = ("balance", "saldo", "solde", "running")
_EXACT_ONLY = {"value", "sum", "data", "name", "text", "note", "notes", "charge"}


def _guess_by_header(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    found: dict[str, int] = {}
    for role in ("date", "category", "original_currency", "original_amount", "currency", "debit", "credit",
                 "amount", "payee", "description"):
        for word in _HEADER_WORDS[role]:
            for index, name in enumerate(names):
                if index in found.values() or not name:
                    continue
                if role in ("amount", "debit", "credit") and any(w in name for w in _NOT_AMOUNT):
                    continue
                if role == "payee" and "account" in name:
                    continue
                if name == word or (word not in _EXACT_ONLY and len(word) > 3 and word in name):
                    found[role] = index
                    break
            if role in found:
                break
    if "amount" in found and ("debit" in found or "credit" in found):
        found.pop("debit", None)
        found.pop("credit", None)
    _account_amount_beside(header, found)
    return found


_CODE_AT_END = re.compile(r"(?:[(\[]\s*|\s)([A-Za-z]{3})\s*[)\]]?\s*$")


def _amount_column(name: str) -> bool:
    """Whether a (lower-case) header names an amount (not a balance)."""
    if any(w in name for w in _NOT_AMOUNT):
        return False
    return any(name == word or (word not in _EXACT_ONLY and len(word) > 3 and word in name)
               for word in _HEADER_WORDS["amount"])


def _account_amount_beside(header: list[str], found: dict[str, int]) -> None:
    """A file giving each row's amount in the currency it was charged in (Amount, Currency) and also in
    the account's, in a column named with a currency code ("Amount (EUR)", "Betrag EUR"): that one is
    the transaction's amount, the other its original amount and currency (fx.check_original drops the
    original of a row whose currency is the account's own)."""
    if "currency" not in found or "original_amount" in found or "original_currency" in found:
        return
    names = [h.strip().lower() for h in header]
    known = fx.known_currencies()
    amounts = [i for i, name in enumerate(names) if _amount_column(name)]
    coded = [i for i in amounts if (m := _CODE_AT_END.search(header[i].strip())) and m.group(1).upper() in known]
    plain = [i for i in amounts if i not in coded]
    if not coded or not plain:
        return
    for role in [r for r, i in found.items() if i in (coded[0], plain[0])]:
        found.pop(role)
    found["original_currency"] = found.pop("currency")
    found["amount"], found["original_amount"] = coded[0], plain[0]


def _guess_by_content(rows: list[list[str]], width: int) -> dict[str, int]:
    found: dict[str, int] = {}
    columns = [[r[i] for r in rows if i < len(r)] for i in range(width)]
    for index, cells in enumerate(columns):
        filled = [c for c in cells if c.strip()]
        if filled and all(_looks_like_date(c) for c in filled):
            found["date"] = index
            break
    numeric = [i for i, cells in enumerate(columns) if i != found.get("date")
               and any(c.strip() for c in cells)
               and all(_looks_like_amount(c) for c in cells if c.strip())]
    full = [i for i in numeric if all(c.strip() for c in columns[i])]
    if full:
        found["amount"] = full[0]
    elif len(numeric) >= 2:
        found["debit"], found["credit"] = numeric[0], numeric[1]
    texts = [i for i, cells in enumerate(columns) if i not in found.values() and i not in numeric
             and any(c.strip() for c in cells)]
    if texts:
        texts.sort(key=lambda i: -len({c.strip() for c in columns[i]}))
        found["payee"] = texts[0]
        if len(texts) > 1:
            found["description"] = texts[1]
    return found


def _guess_date_format(cells: list[str], warnings: list[str]) -> str:
    cells = [c for c in cells if c.strip()]
    fits = []
    for fmt in ("iso", "dmy", "mdy"):
        ok = 0
        for cell in cells:
            try:
                parse_date_text(cell, fmt)
                ok += 1
            except (ValueError, IndexError):
                pass
        fits.append((ok, fmt))
    best = max(fits, key=lambda f: f[0])
    winners = [fmt for ok, fmt in fits if ok == best[0]]
    if "dmy" in winners and "mdy" in winners and best[0] > 0 and not any(
            not c.strip()[:1].isdigit() for c in cells):
        warnings.append("The dates could be day-first or month-first (no day above 12 in the sample): "
                        "check the date format.")
    return winners[0]


def _guess_decimal(cells: list[str]) -> str:
    comma = point = 0
    for cell in cells:
        s = cell.strip()
        if re.search(r",\d{1,2}\)?\s*-?$", s) and not re.search(r"\.\d{1,2}\)?\s*-?$", s):
            comma += 1
        elif re.search(r"\.\d{1,2}\)?\s*-?$", s):
            point += 1
    return "," if comma > point else "."


def inspect_csv(data: bytes) -> CsvGuess:
    """Look at a CSV: separator, header, preamble lines, and which column is probably what."""
    text_, encoding = decode_text(data)
    text_ = text_[:INSPECT_BYTES]   # the layout is guessed from the start of the file only
    delimiter = _sniff_delimiter(text_)
    records = list(_records(text_, delimiter, limit=60))
    if not records:
        raise ImportFileError("The file has no rows.")
    widths = Counter(len(cells) for _, cells in records if len(cells) >= 2)
    width = max(widths, key=lambda w: (widths[w], w)) if widths else 1
    if max(len(cells) for _, cells in records) > MAX_CSV_COLUMNS:
        raise ImportFileError(_too_many_columns(max(len(cells) for _, cells in records)))
    if width < 2:
        raise ImportFileError("Only one column was found: a statement needs at least a date and an "
                              "amount. Is this a CSV file?", records[0][0])
    skip = 0
    for index, (_, cells) in enumerate(records):
        if len(cells) == width:
            skip = index
            break
    first = records[skip][1]
    has_header = not any(_looks_like_date(c) or _looks_like_amount(c) for c in first)
    body = [cells for _, cells in records[skip + (1 if has_header else 0):]]
    warnings: list[str] = []
    found = _guess_by_header(first) if has_header else {}
    if "date" not in found or not ({"amount", "debit", "credit"} & found.keys()):
        by_content = _guess_by_content(body[:30], width)
        for role, index in by_content.items():
            if role not in found and index not in found.values():
                found[role] = index
        if "amount" in found and ("debit" in found or "credit" in found):
            found.pop("debit", None)
            found.pop("credit", None)
    if "payee" not in found and "description" in found:
        found["payee"] = found.pop("description")
    date_cells = [r[found["date"]] for r in body[:60] if "date" in found and found["date"] < len(r)]
    amount_cells = [r[i] for r in body[:60] for role in ("amount", "debit", "credit")
                    if (i := found.get(role)) is not None and i < len(r)]
    mapping = CsvMapping(
        date_format=_guess_date_format(date_cells, warnings), decimal=_guess_decimal(amount_cells),
        delimiter=delimiter, has_header=has_header, skip_rows=records[skip][0] - 1 if skip else 0, **found)
    columns = ([c.strip()[:PREVIEW_CELL] or f"Column {i + 1}" for i, c in enumerate(first)] if has_header
               else [f"Column {i + 1}" for i in range(width)])
    columns += [f"Column {i + 1}" for i in range(len(columns), width)]
    if skip:
        warnings.append(f"The first {mapping.skip_rows} line(s) look like a preamble and are skipped.")
    sample = [[c[:PREVIEW_CELL] for c in cells] for cells in body[:8]]
    return CsvGuess(encoding, mapping, columns, sample, warnings)


def _too_many_columns(width: int) -> str:
    return (f"The file has {width:,} columns; at most {MAX_CSV_COLUMNS} are read. Is this a bank statement? "
            "Remove the columns you do not need.")


def _too_many_rows(what: str) -> str:
    return (f"The file has more than {MAX_IMPORT_ROWS:,} {what}. Split it into smaller statements "
            "(by year, for example).")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WS = re.compile(r"\s+")


def clean_cell(value: str, limit: int) -> str:
    """Text for a payee or description: control characters out, whitespace collapsed, shortened."""
    value = _WS.sub(" ", _CONTROL.sub(" ", value)).strip()
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def parse_csv(data: bytes, mapping: CsvMapping) -> ParseResult:
    """Every data row of a CSV as a ParsedRow; rows that cannot be read are listed with the reason."""
    text_, encoding = decode_text(data)
    rows: list[ParsedRow] = []
    errors: list[RowError] = []
    error_count = 0
    width_checked = False
    header_seen = not mapping.has_header
    date_cache: dict[str, date] = {}
    fmt, decimal = mapping.date_format, mapping.decimal
    need = max(v for v in (mapping.date, mapping.amount, mapping.debit, mapping.credit, mapping.payee,
                           mapping.description, mapping.category, mapping.currency, mapping.original_amount,
                           mapping.original_currency, 0) if v is not None)

    def fail(line: int, reason: str, cells: list[str]) -> None:
        nonlocal error_count
        error_count += 1
        if len(errors) < MAX_ERRORS_LISTED:
            errors.append(RowError(line, reason, clean_cell(mapping.delimiter.join(cells), 200)))

    records = 0
    for line, cells in _records(text_, mapping.delimiter):
        if line <= mapping.skip_rows:
            continue
        if len(cells) > MAX_CSV_COLUMNS:
            raise ImportFileError(_too_many_columns(len(cells)), line)
        records += 1
        if records > MAX_IMPORT_ROWS + 1:   # + 1: the header
            raise ImportFileError(_too_many_rows("rows"))
        if not header_seen:
            header_seen = True
            if not width_checked:
                mapping.check(len(cells))
                width_checked = True
            continue
        if not width_checked:
            mapping.check(len(cells))
            width_checked = True
        if len(cells) <= need:
            fail(line, f"this line has {len(cells)} column{'s' if len(cells) != 1 else ''}, "
                       f"{need + 1} are needed", cells)
            continue
        raw_date = cells[mapping.date].strip()
        day = date_cache.get(raw_date)
        if day is None:
            if not raw_date:
                fail(line, "the date is empty", cells)
                continue
            try:
                day = parse_date_text(raw_date, fmt)
            except (ValueError, IndexError):
                fail(line, f"“{raw_date[:40]}” is not a date in the format "
                           f"{DATE_FORMATS[fmt].split(' (')[1].rstrip(')')}", cells)
                continue
            date_cache[raw_date] = day
        try:
            if mapping.amount is not None:
                amount = parse_money(cells[mapping.amount], decimal)
                if amount is None:
                    fail(line, "the amount is empty", cells)
                    continue
            else:
                out = parse_money(cells[mapping.debit], decimal) if mapping.debit is not None else None
                into = parse_money(cells[mapping.credit], decimal) if mapping.credit is not None else None
                if out is None and into is None:
                    fail(line, "both the debit and the credit are empty", cells)
                    continue
                amount = abs(into or Decimal("0")) - abs(out or Decimal("0"))
        except ValueError as exc:
            fail(line, str(exc), cells)
            continue
        if mapping.invert:
            amount = -amount
        description = clean_cell(cells[mapping.description], DESCRIPTION_MAX) if mapping.description is not None else ""
        payee = clean_cell(cells[mapping.payee], PAYEE_MAX) if mapping.payee is not None else ""
        if not payee:
            payee = clean_cell(description, PAYEE_MAX)
        if payee == description:
            description = ""
        category = clean_cell(cells[mapping.category], 200) if mapping.category is not None else None
        currency = None
        if mapping.currency is not None:
            currency = cells[mapping.currency].strip().upper()
            if not re.fullmatch(r"[A-Z]{3}", currency):
                fail(line, f"“{clean_cell(currency, 40)}” is not a currency code such as EUR", cells)
                continue
        original_amount = original_currency = None
        if mapping.original_amount is not None:
            try:
                original_amount = parse_money(cells[mapping.original_amount], decimal)
            except ValueError as exc:
                fail(line, f"the original amount: {exc}", cells)
                continue
        if mapping.original_currency is not None:
            original_currency = cells[mapping.original_currency].strip().upper() or None
            if original_currency is not None and not re.fullmatch(r"[A-Z]{3}", original_currency):
                fail(line, f"“{clean_cell(original_currency, 40)}” is not a currency code such as USD", cells)
                continue
        if original_amount is None or original_currency is None:
            # A row charged in the account's own currency leaves the original columns empty; an
            # amount without its currency (or the reverse) cannot be kept: the row keeps neither.
            if (original_amount is None) != (original_currency is None) and (original_amount or original_currency):
                fail(line, "the original amount and its currency must be given together", cells)
                continue
            original_amount = original_currency = None
        rows.append(ParsedRow(line, day, amount + 0, payee, description, category or None, currency=currency,
                              original_amount=original_amount, original_currency=original_currency))
    if not width_checked:
        raise ImportFileError("The file has no data rows.")
    if not rows and not error_count:
        raise ImportFileError("The file has no data rows.")
    return ParseResult("csv", rows, errors, error_count, info={"encoding": encoding})


# ---------------------------------------------------------------------------------------------------
# OFX / QFX
# ---------------------------------------------------------------------------------------------------

_OFX_TRN = re.compile(rb"<STMTTRN>", re.IGNORECASE)


def _line_numbers(data: bytes, offsets: list[int]) -> list[int]:
    """The 1-based line of each offset (ascending) in one pass over ``data``."""
    lines, line, previous = [], 1, 0
    for offset in offsets:
        line += data.count(b"\n", previous, offset)
        previous = offset
        lines.append(line)
    return lines


def parse_ofx(data: bytes) -> ParseResult:
    """The bank and card transactions of an OFX / QFX statement (1.x SGML or 2.x XML), read with
    ofxtools. The bank's FITID becomes ``external_id``; the date is the bank's own posting day."""
    from ofxtools import Types
    from ofxtools.Parser import OFXTree

    if not isinstance(data, (bytes, bytearray)) or not data.strip():
        raise ImportFileError("The file is empty.")
    body = bytes(data)
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8):]
    body = body.lstrip()
    if b"\x00" in body:
        raise ImportFileError("this looks like a binary file, not an OFX statement", 1)
    if not body.rstrip().upper().endswith(b"</OFX>"):
        raise ImportFileError("The OFX file is incomplete (it does not end with </OFX>): download it again.")
    starts = [m.start() for m in _OFX_TRN.finditer(body)]
    if len(starts) > MAX_IMPORT_ROWS:
        raise ImportFileError(_too_many_rows("transactions"))
    if body.count(b"<") > MAX_OFX_TAGS:
        raise ImportFileError(f"The OFX file has more than {MAX_OFX_TAGS:,} tags. Split it into smaller "
                              "statements (by year, for example).")
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(body))
    except Exception as exc:   # ofxtools raises several kinds (header, syntax, decoding): all mean "bad file"
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ImportFileError(f"This is not an OFX statement that can be read: {reason}") from None
    root = tree.getroot()
    if root is None or root.tag != "OFX":
        raise ImportFileError("This is not an OFX statement: it has no <OFX> element.")
    lines = _line_numbers(data, [start + len(data) - len(body) for start in starts])
    to_date, to_amount, to_text = Types.DateTime(), Types.Decimal(), Types.String(EXTERNAL_ID_MAX)

    def value(element, path: str) -> str:
        found = element.find(path)
        return (found.text or "").strip() if found is not None and found.text else ""

    rows: list[ParsedRow] = []
    errors: list[RowError] = []
    error_count = 0
    accounts, currencies = [], set()
    statements = [el for el in root.iter() if el.tag in ("STMTRS", "CCSTMTRS")]
    number = 0
    for statement in statements:
        acct = value(statement, "BANKACCTFROM/ACCTID") or value(statement, "CCACCTFROM/ACCTID")
        if acct:
            accounts.append(acct)
        if value(statement, "CURDEF"):
            currencies.add(value(statement, "CURDEF").upper()[:3])
        for trn in statement.iter("STMTTRN"):
            line = lines[number] if number < len(lines) else None
            number += 1
            try:
                posted = value(trn, "DTPOSTED")
                if not posted:
                    raise ValueError("the transaction has no date (DTPOSTED)")
                try:
                    to_date.convert(posted)
                    day = date(int(posted[:4]), int(posted[4:6]), int(posted[6:8]))
                except Exception:
                    raise ValueError(f"“{posted[:40]}” is not an OFX date") from None
                raw_amount = value(trn, "TRNAMT")
                if not raw_amount:
                    raise ValueError("the transaction has no amount (TRNAMT)")
                try:
                    amount = parse_money(str(to_amount.convert(raw_amount)), ".")
                except Exception:
                    raise ValueError(f"“{raw_amount[:40]}” is not an amount") from None
                fitid = to_text.convert(value(trn, "FITID")) if value(trn, "FITID") else None
                name = value(trn, "NAME") or value(trn, "PAYEE/NAME")
                memo = value(trn, "MEMO")
                payee = clean_cell(to_text.convert(name) if name else "", PAYEE_MAX)
                description = clean_cell(Types.String().convert(memo) if memo else "", DESCRIPTION_MAX)
                if not payee:
                    checknum = value(trn, "CHECKNUM")
                    payee = clean_cell(description or (f"Check {checknum}" if checknum else
                                                       value(trn, "TRNTYPE").title()), PAYEE_MAX)
                if description == payee:
                    description = ""
                amount, original_amount, original_currency = _ofx_original(trn, value, amount)
            except ValueError as exc:
                error_count += 1
                if len(errors) < MAX_ERRORS_LISTED:
                    errors.append(RowError(line or 0, str(exc)))
                continue
            rows.append(ParsedRow(line or 0, day, amount, payee, description, None,
                                  clean_cell(fitid, EXTERNAL_ID_MAX) if fitid else None,
                                  original_amount=original_amount, original_currency=original_currency))
    if not statements:
        if root.find(".//INVSTMTRS") is not None:
            raise ImportFileError("Investment statements are not supported: export the bank or card account.")
        raise ImportFileError("The OFX file holds no bank or credit-card statement.")
    if not rows and not error_count:
        raise ImportFileError("The OFX statement has no transactions.")
    warnings = []
    if len(set(accounts)) > 1:
        warnings.append(f"This file holds {len(set(accounts))} accounts' statements; all of them go "
                        "into the account chosen here.")
    info = {"accounts": sorted(set(accounts)), "currencies": sorted(currencies)}
    return ParseResult("ofx", rows, errors, error_count, warnings, info)


def _ofx_original(trn, value, amount: Decimal) -> tuple[Decimal, Decimal | None, str | None]:
    """(amount in the statement's currency, original amount, its currency) of an OFX transaction.

    OFX's currency aggregates (CURSYM, and CURRATE = the ratio of CURDEF to CURSYM):
    ``<ORIGCURRENCY>``: TRNAMT is already in CURDEF (the account's currency), converted from CURSYM
    at CURRATE: the original amount is TRNAMT / CURRATE. ``<CURRENCY>``: TRNAMT is in CURSYM; the
    amount in CURDEF is TRNAMT x CURRATE and the original is TRNAMT. The computed side is rounded
    half-even to hundredths (OFX carries no second amount). No aggregate: (TRNAMT, None, None).
    The direction is the specification's (OFX section 5.2, the CURRENCY and ORIGCURRENCY aggregates:
    CURRATE is the "ratio of CURDEF currency to CURSYM currency", i.e. CURDEF units per CURSYM unit;
    docs/currencies.md says what was checked)."""
    for tag, converted in (("ORIGCURRENCY", True), ("CURRENCY", False)):
        symbol = value(trn, f"{tag}/CURSYM")
        if not symbol:
            continue
        symbol = symbol.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", symbol):
            raise ValueError(f"“{symbol[:40]}” is not a currency code (CURSYM)")
        raw_rate = value(trn, f"{tag}/CURRATE")
        try:
            rate = Decimal(raw_rate)
        except ArithmeticError:
            raise ValueError(f"“{raw_rate[:40]}” is not a rate (CURRATE)") from None
        if not rate.is_finite() or rate <= 0:
            raise ValueError(f"“{raw_rate[:40]}” is not a rate (CURRATE)")
        cent = Decimal("0.01")
        if converted:
            return amount, (amount / rate).quantize(cent, rounding="ROUND_HALF_EVEN"), symbol
        return (amount * rate).quantize(cent, rounding="ROUND_HALF_EVEN"), amount, symbol
    return amount, None, None


def parse_file(data: bytes, filename: str = "", mapping: CsvMapping | None = None) -> ParseResult:
    """Any supported statement: OFX / QFX by its content or name, otherwise CSV with ``mapping``
    (or the mapping :func:`inspect_csv` guesses)."""
    kind = detect_format(data, filename)
    if kind == "archive":
        raise ImportFileError("This is a zip file: upload it as a Ledgerlens export, or save the "
                              "spreadsheet as CSV.")
    if kind == "ofx":
        return parse_ofx(data)
    if mapping is None:
        mapping = inspect_csv(data).mapping
    return parse_csv(data, mapping)


# ---------------------------------------------------------------------------------------------------
# Rules and suggestions
# ---------------------------------------------------------------------------------------------------

def check_pattern(pattern, match_type: str) -> str:
    """A rule's pattern, checked: not empty, at most 200 characters, and for "regex" a pattern that
    RE2 (a linear-time engine, :mod:`dashboard.services.patterns`) accepts."""
    if match_type not in ("contains", "regex"):
        raise ServiceError("Choose “contains” or “matches”.", "match_type")
    value = "" if pattern is None else str(pattern).strip()
    if not value:
        raise ServiceError("Enter the text to look for in the payee.", "pattern")
    if len(value) > patterns.MAX_PATTERN_LENGTH:
        raise ServiceError(f"At most {patterns.MAX_PATTERN_LENGTH} characters.", "pattern")
    if match_type == "regex":
        patterns.check_pattern(value)
    return value


@dataclass(frozen=True)
class Rule:
    id: int
    pattern: str
    match_type: str
    category_id: int


def compile_rules(rules: Iterable[Rule]) -> list[tuple[Callable[[str], bool], Rule]]:
    compiled = []
    for rule in rules:
        if rule.match_type == "regex":
            try:
                matcher = patterns.compile_pattern(rule.pattern).search
            except patterns.PatternError:
                continue
            compiled.append((matcher, rule))
        else:
            needle = rule.pattern.casefold()
            compiled.append((lambda s, n=needle: n in s.casefold(), rule))
    return compiled


def match_rules(compiled, payee: str) -> Rule | None:
    """The first rule whose pattern is found in the payee."""
    subject = payee[:PAYEE_MAX]
    for matches, rule in compiled:
        if matches(subject):
            return rule
    return None


_NOT_LETTERS = re.compile(r"[^\w\s]|[\d_]")


def suggestion_key(payee: str) -> str:
    """A payee without numbers and punctuation: "STARBUCKS #1234" and "Starbucks 0042" agree."""
    return _WS.sub(" ", _NOT_LETTERS.sub(" ", payee.casefold())).strip()


def dedupe_key(payee: str) -> str:
    return _WS.sub(" ", payee.casefold()).strip()


def _user_rules(session: Session, user_id: int) -> list[Rule]:
    rows = session.execute(
        select(ImportRule.id, ImportRule.pattern, ImportRule.match_type, ImportRule.category_id)
        .join(Category, Category.id == ImportRule.category_id)
        .where(ImportRule.user_id == user_id, visible_to(user_id))
        .order_by(ImportRule.position, ImportRule.id)).all()
    return [Rule(*row) for row in rows]


def history_suggestions(session: Session, user_id: int) -> dict[str, int]:
    """Payee (suggestion_key) -> the category the user gave it most often, from the payee roll-up
    (a few rows per payee and month, not every transaction)."""
    rows = session.execute(
        select(PayeeRollup.payee, PayeeRollup.category_id, func.sum(PayeeRollup.row_count))
        .where(PayeeRollup.user_id == user_id, PayeeRollup.category_id.is_not(None))
        .group_by(PayeeRollup.payee, PayeeRollup.category_id)).all()
    votes: dict[str, Counter] = defaultdict(Counter)
    for payee, category_id, count in rows:
        key = suggestion_key(payee or "")
        if key:
            votes[key][int(category_id)] += int(count or 0)
    return {key: counter.most_common(1)[0][0] for key, counter in votes.items()}


def list_rules(session: Session, user_id: int) -> pd.DataFrame:
    """The simple rules (a payee that contains / matches a text -> a category) the Import page edits;
    rules with other conditions or actions live on the Rules page (dashboard/services/rules.py)."""
    rows = session.execute(
        select(ImportRule.id, ImportRule.pattern, ImportRule.match_type, ImportRule.category_id,
               ImportRule.position)
        .where(ImportRule.user_id == user_id, ImportRule.field == "payee", ImportRule.category_id.is_not(None),
               ImportRule.match_type.in_(("contains", "regex")), ImportRule.pattern != "",
               ImportRule.amount_min.is_(None), ImportRule.amount_max.is_(None), ImportRule.account_id.is_(None),
               ImportRule.set_payee.is_(None))
        .order_by(ImportRule.position, ImportRule.id)).all()
    return pd.DataFrame(rows, columns=["id", "pattern", "match_type", "category_id", "position"])


def create_rule(session: Session, user_id: int, *, pattern, match_type="contains", category_id) -> ImportRule:
    """Add a rule (tried after the existing ones). Does not commit."""
    value = check_pattern(pattern, match_type)
    category = get_category(session, user_id, category_id)
    last = session.scalar(select(func.max(ImportRule.position)).where(ImportRule.user_id == user_id))
    rule = ImportRule(user_id=user_id, pattern=value, match_type=match_type, category_id=category.id,
                      position=(last or 0) + 1)
    session.add(rule)
    session.flush()
    return rule


def get_rule(session: Session, user_id: int, rule_id) -> ImportRule:
    rid = parse_id(rule_id, field="rule")
    rule = session.scalar(select(ImportRule).where(ImportRule.id == rid, ImportRule.user_id == user_id))
    if rule is None:
        raise NotFound("Unknown rule.", "rule")
    return rule


def update_rule(session: Session, user_id: int, rule_id, **changes) -> ImportRule:
    unknown = set(changes) - {"pattern", "match_type", "category_id"}
    if unknown:
        raise ServiceError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    rule = get_rule(session, user_id, rule_id)
    match_type = changes.get("match_type", rule.match_type)
    pattern = check_pattern(changes.get("pattern", rule.pattern), match_type)
    if "category_id" in changes:
        rule.category_id = get_category(session, user_id, changes["category_id"]).id
    rule.pattern, rule.match_type = pattern, match_type
    session.flush()
    return rule


def delete_rule(session: Session, user_id: int, rule_id) -> None:
    session.delete(get_rule(session, user_id, rule_id))
    session.flush()


# ---------------------------------------------------------------------------------------------------
# Planning: duplicates, categories, kinds, the user's decisions
# ---------------------------------------------------------------------------------------------------

NEW, DUPLICATE, ERROR, SKIPPED = "new", "duplicate", "error", "skipped"


@dataclass(slots=True)
class PlannedRow:
    line: int
    date: date | None
    amount: Decimal | None
    payee: str
    description: str
    external_id: str | None
    category_id: int | None
    category_source: str        # "rule", "file", "history" or ""
    kind: str                   # "expense" or "income"
    status: str                 # NEW, DUPLICATE, ERROR, SKIPPED
    reason: str
    include: bool               # will be imported
    tag_ids: tuple[int, ...] = ()   # the tags the matching rule adds
    original_amount: Decimal | None = None   # the foreign amount (fx.check_original: signed like amount)
    original_currency: str | None = None

    @property
    def cents(self) -> int:
        return int(self.amount * 100)

    @property
    def original_cents(self) -> int | None:
        return None if self.original_amount is None else int(self.original_amount * 100)


@dataclass
class ImportPlan:
    account_id: int
    rows: list[PlannedRow]
    warnings: list[str]
    error_count: int

    @property
    def to_import(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.include and r.status != ERROR]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def blocking_errors(self) -> list[PlannedRow]:
        """Lines that could not be read and that the user has not left out."""
        return [r for r in self.rows if r.status == ERROR and r.include]


def _categories(session: Session, user_id: int) -> tuple[dict[int, str], dict[str, int]]:
    """Kinds by category id, and category ids by every name a file may use: "Groceries",
    "Food > Groceries", "Food › Groceries", "Food:Groceries", and deeper paths like
    "Home:Utilities:Power" (case-insensitive; the user's own win)."""
    from .categories import category_frame
    frame = category_frame(session, user_id)
    kinds, names = {}, {}
    parts_of = {int(r.id): r.name for r in frame.itertuples()}
    ordered = sorted(frame.itertuples(), key=lambda r: (not r.own, int(r.id)))
    for r in ordered:
        cid = int(r.id)
        kinds[cid] = r.kind
        path = [parts_of[i] for i in r.path_ids]
        keys = [r.name]
        if len(path) > 1:
            keys += [f" {sep} ".join(path) for sep in (">", "›", ":", "/")]
            keys += [sep.join(path) for sep in (">", "›", ":", "/")]
        for key in keys:
            names.setdefault(key.casefold(), cid)
    return kinds, names


# --- the file's own category names: what the user chose for the unknown ones, remembered ------------

_PATH_SPLIT = re.compile(r"\s*(?:›|>|:|/)\s*")


def category_key(name) -> str:
    """How a file's category name is remembered: spaces collapsed, case-folded, at most 200 chars."""
    return " ".join(str(name or "").split()).casefold()[:200]


def category_path(name: str) -> list[str]:
    """The levels a file's name stands for: "Home:Rent" -> ["Home", "Rent"]."""
    return [part.strip() for part in _PATH_SPLIT.split(str(name or "")) if part.strip()]


def remembered_mappings(session: Session, user_id: int) -> dict[str, int | None]:
    """The user's earlier choices: file name key -> category id (None: leave uncategorized)."""
    return dict(session.execute(select(CategoryMapping.source_name, CategoryMapping.category_id)
                                .where(CategoryMapping.user_id == user_id)).all())


def unknown_categories(session: Session, user_id: int, parsed: ParseResult) -> list[dict]:
    """Every category name of the file that is neither a known category nor an earlier choice, with
    how many rows and how much money (cents, signed) carry it, and a proposed kind: name, key, rows,
    cents, kind, path (the levels a "create" makes). Most money first."""
    _kinds, names = _categories(session, user_id)
    remembered = remembered_mappings(session, user_id)
    found: dict[str, dict] = {}
    for row in parsed.rows:
        if not row.category:
            continue
        key = category_key(row.category)
        if not key or key in names or key in remembered:
            continue
        entry = found.setdefault(key, {"name": " ".join(row.category.split())[:200], "key": key, "rows": 0,
                                       "cents": 0, "positive": 0})
        cents = int(row.amount * 100)
        entry["rows"] += 1
        entry["cents"] += cents
        entry["positive"] += cents > 0
    out = []
    for entry in found.values():
        entry["kind"] = "income" if entry["positive"] == entry["rows"] else "expense"
        entry["path"] = category_path(entry["name"])
        del entry["positive"]
        out.append(entry)
    return sorted(out, key=lambda e: (-abs(e["cents"]), e["key"]))


CREATE, LEAVE = "create", "none"


def apply_category_choices(session: Session, user_id: int, parsed: ParseResult, choices) -> int:
    """Carry out and remember the user's choice for each unknown category name of the file:
    ``choices`` maps a name (as the file writes it, any case) to "create" (the file's hierarchy
    becomes the user's own categories: "Home:Rent" -> Home › Rent), "none" (leave such rows
    uncategorized) or a category id (map to it). Names the file does not carry are ignored; a
    category id the user may not use is refused. Does not commit. Returns how many were remembered."""
    from .categories import ensure_path
    if not isinstance(choices, dict) or not choices:
        return 0
    wanted = {category_key(k): v for k, v in choices.items() if isinstance(k, str)}
    done = 0
    for entry in unknown_categories(session, user_id, parsed):
        choice = wanted.get(entry["key"])
        if choice in (None, ""):
            continue
        if choice == CREATE:
            if not entry["path"]:
                raise ServiceError(f"“{entry['name']}” has no name to create.", "categories")
            category_id = ensure_path(session, user_id, entry["path"], kind=entry["kind"]).id
        elif choice == LEAVE:
            category_id = None
        else:
            category_id = get_category(session, user_id, choice).id
        session.add(CategoryMapping(user_id=user_id, source_name=entry["key"], category_id=category_id))
        done += 1
    session.flush()
    return done


def _existing_fingerprints(session: Session, user_id: int, account_id: int, rows: list[ParsedRow]
                           ) -> tuple[Counter, Counter]:
    """Counts of the account's transactions by (date, cents, payee key) in the file's date range:
    all of them, and those without a bank id."""
    every, without_id = Counter(), Counter()
    if not rows:
        return every, without_id
    start, end = min(r.date for r in rows), max(r.date for r in rows)
    amount = sql_cents(Transaction.amount)   # raw integer cents, not Decimal
    no_id = Transaction.external_id.is_(None)
    result = session.execute(
        select(Transaction.date, amount, Transaction.payee, no_id, func.count())
        .where(Transaction.user_id == user_id, Transaction.account_id == account_id,
               Transaction.date >= start, Transaction.date <= end)
        .group_by(Transaction.date, amount, Transaction.payee, no_id))
    for day, cents, payee, missing_id, count in result:
        key = (day, int(cents), dedupe_key(payee or ""))
        every[key] += count
        if missing_id:
            without_id[key] += count
    return every, without_id


def _existing_external_ids(session: Session, user_id: int, account_id: int, ids: list[str]) -> set[str]:
    found: set[str] = set()
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        found.update(session.scalars(select(Transaction.external_id).where(
            Transaction.user_id == user_id, Transaction.account_id == account_id,
            Transaction.external_id.in_(chunk))))
    return found


def _decisions(values) -> dict[int, bool]:
    """{line: include} from client input; anything malformed is dropped."""
    decisions: dict[int, bool] = {}
    if isinstance(values, dict):
        for key, include in values.items():
            try:
                line = int(key)
            except (TypeError, ValueError):
                continue
            if isinstance(include, bool) and 0 < line < 10**9:
                decisions[line] = include
    return decisions


def plan_import(session: Session, user_id: int, account_id, parsed: ParseResult,
                decisions=None) -> ImportPlan:
    """What importing ``parsed`` into the user's account would do, row by row (reads only).

    ``decisions`` ({line: include}) is the user's word: a duplicate with True is imported anyway,
    a new row or a line with an error with False is left out."""
    account = get_account(session, user_id, account_id)
    statement_currencies = [c for c in parsed.info.get("currencies", []) if c != account.currency]
    if parsed.format == "ofx" and statement_currencies:
        raise ImportFileError(f"This statement is in {', '.join(statement_currencies)} (its CURDEF) and the "
                              f"account “{account.name}” is in {account.currency}: choose an account in "
                              f"{statement_currencies[0]}, or create one.")
    digits = min(fx.minor_digits(account.currency), 2)   # no half yen
    choices = _decisions(decisions)
    kinds, names = _categories(session, user_id)
    remembered = remembered_mappings(session, user_id)
    from . import rules as rule_service
    compiled = rule_service.compile_rules(rule_service.load_rules(session, user_id))
    suggestions = history_suggestions(session, user_id)
    every, without_id = _existing_fingerprints(session, user_id, account.id, parsed.rows)
    known_ids = _existing_external_ids(session, user_id, account.id,
                                       [r.external_id for r in parsed.rows if r.external_id])
    seen_ids: set[str] = set()
    matched: Counter = Counter()
    planned: list[PlannedRow] = []
    for row in parsed.rows:
        cents = int(row.amount * 100)
        rule = rule_service.first_match(compiled, payee=row.payee, description=row.description,
                                        cents_value=cents, account_id=account.id) if compiled else None
        payee = rule.set_payee if rule is not None and rule.set_payee else row.payee
        key = (row.date, cents, dedupe_key(row.payee))
        if payee != row.payee:
            # A rule renames the payee: rows imported under the rule carry the clean name.
            clean_key = (row.date, cents, dedupe_key(payee))
            if every[clean_key] > 0 or matched[clean_key]:
                key = clean_key
        external_id = row.external_id
        status, reason = NEW, ""
        id_taken = False
        original = original_currency = None
        try:
            original, original_currency = fx.check_original(row.amount, row.original_amount, row.original_currency,
                                                            account.currency)
            original_problem = ""
        except ServiceError as exc:
            original_problem = exc.message
        if row.currency is not None and row.currency != account.currency:
            status, reason = ERROR, (f"In {row.currency}, but the account is in {account.currency}: not imported "
                                     "(import it into an account in that currency).")
        elif row.amount != row.amount.quantize(Decimal(1).scaleb(-digits)):
            status, reason = ERROR, (f"{row.amount} is finer than {account.currency} allows "
                                     f"({digits or 'no'} decimals).")
        elif original_problem:
            status, reason = ERROR, f"Original amount {row.original_amount} {row.original_currency}: {original_problem}"
        elif cents == 0:
            status, reason = SKIPPED, "The amount is zero."
        elif external_id and external_id in known_ids:
            status, reason, id_taken = DUPLICATE, f"Already imported (bank id {external_id}).", True
        elif external_id and external_id in seen_ids:
            status, reason, id_taken = DUPLICATE, f"The bank id {external_id} appears twice in this file.", True
        elif external_id and without_id[key] > 0:
            without_id[key] -= 1
            status, reason = DUPLICATE, "Same date, amount and payee as a transaction already in this account."
        elif not external_id and every[key] > 0:
            every[key] -= 1
            matched[key] += 1
            status, reason = DUPLICATE, "Same date, amount and payee as a transaction already in this account."
        elif not external_id and matched[key]:
            reason = "Identical to one already in the account, but the file has one more: kept."
        if external_id:
            seen_ids.add(external_id)

        category_id, source = None, ""
        file_key = category_key(row.category) if row.category else ""
        if rule is not None and rule.category_id is not None:
            category_id, source = rule.category_id, "rule"
        elif file_key and file_key in remembered:
            category_id, source = remembered[file_key], "mapped"   # None: the user said leave it
        elif file_key and file_key in names:
            category_id, source = names[file_key], "file"
        else:
            suggested = suggestions.get(suggestion_key(row.payee))
            if suggested is not None:
                category_id, source = suggested, "history"
        kind = "expense" if cents < 0 else "income"
        if category_id is not None:
            category_kind = kinds.get(category_id)
            if category_kind == "expense":
                kind = "expense"          # a positive amount is then a refund
            elif category_kind == "income" and cents > 0:
                kind = "income"
            else:
                category_id, source = None, ""
        if row.category and source not in ("file", "mapped") and category_id is None and not reason:
            if file_key not in names:
                reason = f"Unknown category “{row.category[:60]}”: left uncategorized."

        include = status == NEW or (status == ERROR and choices.get(row.line, True))
        choice = choices.get(row.line)
        if choice is not None and status in (NEW, DUPLICATE):
            if status == DUPLICATE and choice:
                reason = "Imported anyway (your choice). " + reason
                if id_taken:
                    external_id = None    # the bank id is taken: import it without one
            elif status == NEW and not choice:
                reason = "Left out (your choice)."
            include = choice
        planned.append(PlannedRow(row.line, row.date, row.amount, payee, row.description, external_id,
                                  category_id, source, kind, status, reason, include,
                                  rule.tag_ids if rule is not None else (), original, original_currency))
    for error in parsed.errors:
        include = choices.get(error.line, True)
        planned.append(PlannedRow(error.line, None, None, error.text, "", None, None, "", "", ERROR,
                                  error.reason if include else "Left out (your choice): " + error.reason,
                                  include))
    planned.sort(key=lambda r: r.line)
    return ImportPlan(account.id, planned, list(parsed.warnings), parsed.error_count)


# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------

def _tag_rows(session: Session, user_id: int, rows: list[PlannedRow], new_ids: list[int]) -> None:
    """The tags of the rules that matched, on the rows just written (one INSERT)."""
    if not any(r.tag_ids for r in rows):
        return
    if len(new_ids) != len(rows):
        raise ImportFileError("The imported rows could not be matched to their rules' tags; nothing was added.")
    pairs = {(tid, tag) for row, tid in zip(rows, new_ids, strict=True) for tag in row.tag_ids}
    session.execute(insert(TransactionTag), [{"transaction_id": t, "tag_id": g, "user_id": user_id}
                                             for t, g in sorted(pairs)])


@dataclass
class ImportResult:
    added: int
    skipped: int
    months: list[date]
    income_cents: int
    spending_cents: int

    @property
    def message(self) -> str:
        if not self.added:
            return "Nothing new to import: every row is already in this account."
        skipped = f", {self.skipped:,} skipped" if self.skipped else ""
        return f"Imported {self.added:,} transaction{'s' if self.added != 1 else ''}{skipped}."


def run_import(session: Session, user_id: int, account_id, parsed: ParseResult, decisions=None, *,
               progress: Callable[[int, int], None] | None = None, category_choices=None) -> ImportResult:
    """Import the accepted rows of ``parsed`` into the user's account, all or none. Does not commit:
    the caller commits, or rolls back on an error (the commit rule, docs/architecture.md).
    ``category_choices`` ({file category name: "create" | "none" | category id}) are carried out and
    remembered first, in the same transaction (see :func:`apply_category_choices`).

    Lines that could not be read stop the import (ImportFileError naming the first one) unless the
    user left them out. Any other failure while writing becomes an ImportFileError ("nothing was
    added"): the caller's rollback then leaves the database as it was."""
    try:
        lock_user(session, user_id)
        apply_category_choices(session, user_id, parsed, category_choices)
        plan = plan_import(session, user_id, account_id, parsed, decisions)
        blocking = plan.blocking_errors
        unlisted = max(plan.error_count - len(parsed.errors), 0)   # beyond the ones the preview lists
        if blocking or unlisted:
            first = blocking[0] if blocking else next(r for r in plan.rows if r.status == ERROR)
            more = len(blocking) - 1 + unlisted if blocking else unlisted
            suffix = f" (and {more} more line{'s' if more != 1 else ''} with problems)" if more > 0 else ""
            raise ImportFileError(first.reason.removeprefix("Left out (your choice): ") + suffix, first.line)
        rows = plan.to_import
        new_ids: list[int] = []
        if len(rows) <= BULK_THRESHOLD:
            for row in rows:
                try:
                    new_ids.append(create_transaction(
                        session, user_id, account_id=plan.account_id, date=row.date, amount=row.amount,
                        kind=row.kind, category_id=row.category_id, payee=row.payee, description=row.description,
                        external_id=row.external_id, original_amount=row.original_amount,
                        original_currency=row.original_currency).id)
                except ServiceError as exc:
                    raise ImportFileError(exc.message, row.line) from None
            if progress:
                progress(len(rows), len(rows))
            months = {month_start(r.date) for r in rows}
        else:
            total = len(rows)
            if progress:
                progress(0, total)
            # The bulk writer gives the new rows ascending ids in the order it is handed them (the
            # user is locked meanwhile): the user's rows above ``before`` are ``rows`` in order.
            before = session.scalar(select(func.max(Transaction.id)).where(Transaction.user_id == user_id)) or 0
            months = write_transactions(session, user_id, (
                NewTransaction(plan.account_id, r.date, r.cents, r.kind, r.category_id, r.payee,
                               r.description, external_id=r.external_id, original_cents=r.original_cents,
                               original_currency=r.original_currency) for r in rows),
                progress=(lambda done: progress(done, total)) if progress else None,
                chunk_size=PROGRESS_CHUNK).months
            if any(r.tag_ids for r in rows):
                new_ids = list(session.scalars(select(Transaction.id).where(
                    Transaction.user_id == user_id, Transaction.id > before).order_by(Transaction.id)))
        _tag_rows(session, user_id, rows, new_ids)
        session.flush()
    except ServiceError:
        raise
    except Exception as exc:
        raise ImportFileError(f"The import failed and nothing was added ({type(exc).__name__}).") from exc
    income = sum(r.cents for r in rows if r.kind == "income")
    spending = -sum(r.cents for r in rows if r.kind == "expense")
    return ImportResult(len(rows), len(plan.rows) - len(rows), sorted(months), income, spending)

