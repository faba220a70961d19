"""Scale-out on PostgreSQL (issue 15, item 3): N engine processes on one database.

Real processes throughout (this module doubles as the worker: `python -m
tests.test_scaleout MODE GO_DIR URL ...`): each worker builds its engine, reports `ready
i` and waits for the start file GO_DIR/go-i, so all of them hit the database at the same
moment. Checked here: the schema is created once without a start-up race; ticket numbers
stay unique and gap-free across 4 writing processes; each deadline step is taken exactly
once by 4 processes ticking the same due orders; a projection follower process (LISTEN/
NOTIFY) applies every event once, also under rolled-back and held-open transactions; the
department feed is served by every worker; the Kafka relay runs on one leader at a time and
fails over on kill -9 without losing an event.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2_grpc as ticket_grpc
from adapters.sqldb import parse_db_url
from domain.service import SHANGHAI
from domain.values import Actor
from projections.runner import TRACKING, ProjectionRunner
from projections.sql import Cursor
from tests.support.kafka import TansuBroker
from tests.support.postgres import ThrowawayPostgres
from tests.support.procs import PythonProcess

ROOT = Path(__file__).resolve().parents[1]
AGENT = Actor("agent", "A007")
WORKERS = 4
INTAKE_DAY = datetime(2025, 10, 9, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


# ----- the worker ---------------------------------------------------------------------
def _await_go(go_dir: Path, i: int) -> None:
    print(f"ready {i}", flush=True)
    deadline = time.monotonic() + 120
    while not (go_dir / f"go-{i}").exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"no go-{i} within 120 s")
        time.sleep(0.001)


def worker(argv: list[str]) -> int:
    mode, go_dir, url, rest = argv[0], Path(argv[1]), argv[2], argv[3:]
    if mode == "schema":
        # The bare application first (eventsourcing's own create_table, guarded by the
        # recorder), then a whole engine with every read model (side tables).
        from adapters.follower import all_runners
        from domain.service import WorkOrderService

        _await_go(go_dir, 0)
        app = WorkOrderService(parse_db_url(url).eventsourcing_env(), numbers=None,  # type: ignore[arg-type]
                               vault=None, departments=None)  # type: ignore[arg-type]
        del app
        engine = build_engine(url)
        all_runners(engine)
        engine.close()
        print("exit 0 schema", flush=True)
        return 0
    if mode == "intake":
        count, threads = int(rest[0]), int(rest[1])
        engine = build_engine(url, clock=lambda: INTAKE_DAY)
        engine.service.refresh_calendar()
        _await_go(go_dir, 0)

        def one(n: int) -> str:
            return engine.service.intake(
                channel="电话", category="投诉", urgency="一般", region="甬江区东湖街道",
                content=f"第{n}号", caller_name="张三", caller_phone="13800138000",
                actor=AGENT)

        with ThreadPoolExecutor(threads) as pool:
            made = list(pool.map(one, range(count)))
        collisions = engine.service.numbers.collisions
        engine.close()
        print("result " + json.dumps(made), flush=True)
        print(f"collisions {collisions}", flush=True)
        print("exit 0 intake", flush=True)
        return 0
    if mode == "tick":
        from adapters import ticker

        rotate = int(os.environ.get("SCALEOUT_ROTATE", "0"))
        if rotate:
            # This worker walks the due orders from elsewhere in the list (as a process
            # that started its tick a little later would find them): workers both meet
            # head-on and split the work.
            due = ticker.due_tickets

            def rotated(cur: Any, at: float) -> list[str]:
                found = due(cur, at)
                cut = len(found) * rotate // WORKERS
                return found[cut:] + found[:cut]

            ticker.due_tickets = rotated  # type: ignore[assignment]
        now = [datetime.fromisoformat(rest[0]).replace(tzinfo=SHANGHAI)]
        engine = build_engine(url, clock=lambda: now[0])
        for i, instant in enumerate(rest):
            now[0] = datetime.fromisoformat(instant).replace(tzinfo=SHANGHAI)
            engine.service.refresh_calendar()
            engine.catch_up()
            _await_go(go_dir, i)
            began = time.time()
            counts = ticker.tick(engine)
            print(f"timing {began:.3f} {time.time():.3f}", flush=True)
            print("result " + json.dumps(counts), flush=True)
            print(f"exit 0 tick {i}", flush=True)
        engine.close()
        return 0
    raise SystemExit(f"unknown mode {mode}")


def start_workers(mode: str, go_dir: Path, url: str, *args: str,
                  count: int = WORKERS) -> list[PythonProcess]:
    go_dir.mkdir(exist_ok=True)
    # Workers 0 and 1 walk the same list in the same order; 2 and 3 start further on.
    return [PythonProcess("tests.test_scaleout", mode, str(go_dir), url, *args, cwd=str(ROOT),
                          env={"REXIAN_SIMULATION": "1",
                               "SCALEOUT_ROTATE": str(max(0, i - 1))})
            for i in range(count)]


def go(procs: list[PythonProcess], go_dir: Path, i: int = 0) -> None:
    for p in procs:
        p.wait_for_line(rf"^ready {i}$", timeout=120)
    (go_dir / f"go-{i}").touch()


def results(procs: list[PythonProcess], label: str) -> list[Any]:
    found = []
    for p in procs:
        p.wait_for_line(rf"^exit 0 {label}$", timeout=120)
        line = [x for x in p.lines if x.startswith("result ")][-1]
        p.lines.remove(line)
        found.append(json.loads(line.removeprefix("result ")))
    return found


@pytest.fixture
def pg_url(postgres: ThrowawayPostgres) -> str:
    return postgres.create_database(f"scale_{uuid.uuid4().hex[:12]}")


# ----- (a) schema once ---------------------------------------------------------------
def test_workers_started_together_create_the_schema_once(postgres: ThrowawayPostgres,
                                                         tmp_path: Path) -> None:
    for attempt in range(3):
        url = postgres.create_database(f"schema_{uuid.uuid4().hex[:12]}")
        go_dir = tmp_path / f"go{attempt}"
        procs = start_workers("schema", go_dir, url)
        try:
            go(procs, go_dir)
            for p in procs:
                p.wait_for_line(r"^exit 0 schema$", timeout=120)
                assert p.proc.wait(timeout=30) == 0, p.output()
        finally:
            for p in procs:
                p.kill()


# ----- (b) ticket numbers + (d) a follower process on LISTEN/NOTIFY ------------------------
def test_four_writers_unique_gap_free_numbers_and_follower_applies_each_once(
        pg_url: str, tmp_path: Path) -> None:
    engine = build_engine(pg_url)  # schema in place; the follower below uses it too
    follower = PythonProcess("adapters.follower", "--db", pg_url, "--projection", "tickets",
                             "--interval", "30", cwd=str(ROOT))
    try:
        follower.wait_for_line(r"^follower ready projections=tickets wake=listen ", timeout=60)
        per_worker = 40
        procs = start_workers("intake", tmp_path / "go", pg_url, str(per_worker), "4")
        try:
            go(procs, tmp_path / "go")
            made = [n for found in results(procs, "intake") for n in found]
            collisions = [int(x.split()[1]) for p in procs for x in p.lines
                          if x.startswith("collisions ")]
        finally:
            for p in procs:
                p.kill()
        total = WORKERS * per_worker
        # Workers take turns at the day's numbers: none hands out a number another stored.
        assert collisions == [0] * WORKERS
        assert len(made) == len(set(made)) == total
        assert sorted(made) == [f"20251009{n:04d}" for n in range(1, total + 1)]  # no gap
        # The follower process alone brings the ticket list up to date, woken by NOTIFY
        # (its poll interval is 30 s: only the doorbell can explain a quick catch-up).
        head = engine.service.recorder.max_notification_id()
        deadline = time.monotonic() + 20
        while tracked(engine, "tickets") != head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tracked(engine, "tickets") == head
        with engine.db.transaction(immediate=False) as cur:
            rows = cur.execute("SELECT ticket_no FROM rexian_tickets").fetchall()
        assert sorted(r[0] for r in rows) == sorted(made)
    finally:
        follower.kill()
        engine.close()


def tracked(engine: Engine, name: str) -> int:
    with engine.db.transaction(immediate=False) as cur:
        row = cur.execute(f"SELECT position FROM {TRACKING} WHERE projection = ?",
                          (name,)).fetchone()
    return int(row[0]) if row else -1


# ----- (c) each tick step once across 4 processes ----------------------------------------
def test_four_processes_ticking_the_same_due_orders_take_each_step_once(
        pg_url: str, tmp_path: Path, clock: Any) -> None:
    from tests.test_ladder import UNIT, new_order, unit
    from tests.test_tick_concurrency import ORDERS, PLANNED, ROUNDS, escalations

    engine = build_engine(pg_url, clock=clock)
    try:
        tickets = [new_order(engine, clock) for _ in range(ORDERS)]
        clock.set("2025-10-10T10:00:00")
        for ticket in tickets[:PLANNED]:
            engine.service.report_plan(ticket, dept=UNIT, eta=clock.now, note="已安排",
                                       actor=unit())
        instants = [now for now, _ in ROUNDS]
        go_dir = tmp_path / "go"
        procs = start_workers("tick", go_dir, pg_url, *instants)
        split = 0
        try:
            for i, (now, expected) in enumerate(ROUNDS):
                go(procs, go_dir, i)
                counts = results(procs, f"tick {i}")
                spans = [[float(t) for t in [x for x in p.lines if x.startswith("timing ")][-1]
                          .split()[1:]] for p in procs]
                # All four ticks were running at one moment: they really raced.
                assert max(b for b, _ in spans) < min(e for _, e in spans), spans
                total: Counter[str] = Counter()
                for c in counts:
                    assert c["revised"] == 0
                    total.update(c)
                assert {k: v for k, v in total.items() if v} == expected, (now, counts)
                split += sum(1 for c in counts if sum(c.values())) > 1
        finally:
            for p in procs:
                p.kill()
        taken = escalations(engine)
        assert all(n == 1 for n in taken.values()), taken  # no step twice...
        assert len(taken) == ORDERS * 4 - PLANNED  # ...and none missing
        for ticket in tickets:
            view = engine.service.show(ticket)
            assert view["escalation_level"] == 3 and len(view["supervision_orders"]) == 1
        # Not asserted: whether the steps were split between processes or one batch took
        # them all and the others' saves conflicted (group commit writes a tick's orders
        # in one transaction) depends on timing.
        print(f"rounds where several of {WORKERS} processes took steps: {split}/{len(ROUNDS)}")
    finally:
        engine.close()


# ----- (d) gap-free following under rollbacks and held-open transactions -------------------
class Seen:
    """A read model that records every application (duplicates would show as count > 1)."""

    name = "scaleout_seen"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS scaleout_seen (position BIGINT NOT NULL)")

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute("DROP TABLE IF EXISTS scaleout_seen")

    def apply(self, cur: Cursor, notification: Any, event: Any) -> None:
        cur.execute("INSERT INTO scaleout_seen (position) VALUES (?)", (notification.id,))


class Statement:
    """A side-table write saved with the events (runs inside the insert transaction,
    after the table lock and the notification ids: see adapters/sealed_postgres.py)."""

    def __init__(self, sql: str) -> None:
        self.sql = sql

    def statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(self.sql, ())]

    def committed(self) -> None:
        pass


def seen_vs_log(engine: Engine) -> tuple[list[int], list[int]]:
    """(skipped, duplicated): log ids the read model lacks, ids it applied twice."""
    log_ids = [n.id for n in engine.service.recorder.select_notifications(start=1,
                                                                          limit=1_000_000)]
    with engine.db.transaction(immediate=False) as cur:
        applied = Counter(int(r[0]) for r in
                          cur.execute("SELECT position FROM scaleout_seen").fetchall())
    return sorted(set(log_ids) - set(applied)), sorted(p for p, n in applied.items() if n > 1)


def waiting_for(conn: psycopg.Connection[Any], locktype: str, timeout: float = 30.0) -> None:
    """Until some session waits for a lock of `locktype` (advisory, relation)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = %s AND NOT granted",
                           (locktype,)).fetchone()
        if row and row[0]:
            return
        time.sleep(0.01)
    raise TimeoutError(f"no session waiting for a {locktype} lock")


