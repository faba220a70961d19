"""The World: what one scenario knows (engine, clock, current order, last outcome)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from adapters.bootstrap import Engine
from domain.errors import DomainError
from domain.service import SHANGHAI
from domain.values import Actor

CENTRE = Actor("dispatcher", "centre")
AGENT = Actor("agent", "A01")
CALLBACK_AGENT = Actor("agent", "回访坐席")
REGION = "甬江区"


class SettableClock(Protocol):
    now: datetime

    def set(self, text: str) -> None: ...


def unit(dept: str) -> Actor:
    return Actor("department", dept or "?")


def parse_moment(text: str) -> datetime:
    """'2025-09-30 10:00' (Beijing time) -> an aware datetime."""
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def show_moment(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else "（无）"


def split_names(text: str) -> list[str]:
    return [part.strip() for part in text.split("、") if part.strip()]


@dataclass
class Outcome:
    """The result of the last 当 command."""

    ticket: str | None
    events_before: int
    version_before: int | None
    error: DomainError | None = None


@dataclass
class World:
    engine: Engine
    clock: SettableClock
    current: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    outcome: Outcome | None = None
    history: dict[str, Any] | None = None
    ticked: dict[str, int] | None = None  # counts per ladder step of the last 到期检查

    # ----- orders ---------------------------------------------------------------------
    @property
    def ticket(self) -> str:
        assert self.current, "场景中还没有工单（先受理一张工单）"
        return self.current

    def ticket_of(self, alias: str) -> str:
        assert alias in self.aliases, f"没有代号为“{alias}”的工单（先用“记此工单为”）"
        return self.aliases[alias]

    def show(self, ticket: str | None = None) -> dict[str, Any]:
        return self.engine.service.show(ticket or self.ticket)

    def order(self, ticket: str | None = None) -> Any:
        return self.engine.service.load(ticket or self.ticket)

    def event_count(self) -> int:
        return self.engine.service.recorder.max_notification_id() or 0

    # ----- commands -------------------------------------------------------------------
    def attempt(self, command: Callable[[], None]) -> None:
        """Run a 当 command, keeping a refusal (DomainError) for the 那么 steps."""
        version = self.order().version if self.current else None
        self.outcome = Outcome(self.current, self.event_count(), version)
        try:
            command()
        except DomainError as exc:
            self.outcome.error = exc

    def last_outcome(self) -> Outcome:
        assert self.outcome is not None, "还没有执行任何“当”操作"
        return self.outcome
