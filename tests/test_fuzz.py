"""Hostile input, fuzzed: every CLI command and every TicketService RPC gets control
characters, lone surrogates (undecodable argv), NUL, bidi and zero-width marks, huge
strings, odd numbers and instants, mixed with valid values so commands reach deep.

Asserted after every example: no traceback (CLI) and no INTERNAL/UNKNOWN (gRPC); only the
documented outcomes (exit 0 or 2; OK, INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND);
a refusal has a bilingual message and leaves the store exactly as it was (stored events,
ticket sequences).

Examples per test: REXIAN_FUZZ_PROFILE=ci (default, `make test`) or fuzz (`make fuzz`).
One store per test, not per example: building an engine costs more than the command.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import tools.cli
from adapters.bootstrap import Engine, build_engine
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from domain.errors import DomainError
from domain.service import SHANGHAI
from domain.values import CALLBACK_RESULTS, CATEGORIES, CHANNELS, URGENCIES
from tests.conftest import SimClock
from tests.test_grpc_support import CENTRE_TOKEN, WATER, Running, md, start

PROFILES = {"ci": 520, "fuzz": 5200}  # per test; two tests
EXAMPLES = PROFILES[os.environ.get("REXIAN_FUZZ_PROFILE", "ci")]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
NOW = "2025-09-30T09:00"

# ----- hostile values -------------------------------------------------------------------
HOSTILE = [
    "", " ", "\u3000", "\t\n\r", "\x00", "a\x00b", "\x1b[31m红\x1b[0m", "\x7f", "\x85",
    "\u202e区水务局", "\u200f", "\u200b", "\ufeff", "\u2028", "区水务局\u200b", "\udcff",
    "a\udcffb", "\ud800", "x" * 10_000, "工" * 5_000, "-1", "0", "2147483648",
    "99999999999999999999", "NaN", "1e309", "0001-01-01T00:00", "9999-12-31T23:59:59-14:00",
    "2025-02-30T00:00", "../../etc/passwd", "'; DROP TABLE stored_events; --", "%00",
]
# Lone surrogates are what bytes that are not UTF-8 become in argv (surrogateescape).
_SURROGATES = st.characters(categories=["Cs"])
_ANY_CHAR = st.one_of(st.characters(), _SURROGATES)
HOSTILE_TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(_ANY_CHAR, max_size=12),
    st.lists(st.sampled_from([*HOSTILE[:18], "办", "12", "区城管局"]), max_size=4).map("".join),
)


def _no_surrogates(text: str) -> bool:
    return not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def mixed(valid: list[str], hostile: st.SearchStrategy[str] = HOSTILE_TEXT
          ) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(valid), hostile)


# ----- the CLI --------------------------------------------------------------------------
class SharedEngine:
    """The test's one engine, handed to every CLI invocation; the CLI's close() is a no-op."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def close(self) -> None:
        pass


def store_state(engine: Engine) -> tuple[int, list[tuple[Any, ...]]]:
    """What a refusal must leave as it was: every event but the access log's (a refusal
    records its own entry there), and the ticket sequences."""
    with engine.db.transaction(immediate=False) as cur:
        events = cur.execute("SELECT COUNT(*) FROM stored_events WHERE topic NOT LIKE "
                             "'%:AccessEntry.Recorded'").fetchone()[0]
        sequences = cur.execute("SELECT day, last FROM rexian_ticket_sequences "
                                "ORDER BY day").fetchall()
    return int(events), [tuple(row) for row in sequences]


def seed(engine: Engine) -> list[str]:
    """Orders in several states so commands get past the ticket lookup."""
    service = engine.service
    from domain.values import Actor

    agent, centre = Actor("agent", "A1"), Actor("dispatcher", "D1")
    unit = Actor("department", WATER)
    tickets = []
    for _ in range(4):
        tickets.append(service.intake(channel="电话", category="投诉", urgency="一般",
                                      region="甬江区东湖街道", content="路灯不亮",
                                      caller_name="张三", caller_phone="13800138000",
                                      actor=agent))
    service.dispatch(tickets[1], dept=WATER, assist=[], actor=centre)
    service.dispatch(tickets[2], dept=WATER, assist=[], actor=centre)
    service.sign(tickets[2], dept=WATER, actor=unit)
    service.dispatch(tickets[3], dept=WATER, assist=[], actor=centre)
    service.sign(tickets[3], dept=WATER, actor=unit)
    service.resolve(tickets[3], dept=WATER, reply="已修复", actor=unit)
    return tickets


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, list[str]]]:
    path = tmp_path_factory.mktemp("cli-fuzz") / "rexian.db"
    # The CLI's --now cannot reach a shared engine: give it the same simulation clock.
    engine = build_engine(str(path), clock=SimClock(datetime.fromisoformat(NOW).replace(
        tzinfo=SHANGHAI)))
    tickets = seed(engine)
    yield engine, tickets
    engine.close()


