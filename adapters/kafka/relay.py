"""The relay: follows the notification log and publishes every stored event to Kafka.

At-least-once, crash-safe: the relay's position (the last notification id known to be
in Kafka) lives in `rexian_relay_position` in the engine's own database. Batches are
read after that position, encoded (key = ticket_no, Avro envelope, headers; campaign and
contact events go to their own topic, key = campaign id: adapters/kafka/campaign_records.py)
and sent;
the position moves past a batch only when every send of that batch and of all batches
before it has been acknowledged by the broker (acks=all). When the relay has caught up
it flushes the producer and commits the rest. A crash anywhere re-sends whatever was
not yet committed on restart: consumers then see some events twice and deduplicate by
the `event-id` header (adapters.kafka.idempotent).

Encoding (decode the stored event, look up the ticket number, JSON payload, Avro) costs
about as much CPU as kafka-python's own send path (~50 us each per event here), and
Python threads share one interpreter lock; so by default the standalone relay and
`start_kafka` encode in one helper process (`ProcessEncoding`) that reads and encodes
batch N+1 while this process sends batch N. The relay also passes each record's
partition (Kafka's default murmur2 placement, cached per key), which saves the producer
a third of its per-record work. `InlineEncoding` does everything in the calling thread.

Run standalone: `python -m adapters.kafka.relay --db URL --kafka HOST:PORT`. Any number
may run against one store (say one per engine host): only the holder of the store's leader
lock relays (adapters/leader.py), the others stand by and one takes over within about a
second when the leader dies; an overlap only re-sends (at least once, as above).
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from kafka import KafkaProducer
from kafka.partitioner.default import murmur2

from adapters.kafka import (
    CAMPAIGN_TOPIC,
    HEADER_EVENT_ID,
    HEADER_EVENT_TYPE,
    HEADER_POSITION,
    HEADER_SCHEMA,
    WORKORDER_TOPIC,
)
from adapters.kafka.avro import (
    encode,
    envelope,
    schema_header,
    workorder_schema,
)
from adapters.kafka.campaign_records import CampaignRecords, is_campaign_event
from adapters.kafka.topics import ensure_topics
from adapters.sqldb import SqlDatabase, StoreConfig
from domain.access.access_log import AccessEntry
from domain.access.credentials import Credential

log = logging.getLogger(__name__)

POSITIONS = "rexian_relay_position"
DEFAULT_RELAY = "workorder-events"
DEFAULT_BATCH = 1000  # ~0.4 MB pickled: fits the widened pipe

Headers = list[tuple[str, bytes]]
Record = tuple[bytes, bytes, Headers]  # key, value, headers
# Which topic a record goes to: the relay's own (work orders) or the campaign topic.
MAIN: str | None = None
CAMPAIGNS = "campaigns"
# stream, partition (None: producer picks), key, value, headers
Outgoing = tuple[str | None, int | None, bytes, bytes, Headers]


class RelayPublishError(RuntimeError):
    """Some record was not acknowledged; the position stays before its batch."""


def make_producer(bootstrap: str, **overrides: Any) -> KafkaProducer:
    """The relay's producer: acks=all, idempotent (per-session dedupe of retries, ordered
    per partition with up to 5 requests in flight), a short linger to fill batches."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "max_in_flight_requests_per_connection": 5,
        "client_id": "rexian-relay",
    }
    config.update(overrides)
    return KafkaProducer(**config)


# ----- encoding ---------------------------------------------------------------------------
class TicketNumbers:
    """originator id → ticket number: Registered events fill a cache; on a miss (the
    relay started after the order was created) the aggregate's first stored event is read."""

    def __init__(self, app: Application, max_entries: int = 200_000) -> None:
        self.app = app
        self.max_entries = max_entries
        self._cache: dict[UUID, str | None] = {}

    def remember(self, originator_id: UUID, ticket_no: str | None) -> None:
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[originator_id] = ticket_no

    def for_event(self, event: Any) -> str | None:
        oid: UUID = event.originator_id
        ticket_no = event.__dict__.get("ticket_no")
        if isinstance(ticket_no, str) and ticket_no:
            if oid not in self._cache:
                self.remember(oid, ticket_no)
            return ticket_no
        if oid in self._cache:
            return self._cache[oid]
        found: str | None = None
        for first in self.app.events.get(oid, lte=1):
            value = getattr(first, "ticket_no", None)
            found = value if isinstance(value, str) and value else None
        self.remember(oid, found)
        return found


