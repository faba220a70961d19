"""Retention (config/retention.toml): the tick erases a citizen's personal data once every
order of theirs has been closed for longer than the period, with the same Erased event
as `rexian erase`."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.ticker import ERASED, tick
from domain.erasure import erase_citizen_id
from domain.errors import InvalidInput
from domain.policies.retention import DEFAULT_RETENTION_PATH, RETENTION_ACTOR, load_retention
from domain.values import Actor
from domain.workorder import WorkOrder, order_id
from projections.citizen_orders import CitizenOrderLookup
from tests.conftest import SimClock

AGENT = Actor("agent", "A1")
CENTRE = Actor("dispatcher", "centre")
UNIT = Actor("department", "区城管局")
ROBOT = Actor("robot", "callback")


def policy_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "retention.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def intake(engine: Engine, phone: str) -> str:
    return engine.service.intake(channel="电话", category="投诉", urgency="一般",
                                 region="甬江区东湖街道", content="夜间施工噪音",
                                 caller_name="欧阳娜娜", caller_phone=phone, actor=AGENT)


def archived(engine: Engine, phone: str) -> str:
    s = engine.service
    ticket = intake(engine, phone)
    s.dispatch(ticket, dept="区城管局", assist=[], actor=CENTRE)
    s.sign(ticket, dept="区城管局", actor=UNIT)
    s.resolve(ticket, dept="区城管局", reply="已处理", actor=UNIT)
    s.record_callback(ticket, result="满意", comment="", actor=ROBOT)
    return ticket


@pytest.fixture
def kept_30_days(db_url: str, clock: SimClock, tmp_path: Path) -> Engine:
    file = policy_file(tmp_path, "[personal_data]\ndays_after_closed = 30\n")
    return build_engine(db_url, clock=clock, retention_file=file)


def test_erased_once_every_order_has_been_closed_for_the_period(
        kept_30_days: Engine, clock: SimClock) -> None:
    engine, s = kept_30_days, kept_30_days.service
    gone = archived(engine, "13900000001")                # closed today
    both_closed = intake(engine, "13900000002")
    s.withdraw(both_closed, reason="市民撤回", actor=CENTRE)
    still_open = intake(engine, "13900000002")            # same caller, open
    later = intake(engine, "13900000003")
    assert tick(engine)[ERASED] == 0
    clock.advance(days=20)
    s.withdraw(later, reason="重复来电", actor=CENTRE)      # closed 20 days in
    clock.advance(days=11)                                # 31 days after the first closings
    before = engine.list()
    assert tick(engine)[ERASED] == 1
    assert s.show(gone)["caller_status"] == "erased"
    assert s.show(gone)["erased"]["reason"].startswith("保存期限届满")
    erased = list(s.events.get(order_id(gone)))[-1]
    assert isinstance(erased, WorkOrder.PersonalDataErased)
    assert (erased.actor_role, erased.actor_id) == (RETENTION_ACTOR.role, RETENTION_ACTOR.id)
    # An open order keeps its caller's data, and so the caller's closed order too.
    assert s.show(both_closed)["caller_status"] == "available"
    assert s.show(still_open)["caller_status"] == "available"
    assert s.show(later)["caller_status"] == "available"   # closed only 11 days ago
    # Nothing else changed: states, counts, chains.
    assert [(o["ticket_no"], o["state"]) for o in engine.list()] == [
        (o["ticket_no"], o["state"]) for o in before]
    assert engine.verify().ok
    assert tick(engine)[ERASED] == 0                       # never twice
    s.withdraw(still_open, reason="已解决", actor=CENTRE)
    clock.advance(days=31)
    assert tick(engine)[ERASED] == 2
    for ticket in (both_closed, still_open, later):
        assert s.show(ticket)["caller_status"] == "erased"
    engine.runners["retention"].rebuild()                  # rebuildable: nothing due again
    assert tick(engine)[ERASED] == 0


def test_a_caller_calling_again_is_not_erased_on_a_stale_index(
        kept_30_days: Engine, clock: SimClock) -> None:
    engine, s = kept_30_days, kept_30_days.service
    ticket = intake(engine, "13900000004")
    s.withdraw(ticket, reason="市民撤回", actor=CENTRE)
    clock.advance(days=31)
    again = intake(engine, "13900000004")  # the index that chose them has not seen this yet
    citizen = s.load(ticket).citizen_id
    lookup = CitizenOrderLookup(engine.runners["citizen_orders"], engine.db)
    cutoff = engine.retention.cutoff(s.now())
    assert erase_citizen_id(s, lookup, citizen, reason="x", actor=RETENTION_ACTOR,
                            closed_before=cutoff) is None
    assert s.show(again)["caller_status"] == "available"
    assert s.show(ticket)["caller_status"] == "available"


def test_zero_turns_it_off(db_url: str, clock: SimClock, tmp_path: Path) -> None:
    file = policy_file(tmp_path, "[personal_data]\ndays_after_closed = 0\n")
    engine = build_engine(db_url, clock=clock, retention_file=file)
    ticket = intake(engine, "13900000005")
    engine.service.withdraw(ticket, reason="市民撤回", actor=CENTRE)
    clock.advance(days=10000)
    assert tick(engine)[ERASED] == 0
    assert engine.service.show(ticket)["caller_status"] == "available"


def test_the_shipped_policy_and_bad_files(tmp_path: Path) -> None:
    assert load_retention(DEFAULT_RETENTION_PATH).days_after_closed == 1095
    for text, named in [
        ("[personal_data]\ndays_after_closed = -1\n", "days_after_closed"),
        ("[personal_data]\ndays_after_closed = \"3y\"\n", "days_after_closed"),
        ("[personal_data]\ndays_after_closed = 30\nkeep = 1\n", "days_after_closed"),
        ("[retention]\ndays = 30\n", "personal_data"),
        ("[personal_data\n", "TOML"),
    ]:
        with pytest.raises(InvalidInput, match=named) as error:
            load_retention(policy_file(tmp_path, text))
        assert error.value.field == "retention" and "保存期限" in error.value.zh
    with pytest.raises(InvalidInput, match="cannot read"):
        load_retention(tmp_path / "missing.toml")
