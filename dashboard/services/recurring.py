"""Recurring payments found in the history: suggestions to confirm (they become schedules), edit or
dismiss (they never come back).

SQL first. How often each payee (the clean name: trimmed, lower case) was paid, and in which months,
comes from the payee roll-up (a GROUP BY over a small table); payees too frequent to be a bill (a
coffee shop) or too rare are dropped there. A payee bought from at random can still hold a fixed-price
subscription (a monthly 14.99 membership at a shop): one GROUP BY of the raw rows by payee and exact
amount keeps, in its HAVING clause, only groups of at least five evenly spaced payments 5 to 100 days apart on
average. Only the dates and amounts of the remaining groups are read (a third, narrow query), and the
cadence is found on those short lists in Python (:func:`detect_cadence`): weekly, every two weeks,
monthly (a day of the month, the last day or the last weekday), every two months, quarterly, yearly; a
few days' drift are tolerated. Each suggestion has a confidence, the next date and amount, and the
price changes seen.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
from dateutil.rrule import rrulestr
from sqlalchemy import Integer, and_, case, func, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from models import DismissedRecurring, Schedule, Transaction

from .cache import cached
from .errors import NotFound, ServiceError
from .periods import month_end
from .schedules import _at, cadence_rule, create_schedule, link_transaction
from .sql import cents

HISTORY_DAYS = 730
MIN_CONFIDENCE = 0.6
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Cadence:
    name: str
    label: str
    nominal: float      # days
    low: int            # an interval in [low, high] fits
    high: int
    min_count: int
    per_year: float


CADENCES = (
    Cadence("weekly", "Weekly", 7, 5, 9, 4, 52),
    Cadence("biweekly", "Every two weeks", 14, 11, 17, 3, 26),
    Cadence("monthly", "Monthly", 30.44, 25, 35, 3, 12),
    Cadence("bimonthly", "Every two months", 60.9, 54, 68, 3, 6),
    Cadence("quarterly", "Quarterly", 91.3, 83, 99, 3, 4),
    Cadence("yearly", "Yearly", 365.25, 350, 380, 2, 1),
)
BY_NAME = {c.name: c for c in CADENCES}


@dataclass
class Detection:
    cadence: str
    rrule: str
    start: date              # the occurrence the last payment belongs to (a schedule starts there)
    next_date: date
    amount_cents: int
    confidence: float
    count: int
    last_date: date
    price_changes: list[tuple[date, int, int]] = field(default_factory=list)  # (since, old, new)

    @property
    def monthly_cents(self) -> int:
        return round(self.amount_cents * BY_NAME[self.cadence].per_year / 12)

    @property
    def yearly_cents(self) -> int:
        return round(self.amount_cents * BY_NAME[self.cadence].per_year)


def _fit(gap: int, cadence: Cadence) -> float:
    """1 when a gap between two payments is one period (with drift), 0.5 when it is two (one missed)."""
    if cadence.low <= gap <= cadence.high:
        return 1.0
    if 2 * cadence.low <= gap <= 2 * cadence.high:
        return 0.5
    return 0.0


def _last_weekday(day: date) -> date:
    last = month_end(day)
    while last.weekday() >= 5:
        last -= timedelta(days=1)
    return last


def _rule_for(cadence: Cadence, days: list[date]) -> str:
    last = days[-1]
    if cadence.name in ("weekly", "biweekly"):
        weekday = Counter(d.weekday() for d in days[-6:]).most_common(1)[0][0]
        return f"FREQ=WEEKLY{';INTERVAL=2' if cadence.name == 'biweekly' else ''};BYDAY={WEEKDAYS[weekday]}"
    if cadence.name in ("monthly", "bimonthly", "quarterly"):
        interval = {"monthly": "", "bimonthly": ";INTERVAL=2", "quarterly": ";INTERVAL=3"}[cadence.name]
        recent = days[-12:]
        if all(d == _last_weekday(d) for d in recent) and any(d != month_end(d) for d in recent):
            return f"FREQ=MONTHLY{interval};BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"
        if all(d >= month_end(d) - timedelta(days=2) for d in recent) and any(d.day < 28 for d in recent) \
                or all(d == month_end(d) for d in recent) and len({d.day for d in recent}) > 1:
            return f"FREQ=MONTHLY{interval};BYMONTHDAY=-1"
        day = round(statistics.median(d.day for d in recent))
        rule = cadence_rule("monthly", last.replace(day=min(day, 28)) if day <= 28 else month_end(last))
        if day > 28:
            rule = f"FREQ=MONTHLY;BYMONTHDAY={day},-1;BYSETPOS=1"
        return rule.replace("FREQ=MONTHLY", f"FREQ=MONTHLY{interval}", 1)
    month = Counter(d.month for d in days).most_common(1)[0][0]
    day = int(statistics.median_low(d.day for d in days if d.month == month))
    return f"FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={day}"


def _close(a: int, b: int) -> bool:
    return abs(a - b) <= max(1, abs(b) // 100)


def _price_changes(days: list[date], amounts: list[int]) -> list[tuple[date, int, int]]:
    """Where a steady amount stepped to a new steady level: the two payments before the step agree, and
    so do the step and the payment after it (variable bills never qualify)."""
    changes = []
    for i in range(2, len(amounts) - 1):
        before, step, after = amounts[i - 2:i], amounts[i], amounts[i + 1]
        if _close(before[0], before[1]) and not _close(step, before[1]) and _close(after, step):
            changes.append((days[i], before[1], step))
    return changes


def detect_cadence(days: list[date], amounts: list[int], today: date, *, fixed: bool = False) -> Detection | None:
    """The cadence of one group's payments (dates ascending, signed cents), or None when they are not
    regular enough, too few, or stopped (the next date is long past). ``fixed``: the group is one amount
    band of a payee bought from at other amounts too, which only a fixed price (within 2 %) over at
    least four payments, not yearly, can make a subscription."""
    by_day: dict[date, int] = {}
    for day, amount in zip(days, amounts):
        by_day.setdefault(day, amount)
    days = sorted(by_day)
    amounts = [by_day[d] for d in days]
    if len(days) < 2:
        return None
    gaps = [(b - a).days for a, b in zip(days, days[1:])]
    best, best_score = None, 0.0
    for cadence in CADENCES:
        if len(days) < cadence.min_count:
            continue
        score = sum(_fit(g, cadence) for g in gaps) / len(gaps)
        if score > best_score:
            best, best_score = cadence, score
    if best is None or best_score < 0.75:
        return None
    recent = [abs(a) for a in amounts[-6:]]
    mean = statistics.fmean(recent)
    spread = statistics.pstdev(recent) / mean if mean else 1.0
    if fixed and (len(days) < 4 or best.name == "yearly" or spread > 0.02):
        return None
    if len(days) == 2 and not _close(amounts[0], amounts[1]):
        return None  # two payments a year apart are a yearly bill only at the same amount
    amount_score = max(0.0, 1.0 - 2 * spread)
    count_score = min(1.0, (len(days) - 1) / (4 if best.name != "yearly" else 2))
    confidence = best_score * (0.5 + 0.5 * amount_score) * (0.6 + 0.4 * count_score)
    rule = _rule_for(best, days)
    slack = timedelta(days=best.high - int(best.nominal) + 1)
    expanded = rrulestr(rule, dtstart=_at(days[-1] - slack))
    start = expanded.after(_at(days[-1] - slack), inc=True).date()
    following = expanded.after(_at(days[-1] + timedelta(days=int(best.nominal // 2))))
    if following is None:
        return None
    next_date = following.date()
    if (today - next_date).days > best.high - best.nominal + 7:
        return None  # stopped: the next payment is well overdue
    if confidence < MIN_CONFIDENCE:
        return None
    amount = int(statistics.median_low(amounts[-3:]))
    return Detection(best.name, rule, start, next_date, amount, round(confidence, 3), len(days), days[-1],
                     _price_changes(days, amounts))


# ---------------------------------------------------------------------------------------------------
# SQL
# ---------------------------------------------------------------------------------------------------

def band_of(amount_cents: int) -> int:
    """An amount's band: its number of digits and first two digits (1549 -> 415)."""
    text = str(abs(int(amount_cents)))
    return len(text) * 100 + int(text[:2])


