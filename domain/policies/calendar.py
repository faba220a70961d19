"""Working-day calendar following the State Council holiday arrangement (incl. 调休).

Each year's days come from the most authoritative source there is for it:
1. an arrangement the centre imported from the State Council notice (kept in the store);
2. the packaged arrangement (``chinesecalendar``);
3. for a year nobody has published yet, a *provisional* arrangement: weekends plus the
   statutory holidays on their own dates (``statutory.py``), no adjusted weekends.
A hotline must never stop dispatching because a notice is late; every clock records
which arrangement (basis and version) it was computed on, so it can be revised.

Pure date arithmetic: no time zones here. Callers convert instants to local dates
first (see ``DeadlinePolicy.local``), because taking the date of a UTC instant is
how comparable systems end up applying holidays a day early.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from domain.policies.statutory import statutory_holidays

Basis = Literal["official", "provisional"]
OFFICIAL: Basis = "official"
PROVISIONAL: Basis = "provisional"
# chinesecalendar names festivals in English; shown to staff in Chinese.
FESTIVAL_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                  "Labour Day": "劳动节", "Dragon Boat Festival": "端午节",
                  "Mid-autumn Festival": "中秋节", "National Day": "国庆节",
                  "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日"}
PROVISIONAL_SOURCE = "《全国年节及纪念日放假办法》法定假日（暂定，无调休）"


class CalendarRangeError(ValueError):
    """A date falls in a year the calendar cannot answer for.

    Years before the first packaged arrangement are unknown; years past the horizon
    (one year after the current one) are too far ahead even for a provisional answer.
    """

    def __init__(self, year: int, first_year: int, last_year: int) -> None:
        self.year = year
        self.first_year = first_year
        self.last_year = last_year
        self.zh = (f"工作日历没有 {year} 年（可用 {first_year}–{last_year} 年：更早的年份没有"
                   "国务院节假日安排，更晚的年份须待国务院通知发布后导入），无法计算工作日时限")
        self.en = (f"the working-day calendar has no year {year} (it covers "
                   f"{first_year}-{last_year}: earlier years have no State Council arrangement, "
                   "later ones need the notice imported once it is published)")
        super().__init__(f"{self.zh}；{self.en}")


@dataclass(frozen=True)
class YearArrangement:
    """One year's days off and adjusted working days, and where they come from.

    Dates outside ``year`` are allowed (a notice may start 元旦 on 12-31 of the year
    before); they override the weekday rule of their own date.
    """

    year: int
    basis: Basis
    source: str
    days_off: frozenset[date]
    workdays: frozenset[date]
    names: Mapping[date, str] = field(default_factory=dict, compare=False)

    @cached_property  # every clock computation records it (was ~0.4 ms a command)
    def digest(self) -> str:
        """Identity of the content (not of the source label): same days, same digest."""
        text = ",".join(f"-{d}" for d in sorted(self.days_off)) + ";" + ",".join(
            f"+{d}" for d in sorted(self.workdays))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def version(self) -> str:
        """What a clock records for this year: ``official:<digest>`` or ``provisional:…``."""
        return f"{self.basis}:{self.digest}"

    def is_working_day(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.days_off)


def basis_of(version: str) -> Basis:
    return PROVISIONAL if version.startswith(PROVISIONAL) else OFFICIAL


def provisional_arrangement(year: int) -> YearArrangement:
    days = statutory_holidays(year)
    return YearArrangement(year, PROVISIONAL, PROVISIONAL_SOURCE, frozenset(days), frozenset(),
                           days)


@cache
def packaged_arrangements() -> dict[int, YearArrangement]:
    """The arrangements shipped in ``chinesecalendar``, one per year it knows."""
    # Both cost start-up (tables; importlib.metadata ~25 ms): only clocks and calendar views
    # need them.
    from importlib.metadata import version as package_version

    import chinese_calendar

    source = f"chinesecalendar {package_version('chinesecalendar')}"
    by_year: dict[int, tuple[set[date], set[date], dict[date, str]]] = {}
    for day, holiday in chinese_calendar.holidays.items():
        off, _work, names = by_year.setdefault(day.year, (set(), set(), {}))
        off.add(day)
        names[day] = FESTIVAL_NAMES.get(str(holiday), str(holiday))
    for day in chinese_calendar.workdays:
        by_year.setdefault(day.year, (set(), set(), {}))[1].add(day)
    return {year: YearArrangement(year, OFFICIAL, source, frozenset(off), frozenset(work), names)
            for year, (off, work, names) in sorted(by_year.items())}


def horizon_year(now: datetime | None = None) -> int:
    """The last year a provisional calendar is offered for: the year after the current one
    on the wall clock (never the simulation clock, so a drill cannot invent 2040)."""
    today = (now or datetime.now(ZoneInfo("Asia/Shanghai"))).date()
    return today.year + 1


@dataclass(frozen=True, slots=True)
class _Tables:
    first_ord: int
    last_ord: int
    flags: bytes
    work_ords: list[int]
    years: dict[int, YearArrangement]


class WorkingCalendar:
    """Working days over a contiguous range of years, each from its best source.

    All answers come from two structures built once per change of sources: a per-day
    flag table and the sorted ordinals of all working days (one bisect per query).
    ``install`` swaps them in one assignment, so readers on other threads see either
    the old or the new calendar, never a mix.
    """

    def __init__(self, packaged: Mapping[int, YearArrangement] | None = None,
                 imported: Mapping[int, YearArrangement] | None = None,
                 horizon: int | None = None) -> None:
        """``packaged`` None: chinesecalendar's years, read on the first question (an
        engine that only shows orders never pays for them)."""
        if packaged is not None and not packaged:
            raise ValueError("a calendar needs at least one packaged year")
        self._packaged = None if packaged is None else dict(packaged)
        self._imported: dict[int, YearArrangement] = dict(imported or {})
        self._horizon = horizon
        self._tables: _Tables | None = None

    @classmethod
    def official(cls) -> WorkingCalendar:
        """The packaged arrangement only (no provisional years), shared and read-only."""
        return _official_calendar()

    @classmethod
    def standard(cls, imported: Mapping[int, YearArrangement] | None = None,
                 horizon: int | None = None) -> WorkingCalendar:
        """Imported, then packaged, then provisional years up to ``horizon`` (default: the
        year after the current one)."""
        return cls(None, imported, horizon_year() if horizon is None else horizon)

    @classmethod
    def of(cls, arrangements: Iterable[YearArrangement]) -> WorkingCalendar:
        """A calendar of exactly these years (tests, other countries' rules)."""
        return cls({a.year: a for a in arrangements})

    # -- sources ------------------------------------------------------------------------
    def install(self, imported: Mapping[int, YearArrangement] | None = None,
                horizon: int | None = None) -> bool:
        """Take new imported arrangements and/or horizon; True when any year changed."""
        new_imported = self._imported if imported is None else dict(imported)
        new_horizon = self._horizon if horizon is None else horizon
        before = {y: a.version for y, a in self._tables_now().years.items()}
        self._imported, self._horizon = new_imported, new_horizon
        self._tables = None
        return {y: a.version for y, a in self._tables_now().years.items()} != before

    @property
    def first_year(self) -> int:
        return min(self._tables_now().years)

    @property
    def last_year(self) -> int:
        return max(self._tables_now().years)

    def arrangement(self, year: int) -> YearArrangement:
        years = self._tables_now().years
        if year not in years:
            raise self._range_error(year)
        return years[year]

    def arrangements(self) -> list[YearArrangement]:
        return list(self._tables_now().years.values())

    def check_year(self, year: int) -> None:
        """Raise CalendarRangeError unless the calendar answers for ``year``."""
        self.arrangement(year)

    def versions(self, first: date, last: date) -> dict[str, str]:
        """The arrangement version of every year from ``first`` to ``last`` (what a clock
        computed over those days depends on)."""
        return {str(y): self.arrangement(y).version for y in range(first.year, last.year + 1)}

    # -- arithmetic ---------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        tables = self._tables_now()
        return tables.flags[self._ordinal(day, tables) - tables.first_ord] == 1

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after ``day``; ``day`` itself never counts, n=0 returns it."""
        tables = self._tables_now()
        ordinal = self._ordinal(day, tables)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return day
        index = bisect_right(tables.work_ords, ordinal) + n - 1
        if index >= len(tables.work_ords):
            # The answer lies past the last year there is: refuse rather than guess.
            raise self._range_error(max(tables.years) + 1)
        return date.fromordinal(tables.work_ords[index])

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b (negative when b is before a).

        The inverse of ``add_working_days``: between(a, add_working_days(a, n)) == n.
        """
        tables = self._tables_now()
        ords = tables.work_ords
        return (bisect_right(ords, self._ordinal(b, tables))
                - bisect_right(ords, self._ordinal(a, tables)))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    # -- internals ----------------------------------------------------------------------
    def _tables_now(self) -> _Tables:
        tables = self._tables
        if tables is None:
            tables = self._tables = _build(self._years())
        return tables

    def _years(self) -> dict[int, YearArrangement]:
        packaged = self._packaged
        if packaged is None:
            packaged = self._packaged = packaged_arrangements()  # cached, only read
        first = min(packaged)
        last = max([*packaged, *self._imported, self._horizon or first])
        years: dict[int, YearArrangement] = {}
        for year in range(first, last + 1):
            if year in self._imported:
                years[year] = self._imported[year]
            elif year in packaged:
                years[year] = packaged[year]
            elif self._horizon is not None and year <= self._horizon:
                years[year] = provisional_arrangement(year)
            else:
                break  # a gap: nothing past it is contiguous
        return years

    def _ordinal(self, day: date, tables: _Tables) -> int:
        # A datetime is a date subclass; accepting one would take its date in
        # whatever zone it carries, which is exactly the early-holiday bug.
        if isinstance(day, datetime):
            raise TypeError("WorkingCalendar takes dates; convert instants to a local date first")
        ordinal = day.toordinal()
        if ordinal < tables.first_ord or ordinal > tables.last_ord:
            raise self._range_error(day.year)
        return ordinal

    def _range_error(self, year: int) -> CalendarRangeError:
        years = self._tables_now().years
        return CalendarRangeError(year, min(years), max(years))


def _build(years: dict[int, YearArrangement]) -> _Tables:
    first_ord = date(min(years), 1, 1).toordinal()
    last_ord = date(max(years), 12, 31).toordinal()
    flags = bytearray(last_ord - first_ord + 1)
    for year, arrangement in years.items():
        start = date(year, 1, 1).toordinal() - first_ord
        day = date(year, 1, 1)
        for offset in range(date(year, 12, 31).toordinal() - first_ord - start + 1):
            flags[start + offset] = arrangement.is_working_day(day)
            day += timedelta(days=1)
    # Explicit dates a notice gives outside its own year (元旦 from 12-31) override.
    for arrangement in years.values():
        for listed, working in ((arrangement.days_off, 0), (arrangement.workdays, 1)):
            for day in listed:
                if day.year != arrangement.year and first_ord <= day.toordinal() <= last_ord:
                    flags[day.toordinal() - first_ord] = working
    work_ords = [first_ord + i for i, flag in enumerate(flags) if flag]
    return _Tables(first_ord, last_ord, bytes(flags), work_ords, years)


@cache
def _official_calendar() -> WorkingCalendar:
    return WorkingCalendar()
