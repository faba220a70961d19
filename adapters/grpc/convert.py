"""Plain JSON-ready dicts (the service's views) <-> protobuf messages, driven by descriptors.

A view key maps to the message field of the same name; instants travel as
google.protobuf.Timestamp (parsed from / printed back to ISO 8601), JSON objects as
google.protobuf.Struct, and keys the message does not name go to its `extra` Struct.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from typing import Any

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from domain.views import SHANGHAI, iso

_TIMESTAMP = Timestamp.DESCRIPTOR.full_name
_STRUCT = Struct.DESCRIPTOR.full_name
EXTRA = "extra"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def jsonable(value: Any) -> Any:
    """Anything the views hold, as plain JSON types (datetimes in ISO 8601)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value) if value.tzinfo else value.isoformat()
    return str(value)


def to_timestamp(value: datetime | str) -> Timestamp:
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=SHANGHAI)
    # What Timestamp.FromDatetime computes (whole seconds since the epoch, rounded down,
    # and the microseconds as nanos), without its struct_time round trip.
    delta = instant.astimezone(UTC) - _EPOCH
    return Timestamp(seconds=delta.days * 86400 + delta.seconds,
                     nanos=delta.microseconds * 1000)


def from_timestamp(ts: Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


def struct_of(value: dict[str, Any]) -> Struct:
    s = Struct()
    s.update(jsonable(value))
    return s


def _whole(value: Any) -> Any:
    """Struct numbers are doubles: give whole numbers back as ints (3.0 -> 3)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return value


def dict_of(s: Struct) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict

    result: dict[str, Any] = _whole(MessageToDict(s))
    return result


# A message type's fields as (name, message type's full name or None, repeated), and the
# set of their names: read once per type (descriptor attributes cost more than the copy).
_Plan = tuple[tuple[tuple[str, str | None, bool], ...], frozenset[str]]
_PLANS: dict[str, _Plan] = {}


def _plan(descriptor: Descriptor) -> _Plan:
    plan = _PLANS.get(descriptor.full_name)
    if plan is None:
        fields = tuple((f.name, f.message_type.full_name if f.message_type else None,
                        f.is_repeated) for f in descriptor.fields)
        plan = _PLANS[descriptor.full_name] = (fields, frozenset(f[0] for f in fields))
    return plan


def fill(message: Message, data: dict[str, Any]) -> Message:
    """Set `message`'s fields from `data` (None leaves a field unset)."""
    fields, names = _plan(message.DESCRIPTOR)
    for name, kind, repeated in fields:
        if name == EXTRA:
            continue
        value = data.get(name)
        if value is None:
            continue
        if repeated:
            target = getattr(message, name)
            if kind == _STRUCT:
                for item in value:
                    target.add().update(jsonable(item))
            elif kind == _TIMESTAMP:
                for item in value:
                    target.add().CopyFrom(to_timestamp(item))
            else:
                target.extend(value)
        elif kind == _TIMESTAMP:
            getattr(message, name).CopyFrom(to_timestamp(value))
        elif kind == _STRUCT:
            getattr(message, name).update(jsonable(value))
        elif kind is not None:
            raise TypeError(f"fill: nested message field {name} needs explicit handling")
        else:
            setattr(message, name, value)
    if EXTRA in names:
        extra = {k: v for k, v in data.items() if k not in names}
        if extra:
            getattr(message, EXTRA).update(jsonable(extra))
    return message


def read(message: Message, tz: tzinfo = SHANGHAI) -> dict[str, Any]:
    """The dict `fill` was given (instants printed in `tz`); unset optional fields -> None."""
    result: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        kind = field.message_type.full_name if field.message_type else None
        value = getattr(message, field.name)
        if field.name == EXTRA and kind == _STRUCT:
            result.update(dict_of(value))
            continue
        if field.is_repeated:
            if kind == _STRUCT:
                result[field.name] = [dict_of(v) for v in value]
            elif kind == _TIMESTAMP:
                result[field.name] = [from_timestamp(v).astimezone(tz).isoformat() for v in value]
            else:
                result[field.name] = list(value)
        elif field.has_presence and not message.HasField(field.name):
            result[field.name] = None
        elif kind == _TIMESTAMP:
            result[field.name] = from_timestamp(value).astimezone(tz).isoformat()
        elif kind == _STRUCT:
            result[field.name] = dict_of(value)
        else:
            result[field.name] = value
    return result
