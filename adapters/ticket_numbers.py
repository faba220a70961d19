"""Daily ticket sequences shared by all processes on one store (implements TicketNumbers).

A number is reserved by reading the day's last number and consumed by a write that
commits with the order's first event (adapters/sealed_store.py runs it in the insert
transaction): a refused or failed intake uses up nothing, so numbers stay gap-free.

Within one process, intakes running at once (they may share a transaction: group commit)
must not reserve the same number, or all but one of them would collide and retry. So a
number handed out stays pending until its intake commits or gives it back (`release`),
and a given-back number is handed out again before any new one: a failure leaves no gap.

Between processes: on SQLite (one serving process) two processes reserving the same
number collide on the event's unique id and the loser retries. On PostgreSQL N workers
intake at once, and optimistic reservations collided in bursts (each worker handed out
the same next numbers, one side's whole batch failed and retried: intake p99 3 s against
dispatch 0.3 s with two workers). There a process hands out a day's numbers only while
it holds that day's advisory lock (its *turn*), taken before the first reservation and
let go when its last pending number has committed or been given back; after TURN_NUMBERS
numbers the turn closes, so a busy worker cannot keep the others waiting for ever
(PostgreSQL grants a waited-for lock in the order it was asked for). A number given back
during a turn and not handed out again before it ends, below one that was used, is a
hole: it is written to HOLES before the lock is let go, and whoever holds the day's
turn next hands the holes out first (a process killed in the middle of a turn can
still leave a gap, as on SQLite).
"""

from __future__ import annotations

import threading
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from adapters.sqldb import SqlDatabase

TABLE = "rexian_ticket_sequences"
HOLES = "rexian_ticket_holes"  # numbers given back below the day's last (PostgreSQL turns)
TURN_LOCK_CLASS = 0x7469636B  # 'tick': pg_advisory_lock(class, yyyymmdd) per day
TURN_NUMBERS = 8
TURN_WAIT = "30s"  # as long as the event store waits for its table lock


@dataclass(frozen=True)
class NumberUsed:
    day: str
    number: int
    owner: SqlTicketNumbers | None = field(default=None, compare=False, repr=False)
    hole: bool = False  # the number fills a hole another turn left

    def statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        used: list[tuple[str, tuple[Any, ...]]] = [(
            f"INSERT INTO {TABLE} (day, last) VALUES (?, ?) ON CONFLICT (day) DO UPDATE "
            f"SET last = CASE WHEN {TABLE}.last < ? THEN ? ELSE {TABLE}.last END",
            (self.day, self.number, self.number, self.number))]
        if self.hole:
            used.append((f"DELETE FROM {HOLES} WHERE day = ? AND number = ?",
                         (self.day, self.number)))
        return used

    def committed(self) -> None:
        """The table now holds it: no longer pending in this process."""
        if self.owner is not None:
            self.owner._settle(self, used=True)


@dataclass
class _Turn:
    """This process holds the day's advisory lock: nobody else hands out its numbers."""
    stored: int  # the day's last committed number (read under the lock, then our own)
    holes: set[int]  # read from HOLES under the lock and not yet used
    handed: int = 0
    open: bool = True


