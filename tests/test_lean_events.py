"""Events defined through domain.lean_events behave as eventsourcing's frozen dataclasses:
same fields and topics, equality, hashing, repr and immutability, with the shared methods."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
from eventsourcing.domain import Aggregate, MetaDomainEvent
from eventsourcing.utils import get_topic

from domain.arrangement import HolidayArrangement
from domain.lean_events import LeanEvents
from domain.workorder import WorkOrder

AT = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)


def event_classes() -> list[type]:
    found = []
    for aggregate in (WorkOrder, HolidayArrangement):
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, Aggregate.Event):
                found.append(value)
    return found


def test_every_event_is_a_lean_frozen_dataclass_without_its_own_generated_methods() -> None:
    classes = event_classes()
    assert len(classes) > 25
    for cls in classes:
        assert isinstance(cls, LeanEvents) and isinstance(cls, MetaDomainEvent)
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert "__init__" in vars(cls) and "__setattr__" in vars(cls)
        if cls not in (WorkOrder.Event, HolidayArrangement.Event):
            assert not {"__eq__", "__hash__", "__repr__"} & set(vars(cls)), cls
        assert get_topic(cls) == f"{cls.__module__}:{cls.__qualname__}"


def _answered(reply: str = "已答复") -> WorkOrder.Answered:
    return WorkOrder.Answered(originator_id=uuid.UUID(int=1), originator_version=2,
                              timestamp=AT, actor_role="agent", actor_id="a1",
                              prev_hash="0" * 64, reply=reply, state="已办结", substate=None)


def test_shared_methods_equal_what_a_dataclass_would_generate() -> None:
    event, same, other = _answered(), _answered(), _answered("另一答复")
    assert event == same and event != other and hash(event) == hash(same)
    assert event != object() and (event == object()) is False

    @dataclasses.dataclass(frozen=True)
    class Plain:
        originator_id: uuid.UUID
        originator_version: int
        timestamp: datetime
        actor_role: str
        actor_id: str
        prev_hash: str
        reply: str
        state: str
        substate: str | None

    plain = Plain(**{f.name: getattr(event, f.name) for f in dataclasses.fields(event)})
    assert repr(event) == repr(plain).replace(Plain.__qualname__, "WorkOrder.Answered")
    assert hash(event) == hash(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.reply = "改"  # type: ignore[misc]
