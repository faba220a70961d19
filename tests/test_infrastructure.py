"""Proof that the test infrastructure is real: PostgreSQL and a Kafka-protocol broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.consumer.fetcher import ConsumerRecord

from tests.support.kafka import TansuBroker
from tests.support.postgres import ThrowawayPostgres

# Tansu delays group joins by session_timeout/2: keep it short (stack-notes "Kafka").
GROUP_TIMEOUTS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


# -- PostgreSQL ------------------------------------------------------------------------


def test_psycopg_round_trip(postgres: ThrowawayPostgres) -> None:
    url = postgres.create_database(unique("roundtrip"))
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO t VALUES (%s, %s)", (1, "市民来电：路灯不亮"))
        conn.commit()
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT note FROM t WHERE id = 1").fetchone()
        server_encoding = conn.execute("SHOW server_encoding").fetchone()
        fsync = conn.execute("SHOW fsync").fetchone()
    assert row == ("市民来电：路灯不亮",)
    assert server_encoding == ("UTF8",)
    assert fsync == ("off",)


def test_psycopg_runs_on_its_c_implementation() -> None:
    """The project's dependencies bring psycopg's C implementation: on its ctypes fallback
    ("python") a PostgreSQL command cost ~3x the CPU (bench scaleout, 2026-12-07)."""
    assert psycopg.pq.__impl__ in ("binary", "c"), psycopg.pq.__impl__


def test_create_database_gives_isolated_databases(postgres: ThrowawayPostgres) -> None:
    url_a = postgres.create_database(unique("iso_a"))
    url_b = postgres.create_database(unique("iso_b"))
    assert url_a != url_b
    with psycopg.connect(url_a, autocommit=True) as conn:
        conn.execute("CREATE TABLE only_in_a (x int)")
        conn.execute("INSERT INTO only_in_a VALUES (42)")
    with psycopg.connect(url_b, autocommit=True) as conn:
        found = conn.execute("SELECT to_regclass('public.only_in_a')").fetchone()
        assert found == (None,)
        conn.execute("CREATE TABLE only_in_a (x int)")  # same name, no clash
        assert conn.execute("SELECT count(*) FROM only_in_a").fetchone() == (0,)
    with psycopg.connect(url_a) as conn:
        assert conn.execute("SELECT x FROM only_in_a").fetchall() == [(42,)]


class Ticket(Aggregate):
    """Trivial aggregate: enough to prove events are written and replayed."""

    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title
        self.notes: list[str] = []

    @event("Noted")
    def note(self, text: str) -> None:
        self.notes.append(text)


class Tickets(Application[UUID]):
    pass


@pytest.fixture
def tickets_env(postgres: ThrowawayPostgres) -> dict[str, str]:
    dbname = unique("es")
    postgres.create_database(dbname)
    return postgres.env(dbname)


def test_eventsourcing_application_on_postgres(
    postgres: ThrowawayPostgres, tickets_env: dict[str, str]
) -> None:
    app = Tickets(env=tickets_env)
    try:
        ticket = Ticket("井盖缺失")
        ticket.note("已派单")
        app.save(ticket)
        ticket_id = ticket.id
    finally:
        app.close()
        del app

    # A fresh application instance must replay the aggregate from PostgreSQL.
    reader = Tickets(env=tickets_env)
    try:
        loaded: Ticket = reader.repository.get(ticket_id)
        assert loaded.title == "井盖缺失"
        assert loaded.notes == ["已派单"]
        assert loaded.version == 2
    finally:
        reader.close()
        del reader

    # And the events really are rows in that database (not in-memory persistence).
    with psycopg.connect(postgres.url_for(tickets_env["POSTGRES_DBNAME"])) as conn:
        count = conn.execute("SELECT count(*) FROM tickets_events").fetchone()
    assert count == (2,)


# -- Kafka (Tansu) ---------------------------------------------------------------------


@pytest.fixture
def topic(kafka_broker: TansuBroker) -> Iterator[str]:
    name = unique("orders")
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])
    finally:
        admin.close()
    yield name


def produce(bootstrap: str, topic: str, messages: list[tuple[str, str]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for key, value in messages:
            producer.send(
                topic,
                key=key.encode(),
                value=value.encode(),
                headers=[("event-type", b"Noted"), ("trace", value.encode())],
            )
        producer.flush(timeout=10)
    finally:
        producer.close()


def consume(consumer: KafkaConsumer, expected: int, timeout: float = 20.0) -> list[ConsumerRecord]:
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    while len(records) < expected and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    return records


def group_consumer(bootstrap: str, topic: str, group: str) -> KafkaConsumer:
    return KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # "latest" is wrong in this Tansu build
        **GROUP_TIMEOUTS,
    )


def test_kafka_keyed_headers_group_commit_and_resume(kafka_broker: TansuBroker, topic: str) -> None:
    group = unique("grp")
    first = [(f"wo-{i % 4}", f"first-{i}") for i in range(12)]
    produce(kafka_broker.bootstrap, topic, first)

    consumer = group_consumer(kafka_broker.bootstrap, topic, group)
    try:
        got = consume(consumer, len(first))
        assert sorted(r.value.decode() for r in got) == sorted(v for _, v in first)
        # Same key, same partition: per-work-order ordering depends on this.
        partitions_by_key: dict[bytes, set[int]] = {}
        for r in got:
            partitions_by_key.setdefault(r.key, set()).add(r.partition)
            assert dict(r.headers) == {"event-type": b"Noted", "trace": r.value}
        assert all(len(p) == 1 for p in partitions_by_key.values())
        # Per key, the order of production is preserved.
        for key in partitions_by_key:
            values = [r.value.decode() for r in got if r.key == key]
            assert values == [v for k, v in first if k.encode() == key]
        consumer.commit()
        committed = {p: consumer.committed(TopicPartition(topic, p)) for p in range(3)}
        assert sum(o or 0 for o in committed.values()) == len(first)
    finally:
        consumer.close()

    second = [(f"wo-{i % 4}", f"second-{i}") for i in range(5)]
    produce(kafka_broker.bootstrap, topic, second)

    # Same group, new member: must resume after the committed offsets, not replay.
    resumed = group_consumer(kafka_broker.bootstrap, topic, group)
    try:
        got2 = consume(resumed, len(second))
        got2.extend(consume(resumed, 1, timeout=1.0))  # nothing more may arrive
        assert sorted(r.value.decode() for r in got2) == sorted(v for _, v in second)
    finally:
        resumed.close()
