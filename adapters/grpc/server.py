"""The gRPC server: TicketService, DepartmentFeedService, AuditService, TelephonyService,
CalendarService, CampaignService, ReportService, DispatchService,
standard health checking (grpc.health.v1) and server reflection, on a thread pool.

    server, port = serve_grpc(engine, "127.0.0.1:0")
    ...
    server.stop()   # graceful: feed streams end, in-flight calls finish, hooks released
"""

from __future__ import annotations

import logging
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from adapters.grpc.auth import Authenticator
from adapters.grpc.calendar_service import CalendarService
from adapters.grpc.campaign_service import Act, CampaignService, Reveal
from adapters.grpc.department import DepartmentFeedService
from adapters.grpc.dispatch_service import DispatchService
from adapters.grpc.feed import FeedHub
from adapters.grpc.gen.rexian.audit.v1 import audit_service_pb2 as audit_pb
from adapters.grpc.gen.rexian.audit.v1 import audit_service_pb2_grpc as audit_grpc
from adapters.grpc.gen.rexian.calendar.v1 import calendar_service_pb2 as calendar_pb
from adapters.grpc.gen.rexian.calendar.v1 import calendar_service_pb2_grpc as calendar_grpc
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2 as campaign_pb
from adapters.grpc.gen.rexian.campaign.v1 import campaign_pb2_grpc as campaign_grpc
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as dept_pb
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2_grpc as dept_grpc
from adapters.grpc.gen.rexian.dispatch.v1 import dispatch_service_pb2 as dispatch_pb
from adapters.grpc.gen.rexian.dispatch.v1 import dispatch_service_pb2_grpc as dispatch_grpc
from adapters.grpc.gen.rexian.report.v1 import report_service_pb2 as report_pb
from adapters.grpc.gen.rexian.report.v1 import report_service_pb2_grpc as report_grpc
from adapters.grpc.gen.rexian.telephony.v1 import telephony_service_pb2 as tel_pb
from adapters.grpc.gen.rexian.telephony.v1 import telephony_service_pb2_grpc as tel_grpc
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2_grpc as ticket_grpc
from adapters.grpc.report_service import ReportService
from adapters.grpc.request_checks import RequestGuard
from adapters.grpc.services import (
    AuditService,
    TelephonyService,
    TicketService,
)
from adapters.grpc.slots import DEFAULT_SLOTS, CommandSlots
from domain.commands import CommandSpec
from domain.errors import InvalidInput, shown
from domain.values import Actor

log = logging.getLogger("rexian.grpc")
DEFAULT_ADDRESS = "127.0.0.1:50051"
# gRPC sets SO_REUSEPORT by default: a second engine on the same port would start and the
# kernel would split the clients between the two stores. One engine per port.
SERVER_OPTIONS = (("grpc.so_reuseport", 0),)


class PortInUse(OSError):
    """The listen address cannot be bound (in use by another engine or program)."""

    def __init__(self, address: str, detail: str = "") -> None:
        super().__init__(
            f"gRPC 地址 {address} 无法监听（端口已被占用？是否已有一个 rexian serve 在运行）"
            f" / cannot listen on {address} (port in use? another rexian serve may be "
            f"running){': ' + detail if detail else ''}")
        self.address = address


@dataclass(frozen=True)
class ServerTls:
    """The server's certificate chain and key (PEM); with `client_ca`, mutual TLS: every
    client must present a certificate that CA signed (e.g. each department's)."""

    cert: bytes
    key: bytes
    client_ca: bytes | None = None

    @classmethod
    def from_files(cls, cert: str, key: str, client_ca: str | None = None) -> ServerTls:
        try:
            return cls(open(cert, "rb").read(), open(key, "rb").read(),
                       open(client_ca, "rb").read() if client_ca else None)
        except OSError as error:
            raise InvalidInput("tls", f"无法读取 TLS 证书或密钥：{shown(error, 200)}",
                               f"cannot read the TLS certificate or key: "
                               f"{shown(error, 200)}") from None

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.key, self.cert)], root_certificates=self.client_ca,
            require_client_auth=self.client_ca is not None)


def _bind(server: grpc.Server, address: str, tls: ServerTls | None = None) -> int:
    try:
        port = (server.add_secure_port(address, tls.credentials()) if tls
                else server.add_insecure_port(address))
    except RuntimeError as error:  # grpc reports a failed bind as RuntimeError
        raise PortInUse(address, str(error)) from None
    requested = address.rsplit(":", 1)[-1]
    if not port or (requested.isdigit() and int(requested) not in (0, port)):
        raise PortInUse(address, f"bound port {port}")
    return port

