"""Working-day calendar following the State Council holiday arrangement (incl. 调休).

Pure date arithmetic: no time zones here. Callers convert instants to local dates
first (see ``DeadlinePolicy.local``), because taking the date of a UTC instant is
how comparable systems end up applying holidays a day early.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import date, datetime
from functools import cache

import chinese_calendar


class CalendarRangeError(ValueError):
    """A date falls in a year the calendar has no official arrangement for.

    Deadlines are never guessed from weekends alone: an unknown year could hold
    holidays or adjusted working weekends that would silently shift every deadline.
    """

    def __init__(self, year: int, first_year: int, last_year: int) -> None:
        self.year = year
        self.first_year = first_year
        self.last_year = last_year
        super().__init__(
            f"工作日历没有 {year} 年的国务院节假日安排（已知 {first_year}–{last_year} 年），"
            f"无法计算工作日时限；"
            f"no official holiday arrangement known for year {year} "
            f"(calendar covers {first_year}-{last_year}); update the chinesecalendar package"
        )


class WorkingCalendar:
    """Working days over a closed range of years.

    All answers come from two structures built once: a per-day flag table and the
    sorted ordinals of all working days. The whole known range is only a few
    thousand days, so one flat array (rather than per-year arrays) keeps every
    query a single bisect with no year-boundary stitching.
    """

    __slots__ = ("first_year", "last_year", "_first_ord", "_last_ord", "_flags", "_work_ords")

    def __init__(self, is_workday: Callable[[date], bool], first_year: int, last_year: int) -> None:
        if first_year > last_year:
            raise ValueError(f"first_year {first_year} is after last_year {last_year}")
        self.first_year = first_year
        self.last_year = last_year
        self._first_ord = date(first_year, 1, 1).toordinal()
        self._last_ord = date(last_year, 12, 31).toordinal()
        flags = bytearray(self._last_ord - self._first_ord + 1)
        work_ords: list[int] = []
        for ordinal in range(self._first_ord, self._last_ord + 1):
            if is_workday(date.fromordinal(ordinal)):
                flags[ordinal - self._first_ord] = 1
                work_ords.append(ordinal)
        self._flags = bytes(flags)
        self._work_ords = work_ords

    @classmethod
    def official(cls) -> WorkingCalendar:
        """The State Council arrangement as shipped in the ``chinesecalendar`` package."""
        return _official_calendar()

    def is_working_day(self, day: date) -> bool:
        return self._flags[self._ordinal(day) - self._first_ord] == 1

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after ``day``; ``day`` itself never counts, n=0 returns it."""
        ordinal = self._ordinal(day)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return day
        index = bisect_right(self._work_ords, ordinal) + n - 1
        if index >= len(self._work_ords):
            # The answer lies past the last known year: refuse rather than guess.
            raise self._range_error(self.last_year + 1)
        return date.fromordinal(self._work_ords[index])

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b (negative when b is before a).

        The inverse of ``add_working_days``: between(a, add_working_days(a, n)) == n.
        """
        ords = self._work_ords
        return bisect_right(ords, self._ordinal(b)) - bisect_right(ords, self._ordinal(a))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    def _ordinal(self, day: date) -> int:
        # A datetime is a date subclass; accepting one would take its date in
        # whatever zone it carries, which is exactly the early-holiday bug.
        if isinstance(day, datetime):
            raise TypeError("WorkingCalendar takes dates; convert instants to a local date first")
        ordinal = day.toordinal()
        if ordinal < self._first_ord or ordinal > self._last_ord:
            raise self._range_error(day.year)
        return ordinal

    def _range_error(self, year: int) -> CalendarRangeError:
        return CalendarRangeError(year, self.first_year, self.last_year)


@cache
def _official_calendar() -> WorkingCalendar:
    holidays, workdays = chinese_calendar.holidays, chinese_calendar.workdays

    # chinese_calendar.is_workday's own rule, on its tables directly: calling it per
    # day rescans the tables for range checks and makes the build ~50x slower.
    def is_workday(day: date) -> bool:
        return day in workdays or (day.weekday() < 5 and day not in holidays)

    # Same range rule the package itself enforces: the years its holiday table spans.
    years = [d.year for d in holidays]
    return WorkingCalendar(is_workday, min(years), max(years))
