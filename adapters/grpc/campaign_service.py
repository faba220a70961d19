"""The gRPC CampaignService, generated from the campaign catalogue
(domain/campaign/commands.py): one method per entry, reading the request's fields by their
kind, running the entry through the campaign desk, answering with its result.

Authentication and the recorded actor come from an `Act` callback given by the server
wiring (adapters/grpc/server.py): the servicer itself knows no token, and the wiring can
check each entry by its command name (the permission matrix's operations).
Files travel as bytes: `<field>_name` (+ `<field>_content` for files the engine reads);
an export is written to a temporary file and answered as `content`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grpc import ServicerContext as Ctx

from adapters.grpc import convert
from adapters.grpc.errors import unary
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2 as pb
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2_grpc as pb_grpc
from domain.campaign.commands import CATALOGUE
from domain.commands import CommandSpec, Field
from domain.errors import InvalidInput, shown
from domain.values import Actor

# (context, entry, the request's actor or None) -> who acts; raises to refuse.
Act = Callable[[Ctx, CommandSpec, Any], Actor]
MAX_FILE = 64 * 1024 * 1024  # bytes of one uploaded contact file


def _file_name(request: Any, field: Field) -> str:
    name = Path(getattr(request, f"{field.name}_name") or "").name
    if Path(name).suffix.lower() not in (".csv", ".xlsx", ".toml"):
        raise InvalidInput(field.name, f"{field.label}的文件名应以 .csv、.xlsx 或 .toml 结尾："
                           f"{shown(name, 80)}", f"{field.name}_name must end in .csv, .xlsx or "
                           f".toml: {shown(name, 80)}")
    return name


def _value(request: Any, field: Field, folder: Path) -> Any:
    """A catalogue field from the request (proto3 presence: unset = not given)."""
    if field.kind == "file":
        if not getattr(request, f"{field.name}_name") and not field.required:
            return None
        path = folder / _file_name(request, field)
        if f"{field.name}_content" in request.DESCRIPTOR.fields_by_name:
            content = getattr(request, f"{field.name}_content")
            if len(content) > MAX_FILE:
                raise InvalidInput(field.name, f"{field.label}过大（最多 {MAX_FILE} 字节）",
                                   f"{field.name} is too large (max {MAX_FILE} bytes)")
            path.write_bytes(content)
        return path
    if field.kind == "texts":
        return list(getattr(request, field.name))
    if field.kind == "instant":
        if not request.HasField(field.name):
            return None
        return convert.from_timestamp(getattr(request, field.name))
    if field.kind == "int":
        if request.HasField(field.name):
            return int(getattr(request, field.name))
        return int(field.default) if field.default is not None else None
    return getattr(request, field.name)


def _progress(result: dict[str, Any]) -> pb.CampaignProgress:
    message = pb.CampaignProgress()
    convert.fill(message, result)
    return message


def _response(spec: CommandSpec, result: dict[str, Any], folder: Path) -> Any:
    response_class = getattr(pb, f"{spec.rpc}Response")
    if "progress" in response_class.DESCRIPTOR.fields_by_name:
        return response_class(progress=_progress(result))
    if spec.name == "import_contacts":
        return response_class(campaign_id=result["campaign_id"], imported=result["imported"],
                              rejected=[pb.RejectedRow(**r) for r in result["rejected"]])
    if "content" in response_class.DESCRIPTOR.fields_by_name:
        content = Path(result.pop("file")).read_bytes()
        response = response_class(content=content)
        convert.fill(response, result)
        return response
    response = response_class()
    convert.fill(response, result)
    return response


def _method(spec: CommandSpec) -> Any:
    def method(self: CampaignService, request: Any, context: Ctx) -> Any:
        actor = self.act(context, spec, request.actor if request.HasField("actor") else None)
        from adapters.campaigns import desk

        with tempfile.TemporaryDirectory(prefix="rexian-campaign-") as tmp:
            folder = Path(tmp)
            values = {f.name: _value(request, f, folder) for f in spec.fields}
            ref: str | None = None
            if spec.ticket:
                ref = str(request.campaign_id).strip()
                if not ref:
                    raise InvalidInput("campaign_id", "外呼任务编号不能为空",
                                       "campaign_id must not be empty")
            result = desk(self.engine).execute(spec.name, ref, actor=actor, **values)
            return _response(spec, result, folder)

    method.__name__ = method.__qualname__ = spec.rpc
    return unary()(method)


class CampaignService(pb_grpc.CampaignServiceServicer):
    """The campaign commands and queries (centre token)."""

    def __init__(self, engine: Any, act: Act) -> None:
        self.engine = engine
        self.act = act


for _spec in CATALOGUE:
    setattr(CampaignService, _spec.rpc, _method(_spec))
