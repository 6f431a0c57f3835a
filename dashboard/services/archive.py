"""The whole-account export (a zip of CSV files and a manifest) and reading it back.

:func:`write_archive` streams all of one user's data into a zip: accounts, their own categories,
transactions with their expense lines (splits) and tags, budgets, goals and their contributions, and the
rules (the simple ones, a payee that contains / matches a text -> a category, in ``import_rules.csv``;
every other one, with its conditions on payee, description, amount and account and its actions
category, tags and clean payee, in ``rules.csv``, checked on restore as if typed). Rows refer to each other by ``ref`` (the id in the exporting database); categories by
their readable path (``Food > Groceries``) and, for the user's own ones, a ``category_ref`` too.

:func:`read_archive` is pure (bytes in, an :class:`Archive` or an ImportFileError naming the file,
the line and the reason); :func:`restore_archive` writes it for a user, all or nothing. Restoring into
a user who already has some of it adds only what is missing: accounts, categories, budgets, goals and
rules are matched by name (a rule by all its conditions and actions), transactions by the same count-aware fingerprint the statement import uses
(a transfer is skipped when either leg is already there), so the same archive twice adds nothing.

Text cells that a spreadsheet would run as a formula (= + - @, tab, CR) get a leading apostrophe, and
so does text that already starts with one; reading strips exactly one, so every text survives the
round trip unchanged.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO

from sqlalchemy import and_, exists, func, insert, select
from sqlalchemy.orm import Session, aliased

from models import (
    ACCOUNT_TYPES,
    CATEGORY_KINDS,
    GOAL_KINDS,
    PERIOD_TYPES,
    Account,
    Budget,
    Category,
    DismissedRecurring,
    ExchangeRate,
    Expense,
    Goal,
    GoalContribution,
    ImportRule,
    RuleTag,
    Scenario,
    Schedule,
    ScheduleOccurrence,
    ScheduleTag,
    Tag,
    Transaction,
    TransactionTag,
    User,
    from_cents,
)
from models.db import to_rate
from models.rule import RULE_FIELDS, RULE_MATCH_TYPES

from . import accounts as accounts_svc
from . import budgets as budgets_svc
from . import categories as categories_svc
from . import fx
from . import goals as goals_svc
from .budget_lines import assign_budgets
from .bulk import PROGRESS_CHUNK, NewTransaction, write_transactions
from .categories import visible_to
from .errors import ServiceError
from .importer import (
    ImportFileError,
    check_pattern,
    dedupe_key,
    parse_money,
)
from .patterns import MAX_PATTERN_LENGTH
from .patterns import check_pattern as check_regex
from .rollup import lock_user
from .sql import cents
from .tags import check_tag_name
from .validation import normalise_name

FORMAT = "ledgerlens-export"
VERSION = 3  # 2: accounts.csv has a currency column, exchange_rates.csv holds the rates (1 is still read)
#              3: transactions.csv ends with original_amount, original_currency (a card's foreign amount)
READABLE_VERSIONS = (1, 2, 3)
# Bounds on reading an export (a zip bomb is refused as soon as it passes one of them, while streaming):
MAX_ARCHIVE_UNCOMPRESSED = 64 * 1024 * 1024    # bytes of text read out of the zip, all members together
MAX_ARCHIVE_ROWS = 100_000                     # CSV rows, all members together
MAX_ARCHIVE_ENTRIES = 64                       # files in the zip (an export has 13)
MAX_MANIFEST_BYTES = 64 * 1024
MEMBERS = {
    "accounts.csv": ("ref", "name", "type", "currency", "opening_balance", "archived"),
    "categories.csv": ("ref", "name", "kind", "color", "parent_ref", "parent"),
    "transactions.csv": ("ref", "account_ref", "account", "date", "amount", "kind", "category_ref", "category",
                         "payee", "description", "notes", "transfer_group", "external_id", "original_amount",
                         "original_currency"),
    "expense_lines.csv": ("transaction_ref", "category_ref", "category", "amount", "memo"),
    "budgets.csv": ("category_ref", "category", "amount", "period_type", "start_date", "end_date", "rollover"),
    "goals.csv": ("ref", "name", "kind", "target_amount", "saved_amount", "target_date", "account_ref"),
    "goal_contributions.csv": ("goal_ref", "date", "amount", "note"),
    "import_rules.csv": ("pattern", "match_type", "category_ref", "category", "position"),
    "schedules.csv": ("ref", "name", "payee", "kind", "amount", "account_ref", "category_ref", "category", "rrule",
                      "start_date", "until", "count", "paused"),
    "schedule_skips.csv": ("schedule_ref", "occurs_on"),
    "schedule_tags.csv": ("schedule_ref", "tag"),
    "scenarios.csv": ("name", "items"),
    "dismissed_recurring.csv": ("key",),
    "exchange_rates.csv": ("day", "currency", "base", "rate"),
    "transaction_tags.csv": ("transaction_ref", "tag"),
    # Rules import_rules.csv cannot hold: other fields and matches, amounts, an account, tags, a clean payee.
    "rules.csv": ("field", "match_type", "pattern", "amount_min", "amount_max", "account_ref", "category_ref",
                  "category", "set_payee", "tags", "position"),
}
# Members that exports made before schedules (or tags) existed do not have: read as empty.
OPTIONAL_MEMBERS = {"schedules.csv", "schedule_skips.csv", "scenarios.csv", "dismissed_recurring.csv",
                    "transaction_tags.csv", "rules.csv", "schedule_tags.csv"}
# Version 1 exports: accounts without a currency (they are in the exporting user's, manifest "currency"),
# no rates.
# Columns version 3 added at the end of a member: read as empty from older exports.
ADDED_IN_V3 = {"transactions.csv": ("original_amount", "original_currency")}
MEMBERS_V2 = {k: v[:len(v) - len(ADDED_IN_V3.get(k, ()))] for k, v in MEMBERS.items()}
MEMBERS_V1 = {**{k: v for k, v in MEMBERS_V2.items() if k != "exchange_rates.csv"},
              "accounts.csv": ("ref", "name", "type", "opening_balance", "archived")}
_FORMULA = tuple("=+-@\t\r'")


def safe_text(value: str | None) -> str:
    """A text cell a spreadsheet will not run: a leading apostrophe before = + - @ tab CR or '."""
    value = value or ""
    return "'" + value if value.startswith(_FORMULA) else value


def unsafe_text(value: str | None) -> str:
    """The inverse of :func:`safe_text`."""
    value = value or ""
    return value[1:] if value.startswith("'") else value


def _money(cents_value: int) -> str:
    return str(from_cents(int(cents_value)))


# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------

def _category_paths(session: Session, user_id: int) -> tuple[dict[int, str], set[int]]:
    parent = aliased(Category)
    rows = session.execute(select(Category.id, Category.name, parent.name, Category.user_id)
                           .outerjoin(parent, parent.id == Category.parent_id).where(visible_to(user_id))).all()
    paths = {cid: (f"{pname} > {name}" if pname else name) for cid, name, pname, _ in rows}
    own = {cid for cid, _, _, owner in rows if owner is not None}
    return paths, own


