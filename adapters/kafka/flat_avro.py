"""Schemaless Avro for flat records, without fastavro's per-call overhead.

fastavro's `schemaless_writer` costs ~3 us per call before it writes a byte (schema
lookup, an encoder object, a buffer) plus ~0.7 us per field; the relay writes one small
record per event. `record_writer(schema)` compiles a parsed schema whose fields are all
strings, longs/ints (timestamp logical types included, converted by fastavro's own
logical writers) or unions of null and one of those into one function per field, and
joins their bytes: the Avro binary encoding (zig-zag varints, length-prefixed UTF-8,
union branch index), byte for byte what fastavro writes (tests/test_kafka_schemas.py
compares them). Any other schema gets fastavro itself; a record the compiled writer
cannot take as it is (a missing field, a value of another type) goes to fastavro too,
which writes or rejects it as it always did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastavro._logical_writers import LOGICAL_WRITERS

from adapters.kafka.avro import encode

_SMALL = [bytes([z]) for z in range(128)]  # one-byte varints


def _long(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)  # zig-zag
    if z < 0x80:
        return _SMALL[z]
    if z >> 64:
        raise ValueError(f"{n} does not fit an Avro long")
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def _int(n: int) -> bytes:
    if not -0x80000000 <= n <= 0x7FFFFFFF:
        raise ValueError(f"{n} does not fit an Avro int")
    return _long(n)


def _string(text: str) -> bytes:
    data = text.encode()
    size = len(data)
    return (_SMALL[size << 1] if size < 64 else _long(size)) + data


def _field_writer(kind: Any) -> Callable[[Any], bytes] | None:
    # A value of another type fails inside (str has .encode, int has <<): fastavro then.
    if kind == "string":
        return _string
    if kind == "long":
        return _long
    if kind == "int":
        return _int
    if isinstance(kind, dict) and kind.get("type") == "long" and set(kind) == {
            "type", "logicalType"}:
        prepare = LOGICAL_WRITERS.get(f"long-{kind['logicalType']}")
        if prepare is None:
            return None

        def logical(value: Any) -> bytes:
            return _long(prepare(value, kind))
        return logical
    if isinstance(kind, list) and len(kind) == 2 and kind[0] == "null" and isinstance(
            kind[1], str):
        branch, inner = kind[1], _field_writer(kind[1])
        if inner is None:
            return None

        def optional(value: Any) -> bytes:
            if value is None:
                return b"\x00"
            if type(value) is tuple:  # fastavro's tuple notation: (branch name, value)
                if value[0] != branch:
                    raise TypeError(value)
                value = value[1]
            return b"\x02" + inner(value)
        return optional
    return None


def record_writer(schema: Any) -> Callable[[dict[str, Any]], bytes]:
    """A function writing records of the parsed `schema` as schemaless Avro."""
    def with_fastavro(record: dict[str, Any]) -> bytes:
        return encode(schema, record)

    if not isinstance(schema, dict) or schema.get("type") != "record":
        return with_fastavro
    fields: list[tuple[str, Callable[[Any], bytes]]] = []
    for field in schema["fields"]:
        writer = _field_writer(field["type"])
        if writer is None:
            return with_fastavro
        fields.append((field["name"], writer))

    def write(record: dict[str, Any]) -> bytes:
        try:
            return b"".join([writer(record[name]) for name, writer in fields])
        except (KeyError, AttributeError, TypeError, ValueError, UnicodeError):
            return encode(schema, record)
    return write
