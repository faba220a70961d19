"""Calendar sources by authority: imported > packaged > provisional; the horizon; the
statutory holidays; and the State Council notice parser on the real published notices."""

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import holidays
import pytest

from adapters.calendar.notice import NoticeError, parse_notice
from domain.policies.calendar import (
    CalendarRangeError,
    WorkingCalendar,
    YearArrangement,
    horizon_year,
    packaged_arrangements,
)
from domain.policies.statutory import statutory_holidays

NOTICES = Path(__file__).parent / "fixtures" / "notices"
LAST_PACKAGED = max(packaged_arrangements())


def notice_text(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


def days_of(year: int) -> list[date]:
    day, days = date(year, 1, 1), []
    while day.year == year:
        days.append(day)
        day += timedelta(days=1)
    return days


@pytest.mark.parametrize("year", [2017, 2025, 2026])
def test_real_notice_matches_the_packaged_arrangement_day_by_day(year: int) -> None:
    notice = parse_notice(notice_text(year))
    assert notice.year == year
    parsed = YearArrangement(year, "official", "notice", frozenset(notice.days_off),
                             frozenset(notice.workdays))
    wrong = [d for d in days_of(year) if parsed.is_working_day(d) != chinese_calendar.is_workday(d)]
    assert wrong == []
    assert parsed.digest == packaged_arrangements()[year].digest  # same days, same version


def test_2026_notice_as_understood() -> None:
    notice = parse_notice(notice_text(2026))
    spring = next(f for f in notice.festivals if f.name == "春节")
    assert spring.total == 9 and len(spring.days_off) == 9
    assert spring.days_off[0] == date(2026, 2, 15) and spring.days_off[-1] == date(2026, 2, 23)
    assert spring.workdays == [date(2026, 2, 14), date(2026, 2, 28)]
    assert [f.name for f in notice.festivals] == ["元旦", "春节", "清明节", "劳动节", "端午节",
                                                  "中秋节", "国庆节"]


def test_2017_wordings_补休_and_与周末连休() -> None:
    notice = parse_notice(notice_text(2017))
    new_year = notice.festivals[0]
    assert new_year.days_off == [date(2017, 1, 1), date(2017, 1, 2)]
    labour = next(f for f in notice.festivals if f.name == "劳动节")
    assert labour.days_off == [date(2017, 5, 1)] and labour.workdays == []


def test_half_width_punctuation_reads_the_same() -> None:
    text = notice_text(2026)
    ascii_text = text.translate(str.maketrans({"：": ":", "（": "(", "）": ")", "，": ","}))
    assert parse_notice(ascii_text).days_off == parse_notice(text).days_off


@pytest.mark.parametrize(("old", "new", "says"), [
    ("共9天", "共8天", "共 8 天"),                                  # total disagrees with range
    ("2月14日（周六）", "2月13日（周六）", "不是周六"),               # weekday annotation false
    ("5月9日（周六）上班", "5月8日上班", "是工作日"),                 # working day not a weekend
    ("至23日（农历正月初七、周一）", "至30日", "2026年2月30日"),       # no such date
    ("1月4日（周日）上班", "1月3日（周六）上班", "既放假又上班"),     # off and working
    ("三、清明节：4月4日（周六）至6日（周一）放假，共3天。", "三、清明节：4月6日（周一）放假，共1天。",
     "法定节假日 2026-04-05"),                                     # statutory day missing
])
def test_contradictory_notice_is_refused_naming_the_problem(old: str, new: str, says: str) -> None:
    text = notice_text(2026)
    assert old in text
    with pytest.raises(NoticeError) as err:
        parse_notice(text.replace(old, new))
    assert says in err.value.zh, err.value.zh
    assert err.value.en


def test_contradiction_names_its_line() -> None:
    with pytest.raises(NoticeError) as err:
        parse_notice(notice_text(2026).replace("共9天", "共8天"))
    assert err.value.line_no == 9
    assert "第 9 行" in err.value.zh and "line 9" in err.value.en


@pytest.mark.parametrize("text", ["", "hello", "国务院办公厅关于2026年部分节假日安排的通知\n没有内容",
                                  "\x00\x01binary", "一、元旦：1月1日放假。"])
def test_not_a_notice_is_refused(text: str) -> None:
    with pytest.raises(NoticeError):
        parse_notice(text)


def test_statutory_holidays_agree_with_python_holidays() -> None:
    """Our 办法 rules (2007, 2013, 2024 revisions) against python-holidays' statutory days;
    the one-off days it also lists (2015 纪念日, the 2020 extension) are not statutory."""
    one_offs = {date(2015, 9, 3), date(2020, 1, 31), date(2020, 2, 1), date(2020, 2, 2)}
    for year in range(2008, 2036):
        lib = {d for d, name in holidays.China(years=year, observed=False).items()
               if not name.startswith("Day off")} - one_offs
        assert set(statutory_holidays(year)) == lib, year


def test_provisional_2027_spring_festival_and_no_adjusted_weekends() -> None:
    cal = WorkingCalendar.standard(horizon=2027)
    arrangement = cal.arrangement(2027)
    if LAST_PACKAGED >= 2027:
        pytest.skip("the packaged calendar already knows 2027")  # pragma: no cover
    assert arrangement.basis == "provisional"
    assert arrangement.workdays == frozenset()
    for day in (date(2027, 2, 5), date(2027, 2, 8)):  # 除夕 (Fri) … 初三 (Mon)
        assert not cal.is_working_day(day)
    assert cal.is_working_day(date(2027, 2, 9))
    assert not cal.is_working_day(date(2027, 10, 1)) and cal.is_working_day(date(2027, 10, 4))
    assert cal.arrangement(2026).basis == "official"


def test_horizon_is_the_year_after_the_wall_clock_and_earlier_years_are_refused() -> None:
    cal = WorkingCalendar.standard()
    assert cal.last_year == max(LAST_PACKAGED, horizon_year())
    with pytest.raises(CalendarRangeError) as err:
        cal.check_year(cal.last_year + 1)
    assert f"{cal.last_year + 1} 年" in err.value.zh
    with pytest.raises(CalendarRangeError, match="1990"):
        cal.check_year(1990)


def test_imported_arrangement_outranks_the_packaged_and_provisional_ones() -> None:
    cal = WorkingCalendar.standard(horizon=2027)
    before = cal.arrangement(2027).version
    made_up = YearArrangement(2027, "official", "test notice",
                              frozenset(statutory_holidays(2027)) | {date(2027, 2, 9)},
                              frozenset({date(2027, 2, 20)}))
    assert cal.install({2027: made_up}) is True
    assert cal.arrangement(2027).version.startswith("official:")
    assert cal.arrangement(2027).version != before
    assert not cal.is_working_day(date(2027, 2, 9)) and cal.is_working_day(date(2027, 2, 20))
    assert cal.install({2027: made_up}) is False  # nothing changed
    # An import for a packaged year wins over the package too.
    override = YearArrangement(2026, "official", "test", frozenset({date(2026, 3, 2)}),
                               frozenset())
    cal.install({2026: override})
    assert not cal.is_working_day(date(2026, 3, 2))


def test_cross_year_dates_of_a_notice_apply_to_their_own_day() -> None:
    """The 2023 notice started 元旦 on 2022-12-31 (a Saturday anyway) and 2023-01-02."""
    packaged = packaged_arrangements()
    notice_2023 = YearArrangement(2023, "official", "test",
                                  packaged[2023].days_off | {date(2022, 12, 30)},
                                  packaged[2023].workdays)
    cal = WorkingCalendar({**packaged}, {2023: notice_2023})
    assert not cal.is_working_day(date(2022, 12, 30))
