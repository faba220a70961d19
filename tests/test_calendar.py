from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.policies import CalendarRangeError, WorkingCalendar
from domain.policies.calendar import YearArrangement

CAL = WorkingCalendar.official()


def test_national_day_2025_with_adjusted_weekends() -> None:
    assert CAL.is_working_day(date(2025, 9, 28))  # Sunday, 调休 working day
    assert CAL.is_working_day(date(2025, 10, 11))  # Saturday, 调休 working day
    for day in range(1, 9):
        assert not CAL.is_working_day(date(2025, 10, day))
    assert CAL.is_working_day(date(2025, 10, 9))
    assert not CAL.is_working_day(date(2025, 10, 12))  # ordinary Sunday
    assert not CAL.is_working_day(date(2025, 10, 18))  # ordinary Saturday


def test_matches_chinesecalendar_over_its_whole_range() -> None:
    day, last = date(CAL.first_year, 1, 1), date(CAL.last_year, 12, 31)
    while day <= last:
        assert CAL.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_add_working_days_skips_holidays_and_counts_adjusted_weekends() -> None:
    start = date(2025, 9, 30)
    assert CAL.add_working_days(start, 1) == date(2025, 10, 9)
    assert CAL.add_working_days(start, 2) == date(2025, 10, 10)
    assert CAL.add_working_days(start, 3) == date(2025, 10, 11)
    assert CAL.add_working_days(start, 15) == date(2025, 10, 28)
    # The start day never counts, even when it is itself a working day or a holiday.
    assert CAL.add_working_days(date(2025, 10, 3), 1) == date(2025, 10, 9)
    assert CAL.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)


def test_add_zero_returns_the_day_and_negative_is_refused() -> None:
    assert CAL.add_working_days(date(2025, 10, 4), 0) == date(2025, 10, 4)
    with pytest.raises(ValueError, match="n must be >= 0"):
        CAL.add_working_days(date(2025, 10, 4), -1)


def test_next_working_day() -> None:
    assert CAL.next_working_day(date(2025, 9, 30)) == date(2025, 10, 9)
    assert CAL.next_working_day(date(2025, 9, 27)) == date(2025, 9, 28)
    assert CAL.next_working_day(date(2025, 10, 10)) == date(2025, 10, 11)


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2025, 9, 30), date(2025, 10, 10)) == 2
    assert CAL.working_days_between(date(2025, 9, 30), date(2025, 10, 28)) == 15
    assert CAL.working_days_between(date(2025, 10, 10), date(2025, 9, 30)) == -2
    assert CAL.working_days_between(date(2025, 10, 2), date(2025, 10, 2)) == 0
    assert CAL.working_days_between(date(2025, 10, 1), date(2025, 10, 8)) == 0


def test_year_beyond_the_calendar_raises_naming_it() -> None:
    with pytest.raises(CalendarRangeError) as err:
        CAL.is_working_day(date(2031, 3, 2))
    assert err.value.year == 2031
    assert "2031 年" in str(err.value) and "year 2031" in str(err.value)
    assert isinstance(err.value, ValueError)
    with pytest.raises(CalendarRangeError, match="2031"):
        CAL.add_working_days(date(2031, 3, 2), 1)
    with pytest.raises(CalendarRangeError, match="2003"):
        CAL.working_days_between(date(2003, 12, 31), date(2025, 1, 2))


def test_answer_past_the_last_known_year_raises_naming_the_next_year() -> None:
    last_day = date(CAL.last_year, 12, 31)
    assert CAL.add_working_days(last_day - timedelta(days=30), 1) <= last_day
    with pytest.raises(CalendarRangeError) as err:
        CAL.add_working_days(last_day - timedelta(days=2), 5)
    assert err.value.year == CAL.last_year + 1
    with pytest.raises(CalendarRangeError):
        CAL.next_working_day(last_day)


def test_datetimes_are_refused_so_no_zone_picks_the_date() -> None:
    with pytest.raises(TypeError):
        CAL.is_working_day(datetime(2025, 9, 30, 17, tzinfo=UTC))


def test_injected_arrangement_and_range() -> None:
    cal = WorkingCalendar.of([YearArrangement(2030, "official", "test", frozenset(),
                                              frozenset())])
    assert cal.add_working_days(date(2030, 1, 4), 1) == date(2030, 1, 7)  # Fri -> Mon
    with pytest.raises(CalendarRangeError, match="2031"):
        cal.add_working_days(date(2030, 12, 31), 1)


known_days = st.dates(min_value=date(CAL.first_year, 1, 1), max_value=date(CAL.last_year, 11, 30))


@given(known_days, st.integers(min_value=0, max_value=25))
def test_add_then_count_round_trips(day: date, n: int) -> None:
    result = CAL.add_working_days(day, n)
    assert CAL.working_days_between(day, result) == n
    if n:
        assert CAL.is_working_day(result)
        # No working day is skipped: the previous calendar day is n-1 working days away.
        assert CAL.working_days_between(day, result - timedelta(days=1)) == n - 1


@given(known_days, known_days)
def test_between_is_antisymmetric(a: date, b: date) -> None:
    assume(a != b)
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)
