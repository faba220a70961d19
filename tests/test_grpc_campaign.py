"""The CampaignService over a real gRPC channel: every catalogue entry as an RPC, files as
bytes, refusals as statuses (INVALID_ARGUMENT naming the rejected rows, NOT_FOUND,
FAILED_PRECONDITION, UNAUTHENTICATED from the wiring's check)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from adapters.bootstrap import Engine
from adapters.grpc.campaign_service import CampaignService
from adapters.grpc.errors import Abort
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2 as pb
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2_grpc as pb_grpc
from domain.commands import CommandSpec
from domain.values import Actor

TOKEN = "campaign-test-token"


def act(context: grpc.ServicerContext, spec: CommandSpec, request_actor: Any) -> Actor:
    """The wiring's part in this test: a bearer token, and the entry's default actor."""
    if dict(context.invocation_metadata()).get("authorization") != f"Bearer {TOKEN}":
        raise Abort(grpc.StatusCode.UNAUTHENTICATED, "bad token")
    return Actor(spec.role, spec.actor_id)


@pytest.fixture
def stub(sqlite_engine: Engine) -> Iterator[pb_grpc.CampaignServiceStub]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_CampaignServiceServicer_to_server(CampaignService(sqlite_engine, act), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield pb_grpc.CampaignServiceStub(channel)
    channel.close()
    server.stop(None)


AUTH = (("authorization", f"Bearer {TOKEN}"),)
CSV = "姓名,电话\n张三,13800138000\n李四,12\n王五,0574-88888888\n".encode()


def test_a_campaign_over_grpc(stub: pb_grpc.CampaignServiceStub) -> None:
    created = stub.CreateCampaign(pb.CreateCampaignRequest(
        kind="notification", name="换证提醒", message="驾驶证即将期满", lines=3,
        window=["09:00-12:00"]), metadata=AUTH)
    ref = created.campaign_id
    with pytest.raises(grpc.RpcError) as refused:
        stub.ImportContacts(pb.ImportContactsRequest(campaign_id=ref, file_name="c.csv",
                                                     file_content=CSV), metadata=AUTH)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "第 3 行" in refused.value.details()
    imported = stub.ImportContacts(pb.ImportContactsRequest(
        campaign_id=ref, file_name="c.csv", file_content=CSV, skip_invalid=True), metadata=AUTH)
    assert imported.imported == 2 and [r.row for r in imported.rejected] == [3]
    started = stub.StartCampaign(pb.StartCampaignRequest(campaign_id=ref), metadata=AUTH)
    assert started.progress.state == "进行中" and started.progress.contacts == 2
    assert stub.PauseCampaign(pb.PauseCampaignRequest(campaign_id=ref, reason="核对名单"),
                              metadata=AUTH).progress.state == "已暂停"
    assert stub.ResumeCampaign(pb.ResumeCampaignRequest(campaign_id=ref),
                               metadata=AUTH).progress.state == "进行中"
    status = stub.GetCampaignStatus(pb.GetCampaignStatusRequest(campaign_id=ref),
                                    metadata=AUTH).progress
    assert (status.waiting, status.dialled, status.HasField("connect_rate")) == (2, 0, False)
    exported = stub.ExportCampaign(pb.ExportCampaignRequest(campaign_id=ref, file_name="o.csv"),
                                   metadata=AUTH)
    text = exported.content.decode("utf-8-sig")
    assert exported.exported == 2 and "138****8000" in text and "13800138000" not in text
    blocked = stub.BlockNumber(pb.BlockNumberRequest(phone="13900139000", reason="本人要求"),
                               metadata=AUTH)
    assert (blocked.phone, blocked.added) == ("139****9000", True)
    assert stub.CancelCampaign(pb.CancelCampaignRequest(campaign_id=ref, reason="结束"),
                               metadata=AUTH).progress.state == "已取消"
    with pytest.raises(grpc.RpcError) as closed:
        stub.ResumeCampaign(pb.ResumeCampaignRequest(campaign_id=ref), metadata=AUTH)
    assert closed.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_refusals_over_grpc(stub: pb_grpc.CampaignServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as unknown:
        stub.GetCampaignStatus(pb.GetCampaignStatusRequest(campaign_id="CP20250930ABCDEF"),
                               metadata=AUTH)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as anonymous:
        stub.CreateCampaign(pb.CreateCampaignRequest(kind="survey", name="x"))
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as bad:
        stub.CreateCampaign(pb.CreateCampaignRequest(kind="survey", name="调研",
                                                     script_name="s.toml",
                                                     script_content=b"[q\n"), metadata=AUTH)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "line 1" in bad.value.details()
    ref = stub.CreateCampaign(pb.CreateCampaignRequest(kind="broadcast", name="补贴",
                                                       message="m"), metadata=AUTH).campaign_id
    with pytest.raises(grpc.RpcError) as not_zip:
        stub.ImportContacts(pb.ImportContactsRequest(campaign_id=ref, file_name="c.xlsx",
                                                     file_content=b"\x00" * 10), metadata=AUTH)
    assert not_zip.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as no_name:
        stub.ImportContacts(pb.ImportContactsRequest(campaign_id=ref, file_content=CSV),
                            metadata=AUTH)
    assert no_name.value.code() == grpc.StatusCode.INVALID_ARGUMENT
