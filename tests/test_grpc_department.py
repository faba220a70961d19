"""DepartmentFeedService's unary RPCs and the authentication of every department RPC."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import pytest

from adapters.bootstrap import build_engine
from adapters.grpc import convert
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from domain.service import SHANGHAI
from domain.values import Actor
from tests.conftest import SimClock
from tests.test_grpc_support import CITY, MARKET, WATER, Running, grant, md, running_fixture


@pytest.fixture
def running(tmp_path: Path, clock: SimClock) -> Iterator[Running]:
    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield from running_fixture(engine)
    engine.close()


def _eta() -> Any:
    return convert.to_timestamp(datetime(2025, 10, 10, 12, 0, tzinfo=SHANGHAI))


def test_department_acts_on_its_own_orders(running: Running) -> None:
    f, water = running.feed, running.dept(WATER)
    no = running.dispatched(WATER, assist=(CITY,))
    # A clerk's own token: the events name the clerk; naming anyone else is refused.
    clerk = md(grant(running.engine, "rx1_" + "z" * 43, ("department",), "张工", dept=WATER))
    with pytest.raises(grpc.RpcError) as excinfo:
        f.Sign(pb.SignRequest(ticket_no=no, operator="李工"), metadata=clerk)
    assert excinfo.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
    r = f.Sign(pb.SignRequest(ticket_no=no, operator="张工"), metadata=clerk)
    assert r.ticket.state == "办理中"
    r = f.ReportPlan(pb.ReportPlanRequest(ticket_no=no, eta=_eta(), note="明日抢修"),
                     metadata=water)
    assert convert.dict_of(r.ticket.plan)["note"] == "明日抢修"
    r = f.RequestExtension(pb.RequestExtensionRequest(ticket_no=no, days=2, reason="待材料"),
                           metadata=water)
    assert r.ticket.substate == "延期审批中"
    running.tickets.ApproveExtension(ticket_pb.ApproveExtensionRequest(ticket_no=no),
                                     metadata=running.centre)
    r = f.Resolve(pb.ResolveRequest(ticket_no=no, reply="已修复"), metadata=water)
    assert r.ticket.state == "已办结"
    actors = [e["actor"] for e in running.engine.service.history(no)["events"]]
    assert {"role": "department", "id": f"{WATER}/张工"} in actors
    assert {"role": "department", "id": WATER} in actors

    other = running.dispatched(WATER)
    r = f.Return(pb.ReturnRequest(ticket_no=other, reason="非本单位职责"), metadata=water)
    assert r.ticket.state == "已退回"

    # Reading: the lead and an assisting unit may read; their lists hold their orders.
    assert f.GetTicket(pb.GetTicketRequest(ticket_no=no), metadata=water).ticket.ticket_no == no
    assert f.GetTicket(pb.GetTicketRequest(ticket_no=no),
                       metadata=running.dept(CITY)).ticket.department == WATER
    assert {t.ticket_no for t in f.ListTickets(pb.ListTicketsRequest(),
                                               metadata=water).tickets} == {no, other}
    assert [t.ticket_no for t in f.ListTickets(pb.ListTicketsRequest(state="已退回"),
                                               metadata=water).tickets] == [other]
    assert [t.ticket_no for t in f.ListTickets(pb.ListTicketsRequest(),
                                               metadata=running.dept(CITY)).tickets] == [no]
    assert f.ListTickets(pb.ListTicketsRequest(), metadata=running.dept(MARKET)).tickets == []


def test_department_errors(running: Running) -> None:
    f, water = running.feed, running.dept(WATER)
    no = running.dispatched(WATER)
    with pytest.raises(grpc.RpcError) as excinfo:
        f.Resolve(pb.ResolveRequest(ticket_no=no, reply="x"), metadata=water)
    assert excinfo.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
    assert "已派单" in excinfo.value.details()  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as excinfo:
        f.Return(pb.ReturnRequest(ticket_no=no, reason=""), metadata=water)
    assert excinfo.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert excinfo.value.details().startswith("reason: ")  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as excinfo:
        f.Sign(pb.SignRequest(ticket_no="209901019999"), metadata=water)
    # An unknown order answers like another unit's order: no existence oracle.
    assert excinfo.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as excinfo:
        f.ReportPlan(pb.ReportPlanRequest(ticket_no=no, note="x"), metadata=water)
    assert excinfo.value.details().startswith("eta: ")  # type: ignore[attr-defined]


def _denial(call: Callable[[], Any]) -> tuple[Any, str]:
    with pytest.raises(grpc.RpcError) as excinfo:
        call()
    error: Any = excinfo.value
    return error.code(), error.details()


def test_no_existence_oracle(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown number and another unit's order get the same answer by the same path:
    neither loads an order (loading the existing one would make it the slower answer)."""
    f, city = running.feed, running.dept(CITY)
    theirs = running.dispatched(WATER)
    unknown = "209901019999"
    service = running.engine.service
    loads: list[str] = []
    real_load = service.load

    def counted_load(no: str, *args: Any, **kwargs: Any) -> Any:
        loads.append(no)
        return real_load(no, *args, **kwargs)

    monkeypatch.setattr(service, "load", counted_load)
    for rpc in ("GetTicket", "Sign", "Resolve"):
        call = DEPT_CALLS[rpc]
        answers = {no: _denial(functools.partial(call, f, no, city)) for no in (theirs, unknown)}
        (code_a, text_a), (code_b, text_b) = answers[theirs], answers[unknown]
        assert code_a == code_b == grpc.StatusCode.PERMISSION_DENIED
        assert text_a.replace(theirs, "N") == text_b.replace(unknown, "N")
    assert loads == []
    # An order that concerned the unit once (moved to another lead) is loaded and refused.
    f.Return(pb.ReturnRequest(ticket_no=theirs, reason="非本单位职责"),
             metadata=running.dept(WATER))
    running.tickets.Redispatch(ticket_pb.RedispatchRequest(ticket_no=theirs, dept=MARKET,
                                                           reason="职责调整"),
                               metadata=running.centre)
    loads.clear()
    code, _ = _denial(lambda: f.GetTicket(pb.GetTicketRequest(ticket_no=theirs),
                                          metadata=running.dept(WATER)))
    assert code == grpc.StatusCode.PERMISSION_DENIED and loads == [theirs]


