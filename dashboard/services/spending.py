"""The spending explorer's reads: filters, aggregates by category / time / payee, the matching rows.

Spending is read from expenses (a split counts in each of its categories; refunds net out;
transfers never appear). Income is read from income-kind transactions. Every aggregate is a GROUP BY
in SQL: whole months come from ``monthly_rollup`` (kept in step on every commit), partial months
and row-level filters (text, amount range) from the raw tables, combined in one UNION ALL query.
Frames carry money as integer cents.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from urllib.parse import urlencode

import pandas as pd
from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from models import (
    BAND_EDGES,
    Account,
    AmountRollup,
    Category,
    DailyPayeeRollup,
    DailyRollup,
    Expense,
    FxAmountRollup,
    FxDailyRollup,
    FxMonthRollup,
    FxPayeeAmountRollup,
    FxPayeeRollup,
    MonthlyRollup,
    PayeeAmountRollup,
    PayeeName,
    PayeeRollup,
    Tag,
    Transaction,
    TransactionTag,
    band_bounds,
    band_of,
)

from . import fx, fx_rollup, rollup
from .cache import cached, transaction_memo
from .categories import category_frame, category_records, parents_map, path_to, subtree, visible_to
from .errors import ServiceError
from .filters import contains, escape_like, ids_param, ordered_range, parse_ids, parse_iso_date, search_text
from .periods import Comparison, add_months, clip, compare, month_end, month_start
from .sql import cents, date_bucket, one_of
from .validation import parse_amount

PRESETS = {
    "this_month": "This month",
    "last_month": "Last month",
    "last_3_months": "Last 3 months",
    "last_6_months": "Last 6 months",
    "last_12_months": "Last 12 months",
    "ytd": "Year to date",
    "last_year": "Last year",
    "custom": "Custom",
}
FLOWS = ("spending", "income")
GRAINS = ("auto", "month", "week")
UNCATEGORIZED = 0  # the id the explorer uses for "no category"


@dataclass(frozen=True)
class SpendingFilters:
    start: date
    end: date
    preset: str = "this_month"
    account_ids: tuple[int, ...] = ()
    category_ids: tuple[int, ...] = ()
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    text: str = ""
    flow: str = "spending"
    grain: str = "auto"
    tag_ids: tuple[int, ...] = ()   # rows carrying any of these tags (no roll-up knows tags: raw rows)

    @property
    def row_filtered(self) -> bool:
        """Filters that look at single rows, which the monthly roll-up cannot answer."""
        return bool(self.text) or self.min_amount is not None or self.max_amount is not None or bool(self.tag_ids)

    @property
    def effective_grain(self) -> str:
        if self.grain != "auto":
            return self.grain
        return "week" if (self.end - self.start).days <= 92 else "month"


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """Whole calendar months: "this month" is all of this month, YTD runs to the end of this month."""
    this = month_start(today)
    if preset == "last_month":
        first = add_months(this, -1)
        return first, month_end(first)
    if preset in ("last_3_months", "last_6_months", "last_12_months"):
        months = int(preset.split("_")[1])
        return add_months(this, -(months - 1)), month_end(today)
    if preset == "ytd":
        return date(today.year, 1, 1), month_end(today)
    if preset == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return this, month_end(today)


def previous_range(filters: SpendingFilters, today: date | None = None) -> tuple[date, date]:
    """What the filters' period is compared with (services/periods.py decides): the period of the
    same length just before, cut to the same days when the period is still running on ``today``."""
    return compare(filters.start, filters.end, today or date.today()).previous


def _optional_amount(value, field: str) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    if not isinstance(value, (str, int)):
        raise ServiceError("Enter an amount like 1,234.50.", field)
    return parse_amount(value, field=field)


def parse_filters(query: dict, today: date, *, strict: bool = False) -> SpendingFilters:
    """Filters from a URL query or the filter controls. Unknown or malformed values fall back to the
    defaults (a shared link never breaks the page); with ``strict`` a bad amount raises ServiceError."""
    query = {k: v for k, v in query.items() if isinstance(v, (str, int, list, tuple)) or v is None} \
        if isinstance(query, dict) else {}

    def text_of(key):
        value = query.get(key)
        return value if isinstance(value, str) else ""

    preset = text_of("preset") or "this_month"
    if preset not in PRESETS:
        preset = "this_month"
    start, end = preset_range(preset, today)
    if preset == "custom":
        start, end = ordered_range(parse_iso_date(text_of("from")) or start, parse_iso_date(text_of("to")) or end,
                                   strict=strict)
    amounts = {}
    for key, name in (("min", "min_amount"), ("max", "max_amount")):
        try:
            amounts[name] = _optional_amount(query.get(key), key)
        except ServiceError:
            if strict:
                raise
            amounts[name] = None
    if amounts["min_amount"] is not None and amounts["max_amount"] is not None \
            and amounts["min_amount"] > amounts["max_amount"]:
        if strict:
            raise ServiceError("The minimum is larger than the maximum.", "min")
        amounts["min_amount"], amounts["max_amount"] = amounts["max_amount"], amounts["min_amount"]
    flow = text_of("flow") if text_of("flow") in FLOWS else "spending"
    grain = text_of("grain") if text_of("grain") in GRAINS else "auto"
    return SpendingFilters(start=start, end=end, preset=preset, account_ids=parse_ids(query.get("accounts")),
                           category_ids=parse_ids(query.get("categories")), text=search_text(query.get("q")),
                           flow=flow, grain=grain, tag_ids=parse_ids(query.get("tags")),
                           **amounts)


def filters_to_query(filters: SpendingFilters) -> dict:
    """The canonical query-string form (defaults left out, so links stay short)."""
    query: dict[str, str] = {}
    if filters.preset != "this_month":
        query["preset"] = filters.preset
    if filters.preset == "custom":
        query["from"], query["to"] = filters.start.isoformat(), filters.end.isoformat()
    if filters.account_ids:
        query["accounts"] = ids_param(filters.account_ids)
    if filters.category_ids:
        query["categories"] = ids_param(filters.category_ids)
    if filters.min_amount is not None:
        query["min"] = str(filters.min_amount)
    if filters.max_amount is not None:
        query["max"] = str(filters.max_amount)
    if filters.text:
        query["q"] = filters.text
    if filters.tag_ids:
        query["tags"] = ids_param(filters.tag_ids)
    if filters.flow != "spending":
        query["flow"] = filters.flow
    if filters.grain != "auto":
        query["grain"] = filters.grain
    return query


def query_string(filters: SpendingFilters) -> str:
    query = filters_to_query(filters)
    return ("?" + urlencode(query)) if query else ""


# --- the SQL -------------------------------------------------------------------------------------

@dataclass
class _Source:
    """Where one flow's rows live, with the columns the explorer filters and groups on."""
    date: object
    account_id: object
    category_id: object
    amount: object  # a Money column; summed as cents
    payee: object
    description: object
    base: Select  # SELECT ... FROM (the source) with the user and flow filters applied
    extra_where: list = field(default_factory=list)


def _source(user_id: int, flow: str, *, with_transaction: bool) -> tuple:
    """(table columns, from-clause builder) for a flow. Spending joins transactions only when a payee
    or description is needed."""
    if flow == "income":
        return (Transaction.date, Transaction.account_id, Transaction.category_id, Transaction.amount,
                Transaction.payee, Transaction.description,
                [Transaction.user_id == user_id, Transaction.kind == "income"], None)
    join = None
    if with_transaction:
        join = (Transaction, and_(Transaction.id == Expense.transaction_id, Transaction.user_id == Expense.user_id))
    return (Expense.date, Expense.account_id, Expense.category_id, Expense.amount,
            Transaction.payee, Transaction.description, [Expense.user_id == user_id], join)


