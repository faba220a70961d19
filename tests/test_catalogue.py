"""One catalogue behind every front end: each entry has its CLI command, its TicketService
RPC with the request fields it reads, a remote-client path, a BDD step that issues it, and
its line in docs/commands.md (generated)."""

from __future__ import annotations

import inspect

import pytest
import typer.main

from adapters.grpc.department import UNIT_COMMANDS, DepartmentFeedService
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as dept_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from adapters.grpc.services import TicketService
from domain.commands import CATALOGUE, CommandSpec
from domain.service import WorkOrderService
from tests.bdd.steps import STEP_MODULES
from tools.cli import app
from tools.commands_doc import COMMAND, DOC_PATH, render

IDS = [spec.name for spec in CATALOGUE]


@pytest.mark.parametrize("spec", CATALOGUE, ids=IDS)
def test_every_entry_has_a_cli_command(spec: CommandSpec) -> None:
    group = typer.main.get_group(app)
    command = group.commands.get(spec.cli)
    assert command is not None, f"no CLI command {spec.cli}"
    options = {p.name for p in command.params}
    assert {f.name for f in spec.fields} <= options
    assert ("ticket" in options) == spec.ticket


@pytest.mark.parametrize("spec", CATALOGUE, ids=IDS)
def test_every_entry_has_an_rpc_reading_its_fields(spec: CommandSpec) -> None:
    service = ticket_pb.DESCRIPTOR.services_by_name["TicketService"]
    method = service.methods_by_name.get(spec.rpc)
    assert method is not None, f"TicketService has no {spec.rpc}"
    assert method.input_type.name == f"{spec.rpc}Request"
    fields = set(method.input_type.fields_by_name)
    assert {f.name for f in spec.fields} | {"actor"} <= fields
    assert ("ticket_no" in fields) == spec.ticket
    assert getattr(TicketService, spec.rpc).__qualname__ == spec.rpc  # generated, not legacy


@pytest.mark.parametrize("spec", UNIT_COMMANDS, ids=[s.name for s in UNIT_COMMANDS])
def test_unit_commands_are_on_the_department_api(spec: CommandSpec) -> None:
    service = dept_pb.DESCRIPTOR.services_by_name["DepartmentFeedService"]
    method = service.methods_by_name[spec.rpc]
    fields = set(method.input_type.fields_by_name)
    assert {f.name for f in spec.fields if f.name != "dept"} <= fields and "dept" not in fields
    assert getattr(DepartmentFeedService, spec.rpc).__qualname__ == spec.rpc


@pytest.mark.parametrize("spec", CATALOGUE, ids=IDS)
def test_every_entry_has_a_handler_and_a_bdd_step(spec: CommandSpec) -> None:
    handler = getattr(WorkOrderService, spec.name)
    parameters = inspect.signature(handler).parameters
    assert {f.name for f in spec.fields} | {"actor"} <= set(parameters)
    sources = "".join(inspect.getsource(m) for m in STEP_MODULES)
    assert f".{spec.name}(" in sources or f'"{spec.name}"' in sources, (
        f"no BDD step issues {spec.name}")


def test_docs_are_generated_from_the_catalogue() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(), f"docs/commands.md is stale: {COMMAND}"
    for spec in CATALOGUE:
        assert f"`rexian {spec.cli}`" in render()


def test_the_property_test_drives_every_catalogue_command() -> None:
    from tests.test_properties import ARGUMENTS

    # The stateful test names record_callback by what staff type ("callback") and makes
    # orders through its own intake rule.
    drives = {"record_callback" if name == "callback" else name for name in ARGUMENTS}
    assert drives | {"intake"} == {spec.name for spec in CATALOGUE}
