"""TicketService over a real gRPC server: every command, queries, actors, error codes, auth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest

from adapters.bootstrap import build_engine
from adapters.grpc import convert
from adapters.grpc.gen.rexian.common.v1 import common_pb2 as common_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as pb
from domain.service import SHANGHAI
from tests.conftest import SimClock
from tests.test_grpc_support import (
    CITY,
    MARKET,
    WATER,
    Running,
    md,
    running_fixture,
)


@pytest.fixture
def running(tmp_path: Path, clock: SimClock) -> Iterator[Running]:
    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield from running_fixture(engine)
    engine.close()


def code_of(excinfo: pytest.ExceptionInfo[grpc.RpcError]) -> grpc.StatusCode:
    return excinfo.value.code()  # type: ignore[attr-defined,no-any-return]


def details_of(excinfo: pytest.ExceptionInfo[grpc.RpcError]) -> str:
    return str(excinfo.value.details())  # type: ignore[attr-defined]


def test_every_command_and_query(running: Running, clock: SimClock) -> None:
    t, c, svc = running.tickets, running.centre, running.engine.service
    no = running.intake()
    assert svc.show(no)["state"] == "已受理"

    r = t.Dispatch(pb.DispatchRequest(ticket_no=no, dept=WATER, assist=[CITY]), metadata=c)
    assert (r.ticket.state, r.ticket.department, list(r.ticket.assist_departments)) == (
        "已派单", WATER, [CITY])
    r = t.Sign(pb.SignRequest(ticket_no=no, dept=WATER), metadata=c)
    assert r.ticket.state == "办理中"
    eta = datetime(2025, 10, 9, 17, 0, tzinfo=SHANGHAI)
    r = t.ReportPlan(pb.ReportPlanRequest(ticket_no=no, dept=WATER, note="三日内疏通",
                                          eta=convert.to_timestamp(eta)), metadata=c)
    assert convert.dict_of(r.ticket.plan)["note"] == "三日内疏通"
    r = t.RequestExtension(pb.RequestExtensionRequest(ticket_no=no, dept=WATER, days=3,
                                                      reason="需协调管网"), metadata=c)
    assert r.ticket.substate == "延期审批中"
    r = t.ApproveExtension(pb.ApproveExtensionRequest(ticket_no=no, note="同意"), metadata=c)
    assert convert.dict_of(r.ticket.extensions[0])["days"] == 3
    t.RequestExtension(pb.RequestExtensionRequest(ticket_no=no, dept=WATER, days=2,
                                                  reason="再延"), metadata=c)
    r = t.DenyExtension(pb.DenyExtensionRequest(ticket_no=no, reason="不予延期"), metadata=c)
    assert r.ticket.substate == "处理中" and len(r.ticket.extensions) == 2
    r = t.Resolve(pb.ResolveRequest(ticket_no=no, dept=WATER, reply="已疏通"), metadata=c)
    assert r.ticket.state == "已办结"
    r = t.RecordCallback(pb.RecordCallbackRequest(ticket_no=no, result="不满意",
                                                  comment="仍有异味"), metadata=c)
    assert (r.ticket.state, r.ticket.reopen_count) == ("办理中", 1)
    t.Resolve(pb.ResolveRequest(ticket_no=no, dept=WATER, reply="已彻底清理"), metadata=c)
    r = t.RecordCallback(pb.RecordCallbackRequest(ticket_no=no, result="满意"), metadata=c)
    assert r.ticket.state == "已归档"
    # The response mirrors `show` exactly (dates, masks, nested records, extras).
    assert convert.read(r.ticket) == svc.show(no)

    # Return -> reject; return -> redispatch; return -> transfer.
    a = running.dispatched(WATER)
    r = t.Return(pb.ReturnRequest(ticket_no=a, dept=WATER, reason="不属本单位职责"), metadata=c)
    assert (r.ticket.state, r.ticket.return_count) == ("已退回", 1)
    r = t.RejectReturn(pb.RejectReturnRequest(ticket_no=a, reason="属于职责"), metadata=c)
    assert r.ticket.state == "办理中"
    t.Return(pb.ReturnRequest(ticket_no=a, dept=WATER, reason="确非本单位"), metadata=c)
    r = t.Redispatch(pb.RedispatchRequest(ticket_no=a, dept=CITY, assist=[MARKET],
                                          reason="改派城管"), metadata=c)
    assert (r.ticket.state, r.ticket.department) == ("已派单", CITY)
    t.Return(pb.ReturnRequest(ticket_no=a, dept=CITY, reason="跨区"), metadata=c)
    r = t.Transfer(pb.TransferRequest(ticket_no=a, hotline="北京12345", reference="BJ-1",
                                      reason="属北京"), metadata=c)
    assert r.ticket.state == "已转办"
    assert convert.dict_of(r.ticket.transfer)["hotline"] == "北京12345"

    # Answer, withdraw, merge.
    q = running.intake(category="咨询", content="公积金怎么提取")
    r = t.Answer(pb.AnswerRequest(ticket_no=q, reply="携带身份证到窗口办理"), metadata=c)
    assert r.ticket.state == "已办结"
    w = running.intake()
    r = t.Withdraw(pb.WithdrawRequest(ticket_no=w, reason="市民撤诉"), metadata=c)
    assert (r.ticket.state, r.ticket.closing_reason) == ("已撤销", "市民撤诉")
    dup, master = running.intake(), running.intake()
    r = t.Merge(pb.MergeRequest(ticket_no=dup, into=master, reason="同一事件"), metadata=c)
    assert (r.ticket.state, r.ticket.merged_into) == ("已合并", master)
    assert list(t.GetTicket(pb.GetTicketRequest(ticket_no=master), metadata=c)
                .ticket.duplicates) == [dup]

    # Queries: as of a version, the list, the registry.
    v1 = t.GetTicket(pb.GetTicketRequest(ticket_no=no, version=1), metadata=c).ticket
    assert (v1.state, v1.version, v1.HasField("department")) == ("已受理", 1, False)
    assert v1.caller_phone == "138****8000" and v1.caller_name != "张三"
    rows = t.ListTickets(pb.ListTicketsRequest(dept=CITY), metadata=c).tickets
    assert {row.ticket_no for row in rows} == {no, a}  # lead or assisting
    assert [convert.read(row) for row in rows] == \
        running.engine.list(dept=CITY)
    assert dict(t.Tick(pb.TickRequest(), metadata=c).steps) == {
        "warning": 0, "level1": 0, "level2": 0, "level3": 0, "revised": 0, "erased": 0}
    running.dispatched(WATER)
    clock.advance(days=60)
    assert dict(t.Tick(pb.TickRequest(), metadata=c).steps) == {
        "warning": 1, "level1": 1, "level2": 1, "level3": 1, "revised": 0, "erased": 0}
    names = [d.name for d in t.ListDepartments(pb.ListDepartmentsRequest(),
                                               metadata=c).departments]
    assert WATER in names and len(names) == len(running.engine.departments.all())


def test_the_actor_is_the_token_identity_never_one_the_request_names(running: Running
                                                                     ) -> None:
    """Each event records who authenticated, in the role the matrix grants the command
    under; a request's actor field or x-rexian-actor header naming someone else is refused
    (PERMISSION_DENIED, nothing recorded, an access-log entry)."""
    t, c = running.tickets, running.centre
    request = pb.IntakeRequest(
        channel="电话", category="投诉", urgency="一般", region="甬江区", content="噪音",
        caller_name="李四", caller_phone="13900139000")
    no = t.Intake(request, metadata=c).ticket.ticket_no
    t.Dispatch(pb.DispatchRequest(ticket_no=no, dept=WATER), metadata=c)
    t.Sign(pb.SignRequest(ticket_no=no, dept=WATER), metadata=c)  # 代录 by the centre
    events = running.engine.service.history(no)["events"]
    assert [e["actor"] for e in events] == [
        {"role": "agent", "id": "centre"},
        {"role": "dispatcher", "id": "centre"},
        {"role": "dispatcher", "id": "centre"},
    ]
    forged = pb.IntakeRequest(**{f.name: getattr(request, f.name)
                                 for f in pb.IntakeRequest.DESCRIPTOR.fields
                                 if f.name != "actor"},
                              actor=common_pb.Actor(role="agent", id="A007"))
    for call, metadata in (
            (lambda m: t.Intake(forged, metadata=m), c),
            (lambda m: t.Withdraw(pb.WithdrawRequest(ticket_no=no, reason="x"), metadata=m),
             (*c, ("x-rexian-actor", "dispatcher:%E7%8E%8B%E4%BA%94")))):
        before = running.engine.service.recorder.max_notification_id()
        with pytest.raises(grpc.RpcError) as excinfo:
            call(metadata)
        assert code_of(excinfo) == grpc.StatusCode.PERMISSION_DENIED
        assert "操作人由令牌确定" in details_of(excinfo)
        # Nothing but the access-log entry was recorded.
        assert running.engine.service.recorder.max_notification_id() == before + 1
    assert len(running.engine.service.history(no)["events"]) == 3
    refused = [r for r in running.engine.access_entries(datetime(2000, 1, 1, tzinfo=UTC))
               if r["action"] == "refused"]
    assert [r["operation"] for r in refused[-2:]] == ["intake", "withdraw"]


def test_error_codes_name_the_field_or_state(running: Running) -> None:
    t, c = running.tickets, running.centre
    base: dict[str, Any] = {"channel": "电话", "category": "投诉", "urgency": "一般", "region": "甬江区",
            "content": "x", "caller_name": "张三", "caller_phone": "13800138000"}
    for field, bad in (("category", "闲聊"), ("caller_phone", "12345"), ("content", " "),
                       ("channel", "飞鸽")):
        with pytest.raises(grpc.RpcError) as excinfo:
            t.Intake(pb.IntakeRequest(**{**base, field: bad}), metadata=c)
        assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
        assert details_of(excinfo).startswith(f"{field}: ")
        trailer = dict(excinfo.value.trailing_metadata())  # type: ignore[attr-defined]
        assert trailer["rexian-error-field"] == field

    no = running.intake()
    with pytest.raises(grpc.RpcError) as excinfo:
        t.Dispatch(pb.DispatchRequest(ticket_no=no, dept="火星局"), metadata=c)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(excinfo).startswith("dept: ")
    with pytest.raises(grpc.RpcError) as excinfo:
        t.Sign(pb.SignRequest(ticket_no=no, dept=WATER), metadata=c)
    assert code_of(excinfo) == grpc.StatusCode.FAILED_PRECONDITION
    assert "已受理" in details_of(excinfo)
    assert dict(excinfo.value.trailing_metadata())[  # type: ignore[attr-defined]
        "rexian-error-state-bin"].decode() == "已受理"
    with pytest.raises(grpc.RpcError) as excinfo:
        t.GetTicket(pb.GetTicketRequest(ticket_no="20990101" + "9999"), metadata=c)
    assert code_of(excinfo) == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as excinfo:
        t.Withdraw(pb.WithdrawRequest(ticket_no="", reason="x"), metadata=c)
    assert code_of(excinfo) == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(excinfo).startswith("ticket_no: ")
    with pytest.raises(grpc.RpcError) as excinfo:
        t.ReportPlan(pb.ReportPlanRequest(ticket_no=no, dept=WATER, note="n"), metadata=c)
    assert details_of(excinfo).startswith("eta: ")
    with pytest.raises(grpc.RpcError) as excinfo:
        t.Intake(pb.IntakeRequest(**base, actor=common_pb.Actor(role="alien", id="x")),
                 metadata=c)
    assert details_of(excinfo).startswith("actor_role: ")
    # A lead-unit command by the wrong unit is a precondition failure for the centre.
    running.tickets.Dispatch(pb.DispatchRequest(ticket_no=no, dept=WATER), metadata=c)
    with pytest.raises(grpc.RpcError) as excinfo:
        t.Sign(pb.SignRequest(ticket_no=no, dept=CITY), metadata=c)
    assert code_of(excinfo) == grpc.StatusCode.FAILED_PRECONDITION


CENTRE_CALLS = [
    ("Intake", pb.IntakeRequest()), ("Answer", pb.AnswerRequest(ticket_no="x")),
    ("Dispatch", pb.DispatchRequest(ticket_no="x")),
    ("Redispatch", pb.RedispatchRequest(ticket_no="x")), ("Sign", pb.SignRequest()),
    ("Return", pb.ReturnRequest()), ("RejectReturn", pb.RejectReturnRequest()),
    ("Transfer", pb.TransferRequest()), ("RequestExtension", pb.RequestExtensionRequest()),
    ("ApproveExtension", pb.ApproveExtensionRequest()),
    ("DenyExtension", pb.DenyExtensionRequest()), ("Resolve", pb.ResolveRequest()),
    ("RecordCallback", pb.RecordCallbackRequest()), ("Withdraw", pb.WithdrawRequest()),
    ("Merge", pb.MergeRequest()), ("ReportPlan", pb.ReportPlanRequest()),
    ("GetTicket", pb.GetTicketRequest(ticket_no="x")), ("ListTickets", pb.ListTicketsRequest()),
    ("ListDepartments", pb.ListDepartmentsRequest()), ("Tick", pb.TickRequest()),
    ("EraseCitizen", pb.EraseCitizenRequest(citizen="13800138000", reason="x")),
]


def test_centre_api_needs_the_centre_token(running: Running) -> None:
    """Every TicketService RPC: no/unknown token → UNAUTHENTICATED; a unit's → DENIED."""
    names = {d.full_name.rsplit(".", 1)[-1] for d in
             pb.DESCRIPTOR.services_by_name["TicketService"].methods}
    assert {name for name, _ in CENTRE_CALLS} == names
    for name, request in CENTRE_CALLS:
        method = getattr(running.tickets, name)
        for metadata, expected in (((), grpc.StatusCode.UNAUTHENTICATED),
                                   (md("forged"), grpc.StatusCode.UNAUTHENTICATED),
                                   (running.dept(WATER), grpc.StatusCode.PERMISSION_DENIED)):
            with pytest.raises(grpc.RpcError) as excinfo:
                method(request, metadata=metadata)
            assert code_of(excinfo) == expected, (name, metadata)


