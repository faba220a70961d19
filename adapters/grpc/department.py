"""The department API as served: DepartmentFeedService without an existence oracle.

A unit must not learn which work orders exist beyond its own: answering NOT_FOUND for an
unknown number but PERMISSION_DENIED for another unit's order would let it probe the
centre's ticket numbers. Here both get the same status, message and (no) trailers.
"""

from __future__ import annotations

from typing import Any

import grpc
from grpc import ServicerContext as Ctx

from adapters.grpc.errors import Abort, unary
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as dept_pb
from adapters.grpc.services import DepartmentFeedService, ticket_message
from domain.errors import UnknownTicket, shown
from domain.values import require_ticket_no


def not_yours(ticket_no: str, dept: str) -> Abort:
    """The one answer for "no such order" and "not one of your orders"."""
    return Abort(grpc.StatusCode.PERMISSION_DENIED,
                 f"工单 {shown(ticket_no)} 不是本单位（{dept}）的工单 / "
                 f"work order {shown(ticket_no)} is not one of {dept}'s orders")


class DepartmentApi(DepartmentFeedService):
    def _visible_order(self, ticket_no: str, dept: str) -> Any:
        """The order if `dept` leads or assists it; otherwise `not_yours`, existing or not."""
        number = require_ticket_no(ticket_no)
        try:
            order = self.service.load(number)
        except UnknownTicket:
            raise not_yours(number, dept) from None
        if dept != order.department and dept not in order.assist_departments:
            raise not_yours(number, dept)
        return order

    def _lead_order(self, ticket_no: str, dept: str) -> None:
        order = self._visible_order(ticket_no, dept)
        if order.department != dept:  # an assisting unit: it already sees the order
            raise Abort(grpc.StatusCode.PERMISSION_DENIED,
                        f"单位 {dept} 不是工单 {shown(ticket_no)} 的主办单位 / department "
                        f"{dept} is not the lead unit of work order {shown(ticket_no)}")

    @unary(department_api=True)
    def GetTicket(self, request: dept_pb.GetTicketRequest, context: Ctx) -> Any:
        dept = self.auth.department(context)
        order = self._visible_order(request.ticket_no, dept)
        return dept_pb.GetTicketResponse(ticket=ticket_message(self.service.view(order)))
