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

class CampaignProgress(_message.Message):
    __slots__ = ("campaign_id", "kind", "name", "state", "contacts", "dialled", "contacts_dialled", "connected", "connect_rate", "completed", "in_progress", "waiting", "pending_retries", "flags", "outcomes", "answers", "start_at", "reached", "answered", "heard", "handed_off", "dept")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    DIALLED_FIELD_NUMBER: _ClassVar[int]
    CONTACTS_DIALLED_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    CONNECT_RATE_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    PENDING_RETRIES_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    START_AT_FIELD_NUMBER: _ClassVar[int]
    REACHED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    HEARD_FIELD_NUMBER: _ClassVar[int]
    HANDED_OFF_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    kind: str
    name: str
    state: str
    contacts: int
    dialled: int
    contacts_dialled: int
    connected: int
    connect_rate: float
    completed: int
    in_progress: int
    waiting: int
    pending_retries: int
    flags: _struct_pb2.Struct
    outcomes: _struct_pb2.Struct
    answers: _struct_pb2.Struct
    start_at: _timestamp_pb2.Timestamp
    reached: int
    answered: int
    heard: int
    handed_off: int
    dept: str
    def __init__(self, campaign_id: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[str] = ..., contacts: _Optional[int] = ..., dialled: _Optional[int] = ..., contacts_dialled: _Optional[int] = ..., connected: _Optional[int] = ..., connect_rate: _Optional[float] = ..., completed: _Optional[int] = ..., in_progress: _Optional[int] = ..., waiting: _Optional[int] = ..., pending_retries: _Optional[int] = ..., flags: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., outcomes: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., answers: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., start_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reached: _Optional[int] = ..., answered: _Optional[int] = ..., heard: _Optional[int] = ..., handed_off: _Optional[int] = ..., dept: _Optional[str] = ...) -> None: ...

class CreateCampaignRequest(_message.Message):
    __slots__ = ("kind", "name", "message", "script_name", "script_content", "start", "window", "lines", "per_minute", "max_retries", "no_answer_retry_min", "busy_retry_min", "off_retry_min", "allow_rest_days", "actor", "dept", "sms")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_NAME_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_CONTENT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    NO_ANSWER_RETRY_MIN_FIELD_NUMBER: _ClassVar[int]
    BUSY_RETRY_MIN_FIELD_NUMBER: _ClassVar[int]
    OFF_RETRY_MIN_FIELD_NUMBER: _ClassVar[int]
    ALLOW_REST_DAYS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    SMS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    message: str
    script_name: str
    script_content: bytes
    start: _timestamp_pb2.Timestamp
    window: _containers.RepeatedScalarFieldContainer[str]
    lines: int
    per_minute: int
    max_retries: int
    no_answer_retry_min: int
    busy_retry_min: int
    off_retry_min: int
    allow_rest_days: bool
    actor: _common_pb2.Actor
    dept: str
    sms: str
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ..., message: _Optional[str] = ..., script_name: _Optional[str] = ..., script_content: _Optional[bytes] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window: _Optional[_Iterable[str]] = ..., lines: _Optional[int] = ..., per_minute: _Optional[int] = ..., max_retries: _Optional[int] = ..., no_answer_retry_min: _Optional[int] = ..., busy_retry_min: _Optional[int] = ..., off_retry_min: _Optional[int] = ..., allow_rest_days: _Optional[bool] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., dept: _Optional[str] = ..., sms: _Optional[str] = ...) -> None: ...

class CreateCampaignResponse(_message.Message):
    __slots__ = ("campaign_id",)
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    def __init__(self, campaign_id: _Optional[str] = ...) -> None: ...

class ImportContactsRequest(_message.Message):
    __slots__ = ("campaign_id", "file_name", "file_content", "skip_invalid", "actor")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_CONTENT_FIELD_NUMBER: _ClassVar[int]
    SKIP_INVALID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    file_name: str
    file_content: bytes
    skip_invalid: bool
    actor: _common_pb2.Actor
    def __init__(self, campaign_id: _Optional[str] = ..., file_name: _Optional[str] = ..., file_content: _Optional[bytes] = ..., skip_invalid: _Optional[bool] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class RejectedRow(_message.Message):
    __slots__ = ("row", "reason")
    ROW_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    row: int
    reason: str
    def __init__(self, row: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class ImportContactsResponse(_message.Message):
    __slots__ = ("campaign_id", "imported", "rejected")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    imported: int
    rejected: _containers.RepeatedCompositeFieldContainer[RejectedRow]
    def __init__(self, campaign_id: _Optional[str] = ..., imported: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[RejectedRow, _Mapping]]] = ...) -> None: ...

