"""The one place of period arithmetic: known answers, month ends and leap years, a fixed ``today``."""
from __future__ import annotations

from datetime import date

import pytest

from dashboard.services.periods import (
    clip,
    compare,
    day_count,
    elapsed_days,
    is_running,
    previous_period,
    whole_months,
)

D = date


@pytest.mark.parametrize(("start", "end", "expected"), [
    (D(2026, 3, 1), D(2026, 3, 31), (D(2026, 2, 1), D(2026, 2, 28))),
    (D(2028, 3, 1), D(2028, 3, 31), (D(2028, 2, 1), D(2028, 2, 29))),        # leap year
    (D(2026, 1, 1), D(2026, 12, 31), (D(2025, 1, 1), D(2025, 12, 31))),
    (D(2026, 10, 1), D(2026, 12, 31), (D(2026, 7, 1), D(2026, 9, 30))),
    (D(2026, 3, 10), D(2026, 3, 16), (D(2026, 3, 3), D(2026, 3, 9))),         # a week: 7 days before
    (D(2026, 3, 15), D(2026, 4, 14), (D(2026, 2, 12), D(2026, 3, 14))),       # 31 days, not whole months
])
def test_previous_period(start, end, expected):
    assert previous_period(start, end) == expected


def test_whole_months_and_day_count():
    assert whole_months(D(2026, 1, 1), D(2026, 3, 31)) == 3
    assert whole_months(D(2026, 1, 2), D(2026, 3, 31)) is None
    assert whole_months(D(2026, 1, 1), D(2026, 3, 30)) is None
    assert day_count(D(2026, 2, 1), D(2026, 2, 28)) == 28
    assert day_count(D(2026, 2, 2), D(2026, 2, 1)) == 0


def test_elapsed_and_running():
    start, end = D(2026, 12, 1), D(2026, 12, 31)
    assert elapsed_days(start, end, D(2026, 12, 2)) == 2
    assert elapsed_days(start, end, D(2026, 11, 30)) == 0
    assert elapsed_days(start, end, D(2027, 1, 5)) == 31
    assert is_running(start, end, D(2026, 12, 2))
    assert not is_running(start, end, D(2026, 12, 31))  # the last day: the whole period is in
    assert not is_running(start, end, D(2026, 11, 30))


def test_month_to_date_is_compared_with_the_same_days_of_last_month():
    c = compare(D(2026, 12, 1), D(2026, 12, 31), today=D(2026, 12, 2))
    assert c.partial
    assert c.current == (D(2026, 12, 1), D(2026, 12, 2))
    assert c.previous == (D(2026, 11, 1), D(2026, 11, 2))
    assert c.days == 2 and c.previous_days == 2


@pytest.mark.parametrize(("today", "previous_end"), [
    (D(2026, 3, 28), D(2026, 2, 28)),
    (D(2026, 3, 30), D(2026, 2, 28)),   # no 30 February: all of February
    (D(2028, 3, 30), D(2028, 2, 29)),   # leap year
    (D(2028, 3, 29), D(2028, 2, 29)),
    (D(2026, 5, 30), D(2026, 4, 30)),
])
def test_month_end_edges(today, previous_end):
    c = compare(D(today.year, today.month, 1), D(today.year, today.month, 28).replace(
        day=31 if today.month in (3, 5) else 30), today)
    assert c.partial
    assert c.previous == (D(today.year, today.month - 1, 1), previous_end)


def test_the_last_day_of_a_month_compares_whole_months():
    c = compare(D(2026, 3, 1), D(2026, 3, 31), today=D(2026, 3, 31))
    assert not c.partial
    assert c.current == (D(2026, 3, 1), D(2026, 3, 31))
    assert c.previous == (D(2026, 2, 1), D(2026, 2, 28))
    assert c.days == 31 and c.previous_days == 28


def test_running_quarter_and_year_to_date():
    c = compare(D(2026, 10, 1), D(2026, 12, 31), today=D(2026, 12, 2))
    assert c.current == (D(2026, 10, 1), D(2026, 12, 2))
    assert c.previous == (D(2026, 7, 1), D(2026, 9, 2))
    c = compare(D(2028, 1, 1), D(2028, 12, 31), today=D(2028, 2, 29))
    assert c.previous == (D(2027, 1, 1), D(2027, 2, 28))
    assert c.days == 60


def test_running_custom_range_cuts_the_previous_range_to_as_many_days():
    c = compare(D(2026, 11, 25), D(2026, 12, 4), today=D(2026, 11, 27))   # 10 days, 3 elapsed
    assert c.previous == (D(2026, 11, 15), D(2026, 11, 17))
    assert c.days == 3 == c.previous_days


def test_past_and_future_periods_are_whole():
    past = compare(D(2026, 11, 1), D(2026, 11, 30), today=D(2026, 12, 2))
    assert not past.partial and past.previous == (D(2026, 10, 1), D(2026, 10, 31)) and past.days == 30
    future = compare(D(2027, 1, 1), D(2027, 1, 31), today=D(2026, 12, 2))
    assert not future.partial and future.current == (D(2027, 1, 1), D(2027, 1, 31))


def test_clip_keeps_a_zoom_inside_the_period():
    # The week of 26 Oct holds only 1 November of "last month".
    assert clip(D(2026, 10, 26), D(2026, 11, 1), D(2026, 11, 1), D(2026, 11, 30)) == (D(2026, 11, 1), D(2026, 11, 1))
    assert clip(D(2026, 11, 30), D(2026, 12, 6), D(2026, 11, 1), D(2026, 11, 30)) == (D(2026, 11, 30), D(2026, 11, 30))
    assert clip(D(2026, 11, 9), D(2026, 11, 15), D(2026, 11, 1), D(2026, 11, 30)) == (D(2026, 11, 9), D(2026, 11, 15))
    assert clip(D(2027, 1, 1), D(2027, 1, 7), D(2026, 11, 1), D(2026, 11, 30)) == (D(2026, 11, 1), D(2026, 11, 30))