def _intake(engine: Engine, n: int, staged: list[Any] | None = None) -> None:
    from domain.workorder import WorkOrder

    order = WorkOrder.register(
        ticket_no=f"2099010{n:05d}", channel="电话", category="投诉", urgency="一般",
        region="甬江区", content="c", citizen_id=f"c{n}", personal="t", actor=AGENT,
        at=datetime.now(UTC), dispatch_due_at=None)
    engine.service.save(order, **({"staged": staged} if staged else {}))


def test_follower_skips_nothing_and_applies_nothing_twice_under_rollbacks_and_held_commits(
        pg_url: str) -> None:
    engine = build_engine(pg_url, deadlines=None)
    writer = build_engine(pg_url, deadlines=None)
    runner = ProjectionRunner(engine.service, engine.db, Seen(), batch_size=7)
    other = ProjectionRunner(writer.service, writer.db, Seen(), batch_size=5)
    blocker = psycopg.connect(pg_url, autocommit=True)
    counter = iter(range(1, 100_000))
    try:
        # 1. Concurrent writers, every third transaction rolled back after it drew its
        #    notification ids (a failing statement inside the insert transaction), while
        #    two runners follow at once. (Also the regression test for a pooled connection
        #    poisoned by a failed pipeline: 'prepared statement "_pg3_N" does not exist'.)
        stop = threading.Event()
        failures: list[BaseException] = []

        def write(target: Engine) -> None:
            for _ in range(60):
                n = next(counter)
                injected = n % 3 == 0
                try:
                    _intake(target, n, [Statement("SELECT 1/0")] if injected else None)
                except Exception as error:  # noqa: BLE001 - the injected rollbacks
                    # psycopg reports the injected failure as the division or, when a
                    # later statement of the same pipeline fetches first, PipelineAborted.
                    if not injected:
                        failures.append(RuntimeError(f"save {n}: {error!r}"))
                else:
                    if injected:
                        failures.append(AssertionError(f"save {n} committed past 1/0"))

        def follow(r: ProjectionRunner) -> None:
            while not stop.is_set():
                r.catch_up()

        followers = [threading.Thread(target=follow, args=(r,)) for r in (runner, other)]
        writers = [threading.Thread(target=write, args=(e,)) for e in (engine, writer) * 2]
        for t in followers + writers:
            t.start()
        for t in writers:
            t.join()
        stop.set()
        for t in followers:
            t.join()
        assert not failures, failures
        runner.catch_up()
        ids = [n.id for n in engine.service.recorder.select_notifications(1, 1_000_000)]
        assert max(ids) > len(ids)  # rolled-back transactions left holes in the ids
        assert seen_vs_log(engine) == ([], [])

        # 2. A transaction that drew its id and is held open (blocked inside, before its
        #    commit) while another writer tries to commit a later one.
        blocker.execute("SELECT pg_advisory_lock(4242)")
        held = threading.Thread(target=_intake, args=(
            engine, next(counter), [Statement("SELECT pg_advisory_lock_shared(4242)")]))
        held.start()
        waiting_for(blocker, "advisory")  # inside its insert transaction: ids drawn, table locked
        later = threading.Thread(target=_intake, args=(writer, next(counter)))
        later.start()
        waiting_for(blocker, "relation")  # the later writer queues for the table lock
        # The later writer cannot commit ahead of the held one: it waits for the table
        # lock, so no reader can see a later id and pass over the held one.
        assert held.is_alive() and later.is_alive()
        before = runner.position()
        assert runner.catch_up() == 0 and runner.position() == before
        blocker.execute("SELECT pg_advisory_unlock(4242)")
        held.join(10)
        later.join(10)
        runner.catch_up()
        assert runner.position() == engine.service.recorder.max_notification_id()
        assert seen_vs_log(engine) == ([], [])

        # 3. The same, with the held transaction rolled back in the end: its id is a
        #    permanent hole; the later event is applied, nothing twice.
        blocker.execute("SELECT pg_advisory_lock(4243)")
        outcome: list[BaseException] = []

        def doomed(n: int) -> None:
            try:
                _intake(engine, n, [Statement("SELECT pg_advisory_lock_shared(4243)"),
                                    Statement("SELECT 1/0")])
            except Exception as error:  # noqa: BLE001 - the injected rollback
                outcome.append(error)

        held = threading.Thread(target=doomed, args=(next(counter),))
        held.start()
        waiting_for(blocker, "advisory")
        later = threading.Thread(target=_intake, args=(writer, next(counter)))
        later.start()
        waiting_for(blocker, "relation")
        assert runner.catch_up() == 0
        blocker.execute("SELECT pg_advisory_unlock(4243)")
        held.join(10)
        later.join(10)
        assert runner.catch_up() == 1
        assert len(outcome) == 1 and "division by zero" in str(outcome[0])
        assert seen_vs_log(engine) == ([], [])
    finally:
        blocker.close()
        writer.close()
        engine.close()


