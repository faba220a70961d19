"""The domain-event relay against a real Kafka-protocol broker (Tansu).

Personal data never leaves: the caller's name and phone (and the vault token) appear in
no key, value or header. kill -9 of a real relay process at any moment loses nothing;
the idempotent consumer turns the resulting re-sends into exactly-once processing.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.partitioner import DefaultPartitioner

from adapters.bootstrap import Engine, build_engine
from adapters.kafka import HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_POSITION, HEADER_SCHEMA
from adapters.kafka.avro import decode, event_id, workorder_schema
from adapters.kafka.idempotent import IdempotentConsumer, group_consumer
from adapters.kafka.relay import POSITIONS, Relay, make_producer
from adapters.kafka.topics import ensure_topics
from adapters.sqldb import Cursor
from domain.values import Actor
from tests.support.kafka import TansuBroker
from tests.support.procs import PythonProcess

GROUP_TIMEOUTS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}
AGENT = Actor("agent", "A007")
DISPATCHER = Actor("dispatcher", "D01")
DEPT = "区水务局"
UNIT = Actor("department", DEPT)
CALLERS = [("张三丰", "13812345678"), ("欧阳娜娜", "0574-87654321"), ("李四", "15900001111")]


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def make_orders(engine: Engine, count: int) -> list[str]:
    """Orders in assorted states: registered, dispatched, signed, resolved."""
    tickets = []
    for n in range(count):
        name, phone = CALLERS[n % len(CALLERS)]
        ticket = engine.service.intake(
            channel="电话", category="求助", urgency="一般", region="甬江区",
            content=f"第{n}号：小区路灯不亮", caller_name=name, caller_phone=phone, actor=AGENT)
        tickets.append(ticket)
        if n % 4 >= 1:
            engine.service.dispatch(ticket, dept=DEPT, assist=[], actor=DISPATCHER)
        if n % 4 >= 2:
            engine.service.sign(ticket, dept=DEPT, actor=UNIT)
        if n % 4 >= 3:
            engine.service.resolve(ticket, dept=DEPT, reply="已修复", actor=UNIT)
    return tickets


def stored_events(engine: Engine) -> list[Any]:
    """(notification id, originator id, version, type) of every stored event, in log order."""
    rows: list[tuple[int, Any, int, str]] = []
    start = 0
    while True:
        batch = engine.service.recorder.select_notifications(start=start, limit=1000,
                                                             inclusive_of_start=False)
        if not batch:
            return rows
        for n in batch:
            rows.append((n.id, n.originator_id, n.originator_version, n.topic.rsplit(".", 1)[1]))
        start = batch[-1].id


def assigned_consumer(bootstrap: str, topic: str, group: str | None = None,
                      **config: Any) -> KafkaConsumer:
    """All partitions of `topic` from the beginning, without a group join (which Tansu
    delays by session_timeout/2); with `group`, offsets can still be committed."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False, **config)
    partitions = consumer.partitions_for_topic(topic)
    assert partitions, f"topic {topic} has no partitions"
    consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
    consumer.seek_to_beginning()
    return consumer


def consume_all(bootstrap: str, topic: str, expected: int, timeout: float = 20.0,
                settle: float = 0.8) -> list[ConsumerRecord]:
    """Every record of `topic`, from the beginning of each partition."""
    consumer = assigned_consumer(bootstrap, topic)
    records: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + timeout
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
        quiet_until = time.monotonic() + settle  # nothing more may arrive
        while time.monotonic() < quiet_until:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def header(record: ConsumerRecord, name: str) -> bytes:
    values = [bytes(v) for k, v in record.headers if k == name]
    assert len(values) == 1, (name, record.headers)
    return values[0]


def personal_needles(engine: Engine) -> list[bytes]:
    """Every representation of the callers' personal data we must never see in Kafka."""
    needles = []
    for name, phone in CALLERS:
        digits = "".join(ch for ch in phone if ch.isdigit())
        needles += [name.encode(), phone.encode(), digits.encode(), digits[-8:].encode(),
                    json.dumps(name).encode()]  # also its \\u-escaped JSON form
    with engine.db.transaction(immediate=False) as cur:
        citizen_ids = [r[0] for r in cur.execute("SELECT citizen_id FROM rexian_citizen_keys")
                       .fetchall()]
    needles += [c.encode() for c in citizen_ids]
    return needles


