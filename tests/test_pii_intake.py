"""Personal data in the content of an intake: sealed with the caller's data in the vault,
recorded masked, so neither the store's bytes, the views, the department feed nor Kafka
carry it in clear."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.bootstrap import Engine, build_engine
from adapters.grpc.feed import FEED, DepartmentFeedProjection
from adapters.kafka.avro import envelope, payload_json
from adapters.keys import FileKeyWrapper
from domain.values import Actor
from domain.workorder import WorkOrder, order_id
from projections.runner import ProjectionRunner
from tests.conftest import SimClock
from tests.support.vault_bytes import decryptable, store_bytes, tokens

AGENT = Actor("agent", "A1")
CENTRE = Actor("dispatcher", "centre")
CONTENT = "我电话13812345678，身份证110101199003071234，小区门口夜间施工噪音，2025年10月1日起"
MASKED = "我电话138****5678，身份证1101**********1234，小区门口夜间施工噪音，2025年10月1日起"
SECRETS = ("13812345678", "110101199003071234")


def intake(engine: Engine, content: str = CONTENT) -> str:
    return engine.service.intake(channel="电话", category="投诉", urgency="一般",
                                 region="甬江区东湖街道", content=content,
                                 caller_name="欧阳娜娜", caller_phone="13900001111",
                                 actor=AGENT)


def test_content_is_recorded_masked_and_its_values_sealed(engine: Engine) -> None:
    ticket = intake(engine)
    order = engine.service.load(ticket)
    assert order.content == MASKED
    assert engine.service.show(ticket)["content"] == MASKED
    opened = engine.vault.open(order.citizen_id, order.personal)
    assert opened is not None and opened.extra == SECRETS
    assert opened.phone == "13900001111"
    # Content without personal data seals as before (no "extra" in the token).
    plain = engine.service.load(intake(engine, "路灯不亮"))
    again = engine.vault.open(plain.citizen_id, plain.personal)
    assert again is not None and again.extra == () and plain.content == "路灯不亮"


def test_the_store_bytes_hold_neither_value_in_clear(tmp_path: Path, clock: SimClock) -> None:
    db, kek = tmp_path / "rexian.db", tmp_path / "store.kek"
    engine = build_engine(str(db), clock=clock, kek_file=str(kek))
    try:
        ticket = intake(engine)
        engine.service.dispatch(ticket, dept="区城管局", assist=[], actor=CENTRE)
        ProjectionRunner(engine.service, engine.db, DepartmentFeedProjection()).catch_up()
        data = store_bytes(db)
        assert Path(f"{db}-wal").exists() and len(tokens(data)) >= 1
        assert MASKED.encode() in data  # the scan reads the rows the content is in
        # The attacker without the KEK: neither in the bytes nor in anything that decrypts.
        for value in SECRETS:
            assert value.encode() not in data
        assert decryptable(data) == []
        # With the KEK the values are there, sealed (so erasure can shred them).
        opened = b"".join(decryptable(data, FileKeyWrapper.load(kek)))
        assert all(value.encode() in opened for value in SECRETS)
    finally:
        engine.close()


def test_feed_and_kafka_carry_the_masks(engine: Engine) -> None:
    ticket = intake(engine)
    engine.service.dispatch(ticket, dept="区城管局", assist=[], actor=CENTRE)
    ProjectionRunner(engine.service, engine.db, DepartmentFeedProjection()).catch_up()
    with engine.db.transaction(immediate=False) as cur:
        feed = [r[0] for r in cur.execute(f"SELECT payload FROM {FEED} WHERE ticket_no = ?",
                                          (ticket,)).fetchall()]
    assert feed and not any(value in row for row in feed for value in SECRETS)
    registered = next(iter(engine.service.events.get(order_id(ticket))))
    assert isinstance(registered, WorkOrder.Registered)
    record = envelope(registered, 1, ticket)
    assert json.loads(payload_json(registered))["content"] == MASKED
    text = json.dumps(record, default=str, ensure_ascii=False)
    assert not any(value in text for value in SECRETS)
