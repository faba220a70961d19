"""Hostile input (issue 9, item 5), case by case: refused with exit 2 / INVALID_ARGUMENT
naming the field, bilingual, nothing recorded, no ticket number used, never a traceback.
tests/test_fuzz.py throws random hostile input at every command; this file pins each rule.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from typer.testing import CliRunner

import tools.cli
from adapters.bootstrap import Engine, build_engine
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as dept_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as pb
from adapters.grpc.server import PortInUse, serve_grpc
from domain.errors import InvalidInput, UnknownTicket, shown
from domain.values import Actor, require_identifier, require_text
from tests.test_fuzz import store_state
from tests.test_grpc_support import CITY, WATER, Running, running_fixture

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / ".venv" / "bin" / "rexian"
NOW = "2025-09-30T09:00"
INTAKE = ["intake", "--channel", "电话", "--category", "投诉", "--region", "甬江区东湖街道",
          "--caller-name", "张三", "--caller-phone", "13800138000"]


# ----- the rules, in domain.values ------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), ids=ascii, argvalues=[
    ("\udcff", "undecodable byte 0xFF at character 1"),
    ("ok\x00", "control character U+0000 at character 3"),
    ("\x1b[2J", "control character U+001B"),
    ("看\u202e反", "control character U+202E"),
    (" \t\u3000\u200b ", "must not be empty"),
    ("x" * 4001, "too long"),
])
def test_require_text_refuses(value: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        require_text("content", value, "诉求内容")
    assert excinfo.value.field == "content"
    assert expected in excinfo.value.en and excinfo.value.zh.startswith("诉求内容")


def test_free_text_keeps_line_breaks_identifiers_do_not() -> None:
    assert require_text("content", " 第一行\n第二行\t完 ", "诉求内容") == "第一行\n第二行\t完"
    for bad in ("区水\n务局", "区\t水务局", "区水务局\u200b", "\ufeff区水务局"):
        with pytest.raises(InvalidInput):
            require_identifier("dept", "x" + bad, "单位")
    with pytest.raises(InvalidInput) as excinfo:
        Actor("agent", "A1\u200f")
    assert excinfo.value.field == "actor_id"


def test_messages_cut_and_escape_user_values() -> None:
    error = UnknownTicket("9" * 10_000)
    assert error.zh == f"工单 {'9' * 40}… 不存在"
    assert len(str(error)) < 150
    assert shown("a\x00\udcff\u202eb") == "a\\x00\\udcff\\u202eb"
    # Any message stays encodable, even one built from a raw surrogate.
    InvalidInput("x", "坏\udcff", "bad\udcff").zh.encode("utf-8")


# ----- the CLI --------------------------------------------------------------------------
@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Engine]]:
    monkeypatch.setenv("REXIAN_SIMULATION", "1")
    db = str(tmp_path / "rexian.db")
    runner = CliRunner()
    done = runner.invoke(tools.cli.app, ["--db", db, "--now", NOW, *INTAKE, "--content", "路灯"])
    assert done.exit_code == 0, done.output
    engine = build_engine(db)
    yield db, engine
    engine.close()


def cli(db: str, *args: str) -> Any:
    return CliRunner().invoke(tools.cli.app, ["--db", db, "--now", NOW, *args])


def test_console_script_refuses_undecodable_argv_without_using_a_number(
        cli_db: tuple[str, Engine]) -> None:
    db, engine = cli_db
    before = store_state(engine)
    env = {**os.environ, "REXIAN_SIMULATION": "1", "PYTHONPATH": str(REPO)}
    # Bytes that are not UTF-8, exactly as a shell passes $'\xff'.
    argv = [str(SCRIPT), "--db", db, "--now", NOW, *INTAKE, "--content", b"\xff".decode(
        "utf-8", "surrogateescape")]
    done = subprocess.run([os.fsencode(a) for a in argv], env=env, capture_output=True,
                          timeout=60)
    stderr = done.stderr.decode("utf-8")
    assert done.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert "content is not valid UTF-8" in stderr and "诉求内容含有无效的 UTF-8 字节" in stderr
    assert store_state(engine) == before  # no event, no ticket number


@pytest.mark.parametrize(("args", "field"), ids=ascii, argvalues=[
    (["--content", "噪音\x01"], "content"),
    (["--content", " \u3000\t "], "content"),
    (["--content", "噪音", "--urgency", "紧急\udcff"], "urgency"),
    (["--content", "噪音\u202e"], "content"),
])
def test_cli_intake_refusals_record_nothing(cli_db: tuple[str, Engine], args: list[str],
                                            field: str) -> None:
    db, engine = cli_db
    before = store_state(engine)
    done = cli(db, *INTAKE, *args, "--json")
    assert done.exit_code == 2, done.output
    assert f'"field": "{field}"' in done.output
    assert store_state(engine) == before


def test_cli_list_refuses_filters_that_cannot_match(cli_db: tuple[str, Engine]) -> None:
    db, _ = cli_db
    done = cli(db, "list", "--state", "已完成")
    assert done.exit_code == 2
    assert "可选：已受理、已派单" in done.output and "expected one of 已受理" in done.output
    done = cli(db, "list", "--category", "夸奖")
    assert done.exit_code == 2 and "咨询、求助、投诉" in done.output
    assert cli(db, "list", "--state", "已受理").exit_code == 0


def test_cli_unknown_ticket_is_named_by_its_first_characters(cli_db: tuple[str, Engine]
                                                             ) -> None:
    db, _ = cli_db
    done = cli(db, "show", "7" * 10_000)
    assert done.exit_code == 2
    assert f"工单 {'7' * 40}… 不存在" in done.output and len(done.output) < 300


def test_cli_role_with_control_characters_is_refused(cli_db: tuple[str, Engine]) -> None:
    db, engine = cli_db
    before = store_state(engine)
    done = cli(db, "--role", "agent\x07", *INTAKE, "--content", "噪音")
    assert done.exit_code == 2 and "invalid role" in done.output and "\x07" not in done.output
    assert store_state(engine) == before


def test_cli_undecodable_ticket_number(cli_db: tuple[str, Engine]) -> None:
    done = cli(cli_db[0], "show", "2025\udcff")
    assert done.exit_code == 2 and isinstance(done.exception, SystemExit)


def test_cli_undecodable_optional_comment(cli_db: tuple[str, Engine]) -> None:
    db, engine = cli_db
    ticket = engine.list()[0]["ticket_no"]
    assert cli(db, "answer", ticket, "--reply", "已答复").exit_code == 2  # a 投诉: refused
    for args in (["dispatch", ticket, "--dept", WATER], ["sign", ticket, "--dept", WATER],
                 ["resolve", ticket, "--dept", WATER, "--reply", "已修复"]):
        assert cli(db, *args).exit_code == 0
    done = cli(db, "callback", ticket, "--result", "满意", "--comment", "好\udcff")
    assert done.exit_code == 2 and isinstance(done.exception, SystemExit)


def test_cli_instant_out_of_range(cli_db: tuple[str, Engine]) -> None:
    db, engine = cli_db
    ticket = engine.list()[0]["ticket_no"]
    done = cli(db, "history", ticket, "--as-of", "9999-12-31T23:00+00:00")
    assert done.exit_code == 2 and isinstance(done.exception, SystemExit)


def test_cli_list_refuses_an_unknown_unit(cli_db: tuple[str, Engine]) -> None:
    done = cli(cli_db[0], "list", "--dept", "区不存在局")
    assert done.exit_code == 2 and "区水务局" in done.output


# ----- gRPC -----------------------------------------------------------------------------
@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    engine = build_engine(str(tmp_path / "rexian.db"))
    yield from running_fixture(engine)
    engine.close()


def raw_call(running: Running, method: str, body: bytes, metadata: Any) -> grpc.RpcError:
    call = running.channel.unary_unary(method, request_serializer=None,
                                       response_deserializer=None)
    with pytest.raises(grpc.RpcError) as excinfo:
        call(body, metadata=metadata, timeout=10)
    return excinfo.value


def test_grpc_invalid_utf8_is_invalid_argument_naming_the_field(running: Running) -> None:
    running.intake()
    before = store_state(running.engine)
    request = pb.IntakeRequest(channel="电话", category="投诉", region="甬江区", content="噪音",
                               caller_name="张三", caller_phone="13800138000")
    number = pb.IntakeRequest.DESCRIPTOR.fields_by_name["content"].number
    body = request.SerializeToString() + bytes([number << 3 | 2, 2, 0xE5, 0xFF])
    error: Any = raw_call(running, "/rexian.ticket.v1.TicketService/Intake", body,
                          running.centre)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("content: 字段“content”含有无效的 UTF-8 字节")
    assert "content is not valid UTF-8" in error.details()
    assert dict(error.trailing_metadata())["rexian-error-field"] == "content"
    # Nested: the actor's id inside the request.
    actor_field = pb.IntakeRequest.DESCRIPTOR.fields_by_name["actor"].number
    body = request.SerializeToString() + bytes([actor_field << 3 | 2, 3, 2 << 3 | 2, 1, 0xFF])
    error = raw_call(running, "/rexian.ticket.v1.TicketService/Intake", body, running.centre)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("actor.id: ")
    assert store_state(running.engine) == before


@pytest.mark.parametrize(("request_", "field"), ids=ascii, argvalues=[
    (pb.IntakeRequest(channel="电话", category="投诉", region="甬江区", content="噪\x00音",
                      caller_name="张三", caller_phone="13800138000"), "content"),
    (pb.IntakeRequest(channel="电话", category="投诉", region="甬江区", content="噪音",
                      caller_name="张\u202e三", caller_phone="13800138000"), "caller_name"),
    (pb.IntakeRequest(channel="电话", category="投诉", region=" \u3000 ", content="噪音",
                      caller_name="张三", caller_phone="13800138000"), "region"),
])
def test_grpc_control_characters_and_blank_text(running: Running, request_: Any,
                                                field: str) -> None:
    before = store_state(running.engine)
    with pytest.raises(grpc.RpcError) as excinfo:
        running.tickets.Intake(request_, metadata=running.centre)
    error: Any = excinfo.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(f"{field}: ") and " / " in error.details()
    assert store_state(running.engine) == before


def test_grpc_huge_unknown_ticket_number(running: Running) -> None:
    with pytest.raises(grpc.RpcError) as excinfo:
        running.tickets.GetTicket(pb.GetTicketRequest(ticket_no="工" * 15_000),
                                  metadata=running.centre)
    error: Any = excinfo.value
    assert error.code() == grpc.StatusCode.NOT_FOUND  # not RESOURCE_EXHAUSTED (trailers)
    assert f"工单 {'工' * 40}… 不存在" in error.details()


def test_grpc_list_refuses_an_unknown_state(running: Running) -> None:
    with pytest.raises(grpc.RpcError) as excinfo:
        running.tickets.ListTickets(pb.ListTicketsRequest(state="进行中"),
                                    metadata=running.centre)
    assert excinfo.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]


def test_department_api_has_no_existence_oracle(running: Running) -> None:
    """Another unit's order and an order that does not exist get the same answer."""
    theirs = running.dispatched(CITY)
    missing = "209901019999"
    answers = []
    for ticket in (theirs, missing):
        for call, request in ((running.feed.GetTicket, dept_pb.GetTicketRequest),
                              (running.feed.Sign, dept_pb.SignRequest)):
            with pytest.raises(grpc.RpcError) as excinfo:
                call(request(ticket_no=ticket), metadata=running.dept(WATER))
            error: Any = excinfo.value
            trailers = {k for k, _ in error.trailing_metadata() or ()}
            answers.append((error.code(), error.details().replace(ticket, "N"),
                            sorted(k for k in trailers if k.startswith("rexian-"))))
    assert answers[:2] == answers[2:]
    assert answers[0][0] == grpc.StatusCode.PERMISSION_DENIED


def _taken_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


def test_second_server_on_a_port_refuses_to_start(running: Running) -> None:
    with pytest.raises(PortInUse) as excinfo:
        serve_grpc(running.engine, f"127.0.0.1:{running.port}")
    assert "端口已被占用" in str(excinfo.value) and "port in use" in str(excinfo.value)


def test_serve_on_a_taken_port_exits_2(tmp_path: Path) -> None:
    sock, port = _taken_port()
    try:
        env = {k: v for k, v in os.environ.items()  # keeping the session's KEK
               if not k.startswith("REXIAN_") or k == "REXIAN_KEK_FILE"}
        done = subprocess.run([str(SCRIPT), "--db", str(tmp_path / "r.db"), "serve", "--grpc",
                               f"127.0.0.1:{port}"], env=env, capture_output=True, text=True,
                              timeout=60)
    finally:
        sock.close()
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "cannot listen on" in done.stderr


def test_grpc_list_refuses_an_unknown_unit(running: Running) -> None:
    with pytest.raises(grpc.RpcError) as excinfo:
        running.tickets.ListTickets(pb.ListTicketsRequest(dept="区不存在局"),
                                    metadata=running.centre)
    assert excinfo.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
