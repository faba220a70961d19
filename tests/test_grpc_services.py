"""AuditService, TelephonyService (idempotent reports), health, reflection, CLI --grpc."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from typer.testing import CliRunner

from adapters.bootstrap import build_engine
from adapters.grpc import convert
from adapters.grpc.gen.rexian.audit.v1 import audit_service_pb2 as audit_pb
from adapters.grpc.gen.rexian.audit.v1 import audit_service_pb2_grpc as audit_grpc
from adapters.grpc.gen.rexian.telephony.v1 import telephony_service_pb2 as tel_pb
from adapters.grpc.gen.rexian.telephony.v1 import telephony_service_pb2_grpc as tel_grpc
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from adapters.grpc.server import SERVICE_NAMES
from adapters.grpc.services import history_entry_dict
from adapters.telephony_reports import TABLE, TelephonyReport, apply_report
from domain.service import SHANGHAI
from domain.values import Actor
from tests.conftest import SimClock
from tests.test_grpc_support import CENTRE_TOKEN, WATER, Running, md, running_fixture


@pytest.fixture
def running(tmp_path: Path, clock: SimClock) -> Iterator[Running]:
    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield from running_fixture(engine)
    engine.close()


def resolved(running: Running) -> str:
    no = running.dispatched(WATER)
    c = running.centre
    running.tickets.Sign(ticket_pb.SignRequest(ticket_no=no, dept=WATER), metadata=c)
    running.tickets.Resolve(ticket_pb.ResolveRequest(ticket_no=no, dept=WATER, reply="好"),
                            metadata=c)
    return no


# ----- audit ----------------------------------------------------------------------------
def test_replay_and_verify(running: Running, clock: SimClock) -> None:
    audit = audit_grpc.AuditServiceStub(running.channel)
    no = running.dispatched(WATER)
    clock.advance(hours=1)
    running.tickets.Sign(ticket_pb.SignRequest(ticket_no=no, dept=WATER),
                         metadata=running.centre)
    entries = [history_entry_dict(r.entry) for r in audit.Replay(
        audit_pb.ReplayRequest(ticket_no=no), metadata=running.centre)]
    assert entries == running.engine.service.history(no)["events"]
    assert [e["type"] for e in entries] == ["Registered", "Dispatched", "Signed"]
    as_of = convert.to_timestamp(datetime(2025, 9, 30, 9, 30, tzinfo=SHANGHAI))  # before Sign
    early = [r.entry.type for r in audit.Replay(audit_pb.ReplayRequest(ticket_no=no, as_of=as_of),
                                                metadata=running.centre)]
    assert early == ["Registered", "Dispatched"]
    for request, code, start in (
            (audit_pb.ReplayRequest(ticket_no=no, as_of=convert.to_timestamp(
                datetime(2020, 1, 1, tzinfo=SHANGHAI))), grpc.StatusCode.INVALID_ARGUMENT,
             "as_of: "),
            (audit_pb.ReplayRequest(ticket_no="209901019999"), grpc.StatusCode.NOT_FOUND, "")):
        with pytest.raises(grpc.RpcError) as excinfo:
            list(audit.Replay(request, metadata=running.centre))
        assert excinfo.value.code() == code  # type: ignore[attr-defined]
        assert excinfo.value.details().startswith(start)  # type: ignore[attr-defined]
    report = audit.Verify(audit_pb.VerifyRequest(), metadata=running.centre)
    # Every stored event: the order's, the test token's and the auditor's two logged reads.
    stored = running.engine.service.recorder.max_notification_id()
    assert report.ok and report.checked_events == stored == 6 and not report.problems
    reads = [(r["action"], r["target"]) for r in running.engine.access_entries(
        datetime(2000, 1, 1, tzinfo=SHANGHAI))]
    assert reads == [("history", no), ("as_of", no)]
    one = audit.Verify(audit_pb.VerifyRequest(ticket_no=no), metadata=running.centre)
    assert one.ok and one.checked_orders == 1


# ----- telephony ------------------------------------------------------------------------
def intent(report_id: str, ticket_no: str, said: str) -> tel_pb.TelephonyReport:
    return tel_pb.TelephonyReport(report_id=report_id, ticket_no=ticket_no, adapter="asr-1",
                                  intent=tel_pb.Intent(intent=said, text=f"我{said}"))


def test_telephony_reports_apply_once(running: Running) -> None:
    tel = tel_grpc.TelephonyServiceStub(running.channel)
    svc = running.engine.service
    no = resolved(running)
    r = tel.Report(tel_pb.ReportRequest(report=intent("r-1", no, "满意")),
                   metadata=running.centre).result
    assert (r.duplicate, r.action, r.detail) == (False, "record_callback", "")
    view = svc.show(no)
    assert (view["state"], view["callback"]["result"]) == ("已归档", "满意")
    again = tel.Report(tel_pb.ReportRequest(report=intent("r-1", no, "满意")),
                       metadata=running.centre).result
    assert again.duplicate and svc.show(no)["version"] == view["version"]
    actors = {e["actor"]["id"] for e in svc.history(no)["events"]}
    assert "asr-1#r-1" in actors

    # Exhausted dial attempts on the callback: 无法联系.
    unreachable = resolved(running)
    dial = tel_pb.TelephonyReport(
        report_id="d-9", ticket_no=unreachable, call_id="cb-1", adapter="dialler",
        dial=tel_pb.Dial(outcome=tel_pb.DIAL_OUTCOME_NO_ANSWER, attempts_exhausted=True,
                         attempt=3))
    r = tel.Report(tel_pb.ReportRequest(report=dial), metadata=running.centre).result
    assert r.action == "record_call,record_callback"
    view = svc.show(unreachable)
    assert (view["state"], view["callback"]["result"]) == ("已归档", "无法联系")
    assert view["call_attempts"][0]["outcome"] == "no_answer"

    # The client stream: repeats inside the stream and across calls change nothing.
    other = resolved(running)
    stream = [intent("s-1", other, "不满意"), intent("s-1", other, "不满意"),
              tel_pb.TelephonyReport(report_id="s-2", ticket_no=other,
                                     transcript=tel_pb.Transcript(text="喂，你好")),
              tel_pb.TelephonyReport(report_id="s-3", ticket_no=other, call_id="cb-2",
                                     dial=tel_pb.Dial(outcome=tel_pb.DIAL_OUTCOME_BUSY,
                                                      attempt=1))]
    summary = tel.ReportStream(iter(tel_pb.ReportStreamRequest(report=r) for r in stream),
                               metadata=running.centre)
    assert (summary.received, summary.applied, summary.duplicates) == (4, 3, 1)
    assert [x.action for x in summary.results] == ["record_callback", "none", "none",
                                                   "record_call"]
    summary = tel.ReportStream(iter(tel_pb.ReportStreamRequest(report=r) for r in stream),
                               metadata=running.centre)
    assert (summary.applied, summary.duplicates) == (0, 4)
    view = svc.show(other)
    assert (view["state"], view["reopen_count"], len(view["call_attempts"])) == ("办理中", 1, 1)

    # A report the lifecycle refuses is consumed, with the reason.
    r = tel.Report(tel_pb.ReportRequest(report=intent("late-1", no, "不满意")),
                   metadata=running.centre).result
    assert not r.duplicate and r.detail.startswith("refused: ")
    # Malformed reports are refused and not recorded.
    for report, field in ((intent("", no, "满意"), "report_id"),
                          (tel_pb.TelephonyReport(report_id="x-1", ticket_no=no), "body")):
        with pytest.raises(grpc.RpcError) as excinfo:
            tel.Report(tel_pb.ReportRequest(report=report), metadata=running.centre)
        assert excinfo.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
        assert excinfo.value.details().startswith(f"{field}: ")  # type: ignore[attr-defined]


def test_apply_report_is_idempotent_and_recovers_a_crashed_claim(running: Running) -> None:
    engine = running.engine
    no = resolved(running)
    report = TelephonyReport(report_id="k-1", ticket_no=no, kind="intent", intent="基本满意")
    assert apply_report(engine, report) is True
    assert apply_report(engine, report) is False
    version = engine.service.show(no)["version"]

    # A worker saved the command, then died before marking the report done.
    crashed = resolved(running)
    engine.service.record_callback(crashed, result="满意", comment="",
                                   actor=Actor("robot", "telephony#k-2"))
    with engine.db.transaction() as cur:
        cur.execute(f"INSERT INTO {TABLE} (report_id, ticket_no, kind, status, action, detail, "
                    "claimed_at) VALUES ('k-2', ?, 'intent', 'pending', '', '', ?)",
                    (crashed, time.time() - 3600))
    before = engine.service.show(crashed)["version"]
    redelivered = TelephonyReport(report_id="k-2", ticket_no=crashed, kind="intent",
                                  intent="满意")
    assert apply_report(engine, redelivered) is True  # taken over, but not applied twice
    assert engine.service.show(crashed)["version"] == before
    assert apply_report(engine, redelivered) is False
    assert engine.service.show(no)["version"] == version


CENTRE_ONLY = [
    lambda ch, m: tel_grpc.TelephonyServiceStub(ch).Report(
        tel_pb.ReportRequest(report=intent("a-1", "x", "满意")), metadata=m),
    lambda ch, m: tel_grpc.TelephonyServiceStub(ch).ReportStream(
        iter([tel_pb.ReportStreamRequest(report=intent("a-2", "x", "满意"))]), metadata=m),
    lambda ch, m: list(audit_grpc.AuditServiceStub(ch).Replay(
        audit_pb.ReplayRequest(ticket_no="x"), metadata=m)),
    lambda ch, m: audit_grpc.AuditServiceStub(ch).Verify(audit_pb.VerifyRequest(), metadata=m),
]


def test_audit_and_telephony_need_the_centre_token(running: Running) -> None:
    for call in CENTRE_ONLY:
        for metadata, expected in (((), grpc.StatusCode.UNAUTHENTICATED),
                                   (md("nope"), grpc.StatusCode.UNAUTHENTICATED),
                                   (running.dept(WATER), grpc.StatusCode.PERMISSION_DENIED)):
            with pytest.raises(grpc.RpcError) as excinfo:
                call(running.channel, metadata)
            assert excinfo.value.code() == expected  # type: ignore[attr-defined]


# ----- health and reflection ------------------------------------------------------------
def test_health_and_reflection(running: Running) -> None:
    health = health_pb2_grpc.HealthStub(running.channel)
    for name in ("", *SERVICE_NAMES):
        status = health.Check(health_pb2.HealthCheckRequest(service=name)).status
        assert status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.RpcError) as excinfo:
        health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
    assert excinfo.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]

    database = ProtoReflectionDescriptorDatabase(running.channel)
    services = set(database.get_services())
    assert set(SERVICE_NAMES) | {"grpc.health.v1.Health"} <= services
    pool = descriptor_pool.DescriptorPool(database)
    feed = pool.FindServiceByName("rexian.department.v1.DepartmentFeedService")
    subscribe = feed.methods_by_name["Subscribe"]
    assert subscribe.output_type.full_name == "rexian.department.v1.SubscribeResponse"
    ticket = pool.FindMessageTypeByName("rexian.common.v1.Ticket")
    assert "assist_departments" in ticket.fields_by_name


def test_health_reports_shutdown(tmp_path: Path, clock: SimClock) -> None:
    from tests.test_grpc_support import start

    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    run = start(engine)
    health = health_pb2_grpc.HealthStub(run.channel)
    watch = health.Watch(health_pb2.HealthCheckRequest(service=""))
    assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
    run.server.stop(grace=1.0)
    try:
        assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
    except grpc.RpcError:
        pass  # the stream may end with the server instead
    run.channel.close()
    engine.close()


# ----- the CLI in remote mode -------------------------------------------------------------
def test_cli_remote_mode_walks_a_lifecycle(running: Running,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.cli import app

    monkeypatch.setenv("REXIAN_TOKEN", CENTRE_TOKEN)
    cli = CliRunner()
    remote = ["--grpc", f"127.0.0.1:{running.port}"]

    def rexian(*args: str, code: int = 0) -> str:
        result = cli.invoke(app, [*remote, *args])
        assert result.exit_code == code, result.output
        return result.stdout

    created = json.loads(rexian("intake", "--channel", "电话", "--category", "投诉",
                                "--region", "甬江区东湖街道", "--caller-name", "赵六",
                                "--caller-phone", "13600136000", "--content", "路灯不亮",
                                "--json"))
    no = created["ticket_no"]
    # The order as recorded, plus the intake's advice (as a local intake's JSON has it).
    advice = {"dispatch_suggestions", "auto_dispatched", "duplicate_candidates",
              "mass_complaint"}
    assert advice <= created.keys()
    assert {k: v for k, v in created.items() if k not in advice} == \
        running.engine.service.show(no)
    assert no in rexian("dispatch", no, "--dept", WATER, "--assist", "区城管局")
    rexian("sign", no, "--dept", WATER)
    rexian("extend", no, "--dept", WATER, "--days", "2", "--reason", "采购灯具")
    rexian("approve-extension", no, "--note", "同意")
    rexian("plan", no, "--dept", WATER, "--eta", "2025-10-08T18:00", "--note", "三天内更换")
    rexian("resolve", no, "--dept", WATER, "--reply", "已更换")
    assert "已归档" in rexian("callback", no, "--result", "满意")
    assert json.loads(rexian("show", no, "--json")) == running.engine.service.show(no)
    assert json.loads(rexian("history", no, "--json")) == running.engine.service.history(no)
    assert json.loads(rexian("list", "--dept", WATER, "--json")) == \
        running.engine.list(dept=WATER)
    assert json.loads(rexian("verify", "--json"))["ok"] is True
    assert WATER in rexian("departments")

    # Domain errors come back with the same type and messages, exit code 2.
    error = json.loads(rexian("sign", no, "--dept", WATER, "--json", code=2))["error"]
    assert error["type"] == "IllegalTransition" and "已归档" in error["zh"]
    error = json.loads(rexian("dispatch", no, "--dept", "火星局", "--json", code=2))["error"]
    assert (error["type"], error["field"]) == ("UnknownDepartment", "dept")
    counts = json.loads(rexian("tick", "--json"))  # the server ticks (Tick RPC)
    assert set(counts) == {"warning", "level1", "level2", "level3", "revised", "erased"}
    monkeypatch.setenv("REXIAN_TOKEN", "wrong")
    error = json.loads(rexian("show", no, "--json", code=2))["error"]
    assert error["type"] == "Unauthenticated" and "malformed token" in error["en"]
    monkeypatch.delenv("REXIAN_TOKEN")
    error = json.loads(rexian("show", no, "--json", code=2))["error"]
    assert error["field"] == "token" and "REXIAN_TOKEN" in error["en"]
