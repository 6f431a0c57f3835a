"""The Transactions page's service: the grid's reads (filtered, sorted, paged in SQL) and the mapping of
its inline edits, its add form and its split editor onto dashboard.services.transactions, which keeps
the expense invariants for every write.

A page of the grid is one query: the user's transactions, filtered on the server, ordered by a
whitelisted column with ``id`` as the tie-breaker, LIMIT/OFFSET in a subquery (served in date order by
the ``(user_id, date)`` index, so the first page of a million rows reads ~100 index entries, not the
table), and only then joined to the account and category names of those rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import and_, func, literal, literal_column, null, or_, select, union
from sqlalchemy.orm import Session

from models import Account, Expense, Transaction, TransactionTag, to_cents

from . import transactions as tx_service
from .categories import get_category, with_descendants
from .errors import ServiceError
from .filters import contains, ids_param, ordered_range, parse_ids, parse_iso_date, search_text
from .sql import cents, cents_sum
from .validation import clean_text, parse_amount, parse_id

KINDS = ("expense", "income", "transfer")
KIND_LABELS = {"expense": "Expense", "income": "Income", "transfer": "Transfer"}
UNCATEGORIZED = 0  # the id the filter uses for "no category"
MAX_PAGE = 500
MAX_SPLIT_LINES = 8


# --- filters ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerFilters:
    start: date | None = None
    end: date | None = None
    account_ids: tuple[int, ...] = ()
    category_ids: tuple[int, ...] = ()
    text: str = ""
    kind: str = ""  # "" = every kind
    tag_ids: tuple[int, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.start or self.end or self.account_ids or self.category_ids or self.text or self.kind
                    or self.tag_ids)


def parse_filters(query, *, strict: bool = False) -> LedgerFilters:
    """Filters from the filter controls or a URL query: ``from``, ``to`` (ISO dates), ``accounts``,
    ``categories`` (ids, comma-separated or a list; 0 = uncategorised), ``tags`` (ids, any of them),
    ``kind``, ``q``. Malformed values
    are dropped; with ``strict`` an end before the start raises ServiceError."""
    query = query if isinstance(query, dict) else {}
    start, end = ordered_range(parse_iso_date(query.get("from")), parse_iso_date(query.get("to")), strict=strict)
    kind = query.get("kind") if query.get("kind") in KINDS else ""
    return LedgerFilters(start=start, end=end, account_ids=parse_ids(query.get("accounts")),
                         category_ids=parse_ids(query.get("categories")), text=search_text(query.get("q")),
                         kind=kind, tag_ids=parse_ids(query.get("tags")))


def filters_to_query(filters: LedgerFilters) -> dict:
    query: dict[str, str] = {}
    if filters.start:
        query["from"] = filters.start.isoformat()
    if filters.end:
        query["to"] = filters.end.isoformat()
    if filters.account_ids:
        query["accounts"] = ids_param(filters.account_ids)
    if filters.category_ids:
        query["categories"] = ids_param(filters.category_ids)
    if filters.kind:
        query["kind"] = filters.kind
    if filters.text:
        query["q"] = filters.text
    if filters.tag_ids:
        query["tags"] = ",".join(map(str, filters.tag_ids))
    return query


def _rare(session: Session, condition):
    """Tell SQLite's planner that few rows match ``condition`` (it then uses that column's index)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.likelihood(condition, literal_column("0.001"))  # a constant, as SQLite requires
    return condition


