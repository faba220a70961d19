"""When a campaign may call, and how fast: pure rules on instants (no I/O, no clock).

Calling hours are windows of Beijing wall-clock time, half-open ([09:00, 12:00)), on
working days of the official calendar (调休 working weekends included) unless the campaign
allows rest days. Pacing caps the lines in use at once and the dials in any sliding
60 seconds: a dial at t counts until t + 60 s, so "30 a minute" is never 31 in any minute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput, shown

BEIJING = ZoneInfo("Asia/Shanghai")
MINUTE = timedelta(minutes=1)
# A campaign whose hours never open in this many days would never call: refused.
SEARCH_DAYS = 400

_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")


class WorkingDays(Protocol):
    """The part of the working-day calendar (domain/policies/calendar.py) calls need."""

    def is_working_day(self, day: date) -> bool: ...


@dataclass(frozen=True)
class CallingWindow:
    start: time
    end: time | None  # None: until midnight (24:00)

    @classmethod
    def parse(cls, text: str) -> CallingWindow:
        match = _WINDOW.fullmatch(text.strip())
        if match is None:
            raise InvalidInput("window", f"呼叫时段“{shown(text)}”格式应为 HH:MM-HH:MM，如 09:00-12:00",
                               f"calling window {shown(text)!r} must be HH:MM-HH:MM, e.g. 09:00-12:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start = time(h1, m1)
        end = None if (h2, m2) >= (24, 0) else time(h2, m2)
        if h2 == 24 and m2:
            raise InvalidInput("window", f"呼叫时段“{shown(text)}”的结束时间无效",
                               f"calling window {shown(text)!r} ends after 24:00")
        if end is not None and end <= start:
            raise InvalidInput("window", f"呼叫时段“{shown(text)}”的结束时间须晚于开始时间",
                               f"calling window {shown(text)!r} must end after it starts")
        return cls(start, end)

    def __str__(self) -> str:
        end = "24:00" if self.end is None else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"

    def contains(self, moment: time) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class CallingHours:
    windows: tuple[CallingWindow, ...]
    rest_days: bool = False  # calls also on weekends and official holidays

    @classmethod
    def parse(cls, windows: Iterable[str], rest_days: bool = False) -> CallingHours:
        parsed = sorted((CallingWindow.parse(w) for w in windows), key=lambda w: w.start)
        if not parsed:
            raise InvalidInput("window", "至少需要一个呼叫时段", "at least one calling window is needed")
        for before, after in zip(parsed, parsed[1:], strict=False):
            if before.end is None or after.start < before.end:
                raise InvalidInput("window", f"呼叫时段 {before} 与 {after} 重叠",
                                   f"calling windows {before} and {after} overlap")
        return cls(tuple(parsed), rest_days)

    def as_text(self) -> list[str]:
        return [str(w) for w in self.windows]

    def _day_open(self, day: date, calendar: WorkingDays) -> bool:
        return self.rest_days or calendar.is_working_day(day)

    def is_open(self, instant: datetime, calendar: WorkingDays) -> bool:
        local = instant.astimezone(BEIJING)
        return self._day_open(local.date(), calendar) and any(
            w.contains(local.time()) for w in self.windows)

    def next_open(self, instant: datetime, calendar: WorkingDays) -> datetime:
        """The earliest instant at or after `instant` when calls are allowed (exactly
        `instant` when they are allowed then); ValueError when none within SEARCH_DAYS."""
        local = instant.astimezone(BEIJING)
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            if not self._day_open(day, calendar):
                continue
            for window in self.windows:
                opens = datetime.combine(day, window.start, BEIJING)
                closes = (datetime.combine(day + timedelta(days=1), time(0), BEIJING)
                          if window.end is None else datetime.combine(day, window.end, BEIJING))
                if closes <= local:
                    continue
                return max(opens, local).astimezone(instant.tzinfo)
        raise ValueError(f"calling hours never open within {SEARCH_DAYS} days of {instant}")


@dataclass(frozen=True)
class Pacing:
    lines: int  # calls in progress at once
    per_minute: int  # dials in any sliding 60 seconds

    def __post_init__(self) -> None:
        for name, value, label in (("lines", self.lines, "并发线路数"),
                                   ("per_minute", self.per_minute, "每分钟呼叫数")):
            if not 1 <= value <= 10_000:
                raise InvalidInput(name, f"{label}应为 1–10000 的整数（收到 {value}）",
                                   f"{name} must be an integer from 1 to 10000 (got {value})")

    def capacity(self, now: datetime, in_flight: int, recent_dials: Iterable[datetime]) -> int:
        """How many dials may start at `now`."""
        last_minute = sum(1 for t in recent_dials if now - MINUTE < t <= now)
        return max(0, min(self.lines - in_flight, self.per_minute - last_minute))

    def next_slot(self, now: datetime, recent_dials: Iterable[datetime]) -> datetime:
        """When the per-minute cap lets the next dial start (now when it does already)."""
        window = sorted(t for t in recent_dials if now - MINUTE < t <= now)
        if len(window) < self.per_minute:
            return now
        return window[len(window) - self.per_minute] + MINUTE
