"""CalendarService: the CLI's `calendar import` / `calendar show` over gRPC (staff token)."""

from __future__ import annotations

from typing import Any

from grpc import ServicerContext as Ctx

from adapters.calendar.operations import import_notice, year_view
from adapters.grpc import convert
from adapters.grpc.auth import Authenticator
from adapters.grpc.errors import unary
from adapters.grpc.gen.rexian.calendar.v1 import calendar_service_pb2 as calendar_pb
from adapters.grpc.gen.rexian.calendar.v1 import calendar_service_pb2_grpc as calendar_grpc


class CalendarService(calendar_grpc.CalendarServiceServicer):
    def __init__(self, engine: Any, auth: Authenticator) -> None:
        self.engine = engine
        self.auth = auth

    @unary()
    def ImportNotice(self, request: calendar_pb.ImportNoticeRequest, context: Ctx) -> Any:
        who = self.auth.centre(context, "calendar_import")
        actor = self.auth.actor(who, "calendar_import", context,
                                request.actor if request.HasField("actor") else None)
        result = import_notice(self.engine, request.text, request.replace, actor)
        return calendar_pb.ImportNoticeResponse(
            year=result["year"], action=result["action"], version=result["version"],
            title=result["title"], source_sha256=result["source_sha256"],
            festivals=[convert.struct_of(f) for f in result["festivals"]])

    @unary()
    def GetYear(self, request: calendar_pb.GetYearRequest, context: Ctx) -> Any:
        self.auth.centre(context, "calendar_show")
        view = year_view(self.engine, request.year)
        return calendar_pb.GetYearResponse(
            year=view["year"], basis=view["basis"], source=view["source"],
            version=view["version"],
            weekday_days_off=[convert.struct_of(d) for d in view["weekday_days_off"]],
            working_weekends=view["working_weekends"], working_days=view["working_days"],
            sources=[convert.struct_of(s) for s in view["sources"]])
