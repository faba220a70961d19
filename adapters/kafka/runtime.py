"""Kafka inside the engine process: the relay and the telephony consumer in background threads.

`handle = start_kafka(engine, "host:port")` creates the topics if missing, starts both
threads and returns; `handle.stop()` stops the consumer first (its batch in hand is
applied and committed, it leaves the group), then the relay, which publishes everything
stored up to that moment (including events the last reports caused), flushes and
closes its producer. Nothing is lost even without stop(): the relay's position and the
consumer's offsets are durable and both resume where they were.

With several engine processes on one store (scale-out), every process consumes telephony
reports (the consumer group shares the partitions out) but only one relays at a time: the
relay thread waits for the store's leader lock (adapters/leader.py: a PostgreSQL advisory
lock, a file lock on SQLite) and a standby takes over within ~1 s when the leader dies.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from adapters.kafka import CAMPAIGN_TOPIC, TELEPHONY_TOPIC, WORKORDER_TOPIC
from adapters.kafka.relay import (
    DEFAULT_BATCH,
    DEFAULT_RELAY,
    BatchSource,
    InlineEncoding,
    ProcessEncoding,
    Relay,
    make_producer,
    store_url,
)
from adapters.kafka.telephony_consumer import DEFAULT_GROUP, TelephonyConsumer
from adapters.kafka.topics import ensure_topics
from adapters.leader import AdvisoryLeadership, FileLeadership, lead, leadership

log = logging.getLogger(__name__)


@dataclass
class KafkaOptions:
    workorder_topic: str = WORKORDER_TOPIC
    campaign_topic: str = CAMPAIGN_TOPIC
    telephony_topic: str = TELEPHONY_TOPIC
    group: str = DEFAULT_GROUP
    partitions: int = 3
    relay_name: str = DEFAULT_RELAY
    batch_size: int = DEFAULT_BATCH
    idle_interval: float = 0.1
    # Encode in a helper process (see adapters.kafka.relay): keeps the engine's threads
    # and the producer off one core. False: encode on the relay thread.
    encoder_process: bool = True
    consume_telephony: bool = True
    # Relay only while holding the store's leader lock (one relay among N workers).
    leader_lock: bool = True
    # librdkafka settings over the relay producer's (adapters/kafka/producer.py DEFAULTS).
    producer_config: dict[str, Any] = field(default_factory=dict)
    consumer_config: dict[str, Any] = field(default_factory=dict)


class KafkaHandle:
    """The running relay and consumer; `stop()` ends both cleanly (idempotent)."""

    def __init__(self, engine: Any, bootstrap: str, options: KafkaOptions) -> None:
        self.engine = engine
        self.bootstrap = bootstrap
        self.options = options
        self._stop_relay = threading.Event()
        self._stop_consumer = threading.Event()
        self._stopped = False
        self.telephony: TelephonyConsumer | None = None
        source: BatchSource | None = None
        self.producer: Any = None
        self.leader: AdvisoryLeadership | FileLeadership | None = (
            leadership(engine.config, f"relay-{options.relay_name}") if options.leader_lock
            else None)
        self.leading = False
        try:
            # The encoding helper process is started per leadership term (_term): a
            # standby keeps no helper.
            source = InlineEncoding(engine.service, options.batch_size)
            self.producer = make_producer(bootstrap, **options.producer_config)
            self.relay = Relay(engine.service, engine.db, self.producer,
                               topic=options.workorder_topic,
                               campaign_topic=options.campaign_topic, name=options.relay_name,
                               source=source)
            if options.consume_telephony:
                self.telephony = TelephonyConsumer.connect(
                    engine, bootstrap, topic=options.telephony_topic, group=options.group,
                    **options.consumer_config)
        except BaseException:
            # Half-built: release what exists (helper process, sockets) before failing.
            if self.producer is not None:
                self.producer.close(timeout=5)
            if source is not None:
                source.close()
            raise
        self._relay_thread = threading.Thread(target=self._run_relay, name="rexian-kafka-relay",
                                              daemon=True)
        self._consumer_thread = threading.Thread(target=self._run_consumer,
                                                 name="rexian-kafka-telephony", daemon=True)

    def start(self) -> KafkaHandle:
        self._relay_thread.start()
        if self.telephony is not None:
            self._consumer_thread.start()
        return self

    def _run_relay(self) -> None:
        try:
            if self.leader is None:
                self._term(self._stop_relay)
            else:
                lead(self.leader, self._stop_relay, self._term, on_change=self._changed)
        finally:
            self.producer.close(timeout=30)
            self.relay.close()
            if self.leader is not None:
                self.leader.close()

    def _changed(self, leading: bool) -> None:
        self.leading = leading
        log.info("relay %s: %s", self.options.relay_name,
                 "leading" if leading else "standing by")

    def _term(self, over: threading.Event) -> None:
        """Relay until `over` (stop, or the leadership was lost)."""
        inline = self.relay.source
        if self.options.encoder_process:
            self.relay.source = ProcessEncoding(store_url(self.engine.config),
                                                self.options.batch_size)
        try:
            self.relay.run(over, idle_interval=self.options.idle_interval)
        finally:
            if self.relay.source is not inline:
                self.relay.source.close()
                self.relay.source = inline

    def _run_consumer(self) -> None:
        assert self.telephony is not None
        try:
            self.telephony.run(self._stop_consumer)
        finally:
            # KafkaConsumer is not thread-safe: commit and leave the group on this thread.
            self.telephony.close()

    @property
    def position(self) -> int:
        return self.relay.position()

    def stop(self, timeout: float = 60.0) -> None:
        """Finish the consumer's batch, then publish what is stored and close."""
        if self._stopped:
            return
        self._stopped = True
        self._stop_consumer.set()
        if self._consumer_thread.is_alive():
            self._consumer_thread.join(timeout)
        self._stop_relay.set()
        if self._relay_thread.is_alive():
            self._relay_thread.join(timeout)
        if self._relay_thread.is_alive() or self._consumer_thread.is_alive():
            log.warning("kafka threads did not stop within %.0f s", timeout)

    def __enter__(self) -> KafkaHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_kafka(engine: Any, bootstrap: str, options: KafkaOptions | None = None,
                **overrides: Any) -> KafkaHandle:
    """Start the relay (and the telephony consumer) for `engine` against `bootstrap`.

    Raises kafka.errors.KafkaError (e.g. NoBrokersAvailable) if the broker is unreachable.
    """
    opts = options or KafkaOptions()
    for key, value in overrides.items():
        if not hasattr(opts, key):
            raise TypeError(f"unknown Kafka option {key!r}")
        setattr(opts, key, value)
    topics = {opts.workorder_topic: opts.partitions, opts.campaign_topic: opts.partitions}
    if opts.consume_telephony:
        topics[opts.telephony_topic] = opts.partitions
    ensure_topics(bootstrap, topics)
    return KafkaHandle(engine, bootstrap, opts).start()
