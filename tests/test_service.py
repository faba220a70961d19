"""The application service on a real store: every test runs on SQLite AND PostgreSQL.

No mocks: the `engine` fixture is the composition root (service, vault, department
registry, deadline policy, projections) on a throwaway store, driven by a settable
simulation clock. Dates are chosen in November 2025, a month without public holidays,
so "N working days" can be checked against a plain weekday count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from domain import lifecycle as lc
from domain.errors import (
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotResponsible,
    UnknownDepartment,
    UnknownTicket,
)
from domain.service import SHANGHAI
from domain.values import ROLES, Actor
from domain.workorder import WorkOrder, order_id
from tests.conftest import SimClock

REPO = Path(__file__).resolve().parent.parent

AGENT = Actor("agent", "A0107")
CENTRE = Actor("dispatcher", "D02")
LEAD, OTHER, ASSIST1, ASSIST2 = "区城管局", "区水务局", "区住建局", "区市场监管局"
PHONE, NAME = "13800138000", "张三丰"

H_WORKING = f"{lc.HANDLING}/{lc.WORKING}"
H_PENDING = f"{lc.HANDLING}/{lc.EXTENSION_PENDING}"


def unit(name: str) -> Actor:
    return Actor("department", name)


def bj(text: str) -> datetime:
    """A Beijing wall-clock instant."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def wd_end(start: str, days: int) -> str:
    """End of the `days`-th weekday after `start`'s date (valid in Nov-Dec 2025 only)."""
    day = bj(start).date()
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    assert day.year == 2025 and day.month in (11, 12)
    return f"{day.isoformat()}T23:59:59+08:00"


def new_order(engine: Engine, *, category: str = "投诉", urgency: str = "一般",
              phone: str = PHONE, name: str = NAME, **extra: str) -> str:
    fields = {"channel": "电话", "region": "甬江区东湖街道", "content": "小区门口路灯不亮"}
    fields.update(extra)
    return engine.service.intake(category=category, urgency=urgency, caller_name=name,
                                 caller_phone=phone, actor=AGENT, **fields)


def dispatched(engine: Engine, **kw: Any) -> str:
    ticket = new_order(engine, **kw)
    engine.service.dispatch(ticket, dept=LEAD, assist=[ASSIST1], actor=CENTRE)
    return ticket


def handling(engine: Engine, **kw: Any) -> str:
    ticket = dispatched(engine, **kw)
    engine.service.sign(ticket, dept=LEAD, actor=unit(LEAD))
    return ticket


def state_of(view: dict[str, Any]) -> str:
    return view["state"] + (f"/{view['substate']}" if view["substate"] else "")


def events_table(engine: Engine) -> str:
    return "rexian_events" if engine.db.postgres else "stored_events"


def snapshots_table(engine: Engine) -> str:
    return "rexian_snapshots" if engine.db.postgres else "stored_snapshots"


def raw_rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.db.transaction(immediate=False) as cur:
        return [tuple(row) for row in cur.execute(sql).fetchall()]


def footprint(engine: Engine) -> tuple[Any, ...]:
    """Everything a command could leave behind: events, ticket sequences, vault keys."""
    return (
        raw_rows(engine, f"SELECT count(*) FROM {events_table(engine)}"),
        raw_rows(engine, "SELECT day, last FROM rexian_ticket_sequences ORDER BY day"),
        raw_rows(engine, "SELECT count(*) FROM rexian_citizen_keys"),
    )


def rejected(engine: Engine, error: type[DomainError], action: Callable[[], Any], *,
             tickets: tuple[str, ...] = (), names: tuple[str, ...] = ()) -> Any:
    """`action` raises `error` (bilingual, naming `names`) and records nothing at all."""
    before = footprint(engine)
    versions = [engine.service.load(t).version for t in tickets]
    with pytest.raises(error) as info:
        action()
    err = info.value
    assert err.zh and err.en and str(err) == f"{err.zh} / {err.en}"
    for name in names:
        assert name in str(err), (name, str(err))
    assert footprint(engine) == before
    assert [engine.service.load(t).version for t in tickets] == versions
    return err


# ----- intake ---------------------------------------------------------------------------
def test_intake_records_the_order_and_masks_the_caller(engine: Engine, clock: SimClock) -> None:
    clock.set("2025-11-03T09:00:00")
    ticket = new_order(engine, category="求助", urgency="紧急", channel="微信",
                       content="  家中老人摔倒需要帮助  ")
    assert ticket == "202511030001"
    view = engine.service.show(ticket)
    assert view["ticket_no"] == ticket
    assert (view["state"], view["substate"]) == ("已受理", None)
    assert (view["category"], view["urgency"], view["channel"]) == ("求助", "紧急", "微信")
    assert view["region"] == "甬江区东湖街道"
    assert view["content"] == "家中老人摔倒需要帮助"  # trimmed
    assert view["caller_phone"] == "138****8000"
    assert view["caller_name"] == "张**"
    assert view["department"] is None and view["assist_departments"] == []
    assert view["created_at"] == "2025-11-03T09:00:00+08:00"
    assert view["dispatch_due_at"] == "2025-11-03T09:30:00+08:00"  # 紧急: 30 min
    assert view["due_at"] is None and view["reopen_count"] == 0
    assert view["version"] == 1
    plain = new_order(engine)
    assert engine.service.show(plain)["dispatch_due_at"] == "2025-11-03T11:00:00+08:00"


