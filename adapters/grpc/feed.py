"""The department feed: every stored event that concerns a unit, in notification-log order.

A projection (`DepartmentFeedProjection`, driven by the ordinary ProjectionRunner) copies
each event that concerns a department into `rexian_department_feed`, keyed by
(dept, position) where position is the event's notification id. Batch and tracking
position commit in one transaction, so the feed is complete, ordered and duplicate-free
across server restarts; a subscriber reads `position > after` and never misses a row
(rows are only ever appended at positions above every committed one).

An event concerns unit D when (see `relations`):
* its `dept` field names D (the lead: Dispatched, Signed, Returned, Resolved, PlanReported...);
* its `assist` list names D (assisting unit of a (re)dispatch);
* its `supervision["dept"]` names D (督办单: reopen, overdue supervision);
* its `target_dept` names D (Escalated reminders, OutboundCallRequested to a unit);
* it is one of LEAD_EVENTS (reopen, return rejected, extension decided, escalation,
  withdrawal, merge, callback archived) of an order whose lead unit is D at that moment
  (the lead is tracked by the projection itself, from Dispatched/Redispatched).

Payloads never hold personal data: `personal` and `citizen_id` are dropped.

A 群诉预警 (MassComplaintAlert, domain/duplicates/alert.py) reaches the units its events
name in `notify` (relation `area` for the unit heading the area, `supervision` for its
supervisor), with the alert's reference (QS…) in place of a ticket number.

Erasure (删除权): PersonalDataErased reaches every unit the order has concerned (relation
`erasure`, payload `{"reason": ...}`): the unit must erase whatever it keeps about the
order's caller; the engine itself can no longer decrypt them.

`FeedHub` runs the projection in a background thread: woken by the service's on_saved
hook (chained, not replaced) after each save in this process, and polling the
notification log every `poll_interval` seconds for writes by other processes.
Subscribers wait on a condition that the hub notifies after each applied batch.

Acknowledgements: `ack(dept, position)` stores the highest acknowledged position per unit
in `rexian_feed_acks` (never moves back); a Subscribe without `after_position` resumes
from there.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Notification

from adapters.grpc.convert import jsonable
from adapters.sqldb import SqlDatabase
from domain.duplicates.alert import MassComplaintAlert
from domain.errors import InvalidInput
from domain.policies.clock import deadline_basis
from domain.views import PERSONAL_FIELDS, beijing, localized
from domain.workorder import WorkOrder
from projections.runner import ProjectionRunner
from projections.sql import Cursor

log = logging.getLogger("rexian.grpc.feed")

FEED = "rexian_department_feed"
ORDERS = "rexian_feed_orders"
ACKS = "rexian_feed_acks"

_W = WorkOrder
# Events that concern the order's current lead unit without naming it.
LEAD_EVENTS: tuple[type[Any], ...] = (
    _W.Reopened, _W.ReturnRejected, _W.ExtensionApproved, _W.ExtensionDenied, _W.Escalated,
    _W.Withdrawn, _W.Merged, _W.CallbackArchived, _W.DeadlineRevised,
)
# The events that name units, by the field that names them (a test keeps these in step
# with the event classes' fields).
UNIT_FIELDS: dict[str, tuple[type[Any], ...]] = {
    "dept": (_W.Dispatched, _W.Signed, _W.Returned, _W.ExtensionRequested, _W.Resolved,
             _W.PlanReported),
    "assist": (_W.Dispatched,),
    "supervision": (_W.Reopened, _W.Escalated),
    "target_dept": (_W.Escalated, _W.OutboundCallRequested),
}
_BOOKKEEPING = frozenset({"originator_id", "originator_version", "timestamp",
                          "originator_topic", "actor_role", "actor_id", "prev_hash"})


def relations(event: Any, lead: str | None) -> dict[str, str]:
    """Department name -> why the event concerns it (lead, assist, supervision, target)."""
    found: dict[str, str] = {}

    def add(name: Any, relation: str) -> None:
        if isinstance(name, str) and name:
            found.setdefault(name, relation)

    if isinstance(event, UNIT_FIELDS["dept"]):
        add(event.dept, "lead")
    if isinstance(event, UNIT_FIELDS["assist"]):
        for name in event.assist or ():
            add(name, "assist")
    if isinstance(event, UNIT_FIELDS["supervision"]) and isinstance(event.supervision, dict):
        add(event.supervision.get("dept"), "supervision")
    if isinstance(event, UNIT_FIELDS["target_dept"]):
        add(event.target_dept, "target")
    if isinstance(event, LEAD_EVENTS):
        add(lead, "lead")
    return found


def payload_of(event: Any) -> dict[str, Any]:
    """The event's own fields, JSON-ready, without bookkeeping or personal data."""
    fields = {k: v for k, v in event.__dict__.items()
              if k not in _BOOKKEEPING and k not in PERSONAL_FIELDS}
    if fields.get("calendar") and fields.get("due_at"):
        # The unit sees at a glance whether its deadline may still move (暂定 calendar).
        fields["deadline_basis"] = deadline_basis(
            fields["calendar"], beijing(fields["due_at"]).year)
    result: dict[str, Any] = jsonable(localized(fields))
    return result


