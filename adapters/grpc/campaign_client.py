"""The campaign desk of a remote engine: `rexian --grpc HOST:PORT campaign ...` runs each
entry of the campaign catalogue (domain/campaign/commands.py) as its CampaignService RPC,
the reverse of adapters/grpc/campaign_service.py: files the engine reads travel as bytes,
files it writes (exports, the flag list) come back as `content` and are written here.
`watch` follows the WatchCampaign stream (what `campaign status` shows live).

The answers have the local desk's shape (adapters/campaigns.py), so the CLI prints the
same JSON either way; the server acts as the token's identity (no actor is sent).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc

from adapters.grpc import convert
from adapters.grpc.client import Calls, catalogue_request
from adapters.grpc.errors import domain_error
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2 as pb
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2_grpc as pb_grpc
from domain.campaign.commands import BY_NAME
from domain.commands import CommandSpec
from domain.errors import InvalidInput, shown
from domain.values import Actor


class RemoteCampaignDesk:
    def __init__(self, channel: grpc.Channel, calls: Calls) -> None:
        self.stub = pb_grpc.CampaignServiceStub(channel)
        self._call = calls

    def execute(self, command: str, ref: str | None = None, *, actor: Actor | None = None,
                on_progress: Callable[[int, int], None] | None = None,
                **fields: Any) -> dict[str, Any]:
        spec, request = catalogue_request(BY_NAME, pb, command)
        if spec.ticket:
            request.campaign_id = ref or ""
        written = _fill(spec, request, fields)
        return _result(self._call(getattr(self.stub, spec.rpc), request), written)

    def watch(self, ref: str, *, actor: Actor | None = None, interval: float = 1.0,
              stop: Callable[[float], bool] | None = None) -> Iterator[dict[str, Any]]:
        """The server's WatchCampaign stream: progress now, then each change, until the
        campaign is closed (the server ends the stream) or `stop(seconds)` says the watcher
        has gone (asked every 0.2 s beside the stream, which it then cancels)."""
        stream = self.stub.WatchCampaign(pb.WatchCampaignRequest(campaign_id=ref),
                                         metadata=self._call.metadata)
        stopped, over = threading.Event(), threading.Event()

        def look_out(asks: Callable[[float], bool]) -> None:
            while not over.is_set():
                if asks(0.2):
                    stopped.set()
                    stream.cancel()
                    return

        if stop is not None:
            threading.Thread(target=look_out, args=(stop,), daemon=True).start()
        try:
            for message in stream:
                yield convert.read(message.progress)
        except grpc.RpcError as error:
            if not stopped.is_set():
                raise domain_error(error) from None
        finally:
            over.set()
            stream.cancel()


def _fill(spec: CommandSpec, request: Any, fields: dict[str, Any]) -> Path | None:
    """Set the request's fields; returns the local file the answer's content goes to."""
    written: Path | None = None
    names = request.DESCRIPTOR.fields_by_name
    for field in spec.fields:
        value = fields.get(field.name)
        if value is None:
            continue
        if field.kind == "file":
            path = Path(value)
            setattr(request, f"{field.name}_name", path.name)
            if f"{field.name}_content" in names:  # a file the engine reads
                try:
                    setattr(request, f"{field.name}_content", path.read_bytes())
                except OSError as error:
                    raise InvalidInput(field.name, f"无法读取文件 {shown(path.name, 80)}："
                                       f"{shown(error, 200)}", f"cannot read "
                                       f"{shown(path.name, 80)}: {shown(error, 200)}") from None
            else:  # a file the engine writes: its bytes come back
                written = path
        elif field.kind == "texts":
            getattr(request, field.name).extend(value)
        elif field.kind == "instant":
            getattr(request, field.name).CopyFrom(convert.to_timestamp(value))
        else:
            setattr(request, field.name, value)
    return written


def _result(response: Any, written: Path | None) -> dict[str, Any]:
    names = response.DESCRIPTOR.fields_by_name
    if "progress" in names:
        return convert.read(response.progress)
    if "rejected" in names:  # import_contacts
        return {"campaign_id": response.campaign_id, "imported": response.imported,
                "rejected": [{"row": r.row, "reason": r.reason} for r in response.rejected]}
    result = convert.read(response)
    content = result.pop("content", None)
    if "numbers" in names:
        result["numbers"] = [convert.read(n) for n in response.numbers]
        if written is None:
            result.pop("exported", None)
    if written is not None:
        try:
            written.write_bytes(content or b"")
        except OSError as error:
            raise InvalidInput("file", f"无法写入导出文件：{shown(error, 200)}",
                               f"cannot write the export file: {shown(error, 200)}") from None
        result["file"] = str(written)
    return result
