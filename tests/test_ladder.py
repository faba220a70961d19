"""The deadline clocks and the escalation ladder, end to end through the real engine.

Every test runs on SQLite and on PostgreSQL (the `engine` fixture) with the simulation
clock: the tick is driven exactly like `rexian --now ... tick`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.ticker import tick
from adapters.ticket_numbers import TABLE as SEQUENCES
from domain.errors import DomainError, InvalidInput
from domain.service import SHANGHAI
from domain.values import Actor
from domain.workorder import order_id
from tests.conftest import SimClock

ROOT = Path(__file__).resolve().parents[1]
AGENT = Actor("agent", "A1001")
CENTRE = Actor("dispatcher", "centre")
CALLER_PHONE = "13800138000"
UNIT = "区水务局"
SUPERVISOR = "区政府"  # 区水务局's supervising department in config/departments.toml
OTHER_UNIT = "区城管局"
NOTHING = {"warning": 0, "level1": 0, "level2": 0, "level3": 0, "revised": 0, "erased": 0}


# ----- helpers ---------------------------------------------------------------------------
def new_order(engine: Engine, clock: SimClock, *, category: str = "咨询",
              urgency: str = "一般", intake_at: str = "2025-09-30T09:00:00",
              dispatch_at: str | None = "2025-09-30T10:00:00", dept: str = UNIT) -> str:
    clock.set(intake_at)
    ticket = engine.service.intake(
        channel="电话", category=category, urgency=urgency, region="甬江区东湖街道",
        content="小区门口路面积水严重", caller_name="张三", caller_phone=CALLER_PHONE,
        actor=AGENT)
    if dispatch_at is not None:
        clock.set(dispatch_at)
        engine.service.dispatch(ticket, dept=dept, assist=[], actor=CENTRE)
    return ticket


def unit(dept: str = UNIT) -> Actor:
    return Actor("department", dept)


def tick_at(engine: Engine, clock: SimClock, when: str) -> dict[str, int]:
    clock.set(when)
    return tick(engine)


def only(**counts: int) -> dict[str, int]:
    return {**NOTHING, **counts}


def events(engine: Engine, ticket: str, kind: str) -> list[Any]:
    return [e for e in engine.service.events.get(order_id(ticket)) if type(e).__name__ == kind]


def steps_taken(engine: Engine, ticket: str) -> list[tuple[int, str]]:
    return [(e.clock_no, e.step) for e in events(engine, ticket, "Escalated")]


def local(instant: datetime) -> str:
    return instant.astimezone(SHANGHAI).isoformat()


# ----- clocks ----------------------------------------------------------------------------
def test_consult_and_complaint_due_dates_follow_the_official_calendar(
    engine: Engine, clock: SimClock
) -> None:
    consult = new_order(engine, clock, category="咨询")
    complaint = new_order(engine, clock, category="投诉")
    a, b = engine.service.show(consult), engine.service.show(complaint)
    # 10-01..08 National Day; the next working day after 09-30 is 10-09.
    assert a["due_at"] == "2025-10-10T23:59:59+08:00"
    # 2025-10-11 is an adjusted working Saturday (调休) and counts.
    assert b["due_at"] == "2025-10-28T23:59:59+08:00"
    for view in (a, b):
        assert view["dispatch_due_at"] == "2025-09-30T11:00:00+08:00"  # intake 09:00 + 2 h
        assert view["sign_due_at"] == "2025-10-09T23:59:59+08:00"  # 1st working day after
        assert view["sla_state"] == "正常"
        assert view["escalation_level"] == 0
        assert view["plan"] is None


def test_show_json_carries_the_clock_fields(engine: Engine, clock: SimClock) -> None:
    ticket = new_order(engine, clock)
    for when, sla in (("2025-10-09T23:59:59", "正常"), ("2025-10-10T00:00:00", "临期"),
                      ("2025-10-10T23:59:58", "临期"), ("2025-10-10T23:59:59", "超期")):
        clock.set(when)
        view = json.loads(json.dumps(engine.service.show(ticket), ensure_ascii=False))
        for key in ("due_at", "sign_due_at", "dispatch_due_at", "sla_state",
                    "escalation_level", "plan"):
            assert key in view
        assert view["sla_state"] == sla, when
        assert view["escalation_level"] in (0, 1, 2, 3)
    # Not yet dispatched: only the centre's dispatch clock runs.
    fresh = new_order(engine, clock, dispatch_at=None)
    view = engine.service.show(fresh)
    assert view["dispatch_due_at"] == "2025-09-30T11:00:00+08:00"
    assert view["due_at"] is None and view["sign_due_at"] is None


# ----- the ladder, step by step ----------------------------------------------------------
def test_warning_at_midnight_of_the_due_day_calls_the_unit_and_the_citizen(
    engine: Engine, clock: SimClock
) -> None:
    ticket = new_order(engine, clock)
    assert tick_at(engine, clock, "2025-10-09T23:59:59") == NOTHING  # not before
    assert tick_at(engine, clock, "2025-10-10T00:00:00") == only(warning=1)
    assert tick_at(engine, clock, "2025-10-10T00:00:00") == NOTHING  # tick twice: once
    assert tick_at(engine, clock, "2025-10-10T09:00:00") == NOTHING

    view = engine.service.show(ticket)
    assert view["sla_state"] == "临期" and view["escalation_level"] == 0
    calls = events(engine, ticket, "OutboundCallRequested")
    assert len(calls) == 2
    to_unit = next(c for c in calls if c.target_role == "department")
    to_citizen = next(c for c in calls if c.target_role == "citizen")
    assert to_unit.target_dept == UNIT
    assert to_unit.phone == engine.departments.get(UNIT).duty_phone != ""
    assert ticket in to_unit.script and "18:00" in to_unit.script
    order = engine.service.load(ticket)
    assert to_citizen.citizen_id == order.citizen_id != ""
    assert to_citizen.phone == ""  # the dialler looks the number up in the vault
    assert "10月10日" in to_citizen.script  # the expected completion date
    assert len({to_unit.call_id, to_citizen.call_id}) == 2
    # The caller's number is never written in clear into any event.
    history = json.dumps(engine.service.history(ticket), ensure_ascii=False)
    assert CALLER_PHONE not in history and CALLER_PHONE[-4:] not in to_citizen.script


def test_level1_at_18_on_the_warning_day_calls_the_supervisor(
    engine: Engine, clock: SimClock
) -> None:
    ticket = new_order(engine, clock)
    assert tick_at(engine, clock, "2025-10-10T00:00:00") == only(warning=1)
    assert tick_at(engine, clock, "2025-10-10T17:59:59") == NOTHING
    assert tick_at(engine, clock, "2025-10-10T18:00:00") == only(level1=1)
    assert tick_at(engine, clock, "2025-10-10T18:00:00") == NOTHING
    assert engine.service.show(ticket)["escalation_level"] == 1
    call = events(engine, ticket, "OutboundCallRequested")[-1]
    assert call.target_role == "department" and call.target_dept == SUPERVISOR
    assert call.phone == engine.departments.get(SUPERVISOR).duty_phone
    assert events(engine, ticket, "Escalated")[-1].target_dept == SUPERVISOR


def test_a_plan_before_18_stops_level1_but_not_level2(engine: Engine, clock: SimClock) -> None:
    ticket = new_order(engine, clock)
    assert tick_at(engine, clock, "2025-10-10T00:00:00") == only(warning=1)
    clock.set("2025-10-10T10:00:00")
    eta = datetime(2025, 10, 10, 17, 0, tzinfo=SHANGHAI)
    engine.service.report_plan(ticket, dept=UNIT, eta=eta, note="今日下午派员疏通", actor=unit())
    plan = engine.service.show(ticket)["plan"]
    assert plan["dept"] == UNIT and plan["note"] == "今日下午派员疏通"
    assert datetime.fromisoformat(plan["eta"]) == eta
    assert tick_at(engine, clock, "2025-10-10T18:00:00") == NOTHING
    assert tick_at(engine, clock, "2025-10-10T23:59:59") == only(level2=1)
    assert steps_taken(engine, ticket) == [(1, "warning"), (1, "level2")]
    assert engine.service.show(ticket)["escalation_level"] == 2


def test_only_the_lead_unit_reports_a_plan(engine: Engine, clock: SimClock) -> None:
    ticket = new_order(engine, clock)
    clock.set("2025-10-10T10:00:00")
    before = engine.service.show(ticket)["version"]
    with pytest.raises(DomainError):
        engine.service.report_plan(ticket, dept=OTHER_UNIT, eta=clock.now, note="计划",
                                   actor=unit(OTHER_UNIT))
    assert engine.service.show(ticket)["version"] == before


def test_level2_at_the_due_instant_issues_a_supervision_order(
    engine: Engine, clock: SimClock
) -> None:
    ticket = new_order(engine, clock)
    assert tick_at(engine, clock, "2025-10-10T23:59:58") == only(warning=1, level1=1)
    view = engine.service.show(ticket)
    assert view["sla_state"] == "临期" and "超期" not in view["flags"]
    assert tick_at(engine, clock, "2025-10-10T23:59:59") == only(level2=1)
    view = engine.service.show(ticket)
    assert view["sla_state"] == "超期"
    assert view["flags"].count("超期") == 1
    assert view["escalation_level"] == 2
    [order] = view["supervision_orders"]
    assert order["dept"] == SUPERVISOR and order["kind"] == "超期督办"
    assert order["no"] == f"{ticket}-DB01"
    assert tick_at(engine, clock, "2025-10-11T09:00:00") == NOTHING


def test_level3_five_working_days_after_the_due_day(engine: Engine, clock: SimClock) -> None:
    ticket = new_order(engine, clock)
    assert tick_at(engine, clock, "2025-10-10T23:59:59") == only(warning=1, level1=1, level2=1)
    # Working days after 10-10: 10-11 (调休 Saturday), 13, 14, 15, 16.
    assert tick_at(engine, clock, "2025-10-16T23:59:58") == NOTHING
    assert tick_at(engine, clock, "2025-10-16T23:59:59") == only(level3=1)
    assert tick_at(engine, clock, "2025-11-30T12:00:00") == NOTHING
    view = engine.service.show(ticket)
    assert view["escalation_level"] == 3
    assert "通报" in view["notices"][-1]["notice"]
    assert steps_taken(engine, ticket) == [(1, "warning"), (1, "level1"), (1, "level2"),
                                           (1, "level3")]


def test_a_late_tick_takes_every_due_step_once(engine: Engine, clock: SimClock) -> None:
    ticket = new_order(engine, clock)
    assert tick_at(engine, clock, "2025-10-20T09:00:00") == only(
        warning=1, level1=1, level2=1, level3=1)
    assert tick_at(engine, clock, "2025-10-20T09:00:00") == NOTHING
    assert len(events(engine, ticket, "Escalated")) == 4
    assert len(events(engine, ticket, "OutboundCallRequested")) == 3


def test_overlapping_ticks_take_each_step_once(
    engine: Engine, clock: SimClock, db_url: str
) -> None:
    tickets = [new_order(engine, clock) for _ in range(8)]
    other = build_engine(db_url, clock=clock)  # a second engine on the same store
    try:
        totals: Counter[str] = Counter()
        for when in ("2025-10-10T00:00:00", "2025-10-10T18:00:00", "2025-10-10T23:59:59",
                     "2025-10-16T23:59:59"):
            clock.set(when)
            barrier = threading.Barrier(3)
            results: list[dict[str, int]] = []
            errors: list[BaseException] = []

            def run(e: Engine, barrier: threading.Barrier = barrier,
                    results: list[dict[str, int]] = results,
                    errors: list[BaseException] = errors) -> None:
                barrier.wait()
                try:
                    results.append(tick(e))
                except BaseException as error:  # reported below
                    errors.append(error)

            threads = [threading.Thread(target=run, args=(e,))
                       for e in (engine, other, engine)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert not errors, errors
            for counts in results:
                totals.update(counts)
        assert dict(totals) == {"warning": 8, "level1": 8, "level2": 8, "level3": 8, "revised": 0,
                                "erased": 0}
        for ticket in tickets:
            assert sorted(steps_taken(engine, ticket)) == [
                (1, "level1"), (1, "level2"), (1, "level3"), (1, "warning")]
            assert len(events(engine, ticket, "OutboundCallRequested")) == 3
    finally:
        other.close()


# ----- 紧急 ------------------------------------------------------------------------------
def test_urgent_clocks_run_on_the_wall_clock(engine: Engine, clock: SimClock) -> None:
    ticket = new_order(engine, clock, urgency="紧急", intake_at="2025-09-30T09:00:00",
                       dispatch_at="2025-09-30T10:00:00")
    view = engine.service.show(ticket)
    assert view["dispatch_due_at"] == "2025-09-30T09:30:00+08:00"  # 30 min after intake
    assert view["sign_due_at"] == "2025-09-30T12:00:00+08:00"  # 2 h after dispatch
    assert view["due_at"] == "2025-10-01T10:00:00+08:00"  # 24 h, holiday or not
    assert tick_at(engine, clock, "2025-10-01T05:59:59") == NOTHING
    assert engine.service.show(ticket)["sla_state"] == "正常"
    assert tick_at(engine, clock, "2025-10-01T06:00:00") == only(warning=1)  # 4 h before
    assert engine.service.show(ticket)["sla_state"] == "临期"
    assert tick_at(engine, clock, "2025-10-01T07:59:59") == NOTHING
    assert tick_at(engine, clock, "2025-10-01T08:00:00") == only(level1=1)
    assert tick_at(engine, clock, "2025-10-01T09:59:59") == NOTHING
    assert tick_at(engine, clock, "2025-10-01T10:00:00") == only(level2=1)
    assert engine.service.show(ticket)["sla_state"] == "超期"
    # 通报: end of the 5th working day after the due day (10-09, 10, 11, 13, 14).
    assert tick_at(engine, clock, "2025-10-14T23:59:58") == NOTHING
    assert tick_at(engine, clock, "2025-10-14T23:59:59") == only(level3=1)


# ----- re-dispatch, reopen, extension ----------------------------------------------------
def test_redispatch_after_return_starts_a_fresh_clock_and_returned_time_counts_for_nobody(
    engine: Engine, clock: SimClock
) -> None:
    ticket = new_order(engine, clock)
    assert tick_at(engine, clock, "2025-10-10T18:00:00") == only(warning=1, level1=1)
    assert engine.service.show(ticket)["escalation_level"] == 1
    clock.set("2025-10-10T19:00:00")
    engine.service.return_order(ticket, dept=UNIT, reason="不属于本单位职责", actor=unit())
    view = engine.service.show(ticket)
    assert view["state"] == "已退回"
    assert view["due_at"] is None and view["sign_due_at"] is None
    # While 已退回 nothing fires: not the old level 2/3, not anything.
    for when in ("2025-10-10T23:59:59", "2025-10-16T23:59:59", "2025-10-19T23:00:00"):
        assert tick_at(engine, clock, when) == NOTHING
    assert steps_taken(engine, ticket) == [(1, "warning"), (1, "level1")]

    clock.set("2025-10-20T09:00:00")  # Monday
    engine.service.redispatch(ticket, dept=OTHER_UNIT, assist=[], reason="改派城管",
                              actor=CENTRE)
    view = engine.service.show(ticket)
    assert view["due_at"] == "2025-10-22T23:59:59+08:00"  # 2 working days from re-dispatch
    assert view["sign_due_at"] == "2025-10-21T23:59:59+08:00"
    assert view["escalation_level"] == 0 and view["sla_state"] == "正常"
    assert tick_at(engine, clock, "2025-10-21T23:59:59") == NOTHING
    assert tick_at(engine, clock, "2025-10-22T00:00:00") == only(warning=1)
    new_call = next(c for c in events(engine, ticket, "OutboundCallRequested")[-2:]
                    if c.target_role == "department")
    assert new_call.target_dept == OTHER_UNIT
    assert new_call.phone == engine.departments.get(OTHER_UNIT).duty_phone
    assert tick_at(engine, clock, "2025-10-22T23:59:59") == only(level1=1, level2=1)
    assert steps_taken(engine, ticket) == [
        (1, "warning"), (1, "level1"), (2, "warning"), (2, "level1"), (2, "level2")]


def test_the_same_unit_gets_its_clock_back_without_the_time_spent_returned(
    engine: Engine, clock: SimClock
) -> None:
    ticket = new_order(engine, clock)  # due 10-10
    clock.set("2025-10-09T10:00:00")
    engine.service.return_order(ticket, dept=UNIT, reason="需核实地址", actor=unit())
    for when in ("2025-10-10T00:00:00", "2025-10-10T23:59:59", "2025-10-12T12:00:00"):
        assert tick_at(engine, clock, when) == NOTHING
    clock.set("2025-10-13T10:00:00")  # Monday
    engine.service.redispatch(ticket, dept=UNIT, assist=[], reason="地址已核实", actor=CENTRE)
    # Working days begun while 已退回 (10-10, 10-11 调休, 10-13) are added back: 10-14.
    view = engine.service.show(ticket)
    assert view["due_at"] == "2025-10-14T23:59:59+08:00"
    assert view["escalation_level"] == 0 and view["sla_state"] == "正常"
    assert tick_at(engine, clock, "2025-10-13T23:59:59") == NOTHING
    assert tick_at(engine, clock, "2025-10-14T00:00:00") == only(warning=1)
    # The paused clock continues (same clock number), it is not a new one.
    assert steps_taken(engine, ticket) == [(1, "warning")]


def test_returning_an_overdue_order_does_not_wipe_its_escalation(
    engine: Engine, clock: SimClock
) -> None:
    ticket = new_order(engine, clock)  # due 10-10 23:59:59
    assert tick_at(engine, clock, "2025-10-11T00:00:00") == only(warning=1, level1=1, level2=1)
    clock.set("2025-10-11T09:00:00")
    engine.service.return_order(ticket, dept=UNIT, reason="需核实地址", actor=unit())
    clock.set("2025-10-11T10:00:00")
    engine.service.reject_return(ticket, reason="属本单位职责", actor=CENTRE)
    view = engine.service.show(ticket)
    assert view["escalation_level"] == 2 and "超期" in view["flags"]
    assert view["sla_state"] == "超期"
    # No repeated warning, call or second 督办单 for the same lateness.
    assert tick_at(engine, clock, "2025-10-11T12:00:00") == NOTHING
    assert len(view["supervision_orders"]) == 1


def test_reopen_starts_a_fresh_five_working_day_clock_and_clears_the_ladder(
    engine: Engine, clock: SimClock
) -> None:
    ticket = new_order(engine, clock)
    clock.set("2025-09-30T11:00:00")
    engine.service.sign(ticket, dept=UNIT, actor=unit())
    assert tick_at(engine, clock, "2025-10-16T23:59:59") == only(
        warning=1, level1=1, level2=1, level3=1)
    view = engine.service.show(ticket)
    assert view["escalation_level"] == 3 and "超期" in view["flags"]
    clock.set("2025-10-17T10:00:00")
    engine.service.resolve(ticket, dept=UNIT, reply="已疏通排水管道", actor=unit())
    assert tick_at(engine, clock, "2025-10-17T12:00:00") == NOTHING

    clock.set("2025-10-20T10:00:00")  # Monday
    engine.service.record_callback(ticket, result="不满意", comment="仍有积水", actor=AGENT)
    view = engine.service.show(ticket)
    assert view["state"] == "办理中"
    assert view["due_at"] == "2025-10-27T23:59:59+08:00"  # 5 working days after 10-20
    assert view["escalation_level"] == 0
    assert "超期" not in view["flags"]
    assert view["sla_state"] == "正常" and view["plan"] is None
    assert tick_at(engine, clock, "2025-10-26T23:59:59") == NOTHING
    assert tick_at(engine, clock, "2025-10-27T00:00:00") == only(warning=1)
    assert engine.service.show(ticket)["sla_state"] == "临期"
    assert tick_at(engine, clock, "2025-10-27T23:59:59") == only(level1=1, level2=1)
    view = engine.service.show(ticket)
    assert view["escalation_level"] == 2 and view["flags"].count("超期") == 1
    assert view["sla_state"] == "超期"
    taken = Counter(steps_taken(engine, ticket))
    assert all(n == 1 for n in taken.values())
    assert sorted(taken) == [(1, "level1"), (1, "level2"), (1, "level3"), (1, "warning"),
                             (2, "level1"), (2, "level2"), (2, "warning")]


def test_approved_extension_moves_the_due_date_and_rearms_the_ladder(
    engine: Engine, clock: SimClock
) -> None:
    ticket = new_order(engine, clock, category="投诉")
    clock.set("2025-09-30T11:00:00")
    engine.service.sign(ticket, dept=UNIT, actor=unit())
    assert tick_at(engine, clock, "2025-10-28T00:00:00") == only(warning=1)
    clock.set("2025-10-28T09:00:00")
    engine.service.request_extension(ticket, dept=UNIT, days=3, reason="需协调管网改造",
                                     actor=unit())
    clock.set("2025-10-28T10:00:00")
    engine.service.approve_extension(ticket, note="同意", actor=CENTRE)
    view = engine.service.show(ticket)
    assert view["due_at"] == "2025-10-31T23:59:59+08:00"  # 3 working days later
    assert view["extensions"][-1]["decision"] == "批准"
    assert view["sla_state"] == "正常" and view["escalation_level"] == 0
    # The old due day passes quietly; the ladder fires on the new one.
    assert tick_at(engine, clock, "2025-10-28T18:00:00") == NOTHING
    assert tick_at(engine, clock, "2025-10-30T23:59:59") == NOTHING
    assert tick_at(engine, clock, "2025-10-31T00:00:00") == only(warning=1)
    assert tick_at(engine, clock, "2025-10-31T18:00:00") == only(level1=1)
    assert tick_at(engine, clock, "2025-10-31T23:59:59") == only(level2=1)
    assert engine.service.show(ticket)["sla_state"] == "超期"
    # Each call of the re-armed ladder has its own id (the callback queue keys on it).
    call_ids = [c.call_id for c in events(engine, ticket, "OutboundCallRequested")]
    assert len(call_ids) == 5 and len(set(call_ids)) == 5


def test_denied_extension_changes_nothing(engine: Engine, clock: SimClock) -> None:
    ticket = new_order(engine, clock, category="投诉")
    clock.set("2025-09-30T11:00:00")
    engine.service.sign(ticket, dept=UNIT, actor=unit())
    clock.set("2025-10-20T09:00:00")
    before = engine.service.show(ticket)
    engine.service.request_extension(ticket, dept=UNIT, days=5, reason="需协调管网改造",
                                     actor=unit())
    engine.service.deny_extension(ticket, reason="可在时限内办结", actor=CENTRE)
    after = engine.service.show(ticket)
    assert after["extensions"][-1]["decision"] == "驳回"
    for key in ("due_at", "sign_due_at", "sla_state", "escalation_level", "plan", "state",
                "substate", "flags"):
        assert after[key] == before[key], key
    assert tick_at(engine, clock, "2025-10-27T23:59:59") == NOTHING
    assert tick_at(engine, clock, "2025-10-28T00:00:00") == only(warning=1)
    assert tick_at(engine, clock, "2025-10-28T23:59:59") == only(level1=1, level2=1)


def test_extension_after_the_due_time_is_rejected(engine: Engine, clock: SimClock) -> None:
    ticket = new_order(engine, clock)
    clock.set("2025-09-30T11:00:00")
    engine.service.sign(ticket, dept=UNIT, actor=unit())
    clock.set("2025-10-10T23:59:59")  # the due instant itself is already overdue
    version = engine.service.show(ticket)["version"]
    with pytest.raises(InvalidInput) as refused:
        engine.service.request_extension(ticket, dept=UNIT, days=2, reason="来不及",
                                         actor=unit())
    assert "超期" in refused.value.zh
    assert engine.service.show(ticket)["version"] == version

    # Requested in time but decided after the due time: refused too, nothing moves.
    other = new_order(engine, clock)
    clock.set("2025-09-30T11:00:00")
    engine.service.sign(other, dept=UNIT, actor=unit())
    clock.set("2025-10-10T20:00:00")
    engine.service.request_extension(other, dept=UNIT, days=2, reason="需协调", actor=unit())
    clock.set("2025-10-11T09:00:00")
    version = engine.service.show(other)["version"]
    with pytest.raises(InvalidInput):
        engine.service.approve_extension(other, note="同意", actor=CENTRE)
    view = engine.service.show(other)
    assert view["version"] == version and view["due_at"] == "2025-10-10T23:59:59+08:00"


# ----- a year outside the calendar -------------------------------------------------------
def _sequences(engine: Engine) -> list[Any]:
    with engine.db.transaction(immediate=False) as cur:
        return cur.execute(f"SELECT day, last FROM {SEQUENCES} ORDER BY day").fetchall()


def test_a_year_outside_the_calendar_is_refused_at_intake_and_nothing_is_recorded(
    engine: Engine, clock: SimClock, db_url: str
) -> None:
    """Intake in a year no calendar covers (past the provisional horizon, or before the
    first packaged year) is refused: no event, no ticket number used up."""
    sequences = _sequences(engine)
    for moment in ("2031-03-02T09:00:00", "1990-05-06T09:00:00"):
        clock.set(moment)
        with pytest.raises(InvalidInput) as refused:
            engine.service.intake(
                channel="电话", category="投诉", urgency="一般", region="甬江区东湖街道",
                content="夜间施工噪音扰民", caller_name="张三", caller_phone=CALLER_PHONE,
                actor=AGENT)
        year = moment[:4]
        assert f"{year} 年" in refused.value.zh and f"year {year}" in refused.value.en
    assert _sequences(engine) == sequences
    assert engine.list() == []

    # The CLI reports it as bad input (exit 2), naming the year, without a traceback.
    env = {**os.environ, "REXIAN_SIMULATION": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "tools.cli", "--db", db_url, "--now", "2031-03-02T10:00:00",
         "intake", "--channel", "电话", "--category", "投诉", "--region", "甬江区东湖街道",
         "--caller-name", "张三", "--caller-phone", CALLER_PHONE, "--content", "噪音", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "2031" in done.stderr and "Traceback" not in done.stderr
    assert json.loads(done.stdout)["error"]["type"] == "InvalidInput"
    assert _sequences(engine) == sequences


def test_a_clock_ending_past_the_horizon_names_the_missing_year(
    engine: Engine, clock: SimClock
) -> None:
    # The last year the calendar answers for (next year, provisionally): 15 working days
    # from its 20 December end in the year after, which nobody can know yet.
    last = engine.service.deadlines.calendar.last_year  # type: ignore[union-attr]
    ticket = new_order(engine, clock, category="投诉", intake_at=f"{last}-12-20T09:00:00",
                       dispatch_at=None)
    version = engine.service.show(ticket)["version"]
    clock.set(f"{last}-12-20T10:00:00")
    with pytest.raises(InvalidInput) as refused:
        engine.service.dispatch(ticket, dept=UNIT, assist=[], actor=CENTRE)
    assert str(last + 1) in str(refused.value)
    view = engine.service.show(ticket)
    assert view["state"] == "已受理" and view["version"] == version and view["due_at"] is None


def test_a_december_complaint_gets_a_provisional_deadline_in_the_next_year(
    engine: Engine, clock: SimClock
) -> None:
    """The engine never stops dispatching because next year's notice is late."""
    ticket = new_order(engine, clock, category="投诉", intake_at="2026-12-15T09:00:00",
                       dispatch_at="2026-12-15T10:00:00")
    view = engine.service.show(ticket)
    assert view["state"] == "已派单"
    assert view["due_at"] == "2027-01-06T23:59:59+08:00"  # 元旦 (Fri 1 Jan) off
    assert view["deadline_basis"] == "provisional"


