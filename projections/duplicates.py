"""The recent-order index for duplicates (并单建议) and the mass-complaint alerts (群诉预警).

`rexian_dup_orders`: one row per order, from Registered: its area (the intake region), its
recorded (masked) content, its citizen's pseudonym (dropped by PersonalDataErased), its
intake instant (epoch seconds, indexed with the area: a candidate query is one range scan)
and its current state (every event that records a state moves it).

`rexian_dup_alerts` and `rexian_dup_members`: each MassComplaintAlert and which orders it
holds, folded from its Raised / Grew events.

Like every projection, rebuilt from the log: the detector's own position (which orders it
has examined, adapters/duplicates.py) is not here, so a rebuild raises nothing again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification

from domain.duplicates.alert import MassComplaintAlert
from domain.workorder import WorkOrder
from projections.sql import Cursor

ORDERS = "rexian_dup_orders"
ALERTS = "rexian_dup_alerts"
MEMBERS = "rexian_dup_members"


class DuplicateIndex:
    name = "duplicates"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {ORDERS} (originator_id TEXT PRIMARY KEY, "
                    "ticket_no TEXT NOT NULL, area TEXT NOT NULL, content TEXT NOT NULL, "
                    "citizen_id TEXT, created_ts DOUBLE PRECISION NOT NULL, "
                    "state TEXT NOT NULL, position BIGINT NOT NULL)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {ORDERS}_area ON {ORDERS} (area, created_ts)")
        cur.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {ORDERS}_ticket ON {ORDERS} (ticket_no)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {ALERTS} (ref TEXT PRIMARY KEY, "
                    "originator_id TEXT NOT NULL, area TEXT NOT NULL, members INTEGER NOT NULL, citizens INTEGER NOT NULL, "
                    "notify TEXT NOT NULL, summary TEXT NOT NULL, raised_at TEXT NOT NULL, "
                    "updated_at TEXT NOT NULL, position BIGINT NOT NULL)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {MEMBERS} (ticket_no TEXT PRIMARY KEY, "
                    "ref TEXT NOT NULL)")

    def drop_tables(self, cur: Cursor) -> None:
        for table in (ORDERS, ALERTS, MEMBERS):
            cur.execute(f"DROP TABLE IF EXISTS {table}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if isinstance(event, MassComplaintAlert.Event):
            self._alert(cur, notification, event)
            return
        if not isinstance(event, WorkOrder.Event):
            return
        oid = str(event.originator_id)
        if isinstance(event, WorkOrder.Registered):
            cur.execute(
                f"INSERT INTO {ORDERS} (originator_id, ticket_no, area, content, citizen_id, "
                "created_ts, state, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (originator_id) DO NOTHING",
                (oid, event.ticket_no, event.region, event.content, event.citizen_id or None,
                 event.timestamp.timestamp(), "已受理", notification.id))
        elif isinstance(event, WorkOrder.PersonalDataErased):
            cur.execute(f"UPDATE {ORDERS} SET citizen_id = NULL WHERE originator_id = ?", (oid,))
        state = getattr(event, "state", None)
        if isinstance(state, str) and not isinstance(event, WorkOrder.Registered):
            cur.execute(f"UPDATE {ORDERS} SET state = ? WHERE originator_id = ?", (state, oid))

    @staticmethod
    def _alert(cur: Cursor, notification: Notification, event: Any) -> None:
        at = event.timestamp.isoformat()
        if isinstance(event, MassComplaintAlert.Raised):
            cur.execute(
                f"INSERT INTO {ALERTS} (ref, originator_id, area, members, citizens, notify, "
                "summary, raised_at, updated_at, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (ref) DO NOTHING",
                (event.ref, str(event.originator_id), event.area, len(event.members), event.citizens,
                 json.dumps(event.notify, ensure_ascii=False), event.summary, at, at,
                 notification.id))
            members, ref = list(event.members), event.ref
        elif isinstance(event, MassComplaintAlert.Grew):
            row = cur.execute(f"SELECT ref FROM {ALERTS} WHERE originator_id = ?",
                              (str(event.originator_id),)).fetchone()
            if row is None:  # its Raised predates the index: cannot happen on a rebuild
                return
            ref = str(row[0])
            cur.execute(f"UPDATE {ALERTS} SET members = ?, citizens = ?, updated_at = ? "
                        "WHERE ref = ?", (event.members, event.citizens, at, ref))
            members = [event.ticket_no]
        else:
            return
        for ticket_no in members:
            cur.execute(f"INSERT INTO {MEMBERS} (ticket_no, ref) VALUES (?, ?) "
                        "ON CONFLICT (ticket_no) DO NOTHING", (ticket_no, ref))


@dataclass(frozen=True)
class IndexedOrder:
    ticket_no: str
    area: str
    content: str
    citizen: str | None
    created_ts: float
    state: str
    position: int
    alert: str | None


_COLUMNS = (f"o.ticket_no, o.area, o.content, o.citizen_id, o.created_ts, o.state, "
            f"o.position, m.ref FROM {ORDERS} o LEFT JOIN {MEMBERS} m ON m.ticket_no = o.ticket_no")


def _order(row: Any) -> IndexedOrder:
    return IndexedOrder(str(row[0]), str(row[1]), str(row[2]), row[3], float(row[4]),
                        str(row[5]), int(row[6]), row[7])


def indexed_order(cur: Cursor, ticket_no: str) -> IndexedOrder | None:
    row = cur.execute(f"SELECT {_COLUMNS} WHERE o.ticket_no = ?", (ticket_no,)).fetchone()
    return _order(row) if row else None


def orders_in_area(cur: Cursor, area: str, since_ts: float, until_ts: float,
                   limit: int = 2000) -> list[IndexedOrder]:
    """The area's orders registered in [since, until], the most recent `limit` of them."""
    rows = cur.execute(f"SELECT {_COLUMNS} WHERE o.area = ? AND o.created_ts >= ? AND "
                       "o.created_ts <= ? ORDER BY o.created_ts DESC, o.position DESC LIMIT ?",
                       (area, since_ts, until_ts, limit)).fetchall()
    return [_order(r) for r in rows]


