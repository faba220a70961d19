"""Personal data in the free text of every command after intake (replies, reasons, comments,
notes, the robot's hand-off transcripts): recorded masked, sealed for the caller, shown in
full only in a reveal, shredded by erasure (domain/free_text.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.grpc.feed import FEED, DepartmentFeedProjection
from adapters.kafka.avro import payload_json
from adapters.keys import FileKeyWrapper
from domain.commands import CATALOGUE
from domain.values import Actor
from domain.workorder import WorkOrder, order_id
from projections.runner import ProjectionRunner
from tests.conftest import SimClock
from tests.support.vault_bytes import decryptable, store_bytes

AGENT = Actor("agent", "A1")
CENTRE = Actor("dispatcher", "centre")
UNIT = Actor("department", "区城管局")
ROBOT = Actor("robot", "callback")
LEAD = "区城管局"
# A phone, an ID number, a card and an e-mail; and what must stay as written: the unit's
# published duty phone, a ticket number, a date, an amount and 12345.
TEXT = ("已与市民电话13912345678沟通，身份证110101199003071234，退款至卡6222021234567890128，"
        "邮箱zhang.san@example.com；如有疑问请拨打0574-87000001或12345，"
        "参见工单202510010001，2025年10月1日退还1500元")
SECRETS = ("13912345678", "110101199003071234", "6222021234567890128",
           "zhang.san@example.com")
KEPT = ("0574-87000001", "12345", "202510010001", "2025年10月1日", "1500元")


def intake(engine: Engine, category: str = "投诉") -> str:
    return engine.service.intake(channel="电话", category=category, urgency="一般",
                                 region="甬江区东湖街道", content="小区门口夜间施工噪音",
                                 caller_name="欧阳娜娜", caller_phone="13900001111",
                                 actor=AGENT)


def dispatched(engine: Engine) -> str:
    ticket = intake(engine)
    engine.service.dispatch(ticket, dept=LEAD, assist=[], actor=CENTRE)
    return ticket


def signed(engine: Engine) -> str:
    ticket = dispatched(engine)
    engine.service.sign(ticket, dept=LEAD, actor=UNIT)
    return ticket


def returned(engine: Engine) -> str:
    ticket = dispatched(engine)
    engine.service.return_order(ticket, dept=LEAD, reason="不属于本单位职责", actor=UNIT)
    return ticket


def extending(engine: Engine) -> str:
    ticket = signed(engine)
    engine.service.request_extension(ticket, dept=LEAD, days=3, reason="需协调", actor=UNIT)
    return ticket


def resolved(engine: Engine) -> str:
    ticket = signed(engine)
    engine.service.resolve(ticket, dept=LEAD, reply="已处理", actor=UNIT)
    return ticket


S = Any  # the service
# Each free-text command: how to reach a state it is legal in, and the command with TEXT.
CASES: dict[str, tuple[Callable[[Engine], str], Callable[[S, str], None]]] = {
    "answer": (lambda e: intake(e, "咨询"),
               lambda s, t: s.answer(t, reply=TEXT, actor=AGENT)),
    "redispatch": (returned, lambda s, t: s.redispatch(t, dept="区住建局", assist=[],
                                                      reason=TEXT, actor=CENTRE)),
    "return_order": (dispatched, lambda s, t: s.return_order(t, dept=LEAD, reason=TEXT,
                                                             actor=UNIT)),
    "reject_return": (returned, lambda s, t: s.reject_return(t, reason=TEXT, actor=CENTRE)),
    "transfer": (intake, lambda s, t: s.transfer(t, hotline="北京12345", reference="BJ1",
                                                 reason=TEXT, actor=CENTRE)),
    "request_extension": (signed, lambda s, t: s.request_extension(
        t, dept=LEAD, days=3, reason=TEXT, actor=UNIT)),
    "approve_extension": (extending, lambda s, t: s.approve_extension(t, note=TEXT,
                                                                      actor=CENTRE)),
    "deny_extension": (extending, lambda s, t: s.deny_extension(t, reason=TEXT, actor=CENTRE)),
    "resolve": (signed, lambda s, t: s.resolve(t, dept=LEAD, reply=TEXT, actor=UNIT)),
    "record_callback": (resolved, lambda s, t: s.record_callback(t, result="不满意",
                                                                 comment=TEXT, actor=ROBOT)),
    "withdraw": (intake, lambda s, t: s.withdraw(t, reason=TEXT, actor=CENTRE)),
    "merge": (intake, lambda s, t: s.merge(t, into=intake_master(s), reason=TEXT,
                                           actor=CENTRE)),
    "report_plan": (signed, lambda s, t: s.report_plan(
        t, dept=LEAD, eta=s.now() + timedelta(days=2), note=TEXT, actor=UNIT)),
    "request_handoff": (resolved, lambda s, t: s.request_handoff(
        t, transcript=TEXT, reason=TEXT, actor=ROBOT)),
}


def intake_master(service: S) -> str:
    return str(service.intake(channel="电话", category="投诉", urgency="一般",
                              region="甬江区东湖街道", content="同一处施工噪音",
                              caller_name="王五", caller_phone="13900002222", actor=AGENT))


def test_every_free_text_field_of_the_catalogue_is_covered() -> None:
    """The catalogue says which fields are free text; each such command is tested here."""
    flagged = {spec.name for spec in CATALOGUE
               if spec.name != "intake" and any(f.free_text for f in spec.fields)}
    assert flagged == set(CASES) - {"request_handoff"}  # the robot's, not a staff command
    # No other text field is free text (units, hotlines, numbers, results are not).
    assert {f.name for spec in CATALOGUE for f in spec.fields if f.free_text} == {
        "content", "reply", "reason", "note", "comment"}


def _strings(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


@pytest.mark.parametrize("command", sorted(CASES))
def test_recorded_masked_and_revealed_in_full(engine: Engine, command: str) -> None:
    reach, run = CASES[command]
    ticket = reach(engine)
    run(engine.service, ticket)
    view = engine.service.show(ticket)
    history = engine.service.history(ticket)
    events = list(engine.service.events.get(order_id(ticket)))
    published = [payload_json(e) for e in events]
    for value in SECRETS:
        assert value not in _strings(view) and value not in _strings(history)
        assert not any(value in record for record in published)
    shown = _strings(history["events"][-2:])
    assert "139****5678" in shown and "1101**********1234" in shown and "****0128" in shown
    assert "z********@example.com" in shown
    for value in KEPT:
        assert value in shown
    sealed = events[-1]
    assert isinstance(sealed, WorkOrder.TextSealed)
    assert history["events"][-1]["details"] == {}  # the sealed values are never shown
    copies = 2 if command == "request_handoff" else 1  # its transcript and its reason
    assert engine.vault.open_values(events[0].citizen_id, sealed.sealed) == SECRETS * copies
    # A reveal (authorised and logged by the front ends) puts back every value the view
    # shows masked.
    if "139****5678" in _strings(view):
        revealed = _strings(engine.service.view(engine.service.load(ticket), reveal=True))
        assert all(value in revealed for value in SECRETS) and "****" not in revealed


def test_text_without_personal_data_records_no_sealed_event(engine: Engine) -> None:
    ticket = signed(engine)
    engine.service.resolve(ticket, dept=LEAD, reply="已责令施工单位夜间停工，工单202510010001",
                           actor=UNIT)
    events = list(engine.service.events.get(order_id(ticket)))
    assert isinstance(events[-1], WorkOrder.Resolved)
    assert events[-1].reply == "已责令施工单位夜间停工，工单202510010001"


def test_department_feed_carries_masks_and_not_the_sealed_event(engine: Engine) -> None:
    ticket = signed(engine)
    engine.service.request_extension(ticket, dept=LEAD, days=3, reason=TEXT, actor=UNIT)
    ProjectionRunner(engine.service, engine.db, DepartmentFeedProjection()).catch_up()
    with engine.db.transaction(immediate=False) as cur:
        rows = cur.execute(f"SELECT type, payload FROM {FEED} WHERE ticket_no = ?",
                           (ticket,)).fetchall()
    assert "ExtensionRequested" in {r[0] for r in rows}
    assert "TextSealed" not in {r[0] for r in rows}
    assert not any(value in r[1] for r in rows for value in SECRETS)
    assert any("139****5678" in r[1] for r in rows)


def test_erasure_shreds_the_later_values_too(tmp_path: Path, clock: SimClock) -> None:
    db, kek = tmp_path / "rexian.db", tmp_path / "store.kek"
    engine = build_engine(str(db), clock=clock, kek_file=str(kek))
    try:
        ticket = resolved(engine)
        engine.service.request_handoff(ticket, transcript=TEXT, reason="转人工", actor=ROBOT)
        engine.service.record_callback(ticket, result="不满意", comment=TEXT, actor=ROBOT)
        wrapper = FileKeyWrapper.load(kek)
        opened = b"".join(decryptable(store_bytes(db), wrapper))
        assert all(value.encode() in opened for value in SECRETS)  # sealed, with the KEK
        engine.erase_citizen("13900001111", reason="市民申请删除，来电13900001111",
                             actor=Actor("supervisor", "S1"))
        data = store_bytes(db)
        for value in SECRETS:
            assert value.encode() not in data
        assert decryptable(data, wrapper) == []  # nothing opens, with the KEK at hand
        view = engine.service.view(engine.service.load(ticket), reveal=True)
        assert view["caller_status"] == "erased" and not view["revealed"]
        # The erasure's own reason is masked like any free text.
        assert engine.service.show(ticket)["erased"]["reason"] == "市民申请删除，来电139****1111"
        # Later text for the erased caller keeps only its masks (nothing to seal it with).
        engine.service.report_plan(ticket, dept=LEAD, eta=clock() + timedelta(days=2),
                                   note=TEXT, actor=UNIT)
        last = list(engine.service.events.get(order_id(ticket)))[-1]
        assert isinstance(last, WorkOrder.PlanReported) and "139****5678" in last.note
    finally:
        engine.close()


def test_without_the_kek_free_text_with_personal_data_is_refused(
        tmp_path: Path, clock: SimClock) -> None:
    """Nothing can be sealed without the key-encryption key: a command whose text holds
    personal data is refused (nothing recorded); one without goes through."""
    from domain.errors import PersonalDataUnavailable

    db = tmp_path / "rexian.db"
    engine = build_engine(str(db), clock=clock, kek_file=str(tmp_path / "store.kek"))
    ticket = signed(engine)
    engine.close()
    locked = build_engine(str(db), clock=clock, kek_file=str(tmp_path / "nowhere.kek"))
    try:
        before = locked.service.load(ticket).version
        with pytest.raises(PersonalDataUnavailable):
            locked.service.resolve(ticket, dept=LEAD, reply=TEXT, actor=UNIT)
        assert locked.service.load(ticket).version == before
        locked.service.resolve(ticket, dept=LEAD, reply="已处理，工单202510010001", actor=UNIT)
        assert locked.service.load(ticket).state == "已办结"
    finally:
        locked.close()