def _in_categories(session: Session, user_id: int, filters: LedgerFilters):
    """The category filter: the transactions of the chosen categories (a parent selects its whole
    subtree; a split matches by any of its lines) and, for UNCATEGORIZED, those with no category on the
    row or any line. One ``id IN (a UNION of id lists)``: PostgreSQL joins it as a semi-join. (Written as
    ``category_id IN (...) OR id IN (lines ...)`` it could not: the OR kept the lines' subquery a
    SubPlan, re-run for every row once its ids outgrew work_mem: a minute at 1M rows.) No index carries
    category_id (migration 0022): each list is the user's rows in the filter's dates, read by date."""
    chosen = set(filters.category_ids)
    wants_none = UNCATEGORIZED in chosen
    chosen.discard(UNCATEGORIZED)

    def dated(column) -> list:   # the filter's dates (a line has its transaction's date)
        return [*([column >= filters.start] if filters.start else []), *([column <= filters.end] if filters.end else [])]

    t_dates, e_dates = dated(Transaction.date), dated(Expense.date)
    lists = []
    ids = with_descendants(session, user_id, chosen) if chosen else set()
    if ids:   # only categories the user may see
        lists.append(select(Transaction.id).where(Transaction.user_id == user_id, *t_dates,
                                                  Transaction.category_id.in_(ids)))
        lists.append(select(Expense.transaction_id).where(Expense.user_id == user_id, *e_dates,
                                                          Expense.category_id.in_(ids)))
    if wants_none:
        lined = select(Expense.id).where(Expense.transaction_id == Transaction.id, Expense.user_id == user_id,
                                         Expense.category_id.is_not(None))
        lists.append(select(Transaction.id).where(Transaction.user_id == user_id, *t_dates,
                                                  Transaction.category_id.is_(None), Transaction.kind != "transfer",
                                                  ~lined.exists()))
    if not lists:
        return literal(False)
    return Transaction.id.in_(lists[0] if len(lists) == 1 else union(*lists))


def _where(session: Session, user_id: int, filters: LedgerFilters) -> list:
    where = [Transaction.user_id == user_id]
    if filters.start:
        where.append(Transaction.date >= filters.start)
    if filters.end:
        where.append(Transaction.date <= filters.end)
    if filters.account_ids:
        condition = Transaction.account_id.in_(filters.account_ids)
        where.append(_rare(session, condition) if _likely_rare(session, user_id, filters) else condition)
    if filters.kind:
        where.append(Transaction.kind == filters.kind)
        if filters.kind == "transfer":  # the same rows (a check constraint), and it has an index
            where.append(_rare(session, Transaction.transfer_group.is_not(None)))
    if filters.category_ids:
        where.append(_in_categories(session, user_id, filters))
    if filters.tag_ids:
        where.append(Transaction.id.in_(select(TransactionTag.transaction_id).where(
            TransactionTag.user_id == user_id, TransactionTag.tag_id.in_(filters.tag_ids))))
    if filters.text:
        where.append(or_(contains(session, Transaction.payee, filters.text),
                         contains(session, Transaction.description, filters.text)))
    return where


# --- reads ---------------------------------------------------------------------------------------

# Grid column id -> the transactions column it sorts by (anything else is ignored).
SORTABLE = {"date": "date", "payee": "payee", "description": "description", "amount": "amount",
            "amount_cents": "amount", "kind": "kind", "kind_label": "kind"}

PAGE_COLUMNS = ["id", "version", "date", "payee", "description", "kind", "amount_cents", "account_id",
                "account", "category_id", "category", "lines", "transfer_group", "currency", "original_cents",
                "original_currency"]


def _order(sort_model) -> list[tuple[str, bool]]:
    """[(column key, descending)] from the grid's sort model: whitelisted columns only, then date and id
    (newest first) so that every page has a stable order."""
    order, seen = [], set()
    for item in sort_model if isinstance(sort_model, list) else []:
        col_id = item.get("colId") if isinstance(item, dict) else None
        if isinstance(col_id, str) and col_id in SORTABLE and SORTABLE[col_id] not in seen:
            seen.add(SORTABLE[col_id])
            order.append((SORTABLE[col_id], item.get("sort") == "desc"))
    if "date" not in seen:
        order.append(("date", True))
    order.append(("id", True))
    return order


SMALL_SELECTION = 20_000  # rows of the chosen accounts that are cheap to sort by date


def _likely_rare(session: Session, user_id: int, filters: LedgerFilters) -> bool:
    """Whether SQLite should read the chosen accounts' rows from (user_id, account_id, date, ...)
    rather than walk the user's whole (user_id, date) index: always for one account (that index is in
    date order for it), for several when they hold few rows. SQLite has no statistics to know."""
    if not filters.account_ids or session.get_bind().dialect.name != "sqlite":
        return False
    if len(filters.account_ids) == 1:
        return True
    probe = (select(literal(1)).where(Transaction.user_id == user_id, Transaction.account_id.in_(filters.account_ids))
             .limit(SMALL_SELECTION + 1).subquery())
    return session.scalar(select(func.count()).select_from(probe)) <= SMALL_SELECTION


