"""Which work orders each citizen's personal data is sealed in (for erasure, 删除权).

One row per order: (ticket_no, citizen_id), from Registered. The citizen id is a
pseudonym (the vault's key id), yet it links orders to one person: PersonalDataErased
drops the order's row, so once a citizen is erased nothing here links their orders.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification

from domain.workorder import WorkOrder
from projections.sql import Cursor, Database

CITIZEN_ORDERS = "rexian_citizen_orders"


class CitizenOrderIndex:
    name = "citizen_orders"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {CITIZEN_ORDERS} (originator_id TEXT PRIMARY "
                    "KEY, ticket_no TEXT NOT NULL, citizen_id TEXT NOT NULL, "
                    "position BIGINT NOT NULL)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {CITIZEN_ORDERS}_citizen ON {CITIZEN_ORDERS} "
                    "(citizen_id)")

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {CITIZEN_ORDERS}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if isinstance(event, WorkOrder.Registered) and event.citizen_id:
            cur.execute(f"INSERT INTO {CITIZEN_ORDERS} (originator_id, ticket_no, citizen_id, "
                        "position) VALUES (?, ?, ?, ?) ON CONFLICT (originator_id) DO NOTHING",
                        (str(event.originator_id), event.ticket_no, event.citizen_id,
                         notification.id))
        elif isinstance(event, WorkOrder.PersonalDataErased):
            cur.execute(f"DELETE FROM {CITIZEN_ORDERS} WHERE originator_id = ?",
                        (str(event.originator_id),))


class CitizenOrderLookup:
    """The CitizenOrders port over the index (caught up first: an intake a moment ago)."""

    def __init__(self, runner: Any, db: Database) -> None:
        self.runner = runner
        self.db = db

    def orders_of(self, citizen_id: str) -> list[str]:
        self.runner.catch_up()
        return orders_of(self.db, citizen_id)


def orders_of(db: Database, citizen_id: str) -> list[str]:
    with db.transaction(immediate=False) as cur:
        rows = cur.execute(f"SELECT ticket_no FROM {CITIZEN_ORDERS} WHERE citizen_id = ? "
                           "ORDER BY position", (citizen_id,)).fetchall()
    return [str(row[0]) for row in rows]
