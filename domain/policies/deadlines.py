"""Deadline policy: pure functions from instants to due instants and escalation steps.

Nothing here reads the clock: callers pass ``now`` and the start instants, so the
aggregate and the tick engine get identical answers on replay.

Conventions
- Every instant in or out is timezone-aware; naive input raises ``ValueError``.
  Results are expressed in the policy time zone (Asia/Shanghai by default).
- Dates are always taken in the policy time zone, never in the zone the caller
  happened to use (a UTC instant late on 09-30 is already 10-01 in Shanghai).
- "N working days" ends at ``end_of_day`` (23:59:59) local time on the N-th working
  day after the day the clock starts; the start day never counts.
- Wall-clock limits (紧急) are exact elapsed durations.
- A deadline or ladder instant is the first instant at which its step applies:
  at ``now == due_at`` the order is 超期.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

from domain.policies.calendar import WorkingCalendar
from domain.policies.policy_file import CallbackSettings, PolicySettings, read_policy_file

# Shipped with the repository; found from this file so the working directory does not matter.
DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[2] / "config" / "policy.toml"

SlaState = Literal["正常", "临期", "超期"]


@dataclass(frozen=True, slots=True)
class Ladder:
    """Escalation instants of one clock. Each step fires at most once per clock
    (the tick engine records which ones it has fired); a new clock (reopen,
    extension) gets a new ladder.

    - warning_at: 临期 (reminder to the handling unit)
    - level1_at: 催办 if no plan has been reported by then
    - level2_at: 超期, overdue; a supervision order (督办单) is raised
    - level3_at: 通报, public notice
    """

    warning_at: datetime
    level1_at: datetime
    level2_at: datetime
    level3_at: datetime


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    settings: PolicySettings
    calendar: WorkingCalendar

    @classmethod
    def default(cls) -> DeadlinePolicy:
        """The policy in the repository's config/policy.toml (read once, then shared)."""
        return _default_policy()

    @property
    def callback(self) -> CallbackSettings:
        return self.settings.callback

    # -- clocks -------------------------------------------------------------

    def handling_due(self, category: str, urgency: str, started_at: datetime) -> datetime:
        """办理时限: clock starts at dispatch (or re-dispatch to a new unit)."""
        try:
            days = self.settings.handling_working_days[category]
        except KeyError:
            known = ", ".join(self.settings.handling_working_days)
            raise ValueError(f"unknown category {category!r}; expected one of {known}") from None
        if self._is_urgent(urgency):
            return self._after(started_at, self.settings.handling_urgent)
        return self._after_working_days(started_at, days)

    def sign_due(self, urgency: str, dispatched_at: datetime) -> datetime:
        """签收时限, from dispatch."""
        if self._is_urgent(urgency):
            return self._after(dispatched_at, self.settings.sign_urgent)
        return self._after_working_days(dispatched_at, self.settings.sign_working_days)

    def dispatch_due(self, urgency: str, intake_at: datetime) -> datetime:
        """及时派单: wall clock from intake, since the hotline works 7x24."""
        if self._is_urgent(urgency):
            return self._after(intake_at, self.settings.dispatch_urgent)
        return self._after(intake_at, self.settings.dispatch)

    def reopen_due(self, urgency: str, reopened_at: datetime) -> datetime:
        """重办: a fresh clock from the reopen instant, not the original dispatch."""
        if self._is_urgent(urgency):
            return self._after(reopened_at, self.settings.reopen_urgent)
        return self._after_working_days(reopened_at, self.settings.reopen_working_days)

    def extend_due(self, due_at: datetime, days: int) -> datetime:
        """Approved extension (延期) of ``days`` working days, counted from the current
        due date's day; the new deadline is the end of that working day."""
        if days < 1:
            raise ValueError(f"an extension must be at least 1 working day, got {days}")
        return self._after_working_days(due_at, days)

    def resume_due(
        self, due_at: datetime, urgency: str, paused_at: datetime, resumed_at: datetime
    ) -> datetime:
        """The due instant of a clock paused while an order was 已退回, resumed for the same
        unit: working-day clocks move by the working days that began during the pause
        (a pause within one day, or over a holiday, costs the unit nothing and gains it
        nothing); wall-clock (紧急) clocks move by the elapsed time."""
        if self._is_urgent(urgency):
            return self.local(due_at) + (resumed_at - paused_at)
        days = self.calendar.working_days_between(self.local(paused_at).date(),
                                                  self.local(resumed_at).date())
        return self._after_working_days(due_at, days) if days > 0 else self.local(due_at)

    # -- escalation -----------------------------------------------------------

    def ladder(self, due_at: datetime, urgency: str) -> Ladder:
        due = self.local(due_at)
        warning, level1 = self._warning_and_level1(due, urgency)
        # 通报: end of the N-th working day after the due day (not N x 24 h after the
        # due instant), so the notice never lands on a weekend or holiday.
        level3 = self._at(
            self.calendar.add_working_days(due.date(), self.settings.level3_working_days),
            self.settings.end_of_day,
        )
        return Ladder(warning_at=warning, level1_at=level1, level2_at=due, level3_at=level3)

    def sla_state(self, now: datetime, due_at: datetime, urgency: str) -> SlaState:
        """正常 before the warning instant, 临期 from it, 超期 from the due instant."""
        now_local = self.local(now)
        due = self.local(due_at)
        warning, _ = self._warning_and_level1(due, urgency)
        if now_local >= due:
            return "超期"
        if now_local >= warning:
            return "临期"
        return "正常"

    # -- helpers ----------------------------------------------------------------

    def local(self, instant: datetime) -> datetime:
        """``instant`` in the policy time zone; the date of the result is the business date."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"naive datetime {instant.isoformat()}: pass a timezone-aware instant")
        return instant.astimezone(self.settings.timezone)

    def _warning_and_level1(self, due: datetime, urgency: str) -> tuple[datetime, datetime]:
        s = self.settings
        if self._is_urgent(urgency):
            warning = self._shift(due, -s.urgent_warning_before_due)
            return warning, self._shift(warning, s.urgent_level1_after_warning)
        # min(): a due instant earlier in the day than these times (only hand-made
        # ones; working-day clocks end at end_of_day) must not reorder the ladder.
        level1 = min(self._at(due.date(), s.level1_time), due)
        return min(self._at(due.date(), s.warning_time), level1), level1

    def _is_urgent(self, urgency: str) -> bool:
        if urgency == self.settings.urgent:
            return True
        if urgency in self.settings.urgency_levels:
            return False
        known = ", ".join(self.settings.urgency_levels)
        raise ValueError(f"unknown urgency {urgency!r}; expected one of {known}")

    def _after(self, start: datetime, duration: timedelta) -> datetime:
        return self._shift(self.local(start), duration)

    def _shift(self, instant: datetime, duration: timedelta) -> datetime:
        # Elapsed time, computed in UTC so a zone with DST would still be exact.
        return (instant.astimezone(UTC) + duration).astimezone(self.settings.timezone)

    def _after_working_days(self, start: datetime, days: int) -> datetime:
        day = self.calendar.add_working_days(self.local(start).date(), days)
        return self._at(day, self.settings.end_of_day)

    def _at(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self.settings.timezone)


def load_policy(path: str | Path, calendar: WorkingCalendar | None = None) -> DeadlinePolicy:
    """Build a policy from a policy file, on ``calendar`` (default: a fresh standard
    calendar: packaged arrangements, provisional years up to next year)."""
    return DeadlinePolicy(read_policy_file(path), calendar or WorkingCalendar.standard())


@cache
def _default_policy() -> DeadlinePolicy:
    return load_policy(DEFAULT_POLICY_PATH)
