"""Shared helpers for the gRPC tests (a real server on a loopback ephemeral port).

No tests here: the test_grpc_*.py files import these helpers.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from eventsourcing.application import AggregateNotFoundError

from adapters.bootstrap import Engine
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as dept_pb
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2_grpc as dept_grpc
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2_grpc as ticket_grpc
from adapters.grpc.server import GrpcServer, serve_grpc
from domain.access.credentials import Credential, credential_id, token_hash
from domain.values import Actor

WATER = "区水务局"
CITY = "区城管局"
MARKET = "区市场监管局"
# The centre's staff in the tests: one token holding every role but a unit's (a fixed
# value, so subprocesses and helpers can use it; granted into each store by `grant`).
CENTRE_ROLES = ("agent", "dispatcher", "supervisor", "auditor", "robot", "admin")
CENTRE_TOKEN = "rx1_" + "c" * 43


def md(token: str | None) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),) if token else ()


def grant(engine: Engine, token: str, roles: tuple[str, ...], staff_id: str,
          dept: str | None = None) -> str:
    """Store a credential for a known token (what `rexian token issue` does with a random
    one), once per store."""
    digest = token_hash(token)
    try:
        engine.service.repository.get(credential_id(digest))
    except AggregateNotFoundError:
        credential = Credential.issue(digest=digest, roles=list(roles), staff_id=staff_id,
                                      dept=dept, expires_at=None,
                                      actor=Actor("admin", "test-setup"),
                                      at=engine.service.now())
        engine.service._commit(credential)
    return token


def centre_token(engine: Engine) -> str:
    return grant(engine, CENTRE_TOKEN, CENTRE_ROLES, "centre")


def dept_token(engine: Engine, name: str) -> str:
    """The unit's token (a department identity bound to it, id = the unit's name)."""
    engine.departments.get(name)
    token = "rx1_" + base64.urlsafe_b64encode(hashlib.sha256(name.encode()).digest()
                                               ).decode().rstrip("=")
    return grant(engine, token, ("department",), name, dept=name)


@dataclass
class Running:
    engine: Engine
    server: GrpcServer
    port: int
    channel: grpc.Channel
    tickets: ticket_grpc.TicketServiceStub
    feed: dept_grpc.DepartmentFeedServiceStub
    centre: tuple[tuple[str, str], ...] = field(default_factory=lambda: md(CENTRE_TOKEN))

    def dept(self, name: str) -> tuple[tuple[str, str], ...]:
        return md(dept_token(self.engine, name))

    def intake(self, category: str = "投诉", content: str = "小区门口污水外溢") -> str:
        response = self.tickets.Intake(ticket_pb.IntakeRequest(
            channel="电话", category=category, urgency="一般", region="甬江区东湖街道",
            content=content, caller_name="张三", caller_phone="13800138000"),
            metadata=self.centre)
        return str(response.ticket.ticket_no)

    def dispatched(self, dept: str = WATER, assist: tuple[str, ...] = ()) -> str:
        no = self.intake()
        self.tickets.Dispatch(ticket_pb.DispatchRequest(ticket_no=no, dept=dept,
                                                        assist=list(assist)),
                              metadata=self.centre)
        return no

    def close(self) -> None:
        self.channel.close()
        self.server.stop(grace=1.0)


def start(engine: Engine, **kwargs: Any) -> Running:
    centre_token(engine)
    server, port = serve_grpc(engine, "127.0.0.1:0", **kwargs)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=10)
    return Running(engine, server, port, channel, ticket_grpc.TicketServiceStub(channel),
                   dept_grpc.DepartmentFeedServiceStub(channel))


class FeedReader:
    """Reads a department's Subscribe stream in a thread, collecting FeedEvents."""

    def __init__(self, channel: grpc.Channel, token: str, dept: str,
                 after: int | None = None) -> None:
        stub = dept_grpc.DepartmentFeedServiceStub(channel)
        request = dept_pb.SubscribeRequest(department=dept)
        if after is not None:
            request.after_position = after
        self.call: Any = stub.Subscribe(request, metadata=md(token))
        self.events: list[dept_pb.FeedEvent] = []
        self.error: grpc.RpcError | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for response in self.call:
                with self._cond:
                    self.events.append(response.event)
                    self._cond.notify_all()
        except grpc.RpcError as error:
            self.error = error
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dept_pb.FeedEvent]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.events) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self.events)} of {count} feed events arrived")
                self._cond.wait(remaining)
            return list(self.events)

    def cancel(self) -> list[dept_pb.FeedEvent]:
        self.call.cancel()
        self._thread.join(timeout=5)
        with self._cond:
            return list(self.events)

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)


def positions(events: Iterator[dept_pb.FeedEvent] | list[dept_pb.FeedEvent]) -> list[int]:
    return [int(e.position) for e in events]


def running_fixture(engine: Engine, **kwargs: Any) -> Iterator[Running]:
    """Body of the per-file `running` fixtures: a server on the engine, stopped after."""
    run = start(engine, **kwargs)
    try:
        yield run
    finally:
        run.close()
