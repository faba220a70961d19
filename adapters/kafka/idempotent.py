"""The idempotent consumer every Rexian Kafka consumer is built on.

Kafka (and our at-least-once relay) can deliver a record more than once: after a relay
crash, a consumer crash before its offset commit, or a group rebalance. This helper
makes the *effect* happen once per event id:

* each record's event id (the relay's `event-id` header by default) is claimed in a
  durable table, `rexian_processed_events (consumer, event_id)`, in the consumer's
  database; a record whose id is already there is skipped;
* offsets are committed only after the records they cover have been processed.

Two ways to run the handler:

* `tx_handler(cur, record)`: runs inside the same DB transaction as the claim, so the
  effect and the "processed" mark commit together (exactly-once for effects written
  through `cur`). Use it when the effect lives in the same database.
* `handler(record)`: runs outside any transaction (e.g. it issues domain commands,
  which commit through the event store). The id is marked after the handler returns,
  so a crash in between replays that one record: the handler must tolerate that
  (domain commands here dedupe on their own key, e.g. telephony report ids).

A handler that raises one of `reject` (e.g. DomainError) marks the record processed
and moves on: a deterministic rejection would fail the same way forever. Any other
exception stops that partition's batch: the consumer seeks back to the failed record,
commits what was done, and retries after `retry_interval`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError

from adapters.kafka import HEADER_EVENT_ID
from adapters.sqldb import Cursor, SqlDatabase

log = logging.getLogger(__name__)

PROCESSED = "rexian_processed_events"

Handler = Callable[[ConsumerRecord], None]
TxHandler = Callable[[Cursor, ConsumerRecord], None]
EventIdOf = Callable[[ConsumerRecord], str]


def header_event_id(record: ConsumerRecord) -> str:
    """The relay's `event-id` header; records without one are identified by position."""
    for name, value in record.headers or ():
        if name == HEADER_EVENT_ID:
            return bytes(value).decode()
    return f"{record.topic}/{record.partition}/{record.offset}"


class ProcessedIds:
    """Durable set of processed event ids for one consumer name."""

    def __init__(self, db: SqlDatabase, consumer: str) -> None:
        self.db = db
        self.consumer = consumer
        with db.schema_lock(), db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {PROCESSED} (consumer TEXT NOT NULL, "
                        "event_id TEXT NOT NULL, processed_at TEXT NOT NULL, "
                        "PRIMARY KEY (consumer, event_id))")

    def claim(self, cur: Cursor, event_id: str) -> bool:
        """Mark `event_id` processed within `cur`'s transaction; False if it already was."""
        cur.execute(f"INSERT INTO {PROCESSED} (consumer, event_id, processed_at) "
                    "VALUES (?, ?, ?) ON CONFLICT (consumer, event_id) DO NOTHING",
                    (self.consumer, event_id, datetime.now(UTC).isoformat()))
        return cur.rowcount == 1

    def seen(self, event_id: str) -> bool:
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT 1 FROM {PROCESSED} WHERE consumer = ? AND event_id = ?",
                              (self.consumer, event_id)).fetchone()
        return row is not None

    def mark(self, event_id: str) -> bool:
        with self.db.transaction() as cur:
            return self.claim(cur, event_id)

    def count(self) -> int:
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT count(*) FROM {PROCESSED} WHERE consumer = ?",
                              (self.consumer,)).fetchone()
        return int(row[0])

    def prune(self, older_than: timedelta) -> int:
        """Forget ids processed long ago (keep longer than any redelivery can lag)."""
        cutoff = (datetime.now(UTC) - older_than).isoformat()
        with self.db.transaction() as cur:
            cur.execute(f"DELETE FROM {PROCESSED} WHERE consumer = ? AND processed_at < ?",
                        (self.consumer, cutoff))
            return cur.rowcount


@dataclass
class ConsumerStats:
    processed: int = 0
    duplicates: int = 0
    rejected: int = 0
    failures: int = 0
    commits: int = 0