@pytest.fixture
def topic(kafka_broker: TansuBroker) -> str:
    name = unique("rexian.workorder.events.t")
    ensure_topics(kafka_broker.bootstrap, {name: 3})
    return name


def test_relay_publishes_every_event_in_order_keyed_with_headers_and_no_personal_data(
    engine: Engine, kafka_broker: TansuBroker, topic: str
) -> None:
    tickets = make_orders(engine, 8)
    engine.service.merge(tickets[1], into=tickets[5], reason="重复来电", actor=DISPATCHER)
    events = stored_events(engine)
    tokens = [engine.service.load(t).personal.encode() for t in tickets]
    assert all(tokens)

    producer = make_producer(kafka_broker.bootstrap)
    try:
        relay = Relay(engine.service, engine.db, producer, topic=topic, name=unique("relay"),
                      batch_size=7)  # several batches
        assert relay.run_until_caught_up() == len(events)
        assert relay.position() == events[-1][0]
        assert relay.run_until_caught_up() == 0  # nothing is sent twice without a crash

        # Later events follow incrementally.
        engine.service.withdraw(tickets[0], reason="市民撤诉", actor=AGENT)
        assert relay.run_until_caught_up() == 1
    finally:
        producer.close()
    events = stored_events(engine)

    records = consume_all(kafka_broker.bootstrap, topic, len(events))
    assert len(records) == len(events)
    schema = workorder_schema()
    by_key: dict[bytes, list[dict[str, Any]]] = defaultdict(list)
    partitions: dict[bytes, set[int]] = defaultdict(set)
    expected = {(str(oid), version): (pos, kind) for pos, oid, version, kind in events}
    seen = set()
    needles = personal_needles(engine) + tokens
    for record in records:
        value = decode(schema, record.value)
        oid, version = str(value["originator_id"]), value["version"]
        pos, kind = expected[(oid, version)]
        seen.add((oid, version))
        assert record.key == value["ticket_no"].encode()
        assert value["event_type"] == kind
        assert value["position"] == pos
        assert str(value["event_id"]) == str(event_id(oid, version))
        assert header(record, HEADER_EVENT_ID) == str(value["event_id"]).encode()
        assert header(record, HEADER_EVENT_TYPE) == kind.encode()
        assert header(record, HEADER_POSITION) == str(pos).encode()
        assert header(record, HEADER_SCHEMA) == b"rexian.workorder.v1.WorkOrderEvent"
        payload = json.loads(value["payload_json"])
        assert "personal" not in payload and "citizen_id" not in payload
        if kind == "Registered":
            assert payload["ticket_no"] == value["ticket_no"]
            assert payload["content"].endswith("小区路灯不亮")
        blob = b"".join([record.key, record.value, *(bytes(v) for _, v in record.headers)])
        for needle in needles:
            assert needle not in blob, f"personal data {needle!r} leaked in {kind}"
        by_key[record.key].append(value)
        partitions[record.key].add(record.partition)
    assert len(seen) == len(events)
    assert set(by_key) == {t.encode() for t in tickets}
    for key, values in by_key.items():
        assert len(partitions[key]) == 1  # one order, one partition: ordered
        # ...the partition the producer's own default partitioner picks for that key.
        assert partitions[key] == {DefaultPartitioner().partition(
            topic, None, key, None, None, ThreePartitions(topic))}
        versions = [v["version"] for v in values]
        assert versions == list(range(1, len(versions) + 1)), key
        positions = [v["position"] for v in values]
        assert positions == sorted(positions)
    merged = [v for v in by_key[tickets[1].encode()] if v["event_type"] == "Merged"]
    assert json.loads(merged[0]["payload_json"])["master"] == tickets[5]


class ThreePartitions:
    """Just enough cluster metadata for kafka-python's DefaultPartitioner."""

    def __init__(self, topic: str) -> None:
        self.topic = topic

    def topics(self) -> set[str]:
        return {self.topic}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0, 1, 2}

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return {0, 1, 2}


