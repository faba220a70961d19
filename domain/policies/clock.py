"""One handling clock, computed from its recipe: the single place the clock rules meet.

A clock's due instant is the fold of the steps that made it: a start (派单 or 重办), a
resume after a return to the same unit (shifted by the working days of the pause), an
approved extension (延期). The aggregate keeps those steps as plain data; the service
computes a new clock from them when a command starts or changes one, and the ticker
recomputes the same recipe when the calendar a clock was computed on changes (a
provisional year becomes official). Replay never calls this: the results are recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from domain.policies.calendar import PROVISIONAL, WorkingCalendar, basis_of

Step = dict[str, Any]

HANDLING = "handling"
REOPEN = "reopen"
RESUME = "resume"
EXTEND = "extend"


class ClockRules(Protocol):
    """What the fold needs from the deadline policy (DeadlinePolicy implements it)."""

    @property
    def calendar(self) -> WorkingCalendar: ...

    def handling_due(self, category: str, urgency: str, started_at: datetime) -> datetime: ...

    def reopen_due(self, urgency: str, reopened_at: datetime) -> datetime: ...

    def resume_due(self, due_at: datetime, urgency: str, paused_at: datetime,
                   resumed_at: datetime) -> datetime: ...

    def extend_due(self, due_at: datetime, days: int) -> datetime: ...

    def ladder(self, due_at: datetime, urgency: str) -> Any: ...

    def local(self, instant: datetime) -> datetime: ...


@dataclass(frozen=True)
class ComputedClock:
    """A computed clock as events record it: ladder instants as UTC ISO strings, and the
    calendar version of every year the computation looked at."""

    due_at: datetime
    ladder: dict[str, str]
    calendar: dict[str, str]

    @property
    def basis(self) -> str:
        return deadline_basis(self.calendar) or "official"


def handling_step(at: datetime) -> Step:
    return {"rule": HANDLING, "at": at.astimezone(UTC).isoformat()}


def reopen_step(at: datetime) -> Step:
    return {"rule": REOPEN, "at": at.astimezone(UTC).isoformat()}


def resume_step(paused_at: str, at: datetime) -> Step:
    return {"rule": RESUME, "paused_at": paused_at, "at": at.astimezone(UTC).isoformat()}


def extend_step(days: int) -> Step:
    return {"rule": EXTEND, "days": int(days)}


def compute_clock(rules: ClockRules, category: str, urgency: str, steps: Sequence[Step],
                  not_before: datetime | None = None) -> ComputedClock:
    """Fold ``steps`` into a due instant and its ladder.

    ``not_before``: a revision must never make steps fire in the past. When the revised
    due instant is already behind it, the ladder is laid from ``not_before`` instead, so
    the order is due at once and the later steps (通报) count from now, not from a
    deadline nobody could have known.
    """
    if not steps or steps[0]["rule"] not in (HANDLING, REOPEN):
        raise ValueError("a clock recipe starts with a handling or reopen step")
    due: datetime | None = None
    for step in steps:
        rule = step["rule"]
        if rule == HANDLING:
            due = rules.handling_due(category, urgency, datetime.fromisoformat(step["at"]))
        elif rule == REOPEN:
            due = rules.reopen_due(urgency, datetime.fromisoformat(step["at"]))
        elif rule == RESUME and due is not None:
            due = rules.resume_due(due, urgency, datetime.fromisoformat(step["paused_at"]),
                                   datetime.fromisoformat(step["at"]))
        elif rule == EXTEND and due is not None:
            due = rules.extend_due(due, int(step["days"]))
        else:
            raise ValueError(f"unknown clock step {step!r}")
    assert due is not None
    laid_from = max(due, not_before) if not_before is not None else due
    instants = rules.ladder(laid_from, urgency)
    ladder = {name: getattr(instants, f"{name}_at").astimezone(UTC).isoformat()
              for name in ("warning", "level1", "level2", "level3")}
    first = rules.local(datetime.fromisoformat(steps[0]["at"])).date()
    last = rules.local(instants.level3_at).date()
    return ComputedClock(due, ladder, rules.calendar.versions(first, last))


def deadline_basis(calendar: dict[str, str] | None,
                   through_year: int | None = None) -> str | None:
    """"provisional" when a year the deadline was computed on is provisional, "official"
    otherwise; None when no calendar was recorded (no clock, or one from before bases
    existed). ``through_year``: the deadline's own year; later years (where only the 通报
    instant lies) do not make the deadline itself provisional, though a change there still
    revises the clock."""
    if not calendar:
        return None
    years = [v for y, v in calendar.items() if through_year is None or int(y) <= through_year]
    return PROVISIONAL if any(basis_of(v) == PROVISIONAL for v in years) else "official"


def stale_years(calendar: dict[str, str], current: WorkingCalendar) -> list[str]:
    """Years whose arrangement changed since the clock was computed."""
    stale = []
    for year, version in calendar.items():
        try:
            now = current.arrangement(int(year)).version
        except ValueError:
            continue  # a year the calendar no longer answers for: nothing better to use
        if now != version:
            stale.append(year)
    return stale
