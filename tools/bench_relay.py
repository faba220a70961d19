"""Relay throughput and CPU vs raw producers, on a real (Tansu) broker.

`python -m tools.bench relay --json` (or `python -m tools.bench_relay --json`):
pre-populates a SQLite store with N events (many aggregates per save, so it is quick),
then times only the relay publishing them (read the notification log, decode, look up
ticket numbers, Avro-encode, send, flush, commit the position), in alternating rounds:

- the relay as the standalone process runs it (encoding in its own thread): `relay_*`;
- the relay with its encoding helper process (how `serve --kafka` runs it): `helper_*`,
  its CPU split into `relay_sender_*` (this process) and `relay_encoder_*` (the helper);
- the relay's own producer (adapters.kafka.producer, confluent-kafka, same settings)
  sending the same (key, value, headers) already in memory: `raw_*`, and `ratio`;
- kafka-python's producer (the relay's until it moved to confluent-kafka) sending them:
  `kafka_python_raw_*`, and `ratio_vs_kafka_python` (the issue's baseline).

CPU per event counts every thread and process of the side measured (librdkafka's C
threads included); it depends less on other load than events/s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.kafka.relay import DEFAULT_BATCH

ORDERS_PER_SAVE = 100


def populate(engine: Any, events: int) -> int:
    """Store about `events` events (4 per order: registered, dispatched, signed, resolved)."""
    from domain.values import Actor
    from domain.workorder import WorkOrder

    agent = Actor("agent", "bench")
    dept = Actor("department", "区水务局")
    at = datetime(2025, 10, 9, 1, 0, tzinfo=UTC)
    orders_total = max(1, events // 4)
    stored = 0
    for first in range(0, orders_total, ORDERS_PER_SAVE):
        batch = []
        for n in range(first, min(first + ORDERS_PER_SAVE, orders_total)):
            t = at + timedelta(seconds=n)
            order = WorkOrder.register(
                ticket_no=f"20251009{n:06d}", channel="电话", category="求助", urgency="一般",
                region="甬江区", content=f"第{n}号诉求：小区路灯不亮", citizen_id="bench-citizen",
                personal="gAAAA-bench-token", actor=agent, at=t)
            order.dispatch(dept="区水务局", assist=[], actor=Actor("dispatcher", "d1"), at=t)
            order.sign(dept="区水务局", actor=dept, at=t)
            order.resolve(dept="区水务局", reply="已修复", actor=dept, at=t)
            batch.append(order)
        engine.service.save(*batch)
        stored += 4 * len(batch)
    return stored


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process `pid` so far (Linux /proc; 0 if unknown)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Timing:
    def __init__(self, events: int, wall: float, cpu: float, helper_cpu: float = 0.0) -> None:
        self.per_s = events / wall
        self.cpu_us = (cpu + helper_cpu) / events * 1e6  # CPU per event, all processes
        self.main_cpu_us = cpu / events * 1e6
        self.helper_cpu_us = helper_cpu / events * 1e6


def _time_relay(engine: Any, bootstrap: str, topic: str, name: str, batch_size: int,
                inline: bool) -> Timing:
    from adapters.kafka.relay import (
        BatchSource,
        InlineEncoding,
        ProcessEncoding,
        Relay,
        make_producer,
        store_url,
    )

    producer = make_producer(bootstrap)
    # The helper process starts (imports, store connection) outside the timing.
    source: BatchSource = (InlineEncoding(engine.service, batch_size) if inline
                           else ProcessEncoding(store_url(engine.config), batch_size))
    helper = source.helper_pid if isinstance(source, ProcessEncoding) else 0
    try:
        producer.partitions_for(topic)  # metadata and connection, outside the timing
        relay = Relay(engine.service, engine.db, producer, topic=topic, name=name,
                      source=source)
        cpu0, helper0 = time.process_time(), _proc_cpu(helper) if helper else 0.0
        began = time.perf_counter()
        sent = relay.run_until_caught_up()
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu0
        helper_cpu = _proc_cpu(helper) - helper0 if helper else 0.0
    finally:
        producer.close(timeout=30)
        source.close()
    return Timing(sent, elapsed, cpu, helper_cpu)


RawRecords = list[tuple[bytes, bytes, list[tuple[str, bytes]]]]


def _timed_sends(count: int, send_all: Callable[[], Callable[[], bool]],
                 flush: Callable[[], object]) -> Timing:
    """Time `send_all()` and `flush()`; the callable send_all returns tells whether every
    send succeeded (asked after the flush)."""
    cpu0 = time.process_time()
    began = time.perf_counter()
    succeeded = send_all()
    flush()
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu0
    assert succeeded(), "raw producer: a send failed"
    return Timing(count, elapsed, cpu)


def _time_raw(bootstrap: str, topic: str, records: RawRecords) -> Timing:
    """The relay's own producer (make_producer: confluent-kafka, same settings) sending
    the records, already in memory, in batches of the relay's size."""
    from adapters.kafka.relay import make_producer

    producer = make_producer(bootstrap, **{"client.id": "raw-producer"})

    def send_all() -> Callable[[], bool]:
        deliveries = [producer.send_batch([(topic, k, v, h)
                                           for k, v, h in records[n:n + DEFAULT_BATCH]])
                      for n in range(0, len(records), DEFAULT_BATCH)]
        return lambda: all(d.succeeded() for d in deliveries)

    try:
        producer.partitions_for(topic)
        return _timed_sends(len(records), send_all, lambda: producer.flush(timeout=60))
    finally:
        producer.close(timeout=30)


