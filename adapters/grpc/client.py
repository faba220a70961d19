"""A remote engine: the same surface the CLI uses (`engine.service.dispatch(...)`,
`engine.list(...)`, `engine.verify(...)`, `engine.departments.all()`), over gRPC.

`rexian --grpc HOST:PORT COMMAND ...` builds a RemoteEngine instead of opening the store.
Domain errors come back as the same DomainError subclasses with the same messages, so
the CLI prints and exits exactly as it does locally; transport failures become
RemoteError (a DomainError: exit code 2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import grpc

from adapters.grpc import convert
from adapters.grpc.errors import RemoteError, domain_error
from adapters.grpc.gen.rexian.audit.v1 import audit_service_pb2 as audit_pb
from adapters.grpc.gen.rexian.audit.v1 import audit_service_pb2_grpc as audit_grpc
from adapters.grpc.gen.rexian.common.v1 import common_pb2 as common_pb
from adapters.grpc.gen.rexian.report.v1 import report_service_pb2 as report_pb
from adapters.grpc.gen.rexian.report.v1 import report_service_pb2_grpc as report_grpc
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2_grpc as ticket_grpc
from adapters.grpc.report_service import report_dict
from adapters.grpc.services import history_entry_dict, intake_advice_dict, summary_dict
from domain.commands import BY_NAME, CommandSpec
from domain.errors import InvalidInput, shown
from domain.ports import Department
from domain.values import Actor

T = TypeVar("T")


def _view(message: common_pb.Ticket) -> dict[str, Any]:
    return convert.read(message)


def catalogue_request(catalogue: Mapping[str, CommandSpec], messages: Any,
                      command: str) -> tuple[CommandSpec, Any]:
    """The catalogue entry `command` names and an empty request of its RPC (`messages`: the
    service's generated module); an unknown command is refused."""
    spec = catalogue.get(command)
    if spec is None:
        raise InvalidInput("command", f"未知命令“{shown(command)}”", f"unknown command {command!r}")
    return spec, getattr(messages, f"{spec.rpc}Request")()


class Calls:
    """Calls a stub's method with the token's metadata and the timeout; a gRPC error comes
    back as the CLI's DomainError (adapters/grpc/errors.domain_error). The services'
    clients (RemoteService, RemoteDepartments, RemoteEngine, RemoteCampaignDesk) share it."""

    def __init__(self, channel: grpc.Channel, token: str, timeout: float) -> None:
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.timeout = timeout
        self.tickets = ticket_grpc.TicketServiceStub(channel)
        self.audit = audit_grpc.AuditServiceStub(channel)
        self.reports = report_grpc.ReportServiceStub(channel)

    def __call__(self, method: Callable[..., T], request: Any) -> T:
        try:
            return method(request, metadata=self.metadata, timeout=self.timeout)
        except grpc.RpcError as error:
            raise domain_error(error) from None


class RemoteService:
    """WorkOrderService's commands and queries, performed by a server."""

    def __init__(self, calls: Calls) -> None:
        self._call = calls
        self._t = calls.tickets
        self._intake_reply: ticket_pb.IntakeResponse | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise RemoteError("UNIMPLEMENTED", f"{name} is not available over gRPC")

    def execute(self, command: str, ticket_no: str | None = None, *,
                actor: Actor | None = None, **fields: Any) -> str:
        """The catalogue command over its RPC (the server runs the same execute, as the
        token's identity: `actor` is not sent)."""
        spec, request = catalogue_request(BY_NAME, ticket_pb, command)
        if spec.ticket:
            request.ticket_no = ticket_no or ""
        for field_spec in spec.fields:
            value: Any = fields.get(field_spec.name, field_spec.default)
            if field_spec.kind == "texts":
                getattr(request, field_spec.name).extend(value or [])
            elif field_spec.kind == "instant":
                getattr(request, field_spec.name).CopyFrom(convert.to_timestamp(value))
            elif value is not None:
                setattr(request, field_spec.name, value)
        response = self._call(getattr(self._t, spec.rpc), request)
        if command == "intake":
            self._intake_reply = response  # with the server's advice (intake_view)
        return str(response.ticket.ticket_no)

    def intake_view(self, ticket_no: str) -> dict[str, Any]:
        """The order just taken with the advice the server replied with (suggestions,
        candidate duplicates, auto-dispatch), as `rexian intake --json` shows it."""
        reply = self._intake_reply
        if reply is None or reply.ticket.ticket_no != ticket_no:
            return self.show(ticket_no)
        return intake_advice_dict(reply)

    def show(self, ticket_no: str, *, reveal: bool = False, reason: str = "") -> dict[str, Any]:
        response = self._call(self._t.GetTicket, ticket_pb.GetTicketRequest(
            ticket_no=ticket_no, reveal=reveal, reason=reason or ""))
        return _view(response.ticket)

    def history(self, ticket_no: str, as_of: datetime | None = None) -> dict[str, Any]:
        request = audit_pb.ReplayRequest(ticket_no=ticket_no)
        if as_of is not None:
            request.as_of.CopyFrom(convert.to_timestamp(as_of))
        try:
            entries = [history_entry_dict(r.entry) for r in self._call.audit.Replay(
                request, metadata=self._call.metadata, timeout=self._call.timeout)]
        except grpc.RpcError as error:
            raise domain_error(error) from None
        last = entries[-1]["version"] if entries else None
        state = self._call(self._t.GetTicket, ticket_pb.GetTicketRequest(
            ticket_no=ticket_no, version=last)).ticket
        return {"ticket_no": ticket_no,
                "as_of": as_of.astimezone(convert.SHANGHAI).isoformat() if as_of else None,
                "state": _view(state), "events": entries}


@dataclass(frozen=True)
class RemoteConfig:
    address: str

    @property
    def display(self) -> str:
        return f"grpc://{self.address}"


class RemoteDepartments:
    def __init__(self, calls: Calls) -> None:
        self._call = calls

    def all(self) -> list[Department]:
        response = self._call(self._call.tickets.ListDepartments,
                              ticket_pb.ListDepartmentsRequest())
        return [Department(name=d.name, region=d.region,
                           supervisor=d.supervisor if d.HasField("supervisor") else None,
                           duty_phone=d.duty_phone) for d in response.departments]

    def get(self, name: str) -> Department:
        from domain.errors import UnknownDepartment

        for dept in self.all():
            if dept.name == name:
                return dept
        raise UnknownDepartment(name)


class RemoteVerifyReport:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def ok(self) -> bool:
        return bool(self.data["ok"])

    def as_dict(self) -> dict[str, Any]:
        return dict(self.data)


@dataclass(frozen=True)
class ClientTls:
    """TLS towards the server: the CA that signed its certificate (PEM), and for mutual TLS
    this client's certificate and key."""

    ca: bytes
    cert: bytes | None = None
    key: bytes | None = None

    @classmethod
    def from_files(cls, ca: str, cert: str | None = None, key: str | None = None
                   ) -> ClientTls:
        def read(path: str | None) -> bytes | None:
            return open(path, "rb").read() if path else None

        return cls(open(ca, "rb").read(), read(cert), read(key))

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(root_certificates=self.ca, private_key=self.key,
                                            certificate_chain=self.cert)


class RemoteEngine:
    """The Engine surface the CLI needs, backed by a Rexian gRPC server."""

    def __init__(self, address: str, *, token: str, timeout: float = 30.0,
                 tls: ClientTls | None = None) -> None:
        self.address = address
        self.channel = (grpc.secure_channel(address, tls.credentials()) if tls
                        else grpc.insecure_channel(address))
        self._calls = Calls(self.channel, token, timeout)
        self.service = RemoteService(self._calls)
        self.departments = RemoteDepartments(self._calls)
        self.config = RemoteConfig(address)

    def __getattr__(self, name: str) -> Any:
        # Engine parts that live only in the server (db, runners, vault...): a clean
        # domain error (CLI exit 2) instead of a traceback.
        if name.startswith("_"):
            raise AttributeError(name)
        raise RemoteError("UNIMPLEMENTED", f"engine.{name} is not available over gRPC")

    def catch_up(self) -> None:
        """Projections run in the server."""

    def list(self, *, state: str | None = None, dept: str | None = None,
             category: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        response = self._calls(self._calls.tickets.ListTickets, ticket_pb.ListTicketsRequest(
            state=state or "", dept=dept or "", category=category or "", limit=limit))
        return [summary_dict(t) for t in response.tickets]

    def tick(self) -> dict[str, int]:
        """One deadline tick in the server (adapters.ticker.tick there)."""
        response = self._calls(self._calls.tickets.Tick, ticket_pb.TickRequest())
        return dict(response.steps)

    def reveal_order(self, ticket_no: str, identity: object, reason: str | None
                     ) -> dict[str, Any]:
        """GetTicket with reveal: the server checks the token's role and logs it."""
        return self.service.show(ticket_no, reveal=True, reason=reason or "")

    def read_history(self, ticket_no: str, as_of: datetime | None, identity: object,
                     reason: str = "") -> dict[str, Any]:
        return self.service.history(ticket_no, as_of)

    def erase_citizen(self, citizen: str, *, reason: str, actor: Actor | None = None
                      ) -> dict[str, Any]:
        """删除权 in the server (Engine.erase_citizen there), as the token's identity."""
        r = self._calls(self._calls.tickets.EraseCitizen, ticket_pb.EraseCitizenRequest(
            citizen=citizen, reason=reason))
        return {"citizen": r.citizen, "tickets": list(r.tickets),
                "erased_at": convert.from_timestamp(r.erased_at).astimezone(
                    convert.SHANGHAI).isoformat(), "reason": r.reason}

    def verify(self, ticket_no: str | None = None,
               anchors: Sequence[tuple[int, str]] = (),
               on_progress: Callable[[int, int], None] | None = None) -> RemoteVerifyReport:
        if anchors:
            raise InvalidInput("anchor", "锚点校验需在本地打开事件库执行（--db）",
                               "anchors are checked against the store itself: run verify "
                               "with --db, not over gRPC")
        request = audit_pb.VerifyRequest()
        if ticket_no is not None:
            request.ticket_no = ticket_no
        r = self._calls(self._calls.audit.Verify, request)
        return RemoteVerifyReport({
            "ok": r.ok, "checked_orders": r.checked_orders, "checked_events": r.checked_events,
            "problems": [{"ticket_no": p.ticket_no,
                          "version": p.version if p.HasField("version") else None,
                          "kind": p.kind, "message": p.message} for p in r.problems],
            "unsealed_events": r.unsealed_events, "ledger_head": r.ledger_head,
            "ledger_position": r.ledger_position})

    def report(self, date_from: date, date_to: date, by: str | None, *,
               identity: object = None) -> dict[str, Any]:
        """ReportService.GetReport: the server's report for the token's identity."""
        request = report_pb.GetReportRequest(date_from=date_from.isoformat(),
                                             date_to=date_to.isoformat())
        if by is not None:
            request.by = by
        return report_dict(self._calls(self._calls.reports.GetReport, request))

    def campaign_desk(self) -> Any:
        """The campaign commands over CampaignService (adapters/grpc/campaign_client.py)."""
        from adapters.grpc.campaign_client import RemoteCampaignDesk

        return RemoteCampaignDesk(self.channel, self._calls)

    def close(self) -> None:
        self.channel.close()
