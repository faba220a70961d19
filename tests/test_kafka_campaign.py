"""Campaign events on their own Kafka topic (issue 10 item 6), through the same relay as
the work orders, against a real Kafka-protocol broker (Tansu): every Campaign and Contact
event once on rexian.campaign.events (CampaignEvent envelope, key = campaign id, one
partition per campaign, in order, the same headers), none on the work-order topic, and
no personal data (names, phones, sealed tokens, citizen ids) in any key, value or header.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from adapters.bootstrap import Engine
from adapters.kafka import HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_POSITION, HEADER_SCHEMA
from adapters.kafka.avro import decode, event_id, workorder_schema
from adapters.kafka.campaign_records import campaign_schema
from adapters.kafka.relay import ProcessEncoding, Relay, make_producer, store_url
from adapters.kafka.topics import ensure_topics
from domain.campaign.campaign import campaign_uuid
from tests.conftest import SimClock
from tests.support.kafka import TansuBroker
from tests.test_campaign_progress import CENTRE, PEOPLE, called
from tests.test_kafka_relay import (
    consume_all,
    header,
    make_orders,
    personal_needles,
    stored_events,
    unique,
)


def campaign_needles(engine: Engine, refs: list[str]) -> list[bytes]:
    """The contacts' names and phones in every form, their sealed tokens and citizen ids."""
    needles = []
    for name, phone in PEOPLE:
        digits = "".join(ch for ch in phone if ch.isdigit())
        needles += [name.encode(), json.dumps(name).encode(), phone.encode(), digits.encode(),
                    digits[-8:].encode()]
    for ref in refs:
        contact = engine.service.repository.get(campaign_uuid(ref))
        needles += [contact.personal.encode(), contact.citizen_id.encode()]
    return needles


def test_campaign_events_have_their_own_topic(sqlite_engine: Engine, clock: SimClock,
                                              kafka_broker: TansuBroker,
                                              tmp_path: Path) -> None:
    engine = sqlite_engine
    tickets = make_orders(engine, 3)
    campaigns, ref = called(engine, tmp_path)
    contacts = [f"{ref}-{n:06d}" for n in range(1, len(PEOPLE) + 1)]
    events = stored_events(engine)
    campaign_oids = {str(campaign_uuid(r)) for r in [ref, *contacts]}
    expected = {(str(oid), version): (pos, kind) for pos, oid, version, kind in events
                if str(oid) in campaign_oids}
    assert len(expected) >= 20  # created, imported, started, dialled, ended, finished...

    topic, campaign_topic = unique("rexian.workorder.events.t"), unique("rexian.campaign.events.t")
    ensure_topics(kafka_broker.bootstrap, {topic: 3, campaign_topic: 3})
    producer = make_producer(kafka_broker.bootstrap)
    source = ProcessEncoding(store_url(engine.config), batch_size=9)  # the default path
    try:
        relay = Relay(engine.service, engine.db, producer, topic=topic,
                      campaign_topic=campaign_topic, name=unique("relay"), source=source)
        assert relay.run_until_caught_up() == len(events)
        campaigns.execute("pause_campaign", ref, actor=CENTRE, reason="核对名单")
        assert relay.run_until_caught_up() == 1  # later events follow
    finally:
        producer.close()
        source.close()
    events = stored_events(engine)
    last = events[-1]
    expected[(str(last[1]), last[2])] = (last[0], last[3])

    orders = consume_all(kafka_broker.bootstrap, topic, len(events) - len(expected))
    assert {decode(workorder_schema(), r.value)["ticket_no"] for r in orders} == set(tickets)
    records = consume_all(kafka_broker.bootstrap, campaign_topic, len(expected))
    assert len(records) == len(expected)
    schema = campaign_schema()
    needles = campaign_needles(engine, contacts) + personal_needles(engine)
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    by_originator: dict[str, list[int]] = defaultdict(list)
    for record in records:
        value = decode(schema, record.value)
        oid, version = value["originator_id"], value["version"]
        position, kind = expected[(oid, version)]
        seen[(oid, version)] = value
        assert record.key == ref.encode() and value["campaign_id"] == ref
        assert value["event_type"] == kind and value["position"] == position
        assert value["event_id"] == str(event_id(oid, version))
        assert header(record, HEADER_EVENT_ID) == value["event_id"].encode()
        assert header(record, HEADER_EVENT_TYPE) == kind.encode()
        assert header(record, HEADER_POSITION) == str(position).encode()
        assert header(record, HEADER_SCHEMA) == b"rexian.campaign.v1.CampaignEvent"
        if oid == str(campaign_uuid(ref)):
            assert (value["aggregate"], value["contact_id"]) == ("campaign", None)
        else:
            assert value["aggregate"] == "contact" and value["contact_id"] in contacts
        payload = json.loads(value["payload_json"])
        assert not {"personal", "citizen_id", "transcript"} & payload.keys()
        blob = b"".join([record.key, record.value, *(bytes(v) for _, v in record.headers)])
        for needle in needles:
            assert needle not in blob, f"personal data {needle!r} leaked in {kind}"
        by_originator[oid].append(version)
    assert set(seen) == set(expected)
    assert len({r.partition for r in records}) == 1  # one campaign, one partition: in order
    for versions in by_originator.values():
        assert versions == list(range(1, len(versions) + 1))
    ended = [v for v in seen.values() if v["event_type"] == "CallEnded"]
    assert sorted(json.loads(v["payload_json"])["outcome"] for v in ended) == sorted(
        ["已接通", "空号", "停机", "忙"])
