from google.protobuf import struct_pb2 as _struct_pb2
from adapters.grpc.gen.rexian.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImportNoticeRequest(_message.Message):
    __slots__ = ("text", "replace", "actor")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    text: str
    replace: bool
    actor: _common_pb2.Actor
    def __init__(self, text: _Optional[str] = ..., replace: _Optional[bool] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class ImportNoticeResponse(_message.Message):
    __slots__ = ("year", "action", "version", "title", "source_sha256", "festivals")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SHA256_FIELD_NUMBER: _ClassVar[int]
    FESTIVALS_FIELD_NUMBER: _ClassVar[int]
    year: int
    action: str
    version: int
    title: str
    source_sha256: str
    festivals: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    def __init__(self, year: _Optional[int] = ..., action: _Optional[str] = ..., version: _Optional[int] = ..., title: _Optional[str] = ..., source_sha256: _Optional[str] = ..., festivals: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ...) -> None: ...

class GetYearRequest(_message.Message):
    __slots__ = ("year",)
    YEAR_FIELD_NUMBER: _ClassVar[int]
    year: int
    def __init__(self, year: _Optional[int] = ...) -> None: ...

class GetYearResponse(_message.Message):
    __slots__ = ("year", "basis", "source", "version", "weekday_days_off", "working_weekends", "working_days", "sources")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WEEKDAY_DAYS_OFF_FIELD_NUMBER: _ClassVar[int]
    WORKING_WEEKENDS_FIELD_NUMBER: _ClassVar[int]
    WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    year: int
    basis: str
    source: str
    version: str
    weekday_days_off: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    working_weekends: _containers.RepeatedScalarFieldContainer[str]
    working_days: int
    sources: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    def __init__(self, year: _Optional[int] = ..., basis: _Optional[str] = ..., source: _Optional[str] = ..., version: _Optional[str] = ..., weekday_days_off: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., working_weekends: _Optional[_Iterable[str]] = ..., working_days: _Optional[int] = ..., sources: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ...) -> None: ...
