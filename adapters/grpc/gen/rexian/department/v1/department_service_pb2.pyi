import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from adapters.grpc.gen.rexian.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubscribeRequest(_message.Message):
    __slots__ = ("department", "after_position")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    AFTER_POSITION_FIELD_NUMBER: _ClassVar[int]
    department: str
    after_position: int
    def __init__(self, department: _Optional[str] = ..., after_position: _Optional[int] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: FeedEvent
    def __init__(self, event: _Optional[_Union[FeedEvent, _Mapping]] = ...) -> None: ...

class FeedEvent(_message.Message):
    __slots__ = ("position", "ticket_no", "type", "occurred_at", "version", "actor", "relation", "payload_json")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    position: int
    ticket_no: str
    type: str
    occurred_at: _timestamp_pb2.Timestamp
    version: int
    actor: _common_pb2.Actor
    relation: str
    payload_json: str
    def __init__(self, position: _Optional[int] = ..., ticket_no: _Optional[str] = ..., type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., relation: _Optional[str] = ..., payload_json: _Optional[str] = ...) -> None: ...

class AckRequest(_message.Message):
    __slots__ = ("department", "position")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    department: str
    position: int
    def __init__(self, department: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class AckResponse(_message.Message):
    __slots__ = ("acked_position",)
    ACKED_POSITION_FIELD_NUMBER: _ClassVar[int]
    acked_position: int
    def __init__(self, acked_position: _Optional[int] = ...) -> None: ...

class GetTicketRequest(_message.Message):
    __slots__ = ("ticket_no",)
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    def __init__(self, ticket_no: _Optional[str] = ...) -> None: ...

class GetTicketResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class ListTicketsRequest(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: str
    def __init__(self, state: _Optional[str] = ...) -> None: ...

class ListTicketsResponse(_message.Message):
    __slots__ = ("tickets",)
    TICKETS_FIELD_NUMBER: _ClassVar[int]
    tickets: _containers.RepeatedCompositeFieldContainer[_common_pb2.TicketSummary]
    def __init__(self, tickets: _Optional[_Iterable[_Union[_common_pb2.TicketSummary, _Mapping]]] = ...) -> None: ...

class SignRequest(_message.Message):
    __slots__ = ("ticket_no", "operator")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    operator: str
    def __init__(self, ticket_no: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class SignResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class ReturnRequest(_message.Message):
    __slots__ = ("ticket_no", "reason", "operator")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    reason: str
    operator: str
    def __init__(self, ticket_no: _Optional[str] = ..., reason: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class ReturnResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class ReportPlanRequest(_message.Message):
    __slots__ = ("ticket_no", "eta", "note", "operator")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    eta: _timestamp_pb2.Timestamp
    note: str
    operator: str
    def __init__(self, ticket_no: _Optional[str] = ..., eta: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class ReportPlanResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class RequestExtensionRequest(_message.Message):
    __slots__ = ("ticket_no", "days", "reason", "operator")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    days: int
    reason: str
    operator: str
    def __init__(self, ticket_no: _Optional[str] = ..., days: _Optional[int] = ..., reason: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class RequestExtensionResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...

class ResolveRequest(_message.Message):
    __slots__ = ("ticket_no", "reply", "operator")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    reply: str
    operator: str
    def __init__(self, ticket_no: _Optional[str] = ..., reply: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class ResolveResponse(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: _common_pb2.Ticket
    def __init__(self, ticket: _Optional[_Union[_common_pb2.Ticket, _Mapping]] = ...) -> None: ...