class SqlTicketNumbers:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self._lock = threading.Condition(threading.Lock())
        self._pending: dict[str, set[int]] = {}  # handed out, not yet committed or released
        self._returned: dict[str, set[int]] = {}  # released: hand these out first
        self.collisions = 0  # numbers another writer stored first (retried)
        # PostgreSQL: the turns' advisory locks live on a session of their own.
        self._turns_db = SqlDatabase(db.config) if db.postgres else None
        self._turns: dict[str, _Turn] = {}
        self._taking: set[str] = set()  # a thread is waiting for the day's lock
        self._ending: set[str] = set()  # a thread is writing holes and letting it go
        with db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (day TEXT PRIMARY KEY, "
                        "last INTEGER NOT NULL)")
            if db.postgres:
                cur.execute(f"CREATE TABLE IF NOT EXISTS {HOLES} (day TEXT NOT NULL, "
                            "number INTEGER NOT NULL, PRIMARY KEY (day, number))")

    def reserve(self, day: date, after: int = 0) -> tuple[int, NumberUsed]:
        key = day.isoformat()
        if self._turns_db is None:
            with self.db.transaction(immediate=False) as cur:
                row = cur.execute(f"SELECT last FROM {TABLE} WHERE day = ?", (key,)).fetchone()
            stored = int(row[0]) if row else 0
            with self._lock:
                return self._hand_out(key, stored, after)
        with self._lock:
            turn = self._await_turn(day, key)
            turn.handed += 1
            turn.open = turn.handed < TURN_NUMBERS
            return self._hand_out(key, turn.stored, after)

    def release(self, write: NumberUsed, taken: bool) -> None:
        """The intake holding `write` ended without committing it; `taken`: another writer
        stored an order under that number (else it is handed out again)."""
        if taken:
            with self._lock:
                self.collisions += 1
        self._settle(write, used=taken)

    def close(self) -> None:
        if self._turns_db is not None:
            self._turns_db.close()  # ends the session: any turn it held is let go

    # ----- the pending numbers ----------------------------------------------------------
    def _hand_out(self, key: str, stored: int, after: int) -> tuple[int, NumberUsed]:
        pending = self._pending.setdefault(key, set())
        returned = self._returned.setdefault(key, set())
        again = [n for n in returned if n > after]
        if again:
            number = min(again)
            returned.discard(number)
        else:
            number = max(stored, after, max(pending, default=0)) + 1
        pending.add(number)
        turn = self._turns.get(key)
        hole = turn is not None and number in turn.holes
        return number, NumberUsed(key, number, self, hole=hole)

    def _settle(self, write: NumberUsed, used: bool) -> None:
        with self._lock:
            pending = self._pending.get(write.day, set())
            if write.number not in pending:
                return
            pending.discard(write.number)
            if not used:
                self._returned.setdefault(write.day, set()).add(write.number)
            turn = self._turns.get(write.day)
            if turn is None:
                return
            if used:
                turn.stored = max(turn.stored, write.number)
                turn.holes.discard(write.number)
            if pending:
                return
            # The turn ends: what this process was given back below the day's last number
            # is left for the next turn, in HOLES; the rest is no gap (the next holder
            # hands out from the last number on).
            returned = self._returned.pop(write.day, set())
            holes = sorted(n for n in returned if n < turn.stored)
            del self._turns[write.day]
            self._ending.add(write.day)
        # Let go outside the condition: its round trips must not hold up reservations of
        # other days (this day's wait in _await_turn until the lock is let go).
        try:
            self._unlock(write.day, holes)
        except Exception:  # noqa: BLE001 - the intake has committed: it must not fail now
            # Ending the session lets go of the lock all the same (holes not written stay
            # gaps); the next turn opens a new session.
            assert self._turns_db is not None
            with suppress(Exception):
                self._turns_db.close()
        finally:
            with self._lock:
                self._ending.discard(write.day)
                self._lock.notify_all()

    # ----- turns (PostgreSQL) -----------------------------------------------------------
    def _await_turn(self, day: date, key: str) -> _Turn:
        """The day's turn, open for another number (called and returning with the
        condition held; waits while another thread takes the lock or a closed turn
        drains)."""
        while True:
            turn = self._turns.get(key)
            if turn is not None and turn.open:
                return turn
            if turn is None and key not in self._taking and key not in self._ending:
                break
            self._lock.wait()
        self._taking.add(key)
        self._lock.release()
        try:
            stored, holes = self._lock_day(day, key)
        finally:
            self._lock.acquire()
            self._taking.discard(key)
            self._lock.notify_all()
        turn = _Turn(stored, set(holes))
        self._returned.setdefault(key, set()).update(holes)  # handed out first
        self._turns[key] = turn
        return turn

    def _lock_day(self, day: date, key: str) -> tuple[int, list[int]]:
        assert self._turns_db is not None
        with self._turns_db.transaction() as cur:
            # The wait is bounded like the event store's table lock; the session lock
            # outlives this transaction.
            cur.execute(f"SET LOCAL lock_timeout = '{TURN_WAIT}'")
            cur.execute("SELECT pg_advisory_lock(?, ?)", (TURN_LOCK_CLASS, _day_code(day)))
            row = cur.execute(f"SELECT last FROM {TABLE} WHERE day = ?", (key,)).fetchone()
            holes = cur.execute(f"SELECT number FROM {HOLES} WHERE day = ?", (key,)).fetchall()
        return (int(row[0]) if row else 0), [int(h[0]) for h in holes]

    def _unlock(self, key: str, holes: list[int]) -> None:
        assert self._turns_db is not None
        if holes:  # committed before the lock is let go: the next holder must see them
            with self._turns_db.transaction() as cur:
                for number in holes:
                    cur.execute(f"INSERT INTO {HOLES} (day, number) VALUES (?, ?) "
                                "ON CONFLICT DO NOTHING", (key, number))
        with self._turns_db.transaction() as cur:
            cur.execute("SELECT pg_advisory_unlock(?, ?)",
                        (TURN_LOCK_CLASS, _day_code(date.fromisoformat(key))))


def _day_code(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day