class IdempotentConsumer:
    """Wraps a KafkaConsumer (group member, enable_auto_commit=False) with dedupe by id."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        db: SqlDatabase,
        name: str,
        *,
        handler: Handler | None = None,
        tx_handler: TxHandler | None = None,
        event_id_of: EventIdOf = header_event_id,
        reject: tuple[type[BaseException], ...] = (),
        retry_interval: float = 1.0,
    ) -> None:
        if (handler is None) == (tx_handler is None):
            raise ValueError("give exactly one of handler= or tx_handler=")
        if consumer.config.get("enable_auto_commit"):
            raise ValueError("the consumer must use enable_auto_commit=False")
        self.consumer = consumer
        self.ids = ProcessedIds(db, name)
        self.db = db
        self.name = name
        self.handler = handler
        self.tx_handler = tx_handler
        self.event_id_of = event_id_of
        self.reject = reject
        self.retry_interval = retry_interval
        self.stats = ConsumerStats()

    # ----- one record --------------------------------------------------------------------
    def _process(self, record: ConsumerRecord) -> bool:
        """Apply one record at most once; True if it was new. Raises if it must be retried."""
        event_id = self.event_id_of(record)
        if self.tx_handler is not None:
            with self.db.transaction() as cur:
                if not self.ids.claim(cur, event_id):
                    return False
                try:
                    self.tx_handler(cur, record)
                except self.reject as error:
                    # The transaction rolls back (claim and partial writes alike);
                    # poll_once marks the id processed in a fresh one.
                    raise _Rejected(event_id, error) from error
            return True
        assert self.handler is not None
        if self.ids.seen(event_id):
            return False
        try:
            self.handler(record)
        except self.reject as error:
            raise _Rejected(event_id, error) from error
        self.ids.mark(event_id)
        return True

    # ----- a poll ------------------------------------------------------------------------
    def poll_once(self, timeout_ms: int = 500, max_records: int | None = None) -> int:
        """Poll, process, commit. Returns how many records were applied (new ids)."""
        batches: dict[TopicPartition, list[ConsumerRecord]] = self.consumer.poll(
            timeout_ms=timeout_ms, max_records=max_records)
        if not batches:
            return 0
        applied = 0
        failed = False
        for tp, records in batches.items():
            for record in records:
                try:
                    if self._process(record):
                        applied += 1
                        self.stats.processed += 1
                    else:
                        self.stats.duplicates += 1
                except _Rejected as rejected:
                    log.warning("%s: rejected %s at %s/%s@%s: %s", self.name,
                                rejected.event_id, record.topic, record.partition,
                                record.offset, rejected.error)
                    self.ids.mark(rejected.event_id)
                    self.stats.rejected += 1
                except Exception:
                    log.exception("%s: failed at %s/%s@%s; will retry", self.name,
                                  record.topic, record.partition, record.offset)
                    self.stats.failures += 1
                    # Rewind this partition to the failed record; later ones come again.
                    self.consumer.seek(tp, record.offset)
                    failed = True
                    break
        self.commit()
        if failed:
            time.sleep(self.retry_interval)
        return applied

    def commit(self) -> None:
        """Commit the consumer's positions (everything before them has been processed)."""
        try:
            self.consumer.commit()
            self.stats.commits += 1
        except CommitFailedError:
            # The group rebalanced: another member re-reads from the last commit and the
            # processed-ids table turns the re-reads into no-ops.
            log.warning("%s: offset commit failed after a rebalance", self.name)
        except KafkaError:
            log.exception("%s: offset commit failed", self.name)

    def run(self, stop: threading.Event, timeout_ms: int = 200) -> None:
        """Consume until `stop` is set; the batch in hand is finished and committed."""
        while not stop.is_set():
            try:
                self.poll_once(timeout_ms=timeout_ms)
            except Exception:
                log.exception("%s: poll failed; retrying", self.name)
                stop.wait(self.retry_interval)

    def close(self) -> None:
        """Commit and leave the group (autocommit stays off: nothing unprocessed is committed)."""
        self.commit()
        self.consumer.close(autocommit=False)


class _Rejected(Exception):
    def __init__(self, event_id: str, error: BaseException) -> None:
        super().__init__(event_id)
        self.event_id = event_id
        self.error = error


def group_consumer(bootstrap: str, topic: str, group: str, **overrides: Any) -> KafkaConsumer:
    """A consumer-group member suited to IdempotentConsumer (manual commits, earliest)."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "group_id": group,
        "enable_auto_commit": False,
        # A new group starts from the beginning ('latest' is also broken on Tansu).
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 10000,
        "heartbeat_interval_ms": 3000,
        "client_id": f"rexian-{group}",
    }
    config.update(overrides)
    return KafkaConsumer(topic, **config)
