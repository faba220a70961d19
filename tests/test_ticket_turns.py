"""Ticket numbers on PostgreSQL: writers take turns at a day's numbers (issue 15, item 3).

Each SqlTicketNumbers here stands for one worker process: it has its own sessions, so its
advisory locks are its own, exactly as across processes. The scale-out test
(tests/test_scaleout.py) checks the same with 4 real processes and an engine each.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date

import pytest

from adapters import ticket_numbers
from adapters.sqldb import SqlDatabase, parse_db_url
from adapters.ticket_numbers import HOLES, TABLE, NumberUsed, SqlTicketNumbers
from tests.support.postgres import ThrowawayPostgres

DAY = date(2025, 10, 9)


@pytest.fixture
def dbs(postgres: ThrowawayPostgres) -> Iterator[list[SqlDatabase]]:
    url = postgres.create_database(f"turns_{uuid.uuid4().hex[:12]}")
    opened = [SqlDatabase(parse_db_url(url)) for _ in range(2)]
    yield opened
    for db in opened:
        db.close()


def commit(db: SqlDatabase, write: NumberUsed) -> None:
    """What the event store does with the write: its statements in the insert's
    transaction, then `committed()`."""
    with db.transaction() as cur:
        for sql, params in write.statements():
            cur.execute(sql, params)
    write.committed()


def in_thread(fn: object) -> tuple[threading.Thread, list[object]]:
    got: list[object] = []
    thread = threading.Thread(target=lambda: got.append(fn()), daemon=True)  # type: ignore[operator]
    thread.start()
    return thread, got


def test_a_second_writer_waits_for_the_turn_and_goes_on_from_the_last_number(
        dbs: list[SqlDatabase]) -> None:
    a, b = SqlTicketNumbers(dbs[0]), SqlTicketNumbers(dbs[1])
    try:
        first, used_first = a.reserve(DAY)
        second, used_second = a.reserve(DAY)
        assert (first, second) == (1, 2)
        waiting, got = in_thread(lambda: b.reserve(DAY))
        waiting.join(0.5)
        assert waiting.is_alive() and not got  # a's numbers are pending: b may not guess
        commit(dbs[0], used_first)
        waiting.join(0.3)
        assert waiting.is_alive()  # one is still pending
        commit(dbs[0], used_second)
        waiting.join(10)
        number, used = got[0]  # type: ignore[misc]
        assert number == 3
        commit(dbs[1], used)
        assert a.collisions == b.collisions == 0
    finally:
        a.close()
        b.close()


def test_a_number_given_back_below_a_used_one_is_a_hole_the_next_turn_fills(
        dbs: list[SqlDatabase]) -> None:
    a, b = SqlTicketNumbers(dbs[0]), SqlTicketNumbers(dbs[1])
    try:
        _, used_1 = a.reserve(DAY)
        _, used_2 = a.reserve(DAY)
        a.release(used_1, taken=False)  # that intake failed; 2 is still pending
        commit(dbs[0], used_2)  # a's turn ends with 1 given back below 2
        with dbs[1].transaction(immediate=False) as cur:
            assert cur.execute(f"SELECT day, number FROM {HOLES}").fetchall() == [
                (DAY.isoformat(), 1)]
        number, used = b.reserve(DAY)
        assert (number, used.hole) == (1, True)
        next_number, used_next = b.reserve(DAY)
        assert (next_number, used_next.hole) == (3, False)
        commit(dbs[1], used)
        commit(dbs[1], used_next)
        with dbs[1].transaction(immediate=False) as cur:
            assert cur.execute(f"SELECT count(*) FROM {HOLES}").fetchone()[0] == 0
            assert cur.execute(f"SELECT last FROM {TABLE}").fetchone()[0] == 3
        # A number given back above the last used one is no hole: the next turn just
        # hands it out again from the last number on.
        _, used_4 = a.reserve(DAY)
        a.release(used_4, taken=False)
        assert b.reserve(DAY)[0] == 4
    finally:
        a.close()
        b.close()


def test_a_closed_turn_lets_a_waiting_writer_in_before_its_own_next_number(
        dbs: list[SqlDatabase], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ticket_numbers, "TURN_NUMBERS", 2)
    a, b = SqlTicketNumbers(dbs[0]), SqlTicketNumbers(dbs[1])
    try:
        held = [a.reserve(DAY)[1], a.reserve(DAY)[1]]  # the turn is now closed
        b_waits, b_got = in_thread(lambda: b.reserve(DAY))
        b_waits.join(0.3)
        a_waits, a_got = in_thread(lambda: a.reserve(DAY))  # a busy worker wants more
        a_waits.join(0.3)
        assert b_waits.is_alive() and a_waits.is_alive()
        for write in held:
            commit(dbs[0], write)
        b_waits.join(10)
        b_number, b_used = b_got[0]  # type: ignore[misc]
        assert b_number == 3  # b asked first and PostgreSQL queues lock requests
        a_waits.join(0.3)
        assert a_waits.is_alive()  # a waits for b's turn to end
        commit(dbs[1], b_used)
        a_waits.join(10)
        a_number, a_used = a_got[0]  # type: ignore[misc]
        assert a_number == 4
        commit(dbs[0], a_used)
    finally:
        a.close()
        b.close()


def test_a_writer_that_goes_away_mid_turn_lets_the_others_go_on(
        dbs: list[SqlDatabase]) -> None:
    a, b = SqlTicketNumbers(dbs[0]), SqlTicketNumbers(dbs[1])
    try:
        a.reserve(DAY)
        a.close()  # its session ends (as when its process dies): the lock goes with it
        number, used = b.reserve(DAY)
        assert number == 1  # never committed: no gap
        commit(dbs[1], used)
    finally:
        b.close()


def test_a_lost_lock_session_fails_no_committed_intake(dbs: list[SqlDatabase]) -> None:
    """The turn's session dies (a network cut, a restarted pooler): the intake that ends
    the turn has committed, so letting go must not raise; the dead session has let go of
    the lock, and the next turn opens a new one."""
    a, b = SqlTicketNumbers(dbs[0]), SqlTicketNumbers(dbs[1])
    try:
        _, used = a.reserve(DAY)
        assert a._turns_db is not None
        pid = a._turns_db._conn.info.backend_pid
        with dbs[1].transaction() as cur:
            cur.execute("SELECT pg_terminate_backend(?)", (pid,))
        commit(dbs[0], used)  # no error: the order is stored under number 1
        number, used_b = b.reserve(DAY)
        assert number == 2
        commit(dbs[1], used_b)
        assert a.reserve(DAY)[0] == 3  # a new session for a's next turn
    finally:
        a.close()
        b.close()
