import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DialOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIAL_OUTCOME_UNSPECIFIED: _ClassVar[DialOutcome]
    DIAL_OUTCOME_ANSWERED: _ClassVar[DialOutcome]
    DIAL_OUTCOME_NO_ANSWER: _ClassVar[DialOutcome]
    DIAL_OUTCOME_BUSY: _ClassVar[DialOutcome]
    DIAL_OUTCOME_POWERED_OFF: _ClassVar[DialOutcome]
    DIAL_OUTCOME_NUMBER_INVALID: _ClassVar[DialOutcome]
    DIAL_OUTCOME_NUMBER_SUSPENDED: _ClassVar[DialOutcome]
    DIAL_OUTCOME_EXHAUSTED: _ClassVar[DialOutcome]
DIAL_OUTCOME_UNSPECIFIED: DialOutcome
DIAL_OUTCOME_ANSWERED: DialOutcome
DIAL_OUTCOME_NO_ANSWER: DialOutcome
DIAL_OUTCOME_BUSY: DialOutcome
DIAL_OUTCOME_POWERED_OFF: DialOutcome
DIAL_OUTCOME_NUMBER_INVALID: DialOutcome
DIAL_OUTCOME_NUMBER_SUSPENDED: DialOutcome
DIAL_OUTCOME_EXHAUSTED: DialOutcome

class Dial(_message.Message):
    __slots__ = ("outcome", "attempts_exhausted", "attempt", "purpose")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_EXHAUSTED_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    outcome: DialOutcome
    attempts_exhausted: bool
    attempt: int
    purpose: str
    def __init__(self, outcome: _Optional[_Union[DialOutcome, str]] = ..., attempts_exhausted: _Optional[bool] = ..., attempt: _Optional[int] = ..., purpose: _Optional[str] = ...) -> None: ...

class Transcript(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class Intent(_message.Message):
    __slots__ = ("intent", "confidence", "text")
    INTENT_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    intent: str
    confidence: float
    text: str
    def __init__(self, intent: _Optional[str] = ..., confidence: _Optional[float] = ..., text: _Optional[str] = ...) -> None: ...

class TelephonyReport(_message.Message):
    __slots__ = ("report_id", "ticket_no", "call_id", "adapter", "occurred_at", "dial", "transcript", "intent")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DIAL_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    ticket_no: str
    call_id: str
    adapter: str
    occurred_at: _timestamp_pb2.Timestamp
    dial: Dial
    transcript: Transcript
    intent: Intent
    def __init__(self, report_id: _Optional[str] = ..., ticket_no: _Optional[str] = ..., call_id: _Optional[str] = ..., adapter: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dial: _Optional[_Union[Dial, _Mapping]] = ..., transcript: _Optional[_Union[Transcript, _Mapping]] = ..., intent: _Optional[_Union[Intent, _Mapping]] = ...) -> None: ...

class ReportRequest(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: TelephonyReport
    def __init__(self, report: _Optional[_Union[TelephonyReport, _Mapping]] = ...) -> None: ...

class ReportResult(_message.Message):
    __slots__ = ("report_id", "duplicate", "action", "detail")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    duplicate: bool
    action: str
    detail: str
    def __init__(self, report_id: _Optional[str] = ..., duplicate: _Optional[bool] = ..., action: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class ReportResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ReportResult
    def __init__(self, result: _Optional[_Union[ReportResult, _Mapping]] = ...) -> None: ...

class ReportStreamRequest(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: TelephonyReport
    def __init__(self, report: _Optional[_Union[TelephonyReport, _Mapping]] = ...) -> None: ...

class ReportStreamResponse(_message.Message):
    __slots__ = ("received", "applied", "duplicates", "results")
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    received: int
    applied: int
    duplicates: int
    results: _containers.RepeatedCompositeFieldContainer[ReportResult]
    def __init__(self, received: _Optional[int] = ..., applied: _Optional[int] = ..., duplicates: _Optional[int] = ..., results: _Optional[_Iterable[_Union[ReportResult, _Mapping]]] = ...) -> None: ...