def _category_ids(session: Session, user_id: int, filters: SpendingFilters,
                  parents: dict[int, int | None] | None = None) -> tuple[list[int], bool] | None:
    """The selected categories with their children, and whether "uncategorised" is selected.
    None when no category filter is set. ``parents``: the user's tree when the caller has it already."""
    if not filters.category_ids:
        return None
    chosen = set(filters.category_ids)
    wants_none = UNCATEGORIZED in chosen
    chosen.discard(UNCATEGORIZED)
    ids: set[int] = set()
    if chosen:
        # A category selects everything below it, at any depth (the user's tree; others' ids vanish).
        if parents is None:
            rows = session.execute(select(Category.id, Category.parent_id).where(visible_to(user_id))).all()
            parents = {r.id: r.parent_id for r in rows}
        ids = subtree(parents, [c for c in chosen if c in parents])
    return sorted(ids), wants_none


def _common_where(cols, filters: SpendingFilters, categories) -> list:
    date_col, account_col, category_col = cols
    where = []
    if filters.account_ids:
        where.append(account_col.in_(filters.account_ids))
    if categories is not None:
        ids, wants_none = categories
        parts = []
        if ids:
            parts.append(category_col.in_(ids))
        if wants_none:
            parts.append(category_col.is_(None))
        where.append(or_(*parts) if parts else literal(False))
    return where


def _tagged(user_id: int, filters: SpendingFilters, transaction_id_col):
    """Rows whose transaction carries any of the chosen tags (the user's own tags only)."""
    return transaction_id_col.in_(select(TransactionTag.transaction_id).where(
        TransactionTag.user_id == user_id, TransactionTag.tag_id.in_(filters.tag_ids)))


_SEARCH_STRUCTURES: dict[tuple[str, str], bool] = {}   # (database URL, probe) -> present


def _has_search_structure(session: Session, dialect: str, probe: str) -> bool:
    """Whether this database (of ``dialect``) has a search structure a migration builds by hand, outside
    the models (``probe``: SQL answering a row when it is there); asked once per database and process."""
    bind = session.get_bind()
    if bind.dialect.name != dialect:
        return False
    key = (str(bind.url), probe)
    if key not in _SEARCH_STRUCTURES:
        _SEARCH_STRUCTURES[key] = session.execute(text_sql(probe)).first() is not None
    return _SEARCH_STRUCTURES[key]


def _has_fts(session: Session) -> bool:
    """Whether this SQLite database has the trigram full-text table (migration 0007)."""
    return _has_search_structure(
        session, "sqlite", "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'transactions_fts'")


FTS_LIST_MAX = 2000  # matches of a full-text query remembered as a list (more: the query runs in each read)


def _fts_rowids(session: Session, query: str) -> list[int] | None:
    """The rowids a full-text query matches, read once per database transaction when there are at most
    FTS_LIST_MAX of them (description-only matches usually are few), so the explorer's three reads and
    the previous period do not each walk the index's posting lists again; None: use the query itself."""
    memo = transaction_memo(session)
    if memo is None:
        return None
    key = ("fts", query)
    if key not in memo:
        rows = session.execute(text_sql("SELECT rowid FROM transactions_fts WHERE transactions_fts MATCH :q LIMIT :n"),
                               {"q": query, "n": FTS_LIST_MAX + 1}).scalars().all()
        memo[key] = list(rows) if len(rows) <= FTS_LIST_MAX else None
    return memo[key]


FTS_MIN_DAYS = 32  # shorter ranges: reading the range's rows costs less than every match of all time

TEXT_LIST_MAX = 2000  # matching payees / description-only matches remembered as a list (more: the query itself)


def _remembered(session: Session, key: tuple, start: date, end: date) -> list | None:
    """A list :func:`remember_text_matches` read for a range covering [start, end] in this database
    transaction; None when there is none (or it was too long to keep)."""
    memo = transaction_memo(session)
    got = memo.get(key) if memo is not None else None
    if got is None or not (got[0] <= start and end <= got[1]):
        return None
    return got[2]


def remember_text_matches(session: Session, user_id: int, filters: SpendingFilters, start: date, end: date) -> None:
    """A text search's matches over [start, end], read once per database transaction for the explorer's
    reads inside it (over time, top payees, the previous period, each also over partial-month edges):
    on PostgreSQL the flow's payees containing the text (from PayeeName, through its trigram index:
    every name the user's rows of that flow have had), and, without the SQLite full-text index, the ids
    of the transactions whose description (only) contains it. Each read then filters by ``payee IN
    (...)`` (ix_payee_rollup_user_flow_payee) / ``id IN (...)`` instead of matching the text against
    every roll-up row and walking the trigram index again (PostgreSQL, varied set at 1M, 12 months:
    names 0.2 ms, where the distinct payees of the months took 12-15 ms; each roll-up read 1.3 ms, where
    matching the rows of the months took 4.3 ms)."""
    memo = transaction_memo(session)
    if memo is None or not filters.text or rollup.stale(session, user_id):
        return
    if session.get_bind().dialect.name != "sqlite":
        # SQLite's LIKE over the roll-up rows costs less than this extra read (varied set, 12 months:
        # 52 -> 66 ms CPU with it); PostgreSQL's ILIKE does not.
        n = PayeeName
        names = session.scalars(select(n.payee).where(n.user_id == user_id, n.flow == filters.flow,
                                                      contains(session, n.payee, filters.text))
                                .limit(TEXT_LIST_MAX + 1)).all()
        memo[("payees", user_id, filters.flow, filters.text)] = (start, end,
                                                                 list(names) if len(names) <= TEXT_LIST_MAX else None)
    if not _has_fts(session):
        ids = session.scalars(_description_only_ids(session, user_id, filters.text, start, end)
                              .limit(TEXT_LIST_MAX + 1)).all()
        memo[("description", user_id, filters.text)] = (start, end, list(ids) if len(ids) <= TEXT_LIST_MAX else None)


REST_MARKER = "zqxj"   # what stands for the payee in ix_transactions_rest_trgm (migration 0026)


def _has_rest_index(session: Session) -> bool:
    """Whether this PostgreSQL database has ix_transactions_rest_trgm (migration 0026, with pg_trgm)."""
    return _has_search_structure(
        session, "postgresql", "SELECT 1 WHERE to_regclass('ix_transactions_rest_trgm') IS NOT NULL")


def _may_match_descriptions(session: Session, user_id: int, text: str, start: date, end: date) -> bool:
    """Whether rows in [start, end] may hold ``text`` in their description only: not when the update's
    remembered description-only matches (:func:`remember_text_matches`) cover the range and are none."""
    return _remembered(session, ("description", user_id, text), start, end) != []


