"""DepartmentFeedService's unary RPCs and the authentication of every department RPC."""

from __future__ import annotations

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
from tests.conftest import SimClock
from tests.test_grpc_support import CITY, MARKET, WATER, Running, md, running_fixture


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
    r = f.Sign(pb.SignRequest(ticket_no=no, operator="张工"), metadata=water)
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
