"""The holiday arrangement of one year as the centre imported it (国务院节假日安排).

One aggregate per year, so its version is the arrangement's version: the first import
creates it, a later different arrangement for the same year replaces it (recorded, never
overwritten). Both events sit in the audit ledger like every work-order event.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.lean_events import LeanEvents
from domain.policies.calendar import OFFICIAL, YearArrangement
from domain.values import Actor

ARRANGEMENT_NAMESPACE = uuid.UUID("0c6b8f0e-3d5a-4b8e-9a77-63616c656e64")


def arrangement_id(year: int) -> UUID:
    return uuid.uuid5(ARRANGEMENT_NAMESPACE, f"holiday-arrangement-{year}")


class HolidayArrangement(Aggregate):
    """Days are ISO date strings and festivals plain dicts, so snapshots serialise."""

    def __init__(self) -> None:
        self.year = 0
        self.title = ""
        self.source_sha256 = ""
        self.festivals: list[dict[str, Any]] = []
        self.days_off: list[str] = []
        self.workdays: list[str] = []
        self.imported_at: datetime | None = None
        self.imported_by = ""

    class Event(Aggregate.Event, metaclass=LeanEvents):
        actor_role: str
        actor_id: str

    class Content(Event):
        """What both events carry: the arrangement as understood from the notice."""

        year: int
        title: str
        source_sha256: str
        festivals: list[dict[str, Any]]
        days_off: list[str]
        workdays: list[str]

        def apply(self, arrangement: HolidayArrangement) -> None:
            for name in ("year", "title", "source_sha256", "days_off", "workdays"):
                setattr(arrangement, name, getattr(self, name))
            arrangement.festivals = [dict(f) for f in self.festivals]
            arrangement.imported_at = self.timestamp
            arrangement.imported_by = f"{self.actor_role}:{self.actor_id}"

    class Imported(Content, Aggregate.Created):
        pass

    class Replaced(Content):
        previous_sha256: str

    @classmethod
    def record(cls, *, content: dict[str, Any], actor: Actor, at: datetime) -> HolidayArrangement:
        return cls._create(cls.Imported, id=arrangement_id(int(content["year"])), timestamp=at,
                           actor_role=actor.role, actor_id=actor.id, **content)

    def replace(self, *, content: dict[str, Any], actor: Actor, at: datetime) -> None:
        self.trigger_event(self.Replaced, timestamp=at, actor_role=actor.role,
                           actor_id=actor.id, previous_sha256=self.source_sha256, **content)

    def same_days(self, content: dict[str, Any]) -> bool:
        return (sorted(self.days_off), sorted(self.workdays)) == (
            sorted(content["days_off"]), sorted(content["workdays"]))

    def to_year(self) -> YearArrangement:
        names = {date.fromisoformat(d): f["name"] for f in self.festivals for d in f["days_off"]}
        return YearArrangement(
            self.year, OFFICIAL, f"国务院通知（导入 v{self.version}，{self.title}）",
            frozenset(date.fromisoformat(d) for d in self.days_off),
            frozenset(date.fromisoformat(d) for d in self.workdays), names)
