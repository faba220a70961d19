"""The KPI fact table: one row per counted event (domain/kpi/registry.py's fact kinds), with
its Beijing date, the unit lead at that moment, the order's category, region and channel and
an on-time flag, so a period's report is one indexed GROUP BY (adapters/reports.py).

A daily rollup beside the facts counts them per day, kind, on-time flag and one grouping
value (overall, and each of unit, category, region, channel), so a centre-wide report reads
a few hundred rows a day however many orders there are; the facts stay for a unit's own
report and for anyone checking the rollup. A third table keeps what each order's later facts
need (its groups, current lead unit and the deadlines in force); all are rebuilt from the
log like every projection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.persistence import Notification

from domain.kpi import registry as k
from domain.values import SATISFIED_RESULTS
from domain.workorder import WorkOrder
from projections.sql import Cursor

FACTS = "rexian_kpi_facts"
DAILY = "rexian_kpi_daily"
ORDERS = "rexian_kpi_orders"
OVERALL = ""      # DAILY.grouping of the centre-wide counts (and their value)
NO_FLAG = -1      # DAILY.on_time for facts without an on-time flag (a key cannot be NULL)


def beijing_day(at: datetime) -> str:
    return at.astimezone(k.BEIJING).date().isoformat()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _on_time(at: datetime, due: str | None) -> int:
    """No deadline in force counts as on time (nothing was due)."""
    return 1 if due is None or at <= datetime.fromisoformat(due) else 0


class KpiFacts:
    name = "kpi_facts"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {FACTS} (position INTEGER NOT NULL, "
            "kind TEXT NOT NULL, day TEXT NOT NULL, dept TEXT, category TEXT NOT NULL, "
            "region TEXT NOT NULL, channel TEXT NOT NULL, on_time INTEGER, "
            "originator_id TEXT NOT NULL)")
        # Gap-free replays may re-apply a notification: one fact per (position, kind).
        cur.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {FACTS}_event ON {FACTS} "
                    "(position, kind)")
        # A unit's own report reads its facts (centre-wide reports read the rollup).
        cur.execute(f"CREATE INDEX IF NOT EXISTS {FACTS}_unit ON {FACTS} "
                    "(dept, day, kind, on_time)")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {DAILY} (grouping TEXT NOT NULL, "
            "value TEXT NOT NULL, day TEXT NOT NULL, kind TEXT NOT NULL, "
            "on_time INTEGER NOT NULL, n INTEGER NOT NULL, "
            "PRIMARY KEY (grouping, day, value, kind, on_time))")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {ORDERS} (originator_id TEXT PRIMARY KEY, "
            "category TEXT NOT NULL, region TEXT NOT NULL, channel TEXT NOT NULL, "
            "dept TEXT, dispatched INTEGER NOT NULL, dispatch_due_at TEXT, due_at TEXT, "
            "sign_due_at TEXT)")

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {FACTS}")
        cur.execute(f"DROP TABLE IF EXISTS {DAILY}")
        cur.execute(f"DROP TABLE IF EXISTS {ORDERS}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if not isinstance(event, WorkOrder.Event):
            return
        oid = str(event.originator_id)
        if isinstance(event, WorkOrder.Registered):
            cur.execute(
                f"INSERT INTO {ORDERS} (originator_id, category, region, channel, dept, "
                "dispatched, dispatch_due_at, due_at, sign_due_at) "
                "VALUES (?, ?, ?, ?, NULL, 0, ?, NULL, NULL) ON CONFLICT DO NOTHING",
                (oid, event.category, event.region, event.channel,
                 _iso(event.dispatch_due_at)))
        row = cur.execute(
            f"SELECT category, region, channel, dept, dispatched, dispatch_due_at, due_at, "
            f"sign_due_at FROM {ORDERS} WHERE originator_id = ?", (oid,)).fetchone()
        if row is None:
            return
        category, region, channel, dept, dispatched, dispatch_due, due, sign_due = row
        at = event.timestamp
        facts: list[tuple[str, str | None, int | None]] = []  # kind, dept, on_time

        def update(**columns: Any) -> None:
            sets = ", ".join(f"{name} = ?" for name in columns)
            cur.execute(f"UPDATE {ORDERS} SET {sets} WHERE originator_id = ?",
                        (*columns.values(), oid))

        if isinstance(event, WorkOrder.Registered):
            facts.append((k.REGISTERED, None, None))
        elif isinstance(event, WorkOrder.Answered):
            facts.append((k.ANSWERED, None, None))
        elif isinstance(event, WorkOrder.Dispatched):  # and Redispatched
            if not isinstance(event, WorkOrder.Redispatched) and not dispatched:
                facts.append((k.FIRST_DISPATCH, event.dept, _on_time(at, dispatch_due)))
            facts.append((k.DISPATCH, event.dept, None))
            update(dept=event.dept, dispatched=1, due_at=_iso(event.due_at),
                   sign_due_at=_iso(event.sign_due_at))
        elif isinstance(event, WorkOrder.Signed):
            facts.append((k.SIGNED, event.dept, _on_time(at, sign_due)))
            update(sign_due_at=None)
        elif isinstance(event, WorkOrder.Returned):
            facts.append((k.RETURNED, event.dept, None))
            update(due_at=None, sign_due_at=None)
        elif isinstance(event, WorkOrder.ExtensionApproved):
            facts.append((k.EXTENSION_APPROVED, dept, None))
            update(due_at=_iso(event.due_at))
        elif isinstance(event, WorkOrder.DeadlineRevised):
            update(due_at=_iso(event.due_at),
                   sign_due_at=_iso(event.sign_due_at) if sign_due is not None else None)
        elif isinstance(event, WorkOrder.Resolved):
            facts.append((k.RESOLVED, event.dept, _on_time(at, due)))
        elif isinstance(event, WorkOrder.CallbackArchived):
            kind = k.CALLBACK_SATISFIED if event.result in SATISFIED_RESULTS else k.CALLBACK_UNREACHABLE
            facts.append((kind, dept, None))
        elif isinstance(event, WorkOrder.Reopened):
            facts.append((k.CALLBACK_UNSATISFIED, dept, None))
            update(due_at=_iso(event.due_at),
                   dispatch_due_at=_iso(event.dispatch_due_at) or dispatch_due)
        elif isinstance(event, WorkOrder.Escalated) and event.step in k.LADDER:
            facts.append((k.LADDER[event.step], event.target_dept or dept, None))
        day = beijing_day(at)
        for kind, unit, flag in facts:
            cur.execute(
                f"INSERT INTO {FACTS} (position, kind, day, dept, category, region, channel, "
                "on_time, originator_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (notification.id, kind, day, unit, category, region, channel, flag, oid))
            if cur.rowcount == 1:  # a replayed notification's fact is counted once
                count_daily(cur, day, kind, flag, {OVERALL: OVERALL, "dept": unit,
                                                   "category": category, "region": region,
                                                   "channel": channel})


def count_daily(cur: Cursor, day: str, kind: str, flag: int | None,
                values: dict[str, str | None]) -> None:
    """Add one fact to the daily rollup under each grouping it has a value for."""
    for grouping, value in values.items():
        if value is None:
            continue  # registrations and direct answers belong to no unit
        cur.execute(
            f"INSERT INTO {DAILY} (grouping, value, day, kind, on_time, n) "
            "VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (grouping, day, value, kind, on_time) "
            f"DO UPDATE SET n = {DAILY}.n + 1",
            (grouping, value, day, kind, NO_FLAG if flag is None else flag))


def rollup_rows(cur: Cursor) -> list[tuple[Any, ...]]:
    """The daily rollup recomputed from the facts, in one pass per grouping: what the
    incremental counts must equal (a check), and how a bulk load fills the rollup."""
    rows: list[tuple[Any, ...]] = []
    flag = f"COALESCE(on_time, {NO_FLAG})"
    for grouping in (OVERALL, *k.GROUPINGS):
        if grouping == OVERALL:  # PostgreSQL refuses a constant in GROUP BY
            select, where, by = repr(OVERALL), "", ""
        else:
            select, where, by = grouping, f"WHERE {grouping} IS NOT NULL ", f"{grouping}, "
        rows += [(grouping, *row) for row in cur.execute(
            f"SELECT {select}, day, kind, {flag}, COUNT(*) FROM {FACTS} {where}"
            f"GROUP BY {by}day, kind, {flag}").fetchall()]
    return rows
