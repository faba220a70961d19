"""Projections dispatch by event class: the class lists they use stay in step with the
event classes' fields, and events of other aggregates pass through every projection
without a statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from adapters.grpc.feed import UNIT_FIELDS, DepartmentFeedProjection
from domain.arrangement import HolidayArrangement
from domain.policies.statutory import statutory_holidays
from domain.service import SHANGHAI
from domain.values import Actor
from domain.workorder import STATE_EVENTS, WorkOrder
from projections.callback_queue import CallbackQueue
from projections.clock_basis import ClockBasisIndex
from projections.deadline_index import DeadlineIndex
from projections.tickets import TicketList


def event_classes(base: type) -> set[type]:
    found: set[type] = set()
    for sub in base.__subclasses__():
        found |= {sub, *event_classes(sub)}
    return found


def declaring(field: str) -> set[type]:
    """The WorkOrder events that declare `field` themselves (subclasses inherit it)."""
    return {cls for cls in event_classes(WorkOrder.Event)
            if field in cls.__dict__.get("__annotations__", {})}


@pytest.mark.parametrize("field", sorted(UNIT_FIELDS))
def test_unit_fields_list_every_event_that_names_a_unit(field: str) -> None:
    assert set(UNIT_FIELDS[field]) == declaring(field)


def test_state_events_are_the_events_that_record_a_state() -> None:
    assert set(STATE_EVENTS) == declaring("state")


class NoStatements:
    def execute(self, sql: str, params: Any = ()) -> Any:
        raise AssertionError(f"unexpected statement for another aggregate's event: {sql}")

    @property
    def rowcount(self) -> int:
        return 0


@pytest.mark.parametrize("projection", [TicketList(), DeadlineIndex(), ClockBasisIndex(),
                                        CallbackQueue(), DepartmentFeedProjection()],
                         ids=lambda p: p.name)
def test_other_aggregates_pass_through(projection: Any) -> None:
    arrangement = HolidayArrangement.record(
        content={"year": 2027, "title": "测试安排", "source_sha256": "0" * 64,
                 "festivals": [], "workdays": [],
                 "days_off": sorted(d.isoformat() for d in statutory_holidays(2027))},
        actor=Actor("dispatcher", "centre"), at=datetime(2026, 11, 1, 9, 0, tzinfo=SHANGHAI))
    for event in arrangement.collect_events():
        projection.apply(NoStatements(), None, event)