def page_query(session: Session, user_id: int, filters: LedgerFilters, start_row: int, size: int, sort_model=None):
    """The SELECT for one page (exposed for EXPLAIN in the benchmarks)."""
    order = _order(sort_model)
    tx_columns = {"date": Transaction.date, "payee": Transaction.payee, "description": Transaction.description,
                  "amount": Transaction.amount, "kind": Transaction.kind, "id": Transaction.id}
    inner = (select(Transaction.id, Transaction.version, Transaction.date, Transaction.payee,
                    Transaction.description, Transaction.kind, cents(Transaction.amount).label("amount_cents"),
                    Transaction.account_id, Transaction.category_id, Transaction.transfer_group,
                    cents(Transaction.original_amount).label("original_cents"), Transaction.original_currency)
             .where(*_where(session, user_id, filters))
             .order_by(*[tx_columns[k].desc() if desc else tx_columns[k].asc() for k, desc in order])
             .offset(start_row).limit(size)
             .subquery())
    lines = (select(func.count(Expense.id)).where(Expense.transaction_id == inner.c.id,
                                                   Expense.user_id == user_id)
             .correlate(inner).scalar_subquery())
    outer_columns = {**{k: inner.c[k] for k in ("date", "payee", "description", "kind", "id")},
                     "amount": inner.c.amount_cents}
    return (select(inner.c.id, inner.c.version, inner.c.date, inner.c.payee, inner.c.description, inner.c.kind,
                   inner.c.amount_cents, inner.c.account_id, Account.name.label("account"), inner.c.category_id,
                   null().label("category"), lines.label("lines"), inner.c.transfer_group,
                   Account.currency.label("currency"), inner.c.original_cents, inner.c.original_currency)
            .select_from(inner)
            .join(Account, and_(Account.id == inner.c.account_id, Account.user_id == user_id))
            .order_by(*[outer_columns[k].desc() if desc else outer_columns[k].asc() for k, desc in order]))


def rows_page(session: Session, user_id: int, filters: LedgerFilters, start_row, end_row,
              sort_model=None) -> pd.DataFrame:
    """One page of the user's matching transactions (never more than 500 rows), newest first unless a
    whitelisted sort is asked for. Money as integer cents."""
    start = max(0, int(start_row or 0))
    size = max(1, min(MAX_PAGE, int(end_row if end_row is not None else start + 100) - start))
    rows = session.execute(page_query(session, user_id, filters, start, size, sort_model)).all()
    frame = pd.DataFrame(rows, columns=PAGE_COLUMNS)
    from .tags import tags_by_transaction
    tags = tags_by_transaction(session, user_id, frame["id"].tolist()) if not frame.empty else {}
    frame["tags"] = [", ".join(tags.get(int(i), [])) for i in frame["id"]] if not frame.empty else []
    if not frame.empty:
        from .categories import category_records
        tree = category_records(session, user_id)   # labels are whole paths, at any depth
        paths = dict(zip(tree["id"], tree["full_name"], strict=True))
        frame["category"] = [None if pd.isna(c) else paths.get(int(c)) for c in frame["category_id"]]
        frame["date"] = frame["date"].astype(str)
        frame["amount_cents"] = frame["amount_cents"].astype("int64")
        frame["lines"] = frame["lines"].astype("int64")
    return frame


def has_original_amounts(session: Session, user_id: int) -> bool:
    """Whether any of the user's transactions keeps a card statement's foreign amount (read from a
    partial index of only those rows: no scan when there are none)."""
    return session.scalar(select(literal(1)).where(Transaction.user_id == user_id,
                                                   Transaction.original_amount.is_not(None)).limit(1)) is not None


