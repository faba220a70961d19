"""The SQLite sealing recorder remembers the ledger head it last committed instead of looking
it up per save: a save that fails or rolls back never moves it, and a write by another
engine on the same file makes the next save look the head up again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from adapters.bootstrap import Engine, build_engine
from adapters.sealed_store import LEDGER
from domain.values import Actor
from tests.conftest import SimClock
from tests.test_intake_transaction import _intake, _rows

DISPATCHER = Actor("dispatcher", "D1")


def _chain_rows(engine: Engine) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in _rows(
        engine, f"SELECT position, chain_hash FROM {LEDGER} ORDER BY position")]


class _Orphan:
    """A staged row whose deferred foreign key fails at COMMIT: the save fails after its
    ledger rows were written, in the very commit."""

    def statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [("INSERT INTO orphans (parent) VALUES (?)", (42,))]

    def committed(self) -> None:
        raise AssertionError("never committed")


def test_a_save_whose_commit_fails_leaves_the_chain_whole(
        tmp_path: Path, clock: SimClock) -> None:
    clock.set("2025-09-30T09:00:00")
    db = str(tmp_path / "rollback.db")
    ours, other = build_engine(db, clock=clock), build_engine(db, clock=clock)
    try:
        first = _intake(ours, "13800000001")
        second = _intake(ours, "13800000002")
        with ours.db.transaction() as cur:
            cur.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
            cur.execute("CREATE TABLE orphans (parent INTEGER REFERENCES parents (id) "
                        "DEFERRABLE INITIALLY DEFERRED)")
        pool = ours.service.recorder.datastore.pool  # type: ignore[attr-defined]
        connection = pool.get_connection()
        connection.cursor().execute("PRAGMA foreign_keys = ON")
        pool.put_connection(connection)
        order = ours.service.load(first)
        order.dispatch(dept="区城管局", assist=[], actor=DISPATCHER, at=ours.service.now(),
                       sign_due_at=None, due_at=None, ladder=None, calendar=None)
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            ours.service._commit(order, staged=[_Orphan()])
        before = _chain_rows(ours)
        # Another engine commits at the notification id the failed save had; our next
        # save's id follows it. Had the failed save's last row become our head, this save
        # would chain from a row that is not in the ledger.
        other.service.dispatch(second, dept="区城管局", assist=[], actor=DISPATCHER)
        ours.service.dispatch(first, dept="区城管局", assist=[], actor=DISPATCHER)
        after = _chain_rows(ours)
        assert after[:len(before)] == before and len(after) == len(before) + 2
        assert ours.service.show(first)["state"] == "已派单"
        assert ours.verify().ok
    finally:
        ours.close()
        other.close()


def test_a_write_by_another_engine_is_chained_onto(tmp_path: Path, clock: SimClock) -> None:
    clock.set("2025-09-30T09:00:00")
    db = str(tmp_path / "two.db")
    ours, other = build_engine(db, clock=clock), build_engine(db, clock=clock)
    try:
        tickets = [_intake(ours, "13800000001"), _intake(other, "13800000002"),
                   _intake(ours, "13800000003")]
        other.service.dispatch(tickets[0], dept="区城管局", assist=[], actor=DISPATCHER)
        ours.service.dispatch(tickets[1], dept="区城管局", assist=[], actor=DISPATCHER)
        ours.service.dispatch(tickets[2], dept="区城管局", assist=[], actor=DISPATCHER)
        assert len(_chain_rows(ours)) == 6
        assert ours.verify().ok and other.verify().ok
    finally:
        ours.close()
        other.close()
