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

Sending is cheap (adapters.kafka.producer: librdkafka builds, sends and retries the
batches in its own C threads and places each record by murmur2 of its key, as Kafka's
Java client does); reading and encoding (the envelope straight from the stored state:
RecordEncoder) is most of the CPU. The standalone relay does both in one thread
(`InlineEncoding`); `start_kafka` (inside the engine process, whose threads share one
interpreter lock with the relay) reads and encodes in one helper process
(`ProcessEncoding`: batch N+1 is read and encoded there while this process sends batch
N), as does the standalone relay with --encoder-process.

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
from eventsourcing.utils import resolve_topic

from adapters.kafka import (
    CAMPAIGN_TOPIC,
    HEADER_EVENT_ID,
    HEADER_EVENT_TYPE,
    HEADER_POSITION,
    HEADER_SCHEMA,
    WORKORDER_TOPIC,
)
from adapters.kafka.avro import (
    schema_header,
    state_envelope,
    workorder_schema,
)
from adapters.kafka.campaign_records import CampaignRecords, is_campaign_class
from adapters.kafka.flat_avro import record_writer
from adapters.kafka.producer import Delivery, RelayProducer
from adapters.kafka.stored import NeedsMapper, StoredStates
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
# stream, key, value, headers
Outgoing = tuple[str | None, bytes, bytes, Headers]


class RelayPublishError(RuntimeError):
    """Some record was not acknowledged; the position stays before its batch."""


def make_producer(bootstrap: str, **overrides: Any) -> RelayProducer:
    """The relay's producer (adapters.kafka.producer: confluent-kafka): acks=all,
    idempotent (ordered per partition with up to 5 requests in flight, retries without
    duplicates), a short linger to fill batches; `overrides` are librdkafka settings."""
    return RelayProducer(bootstrap, **overrides)


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
        return self.for_state(event.originator_id, event.__dict__)

    def for_state(self, oid: UUID, state: dict[str, Any]) -> str | None:
        """The ticket number of aggregate `oid`, given one of its events' state."""
        ticket_no = state.get("ticket_no")
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
# How an event class is published (RecordEncoder._kind).
_SKIP, _WORKORDER, _CAMPAIGN = 0, 1, 2


class RecordEncoder:
    """Turns a notification into the Kafka record the relay sends: (key, value, headers).

    The value is the Avro envelope (adapters.kafka.avro.state_envelope) written by
    adapters.kafka.flat_avro; this is the relay's hot path, so the envelope is built
    straight from the stored state (adapters.kafka.stored: one JSON parse, no domain event
    object; the mapper only for what that cannot reproduce), and per-aggregate facts (id
    text, ticket number, key) and per-topic facts (class, route) are cached.
    """

    def __init__(self, app: Application, max_entries: int = 200_000) -> None:
        self.app = app
        self.tickets = TicketNumbers(app)
        self.max_entries = max_entries
        self._write = record_writer(workorder_schema())
        self._schema_header = (HEADER_SCHEMA, schema_header())
        self.campaigns = CampaignRecords(app, max_entries)
        self.states = StoredStates(app.mapper)
        # originator id → (id text, ticket number or None, record key)
        self._aggregates: dict[UUID, tuple[str, str | None, bytes]] = {}
        # event topic → (route, class name, whether the stored state can be used as is)
        self._kinds: dict[str, tuple[int, str, bool]] = {}

    def _aggregate(self, oid: UUID, state: dict[str, Any]) -> tuple[str, str | None, bytes]:
        known = self._aggregates.get(oid)
        if known is None:
            if len(self._aggregates) >= self.max_entries:
                self._aggregates.clear()
            text = str(oid)
            ticket_no = self.tickets.for_state(oid, state)
            known = self._aggregates[oid] = (text, ticket_no, (ticket_no or text).encode())
        return known

    def _kind(self, topic: str) -> tuple[int, str, bool]:
        known = self._kinds.get(topic)
        if known is None:
            cls = resolve_topic(topic)
            route = (_SKIP if issubclass(cls, UNPUBLISHED) else
                     _CAMPAIGN if is_campaign_class(cls) else _WORKORDER)
            # Upcast events change their state on the way out of the mapper.
            direct = getattr(cls, "class_version", 1) == 1
            known = self._kinds[topic] = (route, cls.__name__, direct)
        return known

    def _state(self, notification: Notification, direct: bool) -> dict[str, Any]:
        """The event's state for the envelope: decoded from the stored bytes, or (when
        that cannot be reproduced exactly) the mapper's event's __dict__."""
        if direct:
            try:
                return self.states.decode(notification.state)
            except NeedsMapper:
                pass
        return self.app.mapper.to_domain_event(notification).__dict__

    def record_for(self, notification: Notification) -> Record | None:
        """The record, or None for an event that is not published: staff credentials and
        the access log are the centre's security records, not events for consumers."""
        routed = self.routed(notification)
        return None if routed is None else routed[1]

    def routed(self, notification: Notification) -> tuple[str | None, Record] | None:
        """(stream, record): MAIN for the relay's topic, CAMPAIGNS for the campaign topic."""
        topic = notification.topic
        route, event_type, direct = self._kinds.get(topic) or self._kind(topic)
        if route == _SKIP:
            return None
        state = self._state(notification, direct)
        oid: UUID = notification.originator_id  # type: ignore[assignment]
        if route == _CAMPAIGN:
            return CAMPAIGNS, self.campaigns.record_of(
                oid, notification.originator_version, state, event_type, notification.id)
        return MAIN, self._workorder_record(oid, state, event_type, notification)

    def _workorder_record(self, oid: UUID, state: dict[str, Any], event_type: str,
                          notification: Notification) -> Record:
        oid_text, ticket_no, key = self._aggregate(oid, state)
        position = notification.id
        record = state_envelope(state, event_type, oid_text, notification.originator_version,
                                state["timestamp"], position, ticket_no)
        value = self._write(record)
        headers = [
            (HEADER_EVENT_ID, record["event_id"].encode()),
            (HEADER_EVENT_TYPE, event_type.encode()),
            (HEADER_POSITION, b"%d" % position),
            self._schema_header,
        ]
        return key, value, headers