def _plausible(count: int, first: date, last: date, today: date) -> bool:
    """Could a group with these counts be a recurring payment at all? (weekly at most; still going.)"""
    span = (last - first).days
    if count < 2 or (today - last).days > 400:
        return False
    if count == 2:
        return span >= 340
    return count <= span / 5.5 + 2


def payee_groups(session: Session, user_id: int, today: date, days: int = HISTORY_DAYS) -> pd.DataFrame:
    """Per payee (as written) and direction: how many payments in which months, from the payee roll-up
    (no pass over the transactions): payee, sign, n, first, last."""
    from models import PayeeRollup as R

    from .periods import month_start
    since = month_start(today - timedelta(days=days))
    stmt = (select(R.payee, R.flow, func.sum(R.row_count), func.min(R.month), func.max(R.month))
            .where(R.user_id == user_id, R.flow.in_(("spending", "income")), R.month >= since, R.payee != "")
            .group_by(R.payee, R.flow))
    rows = []
    for payee, flow, n, first, last in session.execute(stmt).all():
        first = first if isinstance(first, date) else date.fromisoformat(str(first)[:10])
        last = last if isinstance(last, date) else date.fromisoformat(str(last)[:10])
        rows.append((payee, -1 if flow == "spending" else 1, int(n), max(first, today - timedelta(days=days)),
                     min(month_end(last), today)))
    return pd.DataFrame(rows, columns=["payee", "sign", "n", "first", "last"])


