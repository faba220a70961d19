"""Reading and validating the deadline policy file (config/policy.toml).

This is the one place in ``domain/`` that does I/O (``read_policy_file``). Every
value is checked at start-up, and any problem is reported with the file and the
dotted key, so a typo cannot silently fall back to a default deadline.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class PolicyError(ValueError):
    """The policy file is unreadable or holds a missing, unknown or invalid value."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class CallbackSettings:
    """回访 retry rules, kept here for the callback scheduler."""

    attempts: int
    retry_interval: timedelta
    calling_hours_start: time
    calling_hours_end: time
    days_after_completion: int


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """Validated contents of the policy file; names mirror the TOML keys."""

    timezone: ZoneInfo
    end_of_day: time
    urgency_levels: tuple[str, ...]
    urgent: str
    handling_working_days: Mapping[str, int]
    handling_urgent: timedelta
    sign_working_days: int
    sign_urgent: timedelta
    dispatch: timedelta
    dispatch_urgent: timedelta
    reopen_working_days: int
    reopen_urgent: timedelta
    warning_time: time
    level1_time: time
    level3_working_days: int
    urgent_warning_before_due: timedelta
    urgent_level1_after_warning: timedelta
    callback: CallbackSettings


def read_policy_file(path: str | Path) -> PolicySettings:
    """Read and validate a policy file; raise ``PolicyError`` naming the bad key."""
    source = str(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise PolicyError(source, "", f"cannot read policy file: {e.strerror or e}") from e
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(source, "", f"not valid TOML: {e}") from e
    return parse_policy(data, source)


def parse_policy(data: Mapping[str, object], source: str = "<policy>") -> PolicySettings:
    """Validate already-parsed TOML data (a dict as returned by ``tomllib``)."""
    root = _Table(data, "", source)

    calendar = root.table("calendar")
    tz_name = calendar.string("timezone")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise calendar.error("timezone", f"unknown time zone {tz_name!r}") from e
    end_of_day = calendar.time_of_day("end_of_day")
    calendar.done()

    urgency = root.table("urgency")
    levels = urgency.string_list("levels")
    urgent = urgency.string("urgent")
    if urgent not in levels:
        raise urgency.error("urgent", f"{urgent!r} is not one of urgency.levels {list(levels)}")
    urgency.done()

    handling = root.table("handling")
    by_category = handling.table("working_days")
    categories = {key: by_category.integer(key, minimum=1) for key in by_category.keys()}
    if not categories:
        raise handling.error("working_days", "must list at least one category")
    by_category.done()
    handling_urgent = handling.minutes("urgent_minutes")
    handling.done()

    sign = root.table("sign")
    sign_days = sign.integer("working_days", minimum=1)
    sign_urgent = sign.minutes("urgent_minutes")
    sign.done()

    dispatch = root.table("dispatch")
    dispatch_normal = dispatch.minutes("minutes")
    dispatch_urgent = dispatch.minutes("urgent_minutes")
    dispatch.done()

    reopen = root.table("reopen")
    reopen_days = reopen.integer("working_days", minimum=1)
    reopen_urgent = reopen.minutes("urgent_minutes")
    reopen.done()

    ladder = root.table("ladder")
    warning_time = ladder.time_of_day("warning_time")
    level1_time = ladder.time_of_day("level1_time")
    # Keep the ladder ordered (warning <= level 1 <= due) for working-day clocks.
    if level1_time < warning_time:
        raise ladder.error("level1_time", f"{level1_time} is before warning_time {warning_time}")
    if level1_time > end_of_day:
        raise ladder.error(
            "level1_time", f"{level1_time} is after calendar.end_of_day {end_of_day}"
        )
    level3_days = ladder.integer("level3_working_days", minimum=1)
    warning_before = ladder.minutes("urgent_warning_minutes_before_due")
    level1_after = ladder.minutes("urgent_level1_minutes_after_warning")
    if level1_after > warning_before:
        raise ladder.error(
            "urgent_level1_minutes_after_warning",
            "must not exceed urgent_warning_minutes_before_due (level 1 would come after the due instant)",
        )
    ladder.done()

    callback = root.table("callback")
    attempts = callback.integer("attempts", minimum=1)
    retry_interval = callback.minutes("retry_interval_minutes")
    hours_start = callback.time_of_day("calling_hours_start")
    hours_end = callback.time_of_day("calling_hours_end")
    if hours_end <= hours_start:
        raise callback.error(
            "calling_hours_end", f"{hours_end} is not after calling_hours_start {hours_start}"
        )
    days_after = callback.integer("days_after_completion", minimum=0)
    callback.done()

    root.done()
    return PolicySettings(
        timezone=timezone,
        end_of_day=end_of_day,
        urgency_levels=levels,
        urgent=urgent,
        handling_working_days=MappingProxyType(categories),
        handling_urgent=handling_urgent,
        sign_working_days=sign_days,
        sign_urgent=sign_urgent,
        dispatch=dispatch_normal,
        dispatch_urgent=dispatch_urgent,
        reopen_working_days=reopen_days,
        reopen_urgent=reopen_urgent,
        warning_time=warning_time,
        level1_time=level1_time,
        level3_working_days=level3_days,
        urgent_warning_before_due=warning_before,
        urgent_level1_after_warning=level1_after,
        callback=CallbackSettings(
            attempts=attempts,
            retry_interval=retry_interval,
            calling_hours_start=hours_start,
            calling_hours_end=hours_end,
            days_after_completion=days_after,
        ),
    )


class _Table:
    """One TOML table being read: typed getters that name the dotted key on failure,
    and ``done()`` to reject keys nobody asked for (typos)."""

    def __init__(self, data: Mapping[str, object], path: str, source: str) -> None:
        self._data = data
        self._path = path
        self._source = source
        self._seen: set[str] = set()

    def keys(self) -> list[str]:
        return list(self._data)

    def error(self, key: str, problem: str) -> PolicyError:
        return PolicyError(self._source, self._key(key), problem)

    def table(self, key: str) -> _Table:
        value = self._get(key)
        if not isinstance(value, Mapping):
            raise self._bad(key, value, "expected a table")
        return _Table(value, self._key(key), self._source)

    def integer(self, key: str, minimum: int) -> int:
        value = self._get(key)
        # bool is an int subclass; `true` must not read as 1.
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self._bad(key, value, f"expected an integer >= {minimum}")
        return value

    def minutes(self, key: str) -> timedelta:
        return timedelta(minutes=self.integer(key, minimum=1))

    def string(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise self._bad(key, value, "expected a non-empty string")
        return value

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
            or len(set(value)) != len(value)
        ):
            raise self._bad(key, value, "expected a non-empty list of distinct non-empty strings")
        return tuple(value)

    def time_of_day(self, key: str) -> time:
        value = self._get(key)
        if not isinstance(value, time) or value.tzinfo is not None:
            raise self._bad(key, value, "expected a TOML local time such as 18:00:00 (no quotes)")
        return value

    def done(self) -> None:
        unknown = [k for k in self._data if k not in self._seen]
        if unknown:
            raise self.error(unknown[0], "unknown key (misspelt?)")

    def _get(self, key: str) -> object:
        if key not in self._data:
            raise self.error(key, "missing")
        self._seen.add(key)
        return self._data[key]

    def _bad(self, key: str, value: object, expected: str) -> PolicyError:
        return self.error(key, f"invalid value {value!r}: {expected}")

    def _key(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key
