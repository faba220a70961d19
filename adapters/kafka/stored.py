"""A stored event's state as the relay publishes it, read straight from the stored bytes.

The relay used to rebuild each domain event (the mapper: JSON with an object hook that
turns every `{"_type_", "_data_"}` pair back into a UUID, datetime or Decimal, then an
event object) only to write its fields out as JSON again. `StoredStates.decode` parses
the stored JSON once, with the plain C decoder, and puts in place of each transcoded
value what `adapters.kafka.avro.payload_json` writes for it (the transcoding's decoded
object passed through the payload's JSON default: str(uuid), isoformat(), str(decimal)),
so `state_payload_json(decoded)` is the same text as `payload_json(event)`. The
timestamp (bookkeeping, never in the payload) is decoded to its datetime for the
envelope's occurred_at.

Anything this shortcut does not reproduce exactly — a transcoder other than
eventsourcing's JSONTranscoder, an event class that upcasts (class_version), a
transcoded value whose data is not a plain string, a decoded type the payload's JSON
default does not know — raises NeedsMapper, and the caller falls back to the mapper.
"""

from __future__ import annotations

from datetime import datetime
from json import JSONDecoder
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Mapper, Transcoding

from adapters.kafka.avro import payload_default

# The C scanner json.loads ends in, without its Python frames and whitespace regexes
# (the transcoder writes no whitespace outside strings; anything else goes to the mapper).
_SCAN = JSONDecoder().scan_once  # type: ignore[attr-defined]
_TYPE_KEY = b'"_type_"'


class NeedsMapper(Exception):
    """This stored event must go through the mapper (see the module docstring)."""


class StoredStates:
    """Decodes stored event states for `mapper`'s store (see the module docstring)."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        transcoder = mapper.transcoder
        # A subclass may decode differently: only the library's own class is mirrored.
        self.usable = type(transcoder) is JSONTranscoder
        self._names: dict[str, Transcoding] = (
            transcoder.names if isinstance(transcoder, JSONTranscoder) else {})
        self._cipher = mapper.cipher
        self._compressor = mapper.compressor

    def decode(self, data: bytes) -> dict[str, Any]:
        """The state with plain payload values and the timestamp as a datetime."""
        if not self.usable:
            raise NeedsMapper("transcoder")
        if self._cipher:
            data = self._cipher.decrypt(data)
        if self._compressor:
            data = self._compressor.decompress(data)
        text = data.decode("utf8")
        try:
            state, end = _SCAN(text, 0)
        except StopIteration:
            raise NeedsMapper("state") from None
        if end != len(text) or type(state) is not dict or "class_version" in state:
            raise NeedsMapper("state")
        state["timestamp"] = self._timestamp(state.get("timestamp"))
        # Transcoded values are objects with a "_type_" key; inside a JSON string the
        # quotes would be escaped, so this counts objects only. Usually the timestamp's is
        # the only one and every other value is already as the payload writes it.
        if data.count(_TYPE_KEY) > 1:
            plain = self._plain
            for key, value in state.items():
                kind = type(value)
                if kind is dict or kind is list:
                    state[key] = plain(value)
        return state

    def _timestamp(self, value: Any) -> datetime:
        """The event's timestamp decoded as the mapper decodes it."""
        if type(value) is dict and len(value) == 2:
            name, data = value.get("_type_"), value.get("_data_")
            transcoding = self._names.get(name) if isinstance(name, str) else None
            if transcoding is not None and type(data) is str:
                decoded = transcoding.decode(data)
                if type(decoded) is datetime:
                    return decoded
        raise NeedsMapper("timestamp")

    def _plain(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._transcoded(value["_type_"], value["_data_"])
            return {k: self._plain(v) for k, v in value.items()}
        if kind is list:
            return [self._plain(v) for v in value]
        return value

    def _transcoded(self, name: Any, data: Any) -> Any:
        transcoding = self._names.get(name) if isinstance(name, str) else None
        if transcoding is None or type(data) is not str:
            raise NeedsMapper(f"transcoded {name!r}")
        try:
            return payload_default(transcoding.decode(data))
        except TypeError:
            raise NeedsMapper(f"transcoded {name!r}") from None