def _unindexed_date(session: Session):
    """transactions.date for a WHERE that must not choose the index. SQLite's planner, seeing a date
    range, prefers ix_transactions_user_date and then reads every row of the range from the table (all
    of them over two years) and sorts them for the GROUP BY: 2.5 s at 1M rows, where one pass over the
    covering index ix_transactions_user_payee_amount_date (already in payee, amount, date order, and
    searchable by payee) is what the recurring queries need. A unary + (SQLite's documented way) keeps
    the range out of the choice; PostgreSQL chooses by its own costs."""
    if session.get_bind().dialect.name == "sqlite":
        return literal_column(f"+{Transaction.__tablename__}.date", type_=Transaction.date.type)
    return Transaction.date


def exact_groups(session: Session, user_id: int, today: date, days: int = HISTORY_DAYS) -> pd.DataFrame:
    """Payments of one payee at one exact amount that look like a fixed-price subscription: at least
    five, 5 to 100 days apart on average, evenly (the gaps' coefficient of variation at most 0.3, which
    random purchases rarely reach), the last within a year: payee, amount, n, first, last.

    Two steps in one statement. The candidates: GROUP BY payee and amount over the index
    ix_transactions_user_payee_amount_date, which hands the rows over in that order (no sort; the mean
    gap is (last - first) / (n - 1), no need to order the dates). Then, for the candidates' rows only
    (looked up by (payee, amount) in the same index), the gaps from LAG() and the evenness test in
    HAVING."""
    since = today - timedelta(days=days)
    t = Transaction
    sqlite = session.get_bind().dialect.name == "sqlite"

    def days_between(later, earlier):
        return func.julianday(later) - func.julianday(earlier) if sqlite else later - earlier

    n = func.count()
    span = days_between(func.max(t.date), func.min(t.date))
    day = _unindexed_date(session)
    candidate_scope = (t.user_id == user_id, day >= since, day <= today, t.kind != "transfer", t.payee != "")
    grouped = (select(t.payee.label("payee"), t.amount.label("amount"))
               .where(*candidate_scope).group_by(t.payee, t.amount)
               .having(n >= 5, span >= 5 * (n - 1), span <= 100 * (n - 1),
                       func.max(t.date) >= today - timedelta(days=370))
               .subquery())
    # Each candidate gets a number: the gaps are then taken over (number, day), which sorts and
    # partitions faster than (payee text, amount, day) (uniform 1M set: 35,000 candidates, 350,000 rows).
    candidates = select(func.row_number().over().label("k"), grouped.c.payee, grouped.c.amount).cte("candidates")
    m = aliased(Transaction, name="m")
    ordinal = func.julianday(m.date) if sqlite else m.date
    members = (select(candidates.c.k, candidates.c.payee, candidates.c.amount, m.date.label("day"),
                      ordinal.label("ordinal"))
               .select_from(candidates)
               .join(m, and_(m.user_id == user_id, m.payee == candidates.c.payee, m.amount == candidates.c.amount,
                             m.date >= since, m.date <= today, m.kind != "transfer"))
               .subquery())
    # A whole number of days (PostgreSQL's date - date); typed so that SQLAlchemy multiplies it as one.
    gap = type_coerce(members.c.ordinal - func.lag(members.c.ordinal).over(partition_by=members.c.k,
                                                                          order_by=members.c.ordinal), Integer)
    gaps = select(members, gap.label("gap")).subquery()
    mean = func.avg(gaps.c.gap)
    # The payee and amount ride along (one value per number: min() picks it), so that no join back to the
    # candidates is needed (PostgreSQL, misjudging the few groups that pass, made it a nested loop).
    stmt = (select(func.min(gaps.c.payee), cents(func.min(gaps.c.amount)), n, func.min(gaps.c.day),
                   func.max(gaps.c.day))
            .group_by(gaps.c.k)
            .having(mean >= 5, mean <= 100, func.avg(gaps.c.gap * gaps.c.gap) <= 1.09 * mean * mean))
    frame = pd.DataFrame(session.execute(stmt).all(), columns=["payee", "amount", "n", "first", "last"])
    for column in ("first", "last"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def steady_payees(session: Session, user_id: int, today: date, payees: list[str],
                  days: int = HISTORY_DAYS) -> set[tuple[str, int]]:
    """Of ``payees`` (as written), the (payee, sign) pairs whose payment days come at steady intervals:
    two days only, or gaps whose coefficient of variation is at most 0.5 (random purchases have about
    1; a missed month or a bonus between two salaries stays under it). One statement: the distinct days
    of these payees, LAG() for the gaps, the test in HAVING; only the pairs that pass leave the
    database, and only their rows are read afterwards."""
    if not payees:
        return set()
    t = Transaction
    since = today - timedelta(days=days)
    sign = case((t.amount < 0, -1), else_=1)
    day = _unindexed_date(session)
    days_rows = (select(t.payee.label("payee"), sign.label("sign"), t.date.label("day"))
                 .where(t.user_id == user_id, day >= since, day <= today, t.kind != "transfer",
                        t.payee.in_(payees))
                 .distinct().subquery())
    previous = func.lag(days_rows.c.day).over(partition_by=(days_rows.c.payee, days_rows.c.sign),
                                              order_by=days_rows.c.day)
    if session.get_bind().dialect.name == "sqlite":
        gap = func.julianday(days_rows.c.day) - func.julianday(previous)
    else:
        gap = type_coerce(days_rows.c.day - previous, Integer)   # date - date: days (see above)
    gaps = select(days_rows.c.payee, days_rows.c.sign, gap.label("gap")).subquery()
    mean = func.avg(gaps.c.gap)
    stmt = (select(gaps.c.payee, gaps.c.sign).group_by(gaps.c.payee, gaps.c.sign)
            .having(or_(func.count() <= 2, func.avg(gaps.c.gap * gaps.c.gap) <= 1.25 * mean * mean)))
    return {(payee, int(s)) for payee, s in session.execute(stmt).all()}


def _clean(payee: str) -> str:
    return (payee or "").strip().lower()


@dataclass
class Suggestion:
    key: str
    payee: str
    payee_key: str
    sign: int
    band: int | None
    account_id: int
    category_id: int | None
    detection: Detection
    status: str = "suggested"      # or "scheduled" (a schedule already covers it)

    def as_row(self) -> dict:
        d = self.detection
        return dict(key=self.key, payee=self.payee, sign=self.sign, account_id=self.account_id,
                    category_id=self.category_id, cadence=d.cadence, cadence_label=BY_NAME[d.cadence].label,
                    rrule=d.rrule, start=d.start, next_date=d.next_date, amount_cents=d.amount_cents,
                    confidence=d.confidence, count=d.count, last_date=d.last_date,
                    monthly_cents=d.monthly_cents, yearly_cents=d.yearly_cents,
                    price_changes=list(d.price_changes), status=self.status)


SUGGESTION_COLUMNS = ["key", "payee", "sign", "account_id", "category_id", "cadence", "cadence_label", "rrule",
                      "start", "next_date", "amount_cents", "confidence", "count", "last_date", "monthly_cents",
                      "yearly_cents", "price_changes", "status"]


def suggestion_key(payee_key: str, sign: int, band: int | None) -> str:
    return f"{payee_key}|{sign}|{'*' if band is None else band}"


def find_recurring(session: Session, user_id: int, today: date, days: int = HISTORY_DAYS) -> list[Suggestion]:
    """Every recurring group in the history, dismissed ones left out, covered ones marked "scheduled"."""
    payees = payee_groups(session, user_id, today, days)
    exact = exact_groups(session, user_id, today, days)
    if payees.empty and exact.empty:
        return []
    payees["key"] = [_clean(p) for p in payees["payee"]]
    plausible: dict[tuple[str, int], list[str]] = {}
    for (key, sign), part in payees.groupby(["key", "sign"], sort=True):
        if _plausible(int(part["n"].sum()), min(part["first"]), max(part["last"]), today):
            plausible[(key, int(sign))] = sorted(set(part["payee"]))
    # Of those, the ones paid at steady intervals (a payee spelled several ways is kept as it is).
    steady = steady_payees(session, user_id, today, sorted({p for names in plausible.values() for p in names}), days)
    whole = {group for group, names in plausible.items()
             if len(names) > 1 or (names[0], group[1]) in steady}
    whole_raw = {p for group in whole for p in plausible[group]}
    # The largest fixed-price groups first, at most 100 of them.
    exact = exact.sort_values("n", ascending=False).head(100)
    fixed = {(_clean(r.payee), -1 if r.amount < 0 else 1, int(r.amount)) for r in exact.itertuples()}
    if not whole and not fixed:
        return []
    since = today - timedelta(days=days)
    amount = cents(Transaction.amount)
    day = _unindexed_date(session)   # the payees' rows from the payee index, not the whole date range
    which = []
    if whole_raw:
        which.append(Transaction.payee.in_(sorted(whole_raw)))
    if not exact.empty:  # a superset (payee in P and amount in A), narrowed to the pairs below
        which.append(and_(Transaction.payee.in_(sorted(set(exact["payee"]))),
                          amount.in_(sorted({int(a) for a in exact["amount"]}))))
    rows = session.execute(
        select(Transaction.payee, Transaction.payee, Transaction.date, amount, Transaction.account_id,
               Transaction.category_id, Transaction.id)
        .where(Transaction.user_id == user_id, day >= since, day <= today, Transaction.kind != "transfer",
               or_(*which))
        .order_by(day, Transaction.id)).all()
    by_group: dict[tuple, list] = defaultdict(list)
    for row in rows:
        key, sign, cents_value = _clean(row[0]), (-1 if row[3] < 0 else 1), int(row[3])
        if (key, sign) in whole:
            by_group[(key, sign, None)].append(row)
        if (key, sign, cents_value) in fixed:
            by_group[(key, sign, band_of(cents_value))].append(row)
    dismissed = set(session.scalars(select(DismissedRecurring.key).where(DismissedRecurring.user_id == user_id)))
    scheduled = {(p.strip().lower(), -1 if a < 0 else 1) for p, a in session.execute(
        select(Schedule.payee, cents(Schedule.amount)).where(Schedule.user_id == user_id)).all()}
    out = []
    found_whole = set()
    # Whole payees first (band None sorts before the bands): a payee found as a whole is not looked at
    # band by band.
    for (key, sign, band), members in sorted(by_group.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or 0)):
        if band is not None and (key, sign) in found_whole:
            continue
        detection = _detect_group(members, today, band is not None)
        if detection is None:
            continue
        if band is None:
            found_whole.add((key, sign))
        skey = suggestion_key(key, sign, band)
        if skey in dismissed:
            continue
        display = Counter(m[1] for m in members).most_common(1)[0][0].strip()
        account = Counter(int(m[4]) for m in members[-6:]).most_common(1)[0][0]
        categories = Counter(m[5] for m in members[-6:] if m[5] is not None).most_common(1)
        out.append(Suggestion(skey, display, key, sign, band, account, categories[0][0] if categories else None,
                              detection, "scheduled" if (key, sign) in scheduled else "suggested"))
    out.sort(key=lambda s: (-s.detection.confidence, s.payee))
    return out