UNPUBLISHED = (Credential.Event, AccessEntry.Event)


class RecordEncoder:
    """Turns a notification into the Kafka record the relay sends: (key, value, headers).

    The value is `adapters.kafka.avro.envelope(...)` encoded with fastavro; this is the
    relay's hot path, so per-aggregate facts (id text, ticket number, key) are cached.
    """

    def __init__(self, app: Application, max_entries: int = 200_000) -> None:
        self.app = app
        self.tickets = TicketNumbers(app)
        self.max_entries = max_entries
        self._schema = workorder_schema()
        self._schema_header = (HEADER_SCHEMA, schema_header())
        self.campaigns = CampaignRecords(app, max_entries)
        # originator id → (id text, ticket number or None, record key)
        self._aggregates: dict[UUID, tuple[str, str | None, bytes]] = {}

    def _aggregate(self, event: Any) -> tuple[str, str | None, bytes]:
        oid: UUID = event.originator_id
        known = self._aggregates.get(oid)
        if known is None:
            if len(self._aggregates) >= self.max_entries:
                self._aggregates.clear()
            text = str(oid)
            ticket_no = self.tickets.for_event(event)
            known = self._aggregates[oid] = (text, ticket_no, (ticket_no or text).encode())
        return known

    def record_for(self, notification: Notification) -> Record | None:
        """The record, or None for an event that is not published: staff credentials and
        the access log are the centre's security records, not events for consumers."""
        routed = self.routed(notification)
        return None if routed is None else routed[1]

    def routed(self, notification: Notification) -> tuple[str | None, Record] | None:
        """(stream, record): MAIN for the relay's topic, CAMPAIGNS for the campaign topic."""
        event = self.app.mapper.to_domain_event(notification)
        if isinstance(event, UNPUBLISHED):
            return None
        if is_campaign_event(event):
            return CAMPAIGNS, self.campaigns.record(event, notification.id)
        return MAIN, self._workorder_record(event, notification)

    def _workorder_record(self, event: Any, notification: Notification) -> Record:
        _oid_text, ticket_no, key = self._aggregate(event)
        record = envelope(event, notification.id, ticket_no)
        value = encode(self._schema, record)
        event_id, event_type, position = (record["event_id"], record["event_type"],
                                          notification.id)
        headers = [
            (HEADER_EVENT_ID, event_id.encode()),
            (HEADER_EVENT_TYPE, event_type.encode()),
            (HEADER_POSITION, str(position).encode()),
            self._schema_header,
        ]
        return key, value, headers


class KeyPartitioner:
    """Kafka's default partitioning of keyed records (murmur2 of the key modulo the
    partition count, as kafka-python and the Java client do), cached per key: a work
    order's events share a key, so the relay computes each hash once instead of the
    producer computing it on every send."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self._count = 0
        self._cache: dict[bytes, int] = {}

    def __call__(self, key: bytes, count: int) -> int | None:
        if count <= 0:
            return None  # unknown partition count: let the producer choose
        if count != self._count or len(self._cache) >= self.max_entries:
            self._cache.clear()
            self._count = count
        partition = self._cache.get(key)
        if partition is None:
            partition = self._cache[key] = (murmur2(key) & 0x7FFFFFFF) % count
        return partition


class EncodedBatch:
    __slots__ = ("last", "records")

    def __init__(self, last: int, records: list[Outgoing]) -> None:
        self.last = last  # notification id of the batch's last event
        self.records = records


class BatchSource(Protocol):
    def fetch(self, start: int, partitions: int = 0) -> EncodedBatch | None: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


def read_and_encode(app: Application, encoder: RecordEncoder, partitioner: KeyPartitioner,
                    start: int, limit: int, partitions: int) -> EncodedBatch | None:
    """The batch of up to `limit` events after notification id `start`, encoded, with
    each record's partition among `partitions` (0: unknown)."""
    batch: Sequence[Notification] = app.recorder.select_notifications(
        start=start, limit=limit, inclusive_of_start=False)
    if not batch:
        return None
    routed = encoder.routed
    records: list[Outgoing] = []
    for notification in batch:
        found = routed(notification)
        if found is not None:
            stream, (key, value, headers) = found
            # The campaign topic's partition count may differ: its producer places them.
            partition = partitioner(key, partitions) if stream is MAIN else None
            records.append((stream, partition, key, value, headers))
    return EncodedBatch(batch[-1].id, records)


