"""What happens after a call: finish, retry after an interval, or flag the number.

ONE retry budget per contact, shared by every outcome: a contact with a budget of 2 is
called at most 3 times whatever mix of 未接通 / 忙 / 关机 it gives (diallers that keep a
budget per cause call people far more often than configured). 空号 and 停机 are never
called again and are flagged for the department that published the number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.campaign.defaults import DEFAULT_AFTER, DEFAULT_BUDGET
from domain.campaign.states import (
    BUSY,
    CONNECTED,
    NO_ANSWER,
    POWERED_OFF,
    REJECTED,
    SUSPENDED,
    VACANT,
)
from domain.errors import InvalidInput

FLAGGED_OUTCOMES = (VACANT, SUSPENDED)
RETRYABLE_OUTCOMES = (NO_ANSWER, BUSY, POWERED_OFF, REJECTED)
MAX_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Disposition:
    """The decision recorded after an outcome."""

    retry_after: datetime | None  # the earliest instant of the next dial (None: finished)
    flag: str | None  # 空号 / 停机: a number to report
    reason: str  # why it finished or when it is retried, for people


@dataclass(frozen=True)
class RetryRules:
    budget: int = DEFAULT_BUDGET
    after: Mapping[str, int | None] = field(default_factory=lambda: dict(DEFAULT_AFTER))

    def __post_init__(self) -> None:
        if not 0 <= self.budget <= 20:
            raise InvalidInput("max_retries", f"重呼次数应为 0–20（收到 {self.budget}）",
                               f"max_retries must be from 0 to 20 (got {self.budget})")
        for outcome, minutes in self.after.items():
            if outcome not in RETRYABLE_OUTCOMES:
                raise InvalidInput("retry", f"“{outcome}”不能重呼", f"{outcome} is never retried")
            if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
                raise InvalidInput("retry", f"{outcome}的重呼间隔应为 1–{MAX_MINUTES} 分钟（收到 {minutes}）",
                                   f"the retry interval after {outcome} must be 1-{MAX_MINUTES} "
                                   f"minutes (got {minutes})")

    def as_dict(self) -> dict[str, Any]:
        return {"budget": self.budget, "after": dict(self.after)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetryRules:
        return cls(int(data["budget"]), dict(data["after"]))

    def decide(self, outcome: str, retries_used: int, at: datetime) -> Disposition:
        if outcome == CONNECTED:
            return Disposition(None, None, "已接通")
        if outcome in FLAGGED_OUTCOMES:
            return Disposition(None, outcome, f"{outcome}，不再呼叫并标记")
        minutes = self.after.get(outcome)
        if minutes is None:
            return Disposition(None, None, f"{outcome}，按规则不再重呼")
        if retries_used >= self.budget:
            return Disposition(None, None, f"{outcome}，重呼次数已用完（{self.budget} 次）")
        return Disposition(at + timedelta(minutes=minutes), None,
                           f"{outcome}，{minutes} 分钟后重呼（第 {retries_used + 1}/{self.budget} 次）")
