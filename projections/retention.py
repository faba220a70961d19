"""Which citizens' personal data is due for erasure under the retention policy
(domain/policies/retention.py): those whose every order has been closed since before the
cutoff.

Two tables: each order's citizen and when it closed (NULL while open), and per citizen the
number of open orders and the last closing, indexed so a tick finds the due citizens
without scanning every order. PersonalDataErased removes the order (an erased citizen is
never due again).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification

from domain.lifecycle import TERMINAL_STATES
from domain.workorder import WorkOrder
from projections.sql import Cursor

ORDERS = "rexian_retention_orders"
CITIZENS = "rexian_retention_citizens"
_TERMINAL = frozenset(TERMINAL_STATES)


class RetentionIndex:
    name = "retention"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {ORDERS} (originator_id TEXT PRIMARY KEY, "
                    "citizen_id TEXT NOT NULL, closed_at DOUBLE PRECISION)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {ORDERS}_citizen ON {ORDERS} (citizen_id)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {CITIZENS} (citizen_id TEXT PRIMARY KEY, "
                    "open_orders INTEGER NOT NULL, last_closed DOUBLE PRECISION)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {CITIZENS}_due ON {CITIZENS} "
                    "(open_orders, last_closed)")

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {ORDERS}")
        cur.execute(f"DROP TABLE IF EXISTS {CITIZENS}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if not isinstance(event, WorkOrder.Event):
            return
        oid = str(event.originator_id)
        if isinstance(event, WorkOrder.Registered):
            if event.citizen_id:
                cur.execute(f"INSERT INTO {ORDERS} (originator_id, citizen_id, closed_at) "
                            "VALUES (?, ?, NULL) ON CONFLICT (originator_id) DO NOTHING",
                            (oid, event.citizen_id))
                self._recount(cur, event.citizen_id)
            return
        if isinstance(event, WorkOrder.PersonalDataErased):
            row = self._order(cur, oid)
            if row is not None:
                cur.execute(f"DELETE FROM {ORDERS} WHERE originator_id = ?", (oid,))
                self._recount(cur, row[0])
            return
        state = getattr(event, "state", None)
        if state is None:
            return  # the event moves no state
        row = self._order(cur, oid)
        if row is None:
            return  # an erased citizen's order
        closed = event.timestamp.timestamp() if state in _TERMINAL else None
        if (row[1] is None) == (closed is None):
            return  # open stays open (closed orders never reopen: terminal states)
        cur.execute(f"UPDATE {ORDERS} SET closed_at = ? WHERE originator_id = ?",
                    (closed, oid))
        self._recount(cur, row[0])

    @staticmethod
    def _order(cur: Cursor, oid: str) -> Any:
        return cur.execute(f"SELECT citizen_id, closed_at FROM {ORDERS} WHERE originator_id = ?",
                           (oid,)).fetchone()

    @staticmethod
    def _recount(cur: Cursor, citizen_id: str) -> None:
        """The citizen's row from their orders (a citizen has a handful: cheap)."""
        open_orders, orders, last = cur.execute(
            f"SELECT COUNT(*) - COUNT(closed_at), COUNT(*), MAX(closed_at) FROM {ORDERS} "
            "WHERE citizen_id = ?", (citizen_id,)).fetchone()
        if not orders:
            cur.execute(f"DELETE FROM {CITIZENS} WHERE citizen_id = ?", (citizen_id,))
            return
        cur.execute(f"INSERT INTO {CITIZENS} (citizen_id, open_orders, last_closed) "
                    "VALUES (?, ?, ?) ON CONFLICT (citizen_id) DO UPDATE SET "
                    "open_orders = excluded.open_orders, last_closed = excluded.last_closed",
                    (citizen_id, int(open_orders), last))


def due_citizens(cur: Cursor, cutoff: float, limit: int = 1000) -> list[str]:
    """Citizens with no open order whose last order closed before `cutoff` (epoch s)."""
    rows = cur.execute(f"SELECT citizen_id FROM {CITIZENS} WHERE open_orders = 0 AND "
                       "last_closed < ? ORDER BY last_closed LIMIT ?", (cutoff, limit)).fetchall()
    return [str(row[0]) for row in rows]