def test_concurrent_commands_on_one_order(running: Running) -> None:
    """Threads hammering one server: every command lands or fails cleanly (ABORTED etc.)."""
    from concurrent.futures import ThreadPoolExecutor

    orders = [running.intake() for _ in range(20)]

    def dispatch(no: str) -> str:
        try:
            running.tickets.Dispatch(pb.DispatchRequest(ticket_no=no, dept=WATER),
                                     metadata=running.centre)
            return "ok"
        except grpc.RpcError as error:
            return str(error.code())  # type: ignore[attr-defined]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(dispatch, orders + orders))
    assert results.count("ok") == 20
    assert set(results) <= {"ok", str(grpc.StatusCode.FAILED_PRECONDITION),
                            str(grpc.StatusCode.ABORTED)}
    assert all(running.engine.service.show(no)["state"] == "已派单" for no in orders)


def test_view_keys_the_contract_does_not_name_travel_in_extra() -> None:
    view = {"ticket_no": "202510010001", "state": "办理中", "substate": None,
            "due_at": "2025-10-09T23:59:59+08:00", "returns": [{"dept": WATER, "n": 2}],
            "pending_extension": None, "future_key": {"level": 3, "names": ["a"]}}
    message = common_pb.Ticket()
    convert.fill(message, view)
    assert convert.dict_of(message.extra) == {"future_key": {"level": 3, "names": ["a"]}}
    back = convert.read(message)
    assert {k: back[k] for k in view} == view


def test_instants_become_the_timestamps_protobuf_itself_computes() -> None:
    """convert.to_timestamp does Timestamp.FromDatetime's arithmetic without its struct_time
    round trip: the same seconds and nanos for instants before the epoch, before 1901, with
    any offset, and for naive ISO text (taken as Beijing time)."""
    from datetime import UTC, datetime

    from google.protobuf.timestamp_pb2 import Timestamp

    for text in ("1899-12-31T23:59:59.999999+08:05", "1969-12-31T23:59:59.5+00:00",
                 "1970-01-01T00:00:00+00:00", "2025-11-03T09:00:00.123456+08:00",
                 "2026-12-07T18:00:00.000001-05:30", "9999-12-31T23:59:59.999999+00:00",
                 "0001-01-01T08:00:00+08:00"):
        instant = datetime.fromisoformat(text)
        for value in (instant, text, instant.astimezone(UTC)):
            expected = Timestamp()
            expected.FromDatetime(datetime.fromisoformat(text).astimezone(UTC))
            assert convert.to_timestamp(value) == expected, value
    naive = Timestamp()
    naive.FromDatetime(datetime(2025, 11, 3, 1, 0, tzinfo=UTC))
    assert convert.to_timestamp("2025-11-03T09:00:00") == naive
