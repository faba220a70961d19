"""The deadline index projection: what it holds, resuming, rebuilding, and O(due) ticks.

Runs on SQLite and PostgreSQL (the `engine` fixture) with the simulation clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.bootstrap import Engine, build_engine
from domain.lifecycle import OPEN_STATES
from domain.service import SHANGHAI
from domain.workorder import pending_ladder
from projections.deadline_index import INDEX, due_tickets
from tests.conftest import SimClock
from tests.test_ladder import AGENT, CENTRE, UNIT, new_order, only, tick_at, unit

COLUMNS = "originator_id, ticket_no, next_at, next_step, ladder, done, has_plan"


def rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.db.transaction(immediate=False) as cur:
        return cur.execute(f"SELECT {COLUMNS} FROM {INDEX} ORDER BY originator_id").fetchall()


def row_of(engine: Engine, ticket: str) -> tuple[Any, ...]:
    with engine.db.transaction(immediate=False) as cur:
        row = cur.execute(f"SELECT next_at, next_step FROM {INDEX} WHERE ticket_no = ?",
                          (ticket,)).fetchone()
    assert row is not None, ticket
    return (row[0], row[1])


def expected_next(engine: Engine, ticket: str) -> tuple[float | None, str | None]:
    """What the aggregate itself says the next ladder step is."""
    order = engine.service.load(ticket)
    if order.state not in OPEN_STATES:
        return (None, None)
    pending = pending_ladder(order.ladder, order.ladder_done, order.plan is not None)
    if not pending:
        return (None, None)
    step, instant = pending[0]
    return (instant.timestamp(), step)


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp()


def all_notifications(engine: Engine) -> list[Any]:
    return list(engine.service.recorder.select_notifications(start=1, limit=1_000_000))


def populate(engine: Engine, clock: SimClock) -> dict[str, str]:
    """Orders in every interesting situation, in chronological order (the clock never
    runs backwards)."""
    s = engine.service
    t: dict[str, str] = {}
    # Dispatched early: by 10-10 its whole ladder (level 3 on 09-30) has been taken.
    t["exhausted"] = new_order(engine, clock, intake_at="2025-09-22T09:00:00",
                               dispatch_at="2025-09-22T10:00:00")
    t["intake_only"] = new_order(engine, clock, dispatch_at=None)
    t["complaint"] = new_order(engine, clock, category="投诉")
    t["consult"] = new_order(engine, clock)
    t["planned"] = new_order(engine, clock)
    t["answered"] = new_order(engine, clock, dispatch_at=None)
    s.answer(t["answered"], reply="请携带身份证到窗口办理", actor=AGENT)
    for name in ("resolved", "archived"):
        t[name] = new_order(engine, clock)
        clock.set("2025-09-30T11:00:00")
        s.sign(t[name], dept=UNIT, actor=unit())
        s.resolve(t[name], dept=UNIT, reply="已处理", actor=unit())
    s.record_callback(t["archived"], result="满意", comment="", actor=AGENT)
    t["returned"] = new_order(engine, clock)
    s.return_order(t["returned"], dept=UNIT, reason="非本单位职责", actor=unit())
    t["withdrawn"] = new_order(engine, clock)
    s.withdraw(t["withdrawn"], reason="市民撤诉", actor=CENTRE)
    t["duplicate"] = new_order(engine, clock)
    s.merge(t["duplicate"], into=t["complaint"], reason="同一事项重复来电", actor=CENTRE)
    t["pending_extension"] = new_order(engine, clock, category="投诉")
    clock.set("2025-09-30T12:00:00")
    s.sign(t["pending_extension"], dept=UNIT, actor=unit())
    s.request_extension(t["pending_extension"], dept=UNIT, days=2, reason="需协调",
                        actor=unit())
    # 10-10 00:00: the early order runs its whole ladder, the 咨询s get their warning.
    assert tick_at(engine, clock, "2025-10-10T00:00:00") == only(
        warning=3, level1=1, level2=1, level3=1)
    clock.set("2025-10-10T10:00:00")
    s.report_plan(t["planned"], dept=UNIT, eta=clock.now, note="今日处理", actor=unit())
    return t


def test_only_open_orders_with_pending_steps_have_a_next_instant(
    engine: Engine, clock: SimClock
) -> None:
    t = populate(engine, clock)
    engine.runners["deadline_index"].catch_up()
    for name in ("exhausted", "intake_only", "answered", "resolved", "archived", "returned",
                 "withdrawn", "duplicate"):
        assert row_of(engine, t[name]) == (None, None), name
    assert row_of(engine, t["complaint"]) == (epoch("2025-10-28T00:00:00"), "warning")
    assert row_of(engine, t["pending_extension"]) == (epoch("2025-10-28T00:00:00"), "warning")
    assert row_of(engine, t["consult"]) == (epoch("2025-10-10T18:00:00"), "level1")
    # A reported plan skips level 1: next comes the due instant.
    assert row_of(engine, t["planned"]) == (epoch("2025-10-10T23:59:59"), "level2")
    # And every row agrees with its aggregate.
    for ticket in t.values():
        assert row_of(engine, ticket) == expected_next(engine, ticket), ticket
    assert len(rows(engine)) == len(t)


def test_the_index_follows_clock_changes(engine: Engine, clock: SimClock) -> None:
    s = engine.service
    index = engine.runners["deadline_index"]
    ticket = new_order(engine, clock)
    clock.set("2025-09-30T11:00:00")
    s.sign(ticket, dept=UNIT, actor=unit())
    index.catch_up()
    assert row_of(engine, ticket) == (epoch("2025-10-10T00:00:00"), "warning")
    clock.set("2025-10-09T09:00:00")
    s.request_extension(ticket, dept=UNIT, days=1, reason="需协调", actor=unit())
    s.approve_extension(ticket, note="同意", actor=CENTRE)
    index.catch_up()
    assert row_of(engine, ticket) == (epoch("2025-10-11T00:00:00"), "warning")  # 调休 Sat
    clock.set("2025-10-11T10:00:00")
    s.resolve(ticket, dept=UNIT, reply="已处理", actor=unit())
    index.catch_up()
    assert row_of(engine, ticket) == (None, None)
    clock.set("2025-10-13T10:00:00")
    s.record_callback(ticket, result="不满意", comment="未解决", actor=AGENT)
    index.catch_up()
    # Reopen: 5 working days after 10-13 → 10-20.
    assert row_of(engine, ticket) == (epoch("2025-10-20T00:00:00"), "warning")
    assert row_of(engine, ticket) == expected_next(engine, ticket)


def test_the_index_resumes_and_a_rebuild_gives_identical_rows(
    engine: Engine, clock: SimClock, db_url: str
) -> None:
    populate(engine, clock)
    runner = engine.runners["deadline_index"]
    runner.catch_up()
    first_position = runner.position()
    assert first_position == engine.service.recorder.max_notification_id()

    # New events the index has not seen yet (commands do not advance it).
    clock.set("2025-10-10T11:00:00")
    later = [new_order(engine, clock, intake_at="2025-10-10T11:00:00",
                       dispatch_at="2025-10-10T11:30:00") for _ in range(3)]
    total = len(all_notifications(engine))

    # Another engine (as after a restart) resumes where the index stopped.
    restarted = build_engine(db_url, clock=clock)
    try:
        runner2 = restarted.runners["deadline_index"]
        assert runner2.position() == first_position
        applied = runner2.catch_up()
        assert applied == len([n for n in all_notifications(engine) if n.id > first_position])
        assert applied == 6  # intake + dispatch of three orders, nothing twice
        assert runner2.catch_up() == 0
        incremental = rows(restarted)
        for ticket in later:
            assert row_of(restarted, ticket) == expected_next(restarted, ticket)

        assert runner2.rebuild() == total
        assert rows(restarted) == incremental
        assert runner2.position() == engine.service.recorder.max_notification_id()
    finally:
        restarted.close()


def test_a_tick_selects_only_the_due_rows(engine: Engine, clock: SimClock) -> None:
    far = [new_order(engine, clock, category="投诉") for _ in range(200)]  # due 10-28
    due = [new_order(engine, clock, category="咨询") for _ in range(3)]  # due 10-10
    engine.runners["deadline_index"].catch_up()
    now = epoch("2025-10-10T00:00:00")
    with engine.db.transaction(immediate=False) as cur:
        assert sorted(due_tickets(cur, now)) == sorted(due)
        pending = cur.execute(f"SELECT COUNT(*) FROM {INDEX} WHERE next_at IS NOT NULL"
                              ).fetchone()[0]
        assert pending == 203
        if not engine.db.postgres:
            # The due query is a range search on the next_at index, not a table scan.
            plan = cur.execute(f"EXPLAIN QUERY PLAN SELECT ticket_no FROM {INDEX} "
                               "WHERE next_at <= ? ORDER BY next_at LIMIT ?",
                               (now, 100_000)).fetchall()
            detail = " ".join(str(r[-1]) for r in plan)
            assert detail.startswith(f"SEARCH {INDEX} USING INDEX {INDEX}_next"), detail
            assert "SCAN" not in detail and "TEMP B-TREE" not in detail, detail

    before = engine.service.recorder.max_notification_id()
    assert tick_at(engine, clock, "2025-10-10T00:00:00") == only(warning=3)
    new = [n for n in all_notifications(engine) if n.id > before]
    escalated = [n for n in new if n.topic.endswith("Escalated")]
    touched = {n.originator_id for n in new}
    assert len(escalated) == 3
    assert touched == {engine.service.load(t).id for t in due}
    assert {engine.service.load(t).version for t in far} == {2}  # intake + dispatch only
    assert tick_at(engine, clock, "2025-10-10T00:00:00") == only()
    with engine.db.transaction(immediate=False) as cur:
        assert due_tickets(cur, now) == []
