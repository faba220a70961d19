"""The gRPC servicers: thin translations between messages and the engine's service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from google.protobuf.message import Message
from grpc import ServicerContext as Ctx

from adapters.grpc import convert
from adapters.grpc.auth import Authenticator
from adapters.grpc.errors import streaming, unary
from adapters.grpc.gen.rexian.audit.v1 import audit_service_pb2 as audit_pb
from adapters.grpc.gen.rexian.audit.v1 import audit_service_pb2_grpc as audit_grpc
from adapters.grpc.gen.rexian.common.v1 import common_pb2 as common_pb
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as dept_pb
from adapters.grpc.gen.rexian.telephony.v1 import telephony_service_pb2 as tel_pb
from adapters.grpc.gen.rexian.telephony.v1 import telephony_service_pb2_grpc as tel_grpc
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2_grpc as ticket_grpc
from adapters.telephony_reports import ReportResult, TelephonyReport, apply_report_detailed
from domain.access.access_log import TARGET_ORDER
from domain.commands import CATALOGUE, CommandSpec, Field
from domain.errors import InvalidInput
from domain.values import Actor

MAX_VERSION = 2**31 - 1  # far past any order's history, inside every store's integers


def ticket_message(view: dict[str, Any]) -> common_pb.Ticket:
    message = common_pb.Ticket()
    convert.fill(message, view)
    return message


def summary_message(row: dict[str, Any]) -> common_pb.TicketSummary:
    message = common_pb.TicketSummary()
    convert.fill(message, row)
    return message


def _required_ticket(ticket_no: str) -> str:
    if not ticket_no.strip():
        raise InvalidInput("ticket_no", "工单号不能为空", "ticket_no must not be empty")
    return ticket_no.strip()


def request_value(request: Message, spec_field: Field) -> Any:
    """A catalogue field read from its request message (proto3 defaults mean "not given")."""
    value = getattr(request, spec_field.name)
    if spec_field.kind == "texts":
        return list(value)
    if spec_field.kind == "instant":
        if not request.HasField(spec_field.name):
            raise InvalidInput(spec_field.name, f"{spec_field.label}不能为空",
                               f"{spec_field.name} must be set")
        return convert.from_timestamp(value)
    if spec_field.kind == "text" and not value and spec_field.default is not None:
        return spec_field.default
    return value


def intake_response(advice: dict[str, Any]) -> ticket_pb.IntakeResponse:
    """IntakeResponse from adapters/intake_advice.py's view: the order, its dispatch
    suggestions (智能派单) and candidate duplicates (并单建议), what the auto-dispatch and
    the 群诉预警 detector did."""
    from adapters.grpc.dispatch_service import suggestion_messages

    response = ticket_pb.IntakeResponse(
        ticket=ticket_message(advice),
        dispatch_suggestions=suggestion_messages(advice["dispatch_suggestions"]))
    for c in advice["duplicate_candidates"]:
        candidate = response.duplicate_candidates.add(
            ticket_no=c["ticket_no"], score=c["score"], state=c["state"], content=c["content"],
            same_citizen=c["same_citizen"], created_at=convert.to_timestamp(c["created_at"]))
        for name in ("mass_complaint", "merge"):
            if c[name] is not None:
                setattr(candidate, name, c[name])
    if advice["auto_dispatched"] is not None:
        response.auto_dispatched = advice["auto_dispatched"]
    mass = advice["mass_complaint"]
    if mass is not None:
        response.mass_complaint.CopyFrom(ticket_pb.MassComplaintNotice(
            alert=mass["alert"], action=mass["action"], members=mass["members"],
            citizens=mass["citizens"]))
    error = advice.get("dispatch_advice_error")
    if error is not None:
        response.dispatch_advice_error.CopyFrom(ticket_pb.AdviceError(**error))
    return response


def intake_advice_dict(response: ticket_pb.IntakeResponse) -> dict[str, Any]:
    """IntakeResponse back in the shape of `rexian intake --json` (adapters/intake_advice.py),
    for `rexian --grpc … intake`; a candidate's merge travels as its command line only."""
    view = convert.read(response.ticket)
    view["duplicate_candidates"] = [
        {"ticket_no": c.ticket_no, "score": c.score, "state": c.state,
         "created_at": convert.from_timestamp(c.created_at).astimezone(convert.SHANGHAI
                                                                        ).isoformat(),
         "content": c.content, "same_citizen": c.same_citizen,
         "mass_complaint": c.mass_complaint if c.HasField("mass_complaint") else None,
         "merge": c.merge if c.HasField("merge") else None}
        for c in response.duplicate_candidates]
    mass = response.mass_complaint
    view["mass_complaint"] = ({"ticket_no": view["ticket_no"], "alert": mass.alert,
                               "action": mass.action, "members": mass.members,
                               "citizens": mass.citizens}
                              if response.HasField("mass_complaint") else None)
    view["dispatch_suggestions"] = [
        {"dept": s.dept, "score": s.score, "reason": s.reason, "assist": list(s.assist),
         "item": s.item if s.HasField("item") else None} for s in response.dispatch_suggestions]
    view["auto_dispatched"] = (response.auto_dispatched if response.HasField("auto_dispatched")
                               else None)
    if response.HasField("dispatch_advice_error"):
        error = response.dispatch_advice_error
        view["dispatch_advice_error"] = {"zh": error.zh, "en": error.en}
    return view