class EncodedBatch:
    __slots__ = ("last", "records")

    def __init__(self, last: int, records: list[Outgoing]) -> None:
        self.last = last  # notification id of the batch's last event
        self.records = records


class BatchSource(Protocol):
    def fetch(self, start: int) -> EncodedBatch | None: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


def read_and_encode(app: Application, encoder: RecordEncoder, start: int,
                    limit: int) -> EncodedBatch | None:
    """The batch of up to `limit` events after notification id `start`, encoded."""
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
            records.append((stream, key, value, headers))
    return EncodedBatch(batch[-1].id, records)


class InlineEncoding:
    """Read and encode in the calling thread."""

    def __init__(self, app: Application, batch_size: int = DEFAULT_BATCH) -> None:
        self.app = app
        self.batch_size = batch_size
        self.encoder = RecordEncoder(app)

    def fetch(self, start: int) -> EncodedBatch | None:
        return read_and_encode(self.app, self.encoder, start, self.batch_size)

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
        self._asked: int | None = None  # the start being worked on
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

    def _ask(self, start: int) -> None:
        if self._proc is None:
            self._start()
        assert self._proc is not None and self._proc.stdin is not None
        try:
            pickle.dump((start, self.batch_size), self._proc.stdin)
            self._proc.stdin.flush()
        except OSError as error:
            self._kill()
            raise EncoderProcessError(f"encoder helper died ({error!r})") from None
        self._asked = start

    def fetch(self, start: int) -> EncodedBatch | None:
        if self._asked is not None and self._asked != start:
            self._receive()  # a prefetch for another position: discard it
            self._asked = None
        if self._asked is None:
            self._ask(start)
        kind, body = self._receive()
        self._asked = None
        if kind == "error":
            raise EncoderProcessError(f"encoder helper failed:\n{body}")
        batch: EncodedBatch | None = body
        if batch is not None:
            self._ask(batch.last)
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
        producer: RelayProducer,
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
        send_batch = self.producer.send_batch
        topics = self.topics
        pending: deque[tuple[int, Delivery]] = deque()  # (last position, its delivery)
        sent = 0
        while stop is None or not stop.is_set():
            batch = self.source.fetch(start)
            if batch is None:
                break
            delivery = send_batch([(topics[s], k, v, h) for s, k, v, h in batch.records])
            pending.append((batch.last, delivery))
            sent += delivery.count
            start = batch.last
            # Commit the acknowledged prefix without waiting for the rest.
            self._commit_done(pending, wait=False)
        if pending:
            self.producer.flush(timeout=self.flush_timeout)
            self._commit_done(pending, wait=True)
        return sent

    def _commit_done(self, pending: deque[tuple[int, Delivery]], wait: bool) -> None:
        last, count = 0, 0
        while pending:
            batch_last, delivery = pending[0]
            if not wait and not delivery.is_done:
                break  # still in flight: commit it on a later call
            if not delivery.succeeded():
                if last:
                    self._commit(count, last)
                failed = delivery.count - delivery.acked
                error = delivery.exception or "not acknowledged in time"
                raise RelayPublishError(
                    f"{failed} of {delivery.count} records up to position {batch_last} were "
                    f"not acknowledged ({error})")
            pending.popleft()
            last, count = batch_last, count + delivery.count
            self.published += delivery.count
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
    parser.add_argument("--encoder-process", action="store_true",
                        help="Read and encode in a helper process (one batch ahead)")
    # Encoding in this process is the default now; the flag is still accepted.
    parser.add_argument("--inline-encoding", action="store_true", help=argparse.SUPPRESS)
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
        producer: RelayProducer | None = None
        source: BatchSource | None = None
        try:
            producer = make_producer(args.kafka)
            source = (InlineEncoding(engine.service, args.batch_size)
                      if not args.encoder_process or args.inline_encoding
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