def write_archive(session: Session, user_id: int, out: IO[bytes]) -> dict:
    """Write every row the user owns into ``out`` as a zip; returns the manifest."""
    user = session.get(User, user_id)
    if user is None:
        raise ImportFileError("Unknown user.")
    paths, own = _category_paths(session, user_id)

    def cat(cid):
        if cid is None:
            return "", ""
        return (str(cid) if cid in own else ""), paths.get(cid, "")

    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        def member(name: str, rows):
            header = MEMBERS[name]
            count = 0
            with archive.open(name, "w", force_zip64=True) as raw:
                stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(stream)
                writer.writerow(header)
                for row in rows:
                    writer.writerow(row)
                    count += 1
                stream.flush()
                stream.detach()
            counts[name.removesuffix(".csv")] = count

        member("accounts.csv", (
            (a.id, safe_text(a.name), a.type, a.currency, a.opening_balance, int(a.archived))
            for a in session.scalars(select(Account).where(Account.user_id == user_id).order_by(Account.id))))
        parent = aliased(Category)
        # Parents before their children, at any depth (a category moved under a newer one included).
        from .categories import category_frame
        tree_order = {int(cid): n for n, cid in enumerate(category_frame(session, user_id)["id"])}
        own_rows = sorted(session.execute(
            select(Category.id, Category.name, Category.kind, Category.color, Category.parent_id,
                   parent.name, parent.user_id)
            .outerjoin(parent, parent.id == Category.parent_id)
            .where(Category.user_id == user_id)).all(), key=lambda r: (tree_order.get(r[0], 10**9), r[0]))
        member("categories.csv", (
            (cid, safe_text(name), kind, color or "", parent_id if parent_owner is not None else "",
             safe_text(pname) if parent_id is not None and parent_owner is None else "")
            for cid, name, kind, color, parent_id, pname, parent_owner in own_rows))
        account_names = dict(session.execute(select(Account.id, Account.name).where(Account.user_id == user_id)).all())
        tx = Transaction
        member("transactions.csv", (
            (r.id, r.account_id, safe_text(account_names.get(r.account_id, "")), r.date.isoformat(), _money(r.c),
             r.kind, *(safe_text(x) for x in cat(r.category_id)), safe_text(r.payee), safe_text(r.description),
             safe_text(r.notes), r.transfer_group or "", safe_text(r.external_id or ""),
             _money(r.oc) if r.oc is not None else "", r.original_currency or "")
            for r in session.execute(
                select(tx.id, tx.account_id, tx.date, cents(tx.amount).label("c"), tx.kind, tx.category_id,
                       tx.payee, tx.description, tx.notes, tx.transfer_group, tx.external_id,
                       cents(tx.original_amount).label("oc"), tx.original_currency)
                .where(tx.user_id == user_id).order_by(tx.id)
                .execution_options(yield_per=5000, stream_results=True))))
        member("expense_lines.csv", (
            (r.transaction_id, *(safe_text(x) for x in cat(r.category_id)), _money(r.c), safe_text(r.memo))
            for r in session.execute(
                select(Expense.transaction_id, Expense.category_id, cents(Expense.amount).label("c"), Expense.memo)
                .where(Expense.user_id == user_id).order_by(Expense.transaction_id, Expense.id)
                .execution_options(yield_per=5000, stream_results=True))))
        member("budgets.csv", (
            (*(safe_text(x) for x in cat(b.category_id)), b.amount, b.period_type, b.start_date.isoformat(),
             b.end_date.isoformat(), int(b.rollover))
            for b in session.scalars(select(Budget).where(Budget.user_id == user_id).order_by(Budget.id))))
        member("goals.csv", (
            (g.id, safe_text(g.name), g.kind, g.target_amount, g.saved_amount,
             g.target_date.isoformat() if g.target_date else "", g.account_id or "")
            for g in session.scalars(select(Goal).where(Goal.user_id == user_id).order_by(Goal.id))))
        member("goal_contributions.csv", (
            (c.goal_id, c.date.isoformat(), c.amount, safe_text(c.note))
            for c in session.scalars(select(GoalContribution).where(GoalContribution.user_id == user_id)
                                     .order_by(GoalContribution.id))))
        # The simple rules (a payee that contains / matches a text -> a category) in import_rules.csv,
        # which every reader of this format knows; every other rule in rules.csv.
        simple = and_(ImportRule.field == "payee", ImportRule.match_type.in_(("contains", "regex")),
                      ImportRule.category_id.is_not(None), ImportRule.pattern != "",
                      ImportRule.amount_min.is_(None), ImportRule.amount_max.is_(None),
                      ImportRule.account_id.is_(None), ImportRule.set_payee.is_(None),
                      ~exists().where(RuleTag.rule_id == ImportRule.id))
        member("import_rules.csv", (
            (safe_text(r.pattern), r.match_type, *(safe_text(x) for x in cat(r.category_id)), r.position)
            for r in session.scalars(select(ImportRule).where(ImportRule.user_id == user_id, simple)
                                     .order_by(ImportRule.position, ImportRule.id))))
        rule_tags: dict[int, list[str]] = {}
        for rule_id, name in session.execute(
                select(RuleTag.rule_id, Tag.name).join(Tag, (Tag.id == RuleTag.tag_id) & (Tag.user_id == user_id))
                .join(ImportRule, (ImportRule.id == RuleTag.rule_id) & (ImportRule.user_id == user_id))
                .order_by(Tag.name)):
            rule_tags.setdefault(rule_id, []).append(name)
        amount = lambda v: "" if v is None else format(abs(v), "f")  # noqa: E731
        member("rules.csv", (
            (r.field, r.match_type, safe_text(r.pattern), amount(r.amount_min), amount(r.amount_max),
             r.account_id or "", *(safe_text(x) for x in cat(r.category_id)), safe_text(r.set_payee or ""),
             safe_text(", ".join(rule_tags.get(r.id, []))), r.position)
            for r in session.scalars(select(ImportRule).where(ImportRule.user_id == user_id, ~simple)
                                     .order_by(ImportRule.position, ImportRule.id))))
        member("exchange_rates.csv", (
            (r.day.isoformat(), r.currency, r.base, format(r.rate, "f"))
            for r in session.scalars(select(ExchangeRate).where(ExchangeRate.user_id == user_id)
                                     .order_by(ExchangeRate.base, ExchangeRate.currency, ExchangeRate.day)
                                     .execution_options(yield_per=5000))))
        member("transaction_tags.csv", (
            (transaction_id, safe_text(name))
            for transaction_id, name in session.execute(
                select(TransactionTag.transaction_id, Tag.name)
                .join(Tag, (Tag.id == TransactionTag.tag_id) & (Tag.user_id == user_id))
                .where(TransactionTag.user_id == user_id)
                .order_by(TransactionTag.transaction_id, Tag.name)
                .execution_options(yield_per=5000, stream_results=True))))
        _write_ahead(session, user_id, member, cat)
        manifest = {"format": FORMAT, "version": VERSION, "currency": user.currency,
                    "exported_at": datetime.now(UTC).isoformat(timespec="seconds"), "counts": counts}
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return manifest