def _lifecycle_rpc(spec: CommandSpec) -> Any:
    """The TicketService method of one catalogue entry: actor, fields, execute, the order."""
    response_class = getattr(ticket_pb, f"{spec.rpc}Response")

    def method(self: TicketService, request: Any, context: Ctx) -> Any:
        # Who, and may they: before anything in the request is looked at.
        actor = self._act(request, context, spec.name)
        values = {f.name: request_value(request, f) for f in spec.fields}
        ticket = _required_ticket(request.ticket_no) if spec.ticket else None
        if spec.name == "intake" and not request.skip_advice:  # as the CLI's intake JSON
            from adapters.intake_advice import intake_advice

            number = self.service.execute(spec.name, ticket, actor=actor, **values)
            return intake_response(intake_advice(self.engine, number))
        # The order as the command recorded it (not loaded again from the store).
        _, view = self.service.execute_and_show(spec.name, ticket, actor=actor, **values)
        return response_class(ticket=ticket_message(view))

    method.__name__ = method.__qualname__ = spec.rpc
    return unary()(method)


class TicketService(ticket_grpc.TicketServiceServicer):
    """The centre's commands and queries (centre token)."""

    def __init__(self, engine: Any, auth: Authenticator, service: Any = None) -> None:
        self.engine = engine
        self.service = service or engine.service
        self.auth = auth

    def _act(self, request: Any, context: Ctx, operation: str) -> Actor:
        who = self.auth.centre(context, operation)
        return self.auth.actor(who, operation, context,
                               request.actor if request.HasField("actor") else None)

    @unary()
    def GetTicket(self, request: ticket_pb.GetTicketRequest, context: Ctx) -> Any:
        who = self.auth.centre(context, "show")
        no = _required_ticket(request.ticket_no)
        if request.HasField("version"):
            if not 1 <= request.version <= MAX_VERSION:  # uint64 would overflow the store
                raise InvalidInput("version", f"版本号应在 1 到 {MAX_VERSION} 之间",
                                   f"version must be 1..{MAX_VERSION}")
            order = self.service.load(no, version=request.version)
        else:
            order = self.service.load(no)
        if request.reveal:  # checked and logged before anything unmasked is built
            self.engine.access.reveal(who, reason=request.reason, target_kind=TARGET_ORDER,
                                      target=no)
        view = self.service.view(order, reveal=request.reveal)
        return ticket_pb.GetTicketResponse(ticket=ticket_message(view))

    @unary()
    def ListTickets(self, request: ticket_pb.ListTicketsRequest, context: Ctx) -> Any:
        self.auth.centre(context, "list")
        rows = self.engine.list(state=request.state or None, dept=request.dept or None,
                                category=request.category or None, limit=request.limit or 1000)
        return ticket_pb.ListTicketsResponse(tickets=[summary_message(r) for r in rows])

    @unary()
    def ListDepartments(self, request: ticket_pb.ListDepartmentsRequest, context: Ctx) -> Any:
        self.auth.centre(context, "departments")
        return ticket_pb.ListDepartmentsResponse(departments=[
            ticket_pb.Department(name=d.name, region=d.region, supervisor=d.supervisor,
                                 duty_phone=d.duty_phone)
            for d in self.engine.departments.all()])


    @unary()
    def Tick(self, request: ticket_pb.TickRequest, context: Ctx) -> Any:
        self.auth.centre(context, "tick")
        from adapters.ticker import tick

        return ticket_pb.TickResponse(steps=tick(self.engine))

    @unary()
    def EraseCitizen(self, request: ticket_pb.EraseCitizenRequest, context: Ctx) -> Any:
        actor = self._act(request, context, "erase")
        receipt = self.engine.erase_citizen(request.citizen, reason=request.reason,
                                            actor=actor)
        return ticket_pb.EraseCitizenResponse(
            citizen=receipt["citizen"], tickets=receipt["tickets"],
            erased_at=convert.to_timestamp(receipt["erased_at"]), reason=receipt["reason"])


for _spec in CATALOGUE:
    setattr(TicketService, _spec.rpc, _lifecycle_rpc(_spec))