# ----- the whole lifecycle --------------------------------------------------------------
def test_full_lifecycle_state_fields_actor_and_time(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    steps: list[tuple[str, str, str, str]] = []  # (event type, role, id, Beijing time)

    def at(text: str) -> None:
        clock.set(text)

    at("2025-11-03T09:00:00")
    t = new_order(engine)
    steps.append(("Registered", "agent", "A0107", "2025-11-03T09:00:00"))

    at("2025-11-03T10:00:00")
    s.dispatch(t, dept=LEAD, assist=[ASSIST1, ASSIST2, ASSIST1], actor=CENTRE)
    steps.append(("Dispatched", "dispatcher", "D02", "2025-11-03T10:00:00"))
    v = s.show(t)
    assert state_of(v) == "已派单"
    assert v["department"] == LEAD
    assert v["assist_departments"] == [ASSIST1, ASSIST2]  # de-duplicated, order kept
    assert v["dispatched_at"] == "2025-11-03T10:00:00+08:00"
    assert v["due_at"] == wd_end("2025-11-03T10:00:00", 15) == "2025-11-24T23:59:59+08:00"
    assert v["sign_due_at"] == "2025-11-04T23:59:59+08:00"

    at("2025-11-03T14:00:00")
    s.sign(t, dept=LEAD, actor=unit(LEAD))
    steps.append(("Signed", "department", LEAD, "2025-11-03T14:00:00"))
    v = s.show(t)
    assert state_of(v) == H_WORKING
    assert v["signed_at"] == "2025-11-03T14:00:00+08:00" and v["sign_due_at"] is None

    at("2025-11-05T09:00:00")
    s.request_extension(t, dept=LEAD, days=3, reason="需协调住建部门", actor=unit(LEAD))
    steps.append(("ExtensionRequested", "department", LEAD, "2025-11-05T09:00:00"))
    v = s.show(t)
    assert state_of(v) == H_PENDING
    assert v["pending_extension"]["days"] == 3
    assert v["pending_extension"]["reason"] == "需协调住建部门"

    at("2025-11-05T10:00:00")
    s.deny_extension(t, reason="时限内可办结", actor=CENTRE)
    steps.append(("ExtensionDenied", "dispatcher", "D02", "2025-11-05T10:00:00"))
    v = s.show(t)
    assert state_of(v) == H_WORKING
    assert v["pending_extension"] is None
    assert [(e["decision"], e["days"], e["note"]) for e in v["extensions"]] == [
        ("驳回", 3, "时限内可办结")]
    assert v["due_at"] == "2025-11-24T23:59:59+08:00"  # unchanged

    at("2025-11-06T09:00:00")
    s.request_extension(t, dept=LEAD, days=5, reason="需更换灯杆", actor=unit(LEAD))
    steps.append(("ExtensionRequested", "department", LEAD, "2025-11-06T09:00:00"))
    at("2025-11-06T11:00:00")
    s.approve_extension(t, note="同意", actor=Actor("dispatcher", "D09"))
    steps.append(("ExtensionApproved", "dispatcher", "D09", "2025-11-06T11:00:00"))
    v = s.show(t)
    assert state_of(v) == H_WORKING
    assert v["due_at"] == wd_end("2025-11-24T00:00:00", 5) == "2025-12-01T23:59:59+08:00"
    assert [(e["decision"], e["days"]) for e in v["extensions"]] == [("驳回", 3), ("批准", 5)]

    at("2025-11-10T16:00:00")
    s.resolve(t, dept=LEAD, reply="已更换灯杆，路灯恢复", actor=unit(LEAD))
    steps.append(("Resolved", "department", LEAD, "2025-11-10T16:00:00"))
    v = s.show(t)
    assert state_of(v) == "已办结"
    assert v["reply"] == "已更换灯杆，路灯恢复"
    assert v["resolved_at"] == "2025-11-10T16:00:00+08:00"

    at("2025-11-11T10:00:00")
    s.record_callback(t, result="不满意", comment="路灯仍然不亮", actor=AGENT)
    steps.append(("Reopened", "agent", "A0107", "2025-11-11T10:00:00"))
    v = s.show(t)
    assert state_of(v) == H_WORKING
    assert v["reopen_count"] == 1
    assert v["department"] == LEAD and v["assist_departments"] == [ASSIST1, ASSIST2]
    assert v["resolved_at"] is None
    assert v["callback"]["result"] == "不满意"
    [order] = v["supervision_orders"]
    assert order["no"] == f"{t}-DB01" and order["dept"] == LEAD
    assert order["kind"] == "重办督办" and "路灯仍然不亮" in order["reason"]
    assert v["due_at"] == wd_end("2025-11-11T10:00:00", 5) == "2025-11-18T23:59:59+08:00"

    at("2025-11-12T10:00:00")
    s.resolve(t, dept=LEAD, reply="已修复线路", actor=unit(LEAD))
    steps.append(("Resolved", "department", LEAD, "2025-11-12T10:00:00"))
    at("2025-11-13T10:00:00")
    s.record_callback(t, result="满意", comment="", actor=Actor("agent", "A0222"))
    steps.append(("CallbackArchived", "agent", "A0222", "2025-11-13T10:00:00"))
    v = s.show(t)
    assert state_of(v) == "已归档"
    assert v["callback"]["result"] == "满意" and v["flags"] == []
    assert v["closed_at"] == "2025-11-13T10:00:00+08:00"
    assert v["version"] == len(steps) == 11

    recorded = [(type(e).__name__, e.actor_role, e.actor_id,
                 e.timestamp.astimezone(SHANGHAI).replace(tzinfo=None).isoformat())
                for e in s.events.get(order_id(t))]
    assert recorded == steps
    history = s.history(t)
    assert [(e["type"], e["actor"]["role"], e["actor"]["id"], e["at"])
            for e in history["events"]] == [(k, r, i, f"{w}+08:00") for k, r, i, w in steps]
    assert history["state"] == v
    assert engine.verify().ok


def test_callback_results_archive(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T09:00:00")
    for result in ("满意", "基本满意", "无法联系"):
        t = handling(engine)
        s.resolve(t, dept=LEAD, reply="已处理", actor=unit(LEAD))
        rejected(engine, InvalidInput, lambda t=t: s.record_callback(
            t, result="非常满意", comment="", actor=AGENT), tickets=(t,),
            names=("回访结果", "result", "非常满意"))
        s.record_callback(t, result=result, comment="备注", actor=AGENT)
        v = s.show(t)
        assert state_of(v) == "已归档"
        assert v["callback"]["result"] == result and v["callback"]["comment"] == "备注"
        assert v["reopen_count"] == 0 and v["supervision_orders"] == []
        assert v["flags"] == (["未回访"] if result == "无法联系" else [])
        assert v["closed_at"] == "2025-11-03T09:00:00+08:00"


def test_answer_only_for_consultation(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T09:00:00")
    consult = new_order(engine, category="咨询", content="社保卡如何补办")
    clock.set("2025-11-03T09:05:00")
    s.answer(consult, reply="携带身份证到社保窗口办理", actor=AGENT)
    v = s.show(consult)
    assert state_of(v) == "已办结"
    assert v["reply"] == "携带身份证到社保窗口办理"
    assert v["resolved_at"] == "2025-11-03T09:05:00+08:00"
    assert v["department"] is None
    s.record_callback(consult, result="基本满意", comment="", actor=AGENT)
    assert state_of(s.show(consult)) == "已归档"

    for category in ("投诉", "求助", "举报", "建议", "表扬"):
        other = new_order(engine, category=category)
        err = rejected(engine, InvalidInput, lambda o=other: s.answer(
            o, reply="答复", actor=AGENT), tickets=(other,), names=("咨询", category))
        assert err.field == "category"
    empty = new_order(engine, category="咨询")
    err = rejected(engine, InvalidInput, lambda: s.answer(empty, reply="  ", actor=AGENT),
                   tickets=(empty,), names=("答复内容",))
    assert err.field == "reply"


def test_dissatisfied_answered_consultation_goes_back_to_the_centre(
        engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T09:00:00")
    t = new_order(engine, category="咨询")
    s.answer(t, reply="请咨询社区", actor=AGENT)
    clock.set("2025-11-04T10:00:00")
    s.record_callback(t, result="不满意", comment="答复无用", actor=AGENT)
    v = s.show(t)
    # No unit ever had it: it is back at the centre to be dispatched, not stuck in 办理中.
    assert state_of(v) == "已受理"
    assert v["reopen_count"] == 1 and v["department"] is None
    assert v["supervision_orders"] == [] and v["resolved_at"] is None
    assert v["dispatch_due_at"] == "2025-11-04T12:00:00+08:00"
    s.dispatch(t, dept=LEAD, assist=[], actor=CENTRE)
    s.sign(t, dept=LEAD, actor=unit(LEAD))
    s.resolve(t, dept=LEAD, reply="社区已上门说明", actor=unit(LEAD))
    assert state_of(s.show(t)) == "已办结"


# ----- return, re-dispatch, dispute ---------------------------------------------------------
def test_return_then_redispatch_to_another_unit_starts_a_fresh_clock(
        engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    t = dispatched(engine)
    assert s.show(t)["due_at"] == "2025-11-24T23:59:59+08:00"
    clock.set("2025-11-04T09:00:00")
    s.return_order(t, dept=LEAD, reason="不属于本单位职责", actor=unit(LEAD))
    v = s.show(t)
    assert state_of(v) == "已退回"
    assert v["return_count"] == 1
    assert v["returns"][0]["dept"] == LEAD and v["returns"][0]["reason"] == "不属于本单位职责"
    assert v["due_at"] is None and v["sign_due_at"] is None  # the clock stops

    clock.set("2025-11-05T14:00:00")
    s.redispatch(t, dept=OTHER, assist=[ASSIST2], reason="供水问题", actor=CENTRE)
    v = s.show(t)
    assert state_of(v) == "已派单"
    assert v["department"] == OTHER and v["assist_departments"] == [ASSIST2]
    assert v["dispatched_at"] == "2025-11-05T14:00:00+08:00"
    # Counted from the re-dispatch, not from the first dispatch.
    assert v["due_at"] == wd_end("2025-11-05T14:00:00", 15) == "2025-11-26T23:59:59+08:00"
    assert v["sign_due_at"] == "2025-11-06T23:59:59+08:00"
    [event] = [e for e in s.events.get(order_id(t)) if type(e).__name__ == "Redispatched"]
    assert (event.actor_role, event.actor_id, event.reason) == ("dispatcher", "D02", "供水问题")

    # The former lead unit is no longer responsible; the new one is.
    rejected(engine, NotResponsible, lambda: s.sign(t, dept=LEAD, actor=unit(LEAD)),
             tickets=(t,), names=(LEAD, OTHER))
    s.sign(t, dept=OTHER, actor=unit(OTHER))
    assert state_of(s.show(t)) == H_WORKING
    assert engine.list(dept=LEAD) == []
    assert [r["ticket_no"] for r in engine.list(dept=OTHER)] == [t]
    assert [r["ticket_no"] for r in engine.list(dept=ASSIST2)] == [t]


def test_return_while_handling_then_redispatch_to_the_same_unit(
        engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    t = handling(engine)
    clock.set("2025-11-04T10:00:00")
    s.return_order(t, dept=LEAD, reason="地址有误", actor=unit(LEAD))
    assert state_of(s.show(t)) == "已退回"
    clock.set("2025-11-06T08:30:00")
    s.redispatch(t, dept=LEAD, assist=[], reason="地址已核实，仍属该单位", actor=CENTRE)
    v = s.show(t)
    assert state_of(v) == "已派单"
    assert v["department"] == LEAD and v["assist_departments"] == []
    assert v["dispatched_at"] == "2025-11-06T08:30:00+08:00"
    # The same unit gets its own clock back (due 11-24), moved by the working days that
    # began while the order sat 已退回 (11-05, 11-06): returning buys no fresh time limit.
    assert v["due_at"] == wd_end("2025-11-24T00:00:00", 2) == "2025-11-26T23:59:59+08:00"
    s.sign(t, dept=LEAD, actor=unit(LEAD))
    assert state_of(s.show(t)) == H_WORKING


def test_reject_return_sends_the_order_back_to_the_unit(
        engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    t = dispatched(engine)
    s.return_order(t, dept=LEAD, reason="非本单位职责", actor=unit(LEAD))
    clock.set("2025-11-07T15:00:00")
    s.reject_return(t, reason="属于城管职责范围", actor=CENTRE)
    v = s.show(t)
    assert state_of(v) == H_WORKING
    assert v["department"] == LEAD
    assert v["returns"][-1]["rejected"] == "属于城管职责范围"
    assert v["return_count"] == 1
    assert v["due_at"] == wd_end("2025-11-07T15:00:00", 15) == "2025-11-28T23:59:59+08:00"
    s.resolve(t, dept=LEAD, reply="已处理", actor=unit(LEAD))
    assert state_of(s.show(t)) == "已办结"


# ----- transfer, withdraw, merge -------------------------------------------------------------
def test_transfer_from_intake_and_from_returned(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    fresh = new_order(engine)
    returned = dispatched(engine)
    s.return_order(returned, dept=LEAD, reason="事发地在外地", actor=unit(LEAD))
    for t, ref in ((fresh, "BJ20251103001"), (returned, "SH20251103009")):
        s.transfer(t, hotline="北京12345", reference=ref, reason="事发地不在本市", actor=CENTRE)
        v = s.show(t)
        assert state_of(v) == "已转办"
        assert v["transfer"] == {"hotline": "北京12345", "reference": ref,
                                 "reason": "事发地不在本市"}
        assert v["closed_at"] == "2025-11-03T10:00:00+08:00"
    third = new_order(engine)
    err = rejected(engine, InvalidInput, lambda: s.transfer(
        third, hotline=" ", reference="X1", reason="r", actor=CENTRE),
        tickets=(third,), names=("接收热线",))
    assert err.field == "hotline"


def test_withdraw_from_every_open_state(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    intake = new_order(engine)
    sent = dispatched(engine)
    back = dispatched(engine)
    s.return_order(back, dept=LEAD, reason="非本单位职责", actor=unit(LEAD))
    working = handling(engine)
    pending = handling(engine)
    s.request_extension(pending, dept=LEAD, days=2, reason="等待材料", actor=unit(LEAD))
    clock.set("2025-11-03T11:00:00")
    for t in (intake, sent, back, working, pending):
        s.withdraw(t, reason="市民来电撤诉", actor=CENTRE)
        v = s.show(t)
        assert state_of(v) == "已撤销"
        assert v["closing_reason"] == "市民来电撤诉"
        assert v["closed_at"] == "2025-11-03T11:00:00+08:00"
    assert sorted(r["ticket_no"] for r in engine.list(state="已撤销")) == sorted(
        [intake, sent, back, working, pending])


def test_merge_keeps_a_link_on_the_master(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    master = dispatched(engine)
    duplicate = new_order(engine, phone="13900139000", name="李四")
    master_version = s.load(master).version
    s.merge(duplicate, into=master, reason="同一路灯重复反映", actor=CENTRE)
    d, m = s.show(duplicate), s.show(master)
    assert state_of(d) == "已合并"
    assert d["merged_into"] == master and d["closing_reason"] == "同一路灯重复反映"
    assert m["duplicates"] == [duplicate]
    assert state_of(m) == "已派单" and m["version"] == master_version + 1
    attached = list(s.events.get(order_id(master)))[-1]
    assert type(attached).__name__ == "DuplicateAttached"
    assert (attached.actor_role, attached.actor_id) == ("dispatcher", "D02")

    # A second duplicate joins the same master.
    second = dispatched(engine)
    s.merge(second, into=master, reason="重复", actor=CENTRE)
    assert s.show(master)["duplicates"] == [duplicate, second]

    # Into itself, into a terminal order, into nothing: refused, nothing recorded.
    open_order = new_order(engine)
    err = rejected(engine, InvalidInput, lambda: s.merge(
        open_order, into=open_order, reason="重复", actor=CENTRE),
        tickets=(open_order,), names=("自身", "itself"))
    assert err.field == "into"
    closed = new_order(engine)
    s.withdraw(closed, reason="撤诉", actor=CENTRE)
    for terminal, state in ((closed, "已撤销"), (duplicate, "已合并")):
        err = rejected(engine, IllegalTransition, lambda t=terminal: s.merge(
            open_order, into=t, reason="重复", actor=CENTRE),
            tickets=(open_order, terminal), names=(terminal, state))
        assert err.ticket_no == terminal and err.state == state
    rejected(engine, UnknownTicket, lambda: s.merge(
        open_order, into="202511039999", reason="重复", actor=CENTRE),
        tickets=(open_order,), names=("202511039999",))
    # A terminal order cannot be merged anywhere.
    err = rejected(engine, IllegalTransition, lambda: s.merge(
        closed, into=open_order, reason="重复", actor=CENTRE),
        tickets=(open_order, closed), names=("已撤销", "并单"))
    assert err.ticket_no == closed
    rejected(engine, InvalidInput, lambda: s.merge(
        open_order, into=master, reason=" ", actor=CENTRE),
        tickets=(open_order, master), names=("并单理由",))


# ----- rejections ---------------------------------------------------------------------------
def _build_every_state(engine: Engine) -> tuple[dict[str, str], str]:
    s = engine.service
    orders = {lc.INTAKE: new_order(engine)}
    orders[lc.DISPATCHED] = dispatched(engine)
    orders[lc.RETURNED] = dispatched(engine)
    s.return_order(orders[lc.RETURNED], dept=LEAD, reason="非本单位职责", actor=unit(LEAD))
    orders[H_WORKING] = handling(engine)
    orders[H_PENDING] = handling(engine)
    s.request_extension(orders[H_PENDING], dept=LEAD, days=2, reason="等待", actor=unit(LEAD))
    orders[lc.RESOLVED] = handling(engine)
    s.resolve(orders[lc.RESOLVED], dept=LEAD, reply="已处理", actor=unit(LEAD))
    orders[lc.ARCHIVED] = handling(engine)
    s.resolve(orders[lc.ARCHIVED], dept=LEAD, reply="已处理", actor=unit(LEAD))
    s.record_callback(orders[lc.ARCHIVED], result="满意", comment="", actor=AGENT)
    orders[lc.WITHDRAWN] = new_order(engine)
    s.withdraw(orders[lc.WITHDRAWN], reason="撤诉", actor=CENTRE)
    orders[lc.TRANSFERRED] = new_order(engine)
    s.transfer(orders[lc.TRANSFERRED], hotline="上海12345", reference="S1", reason="外地",
               actor=CENTRE)
    master = new_order(engine)
    orders[lc.MERGED] = new_order(engine)
    s.merge(orders[lc.MERGED], into=master, reason="重复", actor=CENTRE)
    for shown, ticket in orders.items():
        assert state_of(s.show(ticket)) == shown
    return orders, master


def _staff_commands(engine: Engine, t: str, master: str) -> dict[str, Callable[[], Any]]:
    s = engine.service
    lead = unit(LEAD)
    commands: dict[str, Callable[[], Any]] = {
        "answer": lambda: s.answer(t, reply="答复", actor=AGENT),
        "dispatch": lambda: s.dispatch(t, dept=LEAD, assist=[], actor=CENTRE),
        "sign": lambda: s.sign(t, dept=LEAD, actor=lead),
        "return_order": lambda: s.return_order(t, dept=LEAD, reason="理由", actor=lead),
        "redispatch": lambda: s.redispatch(t, dept=OTHER, assist=[], reason="改派",
                                           actor=CENTRE),
        "reject_return": lambda: s.reject_return(t, reason="驳回", actor=CENTRE),
        "transfer": lambda: s.transfer(t, hotline="北京12345", reference="B1", reason="外地",
                                       actor=CENTRE),
        "request_extension": lambda: s.request_extension(t, dept=LEAD, days=3, reason="延期",
                                                         actor=lead),
        "approve_extension": lambda: s.approve_extension(t, note="同意", actor=CENTRE),
        "deny_extension": lambda: s.deny_extension(t, reason="不同意", actor=CENTRE),
        "resolve": lambda: s.resolve(t, dept=LEAD, reply="已办", actor=lead),
        "archive": lambda: s.record_callback(t, result="满意", comment="", actor=AGENT),
        "reopen": lambda: s.record_callback(t, result="不满意", comment="", actor=AGENT),
        "withdraw": lambda: s.withdraw(t, reason="撤诉", actor=CENTRE),
        "merge": lambda: s.merge(t, into=master, reason="重复", actor=CENTRE),
    }
    if hasattr(s, "report_plan"):
        commands["report_plan"] = lambda: s.report_plan(
            t, dept=LEAD, eta=bj("2025-11-20T12:00:00"), note="计划", actor=lead)
    return commands


def test_illegal_transitions_from_every_state_record_nothing(
        engine: Engine, clock: SimClock) -> None:
    clock.set("2025-11-03T10:00:00")
    orders, master = _build_every_state(engine)
    tried = 0
    for shown, ticket in orders.items():
        full = shown.replace("/", lc.SEPARATOR)
        allowed = set(lc.allowed_commands(full))
        staff_allowed = [lc.COMMANDS[c].label for c in lc.allowed_commands(full)
                         if not lc.COMMANDS[c].internal]
        for name, action in _staff_commands(engine, ticket, master).items():
            if name in allowed:
                continue
            if name == "reopen" and engine.service.load(ticket).department is None:
                name = "reopen_to_centre"  # 不满意 without a unit goes back to the centre
            label = lc.COMMANDS[name].label
            err = rejected(engine, IllegalTransition, action, tickets=(ticket, master),
                           names=(ticket, f"“{shown}”", f"“{label}”", f"state {shown}"))
            assert (err.ticket_no, err.state, err.command) == (ticket, shown, label)
            assert err.allowed == staff_allowed
            tried += 1
    assert tried >= 90
    for shown, ticket in orders.items():
        assert state_of(engine.service.show(ticket)) == shown


def test_wrong_unit_is_refused(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    sent = dispatched(engine)  # lead LEAD, assisting ASSIST1
    for dept in (OTHER, ASSIST1):
        err = rejected(engine, NotResponsible, lambda d=dept: s.sign(sent, dept=d, actor=unit(d)),
                       tickets=(sent,), names=(dept, LEAD, sent))
        assert err.dept == dept
        rejected(engine, NotResponsible, lambda d=dept: s.return_order(
            sent, dept=d, reason="不归我管", actor=unit(d)), tickets=(sent,), names=(dept,))
    working = handling(engine)
    rejected(engine, NotResponsible, lambda: s.request_extension(
        working, dept=OTHER, days=3, reason="延期", actor=unit(OTHER)), tickets=(working,))
    rejected(engine, NotResponsible, lambda: s.resolve(
        working, dept=ASSIST1, reply="已办", actor=unit(ASSIST1)), tickets=(working,),
        names=(ASSIST1, LEAD))
    err = rejected(engine, UnknownDepartment, lambda: s.resolve(
        working, dept="区不存在局", reply="已办", actor=unit("区不存在局")),
        tickets=(working,), names=("区不存在局",))
    assert err.field == "dept"


def test_unknown_department_as_lead_or_assist(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    t = new_order(engine)
    err = rejected(engine, UnknownDepartment, lambda: s.dispatch(
        t, dept="区不存在局", assist=[], actor=CENTRE), tickets=(t,), names=("区不存在局",))
    assert err.field == "dept" and err.name == "区不存在局"
    err = rejected(engine, UnknownDepartment, lambda: s.dispatch(
        t, dept=LEAD, assist=[ASSIST1, "区幽灵办"], actor=CENTRE), tickets=(t,),
        names=("区幽灵办",))
    assert err.field == "assist" and err.name == "区幽灵办"
    err = rejected(engine, InvalidInput, lambda: s.dispatch(
        t, dept=LEAD, assist=[LEAD], actor=CENTRE), tickets=(t,), names=(LEAD, "协办"))
    assert err.field == "assist"
    s.dispatch(t, dept=LEAD, assist=[], actor=CENTRE)
    s.return_order(t, dept=LEAD, reason="非本单位", actor=unit(LEAD))
    err = rejected(engine, UnknownDepartment, lambda: s.redispatch(
        t, dept="区不存在局", assist=[], reason="改派", actor=CENTRE), tickets=(t,))
    assert err.field == "dept"
    err = rejected(engine, UnknownDepartment, lambda: s.redispatch(
        t, dept=OTHER, assist=["区幽灵办"], reason="改派", actor=CENTRE), tickets=(t,))
    assert err.field == "assist"


def test_empty_reasons_are_refused(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    fresh, sent = new_order(engine), dispatched(engine)
    back = dispatched(engine)
    s.return_order(back, dept=LEAD, reason="非本单位职责", actor=unit(LEAD))
    working, pending = handling(engine), handling(engine)
    s.request_extension(pending, dept=LEAD, days=2, reason="等待材料", actor=unit(LEAD))
    master = new_order(engine)
    cases: list[tuple[str, str, Callable[[str], Any]]] = [
        (sent, "退单理由", lambda r: s.return_order(sent, dept=LEAD, reason=r,
                                                  actor=unit(LEAD))),
        (back, "改派理由", lambda r: s.redispatch(back, dept=OTHER, assist=[], reason=r,
                                                actor=CENTRE)),
        (back, "驳回理由", lambda r: s.reject_return(back, reason=r, actor=CENTRE)),
        (fresh, "转办理由", lambda r: s.transfer(fresh, hotline="北京12345", reference="B1",
                                               reason=r, actor=CENTRE)),
        (working, "延期理由", lambda r: s.request_extension(working, dept=LEAD, days=3,
                                                          reason=r, actor=unit(LEAD))),
        (pending, "驳回理由", lambda r: s.deny_extension(pending, reason=r, actor=CENTRE)),
        (fresh, "撤单理由", lambda r: s.withdraw(fresh, reason=r, actor=CENTRE)),
        (fresh, "并单理由", lambda r: s.merge(fresh, into=master, reason=r, actor=CENTRE)),
    ]
    for ticket, label, action in cases:
        for blank in ("", "   ", "\n\t"):
            err = rejected(engine, InvalidInput, lambda a=action, b=blank: a(b),
                           tickets=(ticket, master), names=(label, "reason must not be empty"))
            assert err.field == "reason"
    err = rejected(engine, InvalidInput, lambda: s.resolve(
        working, dept=LEAD, reply="", actor=unit(LEAD)), tickets=(working,), names=("办理答复",))
    assert err.field == "reply"


def test_bad_intake_fields_are_refused_and_consume_no_number(
        engine: Engine, clock: SimClock) -> None:
    clock.set("2025-11-03T09:00:00")
    assert new_order(engine) == "202511030001"
    bad: list[tuple[str, dict[str, str], tuple[str, ...]]] = [
        ("category", {"category": "闲聊"}, ("诉求类别", "闲聊")),
        ("category", {"category": ""}, ("诉求类别",)),
        ("urgency", {"urgency": "特急"}, ("紧急程度", "特急")),
        ("channel", {"channel": "传真"}, ("受理渠道", "传真")),
        ("caller_phone", {"phone": "12345"}, ("电话号码", "12345")),
        ("caller_phone", {"phone": "+1 650 253 0000"}, ("电话号码",)),
        ("caller_phone", {"phone": ""}, ("电话号码",)),
        ("caller_name", {"name": "  "}, ("来电人姓名",)),
        ("content", {"content": ""}, ("诉求内容",)),
        ("region", {"region": " "}, ("所属区域",)),
    ]
    for field, overrides, names in bad:
        err = rejected(engine, InvalidInput, lambda o=overrides: new_order(engine, **o),
                       names=names)
        assert err.field == field, (field, err)
    # No number was used up by the refused intakes: the next one is consecutive.
    assert new_order(engine) == "202511030002"
    assert [r["ticket_no"] for r in engine.list()] == ["202511030001", "202511030002"]


def test_extension_days_must_be_in_range(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    t = handling(engine)
    for days in (0, -1, 31, 365):
        err = rejected(engine, InvalidInput, lambda d=days: s.request_extension(
            t, dept=LEAD, days=d, reason="延期", actor=unit(LEAD)), tickets=(t,),
            names=("延期天数", "extension days", "30"))
        assert err.field == "days"
    s.request_extension(t, dept=LEAD, days=1, reason="一天", actor=unit(LEAD))
    s.deny_extension(t, reason="不需要", actor=CENTRE)
    before = s.show(t)["due_at"]
    s.request_extension(t, dept=LEAD, days=30, reason="工程量大", actor=unit(LEAD))
    s.approve_extension(t, note="", actor=CENTRE)
    v = s.show(t)
    assert v["due_at"] > before and v["extensions"][-1]["days"] == 30


# ----- reopen -------------------------------------------------------------------------------
def test_reopen_issues_supervision_order_fresh_clock_and_clears_escalation(
        engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    t = handling(engine)
    assert s.show(t)["due_at"] == "2025-11-24T23:59:59+08:00"
    # Let the order run late and be escalated by the deadline ladder.
    clock.set("2025-11-25T10:00:00")
    assert s.escalate_due(t)
    late = s.show(t)
    assert late["escalation_level"] >= 2 and "超期" in late["flags"]
    issued = len(late["supervision_orders"])
    s.resolve(t, dept=LEAD, reply="已处理", actor=unit(LEAD))

    clock.set("2025-11-26T10:00:00")
    s.record_callback(t, result="不满意", comment="没有解决", actor=AGENT)
    v = s.show(t)
    assert state_of(v) == H_WORKING
    assert v["reopen_count"] == 1
    reopen_order = v["supervision_orders"][-1]
    assert len(v["supervision_orders"]) == issued + 1
    assert reopen_order["no"] == f"{t}-DB{issued + 1:02d}"
    assert reopen_order["dept"] == LEAD and reopen_order["kind"] == "重办督办"
    assert reopen_order["issued_at"] == "2025-11-26T10:00:00+08:00"  # Beijing time
    assert v["due_at"] == wd_end("2025-11-26T10:00:00", 5) == "2025-12-03T23:59:59+08:00"
    assert v["escalation_level"] == 0 and "超期" not in v["flags"] and v["plan"] is None
    order = s.load(t)
    assert order.ladder_done == [] and order.clock_started_at == bj("2025-11-26T10:00:00")

    # A second dissatisfied callback: another reopen and another 督办单.
    s.resolve(t, dept=LEAD, reply="再次处理", actor=unit(LEAD))
    clock.set("2025-11-27T10:00:00")
    s.record_callback(t, result="不满意", comment="", actor=AGENT)
    v = s.show(t)
    assert v["reopen_count"] == 2
    assert v["supervision_orders"][-1]["no"] == f"{t}-DB{issued + 2:02d}"
    assert v["due_at"] == "2025-12-04T23:59:59+08:00"


def test_urgent_reopen_gets_a_wall_clock_deadline(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    t = handling(engine, urgency="紧急")
    assert s.show(t)["due_at"] == "2025-11-04T10:00:00+08:00"
    s.resolve(t, dept=LEAD, reply="已处理", actor=unit(LEAD))
    clock.set("2025-11-08T20:30:00")  # a Saturday: wall clock, not working days
    s.record_callback(t, result="不满意", comment="", actor=AGENT)
    assert s.show(t)["due_at"] == "2025-11-09T20:30:00+08:00"


# ----- replay, snapshots, history --------------------------------------------------------------
def test_replay_on_a_fresh_engine_gives_equal_views(
        engine: Engine, clock: SimClock, db_url: str) -> None:
    clock.set("2025-11-03T10:00:00")
    orders, master = _build_every_state(engine)
    s = engine.service
    s.record_callback(orders[lc.RESOLVED], result="不满意", comment="未解决", actor=AGENT)
    tickets = [*orders.values(), master]
    # Every stored event says who (role + id) and when (the engine's clock, not wall time).
    notifications = s.recorder.select_notifications(start=1, limit=10_000)
    assert len(notifications) > 30
    for notification in notifications:
        event = s.mapper.to_domain_event(notification)
        assert event.actor_role in ROLES and event.actor_id.strip()
        assert event.timestamp == bj("2025-11-03T10:00:00")
    views = {t: s.show(t) for t in tickets}
    listing = engine.list()
    fresh = build_engine(db_url, clock=clock)
    try:
        assert {t: fresh.service.show(t) for t in tickets} == views
        assert fresh.list() == listing
        for t in tickets:
            assert fresh.service.history(t) == s.history(t)
        assert fresh.verify().ok
    finally:
        fresh.close()


def test_snapshots_long_stream_and_historic_versions(
        engine: Engine, clock: SimClock, db_url: str) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    t = handling(engine)  # versions 1..3
    cycles = 60
    for i in range(cycles):
        clock.advance(minutes=1)
        s.request_extension(t, dept=LEAD, days=1 + i % 5, reason=f"第{i}次申请",
                            actor=unit(LEAD))
        clock.advance(minutes=1)
        s.deny_extension(t, reason=f"第{i}次驳回", actor=CENTRE)
    last = 3 + 2 * cycles
    assert last > 120
    snap_versions = [r[0] for r in raw_rows(
        engine, f"SELECT originator_version FROM {snapshots_table(engine)} ORDER BY 1")]
    assert snap_versions == [50, 100]

    def expected(version: int) -> tuple[str, int]:
        done = max(version - 3, 0)
        return (H_PENDING if done % 2 else H_WORKING), done // 2

    def replayed(version: int) -> WorkOrder:
        order: Any = None
        for event in s.events.get(order_id(t), lte=version):
            order = event.mutate(order)
        return order

    current = s.load(t)
    assert current.version == last
    assert state_of(s.show(t)) == H_WORKING
    assert len(current.extensions) == cycles
    assert current.extensions[-1]["note"] == f"第{cycles - 1}次驳回"
    for version in (3, 4, 49, 50, 51, 52, 99, 100, 101, last - 1, last):
        order = s.load(t, version=version)
        assert order.version == version
        assert (state_of(s.view(order)), len(order.extensions)) == expected(version)
        assert s.view(order) == s.view(replayed(version))
        assert order.chain_head == replayed(version).chain_head
    fresh = build_engine(db_url, clock=clock)
    try:
        assert fresh.service.show(t) == s.show(t)
        assert fresh.service.view(fresh.service.load(t, version=77)) == s.view(replayed(77))
    finally:
        fresh.close()
    # Snapshots carry no personal data in clear either.
    for (blob,) in raw_rows(engine, f"SELECT state FROM {snapshots_table(engine)}"):
        raw = bytes(blob)
        assert PHONE.encode() not in raw and NAME.encode() not in raw
    assert engine.verify().ok


def test_history_as_of_gives_the_state_at_each_moment(
        engine: Engine, clock: SimClock) -> None:
    s = engine.service
    moments = [
        ("2025-11-03T09:00:00", "已受理"),
        ("2025-11-03T10:00:00", "已派单"),
        ("2025-11-04T09:00:00", H_WORKING),
        ("2025-11-05T09:00:00", H_PENDING),
        ("2025-11-05T16:00:00", H_WORKING),
        ("2025-11-07T11:00:00", "已办结"),
        ("2025-11-08T10:00:00", "已归档"),
    ]
    clock.set(moments[0][0])
    t = new_order(engine)
    actions = [
        lambda: s.dispatch(t, dept=LEAD, assist=[], actor=CENTRE),
        lambda: s.sign(t, dept=LEAD, actor=unit(LEAD)),
        lambda: s.request_extension(t, dept=LEAD, days=2, reason="等待", actor=unit(LEAD)),
        lambda: s.approve_extension(t, note="同意", actor=CENTRE),
        lambda: s.resolve(t, dept=LEAD, reply="已处理", actor=unit(LEAD)),
        lambda: s.record_callback(t, result="满意", comment="", actor=AGENT),
    ]
    for (moment, _), action in zip(moments[1:], actions, strict=True):
        clock.set(moment)
        action()
    clock.set("2025-11-10T09:00:00")
    for version, (moment, shown) in enumerate(moments, start=1):
        for probe in (bj(moment), bj(moment) + timedelta(minutes=30)):
            h = s.history(t, as_of=probe)
            assert state_of(h["state"]) == shown, (moment, h["state"])
            assert h["state"]["version"] == version
            assert len(h["events"]) == version
            assert h["as_of"] == probe.isoformat()
        # One second before the event it has not happened yet.
        if version > 1:
            earlier = s.history(t, as_of=bj(moment) - timedelta(seconds=1))
            assert len(earlier["events"]) == version - 1
    pending = s.history(t, as_of=bj("2025-11-05T12:00:00"))
    assert pending["state"]["pending_extension"]["days"] == 2
    assert pending["state"]["due_at"] == "2025-11-24T23:59:59+08:00"
    approved = s.history(t, as_of=bj("2025-11-06T00:00:00"))
    assert approved["state"]["due_at"] == "2025-11-26T23:59:59+08:00"
    assert s.history(t)["state"] == s.show(t)
    err = rejected(engine, InvalidInput, lambda: s.history(t, as_of=bj("2025-11-03T08:59:59")),
                   names=(t,))
    assert err.field == "as_of"
    rejected(engine, UnknownTicket, lambda: s.history("202511039999"),
             names=("202511039999",))
    rejected(engine, UnknownTicket, lambda: s.history("202511039999", as_of=bj(moments[0][0])))
    rejected(engine, UnknownTicket, lambda: s.show("202511039999"))


# ----- personal data, ticket numbers ------------------------------------------------------------
def test_personal_data_never_stored_in_clear(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-11-03T10:00:00")
    callers = [("+86 139-1234-5678", "13912345678", "欧阳娜娜", "139****5678", "欧***"),
               ("0574-8888 6666", "057488886666", "王小明", "0574****6666", "王**")]
    tickets = []
    for raw, _phone, name, masked_phone, masked_name in callers:
        t = new_order(engine, phone=raw, name=name)
        s.dispatch(t, dept=LEAD, assist=[ASSIST1], actor=CENTRE)
        s.sign(t, dept=LEAD, actor=unit(LEAD))
        s.resolve(t, dept=LEAD, reply="已处理", actor=unit(LEAD))
        s.record_callback(t, result="满意", comment="", actor=AGENT)
        v = s.show(t)
        assert (v["caller_phone"], v["caller_name"]) == (masked_phone, masked_name)
        tickets.append(t)
    # The same caller again: same citizen, same key.
    again = new_order(engine, phone="13912345678", name="欧阳娜娜")
    assert s.load(again).citizen_id == s.load(tickets[0]).citizen_id
    assert s.load(tickets[1]).citizen_id != s.load(tickets[0]).citizen_id

    stored = raw_rows(engine, f"SELECT state FROM {events_table(engine)}")
    assert len(stored) == 2 * 5 + 1
    blobs = [bytes(blob) for (blob,) in stored]
    blobs += [json.dumps(s.history(t), ensure_ascii=False).encode() for t in tickets]
    blobs += [json.dumps(engine.list(), ensure_ascii=False).encode()]
    for raw, phone, name, *_ in callers:
        needles = {phone, phone[-8:], raw, name, name[1:],
                   json.dumps(name)[1:-1]}  # also the \\uXXXX escaped form
        for blob in blobs:
            for needle in needles:
                assert needle.encode() not in blob, needle
    registered = [json.loads(b) for b in blobs[:len(stored)] if b"citizen_id" in b]
    assert len(registered) == 3 and all(r["personal"] for r in registered)


def test_ticket_numbers_follow_the_beijing_date(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    clock.set("2025-09-30T15:58:00+00:00")  # 23:58 in Beijing
    first = new_order(engine)
    clock.set("2025-09-30T15:59:30+00:00")
    second = new_order(engine)
    clock.set("2025-09-30T16:00:30+00:00")  # still 09-30 in UTC, already 10-01 in Beijing
    third = new_order(engine)
    fourth = new_order(engine)
    assert [first, second, third, fourth] == [
        "202509300001", "202509300002", "202510010001", "202510010002"]
    namespace = uuid.UUID("6f1d2c1e-5b7a-4c1e-9d5e-72657869616e")
    stored_ids = {str(r[0]).replace("-", "") for r in raw_rows(
        engine, f"SELECT originator_id FROM {events_table(engine)}")}
    for ticket in (first, second, third, fourth):
        assert len(ticket) == 12 and ticket.isdigit()
        assert order_id(ticket) == uuid.uuid5(namespace, ticket)
        assert uuid.uuid5(namespace, ticket).hex in stored_ids
        assert s.repository.get(uuid.uuid5(namespace, ticket)).ticket_no == ticket
    assert s.show(third)["created_at"] == "2025-10-01T00:00:30+08:00"


_WORKER = """
import json, sys, time
from datetime import datetime
from pathlib import Path
from adapters.bootstrap import build_engine
from domain.service import SHANGHAI
from domain.values import ROLES, Actor

url, go, worker, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
at = datetime(2025, 11, 3, 9, 0, tzinfo=SHANGHAI)
engine = build_engine(url, clock=lambda: at)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.002)
tickets = [
    engine.service.intake(channel="电话", category="求助", urgency="一般", region="甬江区",
                          content=f"worker {worker} call {i}", caller_name="赵六",
                          caller_phone=f"139{worker:04d}{i:04d}",
                          actor=Actor("agent", f"A{worker}"))
    for i in range(count)
]
engine.close()
print(json.dumps(tickets), flush=True)
"""


def test_concurrent_intake_from_real_processes(
        engine: Engine, db_url: str, tmp_path: Path) -> None:
    workers, per_worker = 4, 25
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, db_url, str(go), str(w),
                               str(per_worker)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for w in range(workers)]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.communicate()[1]
        go.touch()  # all four start intaking at the same moment
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    tickets = [t for batch in results for t in batch]
    assert all(len(batch) == per_worker for batch in results)
    assert len(set(tickets)) == workers * per_worker
    assert sorted(tickets) == [f"20251103{n:04d}" for n in range(1, workers * per_worker + 1)]
    # Each process got increasing numbers; the stored orders match what they were told.
    for batch in results:
        assert batch == sorted(batch)
    listed = engine.list()
    assert [r["ticket_no"] for r in listed] == sorted(tickets)
    for worker, batch in enumerate(results):
        for i, ticket in enumerate(batch):
            order = engine.service.load(ticket)
            assert order.content == f"worker {worker} call {i}"
            assert order.version == 1
    report = engine.verify()
    assert report.ok and report.checked_orders == workers * per_worker


# ----- the answer of a command: the order as the command recorded it -------------------
def test_execute_and_show_answers_with_the_committed_order_without_loading_it(
        engine: Engine, clock: SimClock) -> None:
    clock.set("2025-11-03T09:00:00")
    s = engine.service
    ticket, view = s.execute_and_show(
        "intake", actor=AGENT, channel="电话", category="投诉", urgency="一般",
        region="甬江区东湖街道", content="小区门口路灯不亮", caller_name=NAME,
        caller_phone=PHONE)
    assert view == s.show(ticket) and view["version"] == 1 and view["caller_name"] == "张**"
    clock.set("2025-11-03T09:10:00")
    number, dispatched_view = s.execute_and_show("dispatch", ticket, actor=CENTRE, dept=LEAD,
                                                 assist=[ASSIST1])
    assert number == ticket and dispatched_view == s.show(ticket)
    assert dispatched_view["department"] == LEAD and dispatched_view["version"] == 2
    # A merge commits two orders: the answer is the one the command names.
    other = new_order(engine, content="路灯不亮已三天")
    _, merged = s.execute_and_show("merge", other, actor=CENTRE, into=ticket, reason="同一路灯")
    assert merged == s.show(other) and merged["merged_into"] == ticket
    # The answer is a snapshot: a later command does not change it, and the cached order
    # the next command starts from is the committed one.
    s.execute("sign", ticket, actor=unit(LEAD), dept=LEAD)
    assert dispatched_view["version"] == 2 and s.show(ticket)["state"] != view["state"]
    # A refused command records nothing and leaves no views collected in this thread.
    rejected(engine, NotResponsible,
             lambda: s.execute_and_show("resolve", ticket, actor=unit(OTHER), dept=OTHER,
                                        reply="已处理"),
             tickets=(ticket,))
    assert getattr(s._keeping, "views", None) is None