SERVICE_NAMES = (
    ticket_pb.DESCRIPTOR.services_by_name["TicketService"].full_name,
    dept_pb.DESCRIPTOR.services_by_name["DepartmentFeedService"].full_name,
    audit_pb.DESCRIPTOR.services_by_name["AuditService"].full_name,
    tel_pb.DESCRIPTOR.services_by_name["TelephonyService"].full_name,
    calendar_pb.DESCRIPTOR.services_by_name["CalendarService"].full_name,
    campaign_pb.DESCRIPTOR.services_by_name["CampaignService"].full_name,
    report_pb.DESCRIPTOR.services_by_name["ReportService"].full_name,
    dispatch_pb.DESCRIPTOR.services_by_name["DispatchService"].full_name,
)


def _campaign_act(auth: Authenticator) -> Act:
    """Campaign RPCs (adapters/grpc/campaign_service.py): an authenticated centre identity
    allowed the entry's command name (the permission matrix's operation), and its actor.
    A department token only where the matrix lets the department role (campaign_flags:
    the desk then checks the campaign is its unit's)."""

    def act(context: grpc.ServicerContext, spec: CommandSpec, request_actor: Any) -> Actor:
        if auth.access.matrix.allows("department", spec.name) and \
                auth.identity(context, spec.name).roles == ("department",):
            unit = auth.department(context, spec.name)
            return auth.actor(unit, spec.name, context, request_actor)
        who = auth.centre(context, spec.name)
        return auth.actor(who, spec.name, context, request_actor)

    return act


def _campaign_reveal(auth: Authenticator) -> Reveal:
    """A campaign export or flag list unmasked: the token's identity may reveal and gave a
    reason, recorded in the access log (domain/access/control.py AccessControl.reveal)."""

    def reveal(context: grpc.ServicerContext, reason: str, campaign: str) -> None:
        from adapters.campaigns import TARGET_CAMPAIGN

        who = auth.identity(context, "reveal")
        auth.access.reveal(who, reason=reason, target_kind=TARGET_CAMPAIGN, target=campaign)

    return reveal


@dataclass
class GrpcServer:
    """A running server; `stop()` is graceful and idempotent."""

    server: grpc.Server
    port: int
    address: str
    hub: FeedHub
    health: health.HealthServicer
    _stopped: bool = False

    def stop(self, grace: float = 2.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.health.enter_graceful_shutdown()
        self.hub.close_streams()  # Subscribe loops return; clients see the stream end
        self.server.stop(grace).wait()
        self.hub.stop()

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return bool(self.server.wait_for_termination(timeout))


def serve_grpc(
    engine: Any,
    address: str = DEFAULT_ADDRESS,
    *,
    max_workers: int = 64,
    poll_interval: float = 0.02,
    tls: ServerTls | None = None,
    command_slots: int = DEFAULT_SLOTS,
) -> tuple[GrpcServer, int]:
    """Start every service on `address` (port 0: any free port), over TLS when `tls` is
    given; returns (server, port). At most `command_slots` unary calls of the engine's
    services run at once (adapters/grpc/slots.py); streams are not limited."""
    auth = Authenticator(engine.access)
    hub = FeedHub(engine, poll_interval=poll_interval)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers,
                                                    thread_name_prefix="rexian-grpc"),
                         interceptors=(RequestGuard(), CommandSlots(command_slots)),
                         options=SERVER_OPTIONS)
    service = engine.service  # its commits queue on the service's own lock (SQLite)
    ticket_grpc.add_TicketServiceServicer_to_server(
        TicketService(engine, auth, service=service), server)
    dept_grpc.add_DepartmentFeedServiceServicer_to_server(
        DepartmentFeedService(engine, auth, hub, service=service), server)
    audit_grpc.add_AuditServiceServicer_to_server(AuditService(engine, auth), server)
    calendar_grpc.add_CalendarServiceServicer_to_server(CalendarService(engine, auth), server)
    campaign_grpc.add_CampaignServiceServicer_to_server(
        CampaignService(engine, _campaign_act(auth), _campaign_reveal(auth)), server)
    tel_grpc.add_TelephonyServiceServicer_to_server(TelephonyService(engine, auth), server)
    report_grpc.add_ReportServiceServicer_to_server(ReportService(engine, auth), server)
    dispatch_grpc.add_DispatchServiceServicer_to_server(DispatchService(engine, auth), server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = _bind(server, address, tls)
    if tls is None and address.rsplit(":", 1)[0] not in ("127.0.0.1", "localhost", "[::1]"):
        log.warning("gRPC on %s without TLS: tokens cross the network in clear "
                    "(start with --tls-cert/--tls-key)", address)
    hub.start()
    server.start()
    for name in ("", *SERVICE_NAMES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    host = address.rsplit(":", 1)[0]
    return GrpcServer(server, port, f"{host}:{port}", hub, health_servicer), port
