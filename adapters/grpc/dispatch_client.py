"""`rexian --grpc HOST:PORT catalogue|suggest ...`: the dispatch desk's methods performed by a
server's DispatchService, returning what the local desk (adapters/dispatch.py) returns, so
the CLI prints the same either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.grpc.gen.rexian.dispatch.v1 import dispatch_service_pb2 as dispatch_pb
from adapters.grpc.gen.rexian.dispatch.v1 import dispatch_service_pb2_grpc as dispatch_grpc
from domain.errors import InvalidInput, shown
from domain.values import Actor


def _suggestions(messages: Any) -> list[dict[str, Any]]:
    return [{"dept": s.dept, "score": s.score, "reason": s.reason, "assist": list(s.assist),
             "item": s.item if s.HasField("item") else None} for s in messages]


def _summary(message: dispatch_pb.CatalogueSummary) -> dict[str, Any]:
    return {"version": message.version, "items": message.items, "source": message.source,
            "sha256": message.sha256, "imported_at": message.imported_at or None,
            "imported_by": message.imported_by}


class RemoteDispatchDesk:
    """DispatchDesk's front-end methods over gRPC (the server acts as the token's identity:
    the `actor` arguments are not sent)."""

    def __init__(self, engine: Any) -> None:
        self._calls = engine._calls
        self._stub = dispatch_grpc.DispatchServiceStub(engine.channel)

    def import_catalogue(self, file: str | Path, *, actor: Actor) -> dict[str, Any]:
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise InvalidInput("file", f"派单目录文件 {shown(path.name, 80)} 无法读取："
                               f"{shown(error.strerror or str(error), 100)}",
                               f"catalogue file {shown(path.name, 80)}: cannot be read: "
                               f"{shown(error.strerror or str(error), 100)}") from None
        done = self._calls(self._stub.ImportCatalogue, dispatch_pb.ImportCatalogueRequest(
            file_name=path.name, content=data))
        return {"action": done.action, **_summary(done.summary)}

    def list_catalogue(self, version: int | None = None) -> dict[str, Any]:
        request = dispatch_pb.ListCatalogueRequest()
        if version is not None:
            request.version = version
        listed = self._calls(self._stub.ListCatalogue, request)
        return {**_summary(listed.summary), "rows": [
            {"code": i.code, "category": i.category, "item": i.item, "region": i.region,
             "lead": i.lead, "assisting": list(i.assisting), "keywords": list(i.keywords),
             "basis": i.basis} for i in listed.items]}

    def train(self, *, actor: Actor, incremental: bool = False) -> dict[str, Any]:
        done = self._calls(self._stub.Train, dispatch_pb.TrainRequest(incremental=incremental))
        return {"model": done.model, "orders": done.orders, "new_orders": done.new_orders,
                "incremental": done.incremental, "trained_at": done.trained_at,
                "trained_by": done.trained_by, "seconds": done.seconds}

    def suggest(self, *, content: str, category: str, region: str) -> dict[str, Any]:
        found = self._calls(self._stub.Suggest, dispatch_pb.SuggestRequest(
            content=content, category=category, region=region))
        return {"suggestions": _suggestions(found.suggestions)}

    def suggest_order(self, ticket_no: str) -> dict[str, Any]:
        found = self._calls(self._stub.SuggestForOrder,
                            dispatch_pb.SuggestForOrderRequest(ticket_no=ticket_no))
        return {"ticket_no": found.ticket_no, "suggestions": _suggestions(found.suggestions)}