class AuditService(audit_grpc.AuditServiceServicer):
    """History replay and integrity verification (centre token)."""

    def __init__(self, engine: Any, auth: Authenticator) -> None:
        self.engine = engine
        self.auth = auth

    @streaming()
    def Replay(self, request: audit_pb.ReplayRequest, context: Ctx
               ) -> Iterator[audit_pb.ReplayResponse]:
        as_of = convert.from_timestamp(request.as_of) if request.HasField("as_of") else None
        who = self.auth.centre(context, "as_of" if as_of is not None else "history")
        no = _required_ticket(request.ticket_no)
        history = self.engine.read_history(no, as_of, who)
        for entry in history["events"]:
            yield audit_pb.ReplayResponse(entry=audit_pb.HistoryEntry(
                version=entry["version"], type=entry["type"],
                at=convert.to_timestamp(entry["at"]),
                actor=common_pb.Actor(role=entry["actor"]["role"], id=entry["actor"]["id"]),
                details=convert.struct_of(entry["details"])))

    @unary()
    def Verify(self, request: audit_pb.VerifyRequest, context: Ctx) -> Any:
        self.auth.centre(context, "verify")
        ticket = request.ticket_no if request.HasField("ticket_no") else None
        report = self.engine.verify(ticket).as_dict()
        return audit_pb.VerifyResponse(
            ok=report["ok"], checked_orders=report["checked_orders"],
            checked_events=report["checked_events"],
            problems=[audit_pb.Problem(ticket_no=str(p["ticket_no"]), version=p.get("version"),
                                       kind=p["kind"], message=p["message"])
                      for p in report["problems"]],
            unsealed_events=report["unsealed_events"], ledger_head=report["ledger_head"],
            ledger_position=report.get("ledger_position") or 0)


_DIAL_OUTCOMES = {
    tel_pb.DIAL_OUTCOME_ANSWERED: "answered",
    tel_pb.DIAL_OUTCOME_NO_ANSWER: "no_answer",
    tel_pb.DIAL_OUTCOME_BUSY: "busy",
    tel_pb.DIAL_OUTCOME_POWERED_OFF: "powered_off",
    tel_pb.DIAL_OUTCOME_NUMBER_INVALID: "空号",
    tel_pb.DIAL_OUTCOME_NUMBER_SUSPENDED: "停机",
    tel_pb.DIAL_OUTCOME_EXHAUSTED: "exhausted",
}


def report_of(message: tel_pb.TelephonyReport) -> TelephonyReport:
    """The transport-neutral report (the Kafka consumer builds the same from Avro)."""
    at = (convert.from_timestamp(message.occurred_at) if message.HasField("occurred_at")
          else None)
    base = TelephonyReport(report_id=message.report_id, ticket_no=message.ticket_no,
                           kind="transcript", call_id=message.call_id,
                           adapter=message.adapter or "telephony", at=at)
    body = message.WhichOneof("body")
    if body == "dial":
        if message.dial.outcome not in _DIAL_OUTCOMES:
            raise InvalidInput("dial.outcome", "外呼结果不能为空", "dial.outcome must be set")
        return replace(base, kind="dial_outcome", outcome=_DIAL_OUTCOMES[message.dial.outcome],
                       attempts_exhausted=message.dial.attempts_exhausted,
                       attempt=message.dial.attempt, purpose=message.dial.purpose)
    if body == "intent":
        return replace(base, kind="intent", intent=message.intent.intent,
                       transcript=message.intent.text)
    if body == "transcript":
        return replace(base, transcript=message.transcript.text)
    raise InvalidInput("body", "报告内容不能为空（dial、transcript 或 intent）",
                       "report body must be one of dial, transcript, intent")


def result_message(result: ReportResult) -> tel_pb.ReportResult:
    return tel_pb.ReportResult(report_id=result.report_id, duplicate=result.duplicate,
                               action=result.action, detail=result.detail)


class TelephonyService(tel_grpc.TelephonyServiceServicer):
    """Reports from telephony/ASR adapters, applied idempotently (centre token)."""

    def __init__(self, engine: Any, auth: Authenticator) -> None:
        self.engine = engine
        self.auth = auth

    @unary()
    def Report(self, request: tel_pb.ReportRequest, context: Ctx) -> Any:
        self.auth.centre(context, "telephony_report")
        result = apply_report_detailed(self.engine, report_of(request.report))
        return tel_pb.ReportResponse(result=result_message(result))

    @unary()
    def ReportStream(self, request_iterator: Iterator[tel_pb.ReportStreamRequest],
                     context: Ctx) -> Any:
        self.auth.centre(context, "telephony_report")
        summary = tel_pb.ReportStreamResponse()
        for item in request_iterator:
            result = apply_report_detailed(self.engine, report_of(item.report))
            summary.received += 1
            if result.duplicate:
                summary.duplicates += 1
            else:
                summary.applied += 1
            summary.results.append(result_message(result))
        return summary


def history_entry_dict(entry: audit_pb.HistoryEntry) -> dict[str, Any]:
    """A Replay entry back in the shape of `history`'s JSON events."""
    return {"version": entry.version, "type": entry.type,
            "at": convert.from_timestamp(entry.at).astimezone(convert.SHANGHAI).isoformat(),
            "actor": {"role": entry.actor.role, "id": entry.actor.id},
            "details": convert.dict_of(entry.details)}


def summary_dict(message: common_pb.TicketSummary) -> dict[str, Any]:
    return convert.read(message)  # Beijing time, like `list` and `show`


def payload(event: dept_pb.FeedEvent) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(event.payload_json)
    return result
