from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetReportRequest(_message.Message):
    __slots__ = ("date_from", "date_to", "by")
    DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    DATE_TO_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    date_from: str
    date_to: str
    by: str
    def __init__(self, date_from: _Optional[str] = ..., date_to: _Optional[str] = ..., by: _Optional[str] = ...) -> None: ...

class KpiFigure(_message.Message):
    __slots__ = ("numerator", "denominator", "rate")
    NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    numerator: int
    denominator: int
    rate: float
    def __init__(self, numerator: _Optional[int] = ..., denominator: _Optional[int] = ..., rate: _Optional[float] = ...) -> None: ...

class ReportRow(_message.Message):
    __slots__ = ("group", "kpis")
    class KpisEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: KpiFigure
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[KpiFigure, _Mapping]] = ...) -> None: ...
    GROUP_FIELD_NUMBER: _ClassVar[int]
    KPIS_FIELD_NUMBER: _ClassVar[int]
    group: str
    kpis: _containers.MessageMap[str, KpiFigure]
    def __init__(self, group: _Optional[str] = ..., kpis: _Optional[_Mapping[str, KpiFigure]] = ...) -> None: ...

class GetReportResponse(_message.Message):
    __slots__ = ("date_from", "date_to", "by", "rows")
    DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    DATE_TO_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    date_from: str
    date_to: str
    by: str
    rows: _containers.RepeatedCompositeFieldContainer[ReportRow]
    def __init__(self, date_from: _Optional[str] = ..., date_to: _Optional[str] = ..., by: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[ReportRow, _Mapping]]] = ...) -> None: ...

class ListKpisRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Kpi(_message.Message):
    __slots__ = ("name", "label", "formula", "by_dept")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    FORMULA_FIELD_NUMBER: _ClassVar[int]
    BY_DEPT_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    formula: str
    by_dept: bool
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ..., formula: _Optional[str] = ..., by_dept: _Optional[bool] = ...) -> None: ...

class ListKpisResponse(_message.Message):
    __slots__ = ("kpis",)
    KPIS_FIELD_NUMBER: _ClassVar[int]
    kpis: _containers.RepeatedCompositeFieldContainer[Kpi]
    def __init__(self, kpis: _Optional[_Iterable[_Union[Kpi, _Mapping]]] = ...) -> None: ...