def _description_only_ids(session: Session, user_id: int, text: str, start: date, end: date) -> Select:
    """Ids of the user's transactions in [start, end] whose description contains ``text`` and whose
    payee does not (case-insensitively, as ILIKE: PostgreSQL compares lower() of both).

    On PostgreSQL with ix_transactions_rest_trgm, the rows are first narrowed through that index, whose
    entry for a row is ``rest = replace(lower(description), lower(payee), M)`` (M = REST_MARKER), then
    tested exactly. Why no row is missed, with s = lower(text), d = lower(description), p = lower(payee):
    take an occurrence O of s in d, and p not containing s. If O overlaps no replaced occurrence of p,
    it stands whole in rest. Else let R1 ... Rq be the replaced occurrences overlapping O, in order:
    - R1 starts inside O: the part of O before it is untouched, so rest holds s[:a] + M (0 < a < |s|);
    - Rq ends inside O: likewise rest holds M + s[b:] (0 < b < |s|);
    - else R1 covers O's start and Rq its end: q = 1 would put s inside p, so q >= 2, and p ends with
      s[:a] (R1's end) and begins with s[b:] (R2's start), a <= b: such payees ("both ends") are
      found among the user's payee names, and their rows read by payee.
    So the candidates are the rows whose rest matches one of 2|s| - 1 patterns, plus the rows of the
    both-ends payees; the exact test follows (a subquery with OFFSET 0, so that PostgreSQL does not
    fold it into the candidates' index scan). All lower-casing is PostgreSQL's own, the text's too.
    Varied set, 1M rows, "coffee" over two years: 15 ms through the description's trigram index (27,484
    candidates of all time, each fetched to test its payee), 1 ms this way (338 candidates).

    Elsewhere: the plain test over the range's rows (SQLite's full-text table answers before this)."""
    def exact(payee, description):   # the rule itself
        return [~contains(session, payee, text), contains(session, description, text)]

    base = [Transaction.user_id == user_id, Transaction.date >= start, Transaction.date <= end]
    if not _has_rest_index(session):
        return select(Transaction.id).where(*base, *exact(Transaction.payee, Transaction.description))
    s = session.scalar(select(func.lower(literal(text))))
    pieces = [escape_like(s)] + [escape_like(s[:a]) + REST_MARKER for a in range(1, len(s))] \
        + [REST_MARKER + escape_like(s[b:]) for b in range(1, len(s))]
    rest = func.replace(func.lower(Transaction.description), func.lower(Transaction.payee),
                        literal_column(f"'{REST_MARKER}'"))   # as the index has it: a constant, not a parameter
    candidates = [rest.like(f"%{piece}%", escape="\\") for piece in pieces]
    both = _both_ends_payees(session, user_id, s)
    if both:
        candidates.append(Transaction.payee.in_(both))
    found = select(Transaction.id, Transaction.payee, Transaction.description).where(*base, or_(*candidates)) \
        .offset(0).subquery()
    return select(found.c.id).where(*exact(found.c.payee, found.c.description))


def _both_ends_payees(session: Session, user_id: int, s: str) -> list[str]:
    """The user's payees (as stored) whose lower() ends with s[:a] and begins with s[b:] for some
    0 < a <= b < len(s) (``s`` already lower-cased by PostgreSQL): those whose two occurrences in a
    description can hide ``s`` between them (see :func:`_description_only_ids`). Nearly always none."""
    if len(s) < 2:
        return []
    n = PayeeName
    low = func.lower(n.payee)
    rows = session.execute(select(n.payee, low).where(
        n.user_id == user_id, n.flow.in_(("spending", "income")),
        func.right(low, 1).in_(sorted(set(s[:-1]))), func.left(low, 1).in_(sorted(set(s[1:]))))
        .distinct()).all()
    return [payee for payee, lowered in rows
            if any(lowered.endswith(s[:a]) and lowered.startswith(s[b:])
                   for a in range(1, len(s)) for b in range(a, len(s)))]


def _text_ids(session: Session, user_id: int, text: str, start: date, end: date, *,
              description_only: bool = False) -> Select:
    """Ids of the user's transactions in [start, end] whose payee or description (or only the
    description, and then not the payee) contains ``text``. SQLite, over a month or more: from the FTS5
    trigram index (3 characters or more), which finds the matches of all time without reading the
    table; otherwise LIKE / ILIKE over the range's rows (ILIKE uses the pg_trgm indexes)."""
    where = [Transaction.user_id == user_id, Transaction.date >= start, Transaction.date <= end]
    if description_only:
        where.append(~contains(session, Transaction.payee, text))
    if len(text) >= 3 and (end - start).days >= FTS_MIN_DAYS and _has_fts(session):
        phrase = '"' + text.replace('"', '""') + '"'
        query = phrase
        if description_only:
            # The index drops the rows whose payee matches too, when it folds case as LIKE does (ASCII);
            # the LIKE above stays the rule either way.
            query = f"description : {phrase}" + (f" NOT payee : {phrase}" if text.isascii() else "")
        found = _fts_rowids(session, query)
        if found is None:
            found = text_sql("SELECT rowid FROM transactions_fts WHERE transactions_fts MATCH :fts_query") \
                .bindparams(bindparam("fts_query", query, unique=True)).columns(column("rowid", Integer))
        where.append(Transaction.id.in_(found))
    elif description_only:
        found = _remembered(session, ("description", user_id, text), start, end)
        where.append(one_of(session, Transaction.id, found) if found is not None
                     else contains(session, Transaction.description, text))
    else:
        where.append(or_(contains(session, Transaction.payee, text), contains(session, Transaction.description, text)))
    return select(Transaction.id).where(*where).correlate(None)  # its own FROM, even inside a join on transactions


def _raw_select(session: Session, user_id: int, filters: SpendingFilters, start: date, end: date,
                keys: list[str], categories, grain: str, *, description_only: bool = False,
                amount_range: tuple | None = None) -> Select:
    """The raw rows' GROUP BY. ``amount_range`` (min, max) in Decimal replaces the filters' amounts (the
    slivers at the ends of the roll-up's bands); ``description_only`` keeps the text matches of the
    description whose payee does not match (the payee roll-up answers those)."""
    needs_tx = filters.flow == "spending" and "payee" in keys
    date_col, account_col, category_col, amount_col, payee_col, desc_col, where, join = _source(
        user_id, filters.flow, with_transaction=needs_tx)
    key_cols = {
        "category_id": category_col,
        "bucket": date_bucket(session, date_col, grain),
        "day": date_col,
        "payee": payee_col,
        "account_id": account_col,
    }
    if "band" in keys:   # (27 comparisons: built only when asked for)
        key_cols["band"] = band_of(cents(amount_col))
    stmt = select(*[key_cols[k].label(k) for k in keys],
                  func.sum(cents(amount_col)).label("total_cents"), func.count().label("row_count"))
    stmt = stmt.select_from(Expense if filters.flow == "spending" else Transaction)
    if join is not None:
        stmt = stmt.join(*join)
    where = where + [date_col >= start, date_col <= end]
    if join is not None and session.get_bind().dialect.name == "postgresql":
        # A line carries its transaction's date (checked by tests/test_transactions_service.check_ledger):
        # the same range on the transactions lets PostgreSQL read them by (user_id, date) instead of
        # scanning them all for a hash join (partial months' top payees at 1M: ~600 -> ~90 ms). SQLite
        # already walks the lines' index and looks each transaction up by id; given the range it
        # chooses worse plans (a text search at 1M: 65 -> 675 ms CPU), so it does not get it.
        where += [Transaction.date >= start, Transaction.date <= end]
    where += _common_where((date_col, account_col, category_col), filters, categories)
    if filters.text:
        ids = _text_ids(session, user_id, filters.text, start, end, description_only=description_only)
        where.append((Expense.transaction_id if filters.flow == "spending" else Transaction.id).in_(ids))
    low, high = amount_range if amount_range is not None else (filters.min_amount, filters.max_amount)
    if low is not None and low == high:
        # One amount (the sliver above "max 200": 200.00 exactly) as an equality: SQLite's planner then
        # takes ix_expenses_user_amount (user, amount, date) instead of walking every line of the range in
        # ix_expenses_user_date for a range it cannot size (uniform set, 12 months at 1M: 29 ms -> 0).
        where.append(amount_col == low)
    else:
        if low is not None:
            where.append(amount_col >= low)
        if high is not None:
            where.append(amount_col <= high)
    if filters.tag_ids:
        where.append(_tagged(user_id, filters, Expense.transaction_id if filters.flow == "spending" else Transaction.id))
    stmt = stmt.where(*where)
    if keys:
        stmt = stmt.group_by(*[key_cols[k] for k in keys])
    return stmt


