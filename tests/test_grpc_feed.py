"""The department feed: what concerns a unit, in order, resumable without loss or
duplicates across client reconnects and server restarts."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.grpc.gen.rexian.department.v1 import department_service_pb2 as pb
from adapters.grpc.gen.rexian.ticket.v1 import ticket_service_pb2 as ticket_pb
from domain.values import Actor
from tests.conftest import SimClock
from tests.test_grpc_support import (
    CITY,
    WATER,
    FeedReader,
    Running,
    dept_token,
    positions,
    running_fixture,
    start,
)

SUPERVISOR = "区政府"


@pytest.fixture
def running(tmp_path: Path, clock: SimClock) -> Iterator[Running]:
    engine = build_engine(str(tmp_path / "rexian.db"), clock=clock)
    yield from running_fixture(engine)
    engine.close()


def stored_feed(engine: Engine, dept: str) -> list[int]:
    """The department's feed as stored (the reference for loss/duplicate checks)."""
    with engine.db.transaction(immediate=False) as cur:
        rows = cur.execute("SELECT position FROM rexian_department_feed WHERE dept = ? "
                           "ORDER BY position", (dept,)).fetchall()
    return [int(r[0]) for r in rows]


def test_feed_delivers_what_concerns_the_unit_in_order(running: Running,
                                                        clock: SimClock) -> None:
    t, c = running.tickets, running.centre
    water = FeedReader(running.channel, dept_token(running.engine, WATER), WATER, after=0)
    city = FeedReader(running.channel, dept_token(running.engine, CITY), CITY, after=0)
    no = running.dispatched(WATER, assist=(CITY,))
    t.Sign(ticket_pb.SignRequest(ticket_no=no, dept=WATER), metadata=c)
    t.Resolve(ticket_pb.ResolveRequest(ticket_no=no, dept=WATER, reply="好"), metadata=c)
    t.RecordCallback(ticket_pb.RecordCallbackRequest(ticket_no=no, result="不满意"),
                     metadata=c)
    t.RequestExtension(ticket_pb.RequestExtensionRequest(ticket_no=no, dept=WATER, days=1,
                                                         reason="r"), metadata=c)
    t.DenyExtension(ticket_pb.DenyExtensionRequest(ticket_no=no, reason="否"), metadata=c)
    got = water.wait_for(6)
    assert [(e.type, e.relation) for e in got] == [
        ("Dispatched", "lead"), ("Signed", "lead"), ("Resolved", "lead"),
        ("Reopened", "supervision"), ("ExtensionRequested", "lead"), ("ExtensionDenied", "lead")]
    assert [(e.type, e.relation) for e in city.wait_for(1)] == [("Dispatched", "assist")]
    assert positions(got) == sorted(set(positions(got)))
    assert all(e.ticket_no == no for e in got)
    reopened = json.loads(got[3].payload_json)
    assert reopened["supervision"]["dept"] == WATER and reopened["state"] == "办理中"
    for event in got:
        payload = json.loads(event.payload_json)
        assert not {"personal", "citizen_id", "caller_phone", "caller_name"} & set(payload)
        assert "13800138000" not in event.payload_json

    # The deadline ladder: reminders to the lead, supervision and calls to its supervisor.
    late = running.dispatched(WATER)
    clock.advance(days=40)
    assert running.engine.service.escalate_due(late) == ["warning", "level1", "level2",
                                                         "level3"]
    supervisor = FeedReader(running.channel, dept_token(running.engine, SUPERVISOR),
                            SUPERVISOR, after=0)

    def ladder(reader: FeedReader) -> list[tuple[str, str, str | None]]:
        return [(e.type, e.relation, json.loads(e.payload_json).get("step"))
                for e in reader.events if e.ticket_no == late and e.type != "Dispatched"]

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (len(ladder(water)) < 5
                                           or len(ladder(supervisor)) < 3):
        time.sleep(0.02)
    assert ladder(water) == [
        ("Escalated", "target", "warning"), ("OutboundCallRequested", "target", None),
        ("Escalated", "lead", "level1"), ("Escalated", "lead", "level2"),
        ("Escalated", "lead", "level3")]
    assert ladder(supervisor) == [
        ("Escalated", "target", "level1"), ("OutboundCallRequested", "target", None),
        ("Escalated", "supervision", "level2")]
    for event in water.events + supervisor.events:
        assert "citizen_id" not in json.loads(event.payload_json)
    supervisor.cancel()
    water.cancel()
    city.cancel()


def _produce(running: Running, count: int, pause: float = 0.0) -> list[str]:
    made = []
    for _ in range(count):
        made.append(running.dispatched(WATER))
        if pause:
            time.sleep(pause)
    return made