def _detect_group(members: list, today: date, fixed: bool) -> Detection | None:
    """A group's cadence; for a whole payee, also from its core (the payments within 15 % of the median
    amount, when they are at least 60 % of them: a salary without the bonuses paid by the same payee),
    whichever is more certain."""
    days, amounts = [m[2] for m in members], [int(m[3]) for m in members]
    found = detect_cadence(days, amounts, today, fixed=fixed)
    if fixed or (found is not None and found.confidence >= 0.95):
        return found
    middle = statistics.median(abs(a) for a in amounts)
    core = [(d, a) for d, a in zip(days, amounts) if abs(abs(a) - middle) <= 0.15 * middle]
    if len(core) == len(days) or len(core) < max(2, 0.6 * len(days)):
        return found  # the core must be most of the payments, not a lucky few of many
    trimmed = detect_cadence([d for d, _ in core], [a for _, a in core], today)
    if trimmed is not None and (found is None or trimmed.confidence > found.confidence):
        return trimmed
    return found


@cached
def recurring_frame(session: Session, user_id: int, today: date) -> pd.DataFrame:
    """find_recurring as a frame (SUGGESTION_COLUMNS), cached per data version."""
    return pd.DataFrame([s.as_row() for s in find_recurring(session, user_id, today)], columns=SUGGESTION_COLUMNS)


