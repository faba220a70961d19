"""Reading the State Council's yearly holiday notice as published.

《国务院办公厅关于YYYY年部分节假日安排的通知》 lists one festival a line:

    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
    2月14日（周六）、2月28日（周六）上班。

Older notices word it differently ("1月1日放假，1月2日（星期一）补休。", "5月1日放假，与周末
连休。", "2022年12月31日至2023年1月2日放假调休"); all of these are read. The result is
checked before anything is recorded: real dates, "共N天" equal to the days named, weekday
annotations true, working days on weekends, no day both off and working, and every
statutory holiday of the year given off. Any problem names its line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NoReturn

from domain.errors import InvalidInput
from domain.policies.statutory import FIRST_RULE_YEAR, LAST_LUNAR_YEAR, statutory_holidays

# Half-width punctuation (as reposted) and full-width (as published) read the same.
_PUNCTUATION = str.maketrans({"：": ":", "（": "(", "）": ")", "，": ",", "；": ";", "\u3000": " "})
_YEAR = re.compile(r"关于\s*(\d{4})\s*年部分节假日安排|现将\s*(\d{4})\s*年")
_FESTIVAL = re.compile(r"^\s*([一二三四五六七八九十]+)、\s*([^:]{1,20}?)\s*:\s*(.+?)\s*$")
_DATE = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日")
_ANNOTATION = re.compile(r"\(([^)]*)\)")
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
_TOTAL = re.compile(r"(?:共|放假)\s*(\d+)\s*天")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


@dataclass
class Festival:
    name: str
    line_no: int
    line: str
    days_off: list[date] = field(default_factory=list)
    workdays: list[date] = field(default_factory=list)
    total: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "line": self.line_no, "total": self.total,
                "days_off": [d.isoformat() for d in self.days_off],
                "workdays": [d.isoformat() for d in self.workdays]}


@dataclass
class Notice:
    """A notice as understood: its year, festivals and the hash of the exact source text."""

    year: int
    title: str
    festivals: list[Festival]
    source_sha256: str

    @property
    def days_off(self) -> list[date]:
        return sorted({d for f in self.festivals for d in f.days_off})

    @property
    def workdays(self) -> list[date]:
        return sorted({d for f in self.festivals for d in f.workdays})

    def content(self) -> dict[str, Any]:
        """The fields the HolidayArrangement events record."""
        return {"year": self.year, "title": self.title, "source_sha256": self.source_sha256,
                "festivals": [f.as_dict() for f in self.festivals],
                "days_off": [d.isoformat() for d in self.days_off],
                "workdays": [d.isoformat() for d in self.workdays]}


class NoticeError(InvalidInput):
    """The notice cannot be read or contradicts itself; names the line."""

    def __init__(self, line_no: int | None, line: str, zh: str, en: str) -> None:
        where_zh = f"第 {line_no} 行" if line_no else "通知"
        where_en = f"line {line_no}" if line_no else "notice"
        quoted = f"：“{line[:60]}”" if line else ""
        super().__init__("notice", f"{where_zh}{quoted}：{zh}", f"{where_en}: {en}")
        self.line_no = line_no


def parse_notice(text: str) -> Notice:
    """Parse and validate a notice; raises NoticeError naming the first bad line."""
    if "\x00" in text:
        raise NoticeError(None, "", "不是文本文件", "not a text file")
    lines = text.splitlines()
    year = _notice_year(text)
    title = next((ln.strip() for ln in lines if "节假日安排" in ln and "通知" in ln),
                 f"国务院办公厅关于{year}年部分节假日安排的通知")[:100]
    festivals: list[Festival] = []
    for number, raw in enumerate(lines, start=1):
        match = _FESTIVAL.match(raw.translate(_PUNCTUATION))
        if match is None or not _DATE.search(match.group(3)):
            continue
        festivals.append(_festival(year, number, raw.strip(), match.group(2), match.group(3)))
    if not festivals:
        raise NoticeError(None, "", "没有找到任何节日安排（如“一、元旦：1月1日放假……”）",
                          "no festival lines found (such as '一、元旦：1月1日放假…')")
    _check_whole(year, festivals)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Notice(year, title, festivals, digest)


def _notice_year(text: str) -> int:
    match = _YEAR.search(text.translate(_PUNCTUATION))
    if match is None:
        raise NoticeError(None, "", "找不到通知的年份（“关于YYYY年部分节假日安排的通知”）",
                          "cannot find the notice's year ('关于YYYY年部分节假日安排的通知')")
    return int(match.group(1) or match.group(2))


def _festival(year: int, number: int, line: str, name: str, body: str) -> Festival:
    festival = Festival(name.strip(), number, line)

    def fail(zh: str, en: str) -> NoReturn:
        raise NoticeError(number, line, zh, en)

    for sentence in filter(None, (s.strip() for s in body.split("。"))):
        clauses = [c for c in re.split(r"[,;]", sentence) if c.strip()]
        for clause in clauses:
            days = _dates(year, clause, fail)
            if "上班" in clause:
                festival.workdays += days
            elif "至" in clause and len(days) == 2:
                first, last = days
                if last < first:
                    fail(f"日期范围 {first}–{last} 颠倒", f"date range {first}..{last} is reversed")
                festival.days_off += [first + timedelta(days=i)
                                      for i in range((last - first).days + 1)]
            elif "至" in clause:
                fail("“至”前后应各有一个日期", "'至' must stand between two dates")
            elif days and ("放假" in clause or "补休" in clause or "休息" in clause):
                festival.days_off += days
            elif days:
                fail("无法判断这些日期是放假还是上班", "cannot tell whether these dates are off or "
                     "working days")
            total = _TOTAL.search(clause)
            if total:
                festival.total = int(total.group(1))
    if not festival.days_off:
        fail("这一行没有放假日期", "this line names no day off")
    if festival.total is not None and festival.total != len(set(festival.days_off)):
        fail(f"写明共 {festival.total} 天，但列出的放假日期有 {len(set(festival.days_off))} 天",
             f"says {festival.total} days but names {len(set(festival.days_off))} days off")
    for day in festival.workdays:
        if day.weekday() < 5:
            fail(f"{day} 是工作日（周{'一二三四五'[day.weekday()]}），不能作为调休上班日",
                 f"{day} is a weekday, not a weekend day that could be made a working day")
    return festival


def _dates(year: int, clause: str, fail: Callable[[str, str], NoReturn]) -> list[date]:
    """The dates of a clause in order; a date without month or year takes them from the
    one before it ("4月4日至6日"), a bare date without year is in the notice's year."""
    found: list[date] = []
    month: int | None = None
    current_year = year
    for match in _DATE.finditer(clause):
        y_text, m_text, d_text = match.groups()
        if y_text:
            current_year = int(y_text)
            if abs(current_year - year) > 1:
                fail(f"{current_year} 年不属于 {year} 年的安排",
                     f"year {current_year} does not belong to the {year} arrangement")
        if m_text:
            month = int(m_text)
        if month is None:
            fail("日期缺少月份", "a date has no month")
        try:
            day = date(current_year, month, int(d_text))
        except ValueError:
            fail(f"{current_year}年{month}月{d_text}日 不是有效日期",
                 f"{current_year}-{month}-{d_text} is not a real date")
        annotation = _ANNOTATION.match(clause, match.end())
        weekday = _WEEKDAY.search(annotation.group(1)) if annotation else None
        if weekday and _WEEKDAYS[weekday.group(1)] != day.weekday():
            fail(f"{day} 是周{'一二三四五六日'[day.weekday()]}，不是{weekday.group(0)}",
                 f"{day} is not a {weekday.group(0)} (weekday {day.weekday() + 1})")
        found.append(day)
    return found


def _check_whole(year: int, festivals: list[Festival]) -> None:
    off: dict[date, Festival] = {}
    for festival in festivals:
        for day in festival.days_off:
            off.setdefault(day, festival)
    for festival in festivals:
        for day in festival.workdays:
            if day in off:
                raise NoticeError(festival.line_no, festival.line,
                                  f"{day} 既放假又上班", f"{day} is both a day off and a working day")
    if FIRST_RULE_YEAR <= year <= LAST_LUNAR_YEAR:
        for day, name in statutory_holidays(year).items():
            if day not in off:
                raise NoticeError(None, "", f"法定节假日 {day}（{name}）没有放假",
                                  f"statutory holiday {day} ({name}) is not a day off")