def _write_ahead(session: Session, user_id: int, member, cat) -> None:
    """Schedules (with their skipped occurrences), scenarios and dismissed suggestions. A scenario's items
    refer to accounts, schedules and categories by their refs in this archive."""
    member("schedules.csv", (
        (s.id, safe_text(s.name), safe_text(s.payee), s.kind, s.amount, s.account_id,
         *(safe_text(x) for x in cat(s.category_id)), s.rrule, s.start_date.isoformat(),
         s.until.isoformat() if s.until else "", s.count or "", int(s.paused))
        for s in session.scalars(select(Schedule).where(Schedule.user_id == user_id).order_by(Schedule.id))))
    member("schedule_skips.csv", (
        (o.schedule_id, o.occurs_on.isoformat())
        for o in session.scalars(select(ScheduleOccurrence).where(ScheduleOccurrence.user_id == user_id,
                                                                  ScheduleOccurrence.status == "skipped")
                                 .order_by(ScheduleOccurrence.schedule_id, ScheduleOccurrence.occurs_on))))
    member("schedule_tags.csv", (
        (schedule_id, safe_text(name))
        for schedule_id, name in session.execute(
            select(ScheduleTag.schedule_id, Tag.name)
            .join(Tag, (Tag.id == ScheduleTag.tag_id) & (Tag.user_id == user_id))
            .where(ScheduleTag.user_id == user_id).order_by(ScheduleTag.schedule_id, Tag.name))))

    def portable(item: dict) -> dict:
        out = {k: v for k, v in item.items() if k not in ("account_id", "schedule_id", "category_id")}
        if item.get("account_id") is not None:
            out["account_ref"] = str(item["account_id"])
        if item.get("schedule_id") is not None:
            out["schedule_ref"] = str(item["schedule_id"])
        if item.get("category_id") is not None:
            out["category_ref"], out["category"] = cat(item["category_id"])
        return out

    member("scenarios.csv", (
        (safe_text(s.name), json.dumps([portable(i) for i in s.items or [] if isinstance(i, dict)],
                                       ensure_ascii=False, sort_keys=True))
        for s in session.scalars(select(Scenario).where(Scenario.user_id == user_id).order_by(Scenario.id))))
    member("dismissed_recurring.csv", (
        (safe_text(d.key),) for d in session.scalars(select(DismissedRecurring)
                                                     .where(DismissedRecurring.user_id == user_id)
                                                     .order_by(DismissedRecurring.id))))


# ---------------------------------------------------------------------------------------------------
# Reading (pure)
# ---------------------------------------------------------------------------------------------------

@dataclass
class Archive:
    manifest: dict
    tables: dict[str, list[dict]] = field(default_factory=dict)   # member name -> rows (with "_line")
    lines: dict[str, dict[str, list[tuple]]] = field(default_factory=dict)

    def count(self, name: str) -> int:
        return len(self.tables.get(name, []))


def is_archive(data: bytes) -> bool:
    return isinstance(data, (bytes, bytearray)) and bytes(data[:4]) == b"PK\x03\x04"