class Seen:
    """A tx_handler that records each event id in a table of the consumer's database."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, cur: Cursor, record: ConsumerRecord) -> None:
        eid = header(record, HEADER_EVENT_ID).decode()
        cur.execute("CREATE TABLE IF NOT EXISTS t_seen (event_id TEXT, n INTEGER)")
        cur.execute("INSERT INTO t_seen (event_id, n) VALUES (?, 1)", (eid,))
        self.calls.append(eid)


def drain(consumer: IdempotentConsumer, expected_ids: int, timeout: float = 25.0) -> None:
    deadline = time.monotonic() + timeout
    while consumer.ids.count() < expected_ids and time.monotonic() < deadline:
        consumer.poll_once(timeout_ms=300)
    for _ in range(3):  # anything still in flight (re-sent duplicates) arrives now
        consumer.poll_once(timeout_ms=300)


@pytest.fixture
def relay_store(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = str(tmp_path / "relay.db")
    engine = build_engine(url)
    yield url, engine
    engine.close()


def relay_process(url: str, bootstrap: str, topic: str, name: str, *extra: str) -> PythonProcess:
    return PythonProcess("adapters.kafka.relay", "--db", url, "--kafka", bootstrap,
                         "--topic", topic, "--name", name, "--verbose", *extra,
                         cwd=str(Path(__file__).resolve().parents[1]))


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    """True once `pid` has exited (a zombie left for init to reap counts as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def stored_position(engine: Engine, name: str) -> int:
    with engine.db.transaction(immediate=False) as cur:
        row = cur.execute(f"SELECT position FROM {POSITIONS} WHERE relay = ?",
                          (name,)).fetchone()
    return int(row[0]) if row else 0


def test_relay_killed_with_sigkill_mid_batch_loses_nothing_and_consumer_sees_each_once(
    relay_store: tuple[str, Engine], kafka_broker: TansuBroker, topic: str
) -> None:
    url, engine = relay_store
    bootstrap = kafka_broker.bootstrap
    name = unique("relay")
    make_orders(engine, 60)
    first_wave = len(stored_events(engine))

    # 1. Killed after its first batch was flushed to Kafka but before the position moved.
    with relay_process(url, bootstrap, topic, name, "--batch-size", "40",
                       "--hold-before-commit", "60") as proc:
        proc.wait_for_line(r"^relay ready position=0 ")
        proc.wait_for_line(r"flushed \d+ events up to position=\d+; holding", timeout=20)
        assert proc.kill() == -signal.SIGKILL
    assert stored_position(engine, name) == 0  # that batch will be sent again

    # 2. Killed at an arbitrary moment while publishing (more events keep arriving); only
    #    the relay itself is killed: its encoding helper must notice and exit on its own.
    with relay_process(url, bootstrap, topic, name, "--batch-size", "25",
                       "--encoder-process") as proc:
        ready = proc.wait_for_line(r"^relay ready position=0 .* encoder-pid=\d+$")
        helper = int(ready.rsplit("=", 1)[1])
        make_orders(engine, 20)
        proc.wait_for_line(r"^relay published \d+ events position=\d+")
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.proc.wait(timeout=10) == -signal.SIGKILL
        assert wait_gone(helper), "the encoding helper outlived the relay"
    after_second_kill = stored_position(engine, name)
    assert after_second_kill > 0

    # 3. Stored while no relay runs; then a relay runs to the end and stops cleanly.
    make_orders(engine, 10)
    events = stored_events(engine)
    assert len(events) > first_wave
    with relay_process(url, bootstrap, topic, name, "--batch-size", "200") as proc:
        proc.wait_for_line(rf"^relay ready position={after_second_kill} ")
        proc.wait_for_line(rf"^relay idle position={events[-1][0]}$", timeout=30)
        proc.proc.send_signal(signal.SIGTERM)
        proc.wait_for_line(rf"^relay stopped position={events[-1][0]}$")
        assert proc.proc.wait(timeout=10) == 0

    # Every stored event is in Kafka at least once; the first batch at least twice.
    expected_ids = {str(event_id(oid, version)) for _, oid, version, _ in events}
    records = consume_all(bootstrap, topic, len(events) + 40)
    in_kafka = [header(r, HEADER_EVENT_ID).decode() for r in records]
    assert set(in_kafka) == expected_ids
    assert len(in_kafka) >= len(events) + 40

    # The idempotent consumer processes each event exactly once...
    group = unique("audit")
    seen = Seen()
    consumer = IdempotentConsumer(
        group_consumer(bootstrap, topic, group, **GROUP_TIMEOUTS), engine.db, group,
        tx_handler=seen)
    try:
        drain(consumer, len(expected_ids))
    finally:
        consumer.close()
    assert sorted(seen.calls) == sorted(expected_ids)
    assert consumer.stats.duplicates == len(in_kafka) - len(expected_ids)
    with engine.db.transaction(immediate=False) as cur:
        assert cur.execute("SELECT count(*), count(DISTINCT event_id) FROM t_seen").fetchone() \
            == (len(expected_ids), len(expected_ids))

    # ...and a replay of the whole topic by a restarted consumer (same name, offsets
    # rewound to the beginning) changes nothing.
    again = Seen()
    replay = IdempotentConsumer(assigned_consumer(bootstrap, topic, unique("audit2")),
                                engine.db, group, tx_handler=again)
    try:
        deadline = time.monotonic() + 20
        while replay.stats.duplicates < len(in_kafka) and time.monotonic() < deadline:
            replay.poll_once(timeout_ms=300)
    finally:
        replay.close()
    assert again.calls == []
    assert replay.stats.duplicates == len(in_kafka)


def test_idempotent_consumer_retries_a_failed_record_and_commits_only_what_it_processed(
    sqlite_engine: Engine, kafka_broker: TansuBroker, topic: str
) -> None:
    producer = make_producer(kafka_broker.bootstrap)
    try:
        for n in range(6):
            producer.send(topic, partition=0, key=b"k", value=f"v{n}".encode(),
                          headers=[(HEADER_EVENT_ID, f"id-{n % 5}".encode())])  # id-0 twice
        producer.flush(timeout=10)
    finally:
        producer.close()

    handled: list[bytes] = []
    failures = {b"v2": 1}  # v2 fails once (e.g. the database was briefly unavailable)

    def handler(record: ConsumerRecord) -> None:
        if failures.get(record.value, 0):
            failures[record.value] -= 1
            raise ConnectionError("transient")
        handled.append(record.value)

    group = unique("grp")
    consumer = IdempotentConsumer(
        assigned_consumer(kafka_broker.bootstrap, topic, group), sqlite_engine.db, group,
        handler=handler, retry_interval=0.05)
    try:
        deadline = time.monotonic() + 10
        while not consumer.stats.failures and time.monotonic() < deadline:
            consumer.poll_once(timeout_ms=300)  # v0, v1 applied; v2 fails: rewound to it
        tp = TopicPartition(topic, 0)
        assert handled == [b"v0", b"v1"]
        assert consumer.consumer.committed(tp) == 2
        deadline = time.monotonic() + 10
        while len(handled) < 5 and time.monotonic() < deadline:
            consumer.poll_once(timeout_ms=300)
        consumer.poll_once(timeout_ms=300)  # the duplicate id-0 (v5) is skipped
        assert consumer.consumer.committed(tp) == 6
    finally:
        consumer.close()
    assert handled == [b"v0", b"v1", b"v2", b"v3", b"v4"]
    assert consumer.stats.failures == 1 and consumer.stats.duplicates == 1


def test_unacknowledged_records_leave_the_position_where_it_was(engine: Engine) -> None:
    """The broker goes away: librdkafka reports each record failed, the relay raises and
    its position stays; against a broker again, everything goes out."""
    from adapters.kafka.relay import RelayPublishError

    make_orders(engine, 3)
    events = stored_events(engine)
    name = unique("relay")
    with TansuBroker() as gone:
        topic = unique("rexian.workorder.events.t")
        ensure_topics(gone.bootstrap, {topic: 3})
        producer = make_producer(gone.bootstrap, **{"message.timeout.ms": 1500})
        relay = Relay(engine.service, engine.db, producer, topic=topic, name=name,
                      batch_size=4, flush_timeout=20)
    try:
        with pytest.raises(RelayPublishError, match="were not acknowledged"):
            relay.publish_available()
        assert relay.position() == 0 and relay.published == 0
    finally:
        producer.close(timeout=5)
    with TansuBroker() as back:
        ensure_topics(back.bootstrap, {topic: 3})
        producer = make_producer(back.bootstrap)
        try:
            relay = Relay(engine.service, engine.db, producer, topic=topic, name=name)
            assert relay.run_until_caught_up() == len(events)
            assert relay.position() == events[-1][0]
        finally:
            producer.close()
        assert len(consume_all(back.bootstrap, topic, len(events))) == len(events)
