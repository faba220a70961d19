import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Actor(_message.Message):
    __slots__ = ("role", "id")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    role: str
    id: str
    def __init__(self, role: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class Ticket(_message.Message):
    __slots__ = ("ticket_no", "state", "substate", "category", "urgency", "channel", "region", "content", "caller_name", "caller_phone", "department", "assist_departments", "reopen_count", "return_count", "returns", "supervision_orders", "extensions", "pending_extension", "reply", "callback", "flags", "merged_into", "duplicates", "transfer", "closing_reason", "created_at", "dispatched_at", "signed_at", "resolved_at", "closed_at", "dispatch_due_at", "sign_due_at", "due_at", "escalation_level", "plan", "version", "sla_state", "notices", "call_attempts", "handoffs", "deadline_basis", "caller_status", "caller_note", "revealed", "extra")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SUBSTATE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CALLER_NAME_FIELD_NUMBER: _ClassVar[int]
    CALLER_PHONE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ASSIST_DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    REOPEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    RETURN_COUNT_FIELD_NUMBER: _ClassVar[int]
    RETURNS_FIELD_NUMBER: _ClassVar[int]
    SUPERVISION_ORDERS_FIELD_NUMBER: _ClassVar[int]
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    PENDING_EXTENSION_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    CLOSING_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DISPATCHED_AT_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_DUE_AT_FIELD_NUMBER: _ClassVar[int]
    SIGN_DUE_AT_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SLA_STATE_FIELD_NUMBER: _ClassVar[int]
    NOTICES_FIELD_NUMBER: _ClassVar[int]
    CALL_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    HANDOFFS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_BASIS_FIELD_NUMBER: _ClassVar[int]
    CALLER_STATUS_FIELD_NUMBER: _ClassVar[int]
    CALLER_NOTE_FIELD_NUMBER: _ClassVar[int]
    REVEALED_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    state: str
    substate: str
    category: str
    urgency: str
    channel: str
    region: str
    content: str
    caller_name: str
    caller_phone: str
    department: str
    assist_departments: _containers.RepeatedScalarFieldContainer[str]
    reopen_count: int
    return_count: int
    returns: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    supervision_orders: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    extensions: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    pending_extension: _struct_pb2.Struct
    reply: str
    callback: _struct_pb2.Struct
    flags: _containers.RepeatedScalarFieldContainer[str]
    merged_into: str
    duplicates: _containers.RepeatedScalarFieldContainer[str]
    transfer: _struct_pb2.Struct
    closing_reason: str
    created_at: _timestamp_pb2.Timestamp
    dispatched_at: _timestamp_pb2.Timestamp
    signed_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    dispatch_due_at: _timestamp_pb2.Timestamp
    sign_due_at: _timestamp_pb2.Timestamp
    due_at: _timestamp_pb2.Timestamp
    escalation_level: int
    plan: _struct_pb2.Struct
    version: int
    sla_state: str
    notices: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    call_attempts: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    handoffs: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    deadline_basis: str
    caller_status: str
    caller_note: str
    revealed: bool
    extra: _struct_pb2.Struct
    def __init__(self, ticket_no: _Optional[str] = ..., state: _Optional[str] = ..., substate: _Optional[str] = ..., category: _Optional[str] = ..., urgency: _Optional[str] = ..., channel: _Optional[str] = ..., region: _Optional[str] = ..., content: _Optional[str] = ..., caller_name: _Optional[str] = ..., caller_phone: _Optional[str] = ..., department: _Optional[str] = ..., assist_departments: _Optional[_Iterable[str]] = ..., reopen_count: _Optional[int] = ..., return_count: _Optional[int] = ..., returns: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., supervision_orders: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., extensions: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., pending_extension: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., reply: _Optional[str] = ..., callback: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., flags: _Optional[_Iterable[str]] = ..., merged_into: _Optional[str] = ..., duplicates: _Optional[_Iterable[str]] = ..., transfer: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., closing_reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dispatched_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dispatch_due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sign_due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., escalation_level: _Optional[int] = ..., plan: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., version: _Optional[int] = ..., sla_state: _Optional[str] = ..., notices: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., call_attempts: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., handoffs: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., deadline_basis: _Optional[str] = ..., caller_status: _Optional[str] = ..., caller_note: _Optional[str] = ..., revealed: _Optional[bool] = ..., extra: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class TicketSummary(_message.Message):
    __slots__ = ("ticket_no", "state", "substate", "category", "urgency", "region", "department", "assist_departments", "created_at", "updated_at")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SUBSTATE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ASSIST_DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    state: str
    substate: str
    category: str
    urgency: str
    region: str
    department: str
    assist_departments: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, ticket_no: _Optional[str] = ..., state: _Optional[str] = ..., substate: _Optional[str] = ..., category: _Optional[str] = ..., urgency: _Optional[str] = ..., region: _Optional[str] = ..., department: _Optional[str] = ..., assist_departments: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
