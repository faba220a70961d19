"""The statutory public holidays of 《全国年节及纪念日放假办法》, by the revision in force.

These are the days the law gives off on their own dates; the State Council's yearly
notice then arranges bridges and adjusted working weekends (调休) around them. For a year
whose notice is not out yet, the statutory days plus weekends are the best honest
estimate (a provisional calendar): no 调休 is guessed.

Lunar dates come from ``lunardate``, the 清明 solar term from ``chinese_calendar``: no
hand-written lunar calendar.
"""

from __future__ import annotations

from datetime import date, timedelta

# Revisions of the 办法 by the first year they applied to.
REVISION_2007 = 2008  # 春节 = 除夕、初一、初二; 劳动节 1 day; 清明/端午/中秋 added
REVISION_2013 = 2014  # 春节 = 初一至初三
REVISION_2024 = 2025  # 春节 = 除夕 + 初一至初三; 劳动节 5月1日、2日
FIRST_RULE_YEAR = REVISION_2007
LAST_LUNAR_YEAR = 2099  # lunardate's table ends with 2099


def statutory_holidays(year: int) -> dict[date, str]:
    """Each statutory day off of ``year`` with its festival's name."""
    if not FIRST_RULE_YEAR <= year <= LAST_LUNAR_YEAR:
        raise ValueError(f"statutory holidays are known for {FIRST_RULE_YEAR}-{LAST_LUNAR_YEAR}, "
                         f"not {year}")
    from lunardate import LunarDate  # imported on first use: start-up of every command

    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    new_year = LunarDate(year, 1, 1).to_solar_date()
    eve = new_year - timedelta(days=1)
    if year >= REVISION_2024:
        spring = [eve] + [new_year + timedelta(days=i) for i in range(3)]
    elif year >= REVISION_2013:
        spring = [new_year + timedelta(days=i) for i in range(3)]
    else:
        spring = [eve, new_year, new_year + timedelta(days=1)]
    days.update(dict.fromkeys(spring, "春节"))
    days[_qingming(year)] = "清明节"
    days[date(year, 5, 1)] = "劳动节"
    if year >= REVISION_2024:
        days[date(year, 5, 2)] = "劳动节"
    days[LunarDate(year, 5, 5).to_solar_date()] = "端午节"
    days[LunarDate(year, 8, 15).to_solar_date()] = "中秋节"
    for day in (1, 2, 3):
        days[date(year, 10, day)] = "国庆节"
    return dict(sorted(days.items()))


def _qingming(year: int) -> date:
    import chinese_calendar

    terms = chinese_calendar.get_solar_terms(date(year, 4, 3), date(year, 4, 6))
    return next(day for day, name in terms if name == "清明")