def test_the_skip_check_is_not_vacuous_a_writer_bypassing_the_lock_is_passed_over(
        pg_url: str) -> None:
    """Why the table lock matters: a raw INSERT that skips it can commit a later id first,
    and a follower then passes over the earlier one for good. seen_vs_log reports it."""
    engine = build_engine(pg_url, deadlines=None)
    runner = ProjectionRunner(engine.service, engine.db, Seen())
    first = psycopg.connect(pg_url)
    second = psycopg.connect(pg_url)
    try:
        _intake(engine, 1)
        template = engine.service.recorder.select_notifications(1, 1)[0]
        insert = ("INSERT INTO rexian_events (originator_id, originator_version, topic, state) "
                  "VALUES (%s, %s, %s, %s) RETURNING notification_id")
        early = first.execute(insert, (uuid.uuid4(), 1, template.topic,
                                       template.state)).fetchone()[0]
        late = second.execute(insert, (uuid.uuid4(), 1, template.topic,
                                       template.state)).fetchone()[0]
        second.commit()  # the later id commits while the earlier is still open
        runner.catch_up()
        first.commit()
        runner.catch_up()
        assert seen_vs_log(engine) == ([early], [])
        assert late > early
    finally:
        first.close()
        second.close()
        engine.close()


# ----- (f) the department feed from any worker ------------------------------------------
@pytest.fixture
def serve_workers(pg_url: str) -> Iterator[list[tuple[PythonProcess, str]]]:
    """Three `rexian serve` processes started at the same moment on a fresh database."""
    procs = [PythonProcess("tools.cli", "--db", pg_url, "serve", "--grpc", "127.0.0.1:0",
                           "--interval", "0.5", cwd=str(ROOT))
             for _ in range(3)]
    try:
        workers = []
        for proc in procs:
            line = proc.wait_for_line(r"^gRPC: 127\.0\.0\.1:\d+", timeout=60)
            found = re.search(r"127\.0\.0\.1:\d+", line)
            assert found is not None
            workers.append((proc, found.group(0)))
        yield workers
    finally:
        for proc in procs:
            proc.kill()


