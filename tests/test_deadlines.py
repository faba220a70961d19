import copy
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.policies import (
    DEFAULT_POLICY_PATH,
    CalendarRangeError,
    DeadlinePolicy,
    Ladder,
    PolicyError,
    load_policy,
    parse_policy,
)

SH = ZoneInfo("Asia/Shanghai")
POLICY = DeadlinePolicy.default()
CATEGORIES = {"咨询": 2, "求助": 10, "建议": 10, "投诉": 15, "举报": 15, "表扬": 5}


def sh(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SH)


DISPATCHED = sh(2025, 9, 30, 10, 0)


# -- handling limits ----------------------------------------------------------


def test_consult_dispatched_before_national_day_is_due_on_october_10() -> None:
    assert POLICY.handling_due("咨询", "一般", DISPATCHED) == sh(2025, 10, 10, 23, 59, 59)


def test_complaint_counts_adjusted_saturday_and_skips_the_holiday() -> None:
    # 2025-10-11 (Sat) is a working day, 10-01..08 are not: 15th working day is 10-28.
    assert POLICY.handling_due("投诉", "一般", DISPATCHED) == sh(2025, 10, 28, 23, 59, 59)


def test_every_category_limit_from_the_shipped_policy() -> None:
    assert dict(POLICY.settings.handling_working_days) == CATEGORIES
    for category, days in CATEGORIES.items():
        due = POLICY.handling_due(category, "一般", DISPATCHED)
        assert POLICY.calendar.working_days_between(date(2025, 9, 30), due.date()) == days
        assert due.timetz() == time(23, 59, 59, tzinfo=SH)


def test_urgent_is_24_hours_wall_clock() -> None:
    for category in CATEGORIES:
        assert POLICY.handling_due(category, "紧急", DISPATCHED) == sh(2025, 10, 1, 10, 0)


def test_utc_instant_uses_the_shanghai_date() -> None:
    # 2025-09-30T17:00Z is 2025-10-01 01:00 in Shanghai, a holiday.
    instant = datetime(2025, 9, 30, 17, 0, tzinfo=UTC)
    assert POLICY.local(instant) == sh(2025, 10, 1, 1, 0)
    assert not POLICY.calendar.is_working_day(POLICY.local(instant).date())
    due = POLICY.handling_due("咨询", "一般", instant)
    assert due == sh(2025, 10, 10, 23, 59, 59)
    assert due.tzinfo == SH
    # Cases where taking the UTC date would give a different (earlier) deadline:
    # 10-08T17:00Z is 10-09 01:00 local, so the clock starts on 10-09, not the holiday 10-08.
    assert POLICY.handling_due("咨询", "一般", datetime(2025, 10, 8, 17, tzinfo=UTC)) == sh(
        2025, 10, 11, 23, 59, 59
    )
    # 09-27T16:30Z is Sunday 09-28 00:30 local (an adjusted working day).
    assert POLICY.sign_due("一般", datetime(2025, 9, 27, 16, 30, tzinfo=UTC)) == sh(
        2025, 9, 29, 23, 59, 59
    )


def test_other_fixed_offsets_are_converted_too() -> None:
    tokyo = datetime(2025, 10, 9, 0, 30, tzinfo=ZoneInfo("Asia/Tokyo"))  # 10-08 23:30 Shanghai
    assert POLICY.sign_due("一般", tokyo) == sh(2025, 10, 9, 23, 59, 59)


# -- sign, dispatch, reopen, extension -------------------------------------------


def test_sign_due() -> None:
    assert POLICY.sign_due("一般", DISPATCHED) == sh(2025, 10, 9, 23, 59, 59)
    assert POLICY.sign_due("一般", sh(2025, 10, 10, 23, 30)) == sh(2025, 10, 11, 23, 59, 59)
    assert POLICY.sign_due("紧急", DISPATCHED) == sh(2025, 9, 30, 12, 0)


