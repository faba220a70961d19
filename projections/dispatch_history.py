"""The dispatch history read model: what the suggestion model is trained on (issue 14).

One row per order: its (masked) content, category and region from Registered, the lead unit
of its latest dispatch (Dispatched / Redispatched), and the units that returned it (退单:
Returned), in order. An order whose personal data was erased leaves the history (its words
no longer teach anything). `position` is the notification id of the row's last change, so
training can continue from where the last one stopped.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Notification

from domain.workorder import WorkOrder
from projections.sql import Cursor

HISTORY = "rexian_dispatch_history"


class DispatchHistory:
    name = "dispatch_history"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {HISTORY} (originator_id TEXT PRIMARY KEY, "
            "ticket_no TEXT NOT NULL, category TEXT NOT NULL, region TEXT NOT NULL, "
            "content TEXT NOT NULL, lead TEXT, returned_by TEXT NOT NULL, "
            "position INTEGER NOT NULL)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {HISTORY}_position ON {HISTORY} (position)")

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {HISTORY}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if not isinstance(event, WorkOrder.Event):
            return
        oid = str(event.originator_id)
        if isinstance(event, WorkOrder.Registered):
            cur.execute(
                f"INSERT INTO {HISTORY} (originator_id, ticket_no, category, region, content, "
                "lead, returned_by, position) VALUES (?, ?, ?, ?, ?, NULL, '[]', ?) "
                "ON CONFLICT (originator_id) DO NOTHING",
                (oid, event.ticket_no, event.category, event.region, event.content,
                 notification.id))
        elif isinstance(event, WorkOrder.Dispatched):  # and Redispatched
            cur.execute(f"UPDATE {HISTORY} SET lead = ?, position = ? WHERE originator_id = ?",
                        (event.dept, notification.id, oid))
        elif isinstance(event, WorkOrder.Returned):
            row = cur.execute(f"SELECT returned_by FROM {HISTORY} WHERE originator_id = ?",
                              (oid,)).fetchone()
            if row is not None:
                units = [*json.loads(row[0]), event.dept]
                cur.execute(f"UPDATE {HISTORY} SET returned_by = ?, position = ? "
                            "WHERE originator_id = ?",
                            (json.dumps(units, ensure_ascii=False), notification.id, oid))
        elif isinstance(event, WorkOrder.PersonalDataErased):
            cur.execute(f"DELETE FROM {HISTORY} WHERE originator_id = ?", (oid,))


def history_rows(cur: Cursor, after: int = 0, limit: int = 10_000) -> list[tuple[Any, ...]]:
    """(position, content, category, region, lead, returned units) of dispatched orders
    changed after `after`, by position."""
    rows = cur.execute(
        f"SELECT position, content, category, region, lead, returned_by FROM {HISTORY} "
        "WHERE lead IS NOT NULL AND position > ? ORDER BY position LIMIT ?",
        (after, limit)).fetchall()
    return [(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5]))) for r in rows]