def test_reconnect_mid_stream_no_loss_no_duplicates(running: Running) -> None:
    token = dept_token(running.engine, WATER)
    first = FeedReader(running.channel, token, WATER, after=0)
    producer = threading.Thread(target=_produce, args=(running, 40, 0.005))
    producer.start()
    first.wait_for(8)
    received = first.cancel()  # disconnect while events keep coming
    assert first.error is not None and first.error.code() == grpc.StatusCode.CANCELLED  # type: ignore[attr-defined]
    second = FeedReader(running.channel, token, WATER, after=received[-1].position)
    producer.join()
    rest = second.wait_for(40 - len(received))
    time.sleep(0.1)  # nothing more may arrive
    rest = second.cancel()
    combined = positions(received) + positions(rest)
    assert combined == stored_feed(running.engine, WATER)
    assert len(combined) == len(set(combined)) == 40


def test_server_restart_no_loss_no_duplicates(tmp_path: Path, clock: SimClock) -> None:
    path = str(tmp_path / "rexian.db")
    engine = build_engine(path, clock=clock)
    run = start(engine)
    token = dept_token(engine, WATER)
    reader = FeedReader(run.channel, token, WATER, after=0)
    _produce(run, 10)
    got = reader.wait_for(10)
    run.close()  # graceful stop: the stream ends
    reader.join()
    got = list(reader.events)
    engine.close()

    engine = build_engine(path, clock=clock)
    try:
        # Written while no server runs (another front end, e.g. the CLI).
        actor = Actor("dispatcher", "centre")
        for _ in range(5):
            no = engine.service.intake(channel="电话", category="投诉", urgency="一般",
                                       region="甬江区", content="c", caller_name="王五",
                                       caller_phone="13700137000", actor=actor)
            engine.service.dispatch(no, dept=WATER, assist=[], actor=actor)
        run = start(engine)
        try:
            resumed = FeedReader(run.channel, token, WATER, after=got[-1].position)
            _produce(run, 5)
            rest = resumed.wait_for(10)
            time.sleep(0.1)
            rest = resumed.cancel()
            combined = positions(got) + positions(rest)
            assert combined == stored_feed(engine, WATER)
            assert len(set(combined)) == 20
        finally:
            run.close()
    finally:
        engine.close()


def test_ack_is_kept_server_side(db_url: str, clock: SimClock) -> None:
    """On SQLite and PostgreSQL: a subscriber without after_position resumes after its ack."""
    engine = build_engine(db_url, clock=clock)
    run = start(engine)
    try:
        water = run.dept(WATER)
        made = _produce(run, 3)
        reader = FeedReader(run.channel, dept_token(engine, WATER), WATER)  # from the ack: 0
        got = reader.wait_for(3)
        reader.cancel()
        assert [e.ticket_no for e in got] == made
        ack = run.feed.Ack(pb.AckRequest(department=WATER, position=got[1].position),
                           metadata=water)
        assert ack.acked_position == got[1].position
        # Acks never move back; acking beyond the feed is refused.
        assert run.feed.Ack(pb.AckRequest(position=got[0].position),
                            metadata=water).acked_position == got[1].position
        with pytest.raises(grpc.RpcError) as excinfo:
            run.feed.Ack(pb.AckRequest(position=10**9), metadata=water)
        assert excinfo.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
        assert excinfo.value.details().startswith("position: ")  # type: ignore[attr-defined]
        resumed = FeedReader(run.channel, dept_token(engine, WATER), WATER)
        assert positions(resumed.wait_for(1)) == [got[2].position]
        time.sleep(0.1)
        assert len(resumed.cancel()) == 1
    finally:
        run.close()
        engine.close()


def test_wakes_on_writes_by_other_processes(tmp_path: Path, clock: SimClock) -> None:
    """Events saved by another engine on the same store reach the feed by polling."""
    path = str(tmp_path / "rexian.db")
    engine = build_engine(path, clock=clock)
    other = build_engine(path, clock=clock)
    run = start(engine)
    try:
        reader = FeedReader(run.channel, dept_token(engine, WATER), WATER, after=0)
        actor = Actor("dispatcher", "centre")
        no = other.service.intake(channel="电话", category="投诉", urgency="一般",
                                  region="甬江区", content="c", caller_name="王五",
                                  caller_phone="13700137000", actor=actor)
        other.service.dispatch(no, dept=WATER, assist=[], actor=actor)
        assert reader.wait_for(1, timeout=5)[0].ticket_no == no
        reader.cancel()
    finally:
        run.close()
        other.close()
        engine.close()
