"""Daily ticket sequences shared by all processes on one store (implements TicketNumbers).

A number is reserved by reading the day's last number and consumed by a write that
commits with the order's first event (adapters/sealed_store.py runs it in the insert
transaction): a refused or failed intake uses up nothing, so numbers stay gap-free. Two
processes reserving the same number collide on the event's unique id; the loser retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.sqldb import SqlDatabase

TABLE = "rexian_ticket_sequences"


@dataclass(frozen=True)
class NumberUsed:
    day: str
    number: int

    def statements(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(f"INSERT INTO {TABLE} (day, last) VALUES (?, ?) ON CONFLICT (day) DO UPDATE "
                 f"SET last = CASE WHEN {TABLE}.last < ? THEN ? ELSE {TABLE}.last END",
                 (self.day, self.number, self.number, self.number))]

    def committed(self) -> None:
        """Nothing to remember: the table is the source of truth."""


class SqlTicketNumbers:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (day TEXT PRIMARY KEY, "
                        "last INTEGER NOT NULL)")

    def reserve(self, day: date, after: int = 0) -> tuple[int, NumberUsed]:
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT last FROM {TABLE} WHERE day = ?",
                              (day.isoformat(),)).fetchone()
        number = max(int(row[0]) if row else 0, after) + 1
        return number, NumberUsed(day.isoformat(), number)
