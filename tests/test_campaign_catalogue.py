"""One campaign catalogue behind every front end: each entry has its `rexian campaign`
command, its CampaignService RPC reading its fields, a desk handler taking them, and its
line in docs/campaign-commands.md (generated). The command names are what the permission
matrix refers to: renaming one is a deliberate change of this list."""

from __future__ import annotations

import inspect

import pytest
import typer.main

from adapters.campaigns import CampaignDesk
from adapters.grpc.campaign_service import CampaignService
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2 as pb
from domain.campaign.commands import CATALOGUE
from domain.commands import CommandSpec
from tools.campaign_commands_doc import COMMAND, DOC_PATH, render
from tools.cli import app

IDS = [spec.name for spec in CATALOGUE]
STABLE_NAMES = ("create_campaign", "import_contacts", "start_campaign", "pause_campaign",
                "resume_campaign", "cancel_campaign", "campaign_status", "export_campaign",
                "block_number", "campaign_flags")


def test_command_names_are_stable() -> None:
    assert tuple(spec.name for spec in CATALOGUE) == STABLE_NAMES


@pytest.mark.parametrize("spec", CATALOGUE, ids=IDS)
def test_every_entry_has_a_cli_command(spec: CommandSpec) -> None:
    group = typer.main.get_group(app).commands["campaign"]
    command = group.commands.get(spec.cli)  # type: ignore[attr-defined]
    assert command is not None, f"no CLI command campaign {spec.cli}"
    params = {p.name for p in command.params}
    assert {f.name for f in spec.fields} <= params
    assert ("campaign_id" in params) == spec.ticket


@pytest.mark.parametrize("spec", CATALOGUE, ids=IDS)
def test_every_entry_has_an_rpc_reading_its_fields(spec: CommandSpec) -> None:
    method = pb.DESCRIPTOR.services_by_name["CampaignService"].methods_by_name.get(spec.rpc)
    assert method is not None, f"CampaignService has no {spec.rpc}"
    assert method.input_type.name == f"{spec.rpc}Request"
    assert method.output_type.name == f"{spec.rpc}Response"
    fields = set(method.input_type.fields_by_name)
    wanted = {f"{f.name}_name" if f.kind == "file" else f.name for f in spec.fields}
    assert wanted | {"actor"} <= fields
    assert ("campaign_id" in fields) == spec.ticket
    assert getattr(CampaignService, spec.rpc).__qualname__ == spec.rpc  # generated


@pytest.mark.parametrize("spec", CATALOGUE, ids=IDS)
def test_every_entry_has_a_handler(spec: CommandSpec) -> None:
    parameters = inspect.signature(getattr(CampaignDesk, spec.name)).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    assert takes_any or {f.name for f in spec.fields} | {"actor"} <= set(parameters)


def test_docs_are_generated_from_the_catalogue() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(), f"stale: {COMMAND}"
    for spec in CATALOGUE:
        assert f"`rexian campaign {spec.cli}`" in render() and f"`{spec.name}`" in render()
