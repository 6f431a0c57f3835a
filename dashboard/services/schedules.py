"""Schedules: the user's recurring items as python-dateutil recurrence rules, their occurrences in a
bounded window, and the link between an occurrence and the real transaction that paid it.

A rule is stored without DTSTART, UNTIL or COUNT (those are columns); it may never end, because it is
only ever expanded between two dates. What a rule may say is limited (FREQ daily to yearly and the BY
parts people use), and a rule that never produces a date (the 30th of February) is refused when it is
saved, by asking dateutil for its first date from a start moved 400 years on: the Gregorian calendar
repeats every 400 years, so the answer is the same and the search ends at dateutil's year 9999.

Paid or skipped occurrences have a row in ``schedule_occurrences``; an occurrence without one is
expected. :func:`occurrence_states` also pairs expected occurrences with matching transactions that
nobody linked yet (same account, same payee, an amount within 20 %, a date within the cadence's
tolerance), without writing: a real transaction is never counted next to the occurrence it paid, even
before :func:`link_payments` stores the pairing.

Writes validate, check ownership and flush; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dashboard.formatting import format_date
from models import Account, Category, Schedule, ScheduleOccurrence, ScheduleTag, Tag, Transaction

from . import fx
from .categories import visible_to
from .errors import Conflict, NotFound, ServiceError
from .validation import clean_text, parse_amount, parse_date, parse_id

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)
MAX_RULE = 500
MAX_COUNT = 10_000
MAX_INTERVAL = 1000
# How far the first date of a rule may lie after its start.
FIRST_WITHIN_YEARS = 30
ALLOWED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
FREQUENCIES = {"DAILY": DAILY, "WEEKLY": WEEKLY, "MONTHLY": MONTHLY, "YEARLY": YEARLY}
# The cadences people pick; "monthly" and "quarterly" keep a day after the 28th as "that day or the
# month's last" (a plain FREQ=MONTHLY from the 31st skips every shorter month).
CADENCES = {
    "weekly": "Every week",
    "biweekly": "Every two weeks",
    "monthly": "Every month",
    "month_end": "Last day of every month",
    "quarterly": "Every three months",
    "yearly": "Every year",
}
# Days a payment may come before or after its occurrence and still be the same one.
_TOLERANCE_DAYS = {DAILY: 0, WEEKLY: 2, MONTHLY: 6, YEARLY: 12}
AMOUNT_TOLERANCE = Decimal("0.20")
OVERDUE_GRACE_DAYS = 7
MAX_NAME = 100
MAX_PAYEE = 200


def cadence_rule(cadence: str, start: date) -> str:
    """The rrule text of a named cadence, anchored on ``start``."""
    if cadence == "weekly":
        return "FREQ=WEEKLY"
    if cadence == "biweekly":
        return "FREQ=WEEKLY;INTERVAL=2"
    if cadence == "month_end":
        return "FREQ=MONTHLY;BYMONTHDAY=-1"
    if cadence in ("monthly", "quarterly"):
        interval = ";INTERVAL=3" if cadence == "quarterly" else ""
        if start.day > 28:
            return f"FREQ=MONTHLY{interval};BYMONTHDAY={start.day},-1;BYSETPOS=1"
        return f"FREQ=MONTHLY{interval};BYMONTHDAY={start.day}"
    if cadence == "yearly":
        return "FREQ=YEARLY"
    raise ServiceError("Pick how often it repeats.", "cadence")


def _day(value, field: str) -> date:
    day = parse_date(value, field=field)
    if not MIN_DATE <= day <= MAX_DATE:
        raise ServiceError(f"Use a date between {MIN_DATE.year} and {MAX_DATE.year}.", field)
    return day


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # the 29th of February in a year that has none: cannot happen for +-400k
        return day.replace(year=day.year + years, day=28)


def parse_rule(text, start: date, *, field: str = "rrule") -> str:
    """A recurrence rule as canonical text, or ServiceError saying what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise ServiceError("Enter a recurrence rule, like FREQ=MONTHLY;BYMONTHDAY=1.", field)
    raw = text.strip()
    if raw.upper().startswith("RRULE:"):
        raw = raw[6:]
    if len(raw) > MAX_RULE:
        raise ServiceError(f"A rule has at most {MAX_RULE} characters.", field)
    parts = {}
    for chunk in raw.upper().split(";"):
        if not chunk:
            continue
        name, sep, value = chunk.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not value:
            raise ServiceError(f"“{chunk}” is not NAME=VALUE.", field)
        if name in ("DTSTART", "UNTIL", "COUNT"):
            raise ServiceError("Give the start, the end date and the number of times in their own fields, "
                               "not in the rule.", field)
        if name not in ALLOWED_PARTS:
            raise ServiceError(f"{name} is not supported here (use {', '.join(sorted(ALLOWED_PARTS))}).", field)
        if name in parts:
            raise ServiceError(f"{name} is given twice.", field)
        parts[name] = value
    if parts.get("FREQ") not in FREQUENCIES:
        raise ServiceError("The rule needs FREQ=DAILY, WEEKLY, MONTHLY or YEARLY.", field)
    if "INTERVAL" in parts:
        if not parts["INTERVAL"].isdigit() or not 1 <= int(parts["INTERVAL"]) <= MAX_INTERVAL:
            raise ServiceError(f"INTERVAL is a whole number from 1 to {MAX_INTERVAL}.", field)
    canonical = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rule = rrulestr(canonical, dtstart=_at(start))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ServiceError(f"That rule cannot be read: {exc}.", field) from None
    if not isinstance(rule, rrule):
        raise ServiceError("One rule only.", field)
    # Does it ever happen? Asked 400 years later (the same calendar), where the search ends quickly.
    shift = ((9600 - start.year) // 400) * 400
    try:
        probe = rrulestr(canonical, dtstart=_at(_shift_years(start, shift)))
        first = probe.after(_at(_shift_years(start, shift)), inc=True)
    except (ValueError, OverflowError):
        first = None
    if first is None or first.date() > _shift_years(start, shift + FIRST_WITHIN_YEARS):
        raise ServiceError(f"That rule never happens within {FIRST_WITHIN_YEARS} years of its start.", field)
    return canonical


@dataclass(frozen=True)
class RuleSpec:
    """What it takes to expand a schedule: the rule text and its bounds."""
    rrule: str
    start: date
    until: date | None = None
    count: int | None = None


def expand(spec: RuleSpec, window_start: date, window_end: date) -> list[date]:
    """The dates of a rule inside [window_start, window_end] (inclusive). Never unbounded: the rule is
    cut at the window's end (and at its own end or count)."""
    if window_end < window_start:
        return []
    end = min(window_end, spec.until) if spec.until else window_end
    if end < spec.start:
        return []
    rule = rrulestr(spec.rrule, dtstart=_at(spec.start))
    rule = rule.replace(until=_at(end)) if spec.count is None else rule.replace(count=spec.count)
    days = []
    for moment in rule.xafter(_at(max(window_start, spec.start)), inc=True):
        day = moment.date()
        if day > end:
            break
        days.append(day)
    return days


def spec_of(schedule) -> RuleSpec:
    return RuleSpec(schedule.rrule, schedule.start_date, schedule.until, schedule.count)


def tolerance_days(rule_text: str) -> int:
    freq = FREQUENCIES.get(next((p.split("=")[1] for p in rule_text.split(";") if p.startswith("FREQ=")), ""),
                           MONTHLY)
    return _TOLERANCE_DAYS[freq]


# ---------------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------------

def get_schedule(session: Session, user_id: int, schedule_id) -> Schedule:
    sid = parse_id(schedule_id, field="schedule")
    schedule = session.scalar(select(Schedule).where(Schedule.id == sid, Schedule.user_id == user_id))
    if schedule is None:
        raise NotFound("Unknown schedule.", "schedule")
    return schedule


def _account(session: Session, user_id: int, value) -> int:
    aid = parse_id(value, field="account")
    if session.scalar(select(Account.id).where(Account.id == aid, Account.user_id == user_id)) is None:
        raise NotFound("Unknown account.", "account")
    return aid


def _category(session: Session, user_id: int, value, kind: str) -> int | None:
    if value in (None, ""):
        return None
    cid = parse_id(value, field="category")
    row = session.execute(select(Category.id, Category.kind, Category.name)
                          .where(Category.id == cid, visible_to(user_id))).first()
    if row is None:
        raise NotFound("Unknown category.", "category")
    if row.kind != kind:
        raise ServiceError(f"“{row.name}” is an {row.kind} category, not {kind}.", "category")
    return cid


def _count(value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ServiceError("The number of times is a whole number.", "count")
    number = int(str(value).strip())
    if not 1 <= number <= MAX_COUNT:
        raise ServiceError(f"The number of times is from 1 to {MAX_COUNT:,}.", "count")
    return number


def _signed(amount, kind: str) -> Decimal:
    value = parse_amount(amount, field="amount", allow_negative=True, allow_zero=False)
    return -abs(value) if kind == "expense" else abs(value)


def _values(session: Session, user_id: int, *, name, account_id, amount, kind, rrule=None, cadence=None,
            start_date, until=None, count=None, category_id=None, payee="") -> dict:
    if kind not in ("expense", "income"):
        raise ServiceError("Choose expense or income.", "kind")
    start = _day(start_date, "start_date")
    end = _day(until, "until") if until not in (None, "") else None
    if end is not None and end < start:
        raise ServiceError("The end date is before the start.", "until")
    text = rrule if rrule not in (None, "") else cadence_rule(cadence or "", start)
    values = dict(
        name=clean_text(name, field="name", max_length=MAX_NAME, required=True),
        payee=clean_text(payee, field="payee", max_length=MAX_PAYEE),
        kind=kind,
        amount=_signed(amount, kind),
        account_id=_account(session, user_id, account_id),
        category_id=_category(session, user_id, category_id, kind),
        rrule=parse_rule(text, start),
        start_date=start,
        until=end,
        count=_count(count),
    )
    if not expand(RuleSpec(values["rrule"], start, end, values["count"]), start, end or MAX_DATE)[:1]:
        raise ServiceError("With these dates the schedule never happens.", "until")
    # In the account's currency: no finer than its minor unit (no half yen), like every transaction.
    fx.check_amount(values["amount"], session.scalar(select(Account.currency).where(
        Account.id == values["account_id"], Account.user_id == user_id)))
    return values


def create_schedule(session: Session, user_id: int, **fields) -> Schedule:
    """A new schedule. ``amount`` is typed positive; an expense is stored negative. Give ``rrule`` (text)
    or ``cadence`` (a key of CADENCES); ``tags``: names (comma-separated text or a list)."""
    tags = fields.pop("tags", None)
    schedule = Schedule(user_id=user_id, **_values(session, user_id, **fields))
    session.add(schedule)
    session.flush()
    if tags not in (None, "", []):
        set_schedule_tags(session, user_id, schedule.id, tags)
    return schedule


def set_schedule_tags(session: Session, user_id: int, schedule_id, names) -> list[str]:
    """Replace the schedule's tags by ``names`` (new names become tags); returns the names kept."""
    from .tags import resolve_tags
    schedule = get_schedule(session, user_id, schedule_id)
    if names is not None and not isinstance(names, (str, list)):
        raise ServiceError("Tags are names separated by commas.", "tags")
    if isinstance(names, list) and not all(isinstance(n, str) for n in names):
        raise ServiceError("Tags are names separated by commas.", "tags")
    ids = resolve_tags(session, user_id, None, names or [])
    session.execute(delete(ScheduleTag).where(ScheduleTag.user_id == user_id,
                                              ScheduleTag.schedule_id == schedule.id))
    for tag_id in ids:
        session.add(ScheduleTag(user_id=user_id, schedule_id=schedule.id, tag_id=tag_id))
    session.flush()
    return sorted(session.scalars(select(Tag.name).where(Tag.user_id == user_id, Tag.id.in_(ids))), key=str.casefold)


def tags_by_schedule(session: Session, user_id: int) -> dict[int, list[str]]:
    """The user's schedules' tag names, by schedule id."""
    out: dict[int, list[str]] = {}
    for sid, name in session.execute(
            select(ScheduleTag.schedule_id, Tag.name)
            .join(Tag, and_(Tag.id == ScheduleTag.tag_id, Tag.user_id == ScheduleTag.user_id))
            .where(ScheduleTag.user_id == user_id).order_by(ScheduleTag.schedule_id, func.lower(Tag.name))).all():
        out.setdefault(int(sid), []).append(name)
    return out


def update_schedule(session: Session, user_id: int, schedule_id, *, expected_version, **fields) -> Schedule:
    """Change a schedule's fields (as create_schedule takes them, ``tags`` too); ``expected_version`` is the
    version the user edited, so a change made meanwhile is refused, not overwritten."""
    schedule = get_schedule(session, user_id, schedule_id)
    tags = fields.pop("tags", None)
    if str(schedule.version) != str(expected_version):
        raise Conflict("Someone changed this schedule meanwhile; reload to see the current values.", schedule)
    current = dict(name=schedule.name, account_id=schedule.account_id, amount=abs(schedule.amount),
                   kind=schedule.kind, rrule=schedule.rrule, start_date=schedule.start_date, until=schedule.until,
                   count=schedule.count, category_id=schedule.category_id, payee=schedule.payee)
    unknown = set(fields) - set(current) - {"cadence"}
    if unknown:
        raise ServiceError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    if "cadence" in fields and "rrule" not in fields:
        current["rrule"] = None
    for field, value in _values(session, user_id, **{**current, **fields}).items():
        setattr(schedule, field, value)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise Conflict("Someone changed this schedule meanwhile; reload to see the current values.") from None
    if tags is not None:
        set_schedule_tags(session, user_id, schedule.id, tags)
    return schedule


def set_paused(session: Session, user_id: int, schedule_id, paused: bool) -> Schedule:
    schedule = get_schedule(session, user_id, schedule_id)
    schedule.paused = bool(paused)
    session.flush()
    return schedule


def end_schedule(session: Session, user_id: int, schedule_id, until) -> Schedule:
    """Stop the schedule after ``until`` (its last possible date)."""
    schedule = get_schedule(session, user_id, schedule_id)
    end = _day(until, "until")
    if end < schedule.start_date:
        raise ServiceError("The end date is before the start.", "until")
    schedule.until = end
    session.flush()
    return schedule


def delete_schedule(session: Session, user_id: int, schedule_id) -> None:
    schedule = get_schedule(session, user_id, schedule_id)
    session.execute(delete(Schedule).where(Schedule.id == schedule.id, Schedule.user_id == user_id))
    session.expire_all()


def _is_occurrence(schedule: Schedule, day: date) -> bool:
    return day in expand(spec_of(schedule), day, day)


def skip_occurrence(session: Session, user_id: int, schedule_id, day) -> ScheduleOccurrence:
    """Skip one occurrence: it is neither expected nor forecast."""
    schedule = get_schedule(session, user_id, schedule_id)
    on = _day(day, "date")
    if not _is_occurrence(schedule, on):
        raise ServiceError(f"{schedule.name} does not happen on {format_date(on)}.", "date")
    existing = session.scalar(select(ScheduleOccurrence).where(ScheduleOccurrence.schedule_id == schedule.id,
                                                               ScheduleOccurrence.occurs_on == on))
    if existing is not None:
        if existing.status == "paid":
            raise ServiceError("That occurrence is already paid.", "date")
        return existing
    row = ScheduleOccurrence(user_id=user_id, schedule_id=schedule.id, occurs_on=on, status="skipped")
    session.add(row)
    session.flush()
    return row


def unskip_occurrence(session: Session, user_id: int, schedule_id, day) -> None:
    schedule = get_schedule(session, user_id, schedule_id)
    on = _day(day, "date")
    session.execute(delete(ScheduleOccurrence).where(
        ScheduleOccurrence.user_id == user_id, ScheduleOccurrence.schedule_id == schedule.id,
        ScheduleOccurrence.occurs_on == on, ScheduleOccurrence.status == "skipped"))


def link_transaction(session: Session, user_id: int, schedule_id, day, transaction_id) -> ScheduleOccurrence:
    """Record that a transaction of the user paid one occurrence (by hand, or from a match)."""
    schedule = get_schedule(session, user_id, schedule_id)
    on = _day(day, "date")
    if not _is_occurrence(schedule, on):
        raise ServiceError(f"{schedule.name} does not happen on {format_date(on)}.", "date")
    tid = parse_id(transaction_id, field="transaction")
    if session.scalar(select(Transaction.id).where(Transaction.id == tid, Transaction.user_id == user_id)) is None:
        raise NotFound("Unknown transaction.", "transaction")
    taken = session.scalar(select(ScheduleOccurrence.id).where(ScheduleOccurrence.transaction_id == tid))
    if taken is not None:
        raise ServiceError("That transaction already pays another occurrence.", "transaction")
    session.execute(delete(ScheduleOccurrence).where(
        ScheduleOccurrence.user_id == user_id, ScheduleOccurrence.schedule_id == schedule.id,
        ScheduleOccurrence.occurs_on == on))
    row = ScheduleOccurrence(user_id=user_id, schedule_id=schedule.id, occurs_on=on, status="paid",
                             transaction_id=tid)
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------------

SCHEDULE_COLUMNS = ["id", "name", "payee", "kind", "amount_cents", "account_id", "account", "category_id",
                    "rrule", "start_date", "until", "count", "paused", "version"]


def schedules_frame(session: Session, user_id: int, *, account_id: int | None = None,
                    include_paused: bool = True) -> pd.DataFrame:
    from .sql import cents
    stmt = (select(Schedule.id, Schedule.name, Schedule.payee, Schedule.kind, cents(Schedule.amount),
                   Schedule.account_id, Account.name, Schedule.category_id, Schedule.rrule, Schedule.start_date,
                   Schedule.until, Schedule.count, Schedule.paused, Schedule.version)
            .join(Account, and_(Account.id == Schedule.account_id, Account.user_id == Schedule.user_id))
            .where(Schedule.user_id == user_id).order_by(Schedule.name, Schedule.id))
    if account_id is not None:
        stmt = stmt.where(Schedule.account_id == account_id)
    if not include_paused:
        stmt = stmt.where(Schedule.paused.is_(False))
    frame = pd.DataFrame(session.execute(stmt).all(), columns=SCHEDULE_COLUMNS)
    frame["amount_cents"] = frame["amount_cents"].astype("int64")
    return frame


@dataclass(frozen=True)
class Occurrence:
    schedule_id: int
    name: str
    account_id: int
    category_id: int | None
    occurs_on: date
    amount_cents: int
    status: str                  # expected, overdue, paid, skipped
    transaction_id: int | None = None
    paid_on: date | None = None
    paid_cents: int | None = None


def _match(schedule_rows, expected: list[tuple], candidates: list[tuple]) -> dict[tuple, tuple]:
    """Pair expected occurrences (schedule_id, day) with candidate transactions (id, account_id, payee
    key, day, cents), each used once, nearest date first."""
    by_id = {r.id: r for r in schedule_rows}
    pairs = []
    for key in expected:
        schedule = by_id[key[0]]
        tolerance = tolerance_days(schedule.rrule)
        want = int(schedule.amount_cents)
        band = max(abs(want) * AMOUNT_TOLERANCE, 100)
        payee = (schedule.payee or "").strip().lower()
        for tx in candidates:
            tid, account_id, payee_key, day, cents_value = tx
            if account_id != schedule.account_id or (payee and payee_key != payee):
                continue
            if (cents_value < 0) != (want < 0) or abs(cents_value - want) > band:
                continue
            gap = abs((day - key[1]).days)
            if gap <= tolerance:
                pairs.append((gap, abs(cents_value - want), key, tx))
    pairs.sort(key=lambda p: (p[0], p[1], p[2], p[3][0]))
    used_keys, used_tx, matched = set(), set(), {}
    for _gap, _diff, key, tx in pairs:
        if key in used_keys or tx[0] in used_tx:
            continue
        used_keys.add(key)
        used_tx.add(tx[0])
        matched[key] = tx
    return matched


def occurrence_states(session: Session, user_id: int, start: date, end: date, *, today: date,
                      account_id: int | None = None, schedules: pd.DataFrame | None = None) -> list[Occurrence]:
    """Every occurrence of the user's active schedules in [start, end] with its state: paid (a stored
    link, or a matching transaction nobody linked yet), skipped, overdue (past, unpaid) or expected."""
    from .sql import cents
    frame = schedules if schedules is not None else schedules_frame(session, user_id, account_id=account_id,
                                                                    include_paused=False)
    if frame.empty:
        return []
    rows = list(frame.itertuples())
    stored = {(r.schedule_id, r.occurs_on): r for r in session.execute(
        select(ScheduleOccurrence.schedule_id, ScheduleOccurrence.occurs_on, ScheduleOccurrence.status,
               ScheduleOccurrence.transaction_id, Transaction.date, cents(Transaction.amount).label("cents"))
        .outerjoin(Transaction, and_(Transaction.id == ScheduleOccurrence.transaction_id,
                                     Transaction.user_id == ScheduleOccurrence.user_id))
        .where(ScheduleOccurrence.user_id == user_id, ScheduleOccurrence.occurs_on >= start,
               ScheduleOccurrence.occurs_on <= end,
               ScheduleOccurrence.schedule_id.in_([int(r.id) for r in rows]))).all()}
    occurrences = []
    for r in rows:
        for day in expand(RuleSpec(r.rrule, r.start_date, r.until, None if pd.isna(r.count) else int(r.count)),
                          start, end):
            occurrences.append((r, day))
    # Expected occurrences up to a few days ahead may already be paid by a transaction nobody linked.
    open_keys = [(int(r.id), day) for r, day in occurrences if (int(r.id), day) not in stored
                 and day <= today + timedelta(days=max(_TOLERANCE_DAYS.values()))]
    matched = {}
    if open_keys:
        matched = _match(rows, open_keys, _candidates(session, user_id, rows, open_keys))
    out = []
    for r, day in occurrences:
        key = (int(r.id), day)
        base = dict(schedule_id=int(r.id), name=r.name, account_id=int(r.account_id),
                    category_id=None if pd.isna(r.category_id) else int(r.category_id), occurs_on=day,
                    amount_cents=int(r.amount_cents))
        if key in stored:
            s = stored[key]
            out.append(Occurrence(**base, status=s.status, transaction_id=s.transaction_id, paid_on=s.date,
                                  paid_cents=None if s.cents is None else int(s.cents)))
        elif key in matched:
            tx = matched[key]
            out.append(Occurrence(**base, status="paid", transaction_id=tx[0], paid_on=tx[3], paid_cents=tx[4]))
        else:
            out.append(Occurrence(**base, status="overdue" if day < today else "expected"))
    out.sort(key=lambda o: (o.occurs_on, o.name, o.schedule_id))
    return out


def _candidates(session: Session, user_id: int, rows, keys: list[tuple]) -> list[tuple]:
    """Transactions that could pay one of ``keys`` and pay no occurrence yet: (id, account_id, payee key,
    date, cents). One query; each schedule adds (account, payee, date range) to an OR."""
    from .sql import cents
    by_id = {int(r.id): r for r in rows}
    spans: dict[int, list[date]] = {}
    for sid, day in keys:
        spans.setdefault(sid, []).append(day)
    payee_key = func.lower(func.trim(Transaction.payee))
    conditions = []
    for sid, days in spans.items():
        r = by_id[sid]
        tol = timedelta(days=tolerance_days(r.rrule))
        parts = [Transaction.account_id == int(r.account_id), Transaction.date >= min(days) - tol,
                 Transaction.date <= max(days) + tol]
        if (r.payee or "").strip():
            parts.append(payee_key == r.payee.strip().lower())
        conditions.append(and_(*parts))
    linked = select(ScheduleOccurrence.transaction_id).where(ScheduleOccurrence.user_id == user_id,
                                                             ScheduleOccurrence.transaction_id.is_not(None))
    lo = min(d for days in spans.values() for d in days) - timedelta(days=max(_TOLERANCE_DAYS.values()))
    hi = max(d for days in spans.values() for d in days) + timedelta(days=max(_TOLERANCE_DAYS.values()))
    stmt = (select(Transaction.id, Transaction.account_id, payee_key, Transaction.date, cents(Transaction.amount))
            .where(Transaction.user_id == user_id, Transaction.date >= lo, Transaction.date <= hi,
                   Transaction.kind != "transfer", or_(*conditions), Transaction.id.not_in(linked))
            .order_by(Transaction.date, Transaction.id)
            .limit(5000))
    return [(int(t[0]), int(t[1]), t[2] or "", t[3], int(t[4])) for t in session.execute(stmt).all()]


def link_payments(session: Session, user_id: int, today: date, *, days_back: int = 62) -> int:
    """Store the links :func:`occurrence_states` finds for the last ``days_back`` days (and the next few);
    returns how many were stored. Flushes; the caller commits."""
    states = occurrence_states(session, user_id, today - timedelta(days=days_back),
                               today + timedelta(days=max(_TOLERANCE_DAYS.values())), today=today)
    stored = {(r[0], r[1]) for r in session.execute(
        select(ScheduleOccurrence.schedule_id, ScheduleOccurrence.occurs_on)
        .where(ScheduleOccurrence.user_id == user_id)).all()}
    added = 0
    for occ in states:
        if occ.status == "paid" and (occ.schedule_id, occ.occurs_on) not in stored:
            session.add(ScheduleOccurrence(user_id=user_id, schedule_id=occ.schedule_id, occurs_on=occ.occurs_on,
                                           status="paid", transaction_id=occ.transaction_id))
            added += 1
    if added:
        session.flush()
    return added


def upcoming(session: Session, user_id: int, today: date, days: int = 30) -> pd.DataFrame:
    """Bills and income of the next ``days`` days (and unpaid ones of the last week): schedule_id, name,
    occurs_on, amount_cents, status, paid_on, paid_cents. Paid occurrences stay in the list, marked."""
    states = occurrence_states(session, user_id, today - timedelta(days=OVERDUE_GRACE_DAYS),
                               today + timedelta(days=days), today=today)
    rows = [o for o in states if o.occurs_on >= today or o.status in ("overdue", "paid")]
    columns = ["schedule_id", "name", "account_id", "occurs_on", "amount_cents", "status", "paid_on", "paid_cents"]
    return pd.DataFrame([{c: getattr(o, c) for c in columns} for o in rows], columns=columns)


def next_expected(session: Session, user_id: int, schedule_id, today: date) -> date | None:
    """The schedule's next occurrence from today on that is neither paid nor skipped."""
    schedule = get_schedule(session, user_id, schedule_id)
    frame = schedules_frame(session, user_id)
    frame = frame[frame["id"] == schedule.id]
    for horizon in (62, 800):
        states = occurrence_states(session, user_id, today, today + timedelta(days=horizon), today=today,
                                   schedules=frame)
        for occ in states:
            if occ.status == "expected":
                return occ.occurs_on
    return None


def skip_next(session: Session, user_id: int, schedule_id, today: date) -> ScheduleOccurrence:
    """Skip the next expected occurrence."""
    day = next_expected(session, user_id, schedule_id, today)
    if day is None:
        raise ServiceError("This schedule has no occurrence left to skip.", "schedule")
    return skip_occurrence(session, user_id, schedule_id, day)
