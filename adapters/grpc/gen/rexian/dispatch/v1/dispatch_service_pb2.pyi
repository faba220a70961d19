from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SuggestRequest(_message.Message):
    __slots__ = ("content", "category", "region")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    content: str
    category: str
    region: str
    def __init__(self, content: _Optional[str] = ..., category: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class SuggestForOrderRequest(_message.Message):
    __slots__ = ("ticket_no",)
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    def __init__(self, ticket_no: _Optional[str] = ...) -> None: ...

class Suggestion(_message.Message):
    __slots__ = ("dept", "score", "reason", "assist", "item")
    DEPT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ASSIST_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    dept: str
    score: float
    reason: str
    assist: _containers.RepeatedScalarFieldContainer[str]
    item: str
    def __init__(self, dept: _Optional[str] = ..., score: _Optional[float] = ..., reason: _Optional[str] = ..., assist: _Optional[_Iterable[str]] = ..., item: _Optional[str] = ...) -> None: ...

class SuggestResponse(_message.Message):
    __slots__ = ("suggestions",)
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    suggestions: _containers.RepeatedCompositeFieldContainer[Suggestion]
    def __init__(self, suggestions: _Optional[_Iterable[_Union[Suggestion, _Mapping]]] = ...) -> None: ...

class SuggestForOrderResponse(_message.Message):
    __slots__ = ("ticket_no", "suggestions")
    TICKET_NO_FIELD_NUMBER: _ClassVar[int]
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    ticket_no: str
    suggestions: _containers.RepeatedCompositeFieldContainer[Suggestion]
    def __init__(self, ticket_no: _Optional[str] = ..., suggestions: _Optional[_Iterable[_Union[Suggestion, _Mapping]]] = ...) -> None: ...

class TrainRequest(_message.Message):
    __slots__ = ("incremental",)
    INCREMENTAL_FIELD_NUMBER: _ClassVar[int]
    incremental: bool
    def __init__(self, incremental: _Optional[bool] = ...) -> None: ...

class TrainResponse(_message.Message):
    __slots__ = ("model", "orders", "new_orders", "incremental", "trained_at", "trained_by", "seconds")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEW_ORDERS_FIELD_NUMBER: _ClassVar[int]
    INCREMENTAL_FIELD_NUMBER: _ClassVar[int]
    TRAINED_AT_FIELD_NUMBER: _ClassVar[int]
    TRAINED_BY_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    model: int
    orders: int
    new_orders: int
    incremental: bool
    trained_at: str
    trained_by: str
    seconds: float
    def __init__(self, model: _Optional[int] = ..., orders: _Optional[int] = ..., new_orders: _Optional[int] = ..., incremental: _Optional[bool] = ..., trained_at: _Optional[str] = ..., trained_by: _Optional[str] = ..., seconds: _Optional[float] = ...) -> None: ...

class ImportCatalogueRequest(_message.Message):
    __slots__ = ("file_name", "content")
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    content: bytes
    def __init__(self, file_name: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class ImportCatalogueResponse(_message.Message):
    __slots__ = ("action", "summary")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    action: str
    summary: CatalogueSummary
    def __init__(self, action: _Optional[str] = ..., summary: _Optional[_Union[CatalogueSummary, _Mapping]] = ...) -> None: ...

class CatalogueSummary(_message.Message):
    __slots__ = ("version", "items", "source", "sha256", "imported_at", "imported_by")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_AT_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_BY_FIELD_NUMBER: _ClassVar[int]
    version: int
    items: int
    source: str
    sha256: str
    imported_at: str
    imported_by: str
    def __init__(self, version: _Optional[int] = ..., items: _Optional[int] = ..., source: _Optional[str] = ..., sha256: _Optional[str] = ..., imported_at: _Optional[str] = ..., imported_by: _Optional[str] = ...) -> None: ...

class ListCatalogueRequest(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class CatalogueItem(_message.Message):
    __slots__ = ("code", "category", "item", "region", "lead", "assisting", "keywords", "basis")
    CODE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    LEAD_FIELD_NUMBER: _ClassVar[int]
    ASSISTING_FIELD_NUMBER: _ClassVar[int]
    KEYWORDS_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    code: str
    category: str
    item: str
    region: str
    lead: str
    assisting: _containers.RepeatedScalarFieldContainer[str]
    keywords: _containers.RepeatedScalarFieldContainer[str]
    basis: str
    def __init__(self, code: _Optional[str] = ..., category: _Optional[str] = ..., item: _Optional[str] = ..., region: _Optional[str] = ..., lead: _Optional[str] = ..., assisting: _Optional[_Iterable[str]] = ..., keywords: _Optional[_Iterable[str]] = ..., basis: _Optional[str] = ...) -> None: ...

class ListCatalogueResponse(_message.Message):
    __slots__ = ("summary", "items")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    summary: CatalogueSummary
    items: _containers.RepeatedCompositeFieldContainer[CatalogueItem]
    def __init__(self, summary: _Optional[_Union[CatalogueSummary, _Mapping]] = ..., items: _Optional[_Iterable[_Union[CatalogueItem, _Mapping]]] = ...) -> None: ...
