"""adapters/grpc/client.catalogue_request, which RemoteService (the work-order catalogue)
and RemoteCampaignDesk (the campaign catalogue) share: a catalogue entry's empty RPC request,
an unknown command refused (exit 2 in the CLI) naming it, cut and escaped."""

from __future__ import annotations

import pytest

from adapters.grpc.client import catalogue_request
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2
from domain import commands
from domain.campaign import commands as campaign_commands
from domain.errors import SHOWN_LIMIT, InvalidInput


def test_each_catalogue_entry_gets_its_rpc_request() -> None:
    spec, request = catalogue_request(commands.BY_NAME, ticket_service_pb2, "dispatch")
    assert spec is commands.BY_NAME["dispatch"]
    assert isinstance(request, ticket_service_pb2.DispatchRequest) and request.ticket_no == ""
    spec, request = catalogue_request(campaign_commands.BY_NAME, campaign_pb2,
                                      "create_campaign")
    assert spec is campaign_commands.BY_NAME["create_campaign"]
    assert isinstance(request, campaign_pb2.CreateCampaignRequest)


@pytest.mark.parametrize("catalogue,messages", [(commands.BY_NAME, ticket_service_pb2),
                                                (campaign_commands.BY_NAME, campaign_pb2)])
def test_an_unknown_command_is_refused(catalogue: dict[str, commands.CommandSpec],
                                       messages: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        catalogue_request(catalogue, messages, "launch\x00" + "x" * 1000)
    assert refused.value.field == "command"
    assert refused.value.zh.startswith("未知命令“launch\\x00x") and "…" in refused.value.zh
    assert len(refused.value.zh) < SHOWN_LIMIT + 20
