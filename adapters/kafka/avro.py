"""Avro encoding of the Kafka record types, with the schemas kept in `schemas/*.avsc`.

Values are schemaless Avro (no container header, no registry): producer and consumer
agree on the writer schema by its full name and version (the `schema` header). A reader
that holds a different version resolves with `decode(..., reader_schema=...)`.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from domain.views import PERSONAL_FIELDS

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
WORKORDER_SCHEMA_FILE = "workorder_event.avsc"
TELEPHONY_SCHEMA_FILE = "telephony_event.avsc"
ENVELOPE_VERSION = 1

# Namespace for deterministic event ids: uuid5(EVENT_NAMESPACE, "<originator_id>:<version>").
EVENT_NAMESPACE = uuid.UUID("3b0c2f4e-8a51-4d8e-b7a4-72657869616b")

# Fields every stored event has that the envelope carries itself (or that are internal).
_BOOKKEEPING = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp",
                          "actor_role", "actor_id"})
# Personal data never leaves the engine (domain.views.PERSONAL_FIELDS: the vault tokens
# and the pseudonymous citizen id).
_EXCLUDED = _BOOKKEEPING | PERSONAL_FIELDS


def raw_schema(filename: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / filename).read_text(encoding="utf-8"))
    return loaded


@cache
def _parsed(filename: str) -> Any:
    return parse_schema(raw_schema(filename))


def parsed_schema(filename: str) -> Any:
    """The parsed schema of `schemas/<filename>` (read once)."""
    return _parsed(filename)


def workorder_schema() -> Any:
    return _parsed(WORKORDER_SCHEMA_FILE)


def telephony_schema() -> Any:
    return _parsed(TELEPHONY_SCHEMA_FILE)


def schema_header(filename: str = WORKORDER_SCHEMA_FILE) -> bytes:
    raw = raw_schema(filename)
    return f"{raw['namespace']}.{raw['name']}".encode()


def encode(schema: Any, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    schemaless_writer(buffer, schema, record)
    return buffer.getvalue()


def decode(schema: Any, data: bytes, reader_schema: Any = None) -> dict[str, Any]:
    """Decode bytes written with `schema`; with `reader_schema`, resolve to that shape."""
    value = schemaless_reader(io.BytesIO(data), schema, reader_schema)
    assert isinstance(value, dict)
    return value


def event_id(originator_id: uuid.UUID | str, version: int) -> uuid.UUID:
    return uuid.uuid5(EVENT_NAMESPACE, f"{originator_id}:{version}")


def payload_default(value: Any) -> Any:
    """How a payload value JSON does not know is written (the payload encoder's default)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot put {type(value).__name__} into an event payload")


_PAYLOAD_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                                    default=payload_default)


def payload_json(event: Any, leave_out: frozenset[str] = frozenset()) -> str:
    """The event's own fields as compact JSON (in the event's field order), without
    bookkeeping or personal data (nor the fields in `leave_out`)."""
    return state_payload_json(event.__dict__, leave_out)


def state_payload_json(state: dict[str, Any], leave_out: frozenset[str] = frozenset()) -> str:
    """payload_json of an event's state: its __dict__, or the stored state as plain JSON
    values (adapters.kafka.stored), which gives the same text."""
    excluded = _EXCLUDED | leave_out if leave_out else _EXCLUDED
    return _PAYLOAD_ENCODER.encode({k: v for k, v in state.items() if k not in excluded})


_HEX = "0123456789abcdef"
# The RFC 4122 variant bits (10xx) set on a hex digit.
_VARIANT = {digit: _HEX[(int(digit, 16) & 3) | 8] for digit in _HEX}


def event_id_text(originator_id: str, version: int) -> str:
    """str(event_id(...)) without building UUID objects (the relay's hot path): the
    SHA-1 of namespace + name, with the version (5) and RFC 4122 variant bits set."""
    h = hashlib.sha1(EVENT_NAMESPACE.bytes + f"{originator_id}:{version}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def envelope(event: Any, position: int, ticket_no: str | None,
             leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The Avro envelope (WorkOrderEvent) for a decoded domain event at `position`
    (`leave_out`: payload fields not published, see payload_json)."""
    state = event.__dict__
    return state_envelope(state, type(event).__name__, str(state["originator_id"]),
                          state["originator_version"], state["timestamp"], position,
                          ticket_no, leave_out)


def state_envelope(state: dict[str, Any], event_type: str, originator_id: str, version: int,
                   occurred_at: datetime, position: int, ticket_no: str | None,
                   leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The envelope from an event's state (see state_payload_json) and its bookkeeping.

    `ticket_no` uses fastavro's tuple notation for the union branch (cheaper than
    letting fastavro try each branch); readers get a plain str or None.
    """
    return {
        "event_id": event_id_text(originator_id, version),
        "event_type": event_type,
        "ticket_no": ("string", ticket_no) if ticket_no is not None else None,
        "originator_id": originator_id,
        "version": version,
        "position": position,
        "occurred_at": occurred_at,
        "actor_role": state.get("actor_role") or "",
        "actor_id": state.get("actor_id") or "",
        "payload_json": state_payload_json(state, leave_out),
        "schema_version": ENVELOPE_VERSION,
    }