def test_visibility_catches_up_with_a_fresh_dispatch(tmp_path: Path, clock: SimClock) -> None:
    """The feed may lag the store by a moment: a miss catches up before refusing."""
    from adapters.grpc.feed import FeedHub

    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    try:
        hub = FeedHub(engine)  # not started: nothing indexes in the background
        hub.index()
        service = engine.service
        no = service.intake(channel="电话", category="投诉", urgency="一般",
                            region="甬江区东湖街道", content="污水外溢", caller_name="张三",
                            caller_phone="13800138000", actor=Actor("agent", "a1"))
        service.dispatch(no, dept=WATER, assist=[CITY], actor=Actor("dispatcher", "d1"))
        assert hub.concerns(WATER, no) and hub.concerns(CITY, no)
        assert not hub.concerns(MARKET, no) and not hub.concerns(WATER, "209901019999")
    finally:
        engine.close()


def _drain(call: Any) -> None:
    for _ in call:
        pass


# Each department RPC, called for the order (or feed) of WATER.
DEPT_CALLS: dict[str, Callable[[Any, str, Any], Any]] = {
    "Subscribe": lambda f, no, m: _drain(f.Subscribe(
        pb.SubscribeRequest(department=WATER, after_position=0), metadata=m, timeout=5)),
    "Ack": lambda f, no, m: f.Ack(pb.AckRequest(department=WATER, position=1), metadata=m),
    "GetTicket": lambda f, no, m: f.GetTicket(pb.GetTicketRequest(ticket_no=no), metadata=m),
    "ListTickets": lambda f, no, m: f.ListTickets(pb.ListTicketsRequest(), metadata=m),
    "Sign": lambda f, no, m: f.Sign(pb.SignRequest(ticket_no=no), metadata=m),
    "Return": lambda f, no, m: f.Return(pb.ReturnRequest(ticket_no=no, reason="r"),
                                        metadata=m),
    "ReportPlan": lambda f, no, m: f.ReportPlan(
        pb.ReportPlanRequest(ticket_no=no, eta=_eta(), note="n"), metadata=m),
    "RequestExtension": lambda f, no, m: f.RequestExtension(
        pb.RequestExtensionRequest(ticket_no=no, days=1, reason="r"), metadata=m),
    "Resolve": lambda f, no, m: f.Resolve(pb.ResolveRequest(ticket_no=no, reply="r"),
                                          metadata=m),
}


def test_every_department_rpc_is_covered() -> None:
    methods = {m.name for m in pb.DESCRIPTOR.services_by_name["DepartmentFeedService"].methods}
    assert set(DEPT_CALLS) == methods


@pytest.mark.parametrize("rpc", sorted(DEPT_CALLS))
def test_department_rpc_auth(running: Running, rpc: str) -> None:
    """No/unknown token → UNAUTHENTICATED; the centre's token, or another unit's token on
    WATER's order or feed → PERMISSION_DENIED; nothing is recorded."""
    no = running.dispatched(WATER, assist=(MARKET,))
    version = running.engine.service.show(no)["version"]
    call = DEPT_CALLS[rpc]
    cases = [((), grpc.StatusCode.UNAUTHENTICATED),
             (md("tok-forged"), grpc.StatusCode.UNAUTHENTICATED),
             ((("authorization", "Basic abc"),), grpc.StatusCode.UNAUTHENTICATED),
             (running.centre, grpc.StatusCode.PERMISSION_DENIED)]
    if rpc != "ListTickets":  # a unit's list only ever holds its own orders (tested above)
        cases.append((running.dept(CITY), grpc.StatusCode.PERMISSION_DENIED))
    if rpc not in ("GetTicket", "ListTickets"):  # an assisting unit may read, not act
        cases.append((running.dept(MARKET), grpc.StatusCode.PERMISSION_DENIED))
    for metadata, expected in cases:
        with pytest.raises(grpc.RpcError) as excinfo:
            call(running.feed, no, metadata)
        assert excinfo.value.code() == expected, (rpc, metadata)  # type: ignore[attr-defined]
    assert running.engine.service.show(no)["version"] == version