def test_a_revised_deadline_behind_now_is_due_at_once_not_escalated_retroactively(
    engine: Engine, clock: SimClock
) -> None:
    """An official arrangement with two extra working weekend days moves a provisional
    deadline two working days earlier, past the current moment: the order becomes due at
    once (warning, level 1, level 2 now), and 通报 counts from now, not from the past."""
    from domain.policies.statutory import statutory_holidays

    ticket = new_order(engine, clock, category="投诉", intake_at="2027-01-25T09:00:00",
                       dispatch_at="2027-01-25T10:00:00")
    assert engine.service.show(ticket)["due_at"] == "2027-02-17T23:59:59+08:00"
    days_off = sorted(d.isoformat() for d in statutory_holidays(2027))
    engine.service.import_arrangement(
        {"year": 2027, "title": "测试安排", "source_sha256": "0" * 64, "festivals": [],
         "days_off": days_off, "workdays": ["2027-01-30", "2027-01-31"]},
        replace=False, actor=CENTRE)
    counts = tick_at(engine, clock, "2027-02-16T12:00:00")
    assert counts == {**NOTHING, "revised": 1, "warning": 1, "level1": 1, "level2": 1}
    view = engine.service.show(ticket)
    assert view["due_at"] == "2027-02-15T23:59:59+08:00"  # the official deadline, kept
    assert view["deadline_basis"] == "official" and view["sla_state"] == "超期"
    order = engine.service.load(ticket)
    assert order.ladder["level3"] == "2027-02-23T15:59:59+00:00"  # 5 working days after 02-16
    assert [n["step"] for n in view["notices"]] == ["warning", "level1", "level2"]
    assert tick_at(engine, clock, "2027-02-16T12:00:01") == NOTHING  # idempotent