# ---------------------------------------------------------------------------------------------------
# Writes: confirm, dismiss
# ---------------------------------------------------------------------------------------------------

def _find(session: Session, user_id: int, key, today: date) -> Suggestion:
    if not isinstance(key, str) or not key or len(key) > 300:
        raise NotFound("Unknown suggestion.", "suggestion")
    for suggestion in find_recurring(session, user_id, today):
        if suggestion.key == key:
            return suggestion
    raise NotFound("That suggestion is no longer there.", "suggestion")


def dismiss(session: Session, user_id: int, key, today: date) -> None:
    """Never suggest this group again."""
    suggestion = _find(session, user_id, key, today)
    session.add(DismissedRecurring(user_id=user_id, key=suggestion.key))
    session.flush()


def confirm(session: Session, user_id: int, key, today: date, **changes) -> Schedule:
    """Make a schedule of a suggestion (with the user's edits: name, amount, account_id, category_id,
    rrule or cadence), starting at the occurrence its last payment belongs to, and link that payment."""
    suggestion = _find(session, user_id, key, today)
    if suggestion.status == "scheduled":
        raise ServiceError("A schedule already covers this payee.", "suggestion")
    d = suggestion.detection
    allowed = {"name", "amount", "account_id", "category_id", "rrule", "cadence", "tags"}
    unknown = set(changes) - allowed
    if unknown:
        raise ServiceError(f"These fields cannot be set: {', '.join(sorted(unknown))}.")
    fields = dict(name=suggestion.payee[:100] or "Recurring", payee=suggestion.payee,
                  kind="income" if suggestion.sign > 0 else "expense",
                  amount=_units(abs(d.amount_cents)),
                  account_id=suggestion.account_id, category_id=suggestion.category_id, rrule=d.rrule,
                  start_date=d.start)
    if "cadence" in changes and "rrule" not in changes:
        fields.pop("rrule")
    fields.update({k: v for k, v in changes.items() if v is not None})
    schedule = create_schedule(session, user_id, **fields)
    last_tx = session.scalar(
        select(Transaction.id).where(Transaction.user_id == user_id, Transaction.date == d.last_date,
                                     func.lower(func.trim(Transaction.payee)) == suggestion.payee_key,
                                     Transaction.account_id == schedule.account_id,
                                     and_(cents(Transaction.amount) < 0) if suggestion.sign < 0
                                     else cents(Transaction.amount) > 0)
        .order_by(Transaction.id.desc()).limit(1))
    if last_tx is not None and schedule.start_date == d.start:
        try:
            link_transaction(session, user_id, schedule.id, d.start, last_tx)
        except ServiceError:
            pass  # already paying another occurrence: leave it
    return schedule


