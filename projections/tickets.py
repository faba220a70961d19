"""The ticket list read model: state, lead and assisting units, category (for `list`)."""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Notification

from domain import lifecycle as lc
from domain.errors import InvalidInput, UnknownDepartment, shown
from domain.ports import DepartmentDirectory
from domain.values import CATEGORIES, require_choice, require_identifier
from domain.workorder import STATE_EVENTS, WorkOrder
from projections.sql import Cursor

TICKETS = "rexian_tickets"
# The values of the `state` column: top-level states (sub-states live in `substate`).
LIST_STATES = (*lc.OPEN_STATES, lc.RESOLVED, *lc.TERMINAL_STATES)


class TicketList:
    name = "tickets"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {TICKETS} (ticket_no TEXT PRIMARY KEY, "
            "originator_id TEXT UNIQUE NOT NULL, state TEXT NOT NULL, substate TEXT, "
            "category TEXT NOT NULL, urgency TEXT NOT NULL, region TEXT NOT NULL, "
            "department TEXT, assist TEXT NOT NULL, created_at TEXT NOT NULL, "
            "updated_at TEXT NOT NULL, version INTEGER NOT NULL)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {TICKETS}_state ON {TICKETS} (state)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {TICKETS}_dept ON {TICKETS} (department)")

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {TICKETS}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if not isinstance(event, WorkOrder.Event):
            return  # another aggregate's event (e.g. a HolidayArrangement)
        at = event.timestamp.isoformat()
        oid = str(event.originator_id)
        if isinstance(event, WorkOrder.Registered):
            cur.execute(
                f"INSERT INTO {TICKETS} (ticket_no, originator_id, state, substate, category, "
                "urgency, region, department, assist, created_at, updated_at, version) "
                "VALUES (?, ?, '已受理', NULL, ?, ?, ?, NULL, '[]', ?, ?, ?) "
                "ON CONFLICT (ticket_no) DO NOTHING",
                (event.ticket_no, oid, event.category, event.urgency, event.region, at, at,
                 event.originator_version))
            return
        if isinstance(event, WorkOrder.Dispatched):  # and Redispatched
            cur.execute(f"UPDATE {TICKETS} SET department = ?, assist = ? WHERE originator_id = ?",
                        (event.dept, json.dumps(list(event.assist), ensure_ascii=False), oid))
        if isinstance(event, STATE_EVENTS):
            cur.execute(f"UPDATE {TICKETS} SET state = ?, substate = ? WHERE originator_id = ?",
                        (event.state, event.substate, oid))
        cur.execute(f"UPDATE {TICKETS} SET updated_at = ?, version = ? WHERE originator_id = ?",
                    (at, event.originator_version, oid))


def check_list_filters(*, state: str | None = None, dept: str | None = None,
                       category: str | None = None,
                       departments: DepartmentDirectory | None = None) -> None:
    """A filter that can never match is a mistake, not an empty result: refuse it naming
    the allowed values. Units are checked against the registry when one is given."""
    if state:
        require_choice("state", state, LIST_STATES, "工单状态")
    if category:
        require_choice("category", category, CATEGORIES, "诉求类别")
    if dept:
        require_identifier("dept", dept, "单位")
        if departments is not None:
            try:
                departments.get(dept)
            except UnknownDepartment:
                names = [d.name for d in departments.all()]
                raise InvalidInput(
                    "dept", f"未知单位“{shown(dept)}”，可选：{'、'.join(names)}",
                    f"unknown department '{shown(dept)}'; expected one of "
                    f"{', '.join(names)}") from None


def list_tickets(cur: Cursor, *, state: str | None = None, dept: str | None = None,
                 category: str | None = None, limit: int = 1000,
                 departments: DepartmentDirectory | None = None) -> list[dict[str, Any]]:
    check_list_filters(state=state, dept=dept, category=category, departments=departments)
    sql = (f"SELECT ticket_no, state, substate, category, urgency, region, department, assist, "
           f"created_at, updated_at FROM {TICKETS} WHERE 1=1")
    params: list[Any] = []
    if state:
        sql += " AND state = ?"
        params.append(state)
    if category:
        sql += " AND category = ?"
        params.append(category)
    if dept:
        # Assisting units are stored as a JSON list of names; match the quoted name.
        sql += " AND (department = ? OR assist LIKE ?)"
        params += [dept, f'%{json.dumps(dept, ensure_ascii=False)}%']
    sql += " ORDER BY ticket_no LIMIT ?"
    params.append(limit)
    rows = cur.execute(sql, params).fetchall()
    keys = ("ticket_no", "state", "substate", "category", "urgency", "region", "department",
            "assist_departments", "created_at", "updated_at")
    result = []
    for row in rows:
        item = dict(zip(keys, row, strict=True))
        item["assist_departments"] = json.loads(item["assist_departments"])
        result.append(item)
    return result
