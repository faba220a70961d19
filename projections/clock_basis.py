"""Clock basis index: for each running clock, the calendar version of every year it was
computed on.

When a year's arrangement changes (a provisional year gets the State Council notice), the
ticker asks only for the clocks computed on another version of that year (an indexed
query), so a revision costs the orders it concerns, not a scan of every open order.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Notification

from domain.lifecycle import OPEN_STATES
from domain.workorder import STATE_EVENTS, WorkOrder
from projections.sql import Cursor

INDEX = "rexian_clock_basis"
ORDERS = "rexian_clock_basis_orders"  # ticket number of each order, from its registration

# The events that set a clock's calendar (a start, a resume, an extension, a revision).
CLOCK_EVENTS = (WorkOrder.Dispatched, WorkOrder.ReturnRejected, WorkOrder.ExtensionApproved,
                WorkOrder.Reopened, WorkOrder.DeadlineRevised)


class ClockBasisIndex:
    name = "clock_basis"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {INDEX} (originator_id TEXT NOT NULL, "
                    "ticket_no TEXT NOT NULL, year INTEGER NOT NULL, version TEXT NOT NULL, "
                    "PRIMARY KEY (originator_id, year))")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {INDEX}_year ON {INDEX} (year, version)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {ORDERS} (originator_id TEXT PRIMARY KEY, "
                    "ticket_no TEXT NOT NULL)")

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {INDEX}")
        cur.execute(f"DROP TABLE IF EXISTS {ORDERS}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if not isinstance(event, WorkOrder.Event):
            return
        oid = str(event.originator_id)
        if isinstance(event, WorkOrder.Registered):
            cur.execute(f"INSERT INTO {ORDERS} (originator_id, ticket_no) VALUES (?, ?) "
                        "ON CONFLICT (originator_id) DO NOTHING", (oid, event.ticket_no))
        elif isinstance(event, CLOCK_EVENTS):
            cur.execute(f"DELETE FROM {INDEX} WHERE originator_id = ?", (oid,))
            calendar = getattr(event, "calendar", None) or {}  # absent in pre-basis events
            row = cur.execute(f"SELECT ticket_no FROM {ORDERS} WHERE originator_id = ?",
                              (oid,)).fetchone()
            ticket = row[0] if row else oid
            for year, version in calendar.items():
                cur.execute(f"INSERT INTO {INDEX} (originator_id, ticket_no, year, version) "
                            "VALUES (?, ?, ?, ?)", (oid, ticket, int(year), version))
        elif isinstance(event, WorkOrder.Returned) or (
                isinstance(event, STATE_EVENTS) and event.state not in OPEN_STATES):
            cur.execute(f"DELETE FROM {INDEX} WHERE originator_id = ?", (oid,))


def stale_clocks(cur: Cursor, versions: dict[int, str], limit: int = 100_000) -> list[str]:
    """Orders with a running clock computed on another version of any of these years."""
    found: dict[str, None] = {}
    for year, version in versions.items():
        # Two index ranges rather than `<>`, which would scan every clock of the year.
        rows = cur.execute(f"SELECT ticket_no FROM {INDEX} WHERE (year = ? AND version < ?) "
                           "OR (year = ? AND version > ?) LIMIT ?",
                           (year, version, year, version, limit)).fetchall()
        found.update(dict.fromkeys(r[0] for r in rows))
    return list(found)
