import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from adapters.grpc.gen.rexian.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReplayRequest(_message.Message):
    __slots__ = ("ticket_no", "as_of")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, ticket_no: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReplayResponse(_message.Message):
    __slots__ = ("entry",)
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    entry: HistoryEntry
    def __init__(self, entry: _Optional[_Union[HistoryEntry, _Mapping]] = ...) -> None: ...

class HistoryEntry(_message.Message):
    __slots__ = ("version", "type", "at", "actor", "details")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    version: int
    type: str
    at: _timestamp_pb2.Timestamp
    actor: _common_pb2.Actor
    details: _struct_pb2.Struct
    def __init__(self, version: _Optional[int] = ..., type: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class VerifyRequest(_message.Message):
    __slots__ = ("ticket_no",)
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    def __init__(self, ticket_no: _Optional[str] = ...) -> None: ...

class Problem(_message.Message):
    __slots__ = ("ticket_no", "version", "kind", "message")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    version: int
    kind: str
    message: str
    def __init__(self, ticket_no: _Optional[str] = ..., version: _Optional[int] = ..., kind: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class VerifyResponse(_message.Message):
    __slots__ = ("ok", "checked_orders", "checked_events", "problems", "unsealed_events", "ledger_head", "ledger_position")
    OK_FIELD_NUMBER: _ClassVar[int]
    CHECKED_ORDERS_FIELD_NUMBER: _ClassVar[int]
    CHECKED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    UNSEALED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    LEDGER_HEAD_FIELD_NUMBER: _ClassVar[int]
    LEDGER_POSITION_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    checked_orders: int
    checked_events: int
    problems: _containers.RepeatedCompositeFieldContainer[Problem]
    unsealed_events: int
    ledger_head: str
    ledger_position: int
    def __init__(self, ok: _Optional[bool] = ..., checked_orders: _Optional[int] = ..., checked_events: _Optional[int] = ..., problems: _Optional[_Iterable[_Union[Problem, _Mapping]]] = ..., unsealed_events: _Optional[int] = ..., ledger_head: _Optional[str] = ..., ledger_position: _Optional[int] = ...) -> None: ...