class InlineEncoding:
    """Read and encode in the calling thread."""

    def __init__(self, app: Application, batch_size: int = DEFAULT_BATCH) -> None:
        self.app = app
        self.batch_size = batch_size
        self.encoder = RecordEncoder(app)
        self.partitioner = KeyPartitioner()

    def fetch(self, start: int, partitions: int = 0) -> EncodedBatch | None:
        return read_and_encode(self.app, self.encoder, self.partitioner, start,
                               self.batch_size, partitions)

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class EncoderProcessError(RuntimeError):
    """The helper process failed or died; the next fetch starts a new one."""


def store_url(config: StoreConfig) -> str:
    """A URL for build_engine from a StoreConfig (with the password, unlike .display)."""
    if config.kind == "sqlite":
        assert config.sqlite_path is not None
        return str(config.sqlite_path.resolve())
    auth = quote(config.user, safe="")
    if config.password:
        auth += ":" + quote(config.password, safe="")
    return f"postgresql://{auth}@{config.host}:{config.port}/{config.dbname}"


class ProcessEncoding:
    """Read and encode in a helper process (adapters.kafka.encoder), one batch ahead.

    The helper opens the store itself (same URL) and keeps its own ticket-number cache.
    `fetch(start)` returns the batch after `start` (prefetched when possible) and asks
    for the next one at once, so the helper encodes while this process sends.
    """

    def __init__(self, db_url: str, batch_size: int = DEFAULT_BATCH) -> None:
        self.db_url = db_url
        self.batch_size = batch_size
        self._proc: subprocess.Popen[bytes] | None = None
        self.helper_pid = 0
        self._asked: tuple[int, int] | None = None  # (start, partitions) being worked on
        self._start()

    def _start(self) -> None:
        env = dict(os.environ)
        # `adapters` must be importable by the helper even when not installed.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_source_root(), env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "adapters.kafka.encoder", "--db", self.db_url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert self._proc.stdout is not None
        _widen_pipe(self._proc.stdout.fileno())
        self._asked = None
        kind, pid = self._receive()
        if kind != "ready":
            raise EncoderProcessError(f"encoder helper did not start: {kind}")
        self.helper_pid = int(pid)

    def _receive(self) -> Any:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            return pickle.load(self._proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError) as error:
            self._kill()
            raise EncoderProcessError(f"encoder helper died ({error!r})") from None

    def _ask(self, start: int, partitions: int) -> None:
        if self._proc is None:
            self._start()
        assert self._proc is not None and self._proc.stdin is not None
        try:
            pickle.dump((start, self.batch_size, partitions), self._proc.stdin)
            self._proc.stdin.flush()
        except OSError as error:
            self._kill()
            raise EncoderProcessError(f"encoder helper died ({error!r})") from None
        self._asked = (start, partitions)

    def fetch(self, start: int, partitions: int = 0) -> EncodedBatch | None:
        if self._asked is not None and self._asked != (start, partitions):
            self._receive()  # a prefetch for another position: discard it
            self._asked = None
        if self._asked is None:
            self._ask(start, partitions)
        kind, body = self._receive()
        self._asked = None
        if kind == "error":
            raise EncoderProcessError(f"encoder helper failed:\n{body}")
        batch: EncodedBatch | None = body
        if batch is not None:
            self._ask(batch.last, partitions)
        return batch

    def reset(self) -> None:
        """Forget the prefetched batch (the relay restarts from its stored position)."""
        if self._asked is not None and self._proc is not None:
            try:
                self._receive()
            except EncoderProcessError:
                pass
            self._asked = None

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(timeout=10)
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
            self._proc = None
        self._asked = None

    def close(self) -> None:
        if self._proc is None:
            return
        self.reset()
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.close()  # the helper exits on end of input
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._kill()


def _widen_pipe(fd: int, size: int = 4 << 20) -> None:
    """Let a whole encoded batch sit in the pipe (Linux; 64 KiB by default), so the
    helper never waits for this process to read before starting on the next batch."""
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setpipe is None:
        return
    try:
        limit = int(open("/proc/sys/fs/pipe-max-size").read())
    except (OSError, ValueError):
        limit = 1 << 20
    try:
        fcntl.fcntl(fd, setpipe, min(size, limit))
    except OSError:
        pass  # not permitted: the default size still works, just with more hand-offs


