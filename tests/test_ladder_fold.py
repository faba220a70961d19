"""The deadline index folds the ladder with the aggregate's own rule (domain.workorder
fold_ladder): on an engine with orders in many states its rows equal what each aggregate
holds, and a rebuild from position 0 gives the same rows as the incremental index.

Runs on SQLite and PostgreSQL (the `engine` fixture) with the simulation clock.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.bootstrap import Engine
from domain.lifecycle import OPEN_STATES
from domain.policies.statutory import statutory_holidays
from domain.workorder import LadderState, fold_ladder, pending_ladder
from projections.deadline_index import INDEX, due_tickets
from tests.conftest import SimClock
from tests.test_deadline_index import populate
from tests.test_ladder import AGENT, CENTRE, OTHER_UNIT, UNIT, new_order, tick_at, unit

COLUMNS = "ticket_no, next_at, next_step, ladder, done, has_plan"


def many_states(engine: Engine, clock: SimClock) -> dict[str, str]:
    """populate()'s orders plus resumed, re-dispatched, extended-after-plan, reopened and
    revised-after-escalation clocks (chronological: the clock never runs backwards)."""
    s = engine.service
    t = populate(engine, clock)  # ends at 2025-10-10T10:00
    t["resumed"] = new_order(engine, clock, intake_at="2025-10-10T10:10:00",
                             dispatch_at="2025-10-10T10:20:00")
    t["rejected_return"] = new_order(engine, clock, intake_at="2025-10-10T10:30:00",
                                     dispatch_at="2025-10-10T10:40:00")
    t["redispatched"] = new_order(engine, clock, intake_at="2025-10-10T10:50:00",
                                  dispatch_at="2025-10-10T11:00:00")
    t["extended"] = new_order(engine, clock, category="投诉", intake_at="2025-10-10T11:10:00",
                              dispatch_at="2025-10-10T11:20:00")
    t["reopened"] = new_order(engine, clock, intake_at="2025-10-10T11:30:00",
                              dispatch_at="2025-10-10T11:40:00")
    tick_at(engine, clock, "2025-10-15T00:00:00")  # warnings (and more) on the 咨询s
    clock.set("2025-10-15T09:00:00")
    for name in ("resumed", "rejected_return", "redispatched"):
        s.return_order(t[name], dept=UNIT, reason="需核实地址", actor=unit())
    clock.set("2025-10-15T10:00:00")
    s.redispatch(t["resumed"], dept=UNIT, assist=[], reason="地址已核实", actor=CENTRE)
    s.reject_return(t["rejected_return"], reason="属本单位职责", actor=CENTRE)
    s.redispatch(t["redispatched"], dept=OTHER_UNIT, assist=[], reason="改派", actor=CENTRE)
    s.sign(t["extended"], dept=UNIT, actor=unit())
    s.report_plan(t["extended"], dept=UNIT, eta=clock.now, note="协调中", actor=unit())
    s.request_extension(t["extended"], dept=UNIT, days=3, reason="需协调", actor=unit())
    s.approve_extension(t["extended"], note="同意", actor=CENTRE)
    s.sign(t["reopened"], dept=UNIT, actor=unit())
    s.resolve(t["reopened"], dept=UNIT, reply="已处理", actor=unit())
    s.record_callback(t["reopened"], result="不满意", comment="仍积水", actor=AGENT)
    tick_at(engine, clock, "2025-10-22T12:00:00")
    return t


def revised_after_escalation(engine: Engine, clock: SimClock) -> str:
    s = engine.service
    # A provisional 2027 clock, escalated, then revised by the official arrangement: the
    # steps taken stay taken (the aggregate keeps them, so must the index).
    ticket = new_order(engine, clock, category="投诉", intake_at="2027-01-25T09:00:00",
                       dispatch_at="2027-01-25T10:00:00")
    tick_at(engine, clock, "2027-02-17T00:00:00")  # its provisional warning
    s.import_arrangement(
        {"year": 2027, "title": "测试安排", "source_sha256": "0" * 64, "festivals": [],
         "days_off": sorted(d.isoformat() for d in statutory_holidays(2027)),
         "workdays": ["2027-01-30", "2027-01-31"]}, replace=False, actor=CENTRE)
    tick_at(engine, clock, "2027-02-17T01:00:00")  # revised, and due at once
    return ticket


def index_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.db.transaction(immediate=False) as cur:
        return cur.execute(f"SELECT {COLUMNS} FROM {INDEX} ORDER BY ticket_no").fetchall()


def aggregate_row(engine: Engine, ticket: str) -> tuple[Any, ...]:
    """The row the index should hold for `ticket`, from the aggregate alone."""
    order = engine.service.load(ticket)
    pending = pending_ladder(order.ladder, order.ladder_done, order.plan is not None)
    if order.state not in OPEN_STATES:
        pending = []
    step, at = pending[0] if pending else (None, None)
    return (ticket, at.timestamp() if at else None, step, order.ladder, order.ladder_done,
            int(order.plan is not None))


def decoded(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*row[:3], json.loads(row[3]), json.loads(row[4]), int(row[5]))


def test_index_rows_equal_the_aggregates_and_a_rebuild(engine: Engine, clock: SimClock) -> None:
    t = many_states(engine, clock)
    runner = engine.runners["deadline_index"]
    runner.catch_up()

    def check() -> list[tuple[Any, ...]]:
        found = index_rows(engine)
        assert [decoded(r) for r in found] == sorted(aggregate_row(engine, x)
                                                     for x in t.values())
        return found

    assert len({r[2] for r in check()}) >= 3  # varied next steps, not only exhausted ladders
    t["revised"] = revised_after_escalation(engine, clock)
    runner.catch_up()
    incremental = check()
    assert engine.service.load(t["revised"]).ladder_done == ["warning", "level1", "level2"]
    assert runner.rebuild() == engine.service.recorder.max_notification_id()
    assert index_rows(engine) == incremental


def test_a_revised_clock_keeps_its_taken_steps_out_of_the_due_rows(
    engine: Engine, clock: SimClock
) -> None:
    """Before the shared fold the index re-armed every step of a revised clock, so the
    order was selected (and loaded) by every tick although nothing was due."""
    ticket = revised_after_escalation(engine, clock)
    engine.runners["deadline_index"].catch_up()
    with engine.db.transaction(immediate=False) as cur:
        assert ticket not in due_tickets(cur, clock.now.timestamp())


def test_the_fold_passes_other_events_through() -> None:
    before = LadderState({"warning": "2025-10-10T00:00:00+08:00"}, ("warning",), True)
    assert fold_ladder(before, object()) is before

