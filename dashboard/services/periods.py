"""Calendar arithmetic for budget periods and date-range presets."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """The same day-of-month ``months`` later, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def period_bounds(period_type: str, day: date) -> tuple[date, date]:
    """The monthly, weekly (Monday to Sunday) or yearly period containing ``day``."""
    if period_type == "monthly":
        return month_start(day), month_end(day)
    if period_type == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period_type == "yearly":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    raise ValueError(f"no fixed bounds for period type {period_type!r}")


def next_period_start(period_type: str, start: date) -> date:
    if period_type == "monthly":
        return add_months(month_start(start), 1)
    if period_type == "weekly":
        return start + timedelta(days=7)
    if period_type == "yearly":
        return date(start.year + 1, 1, 1)
    raise ValueError(f"no next period for period type {period_type!r}")


# --- comparing a period with the one before it ---------------------------------------------------
#
# The one place that decides what a period is compared with. A running period (one that contains
# ``today`` and has days still to come) is compared with the same stretch of the previous period:
# month-to-date with the same days of last month (1-2 Dec with 1-2 Nov; 1-31 Mar with all of
# February), and per-day figures divide by the days that have passed.

def day_count(start: date, end: date) -> int:
    """Days in [start, end], both included (0 when end is before start)."""
    return max(0, (end - start).days + 1)


def whole_months(start: date, end: date) -> int | None:
    """How many calendar months [start, end] covers when it is exactly whole months, else None."""
    if start.day != 1 or end != month_end(end) or end < start:
        return None
    return (end.year - start.year) * 12 + end.month - start.month + 1


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before [start, end]: whole months map to whole months
    (all of February before all of March), anything else to the same number of days."""
    months = whole_months(start, end)
    if months is not None:
        prev_start = add_months(start, -months)
        return prev_start, month_end(add_months(prev_start, months - 1))
    length = day_count(start, end)
    return start - timedelta(days=length), start - timedelta(days=1)


def is_running(start: date, end: date, today: date) -> bool:
    """True when the period has started and still has days to come after ``today``."""
    return start <= today < end


def elapsed_days(start: date, end: date, today: date) -> int:
    """Days of [start, end] up to and including ``today``: 0 before it starts, all of it after it ends."""
    if today < start:
        return 0
    return day_count(start, min(end, today))


def clip(start: date, end: date, lower: date, upper: date) -> tuple[date, date]:
    """[start, end] cut to [lower, upper] (a zoom never leaves the period it zooms into). A range that
    misses [lower, upper] entirely gives [lower, upper] back."""
    new_start, new_end = max(start, lower), min(end, upper)
    if new_end < new_start:
        return lower, upper
    return new_start, new_end


@dataclass(frozen=True)
class Comparison:
    """What a period is compared with. ``current`` is the part of the chosen period that has
    happened (all of it unless it is running); ``previous`` the same stretch of the period before."""
    start: date                      # the chosen period, as asked
    end: date
    current: tuple[date, date]
    previous: tuple[date, date]
    partial: bool                    # the period is running: both sides are cut to the days so far

    @property
    def days(self) -> int:
        """Days to divide by for a per-day figure: the days elapsed (at least 1)."""
        return max(1, day_count(*self.current))

    @property
    def previous_days(self) -> int:
        return max(1, day_count(*self.previous))


def compare(start: date, end: date, today: date) -> Comparison:
    """The chosen period [start, end] against the previous one, like with like.

    Whole months: the same months before, and for a running period the same days of them, found by
    stepping ``today`` back by as many months (clamped to the month's end: 31 Mar -> 28/29 Feb, so
    1-31 Mar is compared with all of February). Other ranges: the same number of days before, cut to
    as many days as have passed."""
    prev_start, prev_end = previous_period(start, end)
    if not is_running(start, end, today):
        return Comparison(start, end, (start, end), (prev_start, prev_end), False)
    months = whole_months(start, end)
    if months is not None:
        prev_end = min(prev_end, add_months(today, -months))
    else:
        prev_end = min(prev_end, prev_start + timedelta(days=elapsed_days(start, end, today) - 1))
    return Comparison(start, end, (start, today), (prev_start, prev_end), True)