def _time_raw_kafka_python(bootstrap: str, topic: str, records: RawRecords) -> Timing:
    """kafka-python's producer (the relay's until it moved to confluent-kafka), with the
    settings the relay used then, sending the same records: the issue's baseline."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                             linger_ms=5, batch_size=256 * 1024,
                             max_in_flight_requests_per_connection=5, client_id="raw-producer")

    def send_all() -> Callable[[], bool]:
        send = producer.send
        futures = [send(topic, key=k, value=v, headers=h) for k, v, h in records]
        return lambda: all(f.succeeded() for f in futures)

    try:
        producer.partitions_for(topic)
        return _timed_sends(len(records), send_all, lambda: producer.flush(timeout=60))
    finally:
        producer.close(timeout=30)


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench relay")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5,
                        help="Alternating relay/raw rounds; the median of each is reported")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--inline", action="store_true",
                        help="Also print inline_* (the relay_* figures: inline is the default)")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--kafka", default=None,
                        help="Use this broker instead of starting a Tansu broker")
    parser.add_argument("--json", action="store_true", help="(the dispatcher prints JSON)")
    args = parser.parse_args(list(argv) if argv is not None else None)

    from adapters.bootstrap import build_engine
    from adapters.kafka.relay import RecordEncoder
    from adapters.kafka.topics import ensure_topics
    from tests.support.kafka import TansuBroker

    broker = None if args.kafka else TansuBroker().start()
    bootstrap = args.kafka or (broker.bootstrap if broker else "")
    workdir = tempfile.TemporaryDirectory(prefix="rexian-bench-relay-")
    engine = build_engine(str(Path(workdir.name) / "rexian.db"), deadlines=None)
    try:
        began = time.perf_counter()
        stored = populate(engine, args.events)
        populate_s = time.perf_counter() - began
        stamp = f"{int(time.time() * 1000)}"
        relay_topic, raw_topic = f"bench.relay.{stamp}", f"bench.raw.{stamp}"
        ensure_topics(bootstrap, {relay_topic: args.partitions, raw_topic: args.partitions})

        # The raw producer's input: exactly the records the relay sends, prepared up front.
        encoder = RecordEncoder(engine.service)
        notifications = engine.service.recorder.select_notifications(
            start=0, limit=stored + 10, inclusive_of_start=False)
        records = [r for r in map(encoder.record_for, notifications) if r is not None]

        relay_runs: list[Timing] = []
        helper_runs: list[Timing] = []
        raw_runs: list[Timing] = []
        kafka_python_runs: list[Timing] = []
        for round_no in range(args.rounds):
            relay_runs.append(_time_relay(engine, bootstrap, relay_topic, f"bench-{round_no}",
                                          args.batch_size, inline=True))
            helper_runs.append(_time_relay(engine, bootstrap, relay_topic,
                                           f"bench-helper-{round_no}", args.batch_size,
                                           inline=False))
            raw_runs.append(_time_raw(bootstrap, raw_topic, records))
            kafka_python_runs.append(_time_raw_kafka_python(bootstrap, raw_topic, records))

        def median(runs: list[Timing], figure: str, digits: int = 1) -> float:
            return round(statistics.median(getattr(r, figure) for r in runs), digits)

        relay_per_s = statistics.median(r.per_s for r in relay_runs)
        helper_per_s = statistics.median(r.per_s for r in helper_runs)
        raw_per_s = statistics.median(r.per_s for r in raw_runs)
        kafka_python_per_s = statistics.median(r.per_s for r in kafka_python_runs)
        result: dict[str, Any] = {
            "relay_per_s": round(relay_per_s),
            "raw_per_s": round(raw_per_s),
            "ratio": round(relay_per_s / raw_per_s, 3),
            "events": len(records),
            "rounds": args.rounds,
            "relay_rounds_per_s": [round(r.per_s) for r in relay_runs],
            "raw_rounds_per_s": [round(r.per_s) for r in raw_runs],
            # CPU per event, every thread and process of the side: less load-dependent.
            "relay_cpu_us_per_event": median(relay_runs, "cpu_us"),
            "raw_cpu_us_per_event": median(raw_runs, "cpu_us"),
            # The baseline: kafka-python's producer (the relay's before confluent-kafka).
            "kafka_python_raw_per_s": round(kafka_python_per_s),
            "kafka_python_raw_rounds_per_s": [round(r.per_s) for r in kafka_python_runs],
            "kafka_python_raw_cpu_us_per_event": median(kafka_python_runs, "cpu_us"),
            "ratio_vs_kafka_python": round(relay_per_s / kafka_python_per_s, 3),
            # With the encoding helper process (serve --kafka): both processes' CPU, and
            # each one's; they run in parallel when the machine has a core free.
            "helper_relay_per_s": round(helper_per_s),
            "helper_relay_rounds_per_s": [round(r.per_s) for r in helper_runs],
            "helper_ratio": round(helper_per_s / raw_per_s, 3),
            "helper_cpu_us_per_event": median(helper_runs, "cpu_us"),
            "relay_sender_cpu_us_per_event": median(helper_runs, "main_cpu_us"),
            "relay_encoder_cpu_us_per_event": median(helper_runs, "helper_cpu_us"),
            "populate_s": round(populate_s, 2),
            "encoding": "inline (the standalone relay's default); helper_*: helper process",
            "batch_size": args.batch_size,
            "broker": "tansu" if broker else bootstrap,
            # Other work on the machine skews the ratio (the relay uses two processes).
            "cpus": os.cpu_count(),
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "target_ratio": 0.8,
        }
        if args.inline:  # the keys of the time inline encoding was the option
            result["inline_relay_per_s"] = result["relay_per_s"]
            result["inline_ratio"] = result["ratio"]
            result["inline_cpu_us_per_event"] = result["relay_cpu_us_per_event"]
    finally:
        engine.close()
        workdir.cleanup()
        if broker is not None:
            broker.stop()
    return result


if __name__ == "__main__":
    print(json.dumps(run([a for a in sys.argv[1:] if a != "--json"])))