def orders_after(cur: Cursor, position: int, limit: int = 500) -> list[IndexedOrder]:
    """Orders registered after log position `position`, in log order."""
    rows = cur.execute(f"SELECT {_COLUMNS} WHERE o.position > ? ORDER BY o.position LIMIT ?",
                       (position, limit)).fetchall()
    return [_order(r) for r in rows]


def alert_citizens(cur: Cursor, ref: str) -> set[str]:
    """The (not erased) citizens of an alert's member orders."""
    rows = cur.execute(f"SELECT DISTINCT o.citizen_id FROM {MEMBERS} m JOIN {ORDERS} o "
                       "ON o.ticket_no = m.ticket_no WHERE m.ref = ? AND o.citizen_id IS NOT "
                       "NULL", (ref,)).fetchall()
    return {str(r[0]) for r in rows}


def alert_rows(cur: Cursor, area: str | None = None) -> list[dict[str, Any]]:
    """Every alert (of `area`), the most recently updated first."""
    where, params = ("WHERE area = ?", (area,)) if area else ("", ())
    rows = cur.execute(f"SELECT ref, area, members, citizens, notify, summary, raised_at, "
                       f"updated_at FROM {ALERTS} {where} ORDER BY updated_at DESC, ref",
                       params).fetchall()
    found = []
    for ref, area_, members, citizens, notify, summary, raised, updated in rows:
        tickets = [str(r[0]) for r in cur.execute(
            f"SELECT m.ticket_no FROM {MEMBERS} m LEFT JOIN {ORDERS} o ON o.ticket_no = "
            "m.ticket_no WHERE m.ref = ? ORDER BY o.position, m.ticket_no", (ref,)).fetchall()]
        found.append({"alert": ref, "area": area_, "members": int(members),
                      "citizens": int(citizens), "tickets": tickets,
                      "notify": json.loads(notify), "summary": summary,
                      "raised_at": raised, "updated_at": updated})
    return found
