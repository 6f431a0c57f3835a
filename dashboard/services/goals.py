"""Goals: progress, projections, and the writes (goals and their contributions).

Where progress comes from
- A goal without a linked account: ``goals.saved_amount``, the cached sum of its contributions
  (``goal_contributions``: dated, signed, negative = a withdrawal), kept in step by the writes here.
  Should a row hold more than its contributions (written by a script before contributions existed),
  the difference counts as the amount saved on the day the goal was set.
- A savings goal linked to an account: that account's balance.
- A debt goal linked to a credit card or loan: the debt owed when the goal was set minus the debt owed
  now. "When the goal was set" is the balance at the start of the goal's creation day (every
  transaction dated before that day). We chose that over "the largest debt since then" so that new
  borrowing shows as lost progress instead of silently moving the starting line. The debt is what
  the account owes (a positive balance owes nothing), so a debt goal is also reached once the
  account owes nothing.

Projection rules (``project``; every amount is integer cents)
- remaining = target - saved (never below zero); a goal is *achieved* when nothing remains.
- expected today (the marker on the gauge) = the straight line from the progress on the goal's start
  (its creation day, or its first contribution if that is earlier) to the target on the target date.
- months left = whole months from today to the target date; monthly needed = remaining / months left,
  rounded up to the cent, all of it when less than a month is left (or the date is today or past).
- recent rate, per month: contributions dated in the last 3 months / 3; for a goal younger than three
  months, the contributions since its first day (that day's money is where it started) over the whole
  months since then, at least one. For a linked account: the change of progress over the last 3 months
  / 3 (an account's history is older than the goal, so the window is always three months).
- projected completion = today + remaining / rate months, rounded up to a whole month; none when the
  rate is zero or negative (withdrawals, a falling balance, a growing debt).
- status: achieved; else *overdue* when the target date is past; *behind* when it is today; with a
  recent pace (rate not zero), *on track* when the projection arrives by the target date (or there is
  no target date) and *behind* otherwise, money going out included, so the badge always agrees with
  the projection shown beside it; with no pace yet, *on track* when saved is at least the expected
  amount, else *behind*.

Every function takes (session, user_id, ...) and reads or writes only that user's rows. Writes flush
and leave the commit to the caller; a refused write raises ServiceError (or NotFound / Conflict)
before it changes anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dashboard.formatting import format_money
from models import DEBT_TYPES, GOAL_KINDS, Account, Goal, GoalContribution, User, from_cents
from models.db import MAX_CENTS

from .accounts import balance_history
from .errors import Conflict, NotFound, ServiceError
from .overview import account_balances_on
from .periods import add_months, month_end
from .sql import cents, cents_sum
from .validation import clean_name, clean_text, parse_amount, parse_date, parse_id

RATE_MONTHS = 3
STATUSES = ("achieved", "on_track", "behind", "overdue")
STATUS_LABELS = {"achieved": "Achieved", "on_track": "On track", "behind": "Behind", "overdue": "Overdue"}
KIND_LABELS = {"savings": "Savings", "debt": "Debt payoff"}
MAX_YEARS_AHEAD = 100


# -- projection arithmetic (pure) ------------------------------------------------------------------

@dataclass(frozen=True)
class Projection:
    status: str
    saved_cents: int
    target_cents: int
    remaining_cents: int
    expected_cents: int | None        # where the goal should be today to arrive on time
    months_left: int | None           # whole months to the target date (0: less than one, or past)
    monthly_needed_cents: int | None  # from now to the target date
    rate: Fraction | None             # cents per month at the recent pace
    projected_date: date | None       # when the recent pace reaches the target

    @property
    def rate_cents(self) -> int | None:
        return None if self.rate is None else round(self.rate)


def whole_months(start: date, end: date) -> int:
    """The largest n >= 0 with ``add_months(start, n) <= end`` (0 when ``end`` is before ``start``)."""
    if end < start:
        return 0
    n = (end.year - start.year) * 12 + end.month - start.month
    while n > 0 and add_months(start, n) > end:
        n -= 1
    return n


def contribution_window(start: date, today: date) -> tuple[date, int]:
    """(after, months): contributions dated after ``after`` and up to today make the recent rate,
    spread over ``months``. The last three months, or the time since the goal's first day."""
    three_back = add_months(today, -RATE_MONTHS)
    if start <= three_back:
        return three_back, RATE_MONTHS
    return start, max(1, whole_months(start, today))