def summary(session: Session, user_id: int, filters: LedgerFilters) -> dict[str, int]:
    """How many transactions match, and their sum (cents): money in minus money out. ``by_currency``:
    the sum per account currency when the matching rows are in more than one (amounts in different
    currencies are not added up; the explorer converts)."""
    where = _where(session, user_id, filters)
    row = session.execute(select(func.count(), cents_sum(Transaction.amount)).where(*where)).one()
    out = {"count": int(row[0] or 0), "total_cents": int(row[1] or 0)}
    currencies = session.execute(select(Account.currency).where(Account.user_id == user_id)
                                 .group_by(Account.currency)).all()
    if len(currencies) > 1:
        per = session.execute(
            select(Account.currency, cents_sum(Transaction.amount))
            .join(Account, and_(Account.id == Transaction.account_id, Account.user_id == Transaction.user_id))
            .where(*where).group_by(Account.currency).order_by(Account.currency)).all()
        if len(per) > 1:
            out["by_currency"] = {c: int(v or 0) for c, v in per}
    return out


def grid_records(frame: pd.DataFrame) -> list[dict]:
    """Page rows as the grid's records: ``category_id`` is the key of the grid's category labels
    (an id, "" for none, "split" for a split, "transfer"), ``amount`` an exact string for editing."""
    records = []
    for row in frame.itertuples():
        if row.kind == "transfer":
            key = "transfer"
        elif int(row.lines) > 1:
            key = "split"
        elif pd.notna(row.category_id):
            key = str(int(row.category_id))
        else:
            key = ""
        records.append({
            "id": int(row.id), "version": int(row.version), "date": row.date, "payee": row.payee,
            "description": row.description, "kind": row.kind, "kind_label": "Refund" if row.kind == "expense" and row.amount_cents > 0
            else KIND_LABELS.get(row.kind, row.kind),
            "amount_cents": int(row.amount_cents), "amount": units(int(row.amount_cents)),
            "account_id": int(row.account_id), "account": row.account, "category_id": key,
            "category": row.category if isinstance(row.category, str) else None, "lines": int(row.lines),
            "tags": getattr(row, "tags", ""), "currency": row.currency,  # the account's: amounts are in it
            # A card statement's foreign amount, in its own currency (None for most rows).
            "original_cents": None if pd.isna(row.original_cents) else int(row.original_cents),
            "original_currency": row.original_currency if isinstance(row.original_currency, str) else None,
        })
    return records


def units(cents_value: int) -> str:
    """Integer cents as an exact plain amount string ("-45.10"), for editing."""
    sign = "-" if cents_value < 0 else ""
    whole, part = divmod(abs(int(cents_value)), 100)
    return f"{sign}{whole}.{part:02d}"


def category_choices(session: Session, user_id: int) -> list[dict]:
    """Every category the user sees: id, label (its full path, "Home › Utilities › Power"), kind,
    hidden (a built-in the user hid: shown on rows, not offered); spending ones first."""
    from .categories import category_choices as choices
    out = [{"id": c["id"], "kind": c["kind"], "label": c["label"], "hidden": c.get("hidden", False)}
           for c in choices(session, user_id, include_hidden=True)]
    return sorted(out, key=lambda c: (c["kind"] != "expense", c["label"].lower()))


def transaction_detail(session: Session, user_id: int, transaction_id) -> dict:
    """One transaction with its expense lines, for the split editor: id, version, date, payee, kind,
    amount_cents, account, lines [{category_id, amount_cents (spending positive), memo}]."""
    tx = tx_service.get_transaction(session, user_id, transaction_id)
    lines = session.execute(select(Expense.category_id, cents(Expense.amount), Expense.memo)
                            .where(Expense.transaction_id == tx.id, Expense.user_id == user_id)
                            .order_by(Expense.id)).all()
    account = session.scalar(select(Account.name).where(Account.id == tx.account_id, Account.user_id == user_id))
    return {"id": tx.id, "version": tx.version, "date": tx.date, "payee": tx.payee, "kind": tx.kind,
            "amount_cents": to_cents(tx.amount), "account": account,
            "lines": [{"category_id": r[0], "amount_cents": int(r[1]), "memo": r[2]} for r in lines]}


# --- writes (do not commit) ------------------------------------------------------------------------

# Grid column -> update_transaction field. Only these can change, whatever the client sends.
EDITABLE_COLUMNS = {"date": "date", "payee": "payee", "description": "description", "category_id": "category_id",
                    "amount": "amount"}
COLUMN_LABELS = {"date": "Date", "payee": "Payee", "description": "Description", "category_id": "Category",
                 "amount": "Amount"}