def test_the_department_feed_is_served_by_every_worker(
        pg_url: str, serve_workers: list[tuple[PythonProcess, str]]) -> None:
    from tests.test_grpc_support import WATER, FeedReader, centre_token, dept_token, md

    engine = build_engine(pg_url)
    CENTRE_TOKEN = centre_token(engine)  # in the shared store: every worker accepts it
    channels = [grpc.insecure_channel(address) for _, address in serve_workers]
    readers: list[Any] = []
    try:
        token = dept_token(engine, WATER)
        readers = [FeedReader(channel, token, WATER, after=0) for channel in channels[1:]]
        stub = ticket_grpc.TicketServiceStub(channels[0])
        made = []
        for n in range(5):  # commands on worker 0 only
            no = stub.Intake(ticket_pb.IntakeRequest(
                channel="电话", category="投诉", urgency="一般", region="甬江区东湖街道",
                content=f"第{n}号", caller_name="张三", caller_phone="13800138000"),
                metadata=md(CENTRE_TOKEN)).ticket.ticket_no
            stub.Dispatch(ticket_pb.DispatchRequest(ticket_no=no, dept=WATER),
                          metadata=md(CENTRE_TOKEN))
            made.append(no)
        for reader in readers:  # subscribers on workers 1 and 2 see every dispatch, once
            events = reader.wait_for(5, timeout=20)
            assert [e.ticket_no for e in events] == made
            assert len({e.position for e in events}) == 5
        with engine.db.transaction(immediate=False) as cur:
            rows = cur.execute("SELECT position, count(*) FROM rexian_department_feed "
                               "WHERE dept = ? GROUP BY position", (WATER,)).fetchall()
        assert len(rows) == 5 and all(int(r[1]) == 1 for r in rows)
        for proc, _ in serve_workers:
            assert proc.proc.poll() is None, proc.output()
    finally:
        for reader in readers:
            reader.cancel()
        for channel in channels:
            channel.close()
        engine.close()


