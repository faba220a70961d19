"""Consumer of `rexian.telephony.events`: telephony/ASR reports become domain commands.

Records are Avro (`schemas/telephony_event.avsc`), keyed by ticket number. Each one is
turned into a `TelephonyReport` and handed to `adapters.telephony_reports.apply_report`,
the same code the gRPC TelephonyService uses. Idempotency is layered:

* the IdempotentConsumer skips report ids this consumer has already processed
  (`rexian_processed_events`, consumer `telephony`), and commits offsets only after
  processing;
* `apply_report` itself dedupes by report id (`rexian_processed_reports`), so a report
  that arrived over gRPC first, or one replayed after a crash between the command and
  the mark, changes nothing the second time.

Malformed records (undecodable Avro, missing ids, unknown kinds) are logged and skipped:
they would fail the same way on every retry.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.serializer import Deserializer

from adapters.kafka import TELEPHONY_TOPIC
from adapters.kafka.avro import decode, encode, telephony_schema
from adapters.kafka.idempotent import IdempotentConsumer, group_consumer
from adapters.telephony_reports import TelephonyReport, apply_report
from domain.errors import DomainError, InvalidInput

log = logging.getLogger(__name__)

CONSUMER_NAME = "telephony"
DEFAULT_GROUP = "rexian-telephony"


class _Malformed:
    def __init__(self, error: Exception) -> None:
        self.error = error


def deserialize(data: bytes | None) -> dict[str, Any] | _Malformed:
    """Never raises (a raising deserializer would wedge the consumer on a bad record)."""
    if data is None:
        return _Malformed(ValueError("record has no value"))
    try:
        return decode(telephony_schema(), data)
    except Exception as error:  # fastavro raises assorted errors on garbage
        return _Malformed(error)


class TelephonyDeserializer(Deserializer):  # type: ignore[misc]
    def deserialize(self, topic: str, headers: Any, data: bytes | None) -> Any:
        return deserialize(data)


def report_from(value: dict[str, Any]) -> TelephonyReport:
    at = value.get("at")
    return TelephonyReport(
        report_id=value["report_id"],
        ticket_no=value["ticket_no"],
        kind=value["kind"],
        outcome=value.get("outcome"),
        attempts_exhausted=bool(value.get("attempts_exhausted", False)),
        transcript=value.get("transcript"),
        intent=value.get("intent"),
        at=at if isinstance(at, datetime) else None,
        call_id=value.get("call_id") or "",
        purpose=value.get("purpose") or "",
        attempt=int(value.get("attempt") or 0),
        adapter=value.get("adapter") or "telephony",
    )


def encode_report(report: TelephonyReport) -> bytes:
    """The Avro value an adapter sends for `report` (used by tests and tools)."""
    return encode(telephony_schema(), {
        "report_id": report.report_id,
        "ticket_no": report.ticket_no,
        "kind": report.kind,
        "outcome": report.outcome,
        "attempts_exhausted": report.attempts_exhausted,
        "transcript": report.transcript,
        "intent": report.intent,
        "at": report.at or datetime.now(UTC),
        "call_id": report.call_id or None,
        "purpose": report.purpose,
        "attempt": report.attempt,
        "adapter": report.adapter,
    })


def report_id_of(record: ConsumerRecord) -> str:
    value = record.value
    if isinstance(value, dict) and value.get("report_id"):
        return f"report:{value['report_id']}"
    return f"malformed:{record.topic}/{record.partition}/{record.offset}"


class TelephonyConsumer:
    """Applies telephony reports to `engine`; run it with `.run(stop)` or `.poll_once()`."""

    def __init__(self, engine: Any, consumer: KafkaConsumer, *, name: str = CONSUMER_NAME,
                 retry_interval: float = 1.0) -> None:
        self.engine = engine
        self.applied = 0  # reports that changed something (new report ids)
        self.inner = IdempotentConsumer(
            consumer, engine.db, name, handler=self._handle, event_id_of=report_id_of,
            reject=(DomainError,), retry_interval=retry_interval)

    @classmethod
    def connect(cls, engine: Any, bootstrap: str, *, topic: str = TELEPHONY_TOPIC,
                group: str = DEFAULT_GROUP, **consumer_config: Any) -> TelephonyConsumer:
        consumer = group_consumer(bootstrap, topic, group, value_deserializer=TelephonyDeserializer(),
                                  **consumer_config)
        return cls(engine, consumer)

    def _handle(self, record: ConsumerRecord) -> None:
        value = record.value
        if isinstance(value, _Malformed):
            raise InvalidInput("value", f"无法解码的话务报告：{value.error}",
                               f"undecodable telephony record: {value.error}")
        report = report_from(value)
        if apply_report(self.engine, report):
            self.applied += 1

    @property
    def stats(self) -> Any:
        return self.inner.stats

    def poll_once(self, timeout_ms: int = 500) -> int:
        return self.inner.poll_once(timeout_ms=timeout_ms)

    def run(self, stop: Any, timeout_ms: int = 200) -> None:
        self.inner.run(stop, timeout_ms=timeout_ms)

    def close(self) -> None:
        self.inner.close()