def edit_cell(session: Session, user_id: int, transaction_id, *, expected_version, column, value) -> Transaction:
    """One inline edit of the grid, through services.transactions.update_transaction (which reloads the
    row by id and user, checks the version and keeps the expense lines in step)."""
    if column not in EDITABLE_COLUMNS:
        raise ServiceError("That column cannot be edited.", "column")
    tx = tx_service.get_transaction(session, user_id, transaction_id)
    changes: dict = {}
    if column == "category_id":
        if tx.kind == "transfer":
            raise ServiceError("A transfer has no category.", "category")
        if len(tx.expenses) > 1 and tx.version == expected_version:
            raise ServiceError("This transaction is split: use “Split…” to change its categories.", "category")
        if value in (None, "", UNCATEGORIZED, str(UNCATEGORIZED)):
            changes["category_id"] = None
        else:
            category = get_category(session, user_id, value)
            changes["category_id"] = category.id
            if category.kind != tx.kind:  # an income category makes it income, and back
                changes["kind"] = category.kind
    elif column == "amount":
        if isinstance(value, (dict, list, bool)) or value is None:
            raise ServiceError("Enter an amount.", "amount")
        changes["amount"] = parse_amount(value, allow_negative=True)
    else:
        if not isinstance(value, (str, type(None))):
            raise ServiceError("Enter text.", column)
        changes[EDITABLE_COLUMNS[column]] = value
    return tx_service.update_transaction(session, user_id, tx.id, expected_version=expected_version, **changes)


def create_entry(session: Session, user_id: int, *, kind, account_id, date, amount, to_account_id=None,
                 category_id=None, payee="", description="", to_amount=None) -> list[Transaction]:
    """The add form: spending (a positive amount is money spent, a negative one a refund), income (a
    positive amount), or a transfer between two of the user's accounts (two linked legs)."""
    if kind not in KINDS:
        raise ServiceError("Choose spending, income or a transfer.", "kind")
    if kind == "transfer":
        legs = tx_service.create_transfer(session, user_id, from_account_id=account_id, to_account_id=to_account_id,
                                          date=date, amount=amount, description=description, to_amount=to_amount)
        return list(legs)
    value = parse_amount(amount, allow_negative=kind == "expense", allow_zero=False)
    category = None if category_id in (None, "") else category_id
    tx = tx_service.create_transaction(session, user_id, account_id=account_id, date=date,
                                       amount=-value if kind == "expense" else value, kind=kind,
                                       category_id=category, payee=payee, description=description)
    return [tx]


def save_splits(session: Session, user_id: int, transaction_id, *, expected_version, lines) -> Transaction:
    """Replace an expense's lines with ``lines`` [{category_id, amount, memo}] (spending positive);
    blank lines are skipped; the lines must add up to what was spent."""
    if not isinstance(lines, list):
        raise ServiceError("No split lines.", "splits")
    tx = tx_service.get_transaction(session, user_id, transaction_id)
    if tx.kind != "expense":
        raise ServiceError("Only spending can be split across categories.", "splits")
    splits = []
    for index, line in enumerate(lines[:MAX_SPLIT_LINES]):
        line = line if isinstance(line, dict) else {}
        amount, category = line.get("amount"), line.get("category_id")
        if (amount is None or str(amount).strip() == "") and category in (None, ""):
            continue
        value = parse_amount(amount, field=f"line {index + 1}", allow_negative=True, allow_zero=False)
        cid = None if category in (None, "", UNCATEGORIZED) else parse_id(category, field="category")
        splits.append(tx_service.Split(cid, value, clean_text(line.get("memo"), field="memo", max_length=200)))
    if not splits:
        raise ServiceError("Enter at least one line.", "splits")
    return tx_service.update_transaction(session, user_id, tx.id, expected_version=expected_version, splits=splits)


def split_remaining(total_cents: int, amounts) -> tuple[int | None, str | None]:
    """(cents still to assign, or None; a message about a line that is not an amount)."""
    assigned = 0
    for index, amount in enumerate(amounts if isinstance(amounts, list) else []):
        if amount is None or str(amount).strip() == "":
            continue
        try:
            assigned += to_cents(parse_amount(amount, allow_negative=True))
        except ServiceError as exc:
            return None, f"Line {index + 1}: {exc.message}"
    return total_cents - assigned, None