class StartCampaignRequest(_message.Message):
    __slots__ = ("campaign_id", "actor")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    actor: _common_pb2.Actor
    def __init__(self, campaign_id: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class StartCampaignResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: CampaignProgress
    def __init__(self, progress: _Optional[_Union[CampaignProgress, _Mapping]] = ...) -> None: ...

class PauseCampaignRequest(_message.Message):
    __slots__ = ("campaign_id", "reason", "actor")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, campaign_id: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class PauseCampaignResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: CampaignProgress
    def __init__(self, progress: _Optional[_Union[CampaignProgress, _Mapping]] = ...) -> None: ...

class ResumeCampaignRequest(_message.Message):
    __slots__ = ("campaign_id", "actor")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    actor: _common_pb2.Actor
    def __init__(self, campaign_id: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class ResumeCampaignResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: CampaignProgress
    def __init__(self, progress: _Optional[_Union[CampaignProgress, _Mapping]] = ...) -> None: ...

class CancelCampaignRequest(_message.Message):
    __slots__ = ("campaign_id", "reason", "actor")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, campaign_id: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class CancelCampaignResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: CampaignProgress
    def __init__(self, progress: _Optional[_Union[CampaignProgress, _Mapping]] = ...) -> None: ...

class GetCampaignStatusRequest(_message.Message):
    __slots__ = ("campaign_id", "actor")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    actor: _common_pb2.Actor
    def __init__(self, campaign_id: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class GetCampaignStatusResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: CampaignProgress
    def __init__(self, progress: _Optional[_Union[CampaignProgress, _Mapping]] = ...) -> None: ...

class ExportCampaignRequest(_message.Message):
    __slots__ = ("campaign_id", "file_name", "actor", "reveal", "reason")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REVEAL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    file_name: str
    actor: _common_pb2.Actor
    reveal: bool
    reason: str
    def __init__(self, campaign_id: _Optional[str] = ..., file_name: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ..., reveal: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class ExportCampaignResponse(_message.Message):
    __slots__ = ("campaign_id", "exported", "content", "revealed")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    EXPORTED_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REVEALED_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    exported: int
    content: bytes
    revealed: bool
    def __init__(self, campaign_id: _Optional[str] = ..., exported: _Optional[int] = ..., content: _Optional[bytes] = ..., revealed: _Optional[bool] = ...) -> None: ...

class BlockNumberRequest(_message.Message):
    __slots__ = ("phone", "reason", "actor")
    PHONE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    phone: str
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, phone: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class BlockNumberResponse(_message.Message):
    __slots__ = ("phone", "added")
    PHONE_FIELD_NUMBER: _ClassVar[int]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    phone: str
    added: bool
    def __init__(self, phone: _Optional[str] = ..., added: _Optional[bool] = ...) -> None: ...

class ListCampaignFlagsRequest(_message.Message):
    __slots__ = ("campaign_id", "csv_name", "reveal", "reason", "actor")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    CSV_NAME_FIELD_NUMBER: _ClassVar[int]
    REVEAL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    csv_name: str
    reveal: bool
    reason: str
    actor: _common_pb2.Actor
    def __init__(self, campaign_id: _Optional[str] = ..., csv_name: _Optional[str] = ..., reveal: _Optional[bool] = ..., reason: _Optional[str] = ..., actor: _Optional[_Union[_common_pb2.Actor, _Mapping]] = ...) -> None: ...

class FlaggedNumber(_message.Message):
    __slots__ = ("number", "contact_id", "name", "phone", "flag", "attempts", "detail", "flagged_at", "reason")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    number: int
    contact_id: str
    name: str
    phone: str
    flag: str
    attempts: int
    detail: str
    flagged_at: str
    reason: str
    def __init__(self, number: _Optional[int] = ..., contact_id: _Optional[str] = ..., name: _Optional[str] = ..., phone: _Optional[str] = ..., flag: _Optional[str] = ..., attempts: _Optional[int] = ..., detail: _Optional[str] = ..., flagged_at: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListCampaignFlagsResponse(_message.Message):
    __slots__ = ("campaign_id", "name", "state", "flags", "numbers", "revealed", "exported", "content", "dept")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    NUMBERS_FIELD_NUMBER: _ClassVar[int]
    REVEALED_FIELD_NUMBER: _ClassVar[int]
    EXPORTED_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DEPT_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    name: str
    state: str
    flags: _struct_pb2.Struct
    numbers: _containers.RepeatedCompositeFieldContainer[FlaggedNumber]
    revealed: bool
    exported: int
    content: bytes
    dept: str
    def __init__(self, campaign_id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[str] = ..., flags: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., numbers: _Optional[_Iterable[_Union[FlaggedNumber, _Mapping]]] = ..., revealed: _Optional[bool] = ..., exported: _Optional[int] = ..., content: _Optional[bytes] = ..., dept: _Optional[str] = ...) -> None: ...

class WatchCampaignRequest(_message.Message):
    __slots__ = ("campaign_id",)
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    def __init__(self, campaign_id: _Optional[str] = ...) -> None: ...

class WatchCampaignResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: CampaignProgress
    def __init__(self, progress: _Optional[_Union[CampaignProgress, _Mapping]] = ...) -> None: ...
