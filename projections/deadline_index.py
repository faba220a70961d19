"""Deadline index: open orders ordered by the instant of their next ladder step.

A tick asks only for rows whose next instant has come (an indexed range query), so
its cost follows the number of orders due now, not the number of open orders.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Notification

from domain.lifecycle import OPEN_STATES
from domain.workorder import pending_ladder
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
        oid = str(event.originator_id)
        kind = type(event).__name__
        if kind == "Registered":
            cur.execute(f"INSERT INTO {INDEX} (originator_id, ticket_no, next_at, next_step, "
                        "ladder, done, has_plan) VALUES (?, ?, NULL, NULL, '{}', '[]', 0) "
                        "ON CONFLICT (originator_id) DO NOTHING", (oid, event.ticket_no))
            return
        row = cur.execute(f"SELECT ladder, done, has_plan FROM {INDEX} WHERE originator_id = ?",
                          (oid,)).fetchone()
        if row is None:
            return
        ladder, done, has_plan = json.loads(row[0]), json.loads(row[1]), bool(row[2])
        if getattr(event, "resumed", False):
            ladder = dict(event.ladder or {})  # the paused clock continues: keep what was done
        elif hasattr(event, "ladder"):
            ladder, done = dict(event.ladder or {}), []
            if kind != "ExtensionApproved":
                has_plan = False
        elif kind == "PlanReported":
            has_plan = True
        elif kind == "Escalated":
            done.append(event.step)
        elif kind == "Returned":
            ladder = {}  # paused: `done` is kept for a resume by the same unit
        if getattr(event, "state", None) is not None and event.state not in OPEN_STATES:
            ladder, done = {}, []
        pending = pending_ladder(ladder, done, has_plan)
        next_at = pending[0][1].timestamp() if pending else None
        next_step = pending[0][0] if pending else None
        cur.execute(f"UPDATE {INDEX} SET next_at = ?, next_step = ?, ladder = ?, done = ?, "
                    "has_plan = ? WHERE originator_id = ?",
                    (next_at, next_step, json.dumps(ladder), json.dumps(done), int(has_plan),
                     oid))


def due_tickets(cur: Cursor, now_epoch: float, limit: int = 100_000) -> list[str]:
    rows = cur.execute(f"SELECT ticket_no FROM {INDEX} WHERE next_at <= ? ORDER BY next_at "
                       "LIMIT ?", (now_epoch, limit)).fetchall()
    return [r[0] for r in rows]