def cli_commands(tickets: list[str], depts: list[str]) -> dict[str, Callable[..., Any]]:
    """Per command: a strategy for its argv after the command name."""
    ticket = mixed(tickets, HOSTILE_TEXT)
    dept = mixed(depts)
    text = HOSTILE_TEXT
    note = mixed(["同意", ""], HOSTILE_TEXT)
    instant = mixed(["2025-10-09T17:00", "2025-09-30T09:00+08:00"],
                    HOSTILE_TEXT)
    number = st.one_of(st.integers(-10**12, 10**12).map(str), HOSTILE_TEXT)

    def argv(*parts: Any) -> st.SearchStrategy[list[str]]:
        pieces = [p if isinstance(p, st.SearchStrategy) else st.just(p) for p in parts]
        return st.tuples(*pieces).map(list)

    return {
        "intake": argv("--channel", mixed(list(CHANNELS)), "--category", mixed(list(CATEGORIES)),
                       "--region", mixed(["甬江区东湖街道"]), "--caller-name", mixed(["李四"]),
                       "--caller-phone", mixed(["13800138000", "0574-88888888"]),
                       "--content", mixed(["噪音扰民"]), "--urgency", mixed(list(URGENCIES))),
        "answer": argv(ticket, "--reply", text),
        "dispatch": argv(ticket, "--dept", dept, "--assist", dept),
        "redispatch": argv(ticket, "--dept", dept, "--reason", text),
        "sign": argv(ticket, "--dept", dept),
        "return": argv(ticket, "--dept", dept, "--reason", text),
        "reject-return": argv(ticket, "--reason", text),
        "transfer": argv(ticket, "--hotline", text, "--reference", text, "--reason", text),
        "extend": argv(ticket, "--dept", dept, "--days", number, "--reason", text),
        "approve-extension": argv(ticket, "--note", note),
        "deny-extension": argv(ticket, "--reason", text),
        "resolve": argv(ticket, "--dept", dept, "--reply", text),
        "callback": argv(ticket, "--result", mixed(list(CALLBACK_RESULTS)), "--comment", note),
        "withdraw": argv(ticket, "--reason", text),
        "merge": argv(ticket, "--into", ticket, "--reason", text),
        "plan": argv(ticket, "--dept", dept, "--eta", instant, "--note", text),
        "tick": argv(),
        "show": argv(ticket),
        "history": argv(ticket, "--as-of", instant),
        "verify": argv(ticket),
        "list": argv("--state", mixed(["办理中", "已受理"]), "--dept", dept,
                     "--category", mixed(list(CATEGORIES))),
        "departments": argv(),
        "erase": argv("--citizen", mixed(["13800138000", "13900000000"]), "--reason", text),
    }


def test_every_cli_command_survives_hostile_input(cli_store: tuple[Engine, list[str]],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    engine, tickets = cli_store
    shared = SharedEngine(engine)
    monkeypatch.setattr(tools.cli, "build_engine", lambda *a, **k: shared)
    monkeypatch.setenv("REXIAN_SIMULATION", "1")
    depts = [d.name for d in engine.departments.all()][:4]
    commands = cli_commands(tickets, depts)
    runner = CliRunner()
    role = mixed(["agent", "dispatcher", "department", "supervisor", "auditor", "admin"],
                 HOSTILE_TEXT)
    tally: Counter[int] = Counter()

    @FUZZ
    @given(name=st.sampled_from(sorted(commands)), data=st.data(), who=role,
           as_json=st.booleans())
    def check(name: str, data: st.DataObject, who: str, as_json: bool) -> None:
        args = data.draw(commands[name], label=name)
        json_flag = ["--json"] if as_json and name not in ("tick",) else []
        before = store_state(engine)
        result = runner.invoke(tools.cli.app, ["--db", "unused.db", "--now", NOW,
                                               "--role", who, name, *args, *json_flag])
        error = result.exception
        # tools.cli.main() turns a DomainError escaping a command into exit 2.
        code = 2 if isinstance(error, DomainError) else result.exit_code
        if error is not None and not isinstance(error, SystemExit | DomainError):
            raise AssertionError(f"{name} {args!r}: traceback") from error
        assert code in (0, 2), (name, args, code, result.output)
        tally[code] += 1
        if code == 2:
            message = str(error) if isinstance(error, DomainError) else result.output
            assert store_state(engine) == before, (name, args, message)
            if "Usage:" not in message:  # click's own refusal of an option value is English
                assert " / " in message, (name, args, message)

    check()
    # The mix proves the strategies reach both sides: commands that run, refusals.
    assert tally[0] and tally[2], tally


# ----- gRPC -----------------------------------------------------------------------------
# PERMISSION_DENIED: a request naming an actor other than the token's identity.
ALLOWED_CODES = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                 grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED}
_TICKET_SERVICE = ticket_pb.DESCRIPTOR.services_by_name["TicketService"]


