"""DispatchService: `rexian suggest` and `rexian catalogue` over gRPC (adapters/dispatch.py's
desk), for a staff token allowed the operation (suggest, suggest_train, catalogue_import,
catalogue_list); a unit's token is refused (units use the department API)."""

from __future__ import annotations

from typing import Any

from grpc import ServicerContext as Ctx

from adapters.dispatch import desk
from adapters.grpc.auth import Authenticator
from adapters.grpc.errors import unary
from adapters.grpc.gen.rexian.dispatch.v1 import dispatch_service_pb2 as dispatch_pb
from adapters.grpc.gen.rexian.dispatch.v1 import dispatch_service_pb2_grpc as dispatch_grpc


def suggestion_messages(suggestions: list[dict[str, Any]]) -> list[dispatch_pb.Suggestion]:
    made = []
    for s in suggestions:
        message = dispatch_pb.Suggestion(dept=s["dept"], score=s["score"], reason=s["reason"],
                                         assist=s["assist"])
        if s["item"] is not None:
            message.item = s["item"]
        made.append(message)
    return made


def summary_message(summary: dict[str, Any]) -> dispatch_pb.CatalogueSummary:
    return dispatch_pb.CatalogueSummary(
        version=summary["version"], items=summary["items"], source=summary["source"],
        sha256=summary["sha256"], imported_at=summary["imported_at"] or "",
        imported_by=summary["imported_by"])


class DispatchService(dispatch_grpc.DispatchServiceServicer):
    def __init__(self, engine: Any, auth: Authenticator) -> None:
        self.engine = engine
        self.auth = auth

    @unary()
    def Suggest(self, request: dispatch_pb.SuggestRequest, context: Ctx) -> Any:
        self.auth.centre(context, "suggest")
        found = desk(self.engine).suggest(content=request.content, category=request.category,
                                          region=request.region)
        return dispatch_pb.SuggestResponse(
            suggestions=suggestion_messages(found["suggestions"]))

    @unary()
    def SuggestForOrder(self, request: dispatch_pb.SuggestForOrderRequest, context: Ctx) -> Any:
        self.auth.centre(context, "suggest")
        found = desk(self.engine).suggest_order(request.ticket_no)
        return dispatch_pb.SuggestForOrderResponse(
            ticket_no=found["ticket_no"], suggestions=suggestion_messages(found["suggestions"]))

    @unary()
    def Train(self, request: dispatch_pb.TrainRequest, context: Ctx) -> Any:
        who = self.auth.centre(context, "suggest_train")
        done = desk(self.engine).train(actor=who.actor(), incremental=request.incremental)
        return dispatch_pb.TrainResponse(**done)

    @unary()
    def ImportCatalogue(self, request: dispatch_pb.ImportCatalogueRequest, context: Ctx) -> Any:
        who = self.auth.centre(context, "catalogue_import")
        done = desk(self.engine).import_catalogue_bytes(request.file_name, request.content,
                                                        actor=who.actor())
        return dispatch_pb.ImportCatalogueResponse(action=done["action"],
                                                   summary=summary_message(done))

    @unary()
    def ListCatalogue(self, request: dispatch_pb.ListCatalogueRequest, context: Ctx) -> Any:
        self.auth.centre(context, "catalogue_list")
        listed = desk(self.engine).list_catalogue(
            request.version if request.HasField("version") else None)
        return dispatch_pb.ListCatalogueResponse(
            summary=summary_message(listed),
            items=[dispatch_pb.CatalogueItem(**row) for row in listed["rows"]])
