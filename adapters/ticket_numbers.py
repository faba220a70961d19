"""Daily ticket sequences shared by all processes on one store (implements TicketNumbers)."""

from __future__ import annotations

from datetime import date

from adapters.sqldb import SqlDatabase

TABLE = "rexian_ticket_sequences"


class SqlTicketNumbers:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (day TEXT PRIMARY KEY, "
                        "last INTEGER NOT NULL)")

    def next_number(self, day: date) -> int:
        with self.db.transaction() as cur:
            row = cur.execute(
                f"INSERT INTO {TABLE} (day, last) VALUES (?, 1) ON CONFLICT (day) "
                f"DO UPDATE SET last = {TABLE}.last + 1 RETURNING last",
                (day.isoformat(),),
            ).fetchone()
        return int(row[0])

    def skip_past(self, day: date, number: int) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {TABLE} (day, last) VALUES (?, ?) ON CONFLICT (day) DO UPDATE "
                f"SET last = CASE WHEN {TABLE}.last < ? THEN ? ELSE {TABLE}.last END",
                (day.isoformat(), number, number, number),
            )
