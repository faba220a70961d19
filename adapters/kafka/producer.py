"""The relay's Kafka producer: confluent-kafka (librdkafka), behind a small interface.

kafka-python's `send()` costs ~70 us of Python per record here (accumulator, record
builder, a future per record); librdkafka builds the batches, compresses, retries and
talks to the broker in its own C threads, and `produce()` costs a few microseconds.
Consumers, the admin client and the telephony side stay on kafka-python.

Delivery is tracked per batch (`Delivery`: how many records of a batch the broker has
acknowledged, which failed) instead of a future per record. The settings keep what the
relay promised with kafka-python: acks=all, idempotent (librdkafka keeps order per
partition with up to 5 requests in flight and retries without duplicates), and each
record is placed by murmur2 of its key, as kafka-python and the Java client do
(librdkafka's own default hashes with CRC32): a work order's events share one partition,
the same one as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]
# topic, key, value, headers (the partition: murmur2 of the key)
Message = tuple[str, bytes, bytes, Headers]

DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 5,
    "batch.size": 1024 * 1024,
    "max.in.flight.requests.per.connection": 5,
    "partitioner": "murmur2_random",
    "client.id": "rexian-relay",
}


class Delivery:
    """Acknowledgements of one batch of records (the broker's answers arrive through
    `RelayProducer.poll`/`flush`)."""

    __slots__ = ("acked", "count", "errors")

    def __init__(self) -> None:
        self.count = 0
        self.acked = 0
        self.errors: list[KafkaError] = []

    def report(self, error: KafkaError | None, _message: Any) -> None:
        if error is None:
            self.acked += 1
        else:
            self.errors.append(error)

    @property
    def is_done(self) -> bool:
        return self.acked + len(self.errors) >= self.count

    def succeeded(self) -> bool:
        return self.acked >= self.count and not self.errors

    @property
    def exception(self) -> KafkaError | None:
        return self.errors[0] if self.errors else None

    def get(self, timeout: float = 0.0) -> None:
        """Raise if a record failed (kafka-python's future.get, for callers that need it)."""
        if self.errors:
            raise KafkaException(self.errors[0])


class RelayProducer:
    """A confluent-kafka producer with per-batch delivery tracking.

    `config` takes librdkafka settings (https://github.com/confluentinc/librdkafka,
    CONFIGURATION.md) over DEFAULTS. After a fatal error (the idempotent producer's
    sequence state is lost) the next send starts a new librdkafka producer.
    """

    def __init__(self, bootstrap: str, **config: Any) -> None:
        self.config: dict[str, Any] = {"bootstrap.servers": bootstrap, **DEFAULTS, **config,
                                       "logger": log, "error_cb": self._error}
        self._producer = Producer(self.config)
        self._fatal: KafkaError | None = None

    def _error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = error
        log.warning("kafka producer: %s", error)

    def _usable(self) -> Producer:
        if self._fatal is not None:
            log.warning("kafka producer: restarting after fatal error %s", self._fatal)
            self._fatal = None
            try:
                self._producer.flush(1)
            except KafkaException:
                pass
            self._producer = Producer(self.config)
        return self._producer

    def partitions_for(self, topic: str, timeout: float = 30.0) -> set[int] | None:
        """The topic's partition ids (None if the broker does not know the topic)."""
        metadata = self._usable().list_topics(topic, timeout=timeout)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            return None
        return set(found.partitions)

    def send_batch(self, messages: Iterable[Message]) -> Delivery:
        """Queue every message; the returned Delivery fills in as the broker answers."""
        producer = self._usable()
        produce = producer.produce
        delivery = Delivery()
        report = delivery.report
        count = 0
        for topic, key, value, headers in messages:
            while True:
                try:
                    # (the stubs want list[tuple[str, str | bytes | None]]: a list is invariant)
                    produce(topic, value, key, on_delivery=report,
                            headers=headers)  # type: ignore[arg-type]
                    break
                except BufferError:  # the local queue is full: let librdkafka drain it
                    producer.poll(0.05)
            count += 1
        delivery.count = count
        producer.poll(0)  # serve the delivery reports that are already in
        return delivery

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None,
             headers: Headers | None = None, partition: int = -1) -> Delivery:
        """One record (kafka-python's `send` shape; partition -1: by the key)."""
        producer = self._usable()
        delivery = Delivery()
        delivery.count = 1
        producer.produce(topic, value, key, partition, on_delivery=delivery.report,
                         headers=headers or [])  # type: ignore[arg-type]
        producer.poll(0)
        return delivery

    def poll(self, timeout: float = 0.0) -> None:
        self._producer.poll(timeout)

    def flush(self, timeout: float = 60.0) -> int:
        """Wait until every queued record is acknowledged or failed, or `timeout`;
        returns how many are still outstanding."""
        remaining: int = self._producer.flush(timeout)
        return remaining

    def close(self, timeout: float = 30.0) -> None:
        """Deliver what is queued (up to `timeout`), then release librdkafka."""
        deadline = time.monotonic() + timeout
        left = self.flush(max(0.0, deadline - time.monotonic()))
        if left:
            log.warning("kafka producer closed with %d records not acknowledged", left)
            self._producer.purge()
        self._producer.close()
