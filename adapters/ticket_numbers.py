"""Daily ticket sequences shared by all processes on one store (implements TicketNumbers).

A number is reserved by reading the day's last number and consumed by a write that
commits with the order's first event (adapters/sealed_store.py runs it in the insert
transaction): a refused or failed intake uses up nothing, so numbers stay gap-free. Two
processes reserving the same number collide on the event's unique id; the loser retries.

Within one process, intakes running at once (they may share a transaction: group commit)
must not reserve the same number, or all but one of them would collide and retry. So a
number handed out stays pending until its intake commits or gives it back (`release`),
and a given-back number is handed out again before any new one: a failure leaves no gap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from adapters.sqldb import SqlDatabase

TABLE = "rexian_ticket_sequences"


@dataclass(frozen=True)
class NumberUsed:
    day: str
    number: int
    owner: SqlTicketNumbers | None = field(default=None, compare=False, repr=False)

    def statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(f"INSERT INTO {TABLE} (day, last) VALUES (?, ?) ON CONFLICT (day) DO UPDATE "
                 f"SET last = CASE WHEN {TABLE}.last < ? THEN ? ELSE {TABLE}.last END",
                 (self.day, self.number, self.number, self.number))]

    def committed(self) -> None:
        """The table now holds it: no longer pending in this process."""
        if self.owner is not None:
            self.owner._settle(self, used=True)


class SqlTicketNumbers:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._pending: dict[str, set[int]] = {}  # handed out, not yet committed or released
        self._returned: dict[str, set[int]] = {}  # released: hand these out first
        with db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (day TEXT PRIMARY KEY, "
                        "last INTEGER NOT NULL)")

    def reserve(self, day: date, after: int = 0) -> tuple[int, NumberUsed]:
        key = day.isoformat()
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT last FROM {TABLE} WHERE day = ?", (key,)).fetchone()
        stored = int(row[0]) if row else 0
        with self._lock:
            pending = self._pending.setdefault(key, set())
            returned = self._returned.setdefault(key, set())
            again = [n for n in returned if n > after]
            if again:
                number = min(again)
                returned.discard(number)
            else:
                number = max(stored, after, max(pending, default=0)) + 1
            pending.add(number)
        return number, NumberUsed(key, number, self)

    def release(self, write: NumberUsed, taken: bool) -> None:
        """The intake holding `write` ended without committing it; `taken`: another writer
        stored an order under that number (else it is handed out again)."""
        self._settle(write, used=taken)

    def _settle(self, write: NumberUsed, used: bool) -> None:
        with self._lock:
            pending = self._pending.get(write.day, set())
            if write.number in pending:
                pending.discard(write.number)
                if not used:
                    self._returned.setdefault(write.day, set()).add(write.number)