def _units(cents_value: int) -> str:
    from models import from_cents
    return str(from_cents(cents_value))


# ---------------------------------------------------------------------------------------------------
# Subscriptions and bills: what they cost a month and a year, and their price changes
# ---------------------------------------------------------------------------------------------------

SUBSCRIPTION_COLUMNS = ["name", "source", "cadence", "amount_cents", "monthly_cents", "yearly_cents",
                        "next_date", "price_changes"]


def rule_label(rule: str) -> str:
    """A short name for a rule: the cadence people know, or the rule itself."""
    known = {
        "FREQ=WEEKLY": "Weekly", "FREQ=WEEKLY;INTERVAL=2": "Every two weeks", "FREQ=MONTHLY": "Monthly",
        "FREQ=MONTHLY;BYMONTHDAY=-1": "Last day of the month",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1": "Last weekday of the month",
        "FREQ=YEARLY": "Yearly",
    }
    if rule in known:
        return known[rule]
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    interval = int(parts.get("INTERVAL", "1"))
    freq = parts.get("FREQ")
    if freq == "MONTHLY" and interval == 3:
        return "Quarterly"
    if freq == "MONTHLY" and interval == 2:
        return "Every two months"
    if freq == "MONTHLY" and interval == 1 and "BYMONTHDAY" in parts:
        day = parts["BYMONTHDAY"].split(",")[0]
        return f"Monthly on the {day}{_ordinal(int(day))}" if day.lstrip("-").isdigit() and int(day) > 0 else "Monthly"
    if freq == "WEEKLY" and "BYDAY" in parts:
        return ("Every two weeks" if interval == 2 else "Weekly") + f" ({parts['BYDAY'].title()})"
    if freq == "YEARLY":
        return "Yearly"
    return rule


