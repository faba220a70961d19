"""The department API: a unit's feed, its reads and its commands, without an existence oracle.

A unit must not learn which work orders exist beyond its own. Answering NOT_FOUND for an
unknown number but PERMISSION_DENIED for another unit's order would let it probe the
centre's ticket numbers, and so would answering the second more slowly (loading the other
unit's order before refusing). So whether an order concerns the unit is read from the
unit's own feed rows first, one indexed query whatever the number: an unknown order and an
order that never concerned the unit cost the same and get the same status, message and (no)
trailers. Only an order that has concerned the unit (it saw it in its feed) is loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
from grpc import ServicerContext as Ctx

from adapters.grpc import convert
from adapters.grpc.auth import Authenticator
from adapters.grpc.errors import Abort, streaming, unary
from adapters.grpc.feed import FeedHub, FeedRow
from adapters.grpc.gen.rexian.common.v1 import common_pb2 as common_pb
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as dept_pb
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2_grpc as dept_grpc
from adapters.grpc.services import request_value, summary_message, ticket_message
from domain.access.roles import Identity
from domain.commands import CATALOGUE, CommandSpec
from domain.errors import UnknownTicket, shown
from domain.values import Actor, require_ticket_no
from domain.workorder import WorkOrder


def not_yours(ticket_no: str, dept: str) -> Abort:
    """The one answer for "no such order" and "not one of your orders"."""
    return Abort(grpc.StatusCode.PERMISSION_DENIED,
                 f"工单 {shown(ticket_no)} 不是本单位（{dept}）的工单 / "
                 f"work order {shown(ticket_no)} is not one of {dept}'s orders")


def feed_event(row: FeedRow) -> dept_pb.FeedEvent:
    return dept_pb.FeedEvent(
        position=row.position, ticket_no=row.ticket_no, type=row.type,
        occurred_at=convert.to_timestamp(row.occurred_at), version=row.version,
        actor=common_pb.Actor(role=row.actor_role, id=row.actor_id), relation=row.relation,
        payload_json=row.payload)


class DepartmentFeedService(dept_grpc.DepartmentFeedServiceServicer):
    """A department's feed and commands (department token; only its own orders)."""

    def __init__(self, engine: Any, auth: Authenticator, hub: FeedHub,
                 wait_timeout: float = 0.5, service: Any = None) -> None:
        self.engine = engine
        self.service = service or engine.service
        self.auth = auth
        self.hub = hub
        self.wait_timeout = wait_timeout

    def _visible_order(self, ticket_no: str, dept: str) -> WorkOrder:
        """The order if `dept` leads or assists it; otherwise `not_yours`, existing or not."""
        number = require_ticket_no(ticket_no)
        if not self.hub.concerns(dept, number):
            raise not_yours(number, dept)
        try:
            order = self.service.load(number)
        except UnknownTicket:  # feed rows without an order: cannot happen, same answer
            raise not_yours(number, dept) from None
        if dept != order.department and dept not in order.assist_departments:
            raise not_yours(number, dept)  # it once concerned the unit (moved, supervised)
        return order

    def _unit(self, context: Ctx, operation: str, named: str | None = None) -> str:
        return str(self.auth.department(context, operation, named).dept)

    def _lead_order(self, ticket_no: str, dept: str) -> None:
        order = self._visible_order(ticket_no, dept)
        if order.department != dept:  # an assisting unit: it already sees the order
            raise Abort(grpc.StatusCode.PERMISSION_DENIED,
                        f"单位 {dept} 不是工单 {shown(ticket_no)} 的主办单位 / department "
                        f"{dept} is not the lead unit of work order {shown(ticket_no)}")

    def _actor(self, who: Identity, operation: str, operator: str) -> Actor:
        """The token's identity; an `operator` field naming someone else is refused (a unit's
        integration acting for several clerks gets a token per clerk)."""
        if operator.strip() and operator.strip() != who.id:
            raise self.auth.access.deny(who, operation, (
                f"操作人由令牌确定（{who.id}），不能填写“{operator.strip()}”",
                f"the operator is the token's holder ({who.id}), not {operator.strip()!r}"))
        return self.auth.access.matrix.check(who, operation).actor()

    @streaming(department_api=True)
    def Subscribe(self, request: dept_pb.SubscribeRequest, context: Ctx
                  ) -> Iterator[dept_pb.SubscribeResponse]:
        dept = self._unit(context, "feed", request.department or None)
        position = (request.after_position if request.HasField("after_position")
                    else self.hub.acked(dept))
        context.add_callback(self.hub.poke)  # a cancelled client frees its thread at once
        gone = lambda: not context.is_active()  # noqa: E731
        while not self.hub.closing and not gone():
            seen = self.hub.generation
            rows = self.hub.read(dept, position)
            for row in rows:
                yield dept_pb.SubscribeResponse(event=feed_event(row))
                position = row.position
            if not rows:
                self.hub.wait(seen, self.wait_timeout, gone)

    @unary(department_api=True)
    def Ack(self, request: dept_pb.AckRequest, context: Ctx) -> Any:
        dept = self._unit(context, "feed", request.department or None)
        return dept_pb.AckResponse(acked_position=self.hub.ack(dept, request.position))

    @unary(department_api=True)
    def GetTicket(self, request: dept_pb.GetTicketRequest, context: Ctx) -> Any:
        dept = self._unit(context, "show")
        order = self._visible_order(request.ticket_no, dept)
        return dept_pb.GetTicketResponse(ticket=ticket_message(self.service.view(order)))

    @unary(department_api=True)
    def ListTickets(self, request: dept_pb.ListTicketsRequest, context: Ctx) -> Any:
        dept = self._unit(context, "list")
        rows = self.engine.list(state=request.state or None, dept=dept)
        return dept_pb.ListTicketsResponse(tickets=[summary_message(r) for r in rows])


def _department_rpc(spec: CommandSpec) -> Any:
    """The department API's method of a unit's catalogue command: the unit comes from the
    token (never from the request), the order must be its own, an operator may be named."""
    response_class = getattr(dept_pb, f"{spec.rpc}Response")

    def method(self: DepartmentFeedService, request: Any, context: Ctx) -> Any:
        who = self.auth.department(context, spec.name)
        dept = str(who.dept)
        self._lead_order(request.ticket_no, dept)
        values = {f.name: request_value(request, f) for f in spec.fields if f.name != "dept"}
        _, view = self.service.execute_and_show(
            spec.name, request.ticket_no, dept=dept,
            actor=self._actor(who, spec.name, request.operator), **values)
        return response_class(ticket=ticket_message(view))

    method.__name__ = method.__qualname__ = spec.rpc
    return unary(department_api=True)(method)


# The unit's own commands: those whose actor is the acting unit.
UNIT_COMMANDS = tuple(spec for spec in CATALOGUE if spec.actor_id == "{dept}")
for _spec in UNIT_COMMANDS:
    setattr(DepartmentFeedService, _spec.rpc, _department_rpc(_spec))