def read_archive(data: bytes) -> Archive:
    """Read and check a Ledgerlens export. Every problem is an ImportFileError naming the file inside
    the zip, the line and the reason.

    Members are streamed: bytes are counted as they are inflated and rows as they are parsed, against
    MAX_ARCHIVE_UNCOMPRESSED and MAX_ARCHIVE_ROWS for the whole archive, whatever sizes the zip declares,
    so a zip bomb is refused after reading at most that much."""
    if not is_archive(data):
        raise ImportFileError("This is not a Ledgerlens export (a .zip file).")
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError(f"The zip file cannot be read ({exc}).") from None
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        raise ImportFileError(f"This zip holds {len(entries):,} files; a Ledgerlens export has {len(MEMBERS) + 1}.")
    infos = {info.filename: info for info in entries}
    if "manifest.json" not in infos:
        raise ImportFileError("This zip is not a Ledgerlens export: it has no manifest.json.")
    if sum(info.file_size for info in infos.values()) > MAX_ARCHIVE_UNCOMPRESSED:
        raise ImportFileError(_too_large())
    budget = _Budget()
    try:
        with _open_member(archive, infos["manifest.json"], budget) as member:
            raw = member.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            raise ImportFileError("manifest.json is too large.")
        manifest = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ImportFileError("manifest.json is not valid JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ImportFileError("This zip is not a Ledgerlens export (unknown format in manifest.json).")
    if manifest.get("version") not in READABLE_VERSIONS:
        raise ImportFileError(f"This export is version {repr(manifest.get('version'))[:20]}; this Ledgerlens "
                              f"reads versions {', '.join(map(str, READABLE_VERSIONS))}.")
    result = Archive(manifest)
    members = {VERSION: MEMBERS, 2: MEMBERS_V2}.get(manifest["version"], MEMBERS_V1)
    for name, columns in members.items():
        if name not in infos and name in OPTIONAL_MEMBERS:
            result.tables[name] = []
            continue
        if name not in infos:
            raise ImportFileError(f"The export has no {name}.")
        result.tables[name] = _read_rows(archive, infos[name], columns, budget)
        for row in result.tables[name]:
            for column in MEMBERS[name][len(columns):]:
                row.setdefault(column, "")
    if manifest["version"] == 1:  # its accounts are in the exporting user's currency
        currency = manifest.get("currency") if isinstance(manifest.get("currency"), str) else ""
        for row in result.tables["accounts.csv"]:
            row["currency"] = currency
    _check(result)
    return result


def _too_large() -> str:
    return (f"The export is too large to restore here (at most {MAX_ARCHIVE_UNCOMPRESSED // (1024 * 1024)} MB "
            f"of data and {MAX_ARCHIVE_ROWS:,} rows).")


class _Budget:
    """What may still be read from one archive: bytes (inflated) and rows, all members together."""

    def __init__(self):
        self.bytes = MAX_ARCHIVE_UNCOMPRESSED
        self.rows = MAX_ARCHIVE_ROWS

    def take_bytes(self, n: int) -> None:
        self.bytes -= n
        if self.bytes < 0:
            raise ImportFileError(_too_large())

    def take_row(self) -> None:
        self.rows -= 1
        if self.rows < 0:
            raise ImportFileError(_too_large())


class _Counted(io.RawIOBase):
    """A member's inflated bytes, counted against the budget as they are read."""

    def __init__(self, member, budget: _Budget):
        self.member, self.budget = member, budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.member.read(min(len(buffer), 64 * 1024))
        self.budget.take_bytes(len(chunk))
        buffer[:len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self.member.close()
        super().close()


def _open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> io.BufferedReader:
    try:
        return io.BufferedReader(_Counted(archive.open(info), budget))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ImportFileError(f"{info.filename} cannot be read from the zip ({exc}).") from None


def _read_rows(archive: zipfile.ZipFile, info: zipfile.ZipInfo, columns: tuple, budget: _Budget) -> list[dict]:
    """The rows of one CSV member, streamed, each a dict of its columns and "_line"."""
    name = info.filename
    rows: list[dict] = []
    start = 1
    try:
        with _open_member(archive, info, budget) as member:
            text_ = io.TextIOWrapper(member, encoding="utf-8-sig", newline="")
            reader = csv.reader(text_)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header) != columns:
                raise ImportFileError(f"{name}: the header must be {', '.join(columns)}.", 1)
            start = 2
            for cells in reader:
                line, start = start, reader.line_num + 1
                if not cells:
                    continue
                budget.take_row()
                if len(cells) != len(columns):
                    raise ImportFileError(f"{name}: {len(cells)} columns, {len(columns)} expected.", line)
                row = dict(zip(columns, cells, strict=True))
                row["_line"] = line
                rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(f"{name}: {exc}.", start) from None
    except UnicodeDecodeError:
        raise ImportFileError(f"{name} is not UTF-8 text.") from None
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ImportFileError(f"{name} cannot be read from the zip ({exc}).") from None
    return rows


def _original(r, cents: int) -> tuple[int, str] | None:
    """A transaction's original foreign amount (cents, currency) from its row, or None: both columns
    or neither, checked like a live write (fx.check_original; the account's own currency is left to the
    bulk writer, which knows it)."""
    amount, currency = r.row.get("original_amount", "").strip(), r.row.get("original_currency", "").strip()
    if not amount and not currency:
        return None
    try:
        value, code = fx.check_original(Decimal(cents) / 100, amount, currency, "")
    except ServiceError as exc:
        r.fail(exc.message)
    return int(value * 100), code


class _Row:
    """Field access with the member name and line in every error."""

    def __init__(self, name: str, row: dict):
        self.name, self.row = name, row

    def fail(self, reason: str):
        raise ImportFileError(f"{self.name}: {reason}", self.row["_line"])

    def text(self, key: str, limit: int, *, required: bool = False) -> str:
        value = unsafe_text(self.row[key])
        if required and not value.strip():
            self.fail(f"{key} is empty.")
        if len(value) > limit:
            self.fail(f"{key} is longer than {limit} characters.")
        return value

    def ref(self, key: str, *, required: bool = True) -> str:
        value = self.row[key].strip()
        if not value:
            if required:
                self.fail(f"{key} is empty.")
            return ""
        if not value.isdigit() or len(value) > 18:
            self.fail(f"{key} “{value[:20]}” is not a reference.")
        return value

    def money(self, key: str, *, nonzero: bool = False, positive: bool = False) -> int:
        try:
            value = parse_money(self.row[key], ".")
        except ValueError as exc:
            self.fail(f"{key}: {exc}.")
        if value is None:
            self.fail(f"{key} is empty.")
        if nonzero and value == 0:
            self.fail(f"{key} cannot be zero.")
        if positive and value < 0:
            self.fail(f"{key} cannot be negative.")
        return int(value * 100)

    def day(self, key: str, *, required: bool = True) -> date | None:
        value = self.row[key].strip()
        if not value:
            if required:
                self.fail(f"{key} is empty.")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{key} “{value[:20]}” is not a date (YYYY-MM-DD).")

    def choice(self, key: str, options) -> str:
        value = self.row[key].strip()
        if value not in options:
            self.fail(f"{key} “{value[:20]}” is not one of {', '.join(options)}.")
        return value

    def flag(self, key: str) -> bool:
        value = self.row[key].strip().lower()
        if value not in ("0", "1", "true", "false", ""):
            self.fail(f"{key} must be 0 or 1.")
        return value in ("1", "true")


def _check(archive: Archive) -> None:
    """Every value and cross-reference of an archive, before anything is written."""
    t = archive.tables
    accounts = {}
    names = set()
    for raw in t["accounts.csv"]:
        r = _Row("accounts.csv", raw)
        ref = r.ref("ref")
        name = normalise_name(r.text("name", 100, required=True))   # as a live write stores it
        if not name:
            r.fail("name is empty.")
        if name in names:
            r.fail(f"the account name “{name}” appears twice.")
        names.add(name)
        accounts[ref] = {"line": raw["_line"], "name": name, "type": r.choice("type", ACCOUNT_TYPES),
                         "currency": raw.get("currency", "").strip().upper(), "opening": r.money("opening_balance"),
                         "archived": r.flag("archived")}
    categories = {}
    for raw in t["categories.csv"]:
        r = _Row("categories.csv", raw)
        ref = r.ref("ref")
        parent_ref = r.ref("parent_ref", required=False)
        if parent_ref and parent_ref not in categories:
            r.fail(f"parent_ref {parent_ref} is not a category listed above it.")
        categories[ref] = {"line": raw["_line"], "name": r.text("name", 100, required=True),
                           "kind": r.choice("kind", CATEGORY_KINDS), "color": raw["color"].strip() or None,
                           "parent_ref": parent_ref,
                           "parent": r.text("parent", 100)}

    def category(r: _Row) -> tuple[str, str]:
        ref = r.ref("category_ref", required=False)
        if ref and ref not in categories:
            r.fail(f"category_ref {ref} is not in categories.csv.")
        return ref, r.text("category", 210)

    transactions = {}
    groups: dict[str, list[str]] = defaultdict(list)
    for raw in t["transactions.csv"]:
        r = _Row("transactions.csv", raw)
        ref = r.ref("ref")
        if ref in transactions:
            r.fail(f"ref {ref} appears twice.")
        account_ref = r.ref("account_ref")
        if account_ref not in accounts:
            r.fail(f"account_ref {account_ref} is not in accounts.csv.")
        kind = r.choice("kind", ("expense", "income", "transfer"))
        amount = r.money("amount", nonzero=True)
        if kind == "income" and amount < 0:
            r.fail("income must be a positive amount.")
        group = raw["transfer_group"].strip()
        if kind == "transfer":
            if not group or len(group) > 36:
                r.fail("a transfer needs its transfer_group.")
            groups[group].append(ref)
        elif group:
            r.fail("only transfers have a transfer_group.")
        cat_ref, cat_path = category(r)
        transactions[ref] = {
            "line": raw["_line"], "account_ref": account_ref, "date": r.day("date"), "cents": amount, "kind": kind,
            "category_ref": cat_ref, "category": cat_path, "payee": r.text("payee", 200),
            "description": r.text("description", 500), "notes": r.text("notes", 5000), "group": group or None,
            "external_id": r.text("external_id", 255) or None, "lines": [],
            "original": _original(r, amount)}
    def currency_of(leg) -> str:
        return (accounts.get(leg["account_ref"]) or {}).get("currency") or ""

    for group, refs in groups.items():
        legs = [transactions[ref] for ref in refs]
        if len(legs) != 2 or legs[0]["account_ref"] == legs[1]["account_ref"]:
            raise ImportFileError(f"transactions.csv: the transfer {group} needs two legs on two accounts "
                                  "that add up to zero.", legs[0]["line"])
        # Across currencies each leg has its own amount (issue 17): one out, one in.
        across = currency_of(legs[0]) and currency_of(legs[1]) and currency_of(legs[0]) != currency_of(legs[1])
        if (not across and legs[0]["cents"] + legs[1]["cents"] != 0) or \
                (across and legs[0]["cents"] * legs[1]["cents"] >= 0):
            raise ImportFileError(f"transactions.csv: the transfer {group} needs two legs on two accounts "
                                  "that add up to zero" + (" (across currencies: one out, one in)." if across
                                                          else "."), legs[0]["line"])
    for raw in t["expense_lines.csv"]:
        r = _Row("expense_lines.csv", raw)
        ref = r.ref("transaction_ref")
        owner = transactions.get(ref)
        if owner is None or owner["kind"] != "expense":
            r.fail(f"transaction_ref {ref} is not an expense in transactions.csv.")
        cat_ref, cat_path = category(r)
        owner["lines"].append((cat_ref, cat_path, r.money("amount", nonzero=True), r.text("memo", 200)))
    for ref, tx in transactions.items():
        if tx["kind"] == "expense" and tx["lines"] and sum(line[2] for line in tx["lines"]) != -tx["cents"]:
            raise ImportFileError(f"transactions.csv: the expense lines of {ref} do not add up to its amount.",
                                  tx["line"])
    budgets = []
    for raw in t["budgets.csv"]:
        r = _Row("budgets.csv", raw)
        cat_ref, cat_path = category(r)
        budgets.append({"line": raw["_line"], "category_ref": cat_ref, "category": cat_path,
                        "cents": r.money("amount"), "period_type": r.choice("period_type", PERIOD_TYPES),
                        "start": r.day("start_date"), "end": r.day("end_date"), "rollover": r.flag("rollover")})
    goals = {}
    for raw in t["goals.csv"]:
        r = _Row("goals.csv", raw)
        ref = r.ref("ref")
        account_ref = r.ref("account_ref", required=False)
        if account_ref and account_ref not in accounts:
            r.fail(f"account_ref {account_ref} is not in accounts.csv.")
        goal_name = normalise_name(r.text("name", 100, required=True)) or r.fail("name is empty.")
        goals[ref] = {"line": raw["_line"], "name": goal_name, "kind": r.choice("kind", GOAL_KINDS),
                      "target": r.money("target_amount"), "saved": r.money("saved_amount"),
                      "target_date": r.day("target_date", required=False), "account_ref": account_ref,
                      "contributions": []}
    for raw in t["goal_contributions.csv"]:
        r = _Row("goal_contributions.csv", raw)
        ref = r.ref("goal_ref")
        if ref not in goals:
            r.fail(f"goal_ref {ref} is not in goals.csv.")
        goals[ref]["contributions"].append((r.day("date"), r.money("amount"), r.text("note", 200)))
    rules = []
    for raw in t["import_rules.csv"]:
        r = _Row("import_rules.csv", raw)
        match_type = r.choice("match_type", ("contains", "regex"))
        try:
            pattern = check_pattern(r.text("pattern", 200, required=True), match_type)
        except ImportFileError:
            raise
        except ServiceError as exc:
            r.fail(exc.message)
        cat_ref, cat_path = category(r)
        rules.append({"pattern": pattern, "match_type": match_type, "category_ref": cat_ref, "category": cat_path})
    full_rules = []
    for raw in t.get("rules.csv", []):
        r = _Row("rules.csv", raw)
        rule = {"field": r.choice("field", RULE_FIELDS), "match_type": r.choice("match_type", RULE_MATCH_TYPES),
                "pattern": r.text("pattern", MAX_PATTERN_LENGTH).strip(), "set_payee": r.text("set_payee", 200),
                "account_ref": r.ref("account_ref", required=False), "position": r.ref("position", required=False)}
        if rule["match_type"] == "regex" and rule["pattern"]:
            try:
                check_regex(rule["pattern"])
            except ServiceError as exc:
                r.fail(exc.message)
        for key in ("amount_min", "amount_max"):
            rule[key] = r.money(key, positive=True) if r.row[key].strip() else None
        if rule["account_ref"] and rule["account_ref"] not in accounts:
            r.fail(f"account_ref {rule['account_ref']} is not in accounts.csv.")
        try:
            rule["tags"] = [check_tag_name(n) for n in r.text("tags", 2000).split(",") if n.strip()]
        except ServiceError as exc:
            r.fail(exc.message)
        rule["category_ref"], rule["category"] = category(r)
        rule["_line"] = raw["_line"]
        full_rules.append(rule)
    rates = {}
    for raw in t.get("exchange_rates.csv", []):
        r = _Row("exchange_rates.csv", raw)
        day = r.day("day")
        try:
            currency, base = fx.check_currency(raw["currency"]), fx.check_currency(raw["base"])
            rate = to_rate(raw["rate"])
        except ServiceError as exc:
            r.fail(exc.message)
        except (ValueError, TypeError) as exc:
            r.fail(f"rate: {exc}")
        if currency == base:
            r.fail("a rate needs two different currencies.")
        rates[(base, currency, day)] = rate
    tags = []
    for raw in t.get("transaction_tags.csv", []):
        tags.append(_tag_row(_Row("transaction_tags.csv", raw), "transaction_ref", transactions, "transactions.csv"))
    archive.lines = {"rates": rates, "accounts": accounts, "categories": categories, "transactions": transactions,
                     "budgets": budgets, "goals": goals, "rules": rules, "tags": tags,
                     "full_rules": full_rules}
    archive.lines.update(_check_ahead(t, accounts, categories, category))


def _tag_row(r: _Row, ref_field: str, refs, member: str) -> tuple[str, str]:
    """A (ref, tag name) row of transaction_tags.csv or schedule_tags.csv, its ref checked against ``refs``."""
    ref = r.ref(ref_field)
    if ref not in refs:
        r.fail(f"{ref_field} {ref} is not in {member}.")
    try:
        name = check_tag_name(r.text("tag", 200, required=True))
    except ImportFileError:
        raise
    except ServiceError as exc:
        r.fail(exc.message)
    return ref, name


def _check_ahead(t: dict, accounts: dict, categories: dict, category) -> dict:
    """Schedules, their skips, scenarios and dismissed suggestions: values and references."""
    from .schedules import MAX_COUNT, _day, parse_rule
    schedules: dict[str, dict] = {}
    names: set[str] = set()
    for raw in t["schedules.csv"]:
        r = _Row("schedules.csv", raw)
        ref = r.ref("ref")
        if ref in schedules:
            r.fail(f"ref {ref} appears twice.")
        name = r.text("name", 100, required=True)
        if name in names:
            r.fail(f"the schedule name “{name}” appears twice.")
        names.add(name)
        kind = r.choice("kind", ("expense", "income"))
        amount = r.money("amount", nonzero=True)
        if (amount > 0) != (kind == "income"):
            r.fail("an expense schedule has a negative amount, an income schedule a positive one.")
        account_ref = r.ref("account_ref")
        if account_ref not in accounts:
            r.fail(f"account_ref {account_ref} is not in accounts.csv.")
        cat_ref, cat_path = category(r)
        try:
            start = _day(raw["start_date"].strip(), "start_date")
            until = _day(raw["until"].strip(), "until") if raw["until"].strip() else None
            rule = parse_rule(unsafe_text(raw["rrule"]), start)
        except ServiceError as exc:
            r.fail(exc.message)
        count = raw["count"].strip()
        if count and (not count.isdigit() or not 1 <= int(count) <= MAX_COUNT):
            r.fail(f"count must be a whole number from 1 to {MAX_COUNT:,}.")
        schedules[ref] = {"line": raw["_line"], "name": name, "payee": r.text("payee", 200), "kind": kind,
                          "cents": amount, "account_ref": account_ref, "category_ref": cat_ref, "category": cat_path,
                          "rrule": rule, "start": start, "until": until, "count": int(count) if count else None,
                          "paused": r.flag("paused"), "skips": []}
    for raw in t["schedule_skips.csv"]:
        r = _Row("schedule_skips.csv", raw)
        ref = r.ref("schedule_ref")
        if ref not in schedules:
            r.fail(f"schedule_ref {ref} is not in schedules.csv.")
        schedules[ref]["skips"].append(r.day("occurs_on"))
    for raw in t.get("schedule_tags.csv", []):
        r = _Row("schedule_tags.csv", raw)
        ref, name = _tag_row(r, "schedule_ref", schedules, "schedules.csv")
        schedules[ref].setdefault("tags", []).append(name)
        if len(schedules[ref]["tags"]) > 20:
            r.fail("a schedule has at most 20 tags.")
    scenarios: list[dict] = []
    seen: set[str] = set()
    for raw in t["scenarios.csv"]:
        r = _Row("scenarios.csv", raw)
        name = r.text("name", 100, required=True)
        if name in seen:
            r.fail(f"the scenario name “{name}” appears twice.")
        seen.add(name)
        try:
            items = json.loads(raw["items"])
        except (ValueError, RecursionError):
            r.fail("items is not valid JSON.")
        if not isinstance(items, list) or len(items) > 30 or not all(isinstance(i, dict) for i in items):
            r.fail("items must be a list of at most 30 items.")
        for item in items:
            for key, table, where in (("account_ref", accounts, "accounts.csv"),
                                      ("schedule_ref", schedules, "schedules.csv")):
                if key in item and str(item[key]) not in table:
                    r.fail(f"{key} {str(item[key])[:20]} is not in {where}.")
            if item.get("category_ref") and str(item["category_ref"]) not in categories:
                r.fail(f"category_ref {str(item['category_ref'])[:20]} is not in categories.csv.")
        scenarios.append({"line": raw["_line"], "name": name, "items": items})
    dismissed = []
    for raw in t["dismissed_recurring.csv"]:
        dismissed.append(_Row("dismissed_recurring.csv", raw).text("key", 300, required=True))
    return {"schedules": schedules, "scenarios": scenarios, "dismissed": dismissed}


# ---------------------------------------------------------------------------------------------------
# Restoring
# ---------------------------------------------------------------------------------------------------

@dataclass
class RestoreResult:
    added: Counter
    skipped: Counter

    @property
    def message(self) -> str:
        parts = [f"{n:,} {name}" for name, n in self.added.items() if n]
        if not parts:
            return "Nothing new to restore: everything in this export is already here."
        skipped = sum(self.skipped.values())
        return "Restored " + ", ".join(parts) + (f" ({skipped:,} already here)." if skipped else ".")


def archive_summary(archive: Archive) -> dict[str, int]:
    return {name.removesuffix(".csv"): archive.count(name) for name in MEMBERS}


def restore_archive(session: Session, user_id: int, archive: Archive, *,
                    progress: Callable[[int, int], None] | None = None) -> RestoreResult:
    """Add what the archive holds and the user lacks, all or nothing. Does not commit: the caller
    commits, or rolls back on an error (the commit rule, docs/architecture.md). ``progress(done, total)``
    hears how many of the new transactions are written."""
    try:
        result = _restore(session, user_id, archive, progress)
        session.flush()
        return result
    except ServiceError:
        raise
    except Exception as exc:
        raise ImportFileError(f"The restore failed and nothing was added ({type(exc).__name__}).") from exc


@contextmanager
def _as_line(member: str, line: int):
    """A service's refusal of a row, as the archive's error with the member and line."""
    try:
        yield
    except ServiceError as exc:
        raise ImportFileError(f"{member}: {exc.message}", line) from None


def _restore(session: Session, user_id: int, archive: Archive,
             progress: Callable[[int, int], None] | None = None) -> RestoreResult:
    lock_user(session, user_id)
    data = archive.lines
    added, skipped = Counter(), Counter()

    # Exchange rates: the ones the user lacks (a rate the user has for that day stays as it is).
    base = fx.base_currency(session, user_id)
    if data["rates"]:
        have = set(session.execute(select(ExchangeRate.base, ExchangeRate.currency, ExchangeRate.day)
                                   .where(ExchangeRate.user_id == user_id)).all())
        new = [{"user_id": user_id, "base": b, "currency": c, "day": d, "rate": rate}
               for (b, c, d), rate in sorted(data["rates"].items()) if (b, c, d) not in have]
        for i in range(0, len(new), 2000):
            session.execute(insert(ExchangeRate), new[i:i + 2000])
        added["exchange rates"] += len(new)
        skipped["exchange rates"] += len(data["rates"]) - len(new)

    # Accounts, by name.
    existing = {a.name.casefold(): a for a in session.scalars(select(Account).where(Account.user_id == user_id))}
    account_ids: dict[str, int] = {}
    fresh_accounts: set[int] = set()
    for ref, a in data["accounts"].items():
        account = existing.get(a["name"].casefold())
        currency = a["currency"] or base
        if account is not None and account.currency != currency:
            raise ImportFileError(f"accounts.csv: the account “{a['name']}” is in {currency} in the export and "
                                  f"in {account.currency} here. Rename one of them first.")
        if account is None:
            with _as_line("accounts.csv", a["line"]):
                account = accounts_svc.create_account(session, user_id, name=a["name"], type=a["type"],
                                                      currency=currency, opening_balance=from_cents(a["opening"]))
            account.archived = a["archived"]
            existing[account.name.casefold()] = account
            fresh_accounts.add(account.id)
            added["accounts"] += 1
        else:
            skipped["accounts"] += 1
        account_ids[ref] = account.id

    # Categories: the user's own by (name, parent); built-in ones by path.
    parent = aliased(Category)
    visible = session.execute(select(Category.id, Category.name, Category.kind, Category.user_id, Category.parent_id,
                                     parent.name).outerjoin(parent, parent.id == Category.parent_id)
                              .where(visible_to(user_id))).all()
    builtin_paths = {(f"{pn} > {n}" if pn else n): cid for cid, n, _, owner, _, pn in visible if owner is None}
    builtin_tops = {n: cid for cid, n, _, owner, pid, _ in visible if owner is None and pid is None}
    own = {(n.casefold(), pid): cid for cid, n, _, owner, pid, _ in visible if owner is not None}
    kinds = {cid: k for cid, _, k, _, _, _ in visible}
    category_ids: dict[str, int] = {}
    for ref, c in data["categories"].items():
        if c["parent_ref"]:
            parent_id = category_ids[c["parent_ref"]]
        elif c["parent"]:
            parent_id = builtin_tops.get(c["parent"])
            if parent_id is None:
                raise ImportFileError(f"categories.csv: unknown built-in category “{c['parent']}”.")
        else:
            parent_id = None
        cid = own.get((c["name"].casefold(), parent_id))
        if cid is None:
            with _as_line("categories.csv", c["line"]):
                category = categories_svc.create_category(session, user_id, name=c["name"], kind=c["kind"],
                                                          color=c["color"], parent_id=parent_id)
            cid = category.id
            own[(c["name"].casefold(), parent_id)] = cid
            kinds[cid] = c["kind"]
            added["categories"] += 1
        else:
            skipped["categories"] += 1
        category_ids[ref] = cid

    def resolve(ref: str, path: str, where: str) -> int | None:
        if ref:
            return category_ids[ref]
        if not path:
            return None
        cid = builtin_paths.get(path)
        if cid is None:
            raise ImportFileError(f"{where}: unknown category “{path}”.")
        return cid

    # Rules.
    have_rules = set(session.execute(select(ImportRule.pattern, ImportRule.match_type, ImportRule.category_id)
                                     .where(ImportRule.user_id == user_id)).all())
    position = len(have_rules)
    for rule in data["rules"]:
        cid = resolve(rule["category_ref"], rule["category"], "import_rules.csv")
        key = (rule["pattern"], rule["match_type"], cid)
        if cid is None or key in have_rules:
            skipped["rules"] += 1
            continue
        position += 1
        session.add(ImportRule(user_id=user_id, pattern=rule["pattern"], match_type=rule["match_type"],
                               category_id=cid, position=position))
        have_rules.add(key)
        added["rules"] += 1
    _restore_full_rules(session, user_id, data.get("full_rules") or [], account_ids, resolve, added, skipped)

    # Budgets, unless the category already has one starting that day.
    have_budgets = set(session.execute(select(Budget.category_id, Budget.start_date)
                                       .where(Budget.user_id == user_id)).all())
    budget_span: list[date] = []
    for b in data["budgets"]:
        cid = resolve(b["category_ref"], b["category"], "budgets.csv")
        if cid is None or kinds.get(cid) != "expense":
            raise ImportFileError("budgets.csv: a budget needs an expense category.", b["line"])
        if (cid, b["start"]) in have_budgets:
            skipped["budgets"] += 1
            continue
        with _as_line("budgets.csv", b["line"]):
            budget = budgets_svc.create_budget(session, user_id, category_id=cid, amount=from_cents(b["cents"]),
                                               period_type=b["period_type"], start_date=b["start"],
                                               end_date=b["end"], rollover=b["rollover"])
        if (budget.start_date, budget.end_date) != (b["start"], b["end"]):
            raise ImportFileError(f"budgets.csv: a {b['period_type']} budget cannot run from {b['start']} to "
                                  f"{b['end']}.", b["line"])
        have_budgets.add((cid, b["start"]))
        budget_span += [b["start"], b["end"]]
        added["budgets"] += 1
    session.flush()

    # Goals (by name) and their contributions.
    have_goals = {n.casefold() for n in session.scalars(select(Goal.name).where(Goal.user_id == user_id))}
    for g in data["goals"].values():
        if g["name"].casefold() in have_goals:
            skipped["goals"] += 1
            continue
        with _as_line("goals.csv", g["line"]):
            goal = goals_svc.create_goal(session, user_id, name=g["name"], kind=g["kind"],
                                         target_amount=from_cents(g["target"]), target_date=g["target_date"],
                                         account_id=account_ids.get(g["account_ref"]) if g["account_ref"] else None,
                                         history=True)
        where = f"goals.csv: the goal “{g['name'][:40]}”"
        # In date order, as they happened: a withdrawal never takes out more than was saved by then.
        for day, amount, note in sorted(g["contributions"], key=lambda c: c[0]):
            try:
                goals_svc.record_contribution(session, user_id, goal.id, amount=from_cents(abs(amount)), date=day,
                                              note=note, withdrawal=amount < 0)
            except ServiceError as exc:
                raise ImportFileError(f"{where}, its contribution of {day.isoformat()}: {exc.message}",
                                      g["line"]) from None
        if not g["account_ref"] and goal.saved_amount != from_cents(g["saved"]):
            raise ImportFileError(f"{where}: saved_amount {_money(g['saved'])} is not the sum of its contributions "
                                  f"({_money(int(goal.saved_amount * 100))}).", g["line"])
        have_goals.add(g["name"].casefold())
        added["goals"] += 1
    session.flush()

    # Transactions: duplicates (by bank id, else date, amount and payee, count-aware) are skipped.
    txs = data["transactions"]
    counts: Counter = Counter()
    bank_ids: set[tuple[int, str]] = set()
    targets = {account_ids[t["account_ref"]] for t in txs.values()} - fresh_accounts
    if targets:
        for account_id in targets:
            for day, c, payee, ext in session.execute(
                    select(Transaction.date, cents(Transaction.amount), Transaction.payee, Transaction.external_id)
                    .where(Transaction.user_id == user_id, Transaction.account_id == account_id)
                    .execution_options(yield_per=5000)):
                counts[(account_id, day, int(c), dedupe_key(payee or ""))] += 1
                if ext:
                    bank_ids.add((account_id, ext))

    def is_duplicate(tx: dict) -> bool:
        account_id = account_ids[tx["account_ref"]]
        if account_id in fresh_accounts:
            return False
        if tx["external_id"] and (account_id, tx["external_id"]) in bank_ids:
            return True
        key = (account_id, tx["date"], tx["cents"], dedupe_key(tx["payee"]))
        if counts[key] > 0:
            counts[key] -= 1
            return True
        return False

    def make(tx: dict, group: str | None) -> NewTransaction:
        where = f"transactions.csv line {tx['line']}"
        header = resolve(tx["category_ref"], tx["category"], where)
        lines = None
        if tx["kind"] == "expense":
            if header is not None and kinds.get(header) != "expense":
                raise ImportFileError(f"{where}: “{tx['category']}” is not an expense category.")
            if tx["lines"]:
                lines = tuple((resolve(ref, path, where), amount, memo) for ref, path, amount, memo in tx["lines"])
                for cid, _, _ in lines:
                    if cid is not None and kinds.get(cid) != "expense":
                        raise ImportFileError(f"{where}: an expense line has an income category.")
        elif tx["kind"] == "income" and header is not None and kinds.get(header) != "income":
            raise ImportFileError(f"{where}: “{tx['category']}” is not an income category.")
        elif tx["kind"] == "transfer":
            header = None
        original_cents, original_currency = tx.get("original") or (None, None)
        return NewTransaction(account_ids[tx["account_ref"]], tx["date"], tx["cents"], tx["kind"], header,
                              tx["payee"], tx["description"], tx["notes"], tx["external_id"], group, lines,
                              original_cents, original_currency)

    ref_of = {id(tx): ref for ref, tx in txs.items()}
    new_refs: list[str] = []
    legs_of: dict[str, list[dict]] = defaultdict(list)
    for tx in txs.values():
        if tx["group"]:
            legs_of[tx["group"]].append(tx)
    new: list[NewTransaction] = []
    done_groups: set[str] = set()
    for tx in txs.values():
        if tx["kind"] == "transfer":
            if tx["group"] in done_groups:
                continue
            done_groups.add(tx["group"])
            legs = legs_of[tx["group"]]
            duplicate = [is_duplicate(leg) for leg in legs]
            if any(duplicate):
                skipped["transactions"] += 2
                continue
            group = str(uuid.uuid4())
            new += [make(leg, group) for leg in legs]
            new_refs += [ref_of[id(leg)] for leg in legs]
        elif is_duplicate(tx):
            skipped["transactions"] += 1
        else:
            new.append(make(tx, None))
            new_refs.append(ref_of[id(tx)])
    # Bank ids must stay unique per account, within the archive too.
    seen: set[tuple[int, str]] = set()
    for index, tx in enumerate(new):
        if tx.external_id:
            key = (tx.account_id, tx.external_id)
            if key in seen or key in bank_ids:
                new[index] = dataclasses.replace(tx, external_id=None)
            seen.add(key)
    before = session.scalar(select(func.coalesce(func.max(Transaction.id), 0))
                            .where(Transaction.user_id == user_id))
    total = len(new)
    if progress:
        progress(0, total)
    write_transactions(session, user_id, new, progress=(lambda done: progress(done, total)) if progress else None,
                       chunk_size=PROGRESS_CHUNK)
    added["transactions"] += len(new)
    _restore_tags(session, user_id, data.get("tags") or [], new_refs, before)
    _restore_ahead(session, user_id, data, account_ids, resolve, added, skipped)
    if budget_span:
        assign_budgets(session, user_id, date_from=min(budget_span), date_to=max(budget_span))
    return RestoreResult(added, skipped)


def _restore_full_rules(session: Session, user_id: int, full_rules: list[dict], account_ids: dict, resolve,
                        added: Counter, skipped: Counter) -> None:
    """The rules of rules.csv, checked as if typed on the Rules page (dashboard/services/rules.py), after
    the user's own; one that is there already (same conditions and actions) is skipped."""
    from . import rules as rule_service
    have = {(s.field, s.match_type, s.pattern, s.amount_min, s.amount_max, s.account_id, s.category_id,
             s.set_payee, tuple(s.tag_ids)) for s in rule_service.load_rules(session, user_id)}
    for rule in sorted(full_rules, key=lambda r: int(r["position"] or 0)):
        where = f"rules.csv line {rule['_line']}"
        amount = lambda v: None if v is None else str(Decimal(v).scaleb(-2))  # noqa: E731
        typed = {"field": rule["field"], "match_type": rule["match_type"], "pattern": rule["pattern"],
                 "amount_min": amount(rule["amount_min"]), "amount_max": amount(rule["amount_max"]),
                 "account_id": account_ids[rule["account_ref"]] if rule["account_ref"] else None,
                 "category_id": resolve(rule["category_ref"], rule["category"], where),
                 "set_payee": rule["set_payee"] or None}
        try:
            values = rule_service.check_rule(session, user_id, **typed, new_tags=rule["tags"])
        except ServiceError as exc:
            raise ImportFileError(f"{where}: {exc.message}") from None
        key = (values["field"], values["match_type"], values["pattern"], values["amount_min"], values["amount_max"],
               values["account_id"], values["category_id"], values["set_payee"], tuple(values["tag_ids"]))
        if key in have:
            skipped["rules"] += 1
            continue
        rule_service.create_rule(session, user_id, **typed, tag_ids=values["tag_ids"])
        have.add(key)
        added["rules"] += 1


def _restore_tags(session: Session, user_id: int, tags: list[tuple[str, str]], new_refs: list[str],
                  before: int) -> None:
    """The archive's tags on the transactions just written. The bulk writer gives the new rows
    ascending ids in the order it was handed them (the user is locked meanwhile), so the user's rows
    above ``before``, by id, are ``new_refs`` in order."""
    if not tags or not new_refs:
        return
    from .tags import find_or_create
    ids = session.scalars(select(Transaction.id).where(Transaction.user_id == user_id, Transaction.id > before)
                          .order_by(Transaction.id)).all()
    if len(ids) != len(new_refs):
        raise ImportFileError("The restored transactions could not be matched to their tags; nothing was added.")
    by_ref = dict(zip(new_refs, ids, strict=True))
    tag_ids: dict[str, int] = {}
    rows = set()
    for ref, name in tags:
        if ref not in by_ref:
            continue   # a transaction that was already there (a duplicate): left as it is
        if name.casefold() not in tag_ids:
            tag_ids[name.casefold()] = find_or_create(session, user_id, name).id
        rows.add((by_ref[ref], tag_ids[name.casefold()]))
    if rows:
        session.execute(insert(TransactionTag), [{"transaction_id": t, "tag_id": g, "user_id": user_id}
                                                 for t, g in sorted(rows)])
def _restore_ahead(session: Session, user_id: int, data: dict, account_ids: dict, resolve, added: Counter,
                   skipped: Counter) -> None:
    """Schedules (by name) with their skips, scenarios (by name; items re-checked as if typed) and
    dismissed suggestions (by key). Payments are linked to occurrences again by matching, not restored."""
    from .scenarios import clean_items
    from .schedules import create_schedule
    have = set(session.scalars(select(Schedule.name).where(Schedule.user_id == user_id)))
    schedule_ids: dict[str, int] = {}
    for ref, s in data.get("schedules", {}).items():
        if s["name"] in have:
            existing = session.scalar(select(Schedule.id).where(Schedule.user_id == user_id,
                                                                Schedule.name == s["name"]))
            schedule_ids[ref] = existing
            skipped["schedules"] += 1
            continue
        try:
            schedule = create_schedule(
                session, user_id, name=s["name"], payee=s["payee"], kind=s["kind"], amount=from_cents(abs(s["cents"])),
                account_id=account_ids[s["account_ref"]],
                category_id=resolve(s["category_ref"], s["category"], f"schedules.csv line {s['line']}"),
                rrule=s["rrule"], start_date=s["start"], until=s["until"], count=s["count"],
                tags=s.get("tags") or None)
        except ServiceError as exc:
            if isinstance(exc, ImportFileError):
                raise
            raise ImportFileError(f"schedules.csv: {exc.message}", s["line"]) from None
        schedule.paused = s["paused"]
        for day in sorted(set(s["skips"])):
            session.add(ScheduleOccurrence(user_id=user_id, schedule_id=schedule.id, occurs_on=day, status="skipped"))
        schedule_ids[ref] = schedule.id
        have.add(s["name"])
        added["schedules"] += 1
    session.flush()
    have = set(session.scalars(select(Scenario.name).where(Scenario.user_id == user_id)))
    for sc in data.get("scenarios", []):
        if sc["name"] in have:
            skipped["scenarios"] += 1
            continue
        items = []
        for item in sc["items"]:
            local = {k: v for k, v in item.items() if k not in ("account_ref", "schedule_ref", "category_ref",
                                                                  "category")}
            if "account_ref" in item:
                local["account_id"] = account_ids[str(item["account_ref"])]
            if "schedule_ref" in item:
                local["schedule_id"] = schedule_ids[str(item["schedule_ref"])]
            if "category_ref" in item or "category" in item:
                local["category_id"] = resolve(str(item.get("category_ref") or ""), str(item.get("category") or ""),
                                               f"scenarios.csv line {sc['line']}")
            items.append(local)
        try:
            cleaned = clean_items(session, user_id, items)
        except ServiceError as exc:
            if isinstance(exc, ImportFileError):
                raise
            raise ImportFileError(f"scenarios.csv: {exc.message}", sc["line"]) from None
        session.add(Scenario(user_id=user_id, name=sc["name"], items=cleaned))
        have.add(sc["name"])
        added["scenarios"] += 1
    have = set(session.scalars(select(DismissedRecurring.key).where(DismissedRecurring.user_id == user_id)))
    for key in data.get("dismissed", []):
        if key in have:
            continue
        session.add(DismissedRecurring(user_id=user_id, key=key))
        have.add(key)
    session.flush()


def export_filename(today: date | None = None) -> str:
    return f"ledgerlens-export-{(today or date.today()).isoformat()}.zip"