def expected_on(today: date, *, start: date, start_cents: int, target_date: date | None,
                target_cents: int) -> int | None:
    """The straight line from (start, start_cents) to (target_date, target_cents), read at ``today``."""
    if target_date is None:
        return None
    if today >= target_date or target_date <= start:
        return target_cents
    if today <= start:
        return start_cents
    return start_cents + (target_cents - start_cents) * (today - start).days // (target_date - start).days


def project(*, saved_cents: int, target_cents: int, today: date, target_date: date | None, start: date,
            start_cents: int, rate: Fraction | None, cleared: bool = False) -> Projection:
    """Remaining, the monthly amount needed, the projected completion and the status (rules above).
    ``cleared``: a linked debt that is fully paid counts as achieved whatever the target says."""
    remaining = max(0, target_cents - saved_cents)
    achieved = remaining == 0 or cleared
    if achieved:
        remaining = 0
    expected = expected_on(today, start=start, start_cents=start_cents, target_date=target_date,
                           target_cents=target_cents)
    months_left = monthly = None
    if target_date is not None:
        months_left = whole_months(today, target_date) if target_date > today else 0
        monthly = -(-remaining // max(1, months_left))
    projected = None
    if not achieved and rate is not None and rate > 0:
        months = -(-(remaining * rate.denominator) // rate.numerator)
        projected = add_months(today, months)
    if achieved:
        status = "achieved"
    elif target_date is not None and target_date < today:
        status = "overdue"
    elif target_date is not None and target_date == today:
        status = "behind"
    elif rate is not None and rate != 0:
        # There is a pace: it decides, so the badge never contradicts the projection shown beside it
        # (money going out, or a pace that arrives after the target date, is behind).
        on_time = projected is not None and (target_date is None or projected <= target_date)
        status = "on_track" if on_time else "behind"
    elif expected is not None and saved_cents >= expected:
        status = "on_track"  # no pace to measure yet: on or above the straight line to the target
    else:
        status = "behind"
    return Projection(status=status, saved_cents=saved_cents, target_cents=target_cents,
                      remaining_cents=remaining, expected_cents=expected, months_left=months_left,
                      monthly_needed_cents=monthly, rate=rate, projected_date=projected)


# -- reads -----------------------------------------------------------------------------------------

FRAME_COLUMNS = [
    "id", "name", "kind", "source", "account_id", "account_name", "account_type", "version",
    "target_date", "start_date", "start_cents", "saved_cents", "target_cents", "remaining_cents",
    "expected_cents", "months_left", "monthly_needed_cents", "rate_cents", "projected_date", "status",
    "owed_cents", "progress", "expected_progress", "contributions",
]


NULLABLE_INT_COLUMNS = ["account_id", "expected_cents", "months_left", "monthly_needed_cents", "rate_cents",
                        "owed_cents", "contributions"]


def _goal_rows(session: Session, user_id: int, goal_id: int | None = None):
    # The account joins on the owner too: an account of someone else never counts as progress.
    stmt = (select(Goal.id, Goal.name, Goal.kind, Account.id.label("account_id"),
                   Account.name.label("account_name"), Account.type.label("account_type"),
                   cents(Goal.target_amount).label("target"), cents(Goal.saved_amount).label("saved"),
                   Goal.target_date, Goal.created_at, Goal.version)
            .outerjoin(Account, and_(Account.id == Goal.account_id, Account.user_id == user_id))
            .where(Goal.user_id == user_id)
            .order_by(Goal.target_date.is_(None), Goal.target_date, Goal.name, Goal.id))
    if goal_id is not None:
        stmt = stmt.where(Goal.id == goal_id)
    return session.execute(stmt).all()


def _created_day(row) -> date:
    created = row.created_at
    return created.date() if created is not None else date.today()


def _contribution_stats(session: Session, user_id: int, rows, today: date) -> dict[int, dict]:
    """Per contribution-fed goal: total, first date, the start day and its amount, the recent gain.
    Two grouped queries for all the goals together."""
    ids = [r.id for r in rows if r.account_id is None]
    if not ids:
        return {}
    first = {gid: (int(total), day) for gid, total, day in session.execute(
        select(GoalContribution.goal_id, cents_sum(GoalContribution.amount), func.min(GoalContribution.date))
        .where(GoalContribution.user_id == user_id, GoalContribution.goal_id.in_(ids))
        .group_by(GoalContribution.goal_id)).all()}
    stats = {}
    for row in rows:
        if row.account_id is not None:
            continue
        total, first_day = first.get(row.id, (0, None))
        start = _created_day(row) if first_day is None else min(_created_day(row), first_day)
        after, months = contribution_window(start, today)
        stats[row.id] = {"total": total, "start": start, "after": after, "months": months,
                         "count": 0, "start_sum": 0, "gain": 0}
    with_rows = [gid for gid in stats if gid in first]
    if with_rows:
        start_of = case({gid: stats[gid]["start"] for gid in with_rows}, value=GoalContribution.goal_id)
        after_of = case({gid: stats[gid]["after"] for gid in with_rows}, value=GoalContribution.goal_id)
        for gid, count, start_sum, gain in session.execute(
                select(GoalContribution.goal_id, func.count(),
                       cents_sum(GoalContribution.amount, where=GoalContribution.date <= start_of),
                       cents_sum(GoalContribution.amount, where=and_(GoalContribution.date > after_of,
                                                                     GoalContribution.date <= today)))
                .where(GoalContribution.user_id == user_id, GoalContribution.goal_id.in_(with_rows))
                .group_by(GoalContribution.goal_id)).all():
            stats[gid].update(count=int(count), start_sum=int(start_sum), gain=int(gain))
    return stats


def _debt(balance_cents: int) -> int:
    return max(0, -balance_cents)


def _goal_projection(session: Session, user_id: int, row, today: date, stats: dict | None):
    """(Projection, start day, start cents, owed now or None) for one goal row."""
    created = _created_day(row)
    if row.account_id is None:
        opening = int(row.saved) - stats["total"]  # normally 0: saved_amount is the contributions' sum
        start, start_cents = stats["start"], opening + stats["start_sum"]
        rate = Fraction(stats["gain"], stats["months"])
        projection = project(saved_cents=int(row.saved), target_cents=int(row.target), today=today,
                             target_date=row.target_date, start=start, start_cents=start_cents, rate=rate)
        return projection, start, start_cents, None
    back = add_months(today, -RATE_MONTHS)
    before_start = created - timedelta(days=1)
    bal = account_balances_on(session, user_id, row.account_id, [today, back, before_start])
    if row.kind == "debt":
        owed = _debt(bal[today])
        saved = _debt(bal[before_start]) - owed
        rate = Fraction(_debt(bal[back]) - owed, RATE_MONTHS)
        projection = project(saved_cents=saved, target_cents=int(row.target), today=today,
                             target_date=row.target_date, start=created, start_cents=0, rate=rate,
                             cleared=owed == 0)
        return projection, created, 0, owed
    rate = Fraction(bal[today] - bal[back], RATE_MONTHS)
    projection = project(saved_cents=bal[today], target_cents=int(row.target), today=today,
                         target_date=row.target_date, start=created, start_cents=bal[before_start],
                         rate=rate)
    return projection, created, bal[before_start], None


def _ratio(part: int | None, whole: int) -> float | None:
    if part is None or whole <= 0:
        return None
    return max(0.0, part / whole)


def goals_frame(session: Session, user_id: int, today: date | None = None, *,
                goal_id: int | None = None) -> pd.DataFrame:
    """One row per goal of the user (soonest target date first) with its progress and projection:
    see FRAME_COLUMNS. Money in integer cents; ``progress`` and ``expected_progress`` are ratios of the
    target (for drawing)."""
    today = today or date.today()
    rows = _goal_rows(session, user_id, goal_id)
    stats = _contribution_stats(session, user_id, rows, today)
    records = []
    for row in rows:
        p, start, start_cents, owed = _goal_projection(session, user_id, row, today, stats.get(row.id))
        target = int(row.target)
        records.append({
            "id": row.id, "name": row.name, "kind": row.kind,
            "source": "contributions" if row.account_id is None else "account",
            "account_id": row.account_id, "account_name": row.account_name,
            "account_type": row.account_type, "version": row.version, "target_date": row.target_date,
            "start_date": start, "start_cents": start_cents, "saved_cents": p.saved_cents,
            "target_cents": target, "remaining_cents": p.remaining_cents,
            "expected_cents": p.expected_cents, "months_left": p.months_left,
            "monthly_needed_cents": p.monthly_needed_cents, "rate_cents": p.rate_cents,
            "projected_date": p.projected_date, "status": p.status, "owed_cents": owed,
            "progress": 1.0 if p.status == "achieved" and p.saved_cents < target else _ratio(p.saved_cents, target),
            "expected_progress": _ratio(p.expected_cents, target),
            "contributions": stats[row.id]["count"] if row.id in stats else None,
        })
    frame = pd.DataFrame.from_records(records, columns=FRAME_COLUMNS)
    for column in NULLABLE_INT_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    return frame


def goal_records(frame: pd.DataFrame) -> list[dict]:
    """The rows of a goals frame as plain dicts, missing values as None (for pages and figures)."""
    return [{key: (None if _missing(value) else value) for key, value in row.items()}
            for row in frame.to_dict("records")]


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def goal_history(session: Session, user_id: int, goal: dict, today: date | None = None) -> pd.DataFrame:
    """Progress over time of one goal (a row of ``goals_frame``): date, saved_cents — a step series
    from the goal's start to today. Contributions are summed per day in SQL; a linked account's
    balance per month (month-end points)."""
    today = today or date.today()
    start, start_cents = goal["start_date"], int(goal["start_cents"])
    points = [(start, start_cents)]
    if goal["source"] == "contributions":
        running = start_cents
        for day, amount in session.execute(
                select(GoalContribution.date, cents_sum(GoalContribution.amount))
                .where(GoalContribution.user_id == user_id, GoalContribution.goal_id == int(goal["id"]),
                       GoalContribution.date > start, GoalContribution.date <= today)
                .group_by(GoalContribution.date).order_by(GoalContribution.date)).all():
            running += int(amount)
            points.append((day, running))
    else:
        history = balance_history(session, user_id, start, today, include_archived=True,
                                  account_ids=[int(goal["account_id"])])
        before = account_balances_on(session, user_id, int(goal["account_id"]),
                                     [start - timedelta(days=1)])
        baseline_debt = _debt(next(iter(before.values()), 0))
        for month, balance in zip(history["month"], history["balance_cents"], strict=True):
            day = month_end(month)
            if start <= day < today:
                value = baseline_debt - _debt(int(balance)) if goal["kind"] == "debt" else int(balance)
                points.append((day, value))
    if today >= start:
        points.append((today, int(goal["saved_cents"])))
    frame = pd.DataFrame(points, columns=["date", "saved_cents"])
    return frame.drop_duplicates("date", keep="last").reset_index(drop=True)


def goals_summary(session: Session, user_id: int, today: date | None = None) -> pd.DataFrame:
    """The Overview's compact view: goals_frame's rows, unfinished ones first."""
    frame = goals_frame(session, user_id, today)
    if frame.empty:
        return frame
    order = {"overdue": 0, "behind": 1, "on_track": 2, "achieved": 3}
    return (frame.assign(_order=frame["status"].map(order))
            .sort_values(["_order"], kind="stable").drop(columns="_order").reset_index(drop=True))


def account_choices(session: Session, user_id: int) -> pd.DataFrame:
    """The user's open accounts a goal can follow: id, name, type."""
    rows = session.execute(select(Account.id, Account.name, Account.type)
                           .where(Account.user_id == user_id, Account.archived.is_(False))
                           .order_by(Account.name)).all()
    return pd.DataFrame(rows, columns=["id", "name", "type"])


def contributions_frame(session: Session, user_id: int, goal_id, limit: int = 20) -> pd.DataFrame:
    """A goal's latest contributions: id, date, amount_cents, note (newest first, at most ``limit``)."""
    goal = get_goal(session, user_id, goal_id)
    rows = session.execute(
        select(GoalContribution.id, GoalContribution.date, cents(GoalContribution.amount),
               GoalContribution.note)
        .where(GoalContribution.user_id == user_id, GoalContribution.goal_id == goal.id)
        .order_by(GoalContribution.date.desc(), GoalContribution.id.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=["id", "date", "amount_cents", "note"])


# -- writes ----------------------------------------------------------------------------------------

def get_goal(session: Session, user_id: int, goal_id, *, for_update: bool = False) -> Goal:
    gid = parse_id(goal_id, field="goal")
    stmt = select(Goal).where(Goal.id == gid, Goal.user_id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    goal = session.scalar(stmt)
    if goal is None:
        raise NotFound("Unknown goal.", "goal")
    return goal


def _name(value) -> str:
    return clean_name(value, max_length=100)


def _kind(value) -> str:
    if value not in GOAL_KINDS:
        raise ServiceError("Choose savings or debt payoff.", "kind")
    return value


def _target(value) -> Decimal:
    amount = parse_amount(value, field="target", allow_negative=True)
    if amount <= 0:
        raise ServiceError("The target must be more than zero.", "target")
    return amount


def _target_date(value, today: date) -> date:
    if value is None or value == "":
        raise ServiceError("Enter a target date.", "target_date")
    day = parse_date(value, field="target_date")
    if day < today:
        raise ServiceError("The target date cannot be in the past.", "target_date")
    if day > add_months(today, 12 * MAX_YEARS_AHEAD):
        raise ServiceError(f"Choose a date within {MAX_YEARS_AHEAD} years.", "target_date")
    return day


def _account(session: Session, user_id: int, value, kind: str) -> int | None:
    """The linked account's id (None for none); it must be the user's and fit the goal's kind."""
    if value is None or value == "" or value == "none":
        return None
    aid = parse_id(value, field="account")
    account = session.scalar(select(Account).where(Account.id == aid, Account.user_id == user_id))
    if account is None:
        raise NotFound("Unknown account.", "account")
    if kind == "debt" and account.type not in DEBT_TYPES:
        raise ServiceError("A debt goal follows a credit card or loan account.", "account")
    if kind == "savings" and account.type in DEBT_TYPES:
        raise ServiceError("A savings goal cannot follow a credit card or loan: choose a debt goal.",
                           "account")
    return account.id


def _unique_name(session: Session, user_id: int, name: str, goal_id: int | None = None) -> None:
    stmt = select(Goal.id).where(Goal.user_id == user_id, func.lower(Goal.name) == name.lower())
    if goal_id is not None:
        stmt = stmt.where(Goal.id != goal_id)
    if session.scalar(stmt) is not None:
        raise ServiceError(f"You already have a goal called “{name}”.", "name")


def create_goal(session: Session, user_id: int, *, name, kind="savings", target_amount, target_date,
                account_id=None, today: date | None = None, history: bool = False) -> Goal:
    """A new goal. The target must be positive, the date today or later, the account the user's own
    (and a credit card or loan exactly when the goal is a debt). ``history`` (an archive restore): a
    goal recorded earlier keeps its target date, past or absent. Does not commit."""
    today = today or date.today()
    clean = _name(name)
    kind = _kind(kind)
    target = _target(target_amount)
    if history and (target_date in (None, "") or parse_date(target_date, field="target_date") < today):
        day = None if target_date in (None, "") else parse_date(target_date, field="target_date")
    else:
        day = _target_date(target_date, today)
    account = _account(session, user_id, account_id, kind)
    _unique_name(session, user_id, clean)
    goal = Goal(user_id=user_id, name=clean, kind=kind, target_amount=target, target_date=day,
                account_id=account, saved_amount=Decimal("0"))
    session.add(goal)
    session.flush()
    return goal


_EDITABLE = {"name", "kind", "target_amount", "target_date", "account_id"}


def update_goal(session: Session, user_id: int, goal_id, *, expected_version, today: date | None = None,
                **changes) -> Goal:
    """Change a goal the user owns if nobody changed it since ``expected_version`` (else Conflict).
    The same rules as create_goal; a target date that changes must not be in the past."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ServiceError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    today = today or date.today()
    goal = get_goal(session, user_id, goal_id)
    try:
        seen = int(expected_version)
    except (TypeError, ValueError):
        raise Conflict("This goal changed meanwhile; reload to see the current values.", goal) from None
    if goal.version != seen:
        raise Conflict("Someone changed this goal meanwhile; the current values are shown.", goal)
    values = {}
    if "name" in changes:
        values["name"] = _name(changes["name"])
        _unique_name(session, user_id, values["name"], goal.id)
    kind = _kind(changes["kind"]) if "kind" in changes else goal.kind
    if "target_amount" in changes:
        values["target_amount"] = _target(changes["target_amount"])
    if "target_date" in changes:
        raw = changes["target_date"]
        current = goal.target_date
        same = current is not None and raw not in (None, "") and parse_date(raw, field="target_date") == current
        values["target_date"] = current if same else _target_date(raw, today)
    account = (_account(session, user_id, changes["account_id"], kind) if "account_id" in changes
               else _account(session, user_id, goal.account_id, kind))
    values["kind"], values["account_id"] = kind, account
    for field, value in values.items():
        setattr(goal, field, value)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise Conflict("Someone changed this goal meanwhile; reload to see the current values.") from None
    return goal


def delete_goal(session: Session, user_id: int, goal_id, *, expected_version=None) -> None:
    """Delete a goal of the user and its contributions (the database cascades them)."""
    goal = get_goal(session, user_id, goal_id)
    if expected_version is not None and str(goal.version) != str(expected_version):
        raise Conflict("Someone changed this goal meanwhile; look again before deleting it.", goal)
    session.execute(delete(Goal).where(Goal.id == goal.id, Goal.user_id == user_id))
    session.expire_all()


def _currency(session: Session, user_id: int) -> str:
    return session.scalar(select(User.currency).where(User.id == user_id)) or "USD"


def record_contribution(session: Session, user_id: int, goal_id, *, amount, date, note="",
                        withdrawal: bool = False, today=None) -> GoalContribution:
    """Put money into a goal (or take it out with ``withdrawal``) on ``date`` (not in the future).
    Only for goals without a linked account; a withdrawal cannot take more than is saved.
    Keeps ``goals.saved_amount`` the sum of the contributions. Does not commit."""
    today = today or _today()
    goal = get_goal(session, user_id, goal_id, for_update=True)
    if goal.account_id is not None:
        raise ServiceError("This goal follows an account: record transactions on the account instead.",
                           "amount")
    value = parse_amount(amount, field="amount", allow_zero=False)
    day = parse_date(date, field="date")
    if day > today:
        raise ServiceError("The date cannot be in the future.", "date")
    text = clean_text(note, field="note", max_length=200)
    signed = -value if withdrawal else value
    new_saved = goal.saved_amount + signed
    if new_saved < 0:
        raise ServiceError(f"Only {format_money(goal.saved_amount, _currency(session, user_id))} is saved "
                           "in this goal.", "amount")
    if abs(new_saved) * 100 > MAX_CENTS:   # the saved total must stay storable (issue 13, item 10)
        raise ServiceError(f"A goal can hold at most {format_money(from_cents(MAX_CENTS), _currency(session, user_id))}.",
                           "amount")
    contribution = GoalContribution(user_id=user_id, goal_id=goal.id, date=day, amount=signed, note=text)
    session.add(contribution)
    goal.saved_amount = new_saved
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise Conflict("This goal changed meanwhile; try again.") from None
    return contribution


def delete_contribution(session: Session, user_id: int, contribution_id) -> None:
    """Remove one contribution (a mistake) and take it out of the goal's saved amount."""
    cid = parse_id(contribution_id, field="contribution")
    contribution = session.scalar(select(GoalContribution).where(
        GoalContribution.id == cid, GoalContribution.user_id == user_id))
    if contribution is None:
        raise NotFound("Unknown contribution.", "contribution")
    goal = get_goal(session, user_id, contribution.goal_id, for_update=True)
    new_saved = goal.saved_amount - contribution.amount
    if new_saved < 0:
        raise ServiceError("Removing this would leave less than nothing saved: remove the withdrawals "
                           "first.", "contribution")
    session.delete(contribution)
    goal.saved_amount = new_saved
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise Conflict("This goal changed meanwhile; try again.") from None


def _today() -> date:
    # record_contribution's ``date`` argument hides the type inside that function.
    return date.today()

