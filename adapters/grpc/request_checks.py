"""Hostile requests stop at the door: a server interceptor checks every request message
before any servicer sees it.

grpc python deserializes a request before the handler runs; when the deserializer raises
(protobuf refuses a string field that is not valid UTF-8) the call ends with
`INTERNAL: Exception deserializing request!` and the handler never gets a say. The
interceptor wraps each method's deserializer: a request that cannot be decoded, or holds
text no front end may store (control characters, bidi controls; in identifiers also
invisible characters), or an instant out of range, becomes a `Refused` marker instead, and
the wrapped handler answers it with INVALID_ARGUMENT naming the field, bilingual, with the
usual `rexian-error-*` trailers. The same rules as the domain's (domain.values), so the CLI
and gRPC refuse the same input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from adapters.grpc.errors import status_of
from domain.errors import InvalidInput, shown
from domain.values import EARLIEST_INSTANT, LATEST_INSTANT, check_characters, require_instant

# String fields that hold prose (may span lines); every other string field is a name,
# number or code and must be one clean line.
FREE_TEXT_FIELDS = frozenset({
    "caller_name", "caller_phone", "comment", "content", "hotline", "note", "purpose",
    "reason", "reference", "region", "reply", "text",
})
_TIMESTAMP = "google.protobuf.Timestamp"
_STRING = FieldDescriptor.TYPE_STRING
_MESSAGE = FieldDescriptor.TYPE_MESSAGE


class Refused:
    """Stands in for a request that failed the checks (grpc treats None as a decode error)."""

    __slots__ = ("error",)

    def __init__(self, error: InvalidInput) -> None:
        self.error = error


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def undecodable_field(descriptor: Descriptor, data: bytes, prefix: str = ""
                      ) -> tuple[str, int, int] | None:
    """(field path, byte offset, byte) of the first string field that is not UTF-8.

    protobuf's DecodeError names no field, so walk the wire format ourselves: tags,
    varints, fixed widths and length-delimited chunks (strings checked, messages entered).
    """
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(data, pos)
            chunk, start = data[pos:pos + length], pos
            pos += length
            field = descriptor.fields_by_number.get(number)
            if field is None:
                continue
            name = prefix + field.name
            if field.type == _STRING:
                try:
                    chunk.decode("utf-8")
                except UnicodeDecodeError as error:
                    return name, start + error.start, chunk[error.start]
            elif field.type == _MESSAGE:
                found = undecodable_field(field.message_type, chunk, name + ".")
                if found:
                    return found
        else:  # groups (wire types 3/4) are not used by our contract
            return None
    return None


def _decode_error(message_class: Any, data: bytes) -> InvalidInput:
    found = None
    descriptor = getattr(message_class, "DESCRIPTOR", None)
    if isinstance(descriptor, Descriptor):
        try:
            found = undecodable_field(descriptor, data)
        except DecodeError:
            found = None
    if found:
        name, offset, byte = found
        return InvalidInput(
            name, f"字段“{name}”含有无效的 UTF-8 字节 0x{byte:02X}（请求第 {offset + 1} 字节）",
            f"{name} is not valid UTF-8 (invalid byte 0x{byte:02X} at request byte "
            f"{offset + 1})")
    return InvalidInput("request", "请求无法解码（不是有效的 protobuf 消息）",
                        "the request could not be decoded (not a valid protobuf message)")


def _check_instant(name: str, value: Message) -> None:
    seconds, nanos = value.seconds, value.nanos  # type: ignore[attr-defined]
    low, high = int(EARLIEST_INSTANT.timestamp()), int(LATEST_INSTANT.timestamp())
    if not (low <= seconds <= high and 0 <= nanos < 1_000_000_000):
        # Out of datetime's range as well: say so without converting it.
        raise InvalidInput(name, f"时间字段“{name}”超出范围（1900–2999 年）",
                           f"{name} is out of range (years 1900-2999)")
    require_instant(name, datetime.fromtimestamp(seconds, UTC))


def _check_value(field: FieldDescriptor, name: str, value: Any) -> None:
    if field.type == _STRING:
        check_characters(name, value, f"字段“{name}”",
                         identifier=field.name not in FREE_TEXT_FIELDS)
    elif field.type == _MESSAGE and field.message_type.full_name == _TIMESTAMP:
        _check_instant(name, value)
    elif field.type == _MESSAGE:
        check_message(value, name + ".")


def check_message(message: Message, prefix: str = "") -> None:
    """Every string and timestamp in the request, nested messages included."""
    for field, value in message.ListFields():
        name = prefix + field.name
        if field.type == _MESSAGE and field.message_type.GetOptions().map_entry:
            entry = field.message_type.fields_by_name
            for key, item in value.items():  # a map: check its keys and values
                _check_value(entry["key"], f"{name}.key", key)
                _check_value(entry["value"], f"{name}[{shown(key)}]", item)
        else:
            for item in value if field.is_repeated else [value]:
                _check_value(field, name, item)


def checked_deserializer(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    message_class = getattr(deserialize, "__self__", None)  # Message.FromString is bound

    def run(data: bytes) -> Any:
        try:
            message = deserialize(data)
        except DecodeError:
            return Refused(_decode_error(message_class, data))
        if isinstance(message, Message):
            try:
                check_message(message)
            except InvalidInput as error:
                return Refused(error)
        return message

    return run


def _refuse(context: grpc.ServicerContext, error: InvalidInput) -> None:
    code, details, metadata = status_of(error)
    context.set_trailing_metadata(metadata)
    context.abort(code, details)


def _requests(iterator: Iterator[Any]) -> Iterator[Any]:
    # Raised inside the servicer, which maps a DomainError to INVALID_ARGUMENT itself.
    for request in iterator:
        if isinstance(request, Refused):
            raise request.error
        yield request


def _guard_unary_unary(behavior: Callable[..., Any]) -> Callable[..., Any]:
    def run(request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, Refused):
            return _refuse(context, request.error)
        return behavior(request, context)

    return run


def _guard_unary_stream(behavior: Callable[..., Any]) -> Callable[..., Any]:
    def run(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        if isinstance(request, Refused):
            _refuse(context, request.error)
            return
        yield from behavior(request, context)

    return run


def _guard_stream_unary(behavior: Callable[..., Any]) -> Callable[..., Any]:
    def run(iterator: Iterator[Any], context: grpc.ServicerContext) -> Any:
        try:
            return behavior(_requests(iterator), context)
        except InvalidInput as error:  # a servicer without our error mapping
            return _refuse(context, error)

    return run


def _guard_stream_stream(behavior: Callable[..., Any]) -> Callable[..., Any]:
    def run(iterator: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from behavior(_requests(iterator), context)
        except InvalidInput as error:
            _refuse(context, error)

    return run


_GUARDS = {
    "unary_unary": _guard_unary_unary,
    "unary_stream": _guard_unary_stream,
    "stream_unary": _guard_stream_unary,
    "stream_stream": _guard_stream_stream,
}


class RequestGuard(grpc.ServerInterceptor):
    """Installs the checked deserializer and the matching guard on every method handler."""

    def intercept_service(self, continuation: Callable[[Any], Any],
                          handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        for kind, guard in _GUARDS.items():
            behavior = getattr(handler, kind)
            if behavior is not None:
                # RpcMethodHandler is a namedtuple: swap the two parts, keep the rest.
                return handler._replace(
                    request_deserializer=checked_deserializer(handler.request_deserializer),
                    **{kind: guard(behavior)})
        return handler
