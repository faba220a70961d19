"""Pure deadline policy: working-day calendar, time limits and escalation ladder."""

from domain.policies.calendar import CalendarRangeError, WorkingCalendar
from domain.policies.deadlines import (
    DEFAULT_POLICY_PATH,
    DeadlinePolicy,
    Ladder,
    SlaState,
    load_policy,
)
from domain.policies.policy_file import (
    CallbackSettings,
    PolicyError,
    PolicySettings,
    parse_policy,
    read_policy_file,
)

__all__ = [
    "DEFAULT_POLICY_PATH",
    "CalendarRangeError",
    "CallbackSettings",
    "DeadlinePolicy",
    "Ladder",
    "PolicyError",
    "PolicySettings",
    "SlaState",
    "WorkingCalendar",
    "load_policy",
    "parse_policy",
    "read_policy_file",
]