class DepartmentFeedProjection:
    name = "department_feed"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {FEED} (dept TEXT NOT NULL, position BIGINT NOT NULL, "
            "ticket_no TEXT NOT NULL, type TEXT NOT NULL, version INTEGER NOT NULL, "
            "occurred_at TEXT NOT NULL, actor_role TEXT NOT NULL, actor_id TEXT NOT NULL, "
            "relation TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (dept, position))")
        # Which orders have concerned a unit (the department API's visibility check).
        cur.execute(f"CREATE INDEX IF NOT EXISTS {FEED}_ticket ON {FEED} (dept, ticket_no)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {ORDERS} (originator_id TEXT PRIMARY KEY, "
                    "ticket_no TEXT NOT NULL, lead TEXT)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {ACKS} (dept TEXT PRIMARY KEY, "
                    "position BIGINT NOT NULL)")

    def drop_tables(self, cur: Cursor) -> None:
        # Acknowledged positions belong to the clients: a rebuild keeps them.
        cur.execute(f"DROP TABLE IF EXISTS {FEED}")
        cur.execute(f"DROP TABLE IF EXISTS {ORDERS}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if isinstance(event, MassComplaintAlert.Event):
            self._alert(cur, notification, event)
            return
        if not isinstance(event, WorkOrder.Event) or isinstance(event, WorkOrder.TextSealed):
            # Another aggregate's event (e.g. a HolidayArrangement); or the sealed values of
            # masked free text, which stay in the centre (units get the masks).
            return
        oid = str(event.originator_id)
        if isinstance(event, WorkOrder.Registered):
            cur.execute(f"INSERT INTO {ORDERS} (originator_id, ticket_no, lead) VALUES (?, ?, NULL) "
                        "ON CONFLICT (originator_id) DO NOTHING", (oid, event.ticket_no))
            return
        row = cur.execute(f"SELECT ticket_no, lead FROM {ORDERS} WHERE originator_id = ?",
                          (oid,)).fetchone()
        if row is None:  # its registration predates this projection
            return
        ticket_no, lead = row[0], row[1]
        targets = relations(event, lead)
        if isinstance(event, WorkOrder.PersonalDataErased):
            # The erasure record goes to every unit the order ever concerned: whatever they
            # copied about the caller (a call-back note, a visit) they must erase too.
            targets = {r[0]: "erasure" for r in cur.execute(
                f"SELECT DISTINCT dept FROM {FEED} WHERE ticket_no = ?", (ticket_no,)
            ).fetchall()}
        if isinstance(event, WorkOrder.Dispatched):  # and Redispatched
            cur.execute(f"UPDATE {ORDERS} SET lead = ? WHERE originator_id = ?",
                        (event.dept, oid))
        if not targets:
            return
        self._insert(cur, notification, event, ticket_no, targets)

    def _alert(self, cur: Cursor, notification: Notification, event: Any) -> None:
        """A 群诉预警 to the units it names; its reference stands where a ticket number would."""
        oid = str(event.originator_id)
        if isinstance(event, MassComplaintAlert.Raised):
            cur.execute(f"INSERT INTO {ORDERS} (originator_id, ticket_no, lead) VALUES (?, ?, NULL) "
                        "ON CONFLICT (originator_id) DO NOTHING", (oid, event.ref))
        row = cur.execute(f"SELECT ticket_no FROM {ORDERS} WHERE originator_id = ?",
                          (oid,)).fetchone()
        if row is not None:
            self._insert(cur, notification, event, row[0], dict(event.notify))

    @staticmethod
    def _insert(cur: Cursor, notification: Notification, event: Any, ticket_no: str,
                targets: dict[str, str]) -> None:
        payload = json.dumps(payload_of(event), ensure_ascii=False, sort_keys=True)
        occurred = event.timestamp.isoformat()
        kind = type(event).__name__  # the feed row's `type` column
        for dept, relation in targets.items():
            cur.execute(
                f"INSERT INTO {FEED} (dept, position, ticket_no, type, version, occurred_at, "
                "actor_role, actor_id, relation, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (dept, position) DO NOTHING",
                (dept, notification.id, ticket_no, kind, event.originator_version, occurred,
                 getattr(event, "actor_role", ""), getattr(event, "actor_id", ""), relation,
                 payload))


@dataclass(frozen=True)
class FeedRow:
    position: int
    ticket_no: str
    type: str
    version: int
    occurred_at: datetime
    actor_role: str
    actor_id: str
    relation: str
    payload: str


class FeedHub:
    """Keeps the feed table current and wakes subscribers when it grows."""

    def __init__(self, engine: Any, poll_interval: float = 0.02) -> None:
        self.engine = engine
        self.db: SqlDatabase = engine.db
        self.poll_interval = poll_interval
        self.runner = ProjectionRunner(engine.service, engine.db, DepartmentFeedProjection())
        self._changed = threading.Condition()
        self._generation = 0
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._hooked = False
        self._previous_hook: Callable[[], None] | None = None
        self._thread = threading.Thread(target=self._run, name="rexian-feed", daemon=True)

    # ----- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        service = self.engine.service
        self._previous_hook = service.on_saved
        previous = self._previous_hook

        def on_saved() -> None:
            if previous is not None:
                previous()
            if self._hooked:
                self._wake.set()

        service.on_saved = on_saved
        self._hooked = True
        self.runner.catch_up()
        self._thread.start()

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    def close_streams(self) -> None:
        """Make every Subscribe loop return (first step of a graceful stop)."""
        self._closing.set()
        with self._changed:
            self._changed.notify_all()

    def stop(self) -> None:
        self.close_streams()
        self._hooked = False  # the chained hook stays installed but only calls the previous
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._closing.is_set():
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            if self._closing.is_set():
                break
            self.index()

    def index(self) -> int:
        """Bring the feed table up to date now; wakes subscribers when rows were added."""
        try:
            applied = self.runner.catch_up()
        except Exception:  # noqa: BLE001 - keep following the log; the next poll retries
            log.exception("department feed projection failed; retrying")
            return 0
        if applied:
            with self._changed:
                self._generation += 1
                self._changed.notify_all()
        return applied

    # ----- subscribers -------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation

    def wait(self, seen_generation: int, timeout: float,
             cancelled: Callable[[], bool] = lambda: False) -> None:
        """Block until the feed grew after `seen_generation`, the hub closes, `cancelled()`
        turns true (checked when `poke` is called), or timeout."""
        with self._changed:
            self._changed.wait_for(
                lambda: (self._generation != seen_generation or self._closing.is_set()
                         or cancelled()),
                timeout=timeout)

    def poke(self) -> None:
        """Wake waiting subscribers so they re-check their `cancelled` condition."""
        with self._changed:
            self._changed.notify_all()

    def read(self, dept: str, after: int, limit: int = 500) -> list[FeedRow]:
        with self.db.transaction(immediate=False) as cur:
            rows = cur.execute(
                f"SELECT position, ticket_no, type, version, occurred_at, actor_role, actor_id, "
                f"relation, payload FROM {FEED} WHERE dept = ? AND position > ? "
                "ORDER BY position LIMIT ?", (dept, after, limit)).fetchall()
        return [FeedRow(int(r[0]), r[1], r[2], int(r[3]), datetime.fromisoformat(r[4]), r[5],
                        r[6], r[7], r[8]) for r in rows]

    def concerns(self, dept: str, ticket_no: str) -> bool:
        """Whether any feed row of `dept` names the order: one indexed lookup, as cheap for
        a number that exists as for one that does not. On a miss the feed catches up first
        (an order dispatched a moment ago); that cost does not depend on the number."""
        if self._names(dept, ticket_no):
            return True
        self.index()
        return self._names(dept, ticket_no)

    def _names(self, dept: str, ticket_no: str) -> bool:
        with self.db.transaction(immediate=False) as cur:
            return cur.execute(f"SELECT 1 FROM {FEED} WHERE dept = ? AND ticket_no = ? LIMIT 1",
                               (dept, ticket_no)).fetchone() is not None

    def indexed_position(self) -> int:
        return self.runner.position()

    def acked(self, dept: str) -> int:
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT position FROM {ACKS} WHERE dept = ?", (dept,)).fetchone()
        return int(row[0]) if row else 0

    def ack(self, dept: str, position: int) -> int:
        """Store the highest acknowledged position of `dept`; returns the stored one."""
        if position > self.indexed_position():
            raise InvalidInput("position", f"确认位置 {position} 超出已投递的范围",
                               f"position {position} is beyond every delivered event")
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {ACKS} (dept, position) VALUES (?, ?) ON CONFLICT (dept) DO "
                f"UPDATE SET position = CASE WHEN excluded.position > {ACKS}.position "
                f"THEN excluded.position ELSE {ACKS}.position END", (dept, position))
            row = cur.execute(f"SELECT position FROM {ACKS} WHERE dept = ?", (dept,)).fetchone()
        return int(row[0])