def test_dispatch_due_is_wall_clock_even_on_holidays() -> None:
    assert POLICY.dispatch_due("一般", DISPATCHED) == sh(2025, 9, 30, 12, 0)
    assert POLICY.dispatch_due("紧急", DISPATCHED) == sh(2025, 9, 30, 10, 30)
    assert POLICY.dispatch_due("一般", sh(2025, 10, 1, 23, 0)) == sh(2025, 10, 2, 1, 0)


def test_reopen_starts_a_fresh_clock_from_the_reopen_instant() -> None:
    reopened = sh(2025, 10, 9, 15, 0)
    assert POLICY.reopen_due("一般", reopened) == sh(2025, 10, 15, 23, 59, 59)
    assert POLICY.reopen_due("紧急", reopened) == sh(2025, 10, 10, 15, 0)


def test_extension_moves_the_due_date_by_working_days() -> None:
    assert POLICY.extend_due(sh(2025, 10, 10, 23, 59, 59), 3) == sh(2025, 10, 14, 23, 59, 59)
    assert POLICY.extend_due(sh(2025, 10, 28, 23, 59, 59), 5) == sh(2025, 11, 4, 23, 59, 59)
    # Counted from the due date's day in Shanghai, whatever zone the due instant is in.
    assert POLICY.extend_due(datetime(2025, 10, 10, 15, 59, 59, tzinfo=UTC), 1) == sh(
        2025, 10, 11, 23, 59, 59
    )
    # An urgent (wall-clock) due instant on a holiday: extension ends on a working day.
    assert POLICY.extend_due(sh(2025, 10, 1, 10, 0), 2) == sh(2025, 10, 10, 23, 59, 59)
    with pytest.raises(ValueError, match="at least 1 working day"):
        POLICY.extend_due(sh(2025, 10, 10, 23, 59, 59), 0)


# -- escalation ladder and SLA state ------------------------------------------------


def test_ladder_for_a_working_day_clock() -> None:
    due = POLICY.handling_due("咨询", "一般", DISPATCHED)
    assert POLICY.ladder(due, "一般") == Ladder(
        warning_at=sh(2025, 10, 10, 0, 0),
        level1_at=sh(2025, 10, 10, 18, 0),
        level2_at=sh(2025, 10, 10, 23, 59, 59),
        # due day 10-10 + 5 working days: 10-11 (Sat, 调休), 13, 14, 15, 16.
        level3_at=sh(2025, 10, 16, 23, 59, 59),
    )


def test_ladder_for_an_urgent_clock() -> None:
    due = POLICY.handling_due("投诉", "紧急", DISPATCHED)  # 2025-10-01 10:00, a holiday
    assert POLICY.ladder(due, "紧急") == Ladder(
        warning_at=sh(2025, 10, 1, 6, 0),
        level1_at=sh(2025, 10, 1, 8, 0),
        level2_at=sh(2025, 10, 1, 10, 0),
        level3_at=sh(2025, 10, 14, 23, 59, 59),
    )


def test_sla_state_boundaries() -> None:
    due = sh(2025, 10, 10, 23, 59, 59)
    assert POLICY.sla_state(sh(2025, 10, 9, 23, 59, 59), due, "一般") == "正常"
    assert POLICY.sla_state(sh(2025, 10, 10, 0, 0), due, "一般") == "临期"
    assert POLICY.sla_state(sh(2025, 10, 10, 23, 59, 58), due, "一般") == "临期"
    assert POLICY.sla_state(due, due, "一般") == "超期"
    # UTC "now" on the due day's early hours (still 10-09 in UTC) is already 临期.
    assert POLICY.sla_state(datetime(2025, 10, 9, 16, 30, tzinfo=UTC), due, "一般") == "临期"
    urgent_due = sh(2025, 10, 1, 10, 0)
    assert POLICY.sla_state(sh(2025, 10, 1, 5, 59), urgent_due, "紧急") == "正常"
    assert POLICY.sla_state(sh(2025, 10, 1, 6, 0), urgent_due, "紧急") == "临期"
    assert POLICY.sla_state(sh(2025, 10, 1, 10, 0), urgent_due, "紧急") == "超期"