def _rollup_select(session: Session, model, user_id: int, filters: SpendingFilters, start: date, end: date,
                   keys: list[str], categories, grain: str, *, bands: tuple[int, int] | None = None,
                   payee_text: str = "") -> Select:
    """A GROUP BY over one of the roll-ups: MonthlyRollup, AmountRollup and PayeeAmountRollup (``bands``:
    first and last band kept), PayeeRollup (``payee_text``: payees containing it), DailyRollup (any
    days) or DailyPayeeRollup (any days, and ``payee_text``)."""
    r = model
    by_day = model in (DailyRollup, FxDailyRollup, DailyPayeeRollup)
    period = r.day if by_day else r.month
    if by_day:
        bucket = date_bucket(session, r.day, grain)
    elif session.get_bind().dialect.name == "sqlite":
        bucket = r.month
    else:
        bucket = func.to_char(r.month, "YYYY-MM-DD")
    key_cols = {"bucket": bucket}
    by_band_only = model in (PayeeAmountRollup, FxPayeeAmountRollup)   # no account, no category
    if not by_band_only:
        key_cols.update(category_id=r.category_id, account_id=r.account_id)
    if by_day:
        key_cols["day"] = r.day
    if model in (PayeeRollup, PayeeAmountRollup, FxPayeeRollup, FxPayeeAmountRollup, DailyPayeeRollup):
        key_cols["payee"] = r.payee
    if model in (AmountRollup, PayeeAmountRollup, FxAmountRollup, FxPayeeAmountRollup):
        key_cols["band"] = r.band
    stmt = select(*[key_cols[k].label(k) for k in keys], func.sum(r.total_cents).label("total_cents"),
                  func.sum(r.row_count).label("row_count"))
    where = [r.user_id == user_id, r.flow == filters.flow, period >= start, period <= end]
    if not by_band_only:   # (which are only asked without account and category filters)
        where += _common_where((period, r.account_id, r.category_id), filters, categories)
    if bands is not None:
        where.append(r.band.between(*bands))
    if payee_text:
        names = _remembered(session, ("payees", user_id, filters.flow, payee_text), start, end)
        where.append(one_of(session, r.payee, names) if names is not None else contains(session, r.payee, payee_text))
    stmt = stmt.where(*where)
    if keys:
        stmt = stmt.group_by(*[key_cols[k] for k in keys])
    return stmt


