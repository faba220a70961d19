import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from adapters.grpc.gen.rexian.common.v1 import common_pb2 as _common_pb2
from adapters.grpc.gen.rexian.dispatch.v1 import dispatch_service_pb2 as _dispatch_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IntakeRequest(_message.Message):
    __slots__ = ("channel", "category", "urgency", "region", "content", "caller_name", "caller_phone", "actor", "skip_advice")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CALLER_NAME_FIELD_NUMBER: _ClassVar[int]
    CALLER_PHONE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SKIP_ADVICE_FIELD_NUMBER: _ClassVar[int]
    channel: str
    category: str
    urgency: str
    region: str
    content: str
    caller_name: str
    caller_phone: str
    actor: _common_pb2.Actor
    skip_advice: bool
    def __init__(self, channel: _Optional[str] = ..., category: _Optional[str] = ..., urgency: _Optional[str] = ..., region: _Optional[str] = ..., content: _Optional[str] = ..., caller_name: _Optional[str] = ..., caller_phone: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., skip_advice: _Optional[bool] = ...) -> None: ...

class IntakeResponse(_message.Message):
    __slots__ = ("ticket", "dispatch_suggestions", "auto_dispatched", "duplicate_candidates", "mass_complaint", "dispatch_advice_error")
    TICKET_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    AUTO_DISPATCHED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    MASS_COMPLAINT_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_ADVICE_ERROR_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    dispatch_suggestions: _containers.RepeatedCompositeFieldContainer[_dispatch_service_pb2.Suggestion]
    auto_dispatched: str
    duplicate_candidates: _containers.RepeatedCompositeFieldContainer[DuplicateCandidate]
    mass_complaint: MassComplaintNotice
    dispatch_advice_error: AdviceError
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ..., dispatch_suggestions: _Optional[_Iterable[_Union[_dispatch_service_pb2.Suggestion, _Mapping]]] = ..., auto_dispatched: _Optional[str] = ..., duplicate_candidates: _Optional[_Iterable[_Union[DuplicateCandidate, _Mapping]]] = ..., mass_complaint: _Optional[_Union[MassComplaintNotice, _Mapping]] = ..., dispatch_advice_error: _Optional[_Union[AdviceError, _Mapping]] = ...) -> None: ...

class DuplicateCandidate(_message.Message):
    __slots__ = ("ticket_no", "score", "state", "created_at", "content", "same_citizen", "mass_complaint", "merge")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    SAME_CITIZEN_FIELD_NUMBER: _ClassVar[int]
    MASS_COMPLAINT_FIELD_NUMBER: _ClassVar[int]
    MERGE_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    score: float
    state: str
    created_at: _timestamp_pb2.Timestamp
    content: str
    same_citizen: bool
    mass_complaint: str
    merge: str
    def __init__(self, ticket_no: _Optional[str] = ..., score: _Optional[float] = ..., state: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., content: _Optional[str] = ..., same_citizen: _Optional[bool] = ..., mass_complaint: _Optional[str] = ..., merge: _Optional[str] = ...) -> None: ...

class MassComplaintNotice(_message.Message):
    __slots__ = ("alert", "action", "members", "citizens")
    ALERT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    CITIZENS_FIELD_NUMBER: _ClassVar[int]
    alert: str
    action: str
    members: int
    citizens: int
    def __init__(self, alert: _Optional[str] = ..., action: _Optional[str] = ..., members: _Optional[int] = ..., citizens: _Optional[int] = ...) -> None: ...

class AdviceError(_message.Message):
    __slots__ = ("zh", "en")
    ZH_FIELD_NUMBER: _ClassVar[int]
    EN_FIELD_NUMBER: _ClassVar[int]
    zh: str
    en: str
    def __init__(self, zh: _Optional[str] = ..., en: _Optional[str] = ...) -> None: ...

