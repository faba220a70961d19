"""Avro schemas of the Kafka records: round trips, envelope design, schema evolution.

Evolution rule (Avro resolution, writer schema + reader schema): a field added with a
default is compatible both ways. An old reader reading a new record skips the new
field; a new reader reading an old record gets the default.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Transcoding
from fastavro import parse_schema
from fastavro.read import SchemaResolutionError

from adapters.bootstrap import Engine
from adapters.kafka.avro import (
    SCHEMA_DIR,
    decode,
    encode,
    envelope,
    event_id,
    event_id_text,
    parsed_schema,
    raw_schema,
    telephony_schema,
    workorder_schema,
)
from adapters.kafka.flat_avro import record_writer
from adapters.kafka.relay import InlineEncoding, ProcessEncoding, RecordEncoder, store_url
from adapters.kafka.telephony_consumer import deserialize, encode_report, report_from
from adapters.telephony_reports import TelephonyReport
from domain.values import Actor
from domain.workorder import WorkOrder


def evolved_envelope() -> dict[str, Any]:
    """The envelope v2 of this test: one new field, with a default."""
    schema = copy.deepcopy(raw_schema("workorder_event.avsc"))
    schema["fields"].append({"name": "trace_id", "type": "string", "default": "none",
                             "doc": "added in v2 (test)"})
    return schema


def sample_envelope(**changes: Any) -> dict[str, Any]:
    oid = uuid.uuid4()
    record = {
        "event_id": str(event_id(oid, 2)),
        "event_type": "Dispatched",
        "ticket_no": "202510090001",
        "originator_id": str(oid),
        "version": 2,
        "position": 17,
        "occurred_at": datetime(2025, 10, 9, 1, 2, 3, 456000, tzinfo=UTC),
        "actor_role": "dispatcher",
        "actor_id": "D01",
        "payload_json": json.dumps({"dept": "区水务局", "assist": []}, ensure_ascii=False),
        "schema_version": 1,
    }
    record.update(changes)
    return record


def test_schema_files_parse_and_round_trip() -> None:
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.avsc")) == [
        "campaign_event.avsc", "telephony_event.avsc", "workorder_event.avsc"]
    record = sample_envelope()
    back = decode(workorder_schema(), encode(workorder_schema(), record))
    assert back["occurred_at"] == record["occurred_at"]
    assert str(back["event_id"]) == record["event_id"]
    assert json.loads(back["payload_json"]) == {"dept": "区水务局", "assist": []}


def test_event_ids_are_deterministic_uuid5() -> None:
    oid = uuid.uuid4()
    assert event_id(oid, 3) == event_id(str(oid), 3) != event_id(oid, 4)
    assert event_id(oid, 3).version == 5
    for version in range(1, 200):
        assert event_id_text(str(oid), version) == str(event_id(oid, version))


def test_old_reader_reads_new_records_and_new_reader_reads_old_records() -> None:
    old_schema = parse_schema(raw_schema("workorder_event.avsc"))
    new_schema = parse_schema(evolved_envelope())

    # New writer, old reader: the unknown field is skipped, everything else is intact.
    new_bytes = encode(new_schema, {**sample_envelope(), "trace_id": "t-42", "schema_version": 2})
    as_old = decode(new_schema, new_bytes, reader_schema=old_schema)
    assert "trace_id" not in as_old
    assert as_old["ticket_no"] == "202510090001" and as_old["schema_version"] == 2

    # Old writer, new reader: the new field takes its default.
    old_bytes = encode(old_schema, sample_envelope())
    as_new = decode(old_schema, old_bytes, reader_schema=new_schema)
    assert as_new["trace_id"] == "none"
    assert as_new["payload_json"] == sample_envelope()["payload_json"]

    # Without resolution the bytes are not interchangeable (the writer schema matters).
    assert decode(new_schema, new_bytes)["trace_id"] == "t-42"


def test_a_field_added_without_default_is_not_readable_from_old_records() -> None:
    schema = evolved_envelope()
    del schema["fields"][-1]["default"]
    old_schema = parse_schema(raw_schema("workorder_event.avsc"))
    with pytest.raises(SchemaResolutionError, match="No default value for field trace_id"):
        decode(old_schema, encode(old_schema, sample_envelope()),
               reader_schema=parse_schema(schema))


def test_a_new_event_type_needs_no_schema_change(engine: Engine) -> None:
    """Any event class goes through the same envelope: type name + JSON payload."""

    class CitizenThanked(WorkOrder.Event):  # an event type the schema has never heard of
        message: str

    order = WorkOrder.register(
        ticket_no="202510090077", channel="电话", category="表扬", urgency="一般",
        region="甬江区", content="感谢", citizen_id="c-1", personal="secret-token",
        actor=Actor("agent", "A1"), at=datetime(2025, 10, 9, tzinfo=UTC))
    order.trigger_event(CitizenThanked, timestamp=datetime(2025, 10, 9, 1, tzinfo=UTC),
                        actor_role="citizen", actor_id="c-1", prev_hash=order.chain_head,
                        message="谢谢")
    events = order.collect_events()
    body = envelope(events[1], position=2, ticket_no=order.ticket_no)
    back = decode(workorder_schema(), encode(workorder_schema(), body))
    assert back["event_type"] == "CitizenThanked"
    assert json.loads(back["payload_json"])["message"] == "谢谢"
    registered = json.loads(envelope(events[0], 1, order.ticket_no)["payload_json"])
    assert "personal" not in registered and "citizen_id" not in registered
    assert "secret-token" not in json.dumps(registered)


def test_relay_encoder_finds_ticket_numbers_for_orders_created_before_it_started(
    engine: Engine,
) -> None:
    ticket = engine.service.intake(
        channel="电话", category="求助", urgency="一般", region="甬江区", content="路灯不亮",
        caller_name="赵六", caller_phone="13600002222", actor=Actor("agent", "A1"))
    engine.service.dispatch(ticket, dept="区水务局", assist=[], actor=Actor("dispatcher", "D"))
    notifications = engine.service.recorder.select_notifications(start=0, limit=10,
                                                                 inclusive_of_start=False)
    encoder = RecordEncoder(engine.service)
    record = encoder.record_for(notifications[-1])  # Dispatched only
    assert record is not None
    key, value, headers = record
    assert key == ticket.encode()
    assert decode(workorder_schema(), value)["ticket_no"] == ticket
    assert dict(headers)["event-type"] == b"Dispatched"


def test_helper_process_encodes_exactly_what_the_relay_thread_would(engine: Engine) -> None:
    for n in range(3):
        ticket = engine.service.intake(
            channel="电话", category="求助", urgency="一般", region="甬江区",
            content=f"第{n}号", caller_name="赵六", caller_phone="13600002222",
            actor=Actor("agent", "A1"))
        engine.service.dispatch(ticket, dept="区水务局", assist=[],
                                actor=Actor("dispatcher", "D"))
    inline = InlineEncoding(engine.service, batch_size=4)
    helper = ProcessEncoding(store_url(engine.config), batch_size=4)
    try:
        for start in (0, 4, 2):  # in order, then a restart from an earlier position
            a, b = inline.fetch(start), helper.fetch(start)
            assert a is not None and b is not None
            assert (a.last, a.records) == (b.last, b.records)
        assert inline.fetch(6) is None and helper.fetch(6) is None
    finally:
        helper.close()
    assert helper.helper_pid and not Path(f"/proc/{helper.helper_pid}").exists()  # reaped


def test_telephony_record_round_trip_and_garbage() -> None:
    report = TelephonyReport(report_id="r-9", ticket_no="202510090001", kind="dial_outcome",
                             outcome="no_answer", attempts_exhausted=True, call_id="c-7",
                             purpose="回访", attempt=3, adapter="sip",
                             at=datetime(2025, 10, 9, 2, tzinfo=UTC))
    value = deserialize(encode_report(report))
    assert isinstance(value, dict)
    assert report_from(value) == report
    assert not isinstance(deserialize(b"\xff\xfe not avro"), dict)
    with pytest.raises(ValueError):
        encode(telephony_schema(), {**value, "kind": "fax"})  # kinds are a closed enum


def test_credentials_and_the_access_log_are_not_published(engine: Engine) -> None:
    """Staff tokens' records and who read what are the centre's, not consumers' events."""
    from domain.errors import Unauthenticated

    engine.access.issue(roles=["auditor"], staff_id="AU1", actor=Actor("admin", "root"))
    with pytest.raises(Unauthenticated):
        engine.access.authenticate("rx1_not-a-token")  # logged in the access log
    notifications = engine.service.recorder.select_notifications(start=0, limit=10,
                                                                 inclusive_of_start=False)
    encoder = RecordEncoder(engine.service)
    assert notifications and all(encoder.record_for(n) is None for n in notifications)
    batch = InlineEncoding(engine.service).fetch(0)
    assert batch is not None and batch.records == [] and batch.last == notifications[-1].id


