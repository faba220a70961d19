"""Deadline index: open orders ordered by the instant of their next ladder step.

A tick asks only for rows whose next instant has come (an indexed range query), so
its cost follows the number of orders due now, not the number of open orders.

Each row keeps the ladder state the aggregate keeps (step instants, steps taken, plan
reported) and moves it with the aggregate's own fold (domain.workorder.fold_ladder).
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Notification

from domain.workorder import LadderState, WorkOrder, fold_ladder
from projections.sql import Cursor

INDEX = "rexian_deadline_index"


class DeadlineIndex:
    name = "deadline_index"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {INDEX} (originator_id TEXT PRIMARY KEY, "
            "ticket_no TEXT NOT NULL, next_at DOUBLE PRECISION, next_step TEXT, "
            "ladder TEXT NOT NULL, done TEXT NOT NULL, has_plan INTEGER NOT NULL)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {INDEX}_next ON {INDEX} (next_at)")

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {INDEX}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if not isinstance(event, WorkOrder.Event):
            return  # another aggregate's event (e.g. a HolidayArrangement)
        oid = str(event.originator_id)
        if isinstance(event, WorkOrder.Registered):
            cur.execute(f"INSERT INTO {INDEX} (originator_id, ticket_no, next_at, next_step, "
                        "ladder, done, has_plan) VALUES (?, ?, NULL, NULL, '{}', '[]', 0) "
                        "ON CONFLICT (originator_id) DO NOTHING", (oid, event.ticket_no))
            return
        row = cur.execute(f"SELECT ladder, done, has_plan FROM {INDEX} WHERE originator_id = ?",
                          (oid,)).fetchone()
        if row is None:
            return
        before = LadderState(json.loads(row[0]), tuple(json.loads(row[1])), bool(row[2]))
        # The aggregate's own fold: the index cannot disagree with what a tick will find.
        after = fold_ladder(before, event)
        if after == before:
            return
        pending = after.pending()
        next_at = pending[0][1].timestamp() if pending else None
        next_step = pending[0][0] if pending else None
        cur.execute(f"UPDATE {INDEX} SET next_at = ?, next_step = ?, ladder = ?, done = ?, "
                    "has_plan = ? WHERE originator_id = ?",
                    (next_at, next_step, json.dumps(dict(after.ladder)), json.dumps(list(after.done)),
                     int(after.has_plan), oid))


def due_tickets(cur: Cursor, now_epoch: float, limit: int = 100_000) -> list[str]:
    rows = cur.execute(f"SELECT ticket_no FROM {INDEX} WHERE next_at <= ? ORDER BY next_at "
                       "LIMIT ?", (now_epoch, limit)).fetchall()
    return [r[0] for r in rows]