def _split_months(start: date, end: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """The whole months inside [start, end], and the partial-month edges left over."""
    first_full = start if start.day == 1 else month_start(add_months(start, 1))
    last_full_end = end if end == month_end(end) else month_start(end) - timedelta(days=1)
    if first_full > last_full_end:
        return None, [(start, end)]
    edges = []
    if start < first_full:
        edges.append((start, first_full - timedelta(days=1)))
    if last_full_end < end:
        edges.append((last_full_end + timedelta(days=1), end))
    return (first_full, month_start(last_full_end)), edges


def _covered_bands(low: Decimal | None, high: Decimal | None) -> tuple[int, int] | None:
    """The first and last amount band lying wholly inside [low, high] (None: no whole band)."""
    low_cents = None if low is None else int(low * 100)
    high_cents = None if high is None else int(high * 100)
    inside = []
    for band in range(len(BAND_EDGES) + 1):
        band_low, band_high = band_bounds(band)
        if low_cents is not None and (band_low is None or band_low < low_cents):
            continue
        if high_cents is not None and (band_high is None or band_high - 1 > high_cents):
            continue
        inside.append(band)
    return (inside[0], inside[-1]) if inside else None


def _parts(session: Session, user_id: int, filters: SpendingFilters, start: date, end: date, keys: list[str],
           categories) -> list[Select]:
    """The GROUP BYs whose UNION ALL is the answer: roll-ups wherever they answer exactly, raw rows
    (through an index) for the rest.

    - no row filter: whole months from MonthlyRollup (PayeeRollup when grouped by payee), any days
      (weeks, the edges of a custom range) from DailyRollup (DailyPayeeRollup by payee);
    - text: the payees that contain it from PayeeRollup (DailyPayeeRollup for the partial-month
      edges), plus the raw rows whose description (only) contains it, found through the full-text
      index;
    - amount range: the whole bands inside it from AmountRollup (PayeeAmountRollup for payees, when no
      account or category is chosen), plus the raw rows of the slivers at its two ends
      (ix_expenses_user_amount);
    - weekly or by-day views with a row filter, text and amount together, and the partial-month
      edges of amount-filtered views: raw rows."""
    grain = filters.effective_grain
    daily = "day" in keys or ("bucket" in keys and grain != "month")
    has_text = bool(filters.text)
    has_amount = filters.min_amount is not None or filters.max_amount is not None
    by_payee = "payee" in keys

    def raw(a, b, **kw):
        return _raw_select(session, user_id, filters, a, b, keys, categories, grain, **kw)

    if filters.tag_ids:
        return [raw(start, end)]   # no roll-up knows tags
    if rollup.stale(session, user_id):   # inside a writing transaction: the rows, as they are now
        return [raw(start, end)]

    if not has_text and not has_amount and not by_payee:
        if daily:
            return [_rollup_select(session, DailyRollup, user_id, filters, start, end, keys, categories, grain)]
        whole, edges = _split_months(start, end)
        parts = [_rollup_select(session, MonthlyRollup, user_id, filters, whole[0], whole[1], keys, categories,
                                grain)] if whole else []
        return parts + [_rollup_select(session, DailyRollup, user_id, filters, a, b, keys, categories, grain)
                        for a, b in edges]
    if not has_text and not has_amount and daily:   # by payee and day or week
        return [_rollup_select(session, DailyPayeeRollup, user_id, filters, start, end, keys, categories, grain)]
    by_payee_band = by_payee and has_amount and not filters.account_ids and not filters.category_ids
    if daily or (has_text and has_amount) or (by_payee and has_amount and not by_payee_band):
        return [raw(start, end)]
    whole, edges = _split_months(start, end)
    if has_amount:
        parts = [raw(a, b) for a, b in edges]
    else:   # payees, or a text search: the edges' days as the whole months below, by day
        parts = []
        for a, b in edges:
            parts.append(_rollup_select(session, DailyPayeeRollup, user_id, filters, a, b, keys, categories, grain,
                                        payee_text=filters.text))
            if has_text and _may_match_descriptions(session, user_id, filters.text, a, b):
                parts.append(raw(a, b, description_only=True))
    if whole is None:
        return parts
    whole_end = month_end(whole[1])
    if not has_amount:   # payees, or a text search: the payee roll-up, plus description-only matches
        parts.append(_rollup_select(session, PayeeRollup, user_id, filters, whole[0], whole[1], keys, categories,
                                    grain, payee_text=filters.text))
        if has_text and _may_match_descriptions(session, user_id, filters.text, whole[0], whole_end):
            parts.append(raw(whole[0], whole_end, description_only=True))
        return parts
    bands = _covered_bands(filters.min_amount, filters.max_amount)
    if bands is None:
        return parts + [raw(whole[0], whole_end)]
    parts.append(_rollup_select(session, PayeeAmountRollup if by_payee else AmountRollup, user_id, filters,
                                whole[0], whole[1], keys, categories, grain, bands=bands))
    return parts + [raw(whole[0], whole_end, amount_range=r) for r in _slivers(filters, bands)]


def _slivers(filters: SpendingFilters, bands: tuple[int, int]) -> list[tuple[Decimal | None, Decimal | None]]:
    """The amount ranges of an amount filter outside the whole bands it covers (read from raw rows)."""
    covered_low, _ = band_bounds(bands[0])
    _, covered_high = band_bounds(bands[1])
    cent = Decimal("0.01")
    out = []
    if covered_low is not None and (filters.min_amount is None or filters.min_amount * 100 < covered_low):
        out.append((filters.min_amount, Decimal(covered_low) / 100 - cent))
    if covered_high is not None and (filters.max_amount is None or filters.max_amount * 100 >= covered_high):
        out.append((Decimal(covered_high) / 100, filters.max_amount))
    return out


def aggregate(session: Session, user_id: int, filters: SpendingFilters, keys: list[str], *,
              start: date | None = None, end: date | None = None, order_by_total: bool = False,
              limit: int | None = None, conversion: fx.Conversion | None = None,
              parents: dict[int, int | None] | None = None) -> pd.DataFrame:
    """SUM and COUNT of the flow's amounts grouped by ``keys`` (category_id, bucket, day, payee,
    account_id) over [start, end] (default: the filters' range), in the user's base currency.

    One currency (every chosen account in the base currency): one SQL statement (see _parts), nothing
    else. Several: the same statement for the accounts in the base currency, UNION ALL the other
    accounts' rows grouped by the keys and fx.CONVERSION_UNIT (day, account, category), each group
    converted in SQL at its day's rate (services/fx.py: converted_select), then grouped by the keys:
    still one statement, as few rows out. Money without a rate is left out and recorded in
    ``conversion``."""
    start = start or filters.start
    end = end or filters.end
    currencies = fx.account_currencies(session, user_id)
    base_ids, foreign_ids = currencies.split(filters.account_ids)
    if not foreign_ids:
        categories = _category_ids(session, user_id, filters, parents)
        parts = _parts(session, user_id, filters, start, end, keys, categories)
        if len(parts) == 1:   # one GROUP BY answers it: no second GROUP BY around it
            stmt = parts[0]
            if order_by_total:
                chosen = stmt.selected_columns
                stmt = stmt.order_by(chosen.total_cents.desc(), *[chosen[k] for k in keys])
            if limit:
                stmt = stmt.limit(limit)
            return _frame(session.execute(stmt).all(), keys)
        return _frame(session.execute(_grouped(union_all(*parts).subquery(), keys, order_by_total=order_by_total,
                                               limit=limit)).all(), keys)
    fast = _from_converted_rollups(session, user_id, filters, keys, start, end, currencies, base_ids, foreign_ids,
                                   order_by_total, limit, conversion, parents)
    if fast is not None:
        return fast
    unit = _conversion_unit(filters, keys)
    foreign = _grouped(_union(session, user_id, replace(filters, account_ids=foreign_ids), unit, start, end, parents),
                       unit).subquery()
    book = fx.load_rates(session, user_id, {currencies.base, *(currencies.mapping[i] for i in foreign_ids)},
                         start, end)
    converted = fx.converted_select(session, currencies, foreign_ids, book, foreign, keys, start, end)
    if converted is not None:
        parts = [converted.select]
        if base_ids:
            native = _grouped(_union(session, user_id, replace(filters, account_ids=base_ids), keys, start, end, parents),
                              keys)
            parts.append(native.add_columns(literal(0).label("overflow")))
        combined = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        rows = session.execute(_grouped(combined, keys, order_by_total=order_by_total, limit=limit,
                                        overflow=True)).all()
        if not any(row[-1] for row in rows):   # else a product beyond 64 bits (SQLite): exactly, in Python
            if conversion is not None:
                converted.record(session, conversion)
            return _frame([row[:-1] for row in rows], keys)
    return _converted_in_python(session, user_id, filters, keys, start, end, currencies, base_ids, foreign_ids,
                                book, order_by_total, limit, conversion, parents)


_FX_KEYS = {"bucket", "day", "category_id", "account_id", "payee"}


def _conversion_unit(filters: SpendingFilters, keys: list[str]) -> list[str]:
    """``keys`` and the groups converted one by one: (day, account, category), plus the payee under a text
    filter and the amount band under an amount filter, so that a filtered view's groups are those the
    converted roll-ups hold (services/fx_rollup.py) and both ways give the same integers."""
    unit = [*fx.CONVERSION_UNIT]
    if filters.text:
        unit.append("payee")
    if filters.min_amount is not None or filters.max_amount is not None:
        unit.append("band")
    return [*keys, *(k for k in unit if k not in keys)]


def _from_converted_rollups(session, user_id, filters, keys, start, end, currencies, base_ids, foreign_ids,
                            order_by_total, limit, conversion, parents) -> pd.DataFrame | None:
    """``aggregate`` for several currencies from the converted roll-ups (services/fx_rollup.py: the same
    groups converted the same way, summed per month ahead of time), the way ``_parts`` answers one
    currency: whole months from FxMonthRollup / FxPayeeRollup; a text search from the payees containing
    it (FxPayeeRollup) plus the description-only matches converted at read time; an amount range from the
    whole bands inside it (FxAmountRollup / FxPayeeAmountRollup) plus the slivers at its ends converted at
    read time; the partial-month edges converted at read time (few days: the factor table holds only
    the days converted); UNION ALL the base-currency accounts' usual parts: one statement, one frame.
    None when they cannot answer (weeks or days, tags, text and amount together, no whole month, a
    missing rate, roll-ups not computed for the present currencies and rates): then everything is
    converted at read time."""
    has_text = bool(filters.text)
    has_amount = filters.min_amount is not None or filters.max_amount is not None
    by_payee = "payee" in keys
    daily = "day" in keys or ("bucket" in keys and filters.effective_grain != "month")
    if (filters.tag_ids or (has_text and has_amount) or not set(keys) <= _FX_KEYS
            or (daily and (filters.row_filtered or by_payee)) or rollup.stale(session, user_id)):
        return None
    whole, edges = _split_months(start, end)
    if whole is not None:
        whole = (whole[0], month_end(whole[1]))   # _split_months names the last whole month by its first day
    elif filters.row_filtered or by_payee:
        return None
    bands = _covered_bands(filters.min_amount, filters.max_amount) if has_amount else None
    if has_amount and (bands is None or (by_payee and (filters.account_ids or filters.category_ids))):
        return None
    if not fx_rollup.usable(session, user_id, currencies, foreign_ids, start, end):
        return None
    categories = _category_ids(session, user_id, filters, parents)
    converted = replace(filters, account_ids=foreign_ids)
    unit = _conversion_unit(filters, keys)
    grain = filters.effective_grain

    def rolled(model, a, b, **kw):
        return _rollup_select(session, model, user_id, converted, a, b, keys, categories, grain, **kw)

    def raw(**kw):
        return _raw_select(session, user_id, converted, whole[0], whole[1], unit, categories, "month", **kw)

    read_time: list[Select] = []   # groups of the conversion unit, converted at read time
    if daily or whole is None:   # any days, no row filter: the converted daily groups
        ready = [rolled(FxDailyRollup, start, end)]
        edges = []
    elif has_amount:
        ready = [rolled(FxPayeeAmountRollup if by_payee else FxAmountRollup, *whole, bands=bands)]
        read_time = [raw(amount_range=r) for r in _slivers(filters, bands)]
    elif has_text:
        ready = [rolled(FxPayeeRollup, *whole, payee_text=filters.text)]
        if _may_match_descriptions(session, user_id, filters.text, *whole):
            read_time = [raw(description_only=True)]
    else:
        ready = [rolled(FxPayeeRollup if by_payee else FxMonthRollup, *whole)]
    for a, b in edges:
        if filters.row_filtered or by_payee:   # the raw rows, converted at read time
            read_time.append(_grouped(_union(session, user_id, converted, unit, a, b, parents), unit))
        else:   # the converted daily groups
            ready.append(rolled(FxDailyRollup, a, b))
    if base_ids:   # the base-currency accounts' parts as with one currency, side by side with the others
        ready += _parts(session, user_id, replace(filters, account_ids=base_ids), start, end, keys, categories)
    # The few groups converted at read time (slivers, description-only matches, raw edges): read once and
    # converted in Python (fx.convert_frame: the rule converted_select applies in SQL), then added to the
    # statement's answer; without them the statement orders and cuts the answer itself.
    extra = None
    if read_time:
        grouped = (read_time[0] if len(read_time) == 1 else union_all(*read_time)).subquery()
        got = session.execute(select(grouped)).all()
        if got:
            frame = _frame(got, unit)
            book = fx.load_rates(session, user_id, {currencies.base, *(currencies.mapping[i] for i in foreign_ids)},
                                 min(frame["day"]), max(frame["day"]))
            extra = fx.convert_frame(frame, currencies, book, conversion)
    combined = union_all(*ready).subquery() if len(ready) > 1 else ready[0].subquery()
    if extra is None:
        stmt = _grouped(combined, keys, order_by_total=order_by_total, limit=limit)
    else:
        stmt = _grouped(combined, keys)
    answer = _frame(session.execute(stmt).all(), keys)
    if conversion is not None:
        conversion.converted_from |= {currencies.mapping[a] for a in foreign_ids}   # the accounts converted
    if extra is None:
        return answer
    extra = extra[[*keys, "total_cents", "row_count"]]
    return _summed_frames([answer, extra], keys, order_by_total, limit)


def _summed_frames(frames: list[pd.DataFrame], keys: list[str], order_by_total: bool, limit: int | None) -> pd.DataFrame:
    """Frames of (keys, total_cents, row_count) summed by the keys, optionally ordered by the total
    (largest first, then the keys) and cut to ``limit`` rows."""
    combined = pd.concat(frames, ignore_index=True)
    if keys:
        combined = combined.groupby(keys, as_index=False, dropna=False, sort=True)[["total_cents", "row_count"]].sum()
    else:
        combined = pd.DataFrame({"total_cents": [int(combined["total_cents"].sum())],
                                 "row_count": [int(combined["row_count"].sum())]})
    if order_by_total:
        combined = combined.sort_values(["total_cents", *keys], ascending=[False, *([True] * len(keys))],
                                        kind="stable")
    if limit:
        combined = combined.head(limit)
    combined = combined.reset_index(drop=True)[[*keys, "total_cents", "row_count"]]
    # (an empty frame's object columns would turn the ids of the others into floats)
    for name in ("total_cents", "row_count", *(k for k in ("category_id", "account_id") if k in keys)):
        combined[name] = combined[name].astype("int64")
    return combined


def _converted_in_python(session, user_id, filters, keys, start, end, currencies, base_ids, foreign_ids, book,
                         order_by_total, limit, conversion, parents=None) -> pd.DataFrame:
    """``aggregate`` for several currencies with the groups converted in Python (fx.convert_frame): the
    same rule as converted_select, for the rare group whose product does not fit SQLite's integers.
    Also the reference the tests hold the SQL path to."""
    unit = _conversion_unit(filters, keys)
    foreign = _frame(session.execute(_grouped(_union(session, user_id, replace(filters, account_ids=foreign_ids),
                                                     unit, start, end, parents), unit)).all(), unit)
    parts = [fx.convert_frame(foreign, currencies, book, conversion)]
    if base_ids:
        parts.append(_frame(session.execute(_grouped(_union(
            session, user_id, replace(filters, account_ids=base_ids), keys, start, end, parents), keys)).all(), keys))
    return _summed_frames(parts, keys, order_by_total, limit)


def _union(session: Session, user_id: int, filters: SpendingFilters, keys: list[str], start: date, end: date,
           parents: dict[int, int | None] | None = None):
    """The parts (see _parts) as one subquery."""
    categories = _category_ids(session, user_id, filters, parents)
    parts = _parts(session, user_id, filters, start, end, keys, categories)
    return parts[0].subquery() if len(parts) == 1 else union_all(*parts).subquery()


def _grouped(combined, keys: list[str], *, order_by_total: bool = False, limit: int | None = None,
             overflow: bool = False) -> Select:
    """SUM of total_cents and row_count (and overflow) of a subquery, grouped by ``keys``."""
    key_cols = [combined.c[k] for k in keys]
    total = func.sum(combined.c.total_cents)
    stmt = select(*key_cols, total.label("total_cents"), func.sum(combined.c.row_count).label("row_count"))
    if overflow:
        stmt = stmt.add_columns(func.sum(combined.c.overflow).label("overflow"))
    if keys:
        stmt = stmt.group_by(*key_cols)
    if order_by_total:
        stmt = stmt.order_by(total.desc(), *key_cols)
    if limit:
        stmt = stmt.limit(limit)
    return stmt


def _frame(rows, keys: list[str]) -> pd.DataFrame:
    """The GROUP BY's rows as a frame: integer cents and counts, category ids (0 for none), dates.
    Built column by column from plain lists (a frame from Row objects costs milliseconds)."""
    if not keys and not rows:
        rows = [(0, 0)]
    data: dict[str, list] = {}
    for i, key in enumerate(keys):
        values = [r[i] for r in rows]
        if key == "category_id":
            values = [UNCATEGORIZED if v is None else int(v) for v in values]
        elif key in ("bucket", "day"):
            values = _dates(values)
        data[key] = values
    n = len(keys)
    data["total_cents"] = [int(r[n] or 0) for r in rows]
    data["row_count"] = [int(r[n + 1] or 0) for r in rows]
    return _typed_frame(data, keys)


def _typed_frame(data: dict[str, list], keys: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(data, columns=[*keys, "total_cents", "row_count"])
    for name in ("total_cents", "row_count", *(["category_id"] if "category_id" in keys else [])):
        frame[name] = frame[name].astype("int64")
    return frame


def _dates(values: list) -> list[date]:
    """Dates from what the database hands back for a day or month key (a date, or ISO text)."""
    seen: dict = {}
    out = []
    for v in values:
        if v not in seen:
            seen[v] = v if isinstance(v, date) and not isinstance(v, datetime) else (
                v.date() if isinstance(v, datetime) else date.fromisoformat(str(v)[:10]))
        out.append(seen[v])
    return out


def _summed(frame: pd.DataFrame, keys: list[str], *, week_or_month: str | None = None) -> pd.DataFrame:
    """The frame's cents and counts summed by ``keys``, sorted by them (a groupby in plain Python: these
    frames hold a few hundred rows). With ``week_or_month`` the "day" column becomes "bucket": the
    Monday of its week ("week") or the first of its month."""
    def bucket(day: date) -> date:
        return day - timedelta(days=day.weekday()) if week_or_month == "week" else day.replace(day=1)

    source = ["day" if (k == "bucket" and week_or_month) else k for k in keys]
    columns = [frame[k].tolist() for k in source]
    if week_or_month:
        at = source.index("day")
        columns[at] = [bucket(d) for d in columns[at]]
    sums: dict[tuple, list[int]] = {}
    for key, amount, count in zip(zip(*columns), frame["total_cents"].tolist(), frame["row_count"].tolist()):
        total = sums.setdefault(key, [0, 0])
        total[0] += amount
        total[1] += count
    ordered = sorted(sums)
    data = {k: [key[i] for key in ordered] for i, k in enumerate(keys)}
    data["total_cents"] = [sums[key][0] for key in ordered]
    data["row_count"] = [sums[key][1] for key in ordered]
    return _typed_frame(data, keys)


def _to_buckets(frame: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Daily totals (already grouped in SQL) into weeks (Monday) or months."""
    keys = ["bucket"] + [k for k in frame.columns if k not in ("day", "total_cents", "row_count")]
    return _summed(frame, keys, week_or_month=grain)


# --- the explorer's whole update -----------------------------------------------------------------

@dataclass
class Exploration:
    filters: SpendingFilters
    categories: pd.DataFrame       # the user's category tree (id, name, parent_id, color, ...)
    by_category: pd.DataFrame      # leaf level: category_id, total_cents, row_count
    over_time: pd.DataFrame        # bucket, category_id, total_cents
    payees: pd.DataFrame           # payee, total_cents, row_count (top 10)
    previous: pd.DataFrame         # category_id, total_cents for the previous period
    previous_range: tuple[date, date]
    total_cents: int
    row_count: int
    comparison: Comparison | None = None  # what the period is compared with (partial when running)
    # Accounts in other currencies than the base: what was converted and what had no rate (else None)
    conversion: fx.Conversion | None = None
    previous_conversion: fx.Conversion | None = None

    @property
    def empty(self) -> bool:
        return self.row_count == 0

    @property
    def lists_nothing(self) -> bool:
        """No row matches at all: none in the totals, and none left out of them for want of a rate
        (those still belong in the grid, in their own currency)."""
        return self.empty and (self.conversion is None or self.conversion.complete)


@cached  # per (user, data version, filters, today): see services/cache.py
def explore(session: Session, user_id: int, filters: SpendingFilters, today: date | None = None) -> Exploration:
    """Everything the explorer draws: three GROUP BYs (over time by category, top payees, the previous
    period by category), each answered from the roll-ups wherever they are exact (see _parts). A running
    period is compared with the same days of the previous one (services/periods.compare)."""
    grain = filters.effective_grain
    time_key = "bucket" if grain == "month" else "day"
    currencies = fx.account_currencies(session, user_id)
    converting = bool(currencies.split(filters.account_ids)[1])
    conversion = fx.Conversion(currencies.base) if converting else None
    previous_conversion = fx.Conversion(currencies.base) if converting else None
    categories = category_frame(session, user_id)
    tree = parents_map(categories) if filters.category_ids else None   # read once for the three reads
    comparison = compare(filters.start, filters.end, today or date.today())
    prev_start, prev_end = comparison.previous
    # (Several currencies too: the converted payee roll-up and the read-time groups take the same lists.)
    remember_text_matches(session, user_id, filters, min(filters.start, prev_start), max(filters.end, prev_end))
    over_time = aggregate(session, user_id, filters, [time_key, "category_id"], parents=tree, conversion=conversion)
    if time_key == "day":
        over_time = _to_buckets(over_time, grain)
    payees = aggregate(session, user_id, filters, ["payee"], order_by_total=True, limit=10, parents=tree)
    by_category = _summed(over_time, ["category_id"])
    previous = aggregate(session, user_id, filters, ["category_id"], start=prev_start, end=prev_end, parents=tree,
                         conversion=previous_conversion)
    return Exploration(
        filters=filters,
        categories=categories,
        by_category=by_category,
        over_time=over_time,
        payees=payees,
        previous=previous,
        previous_range=(prev_start, prev_end),
        comparison=comparison,
        total_cents=int(by_category["total_cents"].sum()) if not by_category.empty else 0,
        row_count=int(by_category["row_count"].sum()) if not by_category.empty else 0,
        conversion=conversion,
        previous_conversion=previous_conversion,
    )


def drilled_node(categories: pd.DataFrame, filters: SpendingFilters) -> int | None:
    """The category the explorer is drilled into: the one selected category, when there is one."""
    selected = set(filters.category_ids) - {UNCATEGORIZED}
    if len(selected) != 1 or len(filters.category_ids) != 1:
        return None
    only = next(iter(selected))
    return only if only in set(int(c) for c in categories["id"]) else None


def display_level(categories: pd.DataFrame, filters: SpendingFilters) -> dict[int, int]:
    """Map each category id to the node the charts show it under, at any depth of the tree.

    No category filter: the top-level categories. Drilled into one category: its children (each
    descendant under the child on its way down; the category's own spending under itself).
    Several categories selected: the categories themselves."""
    parents = parents_map(categories)
    drilled = drilled_node(categories, filters)
    mapping: dict[int, int] = {}
    for cid in parents:
        path = path_to(parents, cid)
        if drilled is not None:
            if drilled in path:
                below = path[path.index(drilled) + 1:]
                mapping[cid] = below[0] if below else drilled
            else:
                mapping[cid] = cid
        elif filters.category_ids:
            mapping[cid] = cid
        else:
            mapping[cid] = path[0]
    mapping[UNCATEGORIZED] = UNCATEGORIZED
    return mapping


def breadcrumb(categories: pd.DataFrame, filters: SpendingFilters) -> list[tuple[str, tuple[int, ...]]]:
    """[(label, category_ids to select)] from "All" down through every level to the drilled category."""
    trail = [("All categories", ())]
    selected = list(filters.category_ids)
    if len(selected) != 1:
        if selected:
            trail.append((f"{len(selected)} categories", tuple(selected)))
        return trail
    only = selected[0]
    if only == UNCATEGORIZED:
        return trail + [("Uncategorized", (UNCATEGORIZED,))]
    names = dict(zip(categories["id"].astype(int), categories["name"], strict=True))
    if only not in names:
        return trail
    return trail + [(names[node], (node,)) for node in path_to(parents_map(categories), only)]


# --- rows ----------------------------------------------------------------------------------------

SORTABLE = {"date", "amount_cents", "payee", "category", "account", "description"}


def _rows_select(session: Session, user_id: int, filters: SpendingFilters) -> Select:
    """The matching rows with their category id; the category's label (its whole path, at any
    depth) is put on by ``_category_labels`` after the page is read."""
    categories = _category_ids(session, user_id, filters)
    if filters.flow == "income":
        date_col, amount_col, category_col, account_col, row_id = (
            Transaction.date, Transaction.amount, Transaction.category_id, Transaction.account_id, Transaction.id)
        stmt = select(row_id.label("id"), Transaction.id.label("transaction_id"))
        base_where = [Transaction.user_id == user_id, Transaction.kind == "income"]
        stmt = stmt.select_from(Transaction)
    else:
        date_col, amount_col, category_col, account_col, row_id = (
            Expense.date, Expense.amount, Expense.category_id, Expense.account_id, Expense.id)
        stmt = select(row_id.label("id"), Expense.transaction_id.label("transaction_id")).select_from(Expense).join(
            Transaction, and_(Transaction.id == Expense.transaction_id, Transaction.user_id == Expense.user_id))
        base_where = [Expense.user_id == user_id]
    stmt = (stmt.add_columns(date_col.label("date"), Transaction.payee.label("payee"),
                             Transaction.description.label("description"),
                             category_col.label("category_id"), Account.name.label("account"),
                             cents(amount_col).label("amount_cents"), Account.currency.label("currency"),
                             # the transaction's foreign amount (a card statement's), for the download,
                             # signed like the row's amount (spending positive)
                             (cents(Transaction.original_amount) if filters.flow == "income"
                              else -cents(Transaction.original_amount)).label("original_cents"),
                             Transaction.original_currency.label("original_currency"))
            .join(Account, Account.id == account_col))
    where = base_where + [date_col >= filters.start, date_col <= filters.end]
    where += _common_where((date_col, account_col, category_col), filters, categories)
    if filters.text:
        where.append(or_(contains(session, Transaction.payee, filters.text),
                         contains(session, Transaction.description, filters.text)))
    if filters.min_amount is not None:
        where.append(amount_col >= filters.min_amount)
    if filters.max_amount is not None:
        where.append(amount_col <= filters.max_amount)
    if filters.tag_ids:
        where.append(_tagged(user_id, filters, Transaction.id))
    return stmt.where(*where)


UNCATEGORIZED_LABEL = "Uncategorized"


def _category_labels(session: Session, user_id: int) -> dict[int | None, str]:
    """Each category's label in the rows: its whole path ("Home › Utilities › Power"), at any depth."""
    tree = category_records(session, user_id)
    labels: dict[int | None, str] = dict(zip(tree["id"], tree["full_name"], strict=True))
    labels[None] = UNCATEGORIZED_LABEL
    return labels


def _label_order(labels: dict[int | None, str], category_col):
    """SQL: the rank of a row's category label in alphabetical order (for a sort by category)."""
    ranked = sorted(labels, key=lambda c: (labels[c].casefold(), labels[c]))
    rank = {cid: i for i, cid in enumerate(ranked) if cid is not None}
    if not rank:
        return literal(0)
    return case(rank, value=category_col, else_=ranked.index(None))


ROW_COLUMNS = ["id", "transaction_id", "date", "payee", "description", "category", "account", "amount_cents",
               "currency"]


def rows_page(session: Session, user_id: int, filters: SpendingFilters, start_row: int, end_row: int,
              sort_model: list | None = None) -> pd.DataFrame:
    """One page of matching rows (never more than 500), sorted as asked (whitelisted columns only)."""
    return pd.DataFrame(page_records(session, user_id, filters, start_row, end_row, sort_model), columns=ROW_COLUMNS)


def page_records(session: Session, user_id: int, filters: SpendingFilters, start_row: int, end_row: int,
                 sort_model: list | None = None) -> list[dict]:
    """``rows_page`` as the grid takes it: one dict per row (ROW_COLUMNS)."""
    start_row = max(0, int(start_row or 0))
    size = max(1, min(500, int(end_row or start_row + 100) - start_row))
    stmt = _rows_select(session, user_id, filters)
    subq = stmt.subquery()
    labels = _category_labels(session, user_id)
    order = []
    for item in sort_model or []:
        col_id = item.get("colId") if isinstance(item, dict) else None
        if col_id in SORTABLE:
            column = _label_order(labels, subq.c.category_id) if col_id == "category" else subq.c[col_id]
            order.append(column.desc() if item.get("sort") == "desc" else column.asc())
    order += [subq.c.date.desc(), subq.c.id.desc()]
    rows = session.execute(select(subq).order_by(*order).offset(start_row).limit(size)).all()
    return [{"id": r.id, "transaction_id": r.transaction_id, "date": str(r.date), "payee": r.payee,
             "description": r.description, "category": labels.get(r.category_id, UNCATEGORIZED_LABEL),
             "account": r.account, "amount_cents": int(r.amount_cents), "currency": r.currency} for r in rows]


def tag_names_of(session: Session, user_id: int, transaction_id_col):
    """A correlated scalar subquery: the transaction's tag names, comma-separated ("" for none)."""
    if session.get_bind().dialect.name == "sqlite":
        joined = func.group_concat(Tag.name, ", ")
    else:
        from sqlalchemy.dialects.postgresql import aggregate_order_by
        joined = func.string_agg(Tag.name, aggregate_order_by(literal(", "), Tag.name))
    return (select(func.coalesce(joined, ""))
            .select_from(TransactionTag)
            .join(Tag, (Tag.id == TransactionTag.tag_id) & (Tag.user_id == user_id))
            .where(TransactionTag.user_id == user_id, TransactionTag.transaction_id == transaction_id_col)
            .correlate_except(Tag, TransactionTag).scalar_subquery())


class SpendingRow(NamedTuple):
    date: date
    payee: str | None
    description: str | None
    category: str
    account: str
    amount_cents: int
    currency: str   # the account's: the amount is in it
    tags: str
    original_cents: int | None = None   # the transaction's amount as charged in a foreign currency
    original_currency: str | None = None


def iter_rows(session: Session, user_id: int, filters: SpendingFilters, chunk: int = 5000) -> Iterator[SpendingRow]:
    """Every matching row, streamed in chunks (for the CSV download), newest first: date, payee,
    description, category (its whole path), account, amount_cents, currency (the account's), tags."""
    labels = _category_labels(session, user_id)
    subq = _rows_select(session, user_id, filters).subquery()
    stmt = (select(subq.c.date, subq.c.payee, subq.c.description, subq.c.category_id, subq.c.account,
                   subq.c.amount_cents, subq.c.currency, tag_names_of(session, user_id, subq.c.transaction_id).label("tags"),
                   subq.c.original_cents, subq.c.original_currency)
            .order_by(subq.c.date.desc(), subq.c.id.desc())
            .execution_options(yield_per=chunk, stream_results=True))
    for row in session.execute(stmt):
        yield SpendingRow(row.date, row.payee, row.description, labels.get(row.category_id, UNCATEGORIZED_LABEL),
                          row.account, row.amount_cents, row.currency, row.tags,
                          None if row.original_cents is None else int(row.original_cents), row.original_currency)


def with_drill(filters: SpendingFilters, category_ids: tuple[int, ...]) -> SpendingFilters:
    return replace(filters, category_ids=tuple(category_ids))


def with_month(filters: SpendingFilters, day: date) -> SpendingFilters:
    """Narrow the dates to the month (or week) containing ``day``, never outside the period shown:
    the week of 26 Oct on "last month" (November) zooms to 1 Nov alone."""
    if filters.effective_grain == "week":
        start = day - timedelta(days=day.weekday())
        start, end = clip(start, start + timedelta(days=6), filters.start, filters.end)
        return replace(filters, preset="custom", start=start, end=end, grain="week")
    start, end = clip(month_start(day), month_end(day), filters.start, filters.end)
    return replace(filters, preset="custom", start=start, end=end)