def _source_root() -> str:
    """The directory `adapters` is imported from (the helper runs `-m adapters...`)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ----- the relay --------------------------------------------------------------------------
class Relay:
    """Publishes the notification log to `topic`, resuming from its durable position."""

    def __init__(
        self,
        app: Application,
        db: SqlDatabase,
        producer: KafkaProducer,
        *,
        topic: str = WORKORDER_TOPIC,
        campaign_topic: str = CAMPAIGN_TOPIC,
        name: str = DEFAULT_RELAY,
        batch_size: int = DEFAULT_BATCH,
        source: BatchSource | None = None,
        flush_timeout: float = 60.0,
        before_commit: Callable[[int, int], None] | None = None,
        on_commit: Callable[[int, int], None] | None = None,
    ) -> None:
        self.app = app
        self.db = db
        self.producer = producer
        self.topic = topic
        self.topics = {MAIN: topic, CAMPAIGNS: campaign_topic}
        self.name = name
        self.source: BatchSource = source or InlineEncoding(app, batch_size)
        self.flush_timeout = flush_timeout
        # Test hook: called with (events covered, new position) right before a commit.
        self.before_commit = before_commit
        self.on_commit = on_commit  # progress: (events covered, new position) after a commit
        self.published = 0  # records acknowledged in this process (re-sends included)
        self._lock = threading.Lock()
        with db.schema_lock(), db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {POSITIONS} (relay TEXT PRIMARY KEY, "
                        "position BIGINT NOT NULL, updated_at TEXT NOT NULL)")
            cur.execute(f"INSERT INTO {POSITIONS} (relay, position, updated_at) VALUES (?, 0, ?) "
                        "ON CONFLICT (relay) DO NOTHING", (name, _now()))

    # ----- position ------------------------------------------------------------------
    def position(self) -> int:
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT position FROM {POSITIONS} WHERE relay = ?",
                              (self.name,)).fetchone()
        return int(row[0])

    def _commit(self, count: int, end: int) -> None:
        if self.before_commit is not None:
            self.before_commit(count, end)
        with self.db.transaction() as cur:
            # Never move backwards (a second relay on the same name may have gone further).
            cur.execute(f"UPDATE {POSITIONS} SET position = ?, updated_at = ? "
                        "WHERE relay = ? AND position < ?", (end, _now(), self.name, end))
        if self.on_commit is not None:
            self.on_commit(count, end)

    # ----- publishing ------------------------------------------------------------------
    def publish_available(self, stop: threading.Event | None = None) -> int:
        """Send everything stored after the position, then flush and commit.

        Returns how many events were sent. Raises (position unchanged past the failed
        batch) if the broker does not acknowledge a record.
        """
        with self._lock:
            try:
                return self._publish(stop)
            except BaseException:
                self.source.reset()
                raise

    def _publish(self, stop: threading.Event | None) -> int:
        start = self.position()
        send = self.producer.send
        topics = self.topics
        partitions = len(self.producer.partitions_for(self.topic) or ())
        pending: deque[tuple[int, int, list[Any]]] = deque()  # (last, count, futures)
        sent = 0
        while stop is None or not stop.is_set():
            batch = self.source.fetch(start, partitions)
            if batch is None:
                break
            futures = [send(topics[s], partition=p, key=k, value=v, headers=h)
                       for s, p, k, v, h in batch.records]
            pending.append((batch.last, len(futures), futures))
            sent += len(futures)
            start = batch.last
            # Commit the acknowledged prefix without waiting for the rest.
            self._commit_done(pending, wait=False)
        if pending:
            self.producer.flush(timeout=self.flush_timeout)
            self._commit_done(pending, wait=True)
        return sent

    def _commit_done(self, pending: deque[tuple[int, int, list[Any]]], wait: bool) -> None:
        last, count = 0, 0
        while pending:
            batch_last, batch_count, futures = pending[0]
            if not wait and not all(f.is_done for f in futures):
                break  # still in flight: commit it on a later call
            failed = [f for f in futures if not f.succeeded()]
            if failed:
                if last:
                    self._commit(count, last)
                error = failed[0].exception if failed[0].is_done else "not acknowledged in time"
                raise RelayPublishError(
                    f"{len(failed)} of {batch_count} records up to position {batch_last} were "
                    f"not acknowledged ({error})")
            pending.popleft()
            last, count = batch_last, count + batch_count
            self.published += batch_count
        if last:  # a batch of unpublished events only (count 0) still moves the position
            self._commit(count, last)

    def run_until_caught_up(self) -> int:
        """Publish until nothing new is stored; returns how many were sent."""
        total = 0
        while True:
            sent = self.publish_available()
            if sent == 0:
                return total
            total += sent

    def run(self, stop: threading.Event, idle_interval: float = 0.1,
            retry_interval: float = 1.0,
            on_idle: Callable[[int], None] | None = None) -> None:
        """Follow the log until `stop` is set, then publish what is left and return."""
        idle = False
        while not stop.is_set():
            try:
                sent = self.publish_available(stop)
            except Exception:  # broker down, timeouts, helper died: keep the position
                log.exception("relay %s: publishing failed; retrying", self.name)
                stop.wait(retry_interval)
                continue
            if not sent and not idle and on_idle is not None:
                on_idle(self.position())
            idle = not sent
            if not sent:
                stop.wait(idle_interval)
        # Drain: everything stored before stop() leaves before we return.
        try:
            self.run_until_caught_up()
        except Exception:
            log.exception("relay %s: final drain failed; the rest goes out on the next start",
                          self.name)

    def close(self) -> None:
        self.source.close()


def _now() -> str:
    return datetime.now(UTC).isoformat()


# ----- standalone process ---------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m adapters.kafka.relay",
        description="Publish every stored domain event to Kafka (at least once).")
    parser.add_argument("--db", default=None, help="Store URL (default: REXIAN_DB or var/rexian.db)")
    parser.add_argument("--kafka", required=True, help="Bootstrap server HOST:PORT")
    parser.add_argument("--topic", default=WORKORDER_TOPIC)
    parser.add_argument("--campaign-topic", default=CAMPAIGN_TOPIC)
    parser.add_argument("--name", default=DEFAULT_RELAY, help="Position row name")
    parser.add_argument("--partitions", type=int, default=3,
                        help="Partitions if the topic has to be created")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--inline-encoding", action="store_true",
                        help="Encode in this process instead of a helper process")
    parser.add_argument("--verbose", action="store_true", help="Print a line per batch")
    parser.add_argument("--no-leader-lock", action="store_true",
                        help="Relay at once, without taking the store's leader lock")
    # Fault-injection for the crash tests: sleep after the flush, before the commit.
    parser.add_argument("--hold-before-commit", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from adapters.bootstrap import build_engine  # heavy: only for the standalone process

    engine = build_engine(args.db, deadlines=None)
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def hold(count: int, last: int) -> None:
        print(f"relay flushed {count} events up to position={last}; holding before commit",
              flush=True)
        time.sleep(args.hold_before_commit)

    def progress(count: int, position: int) -> None:
        if args.verbose:
            print(f"relay published {count} events position={position}", flush=True)

    def caught_up(position: int) -> None:
        if args.verbose:
            print(f"relay idle position={position}", flush=True)

    def term(over: threading.Event) -> None:
        """One leadership term: a producer and encoder of its own, relay until `over`."""
        producer: KafkaProducer | None = None
        source: BatchSource | None = None
        try:
            producer = make_producer(args.kafka)
            source = (InlineEncoding(engine.service, args.batch_size) if args.inline_encoding
                      else ProcessEncoding(store_url(engine.config), args.batch_size))
            relay = Relay(engine.service, engine.db, producer, topic=args.topic,
                          campaign_topic=args.campaign_topic, name=args.name, source=source,
                          before_commit=hold if args.hold_before_commit > 0 else None,
                          on_commit=progress)
            helper = (f" encoder-pid={source.helper_pid}"
                      if isinstance(source, ProcessEncoding) else " encoder=inline")
            print(f"relay ready position={relay.position()} topic={args.topic} "
                  f"kafka={args.kafka} db={engine.config.display}{helper}", flush=True)
            relay.run(over, on_idle=caught_up)
            print(f"relay stopped position={relay.position()}", flush=True)
        finally:
            if producer is not None:
                producer.close(timeout=30)
            if source is not None:
                source.close()

    def changed(leading: bool) -> None:
        print(f"relay {'leader' if leading else 'left leadership'} pid={os.getpid()}",
              flush=True)

    try:
        ensure_topics(args.kafka, {args.topic: args.partitions,
                                   args.campaign_topic: args.partitions})
        if args.no_leader_lock:
            term(stop)
        else:
            from adapters.leader import lead, leadership

            leader = leadership(engine.config, f"relay-{args.name}")
            print(f"relay standby name={args.name} pid={os.getpid()}", flush=True)
            try:
                lead(leader, stop, term, on_change=changed)
            finally:
                leader.close()
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