instants = st.datetimes(
    min_value=datetime(2005, 1, 1), max_value=datetime(2026, 10, 31), timezones=st.just(UTC)
)


@given(instants, st.sampled_from(sorted(CATEGORIES)), st.sampled_from(["一般", "紧急"]))
def test_ladder_is_ordered_and_due_is_a_working_day_end(
    start: datetime, category: str, urgency: str
) -> None:
    due = POLICY.handling_due(category, urgency, start)
    steps = POLICY.ladder(due, urgency)
    assert steps.warning_at <= steps.level1_at <= steps.level2_at == due < steps.level3_at
    if urgency == "一般":
        assert POLICY.calendar.is_working_day(due.date())
        assert due.time() == time(23, 59, 59)
        start_day = POLICY.local(start).date()
        assert POLICY.calendar.working_days_between(start_day, due.date()) == CATEGORIES[category]


@given(instants)
def test_ladder_stays_ordered_for_any_due_instant(due: datetime) -> None:
    steps = POLICY.ladder(due, "一般")
    assert steps.warning_at <= steps.level1_at <= steps.level2_at < steps.level3_at


# -- input validation ---------------------------------------------------------------


def test_naive_datetimes_are_refused_everywhere() -> None:
    naive = datetime(2025, 9, 30, 10, 0)
    calls = [
        lambda: POLICY.handling_due("咨询", "一般", naive),
        lambda: POLICY.sign_due("一般", naive),
        lambda: POLICY.dispatch_due("紧急", naive),
        lambda: POLICY.reopen_due("一般", naive),
        lambda: POLICY.extend_due(naive, 1),
        lambda: POLICY.ladder(naive, "一般"),
        lambda: POLICY.sla_state(naive, DISPATCHED, "一般"),
        lambda: POLICY.sla_state(DISPATCHED, naive, "一般"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="naive"):
            call()


def test_unknown_category_and_urgency_are_named() -> None:
    with pytest.raises(ValueError, match="unknown category '闲聊'"):
        POLICY.handling_due("闲聊", "一般", DISPATCHED)
    with pytest.raises(ValueError, match="unknown urgency '特急'"):
        POLICY.sign_due("特急", DISPATCHED)
    with pytest.raises(ValueError, match="unknown urgency '特急'"):
        POLICY.ladder(DISPATCHED, "特急")


def test_year_beyond_the_calendar_raises_instead_of_guessing() -> None:
    with pytest.raises(CalendarRangeError, match="2031") as err:
        POLICY.handling_due("投诉", "一般", sh(2031, 5, 6, 9, 0))
    assert err.value.year == 2031
    last = POLICY.calendar.last_year
    with pytest.raises(CalendarRangeError, match=str(last + 1)):
        POLICY.handling_due("投诉", "一般", sh(last, 12, 28, 9, 0))
    # Wall-clock limits need no calendar.
    assert POLICY.handling_due("投诉", "紧急", sh(2031, 5, 6, 9, 0)) == sh(2031, 5, 7, 9, 0)


# -- policy file ------------------------------------------------------------------------


def test_default_policy_is_the_shipped_file() -> None:
    assert DEFAULT_POLICY_PATH.is_absolute() and DEFAULT_POLICY_PATH.is_file()
    assert DeadlinePolicy.default() is POLICY  # read once
    s = POLICY.settings
    assert s.timezone == SH and s.end_of_day == time(23, 59, 59)
    assert s.urgency_levels == ("一般", "紧急") and s.urgent == "紧急"
    assert s.handling_urgent == timedelta(hours=24)
    assert (s.sign_working_days, s.sign_urgent) == (1, timedelta(hours=2))
    assert (s.dispatch, s.dispatch_urgent) == (timedelta(hours=2), timedelta(minutes=30))
    assert (s.reopen_working_days, s.reopen_urgent) == (5, timedelta(hours=24))
    assert (s.warning_time, s.level1_time, s.level3_working_days) == (time(0), time(18), 5)
    assert s.urgent_warning_before_due == timedelta(hours=4)
    assert s.urgent_level1_after_warning == timedelta(hours=2)
    cb = POLICY.callback
    assert (cb.attempts, cb.retry_interval) == (3, timedelta(minutes=30))
    assert (cb.calling_hours_start, cb.calling_hours_end) == (time(8), time(21))
    assert cb.days_after_completion == 1


def test_load_policy_from_a_path(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace('"咨询" = 2', '"咨询" = 3')
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    assert policy.handling_due("咨询", "一般", DISPATCHED) == sh(2025, 10, 11, 23, 59, 59)


def shipped() -> dict[str, Any]:
    with DEFAULT_POLICY_PATH.open("rb") as f:
        return copy.deepcopy(tomllib.load(f))


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for p in parents:
        data = data[p]
    data[last] = value


def _delete(data: dict[str, Any], key: str) -> None:
    *parents, last = key.split(".")
    for p in parents:
        data = data[p]
    del data[last]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("handling.working_days.投诉", -1, "handling.working_days.投诉: invalid value -1"),
        ("handling.working_days.咨询", "2", "handling.working_days.咨询: invalid value '2'"),
        ("handling.working_days.咨询", True, "handling.working_days.咨询: invalid value True"),
        ("handling.working_days", {}, "handling.working_days: must list at least one"),
        ("handling.urgent_minutes", 0, "handling.urgent_minutes: invalid value 0"),
        ("calendar.timezone", "Asia/Beijing", "calendar.timezone: unknown time zone"),
        ("calendar.end_of_day", "23:59:59", "calendar.end_of_day: invalid value '23:59:59'"),
        ("urgency.urgent", "特急", "urgency.urgent: '特急' is not one of"),
        ("urgency.levels", ["一般", "一般"], "urgency.levels: invalid value"),
        ("sign.working_days", 0, "sign.working_days: invalid value 0"),
        ("dispatch.minutes", 1.5, "dispatch.minutes: invalid value 1.5"),
        ("reopen", 5, "reopen: invalid value 5: expected a table"),
        ("ladder.level1_time", time(23, 59, 59, 1), "ladder.level1_time: .* is after"),
        (
            "ladder.urgent_level1_minutes_after_warning",
            300,
            "ladder.urgent_level1_minutes_after_warning: must not exceed",
        ),
        ("callback.attempts", 0, "callback.attempts: invalid value 0"),
        (
            "callback.calling_hours_end",
            time(7, 0),
            "callback.calling_hours_end: 07:00:00 is not after",
        ),
        ("callback.days_after_completion", -1, "callback.days_after_completion: invalid value -1"),
        ("callback.retry_intervall_minutes", 30, "callback.retry_intervall_minutes: unknown key"),
        ("handling.urgent_hours", 24, "handling.urgent_hours: unknown key"),
        ("extension", {"days": 3}, "extension: unknown key"),
    ],
)
def test_bad_policy_values_name_the_key(key: str, value: Any, message: str) -> None:
    data = shipped()
    _set(data, key, value)
    with pytest.raises(PolicyError, match=message):
        parse_policy(data, "policy.toml")


@pytest.mark.parametrize(
    "key", ["calendar.timezone", "ladder", "callback.attempts", "handling.working_days"]
)
def test_missing_policy_keys_are_named(key: str) -> None:
    data = shipped()
    _delete(data, key)
    with pytest.raises(PolicyError, match=f"policy.toml: {key}: missing"):
        parse_policy(data, "policy.toml")


def test_policy_file_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[calendar\ntimezone = 1\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"broken\.toml: not valid TOML"):
        load_policy(broken)
    with pytest.raises(PolicyError, match=r"absent\.toml: cannot read policy file"):
        load_policy(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace('"投诉" = 15', '"投诉" = 0'),
        encoding="utf-8",
    )
    with pytest.raises(
        PolicyError, match=r"bad\.toml: handling\.working_days\.投诉: invalid value 0"
    ):
        load_policy(bad)
