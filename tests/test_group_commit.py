"""Group commit: concurrent commands share transactions, and a failing save fails alone."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError

from adapters.bootstrap import Engine, build_engine
from domain.group_commit import GroupCommit, _Save
from domain.values import Actor
from tests.conftest import SimClock
from tests.test_intake_transaction import _intake

DISPATCHER = Actor("dispatcher", "D1")
CLIENTS, EACH = 16, 6


def test_concurrent_clients_share_transactions_with_gap_free_numbers(
        engine: Engine, clock: SimClock) -> None:
    clock.set("2025-09-30T09:00:00")
    service = engine.service
    start = threading.Barrier(CLIENTS)
    made: list[str] = []
    failures: list[BaseException] = []

    def client(index: int) -> None:
        try:
            start.wait()
            for round_ in range(EACH):
                # Half the callers are new (their key is staged), half call again.
                ticket = _intake(engine, f"138{index:04d}{round_ % 2:04d}")
                service.dispatch(ticket, dept="区城管局", assist=[], actor=DISPATCHER)
                made.append(ticket)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert sorted(made) == [f"20250930{n:04d}" for n in range(1, CLIENTS * EACH + 1)]
    commits = service.group_commit
    assert commits.saves >= 2 * CLIENTS * EACH
    assert commits.batches < commits.saves  # some transactions carried several commands
    assert all(service.show(t)["state"] == "已派单" for t in made)
    assert engine.verify().ok


class _Decided(Exception):
    """Stops a command after it decided, before anything is written."""


class _Capture:
    def __init__(self) -> None:
        self.event: ProcessingEvent[Any] | None = None

    def commit(self, event: ProcessingEvent[Any]) -> list[Any]:
        self.event = event
        raise _Decided


def _pending_dispatch(engine: Engine, ticket: str, dept: str) -> ProcessingEvent[Any]:
    """The events of a dispatch decided on the stored order, not saved."""
    service = engine.service
    real, capture = service.group_commit, _Capture()
    service.group_commit = capture  # type: ignore[assignment]
    try:
        with pytest.raises(_Decided):
            service.dispatch(ticket, dept=dept, assist=[], actor=DISPATCHER)
    finally:
        service.group_commit = real
    assert capture.event is not None
    return capture.event


def test_a_conflict_in_a_batch_fails_only_its_own_save(engine: Engine, clock: SimClock) -> None:
    clock.set("2025-09-30T09:00:00")
    first, second = _intake(engine, "13800000001"), _intake(engine, "13800000002")
    # Two dispatches of `first` decided on the same version, and one of `second`.
    saves = [_Save(_pending_dispatch(engine, first, "区城管局"), threading.Event()),
             _Save(_pending_dispatch(engine, first, "区水务局"), threading.Event()),
             _Save(_pending_dispatch(engine, second, "区住建局"), threading.Event())]
    commits = GroupCommit(engine.service._record)
    commits._write(saves)
    assert [s.done for s in saves] == [True, True, True]
    assert saves[0].error is None and saves[2].error is None
    assert isinstance(saves[1].error, IntegrityError)
    assert engine.service.show(first)["department"] == "区城管局"
    assert engine.service.show(second)["department"] == "区住建局"
    assert engine.verify().ok


def test_a_lone_caller_gets_its_own_error(engine: Engine, clock: SimClock) -> None:
    clock.set("2025-09-30T09:00:00")
    ticket = _intake(engine, "13800000001")
    stale = _pending_dispatch(engine, ticket, "区城管局")
    engine.service.dispatch(ticket, dept="区水务局", assist=[], actor=DISPATCHER)
    with pytest.raises(IntegrityError):
        engine.service.group_commit.commit(stale)
    assert engine.service.show(ticket)["department"] == "区水务局"


def test_a_tick_batch_retries_alone_an_order_another_engine_escalated(
        tmp_path: Path, clock: SimClock) -> None:
    """escalate_all_due commits its orders together; one that another engine escalated
    between our decision and our commit is retried alone and stepped exactly once."""
    db = str(tmp_path / "race.db")
    ours, other = build_engine(db, clock=clock), build_engine(db, clock=clock)
    try:
        clock.set("2025-09-30T09:00:00")
        tickets = [_intake(ours, f"1380000000{i}") for i in range(4)]
        for ticket in tickets:
            ours.service.dispatch(ticket, dept="区城管局", assist=[], actor=DISPATCHER)
        clock.advance(days=40)  # every ladder step due
        raced = tickets[1]
        decide = ours.service._due_steps
        races: list[str] = []

        def racing(ticket: str) -> Any:
            decided = decide(ticket)
            if ticket == raced and not races:  # once: the retry must find the steps taken
                races.append(ticket)
                assert other.service.escalate_due(ticket)  # commits first
            return decided

        ours.service._due_steps = racing  # type: ignore[method-assign]
        taken = ours.service.escalate_all_due(tickets)
        assert raced not in taken and set(taken) == set(tickets) - {raced}
        assert all(steps == ["warning", "level1", "level2", "level3"] for steps in taken.values())
        for ticket in tickets:
            kinds = [e["type"] for e in ours.service.history(ticket)["events"]]
            assert kinds.count("Escalated") == 4, (ticket, kinds)
        assert ours.verify().ok
    finally:
        ours.close()
        other.close()


def test_sqlite_writers_of_a_process_queue_on_one_lock(sqlite_engine: Engine) -> None:
    """A side-table write transaction (a projection batch, an acknowledgement) and the event
    store's commit queue on the process's writer lock instead of meeting in SQLite's
    sleeping busy handler: the save waits for the side transaction, then commits."""
    service = sqlite_engine.service
    ticket = _intake(sqlite_engine, "13800000001")
    recorder: Any = service.recorder
    assert recorder._writer is sqlite_engine.db._writer  # one lock per database file
    released: list[float] = []
    saved: list[float] = []
    holding = threading.Event()

    def side_transaction() -> None:
        with sqlite_engine.db.transaction():
            holding.set()
            time.sleep(0.3)
            released.append(time.perf_counter())

    holder = threading.Thread(target=side_transaction)
    holder.start()
    holding.wait(5)
    service.dispatch(ticket, dept="区城管局", assist=[], actor=DISPATCHER)
    saved.append(time.perf_counter())
    holder.join(5)
    assert released and saved[0] >= released[0]
    assert service.show(ticket)["state"] == "已派单"
    assert sqlite_engine.verify().ok