class AnswerRequest(_message.Message):
    __slots__ = ("ticket_no", "reply", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    reply: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., reply: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class AnswerResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class DispatchRequest(_message.Message):
    __slots__ = ("ticket_no", "dept", "assist", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    ASSIST_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    dept: str
    assist: _containers.RepeatedScalarFieldContainer[str]
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., dept: _Optional[str] = ..., assist: _Optional[_Iterable[str]] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class DispatchResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class RedispatchRequest(_message.Message):
    __slots__ = ("ticket_no", "dept", "assist", "reason", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    ASSIST_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    dept: str
    assist: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., dept: _Optional[str] = ..., assist: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class RedispatchResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class SignRequest(_message.Message):
    __slots__ = ("ticket_no", "dept", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    dept: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., dept: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class SignResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class ReturnRequest(_message.Message):
    __slots__ = ("ticket_no", "dept", "reason", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    dept: str
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., dept: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class ReturnResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class RejectReturnRequest(_message.Message):
    __slots__ = ("ticket_no", "reason", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class RejectReturnResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class TransferRequest(_message.Message):
    __slots__ = ("ticket_no", "hotline", "reference", "reason", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    HOTLINE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    hotline: str
    reference: str
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., hotline: _Optional[str] = ..., reference: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class TransferResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class RequestExtensionRequest(_message.Message):
    __slots__ = ("ticket_no", "dept", "days", "reason", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    dept: str
    days: int
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., dept: _Optional[str] = ..., days: _Optional[int] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class RequestExtensionResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class ApproveExtensionRequest(_message.Message):
    __slots__ = ("ticket_no", "note", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    note: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., note: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class ApproveExtensionResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class DenyExtensionRequest(_message.Message):
    __slots__ = ("ticket_no", "reason", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class DenyExtensionResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class ResolveRequest(_message.Message):
    __slots__ = ("ticket_no", "dept", "reply", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    dept: str
    reply: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., dept: _Optional[str] = ..., reply: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class ResolveResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class RecordCallbackRequest(_message.Message):
    __slots__ = ("ticket_no", "result", "comment", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    result: str
    comment: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., result: _Optional[str] = ..., comment: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class RecordCallbackResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class WithdrawRequest(_message.Message):
    __slots__ = ("ticket_no", "reason", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class WithdrawResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class MergeRequest(_message.Message):
    __slots__ = ("ticket_no", "into", "reason", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    INTO_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    into: str
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., into: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class MergeResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class ReportPlanRequest(_message.Message):
    __slots__ = ("ticket_no", "dept", "eta", "note", "actor")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    dept: str
    eta: _timestamp_pb2.Timestamp
    note: str
    actor: _common_pb2.Actor
    def __init__(self, ticket_no: _Optional[str] = ..., dept: _Optional[str] = ..., eta: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class ReportPlanResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class GetTicketRequest(_message.Message):
    __slots__ = ("ticket_no", "version", "reveal", "reason")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REVEAL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    version: int
    reveal: bool
    reason: str
    def __init__(self, ticket_no: _Optional[str] = ..., version: _Optional[int] = ..., reveal: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class GetTicketResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class ListTicketsRequest(_message.Message):
    __slots__ = ("state", "dept", "category", "limit")
    STATE_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    state: str
    dept: str
    category: str
    limit: int
    def __init__(self, state: _Optional[str] = ..., dept: _Optional[str] = ..., category: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListTicketsResponse(_message.Message):
    __slots__ = ("tickets",)
    TICKETS_FIELD_NUMBER: _ClassVar[int]
    tickets: _containers.RepeatedCompositeFieldContainer[_common_pb2.TicketSummary]
    def __init__(self, tickets: _Optional[_Iterable[_Union[_common_pb2.TicketSummary, _Mapping]]] = ...) -> None: ...

class ListDepartmentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Department(_message.Message):
    __slots__ = ("name", "region", "supervisor", "duty_phone")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SUPERVISOR_FIELD_NUMBER: _ClassVar[int]
    DUTY_PHONE_FIELD_NUMBER: _ClassVar[int]
    name: str
    region: str
    supervisor: str
    duty_phone: str
    def __init__(self, name: _Optional[str] = ..., region: _Optional[str] = ..., supervisor: _Optional[str] = ..., duty_phone: _Optional[str] = ...) -> None: ...

class ListDepartmentsResponse(_message.Message):
    __slots__ = ("departments",)
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    departments: _containers.RepeatedCompositeFieldContainer[Department]
    def __init__(self, departments: _Optional[_Iterable[_Union[Department, _Mapping]]] = ...) -> None: ...

class TickRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TickResponse(_message.Message):
    __slots__ = ("steps",)
    class StepsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    STEPS_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.ScalarMap[str, int]
    def __init__(self, steps: _Optional[_Mapping[str, int]] = ...) -> None: ...

class EraseCitizenRequest(_message.Message):
    __slots__ = ("citizen", "reason", "actor")
    CITIZEN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    citizen: str
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, citizen: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class EraseCitizenResponse(_message.Message):
    __slots__ = ("citizen", "tickets", "erased_at", "reason")
    CITIZEN_FIELD_NUMBER: _ClassVar[int]
    TICKETS_FIELD_NUMBER: _ClassVar[int]
    ERASED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    citizen: str
    tickets: _containers.RepeatedScalarFieldContainer[str]
    erased_at: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, citizen: _Optional[str] = ..., tickets: _Optional[_Iterable[str]] = ..., erased_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...
