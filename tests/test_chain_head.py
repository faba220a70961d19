"""The chain head is kept, not recomputed on replay: loading an order of N events hashes
one event (the last), and the head is the same as hashing every event would give."""

from __future__ import annotations

from typing import Any

import pytest

import domain.workorder as workorder
from adapters.bootstrap import Engine
from domain.audit import event_hash
from domain.values import Actor
from domain.workorder import order_id

AGENT, CENTRE, UNIT = Actor("agent", "A1"), Actor("dispatcher", "D1"), Actor("department", "区城管局")


def long_order(engine: Engine, cycles: int) -> str:
    s = engine.service
    ticket = s.intake(channel="电话", category="投诉", urgency="一般", region="甬江区东湖街道",
                      content="夜间施工噪音", caller_name="张三", caller_phone="13900001111",
                      actor=AGENT)
    s.dispatch(ticket, dept="区城管局", assist=[], actor=CENTRE)
    s.sign(ticket, dept="区城管局", actor=UNIT)
    for n in range(cycles):
        s.request_extension(ticket, dept="区城管局", days=1, reason=f"第{n}次", actor=UNIT)
        s.deny_extension(ticket, reason="不予延期", actor=CENTRE)
    return ticket


def test_a_replay_hashes_only_the_last_event(engine: Engine,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ticket = long_order(engine, 20)  # 43 events, below the snapshot interval
    events = list(engine.service.events.get(order_id(ticket)))
    calls: list[Any] = []

    def counting(event: Any) -> str:
        calls.append(event)
        return event_hash(event)

    monkeypatch.setattr(workorder, "event_hash", counting)
    replayed = engine.service.load(ticket, version=len(events))  # not from the cache
    assert calls == []  # nothing hashed until the head is needed
    assert replayed.chain_head == event_hash(events[-1]) and len(calls) == 1
    assert replayed.chain_head == event_hash(events[-1]) and len(calls) == 1  # kept
    # The next command chains on it.
    engine.service.request_extension(ticket, dept="区城管局", days=1, reason="再次",
                                     actor=UNIT)
    latest = list(engine.service.events.get(order_id(ticket)))[-1]
    assert latest.prev_hash == event_hash(events[-1])
    assert engine.verify().ok


def test_snapshots_hold_the_head_not_the_event(engine: Engine) -> None:
    ticket = long_order(engine, 25)  # 53 events: a snapshot at 50
    snapshots = list(engine.service.snapshots.get(order_id(ticket)))  # type: ignore[union-attr]
    assert [s.originator_version for s in snapshots] == [50]
    state = snapshots[0].state
    assert "_chain_tip" not in state
    events = list(engine.service.events.get(order_id(ticket)))
    assert state["chain_head"] == event_hash(events[49])
    assert engine.service.load(ticket).chain_head == event_hash(events[-1])
    assert engine.verify().ok