def test_the_compiled_writer_writes_exactly_what_fastavro_writes() -> None:
    """adapters.kafka.flat_avro: the relay's Avro writer, byte for byte fastavro's."""
    schema = workorder_schema()
    write = record_writer(schema)
    long_text = json.dumps({"content": "小区路灯不亮" * 3000},
                           ensure_ascii=False)  # a 3-byte length varint
    variants = [
        sample_envelope(),
        sample_envelope(ticket_no=None),
        sample_envelope(ticket_no=("string", "202510090001")),  # fastavro's tuple notation
        sample_envelope(ticket_no=""),
        sample_envelope(payload_json=long_text, actor_role="", actor_id=""),
        sample_envelope(payload_json="{}", event_type="x" * 63),  # one-byte length bound
        sample_envelope(event_type="x" * 64),
        sample_envelope(version=2**62, position=0, schema_version=-(2**31)),
        sample_envelope(version=-1, position=-(2**63), schema_version=2**31 - 1),
        sample_envelope(occurred_at=datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        sample_envelope(occurred_at=datetime(2025, 10, 9, 9, 2, 3, 999999,
                                             tzinfo=timezone(timedelta(hours=8)))),
        sample_envelope(occurred_at=1_760_000_000_123),  # millis as an int
        sample_envelope(actor_id="\u0000\U0001f600控制"),
    ]
    for record in variants:
        assert write(record) == encode(schema, record), record
    # What the compiled writer does not take goes to fastavro, which writes or refuses it
    # as it always did.
    missing = sample_envelope()
    del missing["actor_id"]  # has a default in the schema
    for odd in (sample_envelope(version="2"), sample_envelope(actor_role=7),
                sample_envelope(ticket_no=("int", 5)), sample_envelope(version=2**64),
                sample_envelope(schema_version=2**31), sample_envelope(version=2.0),
                sample_envelope(version=True), missing):
        assert outcome(write, odd) == outcome(partial(encode, schema), odd), odd
    # A schema it does not compile (an enum: the campaign envelope) is fastavro's outright.
    campaign = parsed_schema("campaign_event.avsc")
    record = {**sample_envelope(), "aggregate": "contact", "campaign_id": "C1",
              "contact_id": ("string", "C1-000001")}
    del record["ticket_no"]
    assert record_writer(campaign)(record) == encode(campaign, record)


def outcome(write: Callable[[dict[str, Any]], bytes], record: dict[str, Any]) -> Any:
    try:
        return write(record)
    except Exception as error:  # noqa: BLE001 - the kind of refusal is what is compared
        return type(error), str(error)


class Probe(Aggregate):
    """An aggregate of this test with values of every transcoded kind in its events."""

    class Varied(Aggregate.Event):
        actor_role: str
        actor_id: str
        amount: Decimal
        ref: uuid.UUID
        ratio: float
        tags: tuple[str, ...]
        steps: list[dict[str, Any]]
        day: date
        note: str

    class Timed(Aggregate.Event):  # its transcoded data is a number, not a string
        wait: timedelta

    class Upcast(Aggregate.Event):  # upcast on the way out of the mapper
        class_version = 2
        note: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["note"] = state.get("note", "v1")


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class TimedeltaAsSeconds(Transcoding):
    type = timedelta
    name = "timedelta_seconds"

    def encode(self, obj: timedelta) -> float:
        return obj.total_seconds()

    def decode(self, data: float) -> timedelta:
        return timedelta(seconds=data)


def test_records_from_the_stored_state_are_the_mappers_records(engine: Engine) -> None:
    """The relay builds each envelope from the stored state (adapters.kafka.stored)
    instead of the mapper's domain event: the same bytes, keys and headers for every
    kind of value, and the mapper still for what the shortcut cannot reproduce."""
    from tests.test_kafka_relay import AGENT, DISPATCHER, make_orders

    service = engine.service
    tickets = make_orders(engine, 4)
    service.merge(tickets[1], into=tickets[2], reason="重复来电", actor=DISPATCHER)
    service.withdraw(tickets[0], reason="市民撤诉，电话13812345678", actor=AGENT)
    transcoder = service.mapper.transcoder
    assert isinstance(transcoder, JSONTranscoder)
    transcoder.register(DateAsISO())
    transcoder.register(TimedeltaAsSeconds())
    probe, deep = Probe(), uuid.uuid4()
    at = datetime(2025, 10, 9, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=8)))
    probe.trigger_event(
        Probe.Varied, actor_role="agent", actor_id="A1", amount=Decimal("12.50"),
        ref=uuid.UUID("d6702ab2-620e-5977-b2b0-126af4be3763"), ratio=0.1, tags=("甲", "乙"),
        steps=[{"at": at, "who": None, "n": 3, "deep": [{"ref": deep}]}],
        day=date(2025, 10, 9), note='含"_type_"与\\的文字', timestamp=at)
    probe.trigger_event(Probe.Timed, wait=timedelta(minutes=90))
    probe.trigger_event(Probe.Upcast, note="v2")
    service.save(probe)
    notifications = service.recorder.select_notifications(start=0, limit=1000,
                                                          inclusive_of_start=False)
    by_mapper = RecordEncoder(service)
    by_mapper.states.usable = False
    expected = [by_mapper.routed(n) for n in notifications]

    mapped: list[str] = []
    to_domain_event = service.mapper.to_domain_event

    def counting(stored: Any) -> Any:
        mapped.append(stored.topic.rsplit(".", 1)[1])
        return to_domain_event(stored)

    service.mapper.to_domain_event = counting  # type: ignore[method-assign,assignment]
    try:
        shortcut = RecordEncoder(service)
        assert [shortcut.routed(n) for n in notifications] == expected
    finally:
        del service.mapper.to_domain_event
    # Everything else straight from the stored state (Created: the ticket number lookup
    # of an aggregate whose events carry none reads its first event).
    assert mapped == ["Created", "Timed", "Upcast"]

    varied = [r for r in expected if r is not None and dict(r[1][2])["event-type"] == b"Varied"]
    key, value, _headers = varied[0][1]
    body = decode(workorder_schema(), value)
    assert key == str(probe.id).encode() and body["ticket_no"] is None
    assert body["occurred_at"] == at.replace(microsecond=456000)
    assert json.loads(body["payload_json"]) == {
        "amount": "12.50", "ref": "d6702ab2-620e-5977-b2b0-126af4be3763", "ratio": 0.1,
        "tags": ["甲", "乙"], "steps": [{"at": at.isoformat(), "who": None, "n": 3,
                                         "deep": [{"ref": str(deep)}]}],
        "day": "2025-10-09", "note": '含"_type_"与\\的文字'}


def test_stored_states_the_shortcut_cannot_mirror_go_to_the_mapper(engine: Engine) -> None:
    from adapters.kafka.stored import NeedsMapper, StoredStates

    states = StoredStates(engine.service.mapper)
    stamp = b'{"_type_":"datetime_iso","_data_":"2025-10-09T01:00:00+00:00"}'
    state = states.decode(b'{"timestamp":' + stamp + b',"note":"x"}')
    assert state == {"timestamp": datetime(2025, 10, 9, 1, tzinfo=UTC), "note": "x"}
    for odd in (b' {"timestamp":' + stamp + b'}',  # whitespace the transcoder never writes
                b'{"timestamp":' + stamp + b'} ',
                b'{"timestamp":' + stamp + b',"class_version":2}',  # upcast on the way out
                b'{"timestamp":"2025-10-09T01:00:00+00:00"}',  # not a transcoded datetime
                b'{"timestamp":' + stamp + b',"x":{"_type_":"nope","_data_":"1"}}',
                b'["timestamp"]'):
        with pytest.raises(NeedsMapper):
            states.decode(odd)
