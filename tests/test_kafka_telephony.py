"""Telephony reports over Kafka become domain commands exactly once; the runtime wiring
(relay + consumer threads, as `rexian serve --kafka` runs them) stops without loss."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaProducer

from adapters.bootstrap import Engine
from adapters.kafka import HEADER_EVENT_TYPE
from adapters.kafka.avro import decode, workorder_schema
from adapters.kafka.runtime import start_kafka
from adapters.kafka.telephony_consumer import (
    TelephonyConsumer,
    TelephonyDeserializer,
    encode_report,
)
from adapters.kafka.topics import ensure_topics
from adapters.telephony_reports import TelephonyReport
from domain.values import Actor
from tests.support.kafka import TansuBroker
from tests.test_kafka_relay import assigned_consumer

GROUP_TIMEOUTS = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}
AGENT = Actor("agent", "A007")
DEPT = "区水务局"
UNIT = Actor("department", DEPT)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def resolved_order(engine: Engine, n: int = 0) -> str:
    ticket = engine.service.intake(
        channel="电话", category="求助", urgency="一般", region="甬江区",
        content=f"第{n}号：井盖缺失", caller_name="王五", caller_phone="13700001234", actor=AGENT)
    engine.service.dispatch(ticket, dept=DEPT, assist=[], actor=Actor("dispatcher", "D01"))
    engine.service.sign(ticket, dept=DEPT, actor=UNIT)
    engine.service.resolve(ticket, dept=DEPT, reply="已补装井盖", actor=UNIT)
    return ticket


def send(bootstrap: str, topic: str, values: list[tuple[str, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for key, value in values:
            producer.send(topic, key=key.encode(), value=value)
        producer.flush(timeout=10)
    finally:
        producer.close()


def intent(ticket: str, report_id: str, answer: str) -> TelephonyReport:
    return TelephonyReport(report_id=report_id, ticket_no=ticket, kind="intent", intent=answer,
                           transcript=answer, at=datetime.now(UTC), adapter="ivr")


def versions(engine: Engine, ticket: str) -> int:
    return int(engine.service.load(ticket).version)


def test_same_report_twice_changes_the_order_once(
    sqlite_engine: Engine, kafka_broker: TansuBroker
) -> None:
    engine = sqlite_engine
    topic = unique("rexian.telephony.events.t")
    ensure_topics(kafka_broker.bootstrap, {topic: 3})
    first, second = resolved_order(engine, 1), resolved_order(engine, 2)
    before = {t: versions(engine, t) for t in (first, second)}
    report = encode_report(intent(first, "r-1", "满意"))
    send(kafka_broker.bootstrap, topic, [
        (first, report),
        (first, report),  # the adapter retried: same report id
        ("x", b"\x00garbage that is not Avro"),  # skipped, does not block the partition
        (second, encode_report(intent("209912319999", "r-unknown", "满意"))),  # no such order
        (second, encode_report(TelephonyReport(
            report_id="r-2", ticket_no=second, kind="transcript", transcript="你好"))),
    ])

    consumer = TelephonyConsumer.connect(engine, kafka_broker.bootstrap, topic=topic,
                                         group=unique("tel"), **GROUP_TIMEOUTS)
    try:
        deadline = time.monotonic() + 20
        stats = consumer.stats
        while stats.processed + stats.duplicates + stats.rejected < 5 \
                and time.monotonic() < deadline:
            consumer.poll_once(timeout_ms=300)
    finally:
        consumer.close()

    assert engine.service.load(first).state == "已归档"
    assert versions(engine, first) == before[first] + 1  # one CallbackArchived, not two
    assert versions(engine, second) == before[second]  # a transcript changes nothing
    assert consumer.applied == 3  # r-1, r-unknown (refused but consumed), r-2
    assert consumer.stats.duplicates == 1
    assert consumer.stats.rejected == 1  # the garbage record
    with engine.db.transaction(immediate=False) as cur:
        rows = dict(cur.execute("SELECT report_id, status FROM rexian_processed_reports")
                    .fetchall())
    assert rows == {"r-1": "done", "r-unknown": "done", "r-2": "done"}

    # A new consumer group re-reading the topic (or a replay after a crash) changes nothing.
    replay = TelephonyConsumer(engine, assigned_consumer(
        kafka_broker.bootstrap, topic, unique("tel2"), value_deserializer=TelephonyDeserializer()))
    try:
        deadline = time.monotonic() + 20
        while replay.stats.duplicates + replay.stats.rejected < 5 \
                and time.monotonic() < deadline:
            replay.poll_once(timeout_ms=300)
    finally:
        replay.close()
    assert replay.applied == 0 and replay.stats.processed == 0
    assert versions(engine, first) == before[first] + 1


def test_runtime_relays_and_consumes_then_stops_without_loss(
    sqlite_engine: Engine, kafka_broker: TansuBroker
) -> None:
    engine = sqlite_engine
    events_topic, tel_topic = unique("wo.t"), unique("tel.t")
    ticket = resolved_order(engine, 3)
    handle = start_kafka(engine, kafka_broker.bootstrap, workorder_topic=events_topic,
                         telephony_topic=tel_topic, group=unique("tel"),
                         relay_name=unique("relay"), consumer_config=GROUP_TIMEOUTS)
    try:
        send(kafka_broker.bootstrap, tel_topic,
             [(ticket, encode_report(intent(ticket, "rt-1", "不满意")))])
        deadline = time.monotonic() + 20
        while engine.service.load(ticket).state == "已办结" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert engine.service.load(ticket).state != "已办结"  # reopened by the report
        # Stored right before stop(): must still go out.
        engine.service.resolve(ticket, dept=DEPT, reply="已重新处理", actor=UNIT)
    finally:
        handle.stop()
    last = engine.service.recorder.max_notification_id()
    assert handle.position == last

    consumer_records: list[Any] = []
    reader = assigned_consumer(kafka_broker.bootstrap, events_topic)
    try:
        deadline = time.monotonic() + 20
        while len(consumer_records) < (last or 0) and time.monotonic() < deadline:
            for batch in reader.poll(timeout_ms=300).values():
                consumer_records.extend(batch)
    finally:
        reader.close()
    kinds = [dict(r.headers)[HEADER_EVENT_TYPE].decode() for r in consumer_records
             if r.key == ticket.encode()]
    assert kinds[:4] == ["Registered", "Dispatched", "Signed", "Resolved"]
    assert kinds[4:] == ["Reopened", "Resolved"]
    reopened = [decode(workorder_schema(), r.value) for r in consumer_records
                if dict(r.headers)[HEADER_EVENT_TYPE] == b"Reopened"]
    assert reopened[0]["actor_role"] == "robot"
    assert reopened[0]["actor_id"] == "ivr#rt-1"
