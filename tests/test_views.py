"""Every instant staff and integrators read is Beijing time with its offset: top-level
fields, the instants events keep inside their records, ladder instants in history, and
instants before 1901 (no local mean time)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.bootstrap import Engine
from adapters.grpc.feed import payload_of
from domain.errors import InvalidInput
from domain.values import Actor
from domain.views import beijing, iso, localized
from domain.workorder import order_id
from tests.conftest import SimClock

AGENT, CENTRE, UNIT = Actor("agent", "A1"), Actor("dispatcher", "centre"), "区水务局"


def test_beijing_before_1901_is_china_standard_time() -> None:
    assert iso(datetime(1900, 6, 1, tzinfo=UTC)) == "1900-06-01T08:00:00+08:00"
    assert iso(datetime(2025, 6, 1, tzinfo=UTC)) == "2025-06-01T08:00:00+08:00"
    assert beijing(datetime(1988, 6, 1, tzinfo=UTC)).utcoffset().total_seconds() == 9 * 3600


def test_localized_converts_stored_instants_only() -> None:
    record = {"at": "2025-10-09T01:30:00+00:00", "reason": "2025-10-09T01:30:00+00:00",
              "ladder": {"warning": "2025-10-09T16:00:00+00:00"}, "issued_at": "not a time"}
    assert localized(record) == {"at": "2025-10-09T09:30:00+08:00",
                                 "reason": "2025-10-09T01:30:00+00:00",  # text stays text
                                 "ladder": {"warning": "2025-10-10T00:00:00+08:00"},
                                 "issued_at": "not a time"}


def test_show_history_and_feed_speak_beijing_time(sqlite_engine: Engine,
                                                  clock: SimClock) -> None:
    service = sqlite_engine.service
    clock.set("2025-09-30T09:00:00")
    ticket = service.intake(channel="电话", category="投诉", urgency="一般",
                            region="甬江区东湖街道", content="路面积水", caller_name="张三",
                            caller_phone="13800138000", actor=AGENT)
    service.dispatch(ticket, dept=UNIT, assist=[], actor=CENTRE)
    service.return_order(ticket, dept=UNIT, reason="不属于本单位", actor=Actor("department", UNIT))
    view = service.show(ticket)
    assert view["returns"][0]["at"] == "2025-09-30T09:00:00+08:00"
    dispatched = service.history(ticket)["events"][1]
    assert dispatched["details"]["ladder"]["level2"].endswith("+08:00")
    event = list(service.events.get(order_id(ticket)))[1]
    assert all(v.endswith("+08:00") for v in payload_of(event)["ladder"].values())
    with pytest.raises(InvalidInput) as refused:
        service.history(ticket, datetime(1900, 1, 1, tzinfo=UTC))
    assert "+08:00" in refused.value.zh and "+08:05" not in refused.value.zh