# ----- (e) the Kafka relay: one leader at a time, fail-over on kill -9 ------------------------
def first_with(procs: list[PythonProcess], pattern: str, timeout: float) -> PythonProcess:
    """The first process to print a line matching `pattern`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            try:
                p.wait_for_line(pattern, timeout=0.05)
            except TimeoutError:
                continue
            return p
    raise TimeoutError(f"none printed {pattern!r}: " + "\n---\n".join(p.output() for p in procs))


def test_relay_runs_on_one_leader_and_a_standby_takes_over_when_it_is_killed(
        pg_url: str, kafka_broker: TansuBroker) -> None:
    from adapters.kafka import HEADER_POSITION
    from adapters.kafka.topics import ensure_topics
    from tests.test_kafka_relay import (
        consume_all,
        header,
        make_orders,
        relay_process,
        stored_events,
        stored_position,
        unique,
    )

    bootstrap = kafka_broker.bootstrap
    topic, name = unique("scaleout.events"), unique("relay")
    ensure_topics(bootstrap, {topic: 3})
    engine = build_engine(pg_url)
    relays = [relay_process(pg_url, bootstrap, topic, name, "--batch-size", "20")
              for _ in range(3)]
    stop = threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            make_orders(engine, 2)
            time.sleep(0.05)

    writer = threading.Thread(target=keep_writing)
    try:
        leader = first_with(relays, r"^relay leader pid=", 60)
        standbys = [p for p in relays if p is not leader]
        for p in standbys:
            # first_with's polling may already have read (and passed over) this line.
            deadline = time.monotonic() + 60
            while not any(line.startswith("relay standby ")
                          for line in p.output().splitlines()):
                assert time.monotonic() < deadline, p.output()
                time.sleep(0.05)
        writer.start()
        leader.wait_for_line(r"^relay published \d+ events position=\d+", timeout=30)
        time.sleep(1.0)
        # One leader at a time: the standbys have not relayed anything.
        assert not any("relay leader" in line or "published" in line
                       for p in standbys for line in (p.output().splitlines()))
        assert leader.kill() == -9  # kill -9, mid-stream (its encoder helper goes too)
        killed_at = time.monotonic()
        successor = first_with(standbys, r"^relay leader pid=", 30)
        took_over = time.monotonic() - killed_at
        successor.wait_for_line(r"^relay published \d+ events position=\d+", timeout=30)
        time.sleep(1.0)
        stop.set()
        writer.join()
        events = stored_events(engine)
        deadline = time.monotonic() + 30
        while stored_position(engine, name) < events[-1][0] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stored_position(engine, name) == events[-1][0]
        other = next(p for p in standbys if p is not successor)
        assert "relay leader" not in other.output()
    finally:
        stop.set()
        if writer.is_alive():
            writer.join()
        for p in relays:
            p.kill()
    records = consume_all(bootstrap, topic, len(events))
    in_kafka = Counter(int(header(r, HEADER_POSITION)) for r in records)
    assert set(in_kafka) == {e[0] for e in events}  # none lost...
    resent = sum(in_kafka.values()) - len(in_kafka)  # ...re-sends only from the kill
    print(f"relay fail-over in {took_over:.2f} s; {len(events)} events, {resent} re-sent")
    engine.close()


def test_advisory_leadership_is_exclusive_and_ends_with_its_session(
        pg_url: str, postgres: ThrowawayPostgres) -> None:
    from adapters.leader import AdvisoryLeadership

    config = parse_db_url(pg_url)
    first, second = AdvisoryLeadership(config, "t"), AdvisoryLeadership(config, "t")
    try:
        assert first.try_acquire() and first.held()
        assert not second.try_acquire()
        # The leader's session ends (server restart, network cut): it notices, and the
        # lock is free for the standby.
        pid = first._conn.info.backend_pid
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.2)
        assert not first.held()
        assert second.try_acquire()
        assert not first.try_acquire()  # reconnects, finds the lock taken
        second.release()
        assert first.try_acquire()
    finally:
        first.close()
        second.close()


if __name__ == "__main__":
    sys.exit(worker(sys.argv[1:]))