def _ordinal(n: int) -> str:
    return "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


@cached
def subscriptions(session: Session, user_id: int, today: date) -> pd.DataFrame:
    """Recurring expenses: the user's expense schedules (cost from their occurrences in the next 12
    months) and the recurring expenses found in the history that no schedule covers yet; with the price
    changes found in the history (for a schedule: in its payee's history)."""
    from .periods import add_months
    from .schedules import RuleSpec, expand, schedules_frame
    found = find_recurring(session, user_id, today)
    changes_by_payee = {s.payee_key: s.detection.price_changes for s in found if s.sign < 0}
    rows = []
    schedules = schedules_frame(session, user_id, include_paused=False)
    year_end = add_months(today, 12) - timedelta(days=1)
    for r in schedules[schedules["kind"] == "expense"].itertuples():
        count = None if pd.isna(r.count) else int(r.count)
        days = expand(RuleSpec(r.rrule, r.start_date, r.until, count), today, year_end)
        yearly = -int(r.amount_cents) * len(days)
        rows.append((r.name, "schedule", rule_label(r.rrule), -int(r.amount_cents), round(yearly / 12), yearly,
                     days[0] if days else None, changes_by_payee.get((r.payee or "").strip().lower(), [])))
    for s in found:
        if s.sign > 0 or s.status == "scheduled":
            continue
        d = s.detection
        rows.append((s.payee, "found", BY_NAME[d.cadence].label, -d.amount_cents, -d.monthly_cents, -d.yearly_cents,
                     d.next_date, d.price_changes))
    frame = pd.DataFrame(rows, columns=SUBSCRIPTION_COLUMNS)
    return frame.sort_values(["monthly_cents", "name"], ascending=[False, True]).reset_index(drop=True)
