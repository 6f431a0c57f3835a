"""Calendar arithmetic for budget periods and date-range presets."""
from __future__ import annotations

import calendar
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
