"""The gRPC CampaignService, generated from the campaign catalogue
(domain/campaign/commands.py): one method per entry, reading the request's fields by their
kind, running the entry through the campaign desk, answering with its result.

Authentication and the recorded actor come from an `Act` callback given by the server
wiring (adapters/grpc/server.py): the servicer itself knows no token, and the wiring can
check each entry by its command name (the permission matrix's operations). A request
with `reveal` is also checked and logged by the wiring's `Reveal` callback before anything
unmasked is built (without one, reveals are refused).
Files travel as bytes: `<field>_name` (+ `<field>_content` for files the engine reads);
an export is written to a temporary file and answered as `content`.

WatchCampaign (not a catalogue entry: a stream of GetCampaignStatus) is authorised as
campaign_status and sends the progress now, then each change, until the campaign is
closed or the client goes away.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grpc import ServicerContext as Ctx

from adapters.grpc import convert
from adapters.grpc.errors import streaming, unary
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2 as pb
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2_grpc as pb_grpc
from domain.campaign.commands import BY_NAME, CATALOGUE
from domain.commands import CommandSpec, Field
from domain.errors import InvalidInput, PermissionDenied, shown
from domain.values import Actor

# (context, entry, the request's actor or None) -> who acts; raises to refuse.
Act = Callable[[Ctx, CommandSpec, Any], Actor]
# (context, reason, campaign id) -> None: the caller may reveal (checked, logged); raises.
Reveal = Callable[[Ctx, str, str], None]
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
    response = response_class()
    if "numbers" in result:  # campaign_flags
        response.numbers.extend(pb.FlaggedNumber(**n) for n in result.pop("numbers"))
    if "file" in result and "content" in response_class.DESCRIPTOR.fields_by_name:
        response.content = Path(result.pop("file")).read_bytes()
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
            if values.get("reveal"):  # checked and logged before anything is unmasked
                if self.reveal is None:
                    raise PermissionDenied("本服务不提供未脱敏的个人信息",
                                           "this server does not reveal personal data")
                self.reveal(context, values.get("reason") or "", ref or "")
            result = desk(self.engine).execute(spec.name, ref, actor=actor, **values)
            return _response(spec, result, folder)

    method.__name__ = method.__qualname__ = spec.rpc
    return unary()(method)


class CampaignService(pb_grpc.CampaignServiceServicer):
    """The campaign commands and queries (centre token)."""

    def __init__(self, engine: Any, act: Act, reveal: Reveal | None = None,
                 interval: float | None = None) -> None:
        self.engine = engine
        self.act = act
        self.reveal = reveal
        self.interval = interval  # WatchCampaign's look at the read model (None: default)

    @streaming()
    def WatchCampaign(self, request: pb.WatchCampaignRequest, context: Ctx
                      ) -> Iterator[pb.WatchCampaignResponse]:
        from adapters.campaigns import WATCH_INTERVAL_S, desk

        actor = self.act(context, BY_NAME["campaign_status"], None)
        ref = str(request.campaign_id).strip()
        if not ref:
            raise InvalidInput("campaign_id", "外呼任务编号不能为空", "campaign_id must not be empty")
        gone = threading.Event()
        context.add_callback(gone.set)  # a cancelled client frees its thread at once

        def stop(seconds: float) -> bool:
            return gone.wait(seconds) or not context.is_active()

        for status in desk(self.engine).watch(ref, actor=actor, stop=stop,
                                              interval=self.interval or WATCH_INTERVAL_S):
            yield pb.WatchCampaignResponse(progress=_progress(status))


for _spec in CATALOGUE:
    setattr(CampaignService, _spec.rpc, _method(_spec))