@pytest.fixture(scope="module")
def grpc_store(tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[tuple[Running, list[str]]]:
    path = tmp_path_factory.mktemp("grpc-fuzz") / "rexian.db"
    engine = build_engine(str(path))
    tickets = seed(engine)
    running = start(engine)
    yield running, tickets
    running.close()
    engine.close()


def _field_values(field: FieldDescriptor, tickets: list[str], depts: list[str]
                  ) -> st.SearchStrategy[Any]:
    valid = {"ticket_no": tickets, "into": tickets, "dept": depts, "assist": depts,
             "category": list(CATEGORIES), "channel": list(CHANNELS),
             "urgency": list(URGENCIES), "result": list(CALLBACK_RESULTS),
             "caller_phone": ["13800138000"], "state": ["办理中"],
             "role": ["agent", "dispatcher"]}.get(field.name, ["区", "正常文本"])
    grpc_text = st.one_of(st.sampled_from(valid),
                          HOSTILE_TEXT.filter(_no_surrogates))  # protobuf strings are UTF-8
    if field.type == FieldDescriptor.TYPE_STRING:
        return st.lists(grpc_text, max_size=3) if field.is_repeated else grpc_text
    if field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32):
        return st.integers(-2**31, 2**31 - 1)
    if field.type in (FieldDescriptor.TYPE_UINT32,):
        return st.integers(0, 2**32 - 1)
    if field.type in (FieldDescriptor.TYPE_INT64,):
        return st.integers(-2**63, 2**63 - 1)
    if field.type == FieldDescriptor.TYPE_UINT64:
        return st.integers(0, 2**64 - 1)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    raise AssertionError(f"no strategy for {field.full_name}")


def _fill(message: Any, data: st.DataObject, tickets: list[str], depts: list[str]) -> None:
    for field in message.DESCRIPTOR.fields:
        if not data.draw(st.integers(0, 5), label="set?"):
            continue  # sometimes unset: proto3 defaults
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.full_name == "google.protobuf.Timestamp":
                getattr(message, field.name).seconds = data.draw(st.one_of(
                    st.integers(1_700_000_000, 1_800_000_000),
                    st.integers(-62135596800, 253402300799)), label=field.name)
                getattr(message, field.name).nanos = data.draw(st.integers(0, 999_999_999))
            else:
                _fill(getattr(message, field.name), data, tickets, depts)
            continue
        value = data.draw(_field_values(field, tickets, depts), label=field.name)
        if field.is_repeated:
            getattr(message, field.name).extend(value)
        else:
            setattr(message, field.name, value)


def _with_invalid_utf8(message: Any, data: st.DataObject) -> bytes | None:
    """The serialised request with one string field (the last value wins) not UTF-8; None
    for a request without string fields."""
    strings = [f for f in message.DESCRIPTOR.fields if f.type == FieldDescriptor.TYPE_STRING]
    body = message.SerializeToString()
    if not strings:
        return None
    field = data.draw(st.sampled_from(strings), label="utf8 field")
    raw = data.draw(st.binary(min_size=1, max_size=8).filter(_not_utf8), label="bytes")
    return body + bytes([field.number << 3 | 2, len(raw)]) + raw


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_every_ticket_rpc_survives_hostile_input(grpc_store: tuple[Running, list[str]]
                                                 ) -> None:
    running, tickets = grpc_store
    engine = running.engine
    depts = [d.name for d in engine.departments.all()][:4]
    methods = {m.name: m for m in _TICKET_SERVICE.methods}
    metadata = md(CENTRE_TOKEN)
    tally: Counter[str] = Counter()

    @FUZZ
    @given(name=st.sampled_from(sorted(methods)), data=st.data(), invalid_utf8=st.booleans())
    def check(name: str, data: st.DataObject, invalid_utf8: bool) -> None:
        method = methods[name]
        request_class = getattr(ticket_pb, method.input_type.name)
        request = request_class()
        _fill(request, data, tickets, depts)
        corrupted = _with_invalid_utf8(request, data) if invalid_utf8 else None
        body = corrupted or request.SerializeToString()
        call = running.channel.unary_unary(f"/{_TICKET_SERVICE.full_name}/{name}",
                                           request_serializer=None,
                                           response_deserializer=None)
        before = store_state(engine)
        try:
            call(body, metadata=metadata, timeout=30)
        except grpc.RpcError as error:
            code, details = error.code(), error.details()  # type: ignore[attr-defined]
            assert code in ALLOWED_CODES, (name, request, code, details)
            tally[code.name] += 1
            assert " / " in details, (name, code, details)
            assert store_state(engine) == before, (name, request, details)
            return
        assert corrupted is None, (name, "invalid UTF-8 accepted")
        tally["OK"] += 1

    check()
    assert tally["OK"] and tally["INVALID_ARGUMENT"], tally
