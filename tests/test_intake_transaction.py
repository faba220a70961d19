"""Intake is one transaction: the event, the ticket number it uses and a new caller's key
commit together or not at all (no gap, no key without its event)."""

from __future__ import annotations

from typing import Any

from adapters.bootstrap import Engine
from adapters.ticket_numbers import TABLE as SEQUENCES
from adapters.vault import KEYS
from domain.ports import PersonalData
from domain.values import Actor
from domain.workorder import WorkOrder
from tests.conftest import SimClock

AGENT = Actor("agent", "A1")


def _rows(engine: Engine, sql: str) -> list[Any]:
    with engine.db.transaction(immediate=False) as cur:
        return list(cur.execute(sql).fetchall())


def _intake(engine: Engine, phone: str) -> str:
    return engine.service.intake(channel="电话", category="投诉", urgency="一般",
                                 region="甬江区东湖街道", content="噪音扰民", caller_name="张三",
                                 caller_phone=phone, actor=AGENT)


def test_a_number_taken_behind_the_sequence_is_skipped_without_leftovers(
        engine: Engine, clock: SimClock) -> None:
    clock.set("2025-09-30T09:00:00")
    # Another writer stored order 0001 without touching the sequence table.
    citizen, token, key = engine.vault.seal(PersonalData(name="李四", phone="13900000001"))
    engine.service._commit(WorkOrder.register(
        ticket_no="202509300001", channel="电话", category="投诉", urgency="一般",
        region="甬江区", content="占号", citizen_id=citizen, personal=token, actor=AGENT,
        at=clock.now), staged=[key] if key else [])
    assert _rows(engine, f"SELECT day, last FROM {SEQUENCES}") == []
    ticket = _intake(engine, "13800138000")  # a new caller: its key is staged too
    assert ticket == "202509300002"
    assert _rows(engine, f"SELECT day, last FROM {SEQUENCES}") == [("2025-09-30", 2)]
    # One key per caller, none left behind by the attempt that collided.
    assert len(_rows(engine, f"SELECT citizen_id FROM {KEYS}")) == 2
    assert engine.service.show(ticket)["caller_phone"] == "138****8000"
    assert _intake(engine, "13800138000") == "202509300003"  # same caller, same key
    assert len(_rows(engine, f"SELECT citizen_id FROM {KEYS}")) == 2


def test_a_refused_intake_stores_neither_number_nor_key(engine: Engine,
                                                        clock: SimClock) -> None:
    clock.set("2025-09-30T09:00:00")
    before = (_rows(engine, f"SELECT * FROM {SEQUENCES}"), _rows(engine, f"SELECT * FROM {KEYS}"))
    try:
        engine.service.intake(channel="电话", category="闲聊", urgency="一般", region="甬江区",
                              content="x", caller_name="王五", caller_phone="13700000000",
                              actor=AGENT)
    except Exception as error:  # noqa: BLE001 - the refusal itself is tested elsewhere
        assert type(error).__name__ == "InvalidInput"
    after = (_rows(engine, f"SELECT * FROM {SEQUENCES}"), _rows(engine, f"SELECT * FROM {KEYS}"))
    assert after == before
